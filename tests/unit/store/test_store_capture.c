/* Store unit tests for HTTP, TLS and raw events: the capture row of each
 * kind written and read back field by field, bodies stored once per
 * content, late and rolled-back capture rows, and the migration from a
 * version 3 store with its data kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/error.h"
#include "store/store.h"
#include "store/store_internal.h"

#include "store_test_util.h"

#define CAP 4096

struct fixture {
	struct tmpdir tmp;
	struct store *st;
	uint8_t buf[8][CAP];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	tmpdir_make(&fx->tmp);
	assert_int_equal(store_open(&fx->st, fx->tmp.db, false), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	tmpdir_remove(&fx->tmp);
	free(fx);
	return 0;
}

/* A copy of a row that outlives the callback: its payload copied too. */
struct saved {
	struct store_row row;
	uint8_t payload[CAP];
};

struct collect {
	struct saved rows[16];
	size_t n;
};

static int collect_cb(const struct store_row *row, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < 16) {
		struct saved *s = &c->rows[c->n];
		s->row = *row;
		assert_true(row->ev.payload_len <= CAP);
		if (row->ev.payload_len > 0)
			memcpy(s->payload, row->ev.payload, row->ev.payload_len);
		s->row.ev.payload = s->payload;
	}
	c->n++;
	return 0;
}

/* Rows of a kind ("http", "tls", "raw", NULL = all), oldest first. */
static struct collect *query_kind(struct store *st, const char *type)
{
	static struct collect c;
	struct saved tmp;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_query(st, &(struct store_filter){.type = type}, collect_cb, &c), 0);
	for (size_t i = 0; i < c.n / 2; i++) {
		tmp = c.rows[i];
		c.rows[i] = c.rows[c.n - 1 - i];
		c.rows[c.n - 1 - i] = tmp;
	}
	for (size_t i = 0; i < c.n; i++)
		c.rows[i].row.ev.payload = c.rows[i].payload;
	return &c;
}

static void expect_section(const struct store_row *row, uint8_t type, const void *want, size_t len)
{
	const uint8_t *data;
	size_t got;
	if (event_payload_get(&row->ev, type, &data, &got) != 0)
		fail_msg("section %u missing", type);
	assert_int_equal(got, len);
	assert_memory_equal(data, want, len);
}

static void expect_no_section(const struct store_row *row, uint8_t type)
{
	const uint8_t *data;
	size_t len;
	assert_int_equal(event_payload_get(&row->ev, type, &data, &len), SINKD_ENOENT);
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
}

/* The bytes stored in `bodies` under a hash, through a second handle. */
static size_t body_of(const char *db, const uint8_t sha[32], uint8_t *out, size_t cap)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = SIZE_MAX;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(h, "SELECT data, len FROM bodies WHERE sha256 = ?1", -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_blob(s, 1, sha, 32, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(s, 0);
		assert_int_equal(sqlite3_column_int64(s, 1), n);
		assert_true(n <= cap);
		memcpy(out, sqlite3_column_blob(s, 0), n);
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

static struct sinkd_event http_post(struct fixture *fx, int i, uint64_t ts, const char *body)
{
	struct sinkd_event ev = cap_event(EVENT_HTTP, ts, "192.0.2.7", 40000, 80, 77, fx->buf[i]);
	snprintf(ev.http_method, sizeof(ev.http_method), "POST");
	snprintf(ev.qname, sizeof(ev.qname), "www.alpha.com");
	snprintf(ev.zone, sizeof(ev.zone), "alpha.com");
	ev.http_version = 11;
	ev.http_status = 200;
	ev.body_len = (uint32_t)strlen(body);
	cap_text(&ev, CAP, EVP_TARGET, "/qwxmtz.png");
	cap_text(&ev, CAP, EVP_HEADERS, "Host: www.alpha.com\r\nUser-Agent: Mozilla\r\n");
	cap_text(&ev, CAP, EVP_USER_AGENT, "Mozilla");
	cap_text(&ev, CAP, EVP_REFERER, "http://ref.example/");
	if (body[0] != '\0')
		cap_text(&ev, CAP, EVP_BODY, body);
	return ev;
}

static void test_http_round_trip(void **state)
{
	struct fixture *fx = *state;
	uint8_t sha[32], got[CAP];
	struct sinkd_event ev[2] = {http_post(fx, 0, T0_NS, "a=QUJD&b=eHl6"),
				    http_post(fx, 1, T0_NS + SEC_NS, "")};
	ev[0].flags = EVF_PROXIED;
	event_addr_parse(&ev[0].proxy, "2001:db8::99");
	ev[0].proxy.port = 5555;
	snprintf(ev[1].http_method, sizeof(ev[1].http_method), "GET");
	ev[1].http_version = 10;
	ev[1].conn_id = 78;
	assert_int_equal(store_write(fx->st, ev, 2, false), 0);
	struct collect *c = query_kind(fx->st, "http");
	assert_int_equal(c->n, 2);
	const struct store_row *r = &c->rows[0].row;
	assert_true(r->capture);
	assert_int_equal(r->ev.kind, EVENT_HTTP);
	assert_int_equal(r->ev.transport, TRANSPORT_TCP);
	assert_int_equal(r->ev.conn_id, 77);
	assert_int_equal(r->ev.flags, EVF_PROXIED);
	assert_memory_equal(&r->ev.proxy, &ev[0].proxy, sizeof(ev[0].proxy));
	assert_memory_equal(&r->ev.src, &ev[0].src, sizeof(ev[0].src));
	assert_memory_equal(&r->ev.dst, &ev[0].dst, sizeof(ev[0].dst));
	assert_string_equal(r->ev.http_method, "POST");
	assert_int_equal(r->ev.http_version, 11);
	assert_int_equal(r->ev.http_status, 200);
	assert_string_equal(r->ev.qname, "www.alpha.com");
	assert_string_equal(r->ev.zone, "alpha.com");
	assert_int_equal(r->ev.body_len, 13);
	expect_section(r, EVP_TARGET, "/qwxmtz.png", 11);
	expect_section(r, EVP_HEADERS, "Host: www.alpha.com\r\nUser-Agent: Mozilla\r\n", 42);
	expect_section(r, EVP_USER_AGENT, "Mozilla", 7);
	expect_section(r, EVP_REFERER, "http://ref.example/", 19);
	expect_no_section(r, EVP_BODY); /* bodies stay in their table */
	expect_no_section(r, EVP_RAW);
	assert_true(r->has_body);
	assert_int_equal(r->body_stored, 13);
	sha256("a=QUJD&b=eHl6", 13, sha);
	assert_memory_equal(r->body_sha256, sha, 32);
	assert_int_equal(body_of(fx->tmp.db, sha, got, sizeof(got)), 13);
	assert_memory_equal(got, "a=QUJD&b=eHl6", 13);
	/* No body: no hash, nothing in bodies; not proxied: no proxy. */
	r = &c->rows[1].row;
	assert_string_equal(r->ev.http_method, "GET");
	assert_int_equal(r->ev.http_version, 10);
	assert_int_equal(r->ev.conn_id, 78);
	assert_false(r->has_body);
	assert_int_equal(r->body_stored, 0);
	assert_int_equal(r->ev.body_len, 0);
	assert_int_equal(r->ev.proxy.port, 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM bodies"), 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM capture"), 2);
	/* The view shows the same, as text. */
	assert_int_equal(sql_int(fx->tmp.db,
				 "SELECT COUNT(*) FROM capture_v v JOIN bodies b"
				 " ON v.body_sha256 = lower(hex(b.sha256))"
				 " WHERE v.kind = 'http' AND v.method = 'POST' AND"
				 " v.target = '/qwxmtz.png' AND v.proxy_ip ="
				 " '2001:0db8:0000:0000:0000:0000:0000:0099' AND"
				 " v.proxy_port = 5555 AND v.src_ip = '192.0.2.7' AND"
				 " v.zone = 'alpha.com' AND v.qname = 'www.alpha.com' AND"
				 " v.http_version = 11 AND v.status = 200"),
			 1);
}

static void test_bodies_deduplicated(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[6];
	struct store_stats s;
	for (int i = 0; i < 5; i++)
		ev[i] = http_post(fx, i, T0_NS + (uint64_t)i, "repeated-checkin");
	ev[5] = http_post(fx, 5, T0_NS + 5, "other");
	/* A truncated body: the hash is of the bytes kept. */
	ev[5].body_len = 100000;
	ev[5].flags = EVF_BODY_TRUNCATED;
	assert_int_equal(store_write(fx->st, ev, 3, false), 0);
	assert_int_equal(store_write(fx->st, ev + 3, 3, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM bodies"), 2);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(DISTINCT body_sha256) FROM capture"), 2);
	store_stats(fx->st, &s);
	assert_int_equal(s.bodies_new, 2);
	assert_int_equal(s.bodies_seen, 4);
	struct collect *c = query_kind(fx->st, "http");
	assert_int_equal(c->n, 6);
	assert_memory_equal(c->rows[0].row.body_sha256, c->rows[4].row.body_sha256, 32);
	assert_int_equal(c->rows[5].row.ev.body_len, 100000);
	assert_int_equal(c->rows[5].row.body_stored, 5);
	assert_int_equal(c->rows[5].row.ev.flags, EVF_BODY_TRUNCATED);
	uint8_t got[64];
	assert_int_equal(body_of(fx->tmp.db, c->rows[5].row.body_sha256, got, sizeof(got)), 5);
	assert_memory_equal(got, "other", 5);
}

static const char hello_json[] = "{\"version\":771,\"ciphers\":[4865,4866],\"sni\":\"a\"}";

static void test_tls_and_raw_round_trip(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t raw[] = {0x16, 0x03, 0x01, 0x00, 0x00, 0xff, '\n', 0x80};
	struct sinkd_event ev[3];
	ev[0] = cap_event(EVENT_TLS, T0_NS, "2001:db8::1", 50000, 443, 5, fx->buf[0]);
	snprintf(ev[0].qname, sizeof(ev[0].qname), "sni.alpha.com");
	snprintf(ev[0].zone, sizeof(ev[0].zone), "alpha.com");
	snprintf(ev[0].proto, sizeof(ev[0].proto), "tls");
	cap_text(&ev[0], CAP, EVP_TLS_JA3, "771,4865-4866,0-10,29,0");
	cap_text(&ev[0], CAP, EVP_TLS_JA3_MD5, "0123456789abcdef0123456789abcdef");
	cap_text(&ev[0], CAP, EVP_TLS_JA4, "t13d0202h2_aaaaaaaaaaaa_bbbbbbbbbbbb");
	cap_text(&ev[0], CAP, EVP_TLS_HELLO, hello_json);
	cap_section(&ev[0], CAP, EVP_RAW, raw, sizeof(raw));
	/* A malformed hello: the parser's reason, not JSON. */
	ev[1] = cap_event(EVENT_TLS, T0_NS + 1, "192.0.2.3", 50001, 443, 6, fx->buf[1]);
	ev[1].flags = EVF_HANDSHAKE_FAILED;
	snprintf(ev[1].proto, sizeof(ev[1].proto), "tls-malformed");
	cap_text(&ev[1], CAP, EVP_TLS_HELLO, "record type 0, not a handshake");
	cap_section(&ev[1], CAP, EVP_RAW, "\x00\x01\x02garbage", 10);
	/* A raw UDP datagram: protocol, first bytes, true length. */
	ev[2] = cap_event(EVENT_RAW, T0_NS + 2, "192.0.2.4", 53000, 9000, 7, fx->buf[2]);
	ev[2].transport = TRANSPORT_UDP;
	ev[2].flags = EVF_TIMEOUT;
	ev[2].body_len = 70000;
	snprintf(ev[2].proto, sizeof(ev[2].proto), "binary");
	cap_section(&ev[2], CAP, EVP_RAW, raw, sizeof(raw));
	assert_int_equal(store_write(fx->st, ev, 3, false), 0);

	struct collect *c = query_kind(fx->st, "tls");
	assert_int_equal(c->n, 2);
	const struct store_row *r = &c->rows[0].row;
	assert_true(r->capture);
	assert_int_equal(r->ev.conn_id, 5);
	assert_string_equal(r->ev.qname, "sni.alpha.com");
	assert_string_equal(r->ev.proto, "tls");
	assert_true(r->hello_json);
	assert_false(r->has_body);
	expect_section(r, EVP_TLS_JA3, "771,4865-4866,0-10,29,0", 23);
	expect_section(r, EVP_TLS_JA3_MD5, "0123456789abcdef0123456789abcdef", 32);
	expect_section(r, EVP_TLS_JA4, "t13d0202h2_aaaaaaaaaaaa_bbbbbbbbbbbb", 36);
	expect_section(r, EVP_TLS_HELLO, hello_json, strlen(hello_json));
	expect_section(r, EVP_RAW, raw, sizeof(raw));
	expect_no_section(r, EVP_TARGET);
	r = &c->rows[1].row;
	assert_false(r->hello_json);
	assert_int_equal(r->ev.flags, EVF_HANDSHAKE_FAILED);
	assert_string_equal(r->ev.qname, "");
	expect_section(r, EVP_TLS_HELLO, "record type 0, not a handshake", 30);
	expect_section(r, EVP_RAW, "\x00\x01\x02garbage", 10);
	expect_no_section(r, EVP_TLS_JA3);

	c = query_kind(fx->st, "raw");
	assert_int_equal(c->n, 1);
	r = &c->rows[0].row;
	assert_int_equal(r->ev.transport, TRANSPORT_UDP);
	assert_string_equal(r->ev.proto, "binary");
	assert_int_equal(r->ev.body_len, 70000);
	assert_int_equal(r->ev.flags, EVF_TIMEOUT);
	expect_section(r, EVP_RAW, raw, sizeof(raw));
	/* All kinds together, newest first, in time order. */
	c = query_kind(fx->st, NULL);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->rows[2].row.ev.kind, EVENT_RAW);
}

/* DNS rows never get a capture row, and read back without capture fields. */
static void test_dns_rows_have_no_capture(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[2] = {
	    dns_event(T0_NS, "192.0.2.1", 1, "alpha.com", "x.alpha.com", 1, 0),
	    http_post(fx, 0, T0_NS + 1, "b"),
	};
	assert_int_equal(store_write(fx->st, ev, 2, true), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM capture"), 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM capture c JOIN events e"
					     " ON e.id = c.id WHERE e.kind = 2"),
			 1);
	struct collect *c = query_kind(fx->st, "dns");
	assert_int_equal(c->n, 1);
	assert_false(c->rows[0].row.capture);
	assert_int_equal(c->rows[0].row.ev.payload_len, 0);
}

/* A late event (older than the newest row) takes the next free
 * nanosecond; its capture row follows it to that id. */
static void test_late_capture_row(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event a = http_post(fx, 0, T0_NS + 10, "first");
	struct sinkd_event late[2] = {http_post(fx, 1, T0_NS + 10, "late-same-ns"),
				      http_post(fx, 2, T0_NS + 5, "late-older")};
	assert_int_equal(store_write(fx->st, &a, 1, false), 0);
	assert_int_equal(store_write(fx->st, late, 2, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT group_concat(e.id - e.ts_ns) = '0,0,1'"
					     " FROM (SELECT * FROM events ORDER BY id) e"),
			 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM capture c JOIN events e"
					     " ON e.id = c.id"),
			 3);
	struct collect *c = query_kind(fx->st, "http");
	assert_int_equal(c->n, 3);
	const char *want[] = {"late-older", "first", "late-same-ns"};
	for (int i = 0; i < 3; i++) {
		uint8_t sha[32];
		sha256(want[i], strlen(want[i]), sha);
		assert_memory_equal(c->rows[i].row.body_sha256, sha, 32);
	}
}

/* A failed batch leaves no capture row and no body behind. */
static void test_rollback_drops_capture(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[2] = {http_post(fx, 0, T0_NS, "kept"),
				    http_post(fx, 1, T0_NS + 1, "lost")};
	assert_int_equal(store_write(fx->st, ev, 1, false), 0);
	/* The body is written before the capture row that fails. */
	assert_int_equal(sql_exec(fx->tmp.db, "CREATE TRIGGER fail BEFORE INSERT ON capture"
					      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
			 SQLITE_OK);
	assert_int_equal(store_write(fx->st, ev + 1, 1, false), SINKD_ESTORE);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM bodies"), 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM events"), 1);
	assert_int_equal(sql_exec(fx->tmp.db, "DROP TRIGGER fail"), SQLITE_OK);
	assert_int_equal(store_write(fx->st, ev + 1, 1, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM bodies"), 2);
	assert_int_equal(query_kind(fx->st, "http")->n, 2);
}

/* A version 3 store (migrations 1-3 as released) with a DNS row, an HTTP
 * row and an aggregate: migration 4 keeps every row, the HTTP row reads
 * back without capture fields, and capture rows are written after it. */
static void test_migrate_v3(void **state)
{
	struct fixture *fx = *state;
	const char *db = fx->tmp.db;
	char *sql;
	store_close(fx->st);
	fx->st = NULL;
	unlink(db);
	assert_int_equal(sql_exec(db, "PRAGMA journal_mode=WAL"), SQLITE_OK);
	for (int v = 1; v <= 3; v++)
		assert_int_equal(sql_exec(db, store_schema_sql(v)), SQLITE_OK);
	sql = sqlite3_mprintf(
	    "PRAGMA user_version = 3; PRAGMA application_id = 1936420452;"
	    "INSERT INTO zones(id, name) VALUES (1, 'alpha.com');"
	    "INSERT INTO dns_minute VALUES (%lld, x'00000000000000000000ffffc0000201', 1,"
	    " 'x.alpha.com', 1, 0, 3, 1);"
	    "INSERT INTO events(id, ts_ns, kind, transport, flags, worker, src_ip, src_port,"
	    " dst_ip, dst_port, zone_id, qname, qtype, qclass, rcode, msg_size) VALUES"
	    " (%lld, %lld, 1, 1, 0, 0, x'00000000000000000000ffffc0000201', 1234,"
	    "  x'00000000000000000000ffff7f000001', 53, 1, 'x.alpha.com', 1, 1, 0, 40),"
	    " (%lld, %lld, 2, 2, 0, 0, x'00000000000000000000ffffc0000202', 4321,"
	    "  x'00000000000000000000ffff7f000001', 80, 1, 'www.alpha.com', NULL, NULL, NULL,"
	    "  NULL);",
	    (long long)(T0_NS / SEC_NS), (long long)T0_NS, (long long)T0_NS, (long long)(T0_NS + 1),
	    (long long)(T0_NS + 1));
	assert_int_equal(sql_exec(db, sql), SQLITE_OK);
	sqlite3_free(sql);
	assert_int_equal(store_open(&fx->st, db, true), SINKD_ESTORE); /* readers never migrate */
	assert_int_equal(store_open(&fx->st, db, false), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_true(store_schema_version() >= 4);
	uint64_t dns, rows;
	assert_int_equal(store_totals(fx->st, &dns, &rows), 0);
	assert_int_equal(dns, 3);
	assert_int_equal(rows, 2);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events_v WHERE kind = 2 AND"
				     " qname = 'www.alpha.com' AND src_ip = '192.0.2.2' AND"
				     " conn_id IS NULL AND method IS NULL"),
			 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events_v WHERE kind = 1 AND"
				     " zone = 'alpha.com' AND src_port = 1234"),
			 1);
	struct collect *c = query_kind(fx->st, "http");
	assert_int_equal(c->n, 1);
	assert_false(c->rows[0].row.capture);
	assert_string_equal(c->rows[0].row.ev.qname, "www.alpha.com");
	/* Writing goes on: after the old rows, with capture rows. */
	struct sinkd_event ev = http_post(fx, 0, T0_NS + 1, "after");
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	c = query_kind(fx->st, "http");
	assert_int_equal(c->n, 2);
	assert_true(c->rows[1].row.capture);
	assert_int_equal(sql_int(db, "SELECT id - ts_ns FROM events ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM capture_v WHERE method = 'POST'"), 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM dns_minute_v"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_http_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bodies_deduplicated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_and_raw_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_rows_have_no_capture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_capture_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_drops_capture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
