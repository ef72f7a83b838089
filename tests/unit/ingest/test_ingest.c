/* The ingest format: parsing good lines into the event a listener would
 * make, exact messages for bad lines, and writer -> parser round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "domains/domains.h"
#include "ingest/ingest.h"

static struct ingest_record *rec;
static struct domain_registry *reg;

static int setup(void **state)
{
	rec = calloc(1, sizeof(*rec));
	reg = domains_new();
	assert_non_null(rec);
	assert_int_equal(domains_add(reg, "seized.example", NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	free(rec);
	domains_free(reg);
	return 0;
}

static int parse(const char *line, char *err, size_t len)
{
	err[0] = '\0';
	return ingest_parse(line, strlen(line), reg, rec, err, len);
}

static void section_is(uint8_t type, const char *want)
{
	const uint8_t *data;
	size_t len;
	if (event_payload_get(&rec->ev, type, &data, &len) != 0)
		fail_msg("section %u missing", type);
	if (len != strlen(want) || memcmp(data, want, len) != 0)
		fail_msg("section %u is '%.*s', want '%s'", type, (int)len, data, want);
}

static void test_http_line(void **state)
{
	char err[256];
	char ip[48];
	int ret = parse("{\"ts\":\"2026-01-01T01:00:00.25+01:00\",\"kind\":\"http\","
			"\"src\":\"198.51.100.9:4242\",\"dst\":\"127.0.0.1:8080\",\"conn_id\":7,"
			"\"host\":\"abc.seized.example\",\"method\":\"POST\",\"target\":\"/x.png\","
			"\"headers\":[[\"Host\",\"abc.seized.example\"],[\"Referer\",\"Mozilla\"],"
			"[\"user-agent\",\"Mozilla\"]],\"body\":\"YT0x\",\"status\":200,"
			"\"flags\":[\"proxied\"],\"proxy\":\"127.0.0.1:5555\","
			"\"labels\":{\"family\":\"ignored\"}}",
			err, sizeof(err));
	assert_int_equal(ret, 0);
	const struct sinkd_event *ev = &rec->ev;
	assert_int_equal(ev->kind, EVENT_HTTP);
	assert_int_equal(ev->transport, TRANSPORT_TCP);
	assert_true(ev->ts_ns == 1767225600250000000ull);
	assert_string_equal(event_addr_str(&ev->src, ip, sizeof(ip)), "198.51.100.9");
	assert_int_equal(ev->src.port, 4242);
	assert_int_equal(ev->dst.port, 8080);
	assert_int_equal(ev->conn_id, 7);
	assert_string_equal(ev->qname, "abc.seized.example");
	assert_string_equal(ev->zone, "seized.example");
	assert_string_equal(ev->http_method, "POST");
	assert_int_equal(ev->http_version, 11);
	assert_int_equal(ev->http_status, 200);
	assert_int_equal(ev->body_len, 3);
	assert_true(ev->flags & EVF_PROXIED);
	assert_int_equal(ev->proxy.port, 5555);
	assert_string_equal(ev->family, "");
	section_is(EVP_TARGET, "/x.png");
	section_is(EVP_HEADERS,
		   "Host: abc.seized.example\r\nReferer: Mozilla\r\nuser-agent: Mozilla\r\n");
	section_is(EVP_USER_AGENT, "Mozilla");
	section_is(EVP_REFERER, "Mozilla");
	section_is(EVP_BODY, "a=1");
}

static void test_dns_and_tls_lines(void **state)
{
	char err[256];
	assert_int_equal(parse("{\"ts\":5,\"kind\":\"dns\",\"src\":\"[2001:db8::5]:53\","
			       "\"qname\":\"www.other.example\",\"qtype\":28,\"count\":4,"
			       "\"ecs\":\"192.0.2.0/24\"}",
			       err, sizeof(err)),
			 0);
	assert_int_equal(rec->ev.kind, EVENT_DNS);
	assert_int_equal(rec->ev.transport, TRANSPORT_UDP);
	assert_int_equal(rec->ev.ts_ns, 5);
	assert_int_equal(rec->count, 4);
	assert_int_equal(rec->ev.qtype, 28);
	assert_int_equal(rec->ev.qclass, 1);
	assert_string_equal(rec->ev.zone, "");
	assert_int_equal(rec->ev.ecs_family, 1);
	assert_int_equal(rec->ev.ecs_source_prefix, 24);
	assert_int_equal(rec->ev.ecs_addr[0], 192);

	assert_int_equal(
	    parse("{\"ts\":\"2026-01-01T00:00:00Z\",\"kind\":\"tls\","
		  "\"src\":\"192.0.2.1:1\",\"sni\":\"seized.example\",\"ja4\":\"t13d\","
		  "\"hello\":{\"versions\":[772]},\"raw\":\"FgMB\"}",
		  err, sizeof(err)),
	    0);
	assert_string_equal(rec->ev.zone, "seized.example");
	section_is(EVP_TLS_JA4, "t13d");
	section_is(EVP_TLS_HELLO, "{\"versions\":[772]}");
	section_is(EVP_RAW, "\x16\x03\x01");
}

static void expect_error(const char *line, const char *want)
{
	char err[256];
	if (parse(line, err, sizeof(err)) != SINKD_EINVAL)
		fail_msg("accepted: %s", line);
	if (strcmp(err, want) != 0)
		fail_msg("line %s\n  gave '%s'\n  want '%s'", line, err, want);
}

static void test_bad_lines(void **state)
{
	expect_error("{\"ts\":1,", "not JSON: string or '}' expected near end of file (column 8)");
	expect_error("[1]", "expected a JSON object, one per line");
	expect_error("{\"ts\":1,\"src\":\"192.0.2.1:1\"}", "missing \"kind\"");
	expect_error("{\"kind\":\"smtp\"}", "\"kind\": expected http, tls, raw or dns");
	expect_error("{\"kind\":\"dns\",\"src\":\"192.0.2.1:1\",\"qname\":\"a\",\"qtype\":1}",
		     "missing \"ts\"");
	expect_error("{\"kind\":\"dns\",\"ts\":\"2026-02-30T00:00:00Z\"}",
		     "\"ts\": expected an RFC 3339 time (2026-01-01T00:00:00.123456789Z or "
		     "+01:00) or integer nanoseconds since 1970");
	expect_error("{\"kind\":\"dns\",\"ts\":1,\"src\":\"192.0.2.1:99999\"}",
		     "\"src\": expected ADDRESS:PORT (192.0.2.1:80 or [2001:db8::1]:80)");
	expect_error("{\"kind\":\"dns\",\"ts\":1,\"src\":\"192.0.2.1:1\",\"qtype\":1}",
		     "missing \"qname\"");
	expect_error(
	    "{\"kind\":\"dns\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"qname\":\"a\",\"qtype\":70000}",
	    "\"qtype\": expected an integer from 0 to 65535");
	expect_error("{\"kind\":\"dns\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\"}",
		     "\"method\" does not apply to kind dns");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"colour\":1}",
		     "unknown key \"colour\"");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"target\":\"/\"}",
		     "missing \"method\"");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\","
		     "\"body\":\"abc\"}",
		     "\"body\": invalid base64 (length 3 is not a multiple of 4)");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\","
		     "\"body\":\"ab!=\"}",
		     "\"body\": invalid base64");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\","
		     "\"headers\":[[\"Host\"]]}",
		     "\"headers\"[0]: expected a [name, value] pair of strings");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\","
		     "\"version\":\"2\"}",
		     "\"version\": expected \"1.0\" or \"1.1\"");
	expect_error("{\"kind\":\"http\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"method\":\"GET\","
		     "\"body\":\"YWJj\",\"body_len\":2}",
		     "\"body_len\": expected an integer from 3 to 4294967295");
	expect_error("{\"kind\":\"raw\",\"ts\":1,\"src\":\"1.2.3.4:1\",\"flags\":[\"shiny\"]}",
		     "\"flags\"[0]: unknown flag (expected tls, proxied, body_truncated, ... as "
		     "docs/ingest.md lists)");
}

/* What the writer writes parses back to the same record. */
static void test_write_parse_round_trip(void **state)
{
	char err[256];
	const char *line =
	    "{\"ts\":\"2026-03-04T05:06:07.000000089Z\",\"kind\":\"http\",\"transport\":\"tcp\","
	    "\"src\":\"[2001:db8::7]:1000\",\"dst\":\"127.0.0.1:80\",\"flags\":[\"tls\"],"
	    "\"conn_id\":3,\"host\":\"seized.example\",\"method\":\"GET\",\"target\":\"/a?b=c\","
	    "\"version\":\"1.0\",\"headers\":[[\"Host\",\"seized.example\"],[\"X\",\"\"]],"
	    "\"body\":\"AQIBAQEBAgE=\",\"body_len\":9,\"status\":200,"
	    "\"labels\":{\"zone\":\"seized.example\"}}\n";
	assert_int_equal(parse(line, err, sizeof(err)), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_int_equal(ingest_write(f, &rec->ev, 0), 0);
	fclose(f);
	assert_string_equal(out, line);
	free(out);
}

static void test_time(void **state)
{
	uint64_t ns;
	char buf[40];
	assert_int_equal(ingest_time_parse("1970-01-01T00:00:01.5Z", &ns), 0);
	assert_true(ns == 1500000000ull);
	assert_int_equal(ingest_time_parse("2026-01-01T00:00:00-00:30", &ns), 0);
	assert_string_equal(ingest_time_str(ns, buf, sizeof(buf)),
			    "2026-01-01T00:30:00.000000000Z");
	assert_int_equal(ingest_time_parse("2026-01-01T00:00:00.1234567891Z", &ns), SINKD_EINVAL);
	assert_int_equal(ingest_time_parse("2026-01-01 00:00:00Z", &ns), SINKD_EINVAL);
	assert_int_equal(ingest_time_parse("2026-01-01T00:00:00", &ns), SINKD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_http_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_and_tls_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_parse_round_trip, setup, teardown),
	    cmocka_unit_test(test_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
