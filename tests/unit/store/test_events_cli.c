/* `sinkd events` and the text forms behind it: time parsing, type names,
 * table/CSV/JSON output, exit statuses, store path from --db or -c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>

#include "core/error.h"
#include "store/store.h"
#include "store/store_internal.h"

#include "store_test_util.h"

#define NOW_NS (T0_NS + 3600 * SEC_NS)

static void expect_time(const char *text, uint64_t want)
{
	uint64_t got = 0;
	if (store_time_parse(text, NOW_NS, &got) != 0)
		fail_msg("'%s' refused", text);
	if (got != want)
		fail_msg("'%s' gave %llu, want %llu", text, (unsigned long long)got,
			 (unsigned long long)want);
}

static void test_time_parse(void **state)
{
	expect_time("2026-11-26T00:00:00Z", T0_NS);
	expect_time("2026-11-26", T0_NS);
	expect_time("2026-11-26t00:00z", T0_NS);
	expect_time("2026-11-26 00:00:01", T0_NS + SEC_NS);
	expect_time("2026-11-26T00:00:00.25Z", T0_NS + 250000000);
	expect_time("2026-11-26T02:00:00+02:00", T0_NS);
	expect_time("2026-11-25T23:30:00-00:30", T0_NS);
	expect_time("15m", NOW_NS - 900 * SEC_NS);
	expect_time("2h", NOW_NS - 7200 * SEC_NS);
	expect_time("7d", NOW_NS - 7 * 86400 * SEC_NS);
	expect_time("1w", NOW_NS - 7 * 86400 * SEC_NS);
	expect_time("90s", NOW_NS - 90 * SEC_NS);
	expect_time("now", NOW_NS);
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "15",
	    "15x",
	    "m",
	    "-5m",
	    "2026-02-30",
	    "2026-13-01",
	    "2026-11-26T24:00:00Z",
	    "2026-11-26T00:00:00Zjunk",
	    "2026-11-26T00:00:00+2",
	    "2026-11-26T00:00:00.Z",
	    "2026-1-1",
	    "99999999999d",
	};
	uint64_t out;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_time_parse(bad[i], NOW_NS, &out) != SINKD_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
}

static void test_names(void **state)
{
	char buf[32];
	uint8_t kind = 0;
	int qtype = 0;
	assert_int_equal(store_type_parse("dns", &kind, &qtype), 0);
	assert_int_equal(kind, EVENT_DNS);
	assert_int_equal(qtype, -1);
	assert_int_equal(store_type_parse("HTTP", &kind, &qtype), 0);
	assert_int_equal(kind, EVENT_HTTP);
	assert_int_equal(store_type_parse("aaaa", &kind, &qtype), 0);
	assert_int_equal(qtype, 28);
	assert_int_equal(store_type_parse("TYPE65", &kind, &qtype), 0);
	assert_int_equal(qtype, 65);
	assert_int_equal(store_type_parse("bogus", &kind, &qtype), SINKD_EINVAL);
	assert_string_equal(store_qtype_name(15, buf, sizeof(buf)), "MX");
	assert_string_equal(store_qtype_name(4444, buf, sizeof(buf)), "TYPE4444");
	assert_string_equal(store_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(store_rcode_name(16, buf, sizeof(buf)), "BADVERS");
	assert_string_equal(store_rcode_name(42, buf, sizeof(buf)), "RCODE42");
}

struct fixture {
	struct tmpdir tmp;
	char out[16384], err[4096];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store *st = NULL;
	tmpdir_make(&fx->tmp);
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	struct sinkd_event ev[3] = {
	    dns_event(T0_NS + 1500 * 1000000ull, "192.0.2.1", 4321, "alpha.com", "alpha.com", 1, 0),
	    dns_event(T0_NS + 120 * SEC_NS, "2001:db8::5", 53, "alpha.com",
		      "we\"ird\\n,ame.alpha.com", 16, 3),
	    dns_event(T0_NS + 180 * SEC_NS, "192.0.2.9", 1, "beta.net", "beta.net", 28, 5),
	};
	ev[1].qname[4] = '\x01';
	assert_int_equal(store_write(st, ev, 2, true), 0);
	assert_int_equal(store_write(st, ev + 2, 1, false), 0);
	store_close(st);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	tmpdir_remove(&fx->tmp);
	free(fx);
	return 0;
}

static void slurp(int fd, char *buf, size_t len)
{
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Run events_cli with stdout and stderr captured; returns the exit status. */
static int run(struct fixture *fx, int argc, ...)
{
	char *argv[24] = {"events"};
	char path[700];
	va_list ap;
	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/capture", fx->tmp.dir);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	int fo = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	int fe = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	dup2(fo, 1);
	dup2(fe, 2);
	int ret = events_cli(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(fo, fx->out, sizeof(fx->out));
	slurp(fe, fx->err, sizeof(fx->err));
	return ret;
}

/* The label keys of an unclassified row, closing the JSON object. */
#define NOLABELS                                                                                   \
	"\"family\":null,\"rule_id\":null,\"tag\":null,\"severity\":null,"                         \
	"\"msg_type\":null,\"proto_version\":null,\"bot_id\":null,\"decode_status\":null}\n"

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void test_table(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(run(fx, 3, "--db", fx->tmp.db), 0);
	assert_int_equal(lines(fx->out), 4);
	assert_non_null(strstr(fx->out, "time "));
	/* newest first: the beta.net aggregate, minute precision, no port */
	const char *first = strchr(fx->out, '\n') + 1;
	assert_memory_equal(first, "2026-11-26T00:03Z ", 18);
	assert_non_null(strstr(first, "192.0.2.9 "));
	assert_non_null(strstr(first, "AAAA"));
	assert_non_null(strstr(first, "REFUSED"));
	assert_non_null(strstr(fx->out, "2026-11-26T00:00:01.500Z dns  udp       192.0.2.1:4321"));
	assert_non_null(strstr(fx->out, "[2001:db8::5]:53"));
	assert_non_null(strstr(fx->out, "NXDOMAIN"));
	assert_string_equal(fx->err, "");
}

static void test_csv_and_json(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--type", "TXT"), 0);
	/* Capture columns follow, empty for DNS rows. */
	assert_string_equal(
	    fx->out, "time,kind,transport,src,zone,qname,qtype,rcode,count,aggregate,"
		     "dst,proxy,conn_id,flags,method,target,http_version,status,"
		     "user_agent,referer,headers,body_len,body_stored,body_sha256,proto,"
		     "ja3,ja3_md5,ja4,hello,raw_hex,family,rule_id,tag,severity,msg_type,"
		     "proto_version,bot_id,decode_status\n"
		     "2026-11-26T00:02:00.000Z,dns,udp,[2001:db8::5]:53,alpha.com,"
		     "\"we\"\"i\x01"
		     "d\\n,ame.alpha.com\",TXT,NXDOMAIN,1,false,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n");
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "json", "--limit", "2"), 0);
	assert_string_equal(
	    fx->out,
	    "{\"time\":\"2026-11-26T00:03Z\",\"kind\":\"dns\",\"transport\":null,"
	    "\"src\":\"192.0.2.9\",\"zone\":\"beta.net\",\"qname\":\"beta.net\","
	    "\"qtype\":\"AAAA\",\"rcode\":\"REFUSED\",\"count\":1,\"aggregate\":true," NOLABELS
	    "{\"time\":\"2026-11-26T00:02:00.000Z\",\"kind\":\"dns\",\"transport\":\"udp\","
	    "\"src\":\"[2001:db8::5]:53\",\"zone\":\"alpha.com\","
	    "\"qname\":\"we\\\"i\\u0001d\\\\n,ame.alpha.com\",\"qtype\":\"TXT\","
	    "\"rcode\":\"NXDOMAIN\",\"count\":1,\"aggregate\":false," NOLABELS);
}

static void test_filters(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--domain", "alpha.com"),
			 0);
	assert_int_equal(lines(fx->out), 3);
	assert_int_equal(run(fx, 9, "--db", fx->tmp.db, "--format", "csv", "--since",
			     "2026-11-26T00:01:00Z", "--until", "2026-11-26T00:03:00Z"),
			 0);
	assert_int_equal(lines(fx->out), 2);
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--ip", "192.0.2.1"), 0);
	assert_int_equal(lines(fx->out), 2);
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--type", "http"), 0);
	assert_int_equal(lines(fx->out), 1);
	/* An internationalised name matches its stored A-label. */
	struct store *st = NULL;
	struct sinkd_event idn = dns_event(T0_NS, "192.0.2.1", 1, "xn--bcher-kva.example",
					   "xn--bcher-kva.example", 1, 0);
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	assert_int_equal(store_write(st, &idn, 1, false), 0);
	store_close(st);
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--domain",
			     "B\xc3\xbc"
			     "CHER.example"),
			 0);
	assert_int_equal(lines(fx->out), 2);
	assert_int_equal(run(fx, 5, "--db", fx->tmp.db, "--domain", "b\xffx.example"), 2);
	assert_non_null(strstr(fx->err, "--domain"));
	/* 1000 weeks ago is before the fixture on any clock before 2045. */
	assert_int_equal(run(fx, 5, "--db", fx->tmp.db, "--since", "1000w"), 0);
	assert_int_equal(lines(fx->out), 5);
}

/* A filter that runs out of scan budget says so on stderr, once, and still
 * exits 0 with the rows it found. With 2 rows per side the aggregate side
 * stops in the first minute (00:00), which is then not complete: only the
 * 00:02 row is shown. */
static void test_scan_budget_message(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(run(fx, 9, "--db", fx->tmp.db, "--domain", "alpha.com", "--scan-max", "2",
			     "--format", "csv"),
			 0);
	assert_int_equal(lines(fx->out), 2);
	assert_non_null(strstr(fx->out, "2026-11-26T00:02:00.000Z"));
	assert_int_equal(lines(fx->err), 1);
	assert_non_null(strstr(fx->err, "sinkd events: scanned "));
	assert_non_null(strstr(fx->err, "nothing older than 2026-11-26T00:01:00Z was searched"));
	assert_non_null(strstr(fx->err, "narrow --since"));
	assert_int_equal(run(fx, 9, "--db", fx->tmp.db, "--domain", "alpha.com", "--scan-max", "10",
			     "--format", "csv"),
			 0);
	assert_int_equal(lines(fx->out), 3);
	assert_string_equal(fx->err, "");
}

static void expect_usage_error(struct fixture *fx, const char *opt, const char *value,
			       const char *needle)
{
	int ret = value != NULL ? run(fx, 5, "--db", fx->tmp.db, opt, value)
				: run(fx, 4, "--db", fx->tmp.db, opt);
	if (ret != 2 || lines(fx->err) != 1 || strstr(fx->err, needle) == NULL)
		fail_msg("%s %s: exit %d, stderr '%s'", opt, value ? value : "", ret, fx->err);
	assert_string_equal(fx->out, "");
}

static void test_bad_usage(void **state)
{
	struct fixture *fx = *state;
	expect_usage_error(fx, "--since", "yesterday", "--since 'yesterday'");
	expect_usage_error(fx, "--until", "2026-02-30", "--until '2026-02-30'");
	expect_usage_error(fx, "--limit", "0", "--limit '0'");
	expect_usage_error(fx, "--limit", "100001", "1 to 100000");
	expect_usage_error(fx, "--limit", "12abc", "--limit");
	expect_usage_error(fx, "--format", "xml", "table, csv, json or jsonl");
	expect_usage_error(fx, "--scan-max", "0", "--scan-max '0'");
	expect_usage_error(fx, "--type", "bogus", "--type 'bogus'");
	expect_usage_error(fx, "--ip", "300.1.1.1", "--ip '300.1.1.1'");
	expect_usage_error(fx, "--frobnicate", NULL, "unknown option '--frobnicate'");
	expect_usage_error(fx, "extra", NULL, "unexpected argument 'extra'");
	assert_int_equal(run(fx, 2, "--since"), 2);
	assert_non_null(strstr(fx->err, "missing value"));
	assert_int_equal(run(fx, 5, "--since", "2026-11-26T01:00:00Z", "--until", "2026-11-26"), 2);
	assert_non_null(strstr(fx->err, "--since must be before --until"));
	assert_int_equal(run(fx, 2, "--help"), 0);
	assert_non_null(strstr(fx->out, "usage: sinkd events"));
}

static void test_missing_store(void **state)
{
	struct fixture *fx = *state;
	char missing[700];
	snprintf(missing, sizeof(missing), "%s/none.db", fx->tmp.dir);
	assert_int_equal(run(fx, 3, "--db", missing), 1);
	assert_non_null(strstr(fx->err, "no store at"));
	assert_non_null(strstr(fx->err, missing));
	assert_int_not_equal(access(missing, F_OK), 0);
}

static void test_config_store_path(void **state)
{
	struct fixture *fx = *state;
	char conf[700];
	snprintf(conf, sizeof(conf), "%s/sinkd.conf", fx->tmp.dir);
	FILE *f = fopen(conf, "w");
	fprintf(f, "[store]\npath = %s\n", fx->tmp.db);
	fclose(f);
	assert_int_equal(run(fx, 5, "-c", conf, "--format", "json"), 0);
	assert_int_equal(lines(fx->out), 3);
	f = fopen(conf, "w");
	fprintf(f, "[store]\nnope = 1\n");
	fclose(f);
	assert_int_equal(run(fx, 3, "-c", conf), 1);
	assert_non_null(strstr(fx->err, conf));
}

/* HTTP, TLS and raw rows: every captured field in JSON (the keys the
 * integration tests read), the name column of the table, CSV columns. */
static void test_capture_output(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	static uint8_t buf[3][1024];
	struct sinkd_event ev[3];
	ev[0] = cap_event(EVENT_HTTP, T0_NS + 240 * SEC_NS, "198.51.100.7", 40000, 8080, 9, buf[0]);
	ev[0].flags = EVF_PROXIED | EVF_BODY_TRUNCATED;
	event_addr_parse(&ev[0].proxy, "127.0.0.2");
	ev[0].proxy.port = 5000;
	snprintf(ev[0].http_method, sizeof(ev[0].http_method), "POST");
	snprintf(ev[0].qname, sizeof(ev[0].qname), "www.alpha.com");
	snprintf(ev[0].zone, sizeof(ev[0].zone), "alpha.com");
	ev[0].http_version = 11;
	ev[0].http_status = 200;
	ev[0].body_len = 70000;
	cap_text(&ev[0], sizeof(buf[0]), EVP_TARGET, "/a.png?x=\"1\"");
	cap_text(&ev[0], sizeof(buf[0]), EVP_HEADERS, "Host: www.alpha.com\r\nUser-Agent: M\r\n");
	cap_text(&ev[0], sizeof(buf[0]), EVP_USER_AGENT, "M");
	cap_text(&ev[0], sizeof(buf[0]), EVP_BODY, "hello");
	ev[1] = cap_event(EVENT_TLS, T0_NS + 241 * SEC_NS, "2001:db8::5", 443, 8443, 10, buf[1]);
	ev[1].flags = EVF_HANDSHAKE_FAILED;
	snprintf(ev[1].proto, sizeof(ev[1].proto), "tls");
	cap_text(&ev[1], sizeof(buf[1]), EVP_TLS_JA3, "771,47-255,0,,");
	cap_text(&ev[1], sizeof(buf[1]), EVP_TLS_JA4, "t12d0101_x_y");
	cap_text(&ev[1], sizeof(buf[1]), EVP_TLS_HELLO, "{\"v\":[1,2]}");
	cap_section(&ev[1], sizeof(buf[1]), EVP_RAW, "\x16\x03\x01", 3);
	ev[2] = cap_event(EVENT_RAW, T0_NS + 242 * SEC_NS, "192.0.2.4", 1, 9000, 11, buf[2]);
	ev[2].transport = TRANSPORT_UDP;
	ev[2].body_len = 40;
	snprintf(ev[2].proto, sizeof(ev[2].proto), "binary");
	cap_section(&ev[2], sizeof(buf[2]), EVP_RAW, "\xde\xad\x00\n", 4);
	snprintf(ev[0].family, sizeof(ev[0].family), "waledac");
	snprintf(ev[0].rule_id, sizeof(ev[0].rule_id), "waledac-checkin");
	snprintf(ev[0].tag, sizeof(ev[0].tag), "checkin");
	ev[0].severity = 3;
	snprintf(ev[0].msg_type, sizeof(ev[0].msg_type), "getkey");
	snprintf(ev[0].proto_version, sizeof(ev[0].proto_version), "2");
	snprintf(ev[0].bot_id, sizeof(ev[0].bot_id), "0123456789abcdef0123456789abcdef");
	snprintf(ev[0].decode_status, sizeof(ev[0].decode_status), "ok");
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	assert_int_equal(store_write(st, ev, 3, false), 0);
	store_close(st);

	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "json", "--type", "raw"), 0);
	assert_string_equal(fx->out,
			    "{\"time\":\"2026-11-26T00:04:02.000Z\",\"kind\":\"raw\","
			    "\"transport\":\"udp\",\"src\":\"192.0.2.4:1\","
			    "\"dst\":\"127.0.0.1:9000\",\"proxy\":null,\"conn_id\":11,"
			    "\"flags\":[],\"zone\":\"\",\"qname\":\"\",\"proto\":\"binary\","
			    "\"bytes\":40,\"raw_hex\":\"dead000a\",\"count\":1,"
			    "\"aggregate\":false," NOLABELS);
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "json", "--type", "tls"), 0);
	assert_string_equal(fx->out,
			    "{\"time\":\"2026-11-26T00:04:01.000Z\",\"kind\":\"tls\","
			    "\"transport\":\"tcp\",\"src\":\"[2001:db8::5]:443\","
			    "\"dst\":\"127.0.0.1:8443\",\"proxy\":null,\"conn_id\":10,"
			    "\"flags\":[\"handshake_failed\"],\"zone\":\"\",\"qname\":\"\","
			    "\"sni\":\"\",\"ja3\":\"771,47-255,0,,\",\"ja3_md5\":null,"
			    "\"ja4\":\"t12d0101_x_y\",\"hello\":{\"v\":[1,2]},"
			    "\"raw_hex\":\"160301\",\"count\":1,\"aggregate\":false," NOLABELS);
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "json", "--type", "http"), 0);
	assert_string_equal(
	    fx->out,
	    "{\"time\":\"2026-11-26T00:04:00.000Z\",\"kind\":\"http\",\"transport\":\"tcp\","
	    "\"src\":\"198.51.100.7:40000\",\"dst\":\"127.0.0.1:8080\","
	    "\"proxy\":\"127.0.0.2:5000\",\"conn_id\":9,"
	    "\"flags\":[\"body_truncated\",\"proxied\"],\"zone\":\"alpha.com\","
	    "\"qname\":\"www.alpha.com\",\"method\":\"POST\",\"target\":\"/a.png?x=\\\"1\\\"\","
	    "\"http_version\":\"1.1\",\"status\":200,\"host\":\"www.alpha.com\","
	    "\"user_agent\":\"M\",\"referer\":null,"
	    "\"headers\":\"Host: www.alpha.com\\u000d\\u000aUser-Agent: M\\u000d\\u000a\","
	    "\"body_len\":70000,\"body_stored\":5,"
	    "\"body_sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
	    "\"raw_hex\":null,\"count\":1,\"aggregate\":false,\"family\":\"waledac\","
	    "\"rule_id\":\"waledac-checkin\",\"tag\":\"checkin\",\"severity\":3,"
	    "\"msg_type\":\"getkey\",\"proto_version\":\"2\","
	    "\"bot_id\":\"0123456789abcdef0123456789abcdef\",\"decode_status\":\"ok\"}\n");
	/* The table names each row by what it asked for. */
	assert_int_equal(run(fx, 5, "--db", fx->tmp.db, "--limit", "3"), 0);
	assert_non_null(strstr(fx->out, " raw  udp       192.0.2.4:1            binary "));
	assert_non_null(strstr(fx->out, " tls  tcp       [2001:db8::5]:443      t12d0101_x_y "));
	assert_non_null(strstr(fx->out, " http tcp       198.51.100.7:40000     "
					"POST /a.png?x=\"1\"     "));
	assert_non_null(strstr(fx->out, " 200 "));
	/* CSV: the capture columns after the common ones. */
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--type", "raw"), 0);
	assert_non_null(strstr(
	    fx->out, ",1,false,127.0.0.1:9000,,11,,,,,,,,,40,,,binary,,,,,dead000a,,,,,,,,\n"));
	/* Labels: the table's last columns, CSV's last columns, --family. */
	assert_int_equal(run(fx, 5, "--db", fx->tmp.db, "--family", "waledac"), 0);
	assert_int_equal(lines(fx->out), 2);
	assert_non_null(
	    strstr(fx->out, " waledac    getkey     0123456789abcdef0123456789abcdef\n"));
	assert_int_equal(run(fx, 7, "--db", fx->tmp.db, "--format", "csv", "--family", "waledac"),
			 0);
	assert_non_null(strstr(fx->out, ",waledac,waledac-checkin,checkin,3,getkey,2,"
					"0123456789abcdef0123456789abcdef,ok\n"));
	assert_int_equal(run(fx, 5, "--db", fx->tmp.db, "--family", "kelihos"), 0);
	assert_int_equal(lines(fx->out), 1); /* header only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_csv_and_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_budget_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_usage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_store_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capture_output, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
