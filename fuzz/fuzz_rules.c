/* Fuzz target: rule files. Any bytes load to a classifier or to one
 * "file:line: message" error (terminated, never a crash); a classifier
 * that loads then labels a fixed set of events (HTTP check-ins, DNS, TLS,
 * raw) without crashing and always sets a family. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classify/classify.h"
#include "classify/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sample {
	struct sinkd_event ev;
	uint8_t payload[512];
};

static void add(struct sample *s, uint8_t type, const void *data, size_t len)
{
	event_payload_add(s->payload, sizeof(s->payload), &s->ev.payload_len, type, data, len);
}

static void make_samples(struct sample *s)
{
	static const char body_w[] = "a=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA&b=eHl6";
	static const uint8_t body_k[] = {1, 2, 1, 1, 1, 1, 2, 1, 0, 0xff, 7, 9};
	static const char hdr[] = "Host: www.bestchristmascard.com\r\nReferer: Mozilla\r\n"
				  "User-Agent: Mozilla\r\nContent-Length: 12\r\n";
	memset(s, 0, 5 * sizeof(*s));
	for (int i = 0; i < 5; i++) {
		s[i].ev.payload = s[i].payload;
		s[i].ev.transport = TRANSPORT_TCP;
		s[i].ev.dst.port = 80;
	}
	s[0].ev.kind = EVENT_HTTP;
	snprintf(s[0].ev.http_method, sizeof(s[0].ev.http_method), "POST");
	snprintf(s[0].ev.qname, sizeof(s[0].ev.qname), "www.bestchristmascard.com");
	snprintf(s[0].ev.zone, sizeof(s[0].ev.zone), "bestchristmascard.com");
	add(&s[0], EVP_TARGET, "/qwxmtz.png?id=abc&x", 20);
	add(&s[0], EVP_HEADERS, hdr, sizeof(hdr) - 1);
	add(&s[0], EVP_BODY, body_w, sizeof(body_w) - 1);
	s[1].ev.kind = EVENT_HTTP;
	snprintf(s[1].ev.http_method, sizeof(s[1].ev.http_method), "GET");
	snprintf(s[1].ev.qname, sizeof(s[1].ev.qname), "192.0.2.7");
	add(&s[1], EVP_TARGET, "/", 1);
	add(&s[1], EVP_HEADERS, hdr, sizeof(hdr) - 1);
	add(&s[1], EVP_BODY, body_k, sizeof(body_k));
	s[2].ev.kind = EVENT_DNS;
	s[2].ev.transport = TRANSPORT_UDP;
	snprintf(s[2].ev.qname, sizeof(s[2].ev.qname), "x.bestchristmascard.com");
	snprintf(s[2].ev.zone, sizeof(s[2].ev.zone), "bestchristmascard.com");
	s[3].ev.kind = EVENT_TLS;
	snprintf(s[3].ev.qname, sizeof(s[3].ev.qname), "www.example.com");
	add(&s[3], EVP_TLS_JA3, "771,4865,0,29,0", 15);
	add(&s[3], EVP_TLS_JA4, "t13d0101h2_x_y", 14);
	add(&s[3], EVP_RAW, "\x16\x03\x01", 3);
	s[4].ev.kind = EVENT_RAW;
	add(&s[4], EVP_RAW, "SSH-2.0-x\r\n", 11);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decode_env *env;
	if (env == NULL && decode_env_new(&env, NULL) != 0)
		abort();
	int fd = memfd_create("fuzz.rules", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	const char *files[] = {path};
	struct classifier *c = NULL;
	memset(err, 'x', sizeof(err));
	int ret = classifier_load(&c, files, 1, err, sizeof(err));
	if (ret != 0) {
		if (c != NULL || memchr(err, '\0', sizeof(err)) == NULL ||
		    strncmp(err, path, strlen(path)) != 0)
			abort();
	} else {
		struct sample s[5];
		make_samples(s);
		for (int i = 0; i < 5; i++) {
			classifier_classify(c, env, &s[i].ev);
			if (s[i].ev.family[0] == '\0')
				abort();
		}
		classifier_free(c);
	}
	close(fd);
	return 0;
}
