/* Protocol-faithful check-ins: what each family's bot sends
 * (../shared/DESIGN.md "Protocol facts"; docs/sim.md). */
#include "sim/sim_internal.h"

#include "classify/decode.h"
#include "core/error.h"

#include <openssl/evp.h>
#include <string.h>

#define DAY_NS (86400ull * 1000000000ull)

static void header(struct sim_request *r, const char *name, const char *fmt, const char *value)
{
	if (r->n_hdr == SIM_HEADERS_MAX)
		return;
	snprintf(r->hdr[r->n_hdr].name, sizeof(r->hdr[0].name), "%s", name);
	snprintf(r->hdr[r->n_hdr].value, sizeof(r->hdr[0].value), fmt, value);
	r->n_hdr++;
}

static void content_length(struct sim_request *r)
{
	char n[24];
	snprintf(n, sizeof(n), "%zu", r->body_len);
	header(r, "Content-Length", "%s", n);
}

static void random_bytes(struct sim_rng *rng, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)sim_rng_next(rng);
}

static void random_letters(struct sim_rng *rng, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('a' + sim_rng_below(rng, 26));
	out[n] = '\0';
}

/* Waledac: POST /<letters>.png, Referer and User-Agent "Mozilla", form body
 * a=<envelope>&b=<bytes>; getkey first each day, then taskreq/notify. */
static int waledac(const struct sim_bot *b, const struct sim_keys *k, const struct sim_checkin *c,
		   struct sim_rng *rng, struct sim_request *r)
{
	char path[16];
	uint8_t extra[48];
	size_t len;
	if (!k->have_key)
		return SINKD_EINVAL;
	uint8_t type = c->seq == 0		 ? DECODE_WALEDAC_GETKEY
		       : sim_rng_unit(rng) < 0.7 ? DECODE_WALEDAC_TASKREQ
						 : DECODE_WALEDAC_NOTIFY;
	const char *cmd = type == DECODE_WALEDAC_GETKEY	   ? "getkey"
			  : type == DECODE_WALEDAC_TASKREQ ? "taskreq"
							   : "notify";
	size_t extra_len = 16 + sim_rng_below(rng, 33);
	random_bytes(rng, extra, extra_len);
	random_letters(rng, path, 4 + sim_rng_below(rng, 7));
	struct decode_waledac_msg m = {
	    .type = type,
	    .command = cmd,
	    .version = b->version,
	    .bot_id = b->id,
	    .key = k->waledac_key,
	    .iv = k->waledac_iv,
	    .compress = (enum decode_compress)b->compress,
	    .b = extra,
	    .b_len = extra_len,
	};
	int ret = decode_waledac_build(&m, (char *)r->body, sizeof(r->body), &len);
	if (ret != 0)
		return ret;
	r->body_len = len;
	snprintf(r->method, sizeof(r->method), "POST");
	snprintf(r->target, sizeof(r->target), "/%s.png", path);
	header(r, "Referer", "%s", "Mozilla");
	header(r, "Accept", "%s", "*/*");
	header(r, "Content-Type", "%s", "application/x-www-form-urlencoded");
	header(r, "User-Agent", "%s", "Mozilla");
	header(r, "Host", "%s", r->qname);
	content_length(r);
	header(r, "Cache-Control", "%s", "no-cache");
	snprintf(r->msg_type, sizeof(r->msg_type), "%s", cmd);
	snprintf(r->bot_id, sizeof(r->bot_id), "%s", b->id);
	return 0;
}

static const char *const words[] = {"index",   "main",	"news",	  "start",   "home",
				    "default", "login", "search", "welcome", "online"};

/* Kelihos talks to peers by IP: GET / with a Content-Length and a binary
 * body behind the 8-byte magic, or GET /<word>.htm to the dotted IP. */
static void kelihos(const struct sim_checkin *c, struct sim_rng *rng, const char *ip,
		    struct sim_request *r)
{
	static const uint8_t magic[8] = {1, 2, 1, 1, 1, 1, 2, 1};
	snprintf(r->method, sizeof(r->method), "GET");
	if (c->seq == 0 || sim_rng_unit(rng) < 0.5) {
		r->body_len = sizeof(magic) + 32 + sim_rng_below(rng, 193);
		memcpy(r->body, magic, sizeof(magic));
		random_bytes(rng, r->body + sizeof(magic), r->body_len - sizeof(magic));
		snprintf(r->target, sizeof(r->target), "/");
		header(r, "Host", "%s", ip);
		content_length(r);
		snprintf(r->msg_type, sizeof(r->msg_type), "binary");
	} else {
		snprintf(r->target, sizeof(r->target), "/%s.htm",
			 words[sim_rng_below(rng, sizeof(words) / sizeof(words[0]))]);
		header(r, "Host", "%s", ip);
		header(r, "User-Agent", "%s", "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)");
		header(r, "Accept", "%s", "*/*");
		snprintf(r->msg_type, sizeof(r->msg_type), "fetch");
	}
}

/* Generic: GET with the bot id in the `id` query parameter. */
static void generic(const struct sim_bot *b, struct sim_rng *rng, struct sim_request *r)
{
	static const char *const paths[] = {"/gate.php", "/panel/check.php", "/c.php"};
	snprintf(r->method, sizeof(r->method), "GET");
	snprintf(r->target, sizeof(r->target), "%s?id=%s&v=%s&os=%u", paths[sim_rng_below(rng, 3)],
		 b->id, b->version, 5 + (unsigned)sim_rng_below(rng, 6));
	header(r, "Host", "%s", r->qname);
	header(r, "User-Agent", "%s", "Mozilla/5.0 (Windows NT 6.1; rv:2.0) Gecko/20100101");
	header(r, "Accept", "%s", "*/*");
	snprintf(r->bot_id, sizeof(r->bot_id), "%s", b->id);
}

/* Unknown: a family no shipped rule knows. POST /api/<16 hex>/ping with a
 * binary body: its session id in the path, a fixed header set. */
static void unknown(const struct sim_bot *b, struct sim_rng *rng, struct sim_request *r)
{
	snprintf(r->method, sizeof(r->method), "POST");
	snprintf(r->target, sizeof(r->target), "/api/%.16s/ping", b->id + 16);
	r->body_len = 48 + sim_rng_below(rng, 49);
	random_bytes(rng, r->body, r->body_len);
	header(r, "Host", "%s", r->qname);
	header(r, "User-Agent", "%s", "Opera/9.80 (Windows NT 6.1; U; en)");
	header(r, "Content-Type", "%s", "application/octet-stream");
	content_length(r);
}

int sim_request_build(const struct sim_population *pop, const struct sim_keys *keys,
		      const char *const *domains, size_t n_domains, const char *sinkhole_ip,
		      const struct sim_checkin *c, struct sim_request *out)
{
	const struct sim_bot *b = &pop->bots[c->bot];
	unsigned day = (unsigned)((c->ts_ns - pop->p.start_ns) / DAY_NS);
	struct sim_rng rng, drng;
	memset(out, 0, sizeof(*out));
	sim_rng_seed(&rng, pop->p.seed, SIM_STREAM_CHECKIN, c->bot, ((uint64_t)day << 32) | c->seq);
	out->src = *sim_bot_addr(pop, c->bot, day);
	out->src.port = (uint16_t)(49152 + sim_rng_below(&rng, 16384));
	out->tls = b->tls;
	if (b->family != SIM_KELIHOS) {
		if (n_domains == 0)
			return SINKD_EINVAL;
		/* One seized name per bot and day, resolved at the first check-in. */
		sim_rng_seed(&drng, pop->p.seed, SIM_STREAM_DAY, c->bot, ((uint64_t)day << 8) | 2);
		snprintf(out->qname, sizeof(out->qname), "%s",
			 domains[sim_rng_below(&drng, n_domains)]);
		out->resolve = c->seq == 0;
	}
	switch (b->family) {
	case SIM_WALEDAC:
		return waledac(b, keys, c, &rng, out);
	case SIM_KELIHOS:
		kelihos(c, &rng, sinkhole_ip, out);
		return 0;
	case SIM_GENERIC:
		generic(b, &rng, out);
		return 0;
	default:
		unknown(b, &rng, out);
		return 0;
	}
}

size_t sim_request_wire(const struct sim_request *r, uint8_t *buf, size_t cap)
{
	size_t used = 0;
	int n = snprintf((char *)buf, cap, "%s %s HTTP/1.1\r\n", r->method, r->target);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	used = (size_t)n;
	for (unsigned i = 0; i < r->n_hdr; i++) {
		n = snprintf((char *)buf + used, cap - used, "%s: %s\r\n", r->hdr[i].name,
			     r->hdr[i].value);
		if (n < 0 || (size_t)n >= cap - used)
			return 0;
		used += (size_t)n;
	}
	if (cap - used < 2 + r->body_len)
		return 0;
	memcpy(buf + used, "\r\n", 2);
	used += 2;
	memcpy(buf + used, r->body, r->body_len);
	return used + r->body_len;
}
