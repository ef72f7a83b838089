#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "core/event.h"

static const uint8_t mapped_192_0_2_1[16] = {0, 0, 0,	 0,    0,   0, 0, 0,
					     0, 0, 0xff, 0xff, 192, 0, 2, 1};

static void test_parse_v4(void **state)
{
	struct event_addr a;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(event_addr_parse(&a, "192.0.2.1"), 0);
	assert_memory_equal(a.ip, mapped_192_0_2_1, 16);
	assert_int_equal(a.port, 0);
	assert_true(event_addr_is_v4(&a));
	char buf[46];
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_ptr_equal(event_addr_str(&a, buf, sizeof(buf)), buf);
}

static void test_parse_v6(void **state)
{
	struct event_addr a;
	char buf[46];
	assert_int_equal(event_addr_parse(&a, "2001:db8::1"), 0);
	assert_int_equal(a.ip[0], 0x20);
	assert_int_equal(a.ip[1], 0x01);
	assert_int_equal(a.ip[15], 1);
	assert_false(event_addr_is_v4(&a));
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");

	/* Canonical form on output. */
	assert_int_equal(event_addr_parse(&a, "2001:0DB8:0:0:0:0:0:0001"), 0);
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");

	/* The longest text form fits in 46 bytes. */
	assert_int_equal(event_addr_parse(&a, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"), 0);
	assert_false(event_addr_is_v4(&a));
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_v4_mapped(void **state)
{
	struct event_addr a;
	char buf[46];
	/* A v4-mapped IPv6 text is the same address as the plain IPv4 text. */
	assert_int_equal(event_addr_parse(&a, "::ffff:192.0.2.1"), 0);
	assert_true(event_addr_is_v4(&a));
	assert_memory_equal(a.ip, mapped_192_0_2_1, 16);
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "192.0.2.1");

	/* Near misses are IPv6. */
	static const char *const v6[] = {"::",
					 "::1",
					 "::192.0.2.1",
					 "::fffe:192.0.2.1",
					 "1::ffff:192.0.2.1",
					 "64:ff9b::192.0.2.1"};
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		assert_int_equal(event_addr_parse(&a, v6[i]), 0);
		if (event_addr_is_v4(&a))
			fail_msg("%s taken for IPv4", v6[i]);
	}
	assert_int_equal(event_addr_parse(&a, "0.0.0.0"), 0);
	assert_true(event_addr_is_v4(&a));
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "0.0.0.0");
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {"",		"192.0.2",   "192.0.2.256", "192.0.2.1:53",
					  "[::1]",	"::1/64",    "2001:db8::g", "localhost",
					  " 192.0.2.1", "192.0.2.1 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct event_addr a;
		memset(&a, 0xaa, sizeof(a));
		if (event_addr_parse(&a, bad[i]) != SINKD_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		static const struct event_addr zero;
		assert_memory_equal(&a, &zero, sizeof(a));
	}
}

static void test_from_sockaddr(void **state)
{
	struct event_addr a;
	char buf[46];
	struct sockaddr_in s4;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(5353);
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	event_addr_from_sockaddr(&a, (const struct sockaddr *)&s4);
	assert_memory_equal(a.ip, mapped_192_0_2_1, 16);
	assert_int_equal(a.port, 5353);
	assert_true(event_addr_is_v4(&a));

	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(65535);
	inet_pton(AF_INET6, "2001:db8::53", &s6.sin6_addr);
	event_addr_from_sockaddr(&a, (const struct sockaddr *)&s6);
	assert_int_equal(a.port, 65535);
	assert_false(event_addr_is_v4(&a));
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "2001:db8::53");

	/* A dual-stack socket reports IPv4 peers as v4-mapped IPv6. */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &s6.sin6_addr);
	s6.sin6_port = htons(53);
	event_addr_from_sockaddr(&a, (const struct sockaddr *)&s6);
	assert_true(event_addr_is_v4(&a));
	assert_int_equal(a.port, 53);
	assert_string_equal(event_addr_str(&a, buf, sizeof(buf)), "192.0.2.1");

	/* Same address either way. */
	struct event_addr b;
	event_addr_from_sockaddr(&b, (const struct sockaddr *)&s4);
	assert_memory_equal(a.ip, b.ip, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_v4),	  cmocka_unit_test(test_parse_v6),
	    cmocka_unit_test(test_v4_mapped),	  cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_from_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
