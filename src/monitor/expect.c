/* Settings from the configuration, the expected delegation of a zone, state
 * names and expiry dates. */
#include "monitor/monitor_internal.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const state_names[MONITOR_N_STATES] = {"ok",	  "expiring", "unresolvable",
							  "lame", "drifted",  "expired"};

const char *monitor_state_name(enum monitor_state state)
{
	return (unsigned)state < MONITOR_N_STATES ? state_names[state] : "unknown";
}

int monitor_state_parse(const char *name, enum monitor_state *out)
{
	for (unsigned i = 0; i < MONITOR_N_STATES; i++) {
		if (strcasecmp(name, state_names[i]) == 0) {
			*out = (enum monitor_state)i;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

void mon_settings_from_config(struct mon_settings *s, const struct sinkd_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->port = cfg->monitor_dns_port;
	s->ipv6 = cfg->monitor_ipv6;
	s->timeout_ms = cfg->monitor_timeout_ms;
	s->tries = cfg->monitor_retries + 1;
	s->concurrency = cfg->monitor_concurrency;
	s->warn_days = cfg->monitor_expiry_warn_days;
	for (unsigned i = 0; i < cfg->n_monitor_root_hint; i++) {
		struct mon_server srv;
		mon_server_from_config(&cfg->monitor_root_hint[i], s->port, &srv);
		if (s->ipv6 || srv.ss.ss_family == AF_INET)
			mon_srvset_add(&s->hints, &srv);
	}
	for (unsigned i = 0; i < cfg->n_monitor_parent; i++) {
		struct mon_server srv;
		mon_server_from_config(&cfg->monitor_parent[i], s->port, &srv);
		mon_srvset_add(&s->parents, &srv);
	}
	memcpy(s->nameserver, cfg->nameserver, sizeof(s->nameserver));
	s->n_nameserver = cfg->n_nameserver;
	const struct config_ipaddr *glue = cfg->n_ns_addr ? cfg->ns_addr : cfg->sinkhole;
	unsigned n_glue = cfg->n_ns_addr ? cfg->n_ns_addr : cfg->n_sinkhole;
	for (unsigned i = 0; i < n_glue; i++) {
		struct mon_ip ip;
		mon_ip_from_config(&glue[i], &ip);
		mon_ipset_add(&s->glue, &ip);
	}
	for (unsigned i = 0; i < cfg->n_sinkhole; i++) {
		struct mon_ip ip;
		mon_ip_from_config(&cfg->sinkhole[i], &ip);
		mon_ipset_add(&s->sinkhole, &ip);
	}
	snprintf(s->on_change, sizeof(s->on_change), "%s", cfg->monitor_on_change);
	snprintf(s->metrics_file, sizeof(s->metrics_file), "%s", cfg->monitor_metrics_file);
	snprintf(s->domains_file, sizeof(s->domains_file), "%s", cfg->domains_file);
	snprintf(s->store_path, sizeof(s->store_path), "%s", cfg->store_path);
}

void mon_expect_build(struct mon_expect *ex, const struct mon_settings *set, const char *zone)
{
	memset(ex, 0, sizeof(*ex));
	size_t zl = strlen(zone);
	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	snprintf(ex->zone, sizeof(ex->zone), "%.*s.", (int)zl, zone);
	for (unsigned i = 0; i < set->n_nameserver; i++) {
		const char *ns = set->nameserver[i];
		size_t n = strlen(ns);
		char name[2 * MON_NAME_MAX];
		if (n > 0 && ns[n - 1] == '.') {
			mon_nameset_add(&ex->ns, ns);
			continue;
		}
		/* Relative, as src/dns answers it: "ns1" -> "ns1.<zone>." with glue. */
		snprintf(name, sizeof(name), "%s.%s", ns, ex->zone);
		if (strlen(name) >= MON_NAME_MAX)
			continue;
		mon_nameset_add(&ex->ns, name);
		mon_nameset_add(&ex->glued, name);
	}
	ex->glue = set->glue;
	mon_ipset_family(&set->sinkhole, AF_INET, &ex->a);
	mon_ipset_family(&set->sinkhole, AF_INET6, &ex->aaaa);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

int mon_days_until(const char *date, time_t now, long *days)
{
	unsigned y, m, d;
	char tail;
	if (sscanf(date, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31)
		return SINKD_EINVAL;
	long today = (long)(now / 86400);
	if (now < 0 && now % 86400 != 0)
		today--;
	*days = days_from_civil((long)y, m, d) - today;
	return 0;
}

void mon_result_clear(struct mon_result *r)
{
	free(r->details);
	memset(r, 0, sizeof(*r));
}

void mon_results_free(struct mon_result *res, size_t n)
{
	for (size_t i = 0; res != NULL && i < n; i++)
		free(res[i].details);
	free(res);
}
