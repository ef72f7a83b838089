/* Classification throughput on one core (bench/classify/README.md).
 *
 * Usage: bench_classify [--events N] [--seconds S] [--rules DIR]
 *   N  classifications per mode (default 2000000), S a time bound per mode
 *   (default 5), DIR the rules directory (default: the repo's rules/).
 *
 * Loads every shipped rule file, builds a realistic HTTP mix in memory
 * (Waledac check-ins with real encrypted envelopes, Kelihos binary and
 * .htm check-ins, generic check-ins with an id parameter, and unknown
 * browser-like traffic), then classifies it in a loop: rules only, rules
 * plus decoders without a Waledac key (envelope only), and with the key
 * (decrypt, decompress, XML). Prints events/s and the ratio to the goal of
 * 1,000,000 check-ins/s. Pin it: taskset -c 1 ./build/bench_classify.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/classify.h"
#include "classify/decode.h"
#include "core/config.h"

#define POOL 4096
#define PAYLOAD_CAP 2048
#define GOAL 1000000.0

struct sample {
	struct sinkd_event ev;
	uint8_t payload[PAYLOAD_CAP];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void word(char *out, size_t len, const char *alphabet)
{
	size_t n = strlen(alphabet), k = 4 + rng() % (len - 5);
	for (size_t i = 0; i < k; i++)
		out[i] = alphabet[rng() % n];
	out[k] = '\0';
}

static void add(struct sample *s, uint8_t type, const void *data, size_t len)
{
	if (event_payload_add(s->payload, sizeof(s->payload), &s->ev.payload_len, type, data, len))
		abort();
}

static void http(struct sample *s, const char *method, const char *target, const char *host,
		 const char *headers, const void *body, size_t body_len)
{
	memset(s, 0, sizeof(*s));
	s->ev.kind = EVENT_HTTP;
	s->ev.transport = TRANSPORT_TCP;
	s->ev.dst.port = 80;
	s->ev.payload = s->payload;
	s->ev.http_version = 11;
	snprintf(s->ev.http_method, sizeof(s->ev.http_method), "%s", method);
	snprintf(s->ev.qname, sizeof(s->ev.qname), "%s", host);
	add(s, EVP_TARGET, target, strlen(target));
	add(s, EVP_HEADERS, headers, strlen(headers));
	if (body != NULL) {
		add(s, EVP_BODY, body, body_len);
		s->ev.body_len = (uint32_t)body_len;
	}
}

static const uint8_t key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void waledac(struct sample *s)
{
	char target[32], bot[33], body[1200], headers[512], name[12];
	static const uint8_t types[] = {DECODE_WALEDAC_GETKEY, DECODE_WALEDAC_NOTIFY,
					DECODE_WALEDAC_TASKREQ};
	word(name, sizeof(name), "abcdefghijklmnopqrstuvwxyz");
	snprintf(target, sizeof(target), "/%s.png", name);
	for (int i = 0; i < 32; i++)
		bot[i] = "0123456789abcdef"[rng() % 16];
	bot[32] = '\0';
	struct decode_waledac_msg m = {.type = types[rng() % 3],
				       .command = "notify",
				       .version = "2",
				       .bot_id = bot,
				       .key = key,
				       .compress = rng() % 2 ? DECODE_COMPRESS_ZLIB
							     : DECODE_COMPRESS_NONE,
				       .b = (const uint8_t *)"extra",
				       .b_len = 5};
	size_t len;
	if (decode_waledac_build(&m, body, sizeof(body), &len) != 0)
		abort();
	snprintf(headers, sizeof(headers),
		 "Host: www.bestchristmascard.com\r\nReferer: Mozilla\r\nUser-Agent: Mozilla\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n"
		 "Cache-Control: no-cache\r\n",
		 len);
	http(s, "POST", target, "www.bestchristmascard.com", headers, body, len);
}

static void kelihos(struct sample *s)
{
	uint8_t body[200] = {1, 2, 1, 1, 1, 1, 2, 1};
	size_t len = 40 + rng() % 150;
	for (size_t i = 8; i < len; i++)
		body[i] = (uint8_t)rng();
	char headers[256];
	snprintf(headers, sizeof(headers),
		 "Host: 203.0.113.%u\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 7.0)\r\n"
		 "Content-Length: %zu\r\nConnection: Keep-Alive\r\n",
		 (unsigned)(rng() % 250 + 1), len);
	http(s, "GET", "/", "203.0.113.7", headers, body, len);
}

static void kelihos_htm(struct sample *s)
{
	char target[32], name[12], host[32];
	word(name, sizeof(name), "abcdefghijklmnopqrstuvwxyz");
	snprintf(target, sizeof(target), "/%s.htm", name);
	snprintf(host, sizeof(host), "198.51.100.%u", (unsigned)(rng() % 250 + 1));
	http(s, "GET", target, host, "Host: 198.51.100.9\r\nUser-Agent: Mozilla/4.0\r\n", NULL, 0);
}

static void generic(struct sample *s)
{
	char target[96], id[24];
	word(id, sizeof(id), "0123456789ABCDEF");
	snprintf(target, sizeof(target), "/gate.php?ver=%u&id=%s&os=win7", (unsigned)(rng() % 9),
		 id);
	http(s, "GET", target, "update.example.net",
	     "Host: update.example.net\r\nUser-Agent: Microsoft-CryptoAPI/6.1\r\nAccept: */*\r\n",
	     NULL, 0);
}

static void unknown(struct sample *s)
{
	static const char *const paths[] = {"/", "/favicon.ico", "/index.html", "/wp-login.php",
					    "/robots.txt", "/images/logo.png"};
	static const char headers[] =
	    "Host: www.bestchristmascard.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; "
	    "x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36\r\n"
	    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	    "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
	    "Referer: http://www.bestchristmascard.com/\r\nConnection: keep-alive\r\n";
	bool post = rng() % 4 == 0;
	http(s, post ? "POST" : "GET", paths[rng() % 6], "www.bestchristmascard.com", headers,
	     post ? "user=alice&pass=secret" : NULL, post ? 22 : 0);
}

/* The mix: 35 % Waledac, 15 % Kelihos binary, 10 % Kelihos .htm, 15 %
 * generic with id, 25 % unknown. */
static void build_pool(struct sample *pool)
{
	for (size_t i = 0; i < POOL; i++) {
		unsigned r = (unsigned)(rng() % 100);
		if (r < 35)
			waledac(&pool[i]);
		else if (r < 50)
			kelihos(&pool[i]);
		else if (r < 60)
			kelihos_htm(&pool[i]);
		else if (r < 75)
			generic(&pool[i]);
		else
			unknown(&pool[i]);
	}
}

struct result {
	uint64_t n;
	double secs;
	uint64_t unknown, decode_ok;
};

static struct result run(struct classifier *c, struct decode_env *env, struct sample *pool,
			 uint64_t n, double max_secs)
{
	struct result r = {0};
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		struct sinkd_event *ev = &pool[i & (POOL - 1)].ev;
		int dret = 0;
		long k = classifier_match(c, env, ev, &dret);
		r.unknown += k < 0;
		r.decode_ok += k >= 0 && dret == 0 && ev->decode_status[0] != '\0';
		if ((i & 0xffff) == 0xffff && now() - t0 > max_secs) {
			r.n = i + 1;
			r.secs = now() - t0;
			return r;
		}
	}
	r.n = n;
	r.secs = now() - t0;
	return r;
}

static void print_row(const char *mode, const struct result *r)
{
	double rate = (double)r->n / r->secs;
	printf("%-34s %10llu %8.2f %12.0f %8.2f %9.0f %7.1f%% %7.1f%%\n", mode,
	       (unsigned long long)r->n, r->secs, rate, rate / GOAL, 1e9 / rate,
	       100.0 * (double)r->unknown / (double)r->n, 100.0 * (double)r->decode_ok / (double)r->n);
}

int main(int argc, char **argv)
{
	uint64_t n = 2000000;
	double secs = 5;
	const char *dir = SINKD_RULES_DIR;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--events") == 0)
			n = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			secs = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--rules") == 0)
			dir = argv[i + 1];
	}
	char f[3][1024], err[512];
	snprintf(f[0], sizeof(f[0]), "%s/waledac.rules", dir);
	snprintf(f[1], sizeof(f[1]), "%s/kelihos.rules", dir);
	snprintf(f[2], sizeof(f[2]), "%s/generic.rules", dir);
	const char *files[] = {f[0], f[1], f[2]};
	struct classifier *c = NULL;
	if (classifier_load(&c, files, 3, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_classify: %s\n", err);
		return 1;
	}
	struct sample *pool = calloc(POOL, sizeof(*pool));
	static struct sinkd_config cfg;
	config_defaults(&cfg);
	cfg.n_decode_waledac_key = 1;
	memcpy(cfg.decode_waledac_key[0].key, key, 16);
	struct decode_env *nokey = NULL, *withkey = NULL;
	if (pool == NULL || decode_env_new(&nokey, NULL) != 0 ||
	    decode_env_new(&withkey, &cfg) != 0)
		return 1;
	build_pool(pool);
	printf("%zu rules; %d distinct events: 35%% Waledac, 15%% Kelihos binary, 10%% Kelihos "
	       ".htm, 15%% generic id, 25%% unknown\n",
	       classifier_rule_count(c), POOL);
	printf("%-34s %10s %8s %12s %8s %9s %8s %8s\n", "mode", "events", "seconds", "events/s",
	       "vs goal", "ns/event", "unknown", "decoded");
	struct result r = run(c, NULL, pool, n, secs);
	print_row("rules only", &r);
	r = run(c, nokey, pool, n, secs);
	print_row("rules + decoders (no Waledac key)", &r);
	r = run(c, withkey, pool, n, secs);
	print_row("rules + decoders (Waledac key)", &r);
	decode_env_free(nokey);
	decode_env_free(withkey);
	classifier_free(c);
	free(pool);
	return 0;
}
