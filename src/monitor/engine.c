/* The resolver engine of one round: c-ares channels (one per server set,
 * created on first use), one epoll loop over all their sockets, and the
 * zone-cut cache. c-ares owns the transport: timeouts, tries over the
 * servers of a set, TCP when an answer is truncated, matching answers to
 * queries (id and question). Questions are built and answers parsed with
 * libknot. Single-threaded: everything runs inside mon_engine_run.
 */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <ares.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CHAN_BUCKETS 1024 /* power of two */
#define ZONE_BUCKETS 1024 /* power of two */
#define TICK_MS 20	  /* timeout processing granularity */

struct mon_chan {
	ares_channel ch;
	struct mon_engine *e;
	bool raw;
	struct mon_srvset servers;
	uint64_t hash;
	unsigned inflight;	    /* sent, not answered yet */
	struct mon_q *qhead, *qtail; /* waiting for inflight < concurrency */
	struct mon_chan *next;	    /* hash bucket */
};

struct mon_zone {
	uint8_t name[KNOT_DNAME_MAXLEN];
	uint64_t hash;
	struct mon_srvset servers;
	struct mon_zone *next;
};

struct mon_engine {
	struct mon_settings set;
	const atomic_bool *cancel;
	int epfd;
	bool closing;
	struct mon_chan **all; /* every channel, for timeouts and teardown */
	size_t n_all, cap_all;
	struct mon_chan *chan_bucket[CHAN_BUCKETS];
	struct mon_zone *zone_bucket[ZONE_BUCKETS];
	struct mon_chan **fdmap; /* socket -> channel */
	size_t fdmap_len;
	uint64_t pending; /* queries sent or waiting */
	uint64_t rng;	  /* query ids */
	struct mon_engine_counts counts;
};

struct mon_q {
	struct mon_chan *c;
	mon_query_cb cb;
	void *arg;
	struct mon_q *next;
	uint16_t len;
	uint8_t wire[KNOT_WIRE_HEADER_SIZE + KNOT_DNAME_MAXLEN + 4];
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *mon_qerr_text(int err)
{
	switch (err) {
	case 0:
		return "answered";
	case MON_QERR_TIMEOUT:
		return "no answer (timeout)";
	case MON_QERR_UNREACHABLE:
		return "unreachable (connection refused)";
	case MON_QERR_RCODE:
		return "no usable answer (SERVFAIL, REFUSED or connection refused)";
	case MON_QERR_BADRESP:
		return "malformed answer";
	case MON_QERR_CANCELLED:
		return "check cancelled";
	default:
		return "local error";
	}
}

static int map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ETIMEOUT:
		return MON_QERR_TIMEOUT;
	case ARES_ECONNREFUSED:
		return MON_QERR_UNREACHABLE;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
		return MON_QERR_RCODE;
	case ARES_EBADRESP:
	case ARES_EFORMERR:
		return MON_QERR_BADRESP;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return MON_QERR_CANCELLED;
	default:
		return MON_QERR_LOCAL;
	}
}

/* ---- sockets ----------------------------------------------------------------- */

static int fdmap_set(struct mon_engine *e, int fd, struct mon_chan *c)
{
	if ((size_t)fd >= e->fdmap_len) {
		size_t len = e->fdmap_len ? e->fdmap_len : 256;
		while (len <= (size_t)fd)
			len *= 2;
		struct mon_chan **m = realloc(e->fdmap, len * sizeof(*m));
		if (m == NULL)
			return SINKD_ENOMEM;
		memset(m + e->fdmap_len, 0, (len - e->fdmap_len) * sizeof(*m));
		e->fdmap = m;
		e->fdmap_len = len;
	}
	e->fdmap[fd] = c;
	return 0;
}

/* c-ares tells which sockets it wants watched, and for what. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct mon_chan *c = data;
	struct mon_engine *e = c->e;
	if (fd < 0)
		return;
	bool known = (size_t)fd < e->fdmap_len && e->fdmap[fd] != NULL;
	if (!readable && !writable) {
		if (known)
			epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
		fdmap_set(e, fd, NULL);
		return;
	}
	struct epoll_event ev = {.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u),
				 .data.fd = fd};
	if (fdmap_set(e, fd, c) != 0) {
		log_err("monitor: out of memory watching a socket");
		return;
	}
	if (epoll_ctl(e->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 &&
	    epoll_ctl(e->epfd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0)
		log_err("monitor: epoll_ctl: %s", strerror(errno));
}

/* ---- channels ----------------------------------------------------------------- */

static uint64_t chan_hash(const struct mon_srvset *s, bool raw)
{
	uint64_t h = fnv(&raw, sizeof(raw), 0xcbf29ce484222325ULL);
	for (unsigned i = 0; i < s->n; i++)
		h = fnv(&s->s[i].ss, s->s[i].len, h);
	return h;
}

static bool same_servers(const struct mon_srvset *a, const struct mon_srvset *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		if (a->s[i].len != b->s[i].len || memcmp(&a->s[i].ss, &b->s[i].ss, a->s[i].len))
			return false;
	}
	return true;
}

static int chan_servers(struct mon_chan *c)
{
	struct ares_addr_port_node nodes[MON_MAX_SERVERS];
	memset(nodes, 0, sizeof(nodes));
	for (unsigned i = 0; i < c->servers.n; i++) {
		struct ares_addr_port_node *n = &nodes[i];
		const struct sockaddr_storage *ss = &c->servers.s[i].ss;
		n->next = i + 1 < c->servers.n ? &nodes[i + 1] : NULL;
		n->family = ss->ss_family;
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
			n->addr.addr4 = s4->sin_addr;
			n->udp_port = n->tcp_port = ntohs(s4->sin_port);
		} else {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
			memcpy(&n->addr.addr6, &s6->sin6_addr, 16);
			n->udp_port = n->tcp_port = ntohs(s6->sin6_port);
		}
	}
	return ares_set_servers_ports(c->ch, nodes);
}

static struct mon_chan *chan_new(struct mon_engine *e, const struct mon_srvset *servers, bool raw,
				 uint64_t hash)
{
	if (e->n_all == e->cap_all) {
		size_t cap = e->cap_all ? e->cap_all * 2 : 64;
		struct mon_chan **all = realloc(e->all, cap * sizeof(*all));
		if (all == NULL)
			return NULL;
		e->all = all;
		e->cap_all = cap;
	}
	struct mon_chan *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = e;
	c->raw = raw;
	c->servers = *servers;
	c->hash = hash;
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NORECURSE |
		  (raw ? ARES_FLAG_NOCHECKRESP : 0);
	o.timeout = (int)e->set.timeout_ms;
	o.tries = (int)e->set.tries;
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = c;
	o.lookups = (char *)"b";
	o.resolvconf_path = (char *)"/dev/null"; /* never the system's resolvers */
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
		   ARES_OPT_LOOKUPS | ARES_OPT_RESOLVCONF |
		   (servers->n > 1 ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE);
	int ret = ares_init_options(&c->ch, &o, mask);
	if (ret == ARES_SUCCESS && (ret = chan_servers(c)) != ARES_SUCCESS)
		ares_destroy(c->ch);
	if (ret != ARES_SUCCESS) {
		log_err("monitor: c-ares channel: %s", ares_strerror(ret));
		free(c);
		return NULL;
	}
	e->all[e->n_all++] = c;
	c->next = e->chan_bucket[hash & (CHAN_BUCKETS - 1)];
	e->chan_bucket[hash & (CHAN_BUCKETS - 1)] = c;
	e->counts.channels++;
	return c;
}

static struct mon_chan *chan_get(struct mon_engine *e, const struct mon_srvset *servers, bool raw)
{
	uint64_t h = chan_hash(servers, raw);
	for (struct mon_chan *c = e->chan_bucket[h & (CHAN_BUCKETS - 1)]; c; c = c->next) {
		if (c->hash == h && c->raw == raw && same_servers(&c->servers, servers))
			return c;
	}
	return chan_new(e, servers, raw, h);
}

/* ---- queries ------------------------------------------------------------------ */

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

static void send_q(struct mon_chan *c, struct mon_q *q)
{
	c->inflight++;
	ares_send(c->ch, q->wire, q->len, on_answer, q);
}

/* At most `concurrency` queries outstanding per server set: a burst of
 * checks must not flood one server (its socket buffers drop the excess). */
static void send_waiting(struct mon_chan *c)
{
	while (c->qhead != NULL && c->inflight < c->e->set.concurrency && !c->e->closing) {
		struct mon_q *q = c->qhead;
		c->qhead = q->next;
		if (c->qhead == NULL)
			c->qtail = NULL;
		send_q(c, q);
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct mon_q *q = arg;
	struct mon_chan *c = q->c;
	struct mon_engine *e = c->e;
	mon_query_cb cb = q->cb;
	void *cb_arg = q->arg;
	bool q_raw = c->raw;
	c->inflight--;
	e->pending--;
	free(q);
	send_waiting(c);
	int err = map_status(status);
	/* A checked (non-raw) channel also ends with ECONNREFUSED when every
	 * server answered SERVFAIL or REFUSED. */
	if (err == MON_QERR_UNREACHABLE && !q_raw)
		err = MON_QERR_RCODE;
	knot_pkt_t *pkt = NULL;
	uint8_t *copy = NULL;
	if (err == 0 && abuf != NULL && alen > 0 && alen <= KNOT_WIRE_MAX_PKTSIZE &&
	    (copy = malloc((size_t)alen)) != NULL) {
		memcpy(copy, abuf, (size_t)alen);
		pkt = knot_pkt_new(copy, (uint16_t)alen, NULL);
		if (pkt == NULL || knot_pkt_parse(pkt, 0) != KNOT_EOK)
			err = MON_QERR_BADRESP;
	} else if (err == 0) {
		err = MON_QERR_BADRESP;
	}
	if (err != 0)
		e->counts.failures++;
	cb(cb_arg, err, err == 0 ? pkt : NULL);
	knot_pkt_free(pkt);
	free(copy);
}

void mon_query(struct mon_engine *e, const struct mon_srvset *servers, bool raw,
	       const uint8_t *qname, uint16_t qtype, mon_query_cb cb, void *arg)
{
	size_t nlen = knot_dname_size(qname);
	struct mon_chan *c = NULL;
	struct mon_q *q = NULL;
	if (e->closing || mon_engine_cancelled(e)) {
		cb(arg, MON_QERR_CANCELLED, NULL);
		return;
	}
	if (servers->n == 0 || nlen > KNOT_DNAME_MAXLEN ||
	    (c = chan_get(e, servers, raw)) == NULL || (q = malloc(sizeof(*q))) == NULL) {
		cb(arg, MON_QERR_LOCAL, NULL);
		return;
	}
	/* c-ares sends the buffer as it is and matches answers by id and
	 * question: the id must be unpredictable (off-path spoofing). RD=0. */
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	*q = (struct mon_q){.c = c, .cb = cb, .arg = arg};
	uint8_t *w = q->wire;
	knot_wire_set_id(w, (uint16_t)(e->rng >> 24));
	knot_wire_set_qdcount(w, 1);
	memcpy(w + KNOT_WIRE_HEADER_SIZE, qname, nlen);
	knot_wire_write_u16(w + KNOT_WIRE_HEADER_SIZE + nlen, qtype);
	knot_wire_write_u16(w + KNOT_WIRE_HEADER_SIZE + nlen + 2, KNOT_CLASS_IN);
	q->len = (uint16_t)(KNOT_WIRE_HEADER_SIZE + nlen + 4);
	e->pending++;
	e->counts.queries++;
	if (c->inflight < e->set.concurrency) {
		send_q(c, q);
		return;
	}
	if (c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
}

/* ---- loop ----------------------------------------------------------------------- */

bool mon_engine_cancelled(const struct mon_engine *e)
{
	return e->cancel != NULL && atomic_load_explicit(e->cancel, memory_order_relaxed);
}

static void process_timeouts(struct mon_engine *e)
{
	/* Callbacks may add channels: index, never a cached end pointer. */
	for (size_t i = 0; i < e->n_all; i++) {
		if (e->all[i]->inflight > 0)
			ares_process_fd(e->all[i]->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

void mon_engine_run(struct mon_engine *e)
{
	struct epoll_event evs[128];
	int64_t last_tick = now_ms();
	while (e->pending > 0 && !mon_engine_cancelled(e)) {
		int n = epoll_wait(e->epfd, evs, 128, TICK_MS);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct mon_chan *c = (size_t)fd < e->fdmap_len ? e->fdmap[fd] : NULL;
			if (c == NULL)
				continue;
			uint32_t ev = evs[i].events;
			ares_process_fd(c->ch,
					ev & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
					ev & EPOLLOUT ? fd : ARES_SOCKET_BAD);
		}
		int64_t now = now_ms();
		if (n <= 0 || now - last_tick >= TICK_MS) {
			process_timeouts(e);
			last_tick = now;
		}
	}
}

/* ---- zone cuts ------------------------------------------------------------------ */

void mon_engine_cache(struct mon_engine *e, const uint8_t *zone, const struct mon_srvset *servers)
{
	size_t len = knot_dname_size(zone);
	uint64_t h = fnv(zone, len, 0xcbf29ce484222325ULL);
	struct mon_zone **head = &e->zone_bucket[h & (ZONE_BUCKETS - 1)];
	for (struct mon_zone *z = *head; z; z = z->next) {
		if (z->hash == h && knot_dname_is_equal(z->name, zone))
			return; /* first referral wins for the round */
	}
	struct mon_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return; /* only a cache */
	memcpy(z->name, zone, len);
	z->hash = h;
	z->servers = *servers;
	z->next = *head;
	*head = z;
}

void mon_engine_closest(struct mon_engine *e, const uint8_t *qname, struct mon_srvset *servers,
			uint8_t *zone)
{
	for (const uint8_t *p = qname; *p != 0; p += *p + 1) {
		size_t len = knot_dname_size(p);
		uint64_t h = fnv(p, len, 0xcbf29ce484222325ULL);
		for (struct mon_zone *z = e->zone_bucket[h & (ZONE_BUCKETS - 1)]; z; z = z->next) {
			if (z->hash == h && knot_dname_is_equal(z->name, p)) {
				*servers = z->servers;
				memcpy(zone, p, len);
				return;
			}
		}
	}
	*servers = e->set.hints;
	zone[0] = 0;
}

/* ---- life --------------------------------------------------------------------- */

int mon_engine_new(struct mon_engine **out, const struct mon_settings *set,
		   const atomic_bool *cancel)
{
	struct mon_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return SINKD_ENOMEM;
	e->set = *set;
	e->cancel = cancel;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		log_err("monitor: epoll_create1: %s", strerror(errno));
		free(e);
		return SINKD_EIO;
	}
	if (getrandom(&e->rng, sizeof(e->rng), 0) != sizeof(e->rng) || e->rng == 0)
		e->rng = (uint64_t)now_ms() | 1;
	ares_library_init(ARES_LIB_INIT_ALL);
	*out = e;
	return 0;
}

void mon_engine_free(struct mon_engine *e)
{
	if (e == NULL)
		return;
	/* Outstanding queries end with ARES_EDESTRUCTION; their callbacks must
	 * not start new ones. */
	e->closing = true;
	for (size_t i = 0; i < e->n_all; i++)
		ares_destroy(e->all[i]->ch);
	for (size_t i = 0; i < e->n_all; i++) {
		for (struct mon_q *q = e->all[i]->qhead, *next; q != NULL; q = next) {
			next = q->next;
			e->pending--;
			q->cb(q->arg, MON_QERR_CANCELLED, NULL);
			free(q);
		}
		e->all[i]->qhead = e->all[i]->qtail = NULL;
	}
	for (size_t i = 0; i < e->n_all; i++)
		free(e->all[i]);
	for (size_t i = 0; i < ZONE_BUCKETS; i++) {
		for (struct mon_zone *z = e->zone_bucket[i], *next; z; z = next) {
			next = z->next;
			free(z);
		}
	}
	free(e->all);
	free(e->fdmap);
	close(e->epfd);
	ares_library_cleanup();
	free(e);
}

const struct mon_settings *mon_engine_settings(const struct mon_engine *e) { return &e->set; }

void mon_engine_counts(const struct mon_engine *e, struct mon_engine_counts *out)
{
	*out = e->counts;
}
