/* Iterative lookups: start at the closest known zone cut (root hints, or
 * the configured parent servers), follow referrals with their glue, and
 * resolve glueless nameserver names with nested lookups (bounded depth).
 */
#include "monitor/monitor_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mon_iter {
	struct mon_engine *e;
	uint8_t qname[KNOT_DNAME_MAXLEN];
	uint16_t qtype;
	unsigned flags, depth, hops;
	uint8_t zone[KNOT_DNAME_MAXLEN]; /* the cut whose servers are asked */
	struct mon_srvset servers;
	mon_iter_cb cb;
	void *arg;
	/* A glueless referral being resolved: */
	uint8_t cut[KNOT_DNAME_MAXLEN];
	unsigned sub_pending;
	struct mon_srvset found;
};

static void ask(struct mon_iter *it);

static void zone_text(const uint8_t *zone, char *buf, size_t len)
{
	if (zone[0] == 0 || knot_dname_to_str(buf, zone, len) == NULL)
		snprintf(buf, len, ".");
}

static void finish(struct mon_iter *it, enum mon_iter_kind kind, const knot_pkt_t *pkt,
		   const char *why)
{
	struct mon_iter_res r = {.kind = kind, .pkt = pkt, .why = why, .zone = it->zone};
	it->cb(it->arg, &r);
	free(it);
}

__attribute__((format(printf, 2, 3))) static void fail(struct mon_iter *it, const char *fmt, ...)
{
	char why[256], z[KNOT_DNAME_TXT_MAXLEN + 1], msg[sizeof(why) + sizeof(z) + 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	zone_text(it->zone, z, sizeof(z));
	const struct mon_settings *set = mon_engine_settings(it->e);
	if (it->zone[0] == 0 && (it->flags & MON_ITER_USE_PARENTS) && set->parents.n > 0)
		snprintf(msg, sizeof(msg), "the [monitor] parent servers: %s", why);
	else if (it->zone[0] == 0)
		snprintf(msg, sizeof(msg), "the root servers: %s", why);
	else
		snprintf(msg, sizeof(msg), "%s servers: %s", z, why);
	finish(it, MON_IT_FAIL, NULL, msg);
}

void mon_pkt_addrs(const knot_pkt_t *pkt, int section, const uint8_t *name, struct mon_ipset *out)
{
	const knot_pktsection_t *sec = knot_pkt_section(pkt, (knot_section_t)section);
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if ((rr->type != KNOT_RRTYPE_A && rr->type != KNOT_RRTYPE_AAAA) ||
		    !knot_dname_is_case_equal(rr->owner, name))
			continue;
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			struct mon_ip ip = {.af = rr->type == KNOT_RRTYPE_A ? AF_INET : AF_INET6};
			if (rd->len != (ip.af == AF_INET ? 4 : 16))
				continue;
			memcpy(ip.b, rd->data, rd->len);
			mon_ipset_add(out, &ip);
		}
	}
}

unsigned mon_pkt_ns(const knot_pkt_t *pkt, int section, const uint8_t *owner,
		    uint8_t names[][KNOT_DNAME_MAXLEN], unsigned max)
{
	const knot_pktsection_t *sec = knot_pkt_section(pkt, (knot_section_t)section);
	unsigned n = 0;
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if (rr->type != KNOT_RRTYPE_NS || !knot_dname_is_case_equal(rr->owner, owner))
			continue;
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count && n < max; j++) {
			const knot_dname_t *target = knot_ns_name(rd);
			if (knot_dname_size(target) <= KNOT_DNAME_MAXLEN) {
				memcpy(names[n], target, knot_dname_size(target));
				knot_dname_to_lower(names[n++]);
			}
			rd = knot_rdataset_next(rd);
		}
	}
	return n;
}

/* The owner of a referral's NS records below the zone being asked and
 * above qname, into cut (lowercase). False when there is none. */
static bool find_referral(const struct mon_iter *it, const knot_pkt_t *pkt, uint8_t *cut)
{
	const knot_pktsection_t *auth = knot_pkt_section(pkt, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < auth->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(auth, i);
		if (rr->type != KNOT_RRTYPE_NS || knot_dname_size(rr->owner) > KNOT_DNAME_MAXLEN)
			continue;
		memcpy(cut, rr->owner, knot_dname_size(rr->owner));
		knot_dname_to_lower(cut);
		if (knot_dname_in_bailiwick(cut, it->zone) > 0 &&
		    knot_dname_in_bailiwick(it->qname, cut) >= 0)
			return true;
	}
	return false;
}

static void follow(struct mon_iter *it, const uint8_t *cut, const struct mon_srvset *servers)
{
	memcpy(it->zone, cut, knot_dname_size(cut));
	it->servers = *servers;
	mon_engine_cache(it->e, it->zone, servers);
	ask(it);
}

static void on_sub(void *arg, const struct mon_iter_res *r)
{
	struct mon_iter *it = arg;
	const struct mon_settings *set = mon_engine_settings(it->e);
	if (r->kind == MON_IT_ANSWER) {
		const knot_dname_t *qn = knot_pkt_qname(r->pkt);
		struct mon_ipset ips = {0};
		mon_pkt_addrs(r->pkt, KNOT_ANSWER, qn, &ips);
		for (unsigned i = 0; i < ips.n; i++) {
			struct mon_server s;
			mon_server_from_ip(&ips.ip[i], set->port, &s);
			mon_srvset_add(&it->found, &s);
		}
	}
	if (--it->sub_pending > 0)
		return;
	if (it->found.n == 0) {
		char cut[KNOT_DNAME_TXT_MAXLEN + 1];
		zone_text(it->cut, cut, sizeof(cut));
		fail(it, "referral to %s without glue, and none of its nameservers resolves", cut);
		return;
	}
	struct mon_srvset found = it->found;
	follow(it, it->cut, &found);
}

/* A referral to cut without usable glue: look up its nameservers' addresses. */
static void glueless(struct mon_iter *it, const uint8_t *cut, uint8_t names[][KNOT_DNAME_MAXLEN],
		     unsigned n)
{
	const struct mon_settings *set = mon_engine_settings(it->e);
	if (it->depth >= MON_ITER_DEPTH) {
		fail(it, "referral without glue nested too deep");
		return;
	}
	memcpy(it->cut, cut, knot_dname_size(cut));
	memset(&it->found, 0, sizeof(it->found));
	unsigned per = set->ipv6 ? 2 : 1;
	it->sub_pending = n * per + 1; /* +1: none finishes before all started */
	for (unsigned i = 0; i < n; i++) {
		mon_iter_start(it->e, names[i], KNOT_RRTYPE_A, 0, it->depth + 1, on_sub, it);
		if (per == 2)
			mon_iter_start(it->e, names[i], KNOT_RRTYPE_AAAA, 0, it->depth + 1, on_sub,
				       it);
	}
	struct mon_iter_res none = {.kind = MON_IT_FAIL};
	on_sub(it, &none);
}

static void referral(struct mon_iter *it, const knot_pkt_t *pkt, const uint8_t *cut)
{
	const struct mon_settings *set = mon_engine_settings(it->e);
	if ((it->flags & MON_ITER_STOP_AT_REFERRAL) && knot_dname_is_equal(cut, it->qname)) {
		finish(it, MON_IT_REFERRAL, pkt, NULL);
		return;
	}
	if (++it->hops > MON_ITER_HOPS) {
		fail(it, "more than %d referrals", MON_ITER_HOPS);
		return;
	}
	uint8_t names[MON_MAX_NAMES][KNOT_DNAME_MAXLEN];
	unsigned n = mon_pkt_ns(pkt, KNOT_AUTHORITY, cut, names, MON_MAX_NAMES);
	struct mon_srvset next = {0};
	for (unsigned i = 0; i < n; i++) {
		struct mon_ipset glue = {0};
		mon_pkt_addrs(pkt, KNOT_ADDITIONAL, names[i], &glue);
		for (unsigned j = 0; j < glue.n; j++) {
			struct mon_server s;
			if (glue.ip[j].af == AF_INET6 && !set->ipv6)
				continue;
			mon_server_from_ip(&glue.ip[j], set->port, &s);
			mon_srvset_add(&next, &s);
		}
	}
	if (next.n > 0)
		follow(it, cut, &next);
	else
		glueless(it, cut, names, n);
}

static void on_resp(void *arg, int err, const knot_pkt_t *pkt)
{
	struct mon_iter *it = arg;
	if (err != 0) {
		fail(it, "%s", mon_qerr_text(err));
		return;
	}
	uint8_t rcode = knot_wire_get_rcode(pkt->wire);
	if (rcode == KNOT_RCODE_NXDOMAIN) {
		finish(it, MON_IT_NXDOMAIN, pkt, NULL);
		return;
	}
	if (rcode != KNOT_RCODE_NOERROR) {
		const knot_lookup_t *rc = knot_lookup_by_id(knot_rcode_names, rcode);
		fail(it, "answered %s", rc ? rc->name : "an error");
		return;
	}
	if (knot_wire_get_aa(pkt->wire)) {
		finish(it, MON_IT_ANSWER, pkt, NULL);
		return;
	}
	uint8_t cut[KNOT_DNAME_MAXLEN];
	if (find_referral(it, pkt, cut))
		referral(it, pkt, cut);
	else if (knot_wire_get_ancount(pkt->wire) > 0)
		fail(it, "non-authoritative answer (a recursive resolver, not the zone's server?)");
	else
		fail(it, "no referral and no authoritative answer (lame parent)");
}

static void ask(struct mon_iter *it)
{
	mon_query(it->e, &it->servers, false, it->qname, it->qtype, on_resp, it);
}

void mon_iter_start(struct mon_engine *e, const uint8_t *qname, uint16_t qtype, unsigned flags,
		    unsigned depth, mon_iter_cb cb, void *arg)
{
	struct mon_iter *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		struct mon_iter_res r = {.kind = MON_IT_FAIL, .why = "out of memory"};
		cb(arg, &r);
		return;
	}
	*it = (struct mon_iter){
	    .e = e, .qtype = qtype, .flags = flags, .depth = depth, .cb = cb, .arg = arg};
	memcpy(it->qname, qname, knot_dname_size(qname));
	knot_dname_to_lower(it->qname);
	const struct mon_settings *set = mon_engine_settings(e);
	if ((flags & MON_ITER_USE_PARENTS) && set->parents.n > 0)
		it->servers = set->parents; /* zone stays the root: any referral below */
	else
		mon_engine_closest(e, it->qname, &it->servers, it->zone);
	if (it->servers.n == 0) {
		fail(it, "no server to ask (check [monitor] root_hint and ipv6)");
		return;
	}
	ask(it);
}
