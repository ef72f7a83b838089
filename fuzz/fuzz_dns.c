/* Fuzz target: dns_answer() on any bytes, over UDP and TCP, with EDNS,
 * COOKIE and RRL in play. Checks what a sinkhole promises besides not
 * crashing: a reply is never larger than the UDP limit, always a response
 * (QR=1) with the query's id, and never sent for a response or a runt. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "dns/dns.h"
#include "domains/domains.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_data *data;
static struct dns_rrl *rrl;
static struct dns_ctx ctx;
static struct dns_stats stats;

static void init(void)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	cfg.rrl_rate = 1000000; /* exercised, but never in the way */
	struct domain_registry *reg = domains_new();
	domains_add(reg, "bestchristmascard.com", NULL);
	domains_add(reg, "sub.seized.net", NULL);
	if (dns_data_new(&data, &cfg, reg) != 0 || dns_rrl_new(&rrl, &cfg) != 0)
		abort();
	uint8_t secret[16] = {7};
	if (dns_ctx_init(&ctx, rrl, &stats, secret) != 0)
		abort();
}

static void check(const uint8_t *q, size_t qlen, size_t len, const uint8_t *out, size_t limit)
{
	if (len == 0)
		return;
	if (qlen < 12 || (q[2] & 0x80) != 0)
		abort(); /* runts and responses are never answered */
	if (len > limit || len < 12 || (out[2] & 0x80) == 0 || memcmp(out, q, 2) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	if (data == NULL)
		init();
	static uint8_t out[65535];
	struct sockaddr_storage src = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&src;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5353);
	sin->sin_addr.s_addr = htonl(0xc0000201);
	struct sinkd_event ev;
	for (int tcp = 0; tcp < 2; tcp++) {
		struct dns_query_info qi = {.src = &src, .tcp = tcp, .now_ns = 1700000000000000000ull};
		size_t len = dns_answer(&ctx, data, &qi, buf, size, out, sizeof(out), &ev);
		check(buf, size, len, out, tcp ? sizeof(out) : 4096);
	}
	return 0;
}
