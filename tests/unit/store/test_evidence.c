/* Evidence chain unit tests: a store written in four batches (HTTP with
 * bodies, TLS, raw, DNS rows and aggregates, a late row, a new zone)
 * verifies; every kind of edit, deletion and insertion made with SQL on
 * the file is found at exactly the batch it touched; manifests are signed
 * and a bad signature or another key fails; a rolled-back batch leaves
 * the chain valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/error.h"
#include "store/store.h"

#include "store_test_util.h"

#define CAP 4096
#define MIN0 ((uint32_t)(T0_NS / SEC_NS))

struct fixture {
	struct tmpdir tmp;
	char key[700], pub[700], other_pub[700];
	uint8_t buf[16][CAP];
	int n_buf;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	tmpdir_make(&fx->tmp);
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

static void write_key(const char *path, const char *pub)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(pub, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	EVP_PKEY_free(k);
}

static EVP_PKEY *read_pub(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static struct sinkd_event http(struct fixture *fx, uint64_t ts, const char *host,
			       const char *target, const char *body)
{
	uint8_t *b = fx->buf[fx->n_buf++ % 16];
	struct sinkd_event ev = cap_event(EVENT_HTTP, ts, "192.0.2.7", 40000, 8080, ts, b);
	snprintf(ev.qname, sizeof(ev.qname), "%s", host);
	snprintf(ev.zone, sizeof(ev.zone), "%s", "alpha.com");
	snprintf(ev.http_method, sizeof(ev.http_method), "POST");
	ev.http_version = 11;
	ev.http_status = 200;
	ev.body_len = (uint32_t)strlen(body);
	cap_text(&ev, CAP, EVP_TARGET, target);
	cap_text(&ev, CAP, EVP_HEADERS, "User-Agent: Mozilla\r\n");
	cap_text(&ev, CAP, EVP_USER_AGENT, "Mozilla");
	cap_text(&ev, CAP, EVP_BODY, body);
	return ev;
}

static struct sinkd_event other(struct fixture *fx, uint8_t kind, uint64_t ts, const char *zone)
{
	uint8_t *b = fx->buf[fx->n_buf++ % 16];
	struct sinkd_event ev = cap_event(kind, ts, "198.51.100.9", 5555, 8443, ts, b);
	snprintf(ev.zone, sizeof(ev.zone), "%s", zone);
	snprintf(ev.qname, sizeof(ev.qname), "www.%s", zone);
	snprintf(ev.proto, sizeof(ev.proto), "%s", kind == EVENT_TLS ? "tls" : "ssh");
	cap_text(&ev, CAP, kind == EVENT_TLS ? EVP_TLS_JA4 : EVP_RAW, "t13d1516h2_8daaf6152771");
	return ev;
}

static struct store_dns_agg agg(uint32_t minute, const char *qname, uint64_t count, uint64_t logged)
{
	struct store_dns_agg a = {.minute = minute,
				  .qtype = 1,
				  .qname = qname,
				  .zone = "alpha.com",
				  .count = count,
				  .logged = logged};
	struct event_addr ip;
	event_addr_parse(&ip, "203.0.113.5");
	memcpy(a.resolver, ip.ip, sizeof(a.resolver));
	return a;
}

/* Four batches; signed with fx->key when sign. Batch 3 has a late row
 * (older than batch 1's newest) and batch 4 adds zone beta.net. */
static void build(struct fixture *fx, bool sign)
{
	struct store *st;
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	if (sign) {
		snprintf(fx->key, sizeof(fx->key), "%s/ev.key", fx->tmp.dir);
		snprintf(fx->pub, sizeof(fx->pub), "%s/ev.key.pub", fx->tmp.dir);
		write_key(fx->key, fx->pub);
		assert_int_equal(store_evidence_setup(st, fx->key, 0), 0);
	}
	struct sinkd_event b1[4] = {
	    http(fx, T0_NS + 1 * SEC_NS, "www.alpha.com", "/a.png", "a=one"),
	    http(fx, T0_NS + 2 * SEC_NS, "www.alpha.com", "/b.png", "a=two"),
	    http(fx, T0_NS + 3 * SEC_NS, "www.alpha.com", "/c.png", "a=three"),
	    dns_event(T0_NS + 4 * SEC_NS, "203.0.113.5", 53, "alpha.com", "x.alpha.com", 1, 0)};
	struct store_dns_agg a1[2] = {agg(MIN0, "x.alpha.com", 1, 1), agg(MIN0, "alpha.com", 5, 0)};
	assert_int_equal(store_write_aggs(st, a1, 2, b1, 4), 0);
	struct sinkd_event b2[3] = {
	    http(fx, T0_NS + 10 * SEC_NS, "www.alpha.com", "/d.png", "a=two"),
	    http(fx, T0_NS + 11 * SEC_NS, "www.alpha.com", "/e.png", "a=4"),
	    other(fx, EVENT_RAW, T0_NS + 12 * SEC_NS, "alpha.com")};
	assert_int_equal(store_write_aggs(st, NULL, 0, b2, 3), 0);
	struct sinkd_event b3[2] = {
	    http(fx, T0_NS + 2 * SEC_NS + 500, "www.alpha.com", "/late.png", "a=late"),
	    dns_event(T0_NS + 70 * SEC_NS, "203.0.113.5", 53, "alpha.com", "y.alpha.com", 1, 0)};
	struct store_dns_agg a3[2] = {agg(MIN0, "alpha.com", 2, 0),
				      agg(MIN0 + 60, "y.alpha.com", 1, 1)};
	assert_int_equal(store_write_aggs(st, a3, 2, b3, 2), 0);
	struct sinkd_event b4[2] = {other(fx, EVENT_TLS, T0_NS + 80 * SEC_NS, "beta.net"),
				    other(fx, EVENT_TLS, T0_NS + 81 * SEC_NS, "beta.net")};
	assert_int_equal(store_write_aggs(st, NULL, 0, b4, 2), 0);
	store_close(st); /* writes the last manifest */
}

/* first_bad_seq of a verify (0: ok), with the public key at pub if any. */
static long long verify(struct fixture *fx, const char *pub, struct store_verify_result *out)
{
	struct store *st;
	struct store_verify_result r;
	struct store_verify_opts o = {.out = stderr};
	if (pub != NULL)
		o.pubkey = read_pub(pub);
	assert_int_equal(store_open(&st, fx->tmp.db, true), 0);
	assert_int_equal(store_verify(st, &o, &r), 0);
	store_close(st);
	EVP_PKEY_free(o.pubkey);
	if (out != NULL)
		*out = r;
	if (r.ok)
		assert_int_equal(r.failures, 0);
	else
		assert_true(r.failures > 0);
	return r.ok ? 0 : r.first_bad_seq;
}

static void exec(struct fixture *fx, const char *sql)
{
	assert_int_equal(sql_exec(fx->tmp.db, sql), SQLITE_OK);
}

static void test_chain_verifies(void **state)
{
	struct fixture *fx = *state;
	struct store_verify_result r;
	build(fx, false);
	assert_int_equal(verify(fx, NULL, &r), 0);
	assert_int_equal(r.records, 4);
	assert_int_equal(r.batches, 4);
	assert_int_equal(r.content_checked, 4);
	assert_int_equal(r.rows, 11);
	assert_int_equal(r.captures, 9);
	assert_int_equal(r.dns_minutes, 2);
	assert_int_equal(r.manifests, 1); /* at close, unsigned */
	assert_int_equal(r.manifest_seq, 4);
	/* The late row is listed by batch 3, below its range. */
	assert_int_equal(sql_int(fx->tmp.db, "SELECT length(late) FROM chain WHERE seq = 3"), 8);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT rows FROM chain WHERE seq = 3"), 2);
	assert_int_equal(sql_int(fx->tmp.db,
				 "SELECT ev_lo = (SELECT ev_hi FROM chain WHERE seq = 2)"
				 " FROM chain WHERE seq = 3"),
			 1);
}

static void test_edit_row_in_each_batch(void **state)
{
	struct fixture *fx = *state;
	char sql[256];
	for (int k = 1; k <= 4; k++) {
		build(fx, false);
		/* The newest row of batch k's range. */
		snprintf(sql, sizeof(sql),
			 "UPDATE events SET src_port = src_port + 1 WHERE id ="
			 " (SELECT ev_hi FROM chain WHERE seq = %d)",
			 k);
		exec(fx, sql);
		assert_int_equal(verify(fx, NULL, NULL), k);
		tmpdir_remove(&fx->tmp);
		tmpdir_make(&fx->tmp);
	}
}

static void test_edit_late_row(void **state)
{
	struct fixture *fx = *state;
	build(fx, false);
	/* The late row sits in batch 1's range but belongs to batch 3. */
	exec(fx, "UPDATE capture SET target = '/other.png' WHERE target = '/late.png'");
	assert_int_equal(verify(fx, NULL, NULL), 3);
}

static void test_delete_rows(void **state)
{
	struct fixture *fx = *state;
	build(fx, false);
	exec(fx, "DELETE FROM events WHERE id = (SELECT ev_hi FROM chain WHERE seq = 2)");
	assert_int_equal(verify(fx, NULL, NULL), 2);
	exec(fx, "DELETE FROM capture WHERE target = '/late.png'");
	assert_int_equal(verify(fx, NULL, NULL), 2);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	exec(fx,
	     "DELETE FROM events WHERE id IN (SELECT id FROM capture WHERE target = '/late.png')");
	assert_int_equal(verify(fx, NULL, NULL), 3);
}

static void test_insert_rows(void **state)
{
	struct fixture *fx = *state;
	build(fx, false);
	/* A copy of a batch 1 row with an id inside batch 2's range. */
	exec(fx, "CREATE TABLE t AS SELECT * FROM events ORDER BY id LIMIT 1;"
		 "UPDATE t SET id = (SELECT ev_lo + 1 FROM chain WHERE seq = 2);"
		 "INSERT INTO events SELECT * FROM t; DROP TABLE t");
	assert_int_equal(verify(fx, NULL, NULL), 2);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	/* After the last batch: no batch claims it. */
	exec(fx, "CREATE TABLE t AS SELECT * FROM events ORDER BY id DESC LIMIT 1;"
		 "UPDATE t SET id = id + 1000000000000;"
		 "INSERT INTO events SELECT * FROM t; DROP TABLE t");
	assert_int_equal(verify(fx, NULL, NULL), 5);
}

static void test_edit_lookups_and_bodies(void **state)
{
	struct fixture *fx = *state;
	build(fx, false);
	exec(fx, "UPDATE zones SET name = 'gamma.org' WHERE name = 'beta.net'");
	assert_int_equal(verify(fx, NULL, NULL), 4);
	exec(fx, "UPDATE zones SET name = 'delta.org' WHERE name = 'alpha.com'");
	assert_int_equal(verify(fx, NULL, NULL), 1);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	/* "a=two" is first referenced by batch 1, again by batch 2. */
	exec(fx, "UPDATE bodies SET data = 'a=TWO' WHERE CAST(data AS TEXT) = 'a=two'");
	assert_int_equal(verify(fx, NULL, NULL), 1);
	exec(fx, "DELETE FROM bodies WHERE CAST(data AS TEXT) = 'a=4'");
	assert_int_equal(verify(fx, NULL, NULL), 1);
}

static void test_dns_aggregates(void **state)
{
	struct fixture *fx = *state;
	char sql[256];
	build(fx, false);
	snprintf(sql, sizeof(sql), "UPDATE dns_minute SET count = count - 1 WHERE minute = %u",
		 MIN0 + 60);
	exec(fx, sql);
	assert_int_equal(verify(fx, NULL, NULL), 3);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	/* Same count, another name: the key sum differs. */
	exec(fx, "UPDATE dns_minute SET qname = 'z.alpha.com' WHERE qname = 'x.alpha.com'");
	assert_int_equal(verify(fx, NULL, NULL), 1);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	snprintf(sql, sizeof(sql), "DELETE FROM dns_minute WHERE minute = %u", MIN0 + 60);
	exec(fx, sql);
	assert_int_equal(verify(fx, NULL, NULL), 3);
}

static void test_chain_records(void **state)
{
	struct fixture *fx = *state;
	build(fx, false);
	exec(fx, "UPDATE chain SET rows = rows + 1 WHERE seq = 2");
	assert_int_equal(verify(fx, NULL, NULL), 2);
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, false);
	exec(fx, "DELETE FROM chain WHERE seq = 2");
	assert_int_equal(verify(fx, NULL, NULL), 2);
}

static void test_signed_manifests(void **state)
{
	struct fixture *fx = *state;
	struct store_verify_result r;
	build(fx, true);
	assert_int_equal(verify(fx, fx->pub, &r), 0);
	assert_int_equal(r.manifests, 1);
	assert_int_equal(r.manifests_signed, 1);
	/* Another key. */
	char other_key[700];
	snprintf(other_key, sizeof(other_key), "%s/other.key", fx->tmp.dir);
	snprintf(fx->other_pub, sizeof(fx->other_pub), "%s/other.key.pub", fx->tmp.dir);
	write_key(other_key, fx->other_pub);
	assert_int_equal(verify(fx, fx->other_pub, NULL), 1);
	/* Without a key the chain alone still verifies. */
	assert_int_equal(verify(fx, NULL, NULL), 0);
	/* One bit of the signature. */
	exec(fx, "UPDATE manifests SET sig = x'00' || substr(sig, 2)");
	assert_int_equal(verify(fx, fx->pub, NULL), 1);
	/* Or the manifest's counts (the signature no longer covers them). */
	tmpdir_remove(&fx->tmp);
	tmpdir_make(&fx->tmp);
	build(fx, true);
	exec(fx, "UPDATE manifests SET events = events + 1");
	assert_int_equal(verify(fx, fx->pub, NULL), 1);
}

static int count_manifest(const struct store_manifest *m, void *ctx)
{
	(*(int *)ctx)++;
	assert_true(m->is_signed);
	assert_int_equal(m->seq_lo, 1);
	assert_int_equal(m->seq_hi, 4);
	return 0;
}

static void test_manifests_by_time(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	int n = 0;
	build(fx, true);
	assert_int_equal(store_open(&st, fx->tmp.db, true), 0);
	assert_int_equal(store_manifests(st, T0_NS, T0_NS + 10 * SEC_NS, count_manifest, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_manifests(st, T0_NS + 3600 * SEC_NS, 0, count_manifest, &n), 0);
	assert_int_equal(n, 0);
	store_close(st);
}

static void test_rollback_keeps_chain(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	build(fx, false);
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	exec(fx,
	     "CREATE TRIGGER fail BEFORE INSERT ON capture BEGIN SELECT RAISE(ABORT, 'x'); END");
	struct sinkd_event e = http(fx, T0_NS + 90 * SEC_NS, "www.alpha.com", "/f.png", "a=f");
	assert_int_equal(store_write_aggs(st, NULL, 0, &e, 1), SINKD_ESTORE);
	exec(fx, "DROP TRIGGER fail");
	e = http(fx, T0_NS + 91 * SEC_NS, "www.alpha.com", "/g.png", "a=g");
	assert_int_equal(store_write_aggs(st, NULL, 0, &e, 1), 0);
	store_close(st);
	struct store_verify_result r;
	assert_int_equal(verify(fx, NULL, &r), 0);
	assert_int_equal(r.records, 5);
	assert_int_equal(r.manifests, 2);
}

/* Retention deletes the rows of batches 1 and 2 (all older than the
 * cutoff) but keeps batch 3's late row, which sits in batch 1's range;
 * then the DNS minutes before MIN0 + 60. Verify passes after each step,
 * and still finds an edit in a kept batch. */
static void test_retention(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	struct store_verify_result r;
	bool more = true;
	build(fx, false);
	long long rows = sql_int(fx->tmp.db, "SELECT COUNT(*) FROM events");
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	assert_int_equal(store_prune_step(st, T0_NS + 50 * SEC_NS, 0, 5000, &more), 0);
	assert_true(more);
	assert_int_equal(store_prune_step(st, T0_NS + 50 * SEC_NS, 0, 5000, &more), 0);
	assert_false(more); /* batch 3 has events after the cutoff */
	struct store_stats ss;
	store_stats(st, &ss);
	assert_int_equal(ss.retention_steps, 1);
	store_close(st);
	/* Batch 1: 4 rows, batch 2: 3 rows, minus none kept of theirs. */
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM events"), rows - 7);
	assert_int_equal(
	    sql_int(fx->tmp.db, "SELECT COUNT(*) FROM capture WHERE target = '/late.png'"), 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT pruned_seq FROM chain WHERE kind = 2"), 2);
	assert_int_equal(verify(fx, NULL, &r), 0);
	assert_int_equal(r.content_checked, 2);
	assert_int_equal(r.pruned_seq, 2);

	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	assert_int_equal(store_prune_step(st, T0_NS + 50 * SEC_NS, MIN0 + 60, 5000, &more), 0);
	store_close(st);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM dns_minute"), 1);
	assert_int_equal(verify(fx, NULL, &r), 0);
	assert_int_equal(r.dns_minutes, 1);
	assert_int_equal(r.prunes, 2);

	/* New batches after pruning chain on. */
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	struct sinkd_event e = http(fx, T0_NS + 100 * SEC_NS, "www.alpha.com", "/n.png", "a=n");
	assert_int_equal(store_write_aggs(st, NULL, 0, &e, 1), 0);
	store_close(st);
	assert_int_equal(verify(fx, NULL, NULL), 0);
	exec(fx, "UPDATE capture SET target = '/x.png' WHERE target = '/late.png'");
	assert_int_equal(verify(fx, NULL, NULL), 3);
}

/* A signing key others can read is refused, with the fix in the message. */
static void test_key_mode_refused(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	snprintf(fx->key, sizeof(fx->key), "%s/ev.key", fx->tmp.dir);
	snprintf(fx->pub, sizeof(fx->pub), "%s/ev.key.pub", fx->tmp.dir);
	write_key(fx->key, fx->pub);
	assert_int_equal(store_open(&st, fx->tmp.db, false), 0);
	assert_int_equal(chmod(fx->key, 0640), 0);
	assert_int_equal(store_evidence_setup(st, fx->key, 0), SINKD_EINVAL);
	assert_int_equal(chmod(fx->key, 0600), 0);
	assert_int_equal(store_evidence_setup(st, fx->key, 0), 0);
	assert_int_equal(store_evidence_setup(st, fx->pub, 0), SINKD_EINVAL); /* not private */
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_chain_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_row_in_each_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_late_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_lookups_and_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_aggregates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_manifests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifests_by_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_keeps_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_mode_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
