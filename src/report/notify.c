/* `sinkd report notify --asn N[,N] | --cidr LIST [--out DIR]`: one CSV
 * per network owner (an ASN or a network) in the column layout of
 * Shadowserver's "Sinkhole HTTP Events" report, after a README-style
 * header saying what was seen and how to clean it. DNS queries are left
 * out (their sources are resolvers, not infected hosts). */
#include "report/report_internal.h"

#include "core/error.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define OWNERS_MAX 64

static const char *const columns[] = {
    "timestamp",      "protocol",     "src_ip",	      "src_port",   "src_asn",	    "src_geo",
    "src_region",     "src_city",     "src_hostname", "dst_ip",	    "dst_port",	    "dst_asn",
    "dst_geo",	      "infection",    "family",	      "tag",	    "application",  "version",
    "event_id",	      "http_url",     "http_host",    "http_agent", "http_referer", "ssl_cipher",
    "ssl_servername", "forwarded_by", "severity",     NULL};

/* What each family is and how to clean it (public descriptions). */
static const struct {
	const char *family, *what, *clean;
} advice[] = {
    {"waledac",
     "Waledac, a spam botnet (2008-2010): infected Windows hosts POST encrypted check-ins "
     "(a=...&b=...) to its command-and-control domains, now sinkholed.",
     "Run an up-to-date anti-malware scanner (Microsoft Safety Scanner, Malicious Software "
     "Removal Tool); Waledac hides in the Run registry keys; reinstall if in doubt."},
    {"kelihos", "Kelihos (Waledac 2.0), a spam and credential-theft peer-to-peer botnet.",
     "Scan with an up-to-date anti-malware tool; change passwords used on the host; "
     "reinstall if in doubt."},
};

struct owner {
	bool is_asn;
	uint32_t asn;
	uint8_t net[16];
	unsigned prefix; /* in the 128-bit (IPv4-mapped) space */
	char label[64];
	FILE *f;
	char path[1200];
	uint64_t rows;
	uint64_t first_ns, last_ns;
	char families[256];
};

struct notify {
	struct owner owners[OWNERS_MAX];
	size_t n;
	const char *dir;
	int err;
};

static int parse_cidr(const char *text, struct owner *o)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", text);
	char *slash = strchr(buf, '/');
	unsigned prefix = 128;
	if (slash != NULL) {
		*slash = '\0';
		char *end;
		prefix = (unsigned)strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0')
			return SINKD_EINVAL;
	}
	struct in_addr a4;
	struct in6_addr a6;
	memset(o->net, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (slash == NULL)
			prefix = 32;
		if (prefix > 32)
			return SINKD_EINVAL;
		o->net[10] = o->net[11] = 0xff;
		memcpy(o->net + 12, &a4, 4);
		prefix += 96;
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		memcpy(o->net, &a6, 16);
	} else {
		return SINKD_EINVAL;
	}
	if (prefix > 128)
		return SINKD_EINVAL;
	o->prefix = prefix;
	snprintf(o->label, sizeof(o->label), "%s", text);
	return 0;
}

static bool in_net(const struct owner *o, const uint8_t ip[16])
{
	unsigned bits = o->prefix;
	for (unsigned i = 0; i < 16 && bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((ip[i] & mask) != (o->net[i] & mask))
			return false;
	}
	return true;
}

static void csv_field(FILE *f, const char *s, size_t len)
{
	bool quote = false;
	for (size_t i = 0; i < len; i++)
		quote |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static void section(FILE *f, const struct sinkd_event *ev, int type)
{
	const uint8_t *d;
	size_t len;
	if (event_payload_get(ev, (uint8_t)type, &d, &len) == 0)
		csv_field(f, (const char *)d, len);
}

static const char *severity_name(uint8_t s)
{
	static const char *const names[] = {"", "low", "medium", "high", "critical"};
	return s < 5 ? names[s] : "";
}

static void write_row(FILE *f, const struct store_row *row)
{
	const struct sinkd_event *ev = &row->ev;
	char ts[40], src[64], dst[64], proxy[64] = "";
	time_t t = (time_t)(ev->ts_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	event_addr_str(&ev->src, src, sizeof(src));
	event_addr_str(&ev->dst, dst, sizeof(dst));
	if (ev->flags & EVF_PROXIED)
		event_addr_str(&ev->proxy, proxy, sizeof(proxy));
	bool tls = ev->kind == EVENT_TLS || (ev->flags & EVF_TLS);
	const char *app = ev->kind == EVENT_HTTP  ? (tls ? "https" : "http")
			  : ev->kind == EVENT_TLS ? "tls"
						  : (ev->proto[0] != '\0' ? ev->proto : "unknown");
	uint8_t idbuf[40];
	memcpy(idbuf, &ev->ts_ns, 8);
	memcpy(idbuf + 8, ev->src.ip, 16);
	memcpy(idbuf + 24, &ev->src.port, 2);
	memcpy(idbuf + 26, &ev->conn_id, 8);
	fprintf(f, "%s,%s,%s,%u,", ts, ev->transport == TRANSPORT_UDP ? "udp" : "tcp", src,
		ev->src.port);
	if (ev->asn != 0)
		fprintf(f, "%u", ev->asn);
	fprintf(f, ",%s,,,,%s,%u,,,", ev->country, dst, ev->dst.port);
	csv_field(f, ev->family, strlen(ev->family)); /* infection */
	fputc(',', f);
	csv_field(f, ev->family, strlen(ev->family));
	fputc(',', f);
	csv_field(f, ev->tag, strlen(ev->tag));
	fprintf(f, ",%s,", app);
	csv_field(f, ev->proto_version, strlen(ev->proto_version));
	fprintf(f, ",%016llx,", (unsigned long long)hll_hash(idbuf, 34));
	if (ev->kind == EVENT_HTTP) {
		section(f, ev, EVP_TARGET);
		fputc(',', f);
		csv_field(f, ev->qname, strlen(ev->qname));
		fputc(',', f);
		section(f, ev, EVP_USER_AGENT);
		fputc(',', f);
		section(f, ev, EVP_REFERER);
	} else {
		fputs(",,,", f);
	}
	fputs(",,", f); /* ssl_cipher: not negotiated by the sinkhole's recorder */
	if (tls)
		csv_field(f, ev->qname, strlen(ev->qname));
	fprintf(f, ",%s,%s\n", proxy, severity_name(ev->severity));
}

static int open_owner(struct notify *n, struct owner *o)
{
	char name[96];
	if (o->is_asn)
		snprintf(name, sizeof(name), "AS%u.csv", o->asn);
	else {
		snprintf(name, sizeof(name), "%s.csv", o->label);
		for (char *p = name; *p != '\0'; p++) {
			if (*p == '/' || *p == ':')
				*p = '_';
		}
	}
	snprintf(o->path, sizeof(o->path), "%s/%s", n->dir, name);
	/* The body first, to a temporary file: the header needs the totals. */
	o->f = tmpfile();
	return o->f == NULL ? SINKD_EIO : 0;
}

static int on_row(const struct store_row *row, void *ctx)
{
	struct notify *n = ctx;
	const struct sinkd_event *ev = &row->ev;
	if (row->aggregate || ev->kind == EVENT_DNS)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		struct owner *o = &n->owners[i];
		if (o->is_asn ? ev->asn != o->asn : !in_net(o, ev->src.ip))
			continue;
		if (o->f == NULL && (n->err = open_owner(n, o)) != 0)
			return 1;
		write_row(o->f, row);
		if (o->rows++ == 0 || ev->ts_ns < o->first_ns)
			o->first_ns = ev->ts_ns;
		if (ev->ts_ns > o->last_ns)
			o->last_ns = ev->ts_ns;
		if (ev->family[0] != '\0' && strstr(o->families, ev->family) == NULL &&
		    strlen(o->families) + strlen(ev->family) + 2 < sizeof(o->families)) {
			if (o->families[0] != '\0')
				strcat(o->families, ",");
			strcat(o->families, ev->family);
		}
	}
	return 0;
}

static void header(FILE *f, const struct owner *o, bool truncated)
{
	char a[32], b[32];
	report_time_text((uint32_t)(o->first_ns / 1000000000ull), false, a, sizeof(a));
	report_time_text((uint32_t)(o->last_ns / 1000000000ull), false, b, sizeof(b));
	fprintf(f, "# sinkd network-owner notification for %s%s\n", o->is_asn ? "AS" : "",
		o->label);
	fprintf(f,
		"#\n# %llu connections from hosts in your network reached a sinkhole that "
		"has taken over\n# botnet command-and-control domains, between %s and %s.\n"
		"# Each row is one check-in of an infected host; the sinkhole answered "
		"inertly.\n#\n",
		(unsigned long long)o->rows, a, b);
	char fams[256];
	snprintf(fams, sizeof(fams), "%s", o->families);
	bool any = false;
	for (char *save = NULL, *fam = strtok_r(fams, ",", &save); fam != NULL;
	     fam = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
			if (strcasecmp(fam, advice[i].family) == 0) {
				fprintf(f, "# Infection: %s\n# How to clean: %s\n#\n",
					advice[i].what, advice[i].clean);
				any = true;
			}
		}
	}
	if (!any)
		fprintf(f, "# Infection: malware calling a seized command-and-control domain "
			   "(family column).\n# How to clean: identify the host from src_ip, "
			   "src_port and timestamp (NAT logs),\n# scan it with an up-to-date "
			   "anti-malware tool and reinstall if in doubt.\n#\n");
	fprintf(f, "# Columns follow Shadowserver's \"Sinkhole HTTP Events\" report; "
		   "src_region, src_city,\n# src_hostname, dst_asn, dst_geo and ssl_cipher "
		   "are not known to this sinkhole (empty).\n");
	if (truncated)
		fprintf(f, "# Only the newest events were searched (scan budget reached): "
			   "narrow --since/--until.\n");
	for (size_t i = 0; columns[i] != NULL; i++)
		fprintf(f, "%s%s", i > 0 ? "," : "", columns[i]);
	fputc('\n', f);
}

static int finish(struct notify *n, bool truncated)
{
	int ret = 0;
	for (size_t i = 0; i < n->n; i++) {
		struct owner *o = &n->owners[i];
		if (o->f == NULL) {
			printf("%s%s: no events\n", o->is_asn ? "AS" : "", o->label);
			continue;
		}
		FILE *out = fopen(o->path, "w");
		if (out == NULL) {
			fprintf(stderr, "sinkd report notify: cannot write %s: %s\n", o->path,
				strerror(errno));
			ret = 1;
		} else {
			header(out, o, truncated);
			rewind(o->f);
			char buf[65536];
			size_t k;
			while ((k = fread(buf, 1, sizeof(buf), o->f)) > 0)
				fwrite(buf, 1, k, out);
			if (fclose(out) != 0)
				ret = 1;
			printf("%s: %llu events\n", o->path, (unsigned long long)o->rows);
		}
		fclose(o->f);
	}
	return ret;
}

static int add_owners(struct notify *n, const char *list, bool asn)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (n->n == OWNERS_MAX) {
			fprintf(stderr, "sinkd report notify: at most %d owners per run\n",
				OWNERS_MAX);
			return 2;
		}
		struct owner *o = &n->owners[n->n];
		memset(o, 0, sizeof(*o));
		o->is_asn = asn;
		if (asn) {
			char *end;
			unsigned long v = strtoul(t[0] == 'A' || t[0] == 'a' ? t + 2 : t, &end, 10);
			if (*end != '\0' || v == 0 || v > UINT32_MAX) {
				fprintf(stderr,
					"sinkd report notify: --asn '%s': expected an AS "
					"number\n",
					t);
				return 2;
			}
			o->asn = (uint32_t)v;
			snprintf(o->label, sizeof(o->label), "%lu", v);
		} else if (parse_cidr(t, o) != 0) {
			fprintf(stderr,
				"sinkd report notify: --cidr '%s': expected a network "
				"like 192.0.2.0/24 or 2001:db8::/32\n",
				t);
			return 2;
		}
		n->n++;
	}
	return 0;
}

int report_notify_cli(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"asn", required_argument, NULL, 'a'},    {"cidr", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},  {"store", required_argument, NULL, 'S'},
	    {"config", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
	struct notify n = {.dir = "."};
	struct store_filter sf = {.limit = 100000, .scan_max = 50000000};
	const char *store_path = NULL, *config = NULL;
	int opt, ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		switch (opt) {
		case 'a':
		case 'n':
			if ((ret = add_owners(&n, optarg, opt == 'a')) != 0)
				return ret;
			break;
		case 'o':
			n.dir = optarg;
			break;
		case 's':
		case 'u':
			if (store_time_parse(optarg, now_ns,
					     opt == 's' ? &sf.since_ns : &sf.until_ns) != 0) {
				fprintf(stderr, "sinkd report notify: bad time '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			store_path = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			fprintf(stderr, "usage: sinkd report notify --asn N[,N] | --cidr LIST "
					"[--out DIR] [--since T] [--until T] [--store P]\n");
			return 2;
		}
	}
	if (n.n == 0) {
		fprintf(stderr, "sinkd report notify: give --asn N or --cidr LIST\n");
		return 2;
	}
	struct stat sb;
	if (stat(n.dir, &sb) != 0 && mkdir(n.dir, 0755) != 0) {
		fprintf(stderr, "sinkd report notify: cannot create %s: %s\n", n.dir,
			strerror(errno));
		return 1;
	}
	struct store *st;
	if (report_open_store(store_path, config, &st) != 0)
		return 1;
	/* One query per kind: DNS rows never take the limit's room. */
	static const char *const kinds[] = {"http", "tls", "raw"};
	bool stopped = false;
	ret = 0;
	for (size_t i = 0; i < 3 && ret == 0 && n.err == 0; i++) {
		struct store_scan scan = {0};
		sf.type = kinds[i];
		ret = store_query_scan(st, &sf, on_row, &n, &scan);
		stopped |= scan.stopped;
	}
	store_close(st);
	if (ret != 0 || n.err != 0) {
		fprintf(stderr, "sinkd report notify: %s\n",
			sinkd_strerror(ret != 0 ? ret : n.err));
		for (size_t i = 0; i < n.n; i++) {
			if (n.owners[i].f != NULL)
				fclose(n.owners[i].f);
		}
		return 1;
	}
	return finish(&n, stopped);
}
