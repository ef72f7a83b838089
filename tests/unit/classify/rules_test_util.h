/* Helpers shared by the rule-engine unit tests: rule text written to a
 * temporary file and loaded, events with payload sections. Header-only. */
#ifndef SINKD_TEST_RULES_UTIL_H
#define SINKD_TEST_RULES_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "classify/classify.h"
#include "core/error.h"
#include "core/event.h"

/* A rule file path under the test temp directory; n makes it unique. */
static inline void rules_tmp_path(char *out, size_t len, const char *name)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	mkdir(base, 0755);
	snprintf(out, len, "%s/%s-%d.rules", base, name, (int)getpid());
}

static inline void rules_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load text as one rule file; returns the load result, err set. */
static inline int rules_load_text(const char *text, struct classifier **out, char *err,
				  size_t errlen, char *path, size_t pathlen)
{
	rules_tmp_path(path, pathlen, "t");
	rules_write(path, text);
	const char *files[] = {path};
	return classifier_load(out, files, 1, err, errlen);
}

/* An event with a payload buffer of its own. */
struct test_event {
	struct sinkd_event ev;
	uint8_t payload[8192];
};

static inline void tev_init(struct test_event *t, uint8_t kind)
{
	memset(t, 0, sizeof(*t));
	t->ev.kind = kind;
	t->ev.transport = kind == EVENT_DNS ? TRANSPORT_UDP : TRANSPORT_TCP;
	t->ev.dst.port = kind == EVENT_DNS ? 53 : 80;
	t->ev.payload = t->payload;
}

static inline void tev_add(struct test_event *t, uint8_t type, const void *data, size_t len)
{
	assert_int_equal(
	    event_payload_add(t->payload, sizeof(t->payload), &t->ev.payload_len, type, data, len),
	    0);
}

static inline void tev_add_str(struct test_event *t, uint8_t type, const char *s)
{
	tev_add(t, type, s, strlen(s));
}

/* An HTTP request: method, target, header block ("A: b\r\n..."), body. */
static inline void tev_http(struct test_event *t, const char *method, const char *target,
			    const char *headers, const void *body, size_t body_len)
{
	tev_init(t, EVENT_HTTP);
	snprintf(t->ev.http_method, sizeof(t->ev.http_method), "%s", method);
	t->ev.http_version = 11;
	tev_add_str(t, EVP_TARGET, target);
	if (headers != NULL)
		tev_add_str(t, EVP_HEADERS, headers);
	if (body != NULL) {
		tev_add(t, EVP_BODY, body, body_len);
		t->ev.body_len = (uint32_t)body_len;
	}
}

#endif
