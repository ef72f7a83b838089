/* dns_answer: one query in, one response out, one event filled.
 *
 * libknot parses the query and writes the response; all its memory comes
 * from the worker's arena, reset per query, so nothing here calls malloc.
 */
#include "dns/dns_internal.h"

#include "core/error.h"
#include "domains/domains.h"

#include <string.h>

#define ATOM_INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

static void *mm_arena_alloc(void *ctx, size_t len)
{
	return arena_alloc(ctx, len);
}

static void mm_arena_free(void *p)
{
	(void)p; /* released by arena_reset */
}

int dns_ctx_init(struct dns_ctx *ctx, struct dns_rrl *rrl, struct dns_stats *stats,
		 const uint8_t cookie_secret[16])
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->rrl = rrl;
	ctx->stats = stats;
	memcpy(ctx->cookie_secret, cookie_secret, sizeof(ctx->cookie_secret));
	/* A query and its response with every libknot structure fit in a
	 * fraction of this; exhaustion only fails the one query (SERVFAIL). */
	return arena_init(&ctx->arena, 256 * 1024);
}

void dns_ctx_deinit(struct dns_ctx *ctx)
{
	arena_deinit(&ctx->arena);
}

/* State of one query while it is answered. */
struct answer {
	struct dns_ctx *ctx;
	const struct dns_data *data;
	const struct dns_query_info *qi;
	knot_mm_t mm;
	knot_pkt_t *q;
	knot_pkt_t *r;
	knot_rrset_t opt;	/* response OPT (when the query had one) */
	bool has_opt;
	uint16_t rcode;		/* full (extended) response code */
	enum dns_rrl_class rrl_class;
	long zone;
	size_t zone_off;
	struct sinkd_event *ev;
};

static void count_rcode(struct dns_stats *st, uint16_t rcode)
{
	switch (rcode) {
	case KNOT_RCODE_NOERROR: ATOM_INC(st->noerror); break;
	case KNOT_RCODE_NXDOMAIN: ATOM_INC(st->nxdomain); break;
	case KNOT_RCODE_REFUSED: ATOM_INC(st->refused); break;
	case KNOT_RCODE_FORMERR: ATOM_INC(st->formerr); break;
	case KNOT_RCODE_NOTIMPL: ATOM_INC(st->notimp); break;
	case KNOT_RCODE_BADVERS: ATOM_INC(st->badvers); break;
	default: ATOM_INC(st->servfail); break;
	}
}

/* Header-only error response (the question could not be parsed). */
static size_t header_only(const uint8_t *query, uint8_t *out, uint16_t rcode)
{
	memset(out, 0, KNOT_WIRE_HEADER_SIZE);
	knot_wire_set_id(out, knot_wire_get_id(query));
	knot_wire_set_opcode(out, knot_wire_get_opcode(query));
	if (knot_wire_get_rd(query))
		knot_wire_set_rd(out);
	knot_wire_set_qr(out);
	knot_wire_set_rcode(out, rcode);
	return KNOT_WIRE_HEADER_SIZE;
}

static void event_fill_question(struct answer *a)
{
	const knot_dname_t *qname = knot_pkt_qname(a->q);
	char *dst = a->ev->qname;
	if (knot_dname_to_str(dst, qname, sizeof(a->ev->qname)) == NULL) {
		dst[0] = '\0';
	} else {
		size_t n = strlen(dst);
		if (n > 0 && dst[n - 1] == '.')
			dst[n - 1] = '\0';
	}
	a->ev->qtype = knot_pkt_qtype(a->q);
	a->ev->qclass = knot_pkt_qclass(a->q);
}

/* Read the query's EDNS options into the event and prepare the response
 * OPT. Returns a response code: 0, FORMERR (bad COOKIE) or BADVERS. */
static uint16_t edns_prepare(struct answer *a)
{
	const knot_rrset_t *qopt = a->q->opt_rr;
	struct sinkd_event *ev = a->ev;
	ev->flags |= EVF_EDNS;
	if (knot_edns_do(qopt))
		ev->flags |= EVF_DO;
	if (knot_edns_init(&a->opt, a->data->cfg.edns_udp_size, 0, 0, &a->mm) != KNOT_EOK)
		return KNOT_RCODE_SERVFAIL;
	a->has_opt = true;
	if (knot_edns_do(qopt))
		knot_edns_set_do(&a->opt);
	if (knot_edns_get_version(qopt) != KNOT_EDNS_VERSION)
		return KNOT_RCODE_BADVERS;

	uint8_t *o = knot_edns_get_option(qopt, KNOT_EDNS_OPTION_CLIENT_SUBNET, NULL);
	if (o != NULL) {
		knot_edns_client_subnet_t ecs;
		if (knot_edns_client_subnet_parse(&ecs, knot_edns_opt_get_data(o),
						  knot_edns_opt_get_length(o)) == KNOT_EOK) {
			ev->flags |= EVF_ECS;
			ev->ecs_family = (uint8_t)ecs.family;
			ev->ecs_source_prefix = ecs.source_len;
			memcpy(ev->ecs_addr, ecs.address, sizeof(ev->ecs_addr));
		}
	}
	if (knot_edns_get_option(qopt, KNOT_EDNS_OPTION_NSID, NULL) != NULL) {
		ev->flags |= EVF_NSID;
		const char *nsid = a->data->cfg.nsid;
		size_t len = strlen(nsid);
		if (len > 0)
			knot_edns_add_option(&a->opt, KNOT_EDNS_OPTION_NSID, (uint16_t)len,
					     (const uint8_t *)nsid, &a->mm);
	}
	o = knot_edns_get_option(qopt, KNOT_EDNS_OPTION_COOKIE, NULL);
	if (o != NULL) {
		ev->flags |= EVF_COOKIE;
		knot_edns_cookie_t cc, sc;
		if (knot_edns_cookie_parse(&cc, &sc, knot_edns_opt_get_data(o),
					   knot_edns_opt_get_length(o)) != KNOT_EOK)
			return KNOT_RCODE_FORMERR;
		knot_edns_cookie_params_t params = {
			.version = KNOT_EDNS_COOKIE_VERSION,
			.timestamp = (uint32_t)(a->qi->now_ns / 1000000000ull),
			.client_addr = a->qi->src,
		};
		memcpy(params.secret, a->ctx->cookie_secret, sizeof(params.secret));
		knot_edns_cookie_t out;
		if (knot_edns_cookie_server_generate(&out, &cc, &params) == KNOT_EOK) {
			uint16_t len = knot_edns_cookie_size(&cc, &out);
			uint8_t *wire = NULL;
			if (knot_edns_reserve_option(&a->opt, KNOT_EDNS_OPTION_COOKIE, len, &wire,
						     &a->mm) == KNOT_EOK)
				knot_edns_cookie_write(wire, len, &cc, &out);
		}
	}
	return 0;
}

/* Put an rrset; running out of space sets TC (libknot does) and is not an
 * error for the caller. Returns false when nothing more fits. */
static bool put(struct answer *a, uint16_t hint, const knot_rrset_t *rr)
{
	int ret = knot_pkt_put(a->r, hint, rr, 0);
	if (ret == KNOT_ESPACE) {
		knot_wire_set_tc(a->r->wire);
		a->ev->flags |= EVF_TC;
		return false;
	}
	return ret == KNOT_EOK;
}

static knot_dname_t *zone_apex(struct answer *a)
{
	return (knot_dname_t *)knot_pkt_qname(a->q) + a->zone_off;
}

static bool put_soa(struct answer *a, knot_section_t section)
{
	const struct dns_data *d = a->data;
	uint8_t mname[KNOT_DNAME_MAXLEN], rname[KNOT_DNAME_MAXLEN];
	const uint8_t *apex = zone_apex(a);
	if (dns_name_resolve(&d->ns[0], apex, mname) == NULL ||
	    dns_name_resolve(&d->rname, apex, rname) == NULL)
		return false;
	size_t ml = knot_dname_size(mname), rl = knot_dname_size(rname);
	uint8_t rd[2 * KNOT_DNAME_MAXLEN + 20];
	memcpy(rd, mname, ml);
	memcpy(rd + ml, rname, rl);
	uint8_t *p = rd + ml + rl;
	knot_wire_write_u32(p, d->serial);
	knot_wire_write_u32(p + 4, d->cfg.soa_refresh);
	knot_wire_write_u32(p + 8, d->cfg.soa_retry);
	knot_wire_write_u32(p + 12, d->cfg.soa_expire);
	knot_wire_write_u32(p + 16, d->cfg.soa_minimum);
	uint32_t ttl = d->cfg.ttl;
	if (section == KNOT_AUTHORITY && d->cfg.soa_minimum < ttl)
		ttl = d->cfg.soa_minimum; /* RFC 2308: negative TTL */
	knot_rrset_t soa;
	knot_rrset_init(&soa, zone_apex(a), KNOT_RRTYPE_SOA, KNOT_CLASS_IN, ttl);
	if (knot_rrset_add_rdata(&soa, rd, (uint16_t)(ml + rl + 20), &a->mm) != KNOT_EOK)
		return false;
	uint16_t hint = a->zone_off == 0 ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	return put(a, hint, &soa);
}

static bool put_addrs(struct answer *a, const knot_dname_t *owner, uint16_t hint,
		      uint16_t type, const knot_rdataset_t *rrs)
{
	if (rrs->count == 0)
		return true;
	knot_rrset_t rr;
	knot_rrset_init(&rr, (knot_dname_t *)owner, type, KNOT_CLASS_IN, a->data->cfg.ttl);
	rr.rrs = *rrs; /* shared read-only rdata; never freed via the packet */
	return put(a, hint, &rr);
}

static bool put_ns(struct answer *a)
{
	const struct dns_data *d = a->data;
	knot_rrset_t ns;
	knot_rrset_init(&ns, zone_apex(a), KNOT_RRTYPE_NS, KNOT_CLASS_IN, d->cfg.ttl);
	uint8_t names[CONFIG_MAX_NS][KNOT_DNAME_MAXLEN];
	for (unsigned i = 0; i < d->n_ns; i++) {
		if (dns_name_resolve(&d->ns[i], zone_apex(a), names[i]) == NULL)
			return false;
		if (knot_rrset_add_rdata(&ns, names[i], (uint16_t)knot_dname_size(names[i]),
					 &a->mm) != KNOT_EOK)
			return false;
	}
	if (!put(a, KNOT_COMPR_HINT_QNAME, &ns))
		return false;
	/* Glue for the nameserver names inside this zone. */
	knot_pkt_begin(a->r, KNOT_ADDITIONAL);
	for (unsigned i = 0; i < d->n_ns; i++) {
		if (!d->ns[i].relative)
			continue;
		knot_dname_t *owner = knot_dname_copy(names[i], &a->mm);
		if (owner == NULL)
			return false;
		if (!put_addrs(a, owner, KNOT_COMPR_HINT_NONE, KNOT_RRTYPE_A, &d->ns_a) ||
		    !put_addrs(a, owner, KNOT_COMPR_HINT_NONE, KNOT_RRTYPE_AAAA, &d->ns_aaaa))
			return false;
	}
	return true;
}

static bool put_mx(struct answer *a)
{
	uint8_t rd[2 + KNOT_DNAME_MAXLEN];
	knot_wire_write_u16(rd, 10);
	if (dns_name_resolve(&a->data->mx, zone_apex(a), rd + 2) == NULL)
		return false;
	knot_rrset_t mx;
	knot_rrset_init(&mx, (knot_dname_t *)knot_pkt_qname(a->q), KNOT_RRTYPE_MX, KNOT_CLASS_IN,
			a->data->cfg.ttl);
	if (knot_rrset_add_rdata(&mx, rd, (uint16_t)(2 + knot_dname_size(rd + 2)), &a->mm) !=
	    KNOT_EOK)
		return false;
	return put(a, KNOT_COMPR_HINT_QNAME, &mx);
}

/* Answer section for a name inside a seized zone. Every name below the apex
 * exists (like a wildcard); returns false for NODATA. */
static bool answer_zone(struct answer *a)
{
	const struct dns_data *d = a->data;
	const knot_dname_t *qname = knot_pkt_qname(a->q);
	bool apex = a->zone_off == 0;
	switch (knot_pkt_qtype(a->q)) {
	case KNOT_RRTYPE_A:
		return d->a.count > 0 &&
		       put_addrs(a, qname, KNOT_COMPR_HINT_QNAME, KNOT_RRTYPE_A, &d->a);
	case KNOT_RRTYPE_AAAA:
		return d->aaaa.count > 0 &&
		       put_addrs(a, qname, KNOT_COMPR_HINT_QNAME, KNOT_RRTYPE_AAAA, &d->aaaa);
	case KNOT_RRTYPE_ANY:
		/* RFC 8482: one RRset is a complete answer. */
		if (d->a.count > 0)
			return put_addrs(a, qname, KNOT_COMPR_HINT_QNAME, KNOT_RRTYPE_A, &d->a);
		return put_addrs(a, qname, KNOT_COMPR_HINT_QNAME, KNOT_RRTYPE_AAAA, &d->aaaa);
	case KNOT_RRTYPE_MX:
		return d->mx.len > 0 && put_mx(a);
	case KNOT_RRTYPE_NS:
		return apex && put_ns(a);
	case KNOT_RRTYPE_SOA:
		return apex && put_soa(a, KNOT_ANSWER);
	default:
		return false;
	}
}

static size_t finish(struct answer *a, uint16_t rcode)
{
	knot_pkt_t *r = a->r;
	if (a->has_opt) {
		knot_edns_set_ext_rcode(&a->opt, (uint8_t)(rcode >> 4));
		knot_pkt_reclaim(r, (uint16_t)knot_edns_wire_size(&a->opt));
		knot_pkt_begin(r, KNOT_ADDITIONAL);
		knot_pkt_put(r, KNOT_COMPR_HINT_NONE, &a->opt, 0);
	}
	knot_wire_set_rcode(r->wire, rcode & 0x0f);
	a->ev->rcode = rcode;
	return r->size;
}

/* Drop the answer down to header + question + OPT with TC=1 (RRL slip). */
static size_t slip(struct answer *a)
{
	knot_pkt_t *r = a->r;
	r->size = KNOT_WIRE_HEADER_SIZE + knot_pkt_question_size(a->q);
	knot_wire_set_ancount(r->wire, 0);
	knot_wire_set_nscount(r->wire, 0);
	knot_wire_set_arcount(r->wire, 0);
	knot_wire_set_tc(r->wire);
	if (a->has_opt) {
		int ret = knot_edns_wire_size(&a->opt) <= r->max_size - r->size
				  ? knot_rrset_to_wire(&a->opt, r->wire + r->size,
						       r->max_size - r->size, NULL)
				  : -1;
		if (ret > 0) {
			r->size += (size_t)ret;
			knot_wire_set_arcount(r->wire, 1);
		}
	}
	return r->size;
}

static uint16_t udp_limit(const struct answer *a, size_t out_max)
{
	size_t lim = KNOT_WIRE_MIN_PKTSIZE;
	if (a->q->opt_rr != NULL) {
		size_t theirs = knot_edns_get_payload(a->q->opt_rr);
		size_t ours = a->data->cfg.edns_udp_size;
		lim = theirs < ours ? theirs : ours;
		if (lim < KNOT_WIRE_MIN_PKTSIZE)
			lim = KNOT_WIRE_MIN_PKTSIZE;
	}
	return (uint16_t)(lim < out_max ? lim : out_max);
}

/* Parsed query -> response. */
static size_t respond(struct answer *a, uint8_t *out, size_t out_max)
{
	struct dns_stats *st = a->ctx->stats;
	uint16_t max = a->qi->tcp ? (uint16_t)(out_max > 65535 ? 65535 : out_max)
				  : udp_limit(a, out_max);
	a->r = knot_pkt_new(out, max, &a->mm);
	if (a->r == NULL || knot_pkt_init_response(a->r, a->q) != KNOT_EOK)
		return header_only(a->q->wire, out, KNOT_RCODE_SERVFAIL);
	uint16_t rcode = KNOT_RCODE_NOERROR;
	if (a->q->opt_rr != NULL) {
		rcode = edns_prepare(a);
		if (a->has_opt)
			knot_pkt_reserve(a->r, (uint16_t)knot_edns_wire_size(&a->opt));
	}
	a->rrl_class = RRL_ERROR;
	if (rcode != 0)
		return finish(a, rcode);
	if (knot_pkt_qclass(a->q) != KNOT_CLASS_IN)
		goto refused;
	uint16_t qtype = knot_pkt_qtype(a->q);
	if (qtype == KNOT_RRTYPE_AXFR || qtype == KNOT_RRTYPE_IXFR)
		goto refused;
	a->zone = domains_match_wire(a->data->reg, knot_pkt_qname(a->q), &a->zone_off);
	if (a->zone < 0)
		goto refused;
	const char *zname = domains_name(a->data->reg, (size_t)a->zone);
	strncpy(a->ev->zone, zname, sizeof(a->ev->zone) - 1);
	knot_wire_set_aa(a->r->wire);
	knot_pkt_begin(a->r, KNOT_ANSWER);
	if (answer_zone(a)) {
		a->rrl_class = RRL_ANSWER;
	} else if (!knot_wire_get_tc(a->r->wire)) {
		a->rrl_class = RRL_NODATA;
		knot_pkt_begin(a->r, KNOT_AUTHORITY);
		put_soa(a, KNOT_AUTHORITY);
	}
	return finish(a, rcode);
refused:
	a->rrl_class = RRL_REFUSED;
	(void)st;
	return finish(a, KNOT_RCODE_REFUSED);
}

static size_t rate_limit(struct answer *a, size_t len)
{
	if (a->qi->tcp || a->ctx->rrl == NULL || len == 0)
		return len;
	uint32_t now_s = (uint32_t)(a->qi->now_ns / 1000000000ull);
	switch (dns_rrl_check(a->ctx->rrl, a->qi->src, a->rrl_class, a->zone, now_s)) {
	case RRL_PASS:
		return len;
	case RRL_SLIP:
		a->ev->flags |= EVF_RRL_SLIP;
		ATOM_INC(a->ctx->stats->rrl_slipped);
		return slip(a);
	case RRL_DROP:
	default:
		a->ev->flags |= EVF_RRL_DROP;
		ATOM_INC(a->ctx->stats->rrl_dropped);
		return 0;
	}
}

size_t dns_answer(struct dns_ctx *ctx, const struct dns_data *data,
		  const struct dns_query_info *qi, const uint8_t *query, size_t qlen,
		  uint8_t *out, size_t out_max, struct sinkd_event *ev)
{
	struct dns_stats *st = ctx->stats;
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = qi->now_ns;
	ev->transport = qi->tcp ? TRANSPORT_TCP : TRANSPORT_UDP;
	event_addr_from_sockaddr(&ev->src, (const struct sockaddr *)qi->src);
	if (qi->dst != NULL)
		event_addr_from_sockaddr(&ev->dst, (const struct sockaddr *)qi->dst);
	ATOM_INC(st->queries);
	if (qlen < KNOT_WIRE_HEADER_SIZE) {
		ATOM_INC(st->drop_short);
		return 0;
	}
	ev->kind = EVENT_DNS;
	ev->msg_size = (uint16_t)(qlen > 65535 ? 65535 : qlen);
	if (knot_wire_get_qr(query)) {
		/* Never answer a response: that is how reflection loops start. */
		ev->flags |= EVF_MALFORMED;
		ATOM_INC(st->drop_response);
		return 0;
	}
	struct answer a = {.ctx = ctx, .data = data, .qi = qi, .ev = ev, .zone = -1};
	a.mm = (knot_mm_t){.ctx = &ctx->arena, .alloc = mm_arena_alloc, .free = mm_arena_free};
	arena_reset(&ctx->arena);

	size_t len;
	uint16_t rcode;
	if (knot_wire_get_opcode(query) != KNOT_OPCODE_QUERY) {
		rcode = KNOT_RCODE_NOTIMPL;
		goto header_reply;
	}
	if (knot_wire_get_qdcount(query) != 1) {
		rcode = KNOT_RCODE_FORMERR;
		goto header_reply;
	}
	a.q = knot_pkt_new((uint8_t *)query, (uint16_t)(qlen > 65535 ? 65535 : qlen), &a.mm);
	if (a.q == NULL) {
		rcode = KNOT_RCODE_SERVFAIL;
		goto header_reply;
	}
	int ret = knot_pkt_parse(a.q, 0);
	if (ret != KNOT_EOK && ret != KNOT_ETRAIL) {
		rcode = KNOT_RCODE_FORMERR;
		if (a.q->qname_size > 0)
			event_fill_question(&a);
		goto header_reply;
	}
	event_fill_question(&a);
	len = respond(&a, out, out_max);
	count_rcode(st, ev->rcode);
	if (ev->flags & EVF_TC)
		ATOM_INC(st->truncated);
	len = rate_limit(&a, len);
	if (len > 0)
		ATOM_INC(st->answered);
	return len;

header_reply:
	ev->flags |= rcode == KNOT_RCODE_FORMERR ? EVF_MALFORMED : 0;
	ev->rcode = rcode;
	count_rcode(st, rcode);
	len = header_only(query, out, rcode);
	/* Error replies are rate limited like any other UDP response. */
	a.rrl_class = RRL_ERROR;
	if (!qi->tcp && ctx->rrl != NULL) {
		uint32_t now_s = (uint32_t)(qi->now_ns / 1000000000ull);
		if (dns_rrl_check(ctx->rrl, qi->src, RRL_ERROR, -1, now_s) != RRL_PASS) {
			ev->flags |= EVF_RRL_DROP;
			ATOM_INC(st->rrl_dropped);
			return 0;
		}
	}
	ATOM_INC(st->answered);
	return len;
}
