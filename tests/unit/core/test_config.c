#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"

static char tmp_dir[1024];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup_tmp(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	mkdir(base, 0700);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/test_config-XXXXXX", base);
	return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int teardown_tmp(void **state) { return nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Write text to tmp_dir/name; returns the path (static, one at a time per slot). */
static const char *write_file(const char *name, const char *text)
{
	static char paths[4][1100];
	static int slot;
	char *path = paths[slot++ % 4];
	snprintf(path, sizeof(paths[0]), "%s/%s", tmp_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = NULL;
	size_t cap = 0;
	FILE *mem = open_memstream(&text, &cap);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, mem);
	fclose(mem);
	fclose(f);
	return text;
}

/* config_load with the error stream captured into *errors (caller frees). */
static int load(struct sinkd_config *cfg, const char *path, char **errors)
{
	size_t len;
	FILE *mem = open_memstream(errors, &len);
	int ret = config_load(cfg, path, mem);
	fclose(mem);
	return ret;
}

static void assert_loads_clean(struct sinkd_config *cfg, const char *path)
{
	char *errors;
	int ret = load(cfg, path, &errors);
	assert_string_equal(errors, "");
	assert_int_equal(ret, 0);
	free(errors);
}

/* Two configs are the same value (path aside). */
static void assert_same_config(const struct sinkd_config *a, const struct sinkd_config *b)
{
	struct sinkd_config x = *a, y = *b;
	memset(x.path, 0, sizeof(x.path));
	memset(y.path, 0, sizeof(y.path));
	assert_memory_equal(&x, &y, sizeof(x));
}

static void test_defaults(void **state)
{
	struct sinkd_config c;
	config_defaults(&c);
	assert_string_equal(c.path, "");
	assert_string_equal(c.user, "");
	assert_int_equal(c.workers, 1);
	assert_string_equal(c.log_level, "info");
	assert_int_equal(c.n_dns_listen, 1);
	assert_string_equal(c.dns_listen[0].text, "127.0.0.1:5353");
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c.dns_listen[0].ss;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 5353);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(c.dns_listen[0].len, sizeof(struct sockaddr_in));
	assert_true(c.dns_tcp);
	assert_false(c.dns_log_every_query);
	assert_int_equal(c.n_sinkhole, 2);
	assert_int_equal(c.sinkhole[0].af, AF_INET);
	assert_string_equal(c.sinkhole[0].text, "127.0.0.1");
	assert_int_equal(c.sinkhole[1].af, AF_INET6);
	assert_string_equal(c.sinkhole[1].text, "::1");
	assert_int_equal(c.n_nameserver, 2);
	assert_string_equal(c.nameserver[0], "ns1");
	assert_string_equal(c.nameserver[1], "ns2");
	assert_int_equal(c.n_ns_addr, 2);
	assert_memory_equal(c.ns_addr, c.sinkhole, 2 * sizeof(c.sinkhole[0]));
	assert_string_equal(c.mx_name, "mail");
	assert_int_equal(c.ttl, 300);
	assert_string_equal(c.soa_rname, "hostmaster");
	assert_int_equal(c.soa_serial, 0);
	assert_int_equal(c.soa_refresh, 3600);
	assert_int_equal(c.soa_retry, 600);
	assert_int_equal(c.soa_expire, 1209600);
	assert_int_equal(c.soa_minimum, 300);
	assert_int_equal(c.edns_udp_size, 1232);
	assert_string_equal(c.nsid, "");
	assert_string_equal(c.cookie_secret, "");
	assert_int_equal(c.tcp_idle_timeout_ms, 10000);
	assert_int_equal(c.tcp_max_clients, 1024);
	assert_true(c.rrl_enabled);
	assert_int_equal(c.rrl_rate, 20);
	assert_int_equal(c.rrl_slip, 2);
	assert_int_equal(c.rrl_ipv4_prefix, 24);
	assert_int_equal(c.rrl_ipv6_prefix, 56);
	assert_int_equal(c.rrl_table_size, 65536);
	assert_string_equal(c.domains_file, SINKD_DATA_DIR "/waledac-domains.txt");
	assert_string_equal(c.store_path, "sinkd.db");
	assert_int_equal(c.store_commit_interval_ms, 1000);
	assert_int_equal(c.store_batch_max, 10000);
	assert_int_equal(c.queue_size, 65536);
}

/* Every key away from its default, with the syntax variations allowed. */
static const char full_conf[] = "; a full configuration\n"
				"# hash comments too\n"
				"[server]\n"
				"user = sinkd\n"
				"workers = 4\n"
				"log_level = debug\n"
				"\n"
				"[ DNS ]\n"
				"listen = 0.0.0.0:53\n"
				"listen = [::]:53\n"
				"\tlisten = [2001:db8::1]:5300 ; indented, with an inline comment\n"
				"tcp = off\n"
				"log_every_query = TRUE\n"
				"sinkhole = 192.0.2.1\n"
				"sinkhole = 2001:db8::53\n"
				"nameserver = ns1.sinkhole.example.\n"
				"nameserver = ns-b\n"
				"ns_address = 198.51.100.7\n"
				"mx =\n"
				"ttl = 60\n"
				"soa_rname = abuse.example.org.\n"
				"soa_serial = 4294967295\n"
				"soa_refresh = 7200\n"
				"soa_retry = 900\n"
				"soa_expire = 2419200\n"
				"soa_minimum = 60\n"
				"edns_udp_size = 4096\n"
				"nsid = sinkd test node 1\n"
				"cookie_secret = 0123456789abcdef0123456789ABCDEF\n"
				"tcp_idle_timeout_ms = 2500\n"
				"tcp_max_clients : 99\n"
				"\n"
				"[rrl]\n"
				"enabled = 0\n"
				"rate = 5\n"
				"slip = 0\n"
				"ipv4_prefix = 32\n"
				"ipv6_prefix = 128\n"
				"table_size = 1024\n"
				"[domains]\n"
				"file = /var/lib/sinkd/domains.txt\n"
				"[store]\n"
				"path = /var/lib/sinkd/sinkd.db\n"
				"commit_interval_ms = 250\n"
				"batch_max = 500\n"
				"[pipeline]\n"
				"queue_size = 1024\n";

static void test_full_file(void **state)
{
	struct sinkd_config c;
	const char *path = write_file("full.conf", full_conf);
	assert_loads_clean(&c, path);
	assert_string_equal(c.path, path);
	assert_string_equal(c.user, "sinkd");
	assert_int_equal(c.workers, 4);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.n_dns_listen, 3);
	assert_string_equal(c.dns_listen[0].text, "0.0.0.0:53");
	assert_string_equal(c.dns_listen[1].text, "[::]:53");
	assert_string_equal(c.dns_listen[2].text, "[2001:db8::1]:5300");
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c.dns_listen[2].ss;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 5300);
	assert_int_equal(c.dns_listen[2].len, sizeof(struct sockaddr_in6));
	assert_false(c.dns_tcp);
	assert_true(c.dns_log_every_query);
	assert_int_equal(c.n_sinkhole, 2);
	assert_string_equal(c.sinkhole[0].text, "192.0.2.1");
	static const uint8_t v4[4] = {192, 0, 2, 1};
	assert_memory_equal(c.sinkhole[0].ip, v4, 4);
	assert_int_equal(c.sinkhole[1].af, AF_INET6);
	assert_int_equal(c.sinkhole[1].ip[15], 0x53);
	assert_int_equal(c.n_nameserver, 2);
	assert_string_equal(c.nameserver[0], "ns1.sinkhole.example.");
	assert_string_equal(c.nameserver[1], "ns-b");
	assert_int_equal(c.n_ns_addr, 1);
	assert_string_equal(c.ns_addr[0].text, "198.51.100.7");
	assert_string_equal(c.mx_name, "");
	assert_int_equal(c.ttl, 60);
	assert_string_equal(c.soa_rname, "abuse.example.org.");
	assert_int_equal(c.soa_serial, 4294967295u);
	assert_int_equal(c.soa_refresh, 7200);
	assert_int_equal(c.soa_retry, 900);
	assert_int_equal(c.soa_expire, 2419200);
	assert_int_equal(c.soa_minimum, 60);
	assert_int_equal(c.edns_udp_size, 4096);
	assert_string_equal(c.nsid, "sinkd test node 1");
	assert_string_equal(c.cookie_secret, "0123456789abcdef0123456789ABCDEF");
	assert_int_equal(c.tcp_idle_timeout_ms, 2500);
	assert_int_equal(c.tcp_max_clients, 99);
	assert_false(c.rrl_enabled);
	assert_int_equal(c.rrl_rate, 5);
	assert_int_equal(c.rrl_slip, 0);
	assert_int_equal(c.rrl_ipv4_prefix, 32);
	assert_int_equal(c.rrl_ipv6_prefix, 128);
	assert_int_equal(c.rrl_table_size, 1024);
	assert_string_equal(c.domains_file, "/var/lib/sinkd/domains.txt");
	assert_string_equal(c.store_path, "/var/lib/sinkd/sinkd.db");
	assert_int_equal(c.store_commit_interval_ms, 250);
	assert_int_equal(c.store_batch_max, 500);
	assert_int_equal(c.queue_size, 1024);
}

static void test_repeat_replaces_default(void **state)
{
	struct sinkd_config c;
	const char *path = write_file("sinkhole.conf", "[dns]\nsinkhole = 192.0.2.9\n"
						       "sinkhole = 192.0.2.10\n");
	assert_loads_clean(&c, path);
	assert_int_equal(c.n_sinkhole, 2);
	assert_string_equal(c.sinkhole[0].text, "192.0.2.9");
	assert_string_equal(c.sinkhole[1].text, "192.0.2.10");
	/* Without ns_address, the glue follows the sinkhole list. */
	assert_int_equal(c.n_ns_addr, 2);
	assert_memory_equal(c.ns_addr, c.sinkhole, sizeof(c.sinkhole));
	/* Untouched lists keep their defaults. */
	assert_int_equal(c.n_dns_listen, 1);
	assert_int_equal(c.n_nameserver, 2);
}

static void test_bom_crlf(void **state)
{
	struct sinkd_config c;
	const char *path = write_file("crlf.conf", "\xEF\xBB\xBF[dns]\r\nttl = 42\r\n"
						   "\r\n[rrl]\r\nenabled = no\r\n");
	assert_loads_clean(&c, path);
	assert_int_equal(c.ttl, 42);
	assert_false(c.rrl_enabled);
}

/* Every error class in one file: all are reported, each on its own line. */
static const char bad_conf[] = "ttl = 5\n"				 /* 1 */
			       "[dns]\n"				 /* 2 */
			       "tll = 300\n"				 /* 3 */
			       "ttl = abc\n"				 /* 4 */
			       "edns_udp_size = 9000\n"			 /* 5 */
			       "listen = 127.0.0.1\n"			 /* 6 */
			       "sinkhole = 10.0.0.300\n"		 /* 7 */
			       "tcp = maybe\n"				 /* 8 */
			       "ttl = 60\n"				 /* 9 */
			       "this line has no equals sign\n"		 /* 10 */
			       "[nosuch]\n"				 /* 11 */
			       "key = ignored in an unknown section\n"	 /* 12 */
			       "[rrl]\n"				 /* 13 */
			       "ttl = 1\n"				 /* 14 */
			       "rate = -1\n"				 /* 15 */
			       "ipv4_prefix = 99999999999999999999999\n" /* 16 */
			       "table_size = 12abc\n"			 /* 17 */
			       "[dns]\n"				 /* 18 */
			       "nameserver = a\n"			 /* 19 */
			       "nameserver = b\n"			 /* 20 */
			       "nameserver = c\n"			 /* 21 */
			       "nameserver = d\n"			 /* 22 */
			       "nameserver = e\n"			 /* 23 */
			       "cookie_secret = xyz\n"			 /* 24 */
			       "nsid = %s\n"				 /* 25 */
			       "mx = bad..name\n"			 /* 26 */
			       "sinkhole = 192.0.2.1\n"			 /* 27 */
			       "sinkhole = 192.0.2.1\n"			 /* 28 */
			       "soa_rname =\n"				 /* 29 */
			       "[srever]\n"				 /* 30 */
			       "[server]\n"				 /* 31 */
			       "workers = 0\n"				 /* 32 */
			       "log_level = verbose\n"			 /* 33 */
			       "[store]\n"				 /* 34 */
			       "path = \"sinkd.db\"\n"			 /* 35 */
			       "= 5\n"					 /* 36 */
			       "[pipeline\n"				 /* 37 */
			       "queue_size = 1\n";			 /* 38 */

static const char bad_expected[] =
    "%1$s:1: key 'ttl' is outside any section (add a [section] header above it)\n"
    "%1$s:3: unknown key 'tll' in [dns] (did you mean 'ttl'?)\n"
    "%1$s:4: [dns] ttl: 'abc' is not a number (expected 0..2147483647)\n"
    "%1$s:5: [dns] edns_udp_size: 9000 is out of range (expected 512..4096)\n"
    "%1$s:6: [dns] listen: '127.0.0.1' is not an address with port (expected e.g. "
    "127.0.0.1:5353 or [::1]:5353)\n"
    "%1$s:7: [dns] sinkhole: '10.0.0.300' is not an IPv4 or IPv6 address (expected e.g. "
    "192.0.2.1 or 2001:db8::1, no port)\n"
    "%1$s:8: [dns] tcp: 'maybe' is not a boolean (expected yes/no/true/false/on/off/1/0)\n"
    "%1$s:9: [dns] ttl: set twice (first on line 4); keep one\n"
    "%1$s:10: syntax error: expected 'key = value' or '[section]'\n"
    "%1$s:11: unknown section [nosuch] (expected [server], [dns], [rrl], [domains], [store], "
    "[pipeline], [capture], [http], [tls], [catchall], [monitor], [proxy], [cluster], "
    "[decode], [rules], [enrich], [stats], [admin], [evidence], [retention] or [privacy])\n"
    "%1$s:14: unknown key 'ttl' in [rrl] (it belongs in [dns])\n"
    "%1$s:15: [rrl] rate: '-1' is not a number (expected 1..1000000)\n"
    "%1$s:16: [rrl] ipv4_prefix: 99999999999999999999999 is out of range (expected 8..32)\n"
    "%1$s:17: [rrl] table_size: '12abc' is not a number (expected 64..16777216)\n"
    "%1$s:23: [dns] nameserver: too many values (at most 4; remove one)\n"
    "%1$s:24: [dns] cookie_secret: 'xyz' is not 32 hex characters (make one with: openssl "
    "rand -hex 16)\n"
    "%1$s:25: line is too long (256 characters, at most 199)\n"
    "%1$s:26: [dns] mx: 'bad..name' has an empty label (look for '..' or a leading dot)\n"
    "%1$s:28: [dns] sinkhole: '192.0.2.1' is listed twice (remove one)\n"
    "%1$s:29: [dns] soa_rname: must not be empty\n"
    "%1$s:30: unknown section [srever] (did you mean [server]?)\n"
    "%1$s:32: [server] workers: 0 is out of range (expected 1..256)\n"
    "%1$s:33: [server] log_level: 'verbose' is not a log level (expected error, warning, "
    "info or debug)\n"
    "%1$s:35: [store] path: remove the quotes around the value (values are never quoted)\n"
    "%1$s:36: syntax error: missing key name before '='\n"
    "%1$s:37: syntax error: section header without a closing ']'\n";

static void test_all_errors_reported(void **state)
{
	char nsid[250];
	memset(nsid, 'n', sizeof(nsid) - 1);
	nsid[sizeof(nsid) - 1] = '\0';
	char text[4096], expected[8192];
	snprintf(text, sizeof(text), bad_conf, nsid);
	const char *path = write_file("bad.conf", text);
	snprintf(expected, sizeof(expected), bad_expected, path);

	struct sinkd_config c;
	char *errors;
	assert_int_equal(load(&c, path, &errors), SINKD_EPARSE);
	assert_string_equal(errors, expected);
	free(errors);
}

static void test_error_prefix(const char *text, const char *expected_tail)
{
	const char *path = write_file("one.conf", text);
	char expected[2048];
	snprintf(expected, sizeof(expected), "%s:%s\n", path, expected_tail);
	struct sinkd_config c;
	char *errors;
	assert_int_equal(load(&c, path, &errors), SINKD_EPARSE);
	assert_string_equal(errors, expected);
	free(errors);
}

static void test_single_errors(void **state)
{
	test_error_prefix("[admin]\nlisten = 0.0.0.0:8090\n",
			  "2: [admin] listen: 0.0.0.0:8090 is not a loopback address: set token, "
			  "token_file or client_ca_file, or listen on 127.0.0.1");
	test_error_prefix("[admin]\nlisten = 8090\n",
			  "2: [admin] listen: '8090' is not address:port or off");
	test_error_prefix("[admin]\ntoken = a\ntoken_file = /x\n",
			  "3: [admin] token and token_file: set one of them");
	test_error_prefix("[admin]\ncert_file = /c.pem\n",
			  "2: [admin] cert_file and key_file go together: set both, or neither");
	test_error_prefix("[dns]\n\n  tll = 1\n",
			  "3: unknown key 'tll' in [dns] (did you mean 'ttl'?)");
	test_error_prefix("[dns]\nzzzzzz = 1\n",
			  "2: unknown key 'zzzzzz' in [dns] (see docs/config.md for its keys)");
	test_error_prefix("[bogus]\n", "1: unknown section [bogus] (expected [server], [dns], "
				       "[rrl], [domains], [store], [pipeline], [capture], [http], "
				       "[tls], [catchall], [monitor], [proxy], [cluster], [decode], "
				       "[rules], [enrich], [stats], [admin], [evidence], [retention] or [privacy])");
	test_error_prefix("[rrl]\nslip = 101\n",
			  "2: [rrl] slip: 101 is out of range (expected 0..100)");
	test_error_prefix("[rrl]\nslip = 1 0\n",
			  "2: [rrl] slip: '1 0' is not a number (expected 0..100)");
	test_error_prefix("[rrl]\nslip = +1\n",
			  "2: [rrl] slip: '+1' is not a number (expected 0..100)");
	test_error_prefix("[dns]\nttl = 2147483648\n",
			  "2: [dns] ttl: 2147483648 is out of range (expected 0..2147483647)");
	test_error_prefix("[dns]\nlisten = ::1:53\n",
			  "2: [dns] listen: '::1:53' is not an address with port (expected e.g. "
			  "127.0.0.1:5353 or [::1]:5353)");
	test_error_prefix("[dns]\nns_address = 192.0.2.1:53\n",
			  "2: [dns] ns_address: '192.0.2.1:53' is not an IPv4 or IPv6 address "
			  "(expected e.g. 192.0.2.1 or 2001:db8::1, no port)");
	test_error_prefix("[rrl]\nenabled = 2\n", "2: [rrl] enabled: '2' is not a boolean "
						  "(expected yes/no/true/false/on/off/1/0)");
	test_error_prefix("[dns]\nnameserver = ns_1.ex ample\n",
			  "2: [dns] nameserver: 'ns_1.ex ample' may contain only letters, digits, "
			  "'-', '_' and dots");
	test_error_prefix("[dns]\n[rrl\n", "2: syntax error: section header without a closing ']'");
	test_error_prefix("[dns] x\n", "1: syntax error: unexpected text after ']'");
}

static void test_too_many_listen(void **state)
{
	char text[1024] = "[dns]\n";
	for (int i = 0; i < CONFIG_MAX_LISTEN + 1; i++) {
		char line[64];
		snprintf(line, sizeof(line), "listen = 127.0.0.%d:53\n", i + 1);
		strcat(text, line);
	}
	test_error_prefix(text, "10: [dns] listen: too many values (at most 8; remove one)");
}

/* An overlong line is one error; the lines after it keep their numbers and
 * its tail is not parsed as a line of its own. */
static void test_overlong_line(void **state)
{
	char text[2048];
	char value[400];
	memset(value, '1', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text), "[dns]\nnsid = %s\nttl = x\n", value);
	const char *path = write_file("long.conf", text);
	char expected[2048];
	snprintf(expected, sizeof(expected),
		 "%1$s:2: line is too long (406 characters, at most 199)\n"
		 "%1$s:3: [dns] ttl: 'x' is not a number (expected 0..2147483647)\n",
		 path);
	struct sinkd_config c;
	char *errors;
	assert_int_equal(load(&c, path, &errors), SINKD_EPARSE);
	assert_string_equal(errors, expected);
	free(errors);

	/* 199 characters is still fine. */
	memset(value, 'a', 192);
	value[192] = '\0';
	snprintf(text, sizeof(text), "[dns]\nnsid = %.120s\n", value);
	assert_loads_clean(&c, write_file("ok.conf", text));
	snprintf(text, sizeof(text), "[store]\npath = %s\n", value);
	assert_int_equal(strlen(text), 8 + 199 + 1);
	assert_loads_clean(&c, write_file("ok.conf", text));
	assert_string_equal(c.store_path, value);
}

static void test_missing_file(void **state)
{
	char path[1100], expected[1200];
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmp_dir);
	snprintf(expected, sizeof(expected), "%s: cannot open: No such file or directory\n", path);
	struct sinkd_config c;
	char *errors;
	assert_int_equal(load(&c, path, &errors), SINKD_EIO);
	assert_string_equal(errors, expected);
	free(errors);

	snprintf(expected, sizeof(expected), "%s: cannot read: Is a directory\n", tmp_dir);
	assert_int_equal(load(&c, tmp_dir, &errors), SINKD_EIO);
	assert_string_equal(errors, expected);
	free(errors);
}

static void test_dump_roundtrip(void **state)
{
	struct sinkd_config a, b;
	char *text;
	size_t len;

	config_defaults(&a);
	FILE *mem = open_memstream(&text, &len);
	config_dump(&a, mem);
	fclose(mem);
	assert_non_null(strstr(text, "\n[dns]\nlisten = 127.0.0.1:5353\n"));
	assert_non_null(strstr(text, "\nsinkhole = 127.0.0.1\nsinkhole = ::1\n"));
	assert_non_null(strstr(text, "\nnsid =\n"));
	assert_loads_clean(&b, write_file("dump-defaults.conf", text));
	assert_same_config(&a, &b);
	free(text);

	assert_loads_clean(&a, write_file("full.conf", full_conf));
	mem = open_memstream(&text, &len);
	config_dump(&a, mem);
	fclose(mem);
	assert_loads_clean(&b, write_file("dump-full.conf", text));
	assert_same_config(&a, &b);
	free(text);
}

/* Run config_cli with stdout and stderr captured. */
static int run_cli(char **out, char **err, int argc, ...)
{
	char *argv[8];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;

	char out_path[1100], err_path[1100];
	snprintf(out_path, sizeof(out_path), "%s/cli.out", tmp_dir);
	snprintf(err_path, sizeof(err_path), "%s/cli.err", tmp_dir);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	int ret = config_cli(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(fo);
	close(fe);
	close(saved_out);
	close(saved_err);
	*out = read_all(out_path);
	*err = read_all(err_path);
	return ret;
}

static void test_cli(void **state)
{
	char *out, *err;
	char good[1100], bad[1100], dumped[1100], expect[1200];
	snprintf(good, sizeof(good), "%s", write_file("cli-good.conf", full_conf));
	snprintf(bad, sizeof(bad), "%s", write_file("cli-bad.conf", "[dns]\nttl = -1\n"));

	assert_int_equal(run_cli(&out, &err, 3, "config", "check", good), 0);
	snprintf(expect, sizeof(expect), "%s: ok\n", good);
	assert_string_equal(out, expect);
	assert_string_equal(err, "");
	free(out), free(err);

	assert_int_equal(run_cli(&out, &err, 3, "config", "check", bad), 1);
	snprintf(expect, sizeof(expect),
		 "%s:2: [dns] ttl: '-1' is not a number (expected 0..2147483647)\n", bad);
	assert_string_equal(out, "");
	assert_string_equal(err, expect);
	free(out), free(err);

	/* dump -c FILE | check round-trips. */
	assert_int_equal(run_cli(&out, &err, 4, "config", "dump", "-c", good), 0);
	assert_string_equal(err, "");
	snprintf(dumped, sizeof(dumped), "%s", write_file("cli-dumped.conf", out));
	free(out), free(err);
	assert_int_equal(run_cli(&out, &err, 3, "config", "check", dumped), 0);
	free(out), free(err);
	struct sinkd_config a, b;
	assert_loads_clean(&a, good);
	assert_loads_clean(&b, dumped);
	assert_same_config(&a, &b);

	assert_int_equal(run_cli(&out, &err, 2, "config", "dump"), 0);
	assert_non_null(strstr(out, "[pipeline]\nqueue_size = 65536\n"));
	free(out), free(err);
	assert_int_equal(run_cli(&out, &err, 4, "config", "dump", "-c", bad), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, ":2: [dns] ttl:"));
	free(out), free(err);

	assert_int_equal(run_cli(&out, &err, 2, "config", "--help"), 0);
	assert_non_null(strstr(out, "usage: sinkd config check FILE"));
	free(out), free(err);

	static const char *const bad_usage[][4] = {
	    {"config"},
	    {"config", "frob"},
	    {"config", "check"},
	    {"config", "check", "a", "b"},
	    {"config", "dump", "-c"},
	    {"config", "dump", "x"},
	};
	static const int bad_argc[] = {1, 2, 2, 4, 3, 3};
	for (size_t i = 0; i < sizeof(bad_argc) / sizeof(bad_argc[0]); i++) {
		const char *const *v = bad_usage[i];
		int ret = run_cli(&out, &err, bad_argc[i], v[0], v[1], v[2], v[3]);
		assert_int_equal(ret, 2);
		assert_string_equal(out, "");
		assert_non_null(strstr(err, "usage: sinkd config"));
		free(out), free(err);
	}
}

static void test_parse_addresses(void **state)
{
	struct config_sockaddr sa;
	assert_int_equal(config_parse_sockaddr("[::1]:53", &sa), 0);
	assert_int_equal(sa.ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&sa.ss)->sin6_port), 53);
	assert_string_equal(sa.text, "[::1]:53");
	assert_int_equal(config_parse_sockaddr("192.0.2.1:65535", &sa), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&sa.ss)->sin_port), 65535);

	static const char *const bad_sa[] = {
	    "192.0.2.1",     "192.0.2.1:",
	    "192.0.2.1:0",   "192.0.2.1:65536",
	    "192.0.2.1:53x", "192.0.2.1:-5",
	    "::1:53",	     "[::1]",
	    "[::1]53",	     "[192.0.2.1]:53",
	    "[]:53",	     "host:53",
	    ":53",	     "",
	    "192.0.2.1: 53",
	};
	for (size_t i = 0; i < sizeof(bad_sa) / sizeof(bad_sa[0]); i++) {
		if (config_parse_sockaddr(bad_sa[i], &sa) != SINKD_EINVAL)
			fail_msg("accepted '%s'", bad_sa[i]);
	}

	struct config_ipaddr ip;
	assert_int_equal(config_parse_ipaddr("2001:db8::1", &ip), 0);
	assert_int_equal(ip.af, AF_INET6);
	assert_int_equal(ip.ip[0], 0x20);
	assert_int_equal(ip.ip[15], 1);
	assert_int_equal(config_parse_ipaddr("0.0.0.0", &ip), 0);
	assert_int_equal(ip.af, AF_INET);
	static const char *const bad_ip[] = {"", "1.2.3", "1.2.3.4:53", "[::1]", "::g", "a.b.c.d"};
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		if (config_parse_ipaddr(bad_ip[i], &ip) != SINKD_EINVAL)
			fail_msg("accepted '%s'", bad_ip[i]);
	}
}

/* etc/sinkd.conf shows every key at its default: loading it changes nothing. */
static void test_decode_keys(void **state)
{
	const char *path = write_file("keys.conf", "[decode]\n"
						   "waledac_key = 000102030405060708090a0b0c0d0e0f, "
						   "F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF\n"
						   "waledac_key = 00000000000000000000000000000001\n"
						   "waledac_iv = 0102030405060708090a0b0c0d0e0f10\n"
						   "[pipeline]\nshapes_max = 100\n");
	struct sinkd_config c;
	assert_loads_clean(&c, path);
	assert_int_equal(c.n_decode_waledac_key, 3);
	assert_int_equal(c.decode_waledac_key[0].key[15], 0x0f);
	assert_int_equal(c.decode_waledac_key[1].key[0], 0xf0);
	assert_int_equal(c.decode_waledac_key[2].key[15], 0x01);
	assert_string_equal(c.decode_waledac_iv, "0102030405060708090a0b0c0d0e0f10");
	assert_int_equal(c.shapes_max, 100);
	test_error_prefix("[decode]\nwaledac_key = 0011, 00112233445566778899aabbccddeeff\n",
			  "2: [decode] waledac_key: '0011' is not a 128-bit key as 32 hex digits "
			  "(several: a comma list or repeated lines)");
	test_error_prefix("[decode]\nwaledac_key = 00112233445566778899aabbccddeeff,"
			  "00112233445566778899AABBCCDDEEFF\n",
			  "2: [decode] waledac_key: '00112233445566778899AABBCCDDEEFF' is listed "
			  "twice (remove one)");
}

/* [rules] files: a comma list; a repeated line appends (inih limits a line
 * to 199 characters); dump writes one file per line and loads back. */
static void test_rules_files(void **state)
{
	const char *path = write_file("rules.conf", "[rules]\nfiles = a.rules, b.rules\n"
						    "files = /x/c.rules\n");
	struct sinkd_config c, d;
	assert_loads_clean(&c, path);
	assert_string_equal(c.rules_files, "a.rules, b.rules, /x/c.rules");
	char *text = NULL;
	size_t len;
	FILE *mem = open_memstream(&text, &len);
	config_dump(&c, mem);
	fclose(mem);
	assert_non_null(strstr(text, "[rules]\nfiles = a.rules\nfiles = b.rules\n"
				     "files = /x/c.rules\n"));
	assert_loads_clean(&d, write_file("rules-dump.conf", text));
	assert_string_equal(d.rules_files, c.rules_files);
	free(text);
	assert_loads_clean(&c, write_file("norules.conf", "[rules]\nfiles =\n"));
	assert_string_equal(c.rules_files, "");
}

static void test_example_is_defaults(void **state)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s", __FILE__);
	char *cut = strstr(path, "tests/unit/core/test_config.c");
	if (cut == NULL)
		skip();
	strcpy(cut, "etc/sinkd.conf");
	struct sinkd_config a, b;
	config_defaults(&a);
	assert_loads_clean(&b, path);
	assert_same_config(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_repeat_replaces_default),
	    cmocka_unit_test(test_bom_crlf),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_single_errors),
	    cmocka_unit_test(test_too_many_listen),
	    cmocka_unit_test(test_overlong_line),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_dump_roundtrip),
	    cmocka_unit_test(test_cli),
	    cmocka_unit_test(test_parse_addresses),
	    cmocka_unit_test(test_decode_keys),
	    cmocka_unit_test(test_rules_files),
	    cmocka_unit_test(test_example_is_defaults),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
