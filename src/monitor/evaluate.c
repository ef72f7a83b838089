/* The verdict on one domain: expected delegation vs what was observed.
 * Pure: no I/O, the time is a parameter. */
#include "monitor/monitor_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct diffs {
	unsigned n;
	bool truncated;
	char d[MON_MAX_DIFFS][MON_DIFF_MAX];
};

__attribute__((format(printf, 2, 3))) static void diff_add(struct diffs *df, const char *fmt, ...)
{
	if (df->n == MON_MAX_DIFFS) {
		df->truncated = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(df->d[df->n++], MON_DIFF_MAX, fmt, ap);
	va_end(ap);
}

/* Glue names and expected names are both canonical (lowercase, final dot). */
static const struct mon_glue *glue_of(const struct mon_obs *ob, const char *name)
{
	for (unsigned i = 0; i < ob->n_glue; i++) {
		if (strcmp(ob->glue[i].name, name) == 0)
			return &ob->glue[i];
	}
	return NULL;
}

/* NS names and glue at the parent. True when they differ. */
static bool eval_parent(const struct mon_expect *ex, const struct mon_obs *ob, struct diffs *df)
{
	char got[1024], want[1024];
	bool differ = false;
	if (!mon_nameset_equal(&ex->ns, &ob->ns)) {
		diff_add(df, "NS at %s: %s (expected %s)", ob->parent,
			 mon_nameset_text(&ob->ns, got, sizeof(got)),
			 mon_nameset_text(&ex->ns, want, sizeof(want)));
		differ = true;
	}
	mon_ipset_text(&ex->glue, want, sizeof(want));
	for (unsigned i = 0; i < ex->glued.n; i++) {
		const char *name = ex->glued.name[i];
		if (!mon_nameset_has(&ob->ns, name))
			continue;
		const struct mon_glue *g = glue_of(ob, name);
		if (g == NULL) {
			diff_add(df, "no glue for %s at %s (expected %s)", name, ob->parent, want);
			differ = true;
		} else if (!mon_ipset_equal(&g->addrs, &ex->glue)) {
			diff_add(df, "glue of %s at %s: %s (expected %s)", name, ob->parent,
				 mon_ipset_text(&g->addrs, got, sizeof(got)), want);
			differ = true;
		}
	}
	return differ;
}

static bool cmp_ips(struct diffs *df, const char *who, const char *what, const char *owner,
		    const struct mon_ipset *got, const struct mon_ipset *want, bool nxdomain)
{
	if (!nxdomain && mon_ipset_equal(got, want))
		return false;
	char g[512], w[512];
	diff_add(df, "%s: %s %s = %s (expected %s)", who, what, owner,
		 nxdomain ? "NXDOMAIN" : mon_ipset_text(got, g, sizeof(g)),
		 mon_ipset_text(want, w, sizeof(w)));
	return true;
}

/* Answers of one authoritative server. True when they differ. */
static bool eval_answers(const struct mon_expect *ex, const struct mon_obs *ob,
			 const struct mon_probe *p, const char *who, struct diffs *df)
{
	bool differ = false;
	char got[1024], want[1024];
	if (!p->soa) {
		diff_add(df, "%s: no SOA for %s", who, ex->zone);
		differ = true;
	}
	if (!mon_nameset_equal(&p->ns_set, &ex->ns)) {
		diff_add(df, "%s: NS %s = %s (expected %s)", who, ex->zone,
			 mon_nameset_text(&p->ns_set, got, sizeof(got)),
			 mon_nameset_text(&ex->ns, want, sizeof(want)));
		differ = true;
	}
	differ |= cmp_ips(df, who, "A", ex->zone, &p->a, &ex->a, false);
	differ |= cmp_ips(df, who, "AAAA", ex->zone, &p->aaaa, &ex->aaaa, false);
	differ |= cmp_ips(df, who, "A", ob->rand_label, &p->rand_a, &ex->a, p->rand_nxdomain);
	if (!p->rand_nxdomain)
		differ |= cmp_ips(df, who, "AAAA", ob->rand_label, &p->rand_aaaa, &ex->aaaa, false);
	return differ;
}

/* Every delegated server: *lame counts those not answering authoritatively. */
static bool eval_probes(const struct mon_expect *ex, const struct mon_obs *ob, struct diffs *df,
			unsigned *lame)
{
	bool differ = false;
	for (unsigned i = 0; i < ob->n_probes; i++) {
		const struct mon_probe *p = &ob->probe[i];
		char who[MON_NAME_MAX + 64], ip[INET6_ADDRSTRLEN];
		if (p->status == MON_PROBE_NO_ADDRESS)
			snprintf(who, sizeof(who), "%s", p->ns);
		else
			snprintf(who, sizeof(who), "%s (%s)", mon_ip_text(&p->addr, ip, sizeof(ip)),
				 p->ns);
		if (p->status != MON_PROBE_OK) {
			diff_add(df, "%s: %s", who, p->why);
			(*lame)++;
			continue;
		}
		differ |= eval_answers(ex, ob, p, who, df);
	}
	return differ;
}

/* expired / expiring, or ok. */
static enum monitor_state eval_expiry(const struct mon_obs *ob, time_t now, unsigned warn_days,
				      struct diffs *df, long *days, bool *has_days)
{
	*has_days = false;
	if (ob->expiry[0] == '\0' || mon_days_until(ob->expiry, now, days) != 0)
		return MONITOR_OK;
	*has_days = true;
	if (*days < 0) {
		diff_add(df, "expired on %s (%ld days ago)", ob->expiry, -*days);
		return MONITOR_EXPIRED;
	}
	if (*days == 0) {
		diff_add(df, "expires today (%s)", ob->expiry);
		return MONITOR_EXPIRED;
	}
	if (*days <= (long)warn_days) {
		diff_add(df, "expires on %s, in %ld day%s (warning at %u)", ob->expiry, *days,
			 *days == 1 ? "" : "s", warn_days);
		return MONITOR_EXPIRING;
	}
	return MONITOR_OK;
}

static const char *deleg_name(enum mon_deleg d)
{
	static const char *const names[] = {"found", "nxdomain", "nodata", "failed"};
	return names[d];
}

static const char *probe_status_name(enum mon_probe_status s)
{
	static const char *const names[] = {
	    "ok", "timeout", "unreachable", "rcode", "not-authoritative", "error", "no-address"};
	return names[s];
}

static void json_names(struct mon_buf *b, const struct mon_nameset *set)
{
	mon_buf_put(b, "[", 1);
	for (unsigned i = 0; i < set->n; i++) {
		if (i)
			mon_buf_put(b, ",", 1);
		mon_buf_json_str(b, set->name[i]);
	}
	mon_buf_put(b, "]", 1);
}

static void json_ips(struct mon_buf *b, const struct mon_ipset *set)
{
	mon_buf_put(b, "[", 1);
	for (unsigned i = 0; i < set->n; i++) {
		char ip[INET6_ADDRSTRLEN];
		mon_buf_printf(b, "%s\"%s\"", i ? "," : "",
			       mon_ip_text(&set->ip[i], ip, sizeof(ip)));
	}
	mon_buf_put(b, "]", 1);
}

static void json_delegation(struct mon_buf *b, const struct mon_obs *ob)
{
	mon_buf_printf(b, ",\"delegation\":{\"status\":\"%s\",\"parent\":", deleg_name(ob->deleg));
	mon_buf_json_str(b, ob->parent);
	if (ob->deleg != MON_DELEG_FOUND) {
		mon_buf_put(b, ",\"why\":", 7);
		mon_buf_json_str(b, ob->deleg_why);
	}
	mon_buf_printf(b,
		       ",\"parent_is_child\":%s,\"ns\":", ob->parent_is_child ? "true" : "false");
	json_names(b, &ob->ns);
	mon_buf_put(b, ",\"glue\":{", 9);
	for (unsigned i = 0; i < ob->n_glue; i++) {
		mon_buf_put(b, i ? "," : "", i ? 1 : 0);
		mon_buf_json_str(b, ob->glue[i].name);
		mon_buf_put(b, ":", 1);
		json_ips(b, &ob->glue[i].addrs);
	}
	mon_buf_put(b, "}}", 2);
}

static void json_probe(struct mon_buf *b, const struct mon_obs *ob, const struct mon_probe *p)
{
	char ip[INET6_ADDRSTRLEN];
	mon_buf_put(b, "{\"ns\":", 6);
	mon_buf_json_str(b, p->ns);
	mon_buf_printf(b, ",\"address\":\"%s\",\"status\":\"%s\"",
		       mon_ip_text(&p->addr, ip, sizeof(ip)), probe_status_name(p->status));
	if (p->status != MON_PROBE_OK) {
		mon_buf_put(b, ",\"why\":", 7);
		mon_buf_json_str(b, p->why);
		mon_buf_put(b, "}", 1);
		return;
	}
	mon_buf_printf(b, ",\"soa\":%s,\"serial\":%u,\"ns_set\":", p->soa ? "true" : "false",
		       p->serial);
	json_names(b, &p->ns_set);
	mon_buf_put(b, ",\"a\":", 5);
	json_ips(b, &p->a);
	mon_buf_put(b, ",\"aaaa\":", 8);
	json_ips(b, &p->aaaa);
	mon_buf_put(b, ",\"random_name\":", 15);
	mon_buf_json_str(b, ob->rand_label);
	mon_buf_printf(
	    b, ",\"random_nxdomain\":%s,\"random_a\":", p->rand_nxdomain ? "true" : "false");
	json_ips(b, &p->rand_a);
	mon_buf_put(b, ",\"random_aaaa\":", 15);
	json_ips(b, &p->rand_aaaa);
	mon_buf_put(b, "}", 1);
}

static void json_details(struct mon_buf *b, const struct mon_expect *ex, const struct mon_obs *ob,
			 const struct mon_result *r, const struct diffs *df, time_t now,
			 const long *days, const char *source)
{
	char when[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mon_buf_put(b, "{\"domain\":", 10);
	mon_buf_json_str(b, r->domain);
	mon_buf_printf(b, ",\"state\":\"%s\",\"checked_at\":\"%s\",\"summary\":",
		       monitor_state_name(r->state), when);
	mon_buf_json_str(b, r->summary);
	mon_buf_put(b, ",\"differences\":[", 16);
	for (unsigned i = 0; i < df->n; i++) {
		mon_buf_put(b, i ? "," : "", i ? 1 : 0);
		mon_buf_json_str(b, df->d[i]);
	}
	mon_buf_put(b, "]", 1);
	json_delegation(b, ob);
	mon_buf_put(b, ",\"expected\":{\"ns\":", 18);
	json_names(b, &ex->ns);
	mon_buf_put(b, ",\"glue\":", 8);
	json_ips(b, &ex->glue);
	mon_buf_put(b, ",\"a\":", 5);
	json_ips(b, &ex->a);
	mon_buf_put(b, ",\"aaaa\":", 8);
	json_ips(b, &ex->aaaa);
	mon_buf_put(b, "},\"servers\":[", 13);
	for (unsigned i = 0; i < ob->n_probes; i++) {
		mon_buf_put(b, i ? "," : "", i ? 1 : 0);
		json_probe(b, ob, &ob->probe[i]);
	}
	mon_buf_put(b, "],\"expiry\":", 11);
	if (ob->expiry[0] != '\0')
		mon_buf_printf(b, "\"%s\"", ob->expiry);
	else
		mon_buf_put(b, "null", 4);
	if (days != NULL)
		mon_buf_printf(b, ",\"days_to_expiry\":%ld", *days);
	else
		mon_buf_put(b, ",\"days_to_expiry\":null", 22);
	mon_buf_put(b, ",\"expiry_source\":", 17);
	mon_buf_json_str(b, source);
	mon_buf_put(b, "}", 1);
}

static void summarise(const struct diffs *df, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < df->n && used + 4 < len; i++) {
		int w = snprintf(out + used, len - used, "%s%s", i ? "; " : "", df->d[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used >= len - 1 || df->truncated)
		memcpy(out + (len > 4 ? len - 4 : 0), "...", 4);
}

int mon_evaluate(const struct mon_expect *ex, const struct mon_obs *ob, time_t now,
		 unsigned warn_days, const char *source, struct mon_result *out)
{
	struct diffs df = {0};
	enum monitor_state state = MONITOR_OK;
	if (ob->deleg != MON_DELEG_FOUND) {
		diff_add(&df, "%s", ob->deleg_why);
		state = MONITOR_UNRESOLVABLE;
	} else {
		unsigned lame = 0;
		bool drift = eval_parent(ex, ob, &df);
		drift |= eval_probes(ex, ob, &df, &lame);
		if (drift)
			state = MONITOR_DRIFTED;
		else if (lame > 0 || ob->n_probes == 0)
			state = MONITOR_LAME;
		if (ob->n_probes == 0)
			diff_add(&df, "no delegated server to ask");
	}
	long days = 0;
	bool has_days;
	enum monitor_state exp = eval_expiry(ob, now, warn_days, &df, &days, &has_days);
	if (exp == MONITOR_EXPIRED || (exp == MONITOR_EXPIRING && state == MONITOR_OK))
		state = exp;

	memset(out, 0, sizeof(*out));
	snprintf(out->domain, sizeof(out->domain), "%.*s", (int)strlen(ob->zone) - 1, ob->zone);
	out->state = state;
	snprintf(out->expiry, sizeof(out->expiry), "%s", ob->expiry);
	summarise(&df, out->summary, sizeof(out->summary));
	struct mon_buf b = {0};
	json_details(&b, ex, ob, out, &df, now, has_days ? &days : NULL, source);
	if (b.failed) {
		mon_buf_free(&b);
		return SINKD_ENOMEM;
	}
	out->details = b.p;
	return 0;
}
