/* The admin endpoint's own rules: argument parsing, the refusal to serve a
 * public address unguarded, and /health following the readiness flag and
 * the store file, over a real socket against a real store and pipeline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin_internal.h"
#include "core/config.h"
#include "core/error.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

static char dir[512];

static int setup(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base != NULL)
		mkdir(base, 0700);
	snprintf(dir, sizeof(dir), "%s/adminXXXXXX", base != NULL ? base : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static void test_parse_uint(void **state)
{
	uint64_t v;
	assert_int_equal(admin_parse_uint("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(admin_parse_uint("0", 1, 100, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("101", 1, 100, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("", 0, 100, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("-1", 0, 100, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("1e3", 0, 10000, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint(" 5", 0, 100, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("99999999999999999999", 0, UINT64_MAX, &v), SINKD_EINVAL);
	assert_int_equal(admin_parse_uint("18446744073709551615", 0, UINT64_MAX, &v),
			 SINKD_EINVAL); /* 20 digits: refused before it could wrap */
}

static void test_parse_time(void **state)
{
	uint64_t ns;
	assert_int_equal(admin_parse_time("1700000000", &ns), 0);
	assert_true(ns == 1700000000ull * 1000000000ull);
	assert_int_equal(admin_parse_time("2026-11-25T08:00:00Z", &ns), 0);
	assert_true(ns == 1795593600ull * 1000000000ull);
	assert_int_equal(admin_parse_time("15m", &ns), 0);
	assert_int_equal(admin_parse_time("yesterday", &ns), SINKD_EINVAL);
	assert_int_equal(admin_parse_time("", &ns), SINKD_EINVAL);
	char longer[100];
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(admin_parse_time(longer, &ns), SINKD_EINVAL);
	char iso[40];
	assert_string_equal(admin_time_iso(1795593600123456789ull, iso, sizeof(iso)),
			    "2026-11-25T08:00:00.123Z");
}

static void test_params_unknown(void **state)
{
	static const char *const allowed[] = {"since", "limit", NULL};
	struct admin_params p = {.n = 2, .key = {"since", "limit"}, .val = {"1h", "5"}};
	assert_null(admin_params_unknown(&p, allowed));
	assert_string_equal(admin_param(&p, "limit"), "5");
	assert_null(admin_param(&p, "until"));
	p.key[1] = "sort";
	assert_string_equal(admin_params_unknown(&p, allowed), "sort");
	p.key[1] = "limit";
	p.problem = "limit"; /* repeated */
	assert_string_equal(admin_params_unknown(&p, allowed), "limit");
}

static void test_public_address_refused(void **state)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	struct admin *a = (struct admin *)1;
	struct admin_sources src = {0};
	strcpy(cfg.admin_listen, "off");
	assert_int_equal(admin_new(&a, &cfg, &src), 0);
	assert_null(a);
	strcpy(cfg.admin_listen, "0.0.0.0:1");
	assert_int_equal(admin_new(&a, &cfg, &src), SINKD_EINVAL);
	assert_null(a);
	strcpy(cfg.admin_listen, "[::]:1");
	assert_int_equal(admin_new(&a, &cfg, &src), SINKD_EINVAL);
	/* An empty token file is no token. */
	snprintf(cfg.admin_token_file, sizeof(cfg.admin_token_file), "%s/empty", dir);
	FILE *f = fopen(cfg.admin_token_file, "w");
	fputs("\n", f);
	fclose(f);
	assert_int_equal(admin_new(&a, &cfg, &src), SINKD_EINVAL);
	strcpy(cfg.admin_listen, "bogus");
	assert_int_equal(admin_new(&a, &cfg, &src), SINKD_EINVAL);
}

/* GET path over a fresh TCP connection; returns the status code. */
static int http_status(uint16_t port, const char *path, char *body, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	size_t got = 0;
	ssize_t r;
	while (got < len - 1 && (r = read(fd, body + got, len - 1 - got)) > 0)
		got += (size_t)r;
	body[got] = '\0';
	close(fd);
	int status = -1;
	sscanf(body, "HTTP/1.1 %d", &status);
	return status;
}

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	return ntohs(sa.sin_port);
}

static void test_health_follows_readiness(void **state)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	snprintf(cfg.store_path, sizeof(cfg.store_path), "%s/h.db", dir);
	uint16_t port = free_port();
	snprintf(cfg.admin_listen, sizeof(cfg.admin_listen), "127.0.0.1:%u", port);
	strcpy(cfg.admin_token, "unit-token");
	struct store *st;
	assert_int_equal(store_open(&st, cfg.store_path, false), 0);
	struct pipeline_options po = {.n_rings = 1, .ring_size = 64, .commit_interval_ms = 50};
	struct pipeline *pipe;
	assert_int_equal(pipeline_new(&pipe, st, &po), 0);
	struct admin_sources src = {.pipe = pipe};
	struct admin *a;
	assert_int_equal(admin_new(&a, &cfg, &src), 0);
	assert_int_equal(admin_start(a), 0);
	char body[4096];
	/* The token is required. */
	assert_int_equal(http_status(port, "/health", body, sizeof(body)), 401);
	/* With it: not ready until serve says the listeners are up. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
				  "unit-token\r\nConnection: close\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	ssize_t n = read(fd, body, sizeof(body) - 1);
	assert_true(n > 0);
	body[n] = '\0';
	close(fd);
	assert_non_null(strstr(body, "HTTP/1.1 503"));
	assert_non_null(strstr(body, "\"listeners\":{\"ok\":false}"));
	admin_set_ready(a, true);
	json_t *o;
	bool ready;
	o = admin_health_json(a, &ready);
	assert_true(ready);
	json_decref(o);
	/* The store file replaced under the writer: not ready. */
	char moved[CONFIG_PATH_MAX + 8];
	snprintf(moved, sizeof(moved), "%s.moved", cfg.store_path);
	assert_int_equal(rename(cfg.store_path, moved), 0);
	o = admin_health_json(a, &ready);
	assert_false(ready);
	json_decref(o);
	assert_int_equal(rename(moved, cfg.store_path), 0);
	o = admin_health_json(a, &ready);
	assert_true(ready);
	json_decref(o);
	/* A failed commit keeps it not ready for a while. */
	assert_false(admin_store_failing(a, 0));
	assert_true(admin_store_failing(a, 3));
	assert_true(admin_store_failing(a, 3));
	admin_free(a);
	pipeline_free(pipe);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_uint),
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_params_unknown),
	    cmocka_unit_test(test_public_address_refused),
	    cmocka_unit_test(test_health_follows_readiness),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
