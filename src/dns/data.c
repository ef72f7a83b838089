/* Answer data: the config snapshot turned into ready-made rdata. */
#include "dns/dns_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "domains/domains.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "ns1" -> relative labels; "ns1.example.net." -> absolute wire name. */
static int name_parse(const char *text, struct dns_name *out, const char *key)
{
	size_t n = strlen(text);
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	out->relative = text[n - 1] != '.';
	if (knot_dname_from_str(out->wire, text, sizeof(out->wire)) == NULL) {
		log_err("config: %s '%s' is not a valid domain name", key, text);
		return SINKD_EINVAL;
	}
	out->len = knot_dname_size(out->wire);
	if (out->relative)
		out->len -= 1; /* drop the root label: joined with a zone later */
	return 0;
}

uint8_t *dns_name_resolve(const struct dns_name *name, const uint8_t *zone, uint8_t *dst)
{
	if (!name->relative) {
		memcpy(dst, name->wire, name->len);
		return dst;
	}
	size_t zlen = knot_dname_size(zone);
	if (name->len + zlen > KNOT_DNAME_MAXLEN)
		return NULL;
	memcpy(dst, name->wire, name->len);
	memcpy(dst + name->len, zone, zlen);
	return dst;
}

static int add_addrs(knot_rdataset_t *v4, knot_rdataset_t *v6, const struct config_ipaddr *addrs,
		     unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct config_ipaddr *a = &addrs[i];
		uint16_t len = a->af == AF_INET ? 4 : 16;
		uint8_t buf[knot_rdata_size(16)];
		knot_rdata_t *rd = (knot_rdata_t *)buf;
		knot_rdata_init(rd, len, a->ip);
		int ret = knot_rdataset_add(a->af == AF_INET ? v4 : v6, rd, NULL);
		if (ret != KNOT_EOK)
			return SINKD_ENOMEM;
	}
	return 0;
}

int dns_data_new(struct dns_data **out, const struct sinkd_config *cfg,
		 struct domain_registry *reg)
{
	struct dns_data *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		domains_free(reg);
		return SINKD_ENOMEM;
	}
	d->cfg = *cfg;
	d->reg = reg;
	int ret = add_addrs(&d->a, &d->aaaa, cfg->sinkhole, cfg->n_sinkhole);
	if (ret == 0 && cfg->n_ns_addr > 0)
		ret = add_addrs(&d->ns_a, &d->ns_aaaa, cfg->ns_addr, cfg->n_ns_addr);
	else if (ret == 0)
		ret = add_addrs(&d->ns_a, &d->ns_aaaa, cfg->sinkhole, cfg->n_sinkhole);
	for (unsigned i = 0; ret == 0 && i < cfg->n_nameserver; i++)
		ret = name_parse(cfg->nameserver[i], &d->ns[d->n_ns++], "[dns] nameserver");
	if (ret == 0)
		ret = name_parse(cfg->mx_name, &d->mx, "[dns] mx");
	if (ret == 0)
		ret = name_parse(cfg->soa_rname, &d->rname, "[dns] soa_rname");
	if (ret == 0 && (d->n_ns == 0 || d->rname.len == 0)) {
		log_err("config: [dns] needs at least one nameserver and a soa_rname");
		ret = SINKD_EINVAL;
	}
	if (ret != 0) {
		dns_data_free(d);
		return ret;
	}
	d->serial = cfg->soa_serial != 0 ? cfg->soa_serial : (uint32_t)time(NULL);
	*out = d;
	return 0;
}

void dns_data_free(struct dns_data *d)
{
	if (d == NULL)
		return;
	knot_rdataset_clear(&d->a, NULL);
	knot_rdataset_clear(&d->aaaa, NULL);
	knot_rdataset_clear(&d->ns_a, NULL);
	knot_rdataset_clear(&d->ns_aaaa, NULL);
	domains_free(d->reg);
	free(d);
}

const struct domain_registry *dns_data_registry(const struct dns_data *d)
{
	return d->reg;
}
