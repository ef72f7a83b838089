/* bench_decode: decoder and shape throughput on one core, per case:
 * events/s and ns/event over a fixed count of real check-ins (Waledac
 * bodies from decode_waledac_build). Never run by the tests.
 *   bench_decode [N]   (default 200000 events per case) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/decode.h"
#include "classify/shapes.h"
#include "core/config.h"
#include "core/error.h"

static struct {
	struct sinkd_event ev;
	uint8_t payload[8192];
} t;

static void http(const char *method, const char *target, const char *hdrs, const void *body,
		 size_t len)
{
	memset(&t.ev, 0, sizeof(t.ev));
	t.ev.kind = EVENT_HTTP;
	snprintf(t.ev.http_method, sizeof(t.ev.http_method), "%s", method);
	uint32_t used = 0;
	event_payload_add(t.payload, sizeof(t.payload), &used, EVP_TARGET, target, strlen(target));
	event_payload_add(t.payload, sizeof(t.payload), &used, EVP_HEADERS, hdrs, strlen(hdrs));
	event_payload_add(t.payload, sizeof(t.payload), &used, EVP_BODY, body, len);
	t.ev.payload_len = used;
	t.ev.payload = t.payload;
	t.ev.body_len = (uint32_t)len;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, size_t n, double secs, const char *status)
{
	printf("| %-34s | %12.0f | %8.0f | %s |\n", name, (double)n / secs, secs * 1e9 / (double)n,
	       status);
}

static void run_decode(struct decode_env *env, const char *name, const char *dec, const char *arg,
		       size_t n)
{
	double t0 = now();
	for (size_t i = 0; i < n; i++)
		decode_event(env, dec, arg, &t.ev);
	report(name, n, now() - t0, t.ev.decode_status);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct sinkd_config cfg;
	config_defaults(&cfg);
	struct decode_env *nokey, *keyed;
	decode_env_new(&nokey, &cfg);
	memcpy(cfg.decode_waledac_key[0].key, key, 16);
	cfg.n_decode_waledac_key = 1;
	decode_env_new(&keyed, &cfg);
	printf("| case | events/s | ns/event | status |\n|---|---|---|---|\n");
	static const char *const cname[] = {"none", "zlib", "bzip2"};
	char body[4096];
	size_t len;
	for (int c = 0; c < 3; c++) {
		struct decode_waledac_msg m = {.type = 2,
					       .command = "notify",
					       .version = "43",
					       .bot_id = "0123456789abcdef0123456789abcdef",
					       .key = key,
					       .compress = (enum decode_compress)c,
					       .b = key,
					       .b_len = 8};
		if (decode_waledac_build(&m, body, sizeof(body), &len) != 0)
			return 1;
		http("POST", "/qwxmtz.png", "Referer: Mozilla\r\nUser-Agent: Mozilla\r\n", body,
		     len);
		char name[64];
		snprintf(name, sizeof(name), "waledac, key, %s (%zu B)", cname[c], len);
		run_decode(keyed, name, "waledac", NULL, c == 2 ? n / 10 : n);
		if (c == 0)
			run_decode(nokey, "waledac, no key (envelope only)", "waledac", NULL, n);
	}
	uint8_t kb[64] = {1, 2, 1, 1, 1, 1, 2, 1};
	http("GET", "/", "Host: 10.0.0.1\r\nContent-Length: 64\r\n", kb, sizeof(kb));
	run_decode(nokey, "kelihos, binary GET /", "kelihos", NULL, n);
	http("GET", "/gate.php?v=2&id=bot-000042&os=7", "Host: x\r\nUser-Agent: X\r\n", NULL, 0);
	run_decode(nokey, "generic param=id", "generic", "param=id", n);
	run_decode(nokey, "generic header=User-Agent", "generic", "header=User-Agent", n);
	run_decode(nokey, "generic regex=id=([a-z0-9-]+)", "generic", "regex=id=([a-z0-9-]+)", n);

	struct shapes *s;
	if (shapes_new(&s, 4096) != 0)
		return 1;
	http("GET", "/api/v2/bots/12345/tasks?token=0a1b2c3d4e5f&ver=3",
	     "Host: www.example.com\r\nUser-Agent: Mozilla/4.0\r\nAccept: */*\r\nX-Session: 1\r\n",
	     NULL, 0);
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		t.ev.src.ip[15] = (uint8_t)i;
		t.ev.src.ip[14] = (uint8_t)(i >> 8);
		shapes_observe(s, &t.ev);
		if (i % 10000 == 9999)
			shapes_batch_free(shapes_take(s));
	}
	report("shapes_observe, GET, 4 headers", n, now() - t0, "-");
	http("POST", "/gate/xkqzwtvb.php", "Host: x\r\nContent-Type: application/json\r\n", body,
	     len < 256 ? len : 256);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		shapes_observe(s, &t.ev);
		if (i % 10000 == 9999)
			shapes_batch_free(shapes_take(s));
	}
	report("shapes_observe, POST 256 B body", n, now() - t0, "-");
	shapes_free(s);
	decode_env_free(nokey);
	decode_env_free(keyed);
	return 0;
}
