/* bench_decode: decoder and shape throughput on one core, per case:
 * events/s and ns/event, cycling through POOL distinct real check-ins
 * (Waledac bodies from decode_waledac_build, each with its own bot id, so
 * compressed streams differ as they do on the wire). Never run by the
 * tests.
 *   bench_decode [N]   (default 200000 events per case) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/decode.h"
#include "classify/shapes.h"
#include "core/config.h"
#include "core/error.h"

#define POOL 1024

struct sample {
	struct sinkd_event ev;
	uint8_t payload[2048];
};

static struct sample pool[POOL];

static void http(struct sample *s, const char *method, const char *target, const char *hdrs,
		 const void *body, size_t len)
{
	memset(&s->ev, 0, sizeof(s->ev));
	s->ev.kind = EVENT_HTTP;
	snprintf(s->ev.http_method, sizeof(s->ev.http_method), "%s", method);
	uint32_t used = 0;
	event_payload_add(s->payload, sizeof(s->payload), &used, EVP_TARGET, target,
			  strlen(target));
	event_payload_add(s->payload, sizeof(s->payload), &used, EVP_HEADERS, hdrs, strlen(hdrs));
	event_payload_add(s->payload, sizeof(s->payload), &used, EVP_BODY, body, len);
	s->ev.payload_len = used;
	s->ev.payload = s->payload;
	s->ev.body_len = (uint32_t)len;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, size_t n, double secs, const char *status)
{
	printf("| %-36s | %10.0f | %8.0f | %s |\n", name, (double)n / secs, secs * 1e9 / (double)n,
	       status);
}

static void run_decode(struct decode_env *env, const char *name, const char *dec, const char *arg,
		       size_t n)
{
	double t0 = now();
	for (size_t i = 0; i < n; i++)
		decode_event(env, dec, arg, &pool[i % POOL].ev);
	report(name, n, now() - t0, pool[0].ev.decode_status);
}

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* POOL Waledac check-ins with distinct bot ids; compression c (3 = mixed). */
static void waledac_pool(int c)
{
	static const uint8_t types[] = {0xff, 0x02, 0x03};
	char body[1200], bot[33];
	size_t len;
	for (unsigned i = 0; i < POOL; i++) {
		for (int j = 0; j < 32; j++)
			bot[j] = "0123456789abcdef"[rand() % 16];
		bot[32] = '\0';
		struct decode_waledac_msg m = {
		    .type = types[i % 3],
		    .command = "notify",
		    .version = "43",
		    .bot_id = bot,
		    .key = key,
		    .compress = (enum decode_compress)(c == 3 ? (int)(i % 2) : c),
		    .b = key,
		    .b_len = 8};
		if (decode_waledac_build(&m, body, sizeof(body), &len) != 0)
			abort();
		http(&pool[i], "POST", "/qwxmtz.png", "Referer: Mozilla\r\nUser-Agent: Mozilla\r\n",
		     body, len);
	}
}

static void fill(const char *method, const char *target, const char *hdrs, const void *body,
		 size_t len)
{
	for (unsigned i = 0; i < POOL; i++)
		http(&pool[i], method, target, hdrs, body, len);
}

static void bench_shapes(size_t n)
{
	struct shapes *s;
	if (shapes_new(&s, 4096) != 0)
		abort();
	fill("GET", "/api/v2/bots/12345/tasks?token=0a1b2c3d4e5f&ver=3",
	     "Host: www.example.com\r\nUser-Agent: Mozilla/4.0\r\nAccept: */*\r\nX-Session: 1\r\n",
	     NULL, 0);
	for (unsigned i = 0; i < POOL; i++)
		pool[i].ev.src.ip[15] = (uint8_t)i;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		shapes_observe(s, &pool[i % POOL].ev);
		if (i % 10000 == 9999)
			shapes_batch_free(shapes_take(s));
	}
	report("shapes_observe, GET, 4 headers", n, now() - t0, "-");
	uint8_t json[256];
	memset(json, 'x', sizeof(json));
	memcpy(json, "{\"cmd\":\"poll\",\"payload\":\"", 25);
	fill("POST", "/gate/xkqzwtvb.php", "Host: x\r\nContent-Type: application/json\r\n", json,
	     sizeof(json));
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		shapes_observe(s, &pool[i % POOL].ev);
		if (i % 10000 == 9999)
			shapes_batch_free(shapes_take(s));
	}
	report("shapes_observe, POST 256 B JSON body", n, now() - t0, "-");
	shapes_free(s);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	struct sinkd_config cfg;
	config_defaults(&cfg);
	struct decode_env *nokey, *keyed;
	if (decode_env_new(&nokey, &cfg) != 0)
		return 1;
	memcpy(cfg.decode_waledac_key[0].key, key, 16);
	cfg.n_decode_waledac_key = 1;
	if (decode_env_new(&keyed, &cfg) != 0)
		return 1;
	srand(1);
	printf("| case | events/s | ns/event | status |\n|---|---|---|---|\n");
	static const char *const cname[] = {"plain XML", "zlib", "bzip2", "half plain, half zlib"};
	for (int c = 0; c < 4; c++) {
		char name[64];
		waledac_pool(c);
		snprintf(name, sizeof(name), "waledac, key, %s", cname[c]);
		run_decode(keyed, name, "waledac", NULL, c == 2 ? n / 10 : n);
		if (c == 0)
			run_decode(nokey, "waledac, no key (envelope only)", "waledac", NULL, n);
	}
	uint8_t kb[64] = {1, 2, 1, 1, 1, 1, 2, 1};
	fill("GET", "/", "Host: 10.0.0.1\r\nContent-Length: 64\r\n", kb, sizeof(kb));
	run_decode(nokey, "kelihos, binary GET /", "kelihos", NULL, n);
	fill("GET", "/gate.php?v=2&id=bot-000042&os=7", "Host: x\r\nUser-Agent: X\r\n", NULL, 0);
	run_decode(nokey, "generic param=id", "generic", "param=id", n);
	run_decode(nokey, "generic header=User-Agent", "generic", "header=User-Agent", n);
	run_decode(nokey, "generic regex=id=([a-z0-9-]+)", "generic", "regex=id=([a-z0-9-]+)", n);
	bench_shapes(n);
	decode_env_free(nokey);
	decode_env_free(keyed);
	return 0;
}
