/* One domain: the delegation at the parent, the addresses of its
 * nameservers, then six questions to every delegated server address. The
 * observation is handed to the round, which evaluates it.
 */
#include "monitor/monitor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check;

struct probe_q {
	struct check *c;
	unsigned probe;
	enum mon_question q;
};

struct ns_lookup {
	struct check *c;
	unsigned name; /* index in obs.ns */
};

struct check {
	struct mon_engine *e;
	struct mon_obs obs;
	uint8_t zone[KNOT_DNAME_MAXLEN];
	uint8_t rand[KNOT_DNAME_MAXLEN];
	unsigned pending;
	struct mon_ipset ns_addrs[MON_MAX_NAMES]; /* per obs.ns name */
	char ns_why[MON_MAX_NAMES][96];		  /* why a name has none */
	struct ns_lookup lookups[MON_MAX_NAMES];
	struct probe_q pq[MON_MAX_PROBES][MON_N_QUESTIONS];
	mon_check_done done;
	void *arg;
};

static const char *const question_names[MON_N_QUESTIONS] = {"SOA",  "NS",	  "A",
							    "AAAA", "A (random)", "AAAA (random)"};

static void finish(struct check *c)
{
	c->done(c->arg, &c->obs);
	free(c);
}

static void zone_text(const uint8_t *zone, char *buf, size_t len)
{
	if (zone == NULL || zone[0] == 0 || knot_dname_to_str(buf, zone, len) == NULL)
		snprintf(buf, len, ".");
}

/* ---- probes -------------------------------------------------------------------- */

static void probe_fail(struct mon_probe *p, enum mon_probe_status st, const char *fmt,
		       const char *a, const char *b)
{
	if (p->status != MON_PROBE_OK)
		return; /* keep the first reason */
	p->status = st;
	snprintf(p->why, sizeof(p->why), fmt, a, b);
}

static void probe_data(struct check *c, struct mon_probe *p, enum mon_question q,
		       const knot_pkt_t *pkt)
{
	const knot_pktsection_t *ans = knot_pkt_section(pkt, KNOT_ANSWER);
	for (uint16_t i = 0; i < ans->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ans, i);
		if (!knot_dname_is_case_equal(rr->owner, c->zone))
			continue;
		if (q == MON_Q_SOA && rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0) {
			p->soa = true;
			p->serial = knot_soa_serial(rr->rrs.rdata);
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0;
		     q == MON_Q_NS && rr->type == KNOT_RRTYPE_NS && j < rr->rrs.count;
		     j++, rd = knot_rdataset_next(rd)) {
			char name[KNOT_DNAME_TXT_MAXLEN + 1];
			if (knot_dname_to_str(name, knot_ns_name(rd), sizeof(name)) != NULL)
				mon_nameset_add(&p->ns_set, name);
		}
	}
	if (q == MON_Q_A || q == MON_Q_AAAA)
		mon_pkt_addrs(pkt, KNOT_ANSWER, c->zone, q == MON_Q_A ? &p->a : &p->aaaa);
	if (q == MON_Q_RAND_A || q == MON_Q_RAND_AAAA) {
		if (knot_wire_get_rcode(pkt->wire) == KNOT_RCODE_NXDOMAIN)
			p->rand_nxdomain = true;
		mon_pkt_addrs(pkt, KNOT_ANSWER, c->rand,
			      q == MON_Q_RAND_A ? &p->rand_a : &p->rand_aaaa);
	}
}

static void on_probe(void *arg, int err, const knot_pkt_t *pkt)
{
	struct probe_q *pq = arg;
	struct check *c = pq->c;
	struct mon_probe *p = &c->obs.probe[pq->probe];
	const char *qn = question_names[pq->q];
	if (err == MON_QERR_TIMEOUT) {
		probe_fail(p, MON_PROBE_TIMEOUT, "%s to %s", mon_qerr_text(err), qn);
	} else if (err == MON_QERR_UNREACHABLE) {
		probe_fail(p, MON_PROBE_UNREACHABLE, "%s to %s", mon_qerr_text(err), qn);
	} else if (err != 0) {
		probe_fail(p, MON_PROBE_ERROR, "%s to %s", mon_qerr_text(err), qn);
	} else {
		uint8_t rcode = knot_wire_get_rcode(pkt->wire);
		p->answered++;
		if (rcode != KNOT_RCODE_NOERROR && rcode != KNOT_RCODE_NXDOMAIN) {
			const knot_lookup_t *rc = knot_lookup_by_id(knot_rcode_names, rcode);
			probe_fail(p, MON_PROBE_RCODE, "%s to %s", rc ? rc->name : "error", qn);
		} else if (!knot_wire_get_aa(pkt->wire)) {
			probe_fail(p, MON_PROBE_NOT_AUTH,
				   "%s%s answered without AA (not authoritative)", qn, "");
		} else {
			probe_data(c, p, pq->q, pkt);
		}
	}
	if (--c->pending == 0)
		finish(c);
}

static void start_probes(struct check *c)
{
	const struct mon_settings *set = mon_engine_settings(c->e);
	c->pending = 1; /* held until every query is sent */
	for (unsigned i = 0; i < c->obs.n_probes; i++) {
		struct mon_probe *p = &c->obs.probe[i];
		if (p->status != MON_PROBE_OK)
			continue;
		struct mon_srvset one = {0};
		mon_server_from_ip(&p->addr, set->port, &one.s[0]);
		one.n = 1;
		for (unsigned q = 0; q < MON_N_QUESTIONS; q++) {
			static const uint16_t types[MON_N_QUESTIONS] = {
			    KNOT_RRTYPE_SOA,  KNOT_RRTYPE_NS, KNOT_RRTYPE_A,
			    KNOT_RRTYPE_AAAA, KNOT_RRTYPE_A,  KNOT_RRTYPE_AAAA};
			c->pq[i][q] = (struct probe_q){.c = c, .probe = i, .q = q};
			c->pending++;
			mon_query(c->e, &one, true, q >= MON_Q_RAND_A ? c->rand : c->zone, types[q],
				  on_probe, &c->pq[i][q]);
		}
	}
	if (--c->pending == 0)
		finish(c);
}

static void add_probe(struct check *c, const char *ns, const struct mon_ip *ip,
		      enum mon_probe_status st, const char *why)
{
	struct mon_obs *ob = &c->obs;
	for (unsigned i = 0; ip != NULL && i < ob->n_probes; i++) {
		if (ob->probe[i].addr.af == ip->af && !memcmp(ob->probe[i].addr.b, ip->b, 16))
			return;
	}
	if (ob->n_probes == MON_MAX_PROBES) {
		ob->probes_truncated = true;
		return;
	}
	struct mon_probe *p = &ob->probe[ob->n_probes++];
	memset(p, 0, sizeof(*p));
	snprintf(p->ns, sizeof(p->ns), "%s", ns);
	if (ip != NULL)
		p->addr = *ip;
	p->status = st;
	snprintf(p->why, sizeof(p->why), "%s", why);
}

/* Every nameserver name has its addresses (or a reason it has none). */
static void addresses_known(struct check *c)
{
	const struct mon_settings *set = mon_engine_settings(c->e);
	for (unsigned i = 0; i < c->obs.ns.n; i++) {
		const struct mon_ipset *ips = &c->ns_addrs[i];
		unsigned used = 0;
		for (unsigned j = 0; j < ips->n; j++) {
			if (ips->ip[j].af == AF_INET6 && !set->ipv6)
				continue;
			add_probe(c, c->obs.ns.name[i], &ips->ip[j], MON_PROBE_OK, "");
			used++;
		}
		if (used == 0)
			add_probe(c, c->obs.ns.name[i], NULL, MON_PROBE_NO_ADDRESS,
				  c->ns_why[i][0] ? c->ns_why[i] : "no usable address");
	}
	start_probes(c);
}

static void on_ns_addr(void *arg, const struct mon_iter_res *r)
{
	struct ns_lookup *lk = arg;
	struct check *c = lk->c;
	if (r->kind == MON_IT_ANSWER)
		mon_pkt_addrs(r->pkt, KNOT_ANSWER, knot_pkt_qname(r->pkt), &c->ns_addrs[lk->name]);
	else if (c->ns_why[lk->name][0] == '\0')
		snprintf(c->ns_why[lk->name], sizeof(c->ns_why[0]), "no address: %s",
			 r->kind == MON_IT_NXDOMAIN ? "NXDOMAIN" : r->why);
	if (--c->pending == 0)
		addresses_known(c);
}

/* ---- delegation ------------------------------------------------------------------- */

/* NS names and glue of the records that delegate the zone. */
static void take_delegation(struct check *c, const knot_pkt_t *pkt, int section)
{
	struct mon_obs *ob = &c->obs;
	uint8_t names[MON_MAX_NAMES][KNOT_DNAME_MAXLEN];
	unsigned n = mon_pkt_ns(pkt, section, c->zone, names, MON_MAX_NAMES);
	ob->deleg = MON_DELEG_FOUND;
	for (unsigned i = 0; i < n; i++) {
		char name[KNOT_DNAME_TXT_MAXLEN + 1];
		if (knot_dname_to_str(name, names[i], sizeof(name)) != NULL)
			mon_nameset_add(&ob->ns, name);
	}
	for (unsigned i = 0; i < ob->ns.n; i++) {
		uint8_t wire[KNOT_DNAME_MAXLEN];
		if (knot_dname_from_str(wire, ob->ns.name[i], sizeof(wire)) == NULL)
			continue;
		mon_pkt_addrs(pkt, KNOT_ADDITIONAL, wire, &c->ns_addrs[i]);
		if (c->ns_addrs[i].n > 0 && ob->n_glue < MON_MAX_NAMES) {
			struct mon_glue *g = &ob->glue[ob->n_glue++];
			memcpy(g->name, ob->ns.name[i], sizeof(g->name));
			g->addrs = c->ns_addrs[i];
		}
	}
}

static bool has_ns(const knot_pkt_t *pkt, int section, const uint8_t *zone)
{
	uint8_t one[1][KNOT_DNAME_MAXLEN];
	return mon_pkt_ns(pkt, section, zone, one, 1) > 0;
}

static void lookup_glueless(struct check *c)
{
	const struct mon_settings *set = mon_engine_settings(c->e);
	c->pending = 1;
	for (unsigned i = 0; i < c->obs.ns.n; i++) {
		uint8_t wire[KNOT_DNAME_MAXLEN];
		if (c->ns_addrs[i].n > 0 ||
		    knot_dname_from_str(wire, c->obs.ns.name[i], sizeof(wire)) == NULL)
			continue;
		c->lookups[i] = (struct ns_lookup){.c = c, .name = i};
		c->pending += set->ipv6 ? 2 : 1;
		mon_iter_start(c->e, wire, KNOT_RRTYPE_A, 0, 1, on_ns_addr, &c->lookups[i]);
		if (set->ipv6)
			mon_iter_start(c->e, wire, KNOT_RRTYPE_AAAA, 0, 1, on_ns_addr,
				       &c->lookups[i]);
	}
	if (--c->pending == 0)
		addresses_known(c);
}

static void on_delegation(void *arg, const struct mon_iter_res *r)
{
	struct check *c = arg;
	struct mon_obs *ob = &c->obs;
	zone_text(r->zone, ob->parent, sizeof(ob->parent));
	int section = -1;
	switch (r->kind) {
	case MON_IT_FAIL:
		ob->deleg = MON_DELEG_FAILED;
		snprintf(ob->deleg_why, sizeof(ob->deleg_why), "%s", r->why);
		break;
	case MON_IT_NXDOMAIN:
		ob->deleg = MON_DELEG_NXDOMAIN;
		snprintf(ob->deleg_why, sizeof(ob->deleg_why),
			 "not delegated: %s servers say %s does not exist (NXDOMAIN)", ob->parent,
			 ob->zone);
		break;
	case MON_IT_REFERRAL:
		section = KNOT_AUTHORITY;
		break;
	case MON_IT_ANSWER:
		if (has_ns(r->pkt, KNOT_ANSWER, c->zone)) {
			ob->parent_is_child = true;
			section = KNOT_ANSWER;
			break;
		}
		ob->deleg = MON_DELEG_NODATA;
		snprintf(ob->deleg_why, sizeof(ob->deleg_why),
			 "not delegated: %s servers have no NS for %s (NODATA)", ob->parent,
			 ob->zone);
		break;
	}
	if (section < 0) {
		finish(c);
		return;
	}
	take_delegation(c, r->pkt, section);
	lookup_glueless(c);
}

void mon_check_start(struct mon_engine *e, const char *zone, uint64_t rand, mon_check_done done,
		     void *arg)
{
	struct check *c = calloc(1, sizeof(*c));
	struct mon_obs fallback;
	if (c == NULL) {
		memset(&fallback, 0, sizeof(fallback));
		snprintf(fallback.zone, sizeof(fallback.zone), "%s.", zone);
		fallback.deleg = MON_DELEG_FAILED;
		snprintf(fallback.deleg_why, sizeof(fallback.deleg_why), "out of memory");
		done(arg, &fallback);
		return;
	}
	c->e = e;
	c->done = done;
	c->arg = arg;
	snprintf(c->obs.zone, sizeof(c->obs.zone), "%s.", zone);
	snprintf(c->obs.rand_label, sizeof(c->obs.rand_label), "sinkd-check-%016llx.%s",
		 (unsigned long long)rand, c->obs.zone);
	if (knot_dname_from_str(c->zone, c->obs.zone, sizeof(c->zone)) == NULL ||
	    knot_dname_from_str(c->rand, c->obs.rand_label, sizeof(c->rand)) == NULL) {
		c->obs.deleg = MON_DELEG_FAILED;
		snprintf(c->obs.deleg_why, sizeof(c->obs.deleg_why), "name too long to check");
		finish(c);
		return;
	}
	knot_dname_to_lower(c->zone);
	knot_dname_to_lower(c->rand);
	mon_iter_start(e, c->zone, KNOT_RRTYPE_NS, MON_ITER_STOP_AT_REFERRAL | MON_ITER_USE_PARENTS,
		       0, on_delegation, c);
}
