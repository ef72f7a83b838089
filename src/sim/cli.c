/* `sinkd sim`: options, the population, and where its check-ins go. */
#include "sim/sim_internal.h"

#include "core/config.h"
#include "core/error.h"
#include "domains/domains.h"
#include "ingest/ingest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ASN_DIR SINKD_THIRD_PARTY_DIR "/@ip-location-db/asn"
#define GEO_DIR SINKD_THIRD_PARTY_DIR "/@ip-location-db/geo-whois-asn-country-mmdb"

static const char usage_text[] =
    "usage: sinkd sim [population options] [--live HOST:DNS,HTTP,TLS | --out FILE | --store PATH]\n"
    "\n"
    "population (defaults in brackets; docs/sim.md):\n"
    "  --bots N [100]  --days D [1]  --seed S [1]  --start T [2026-01-01T00:00:00Z]\n"
    "  --mix waledac=0.6,kelihos=0.2,generic=0.2[,unknown=W]\n"
    "  --interval SECONDS [3600]  --jitter F [0.2]  --diurnal A [0.5]\n"
    "  --churn P [0.1]  --nat F[:GROUP] [0.1:4]  --ipv6 F [0.05]  --half-life DAYS [0: never]\n"
    "  --tls F [0.3] (generic and unknown bots on HTTPS)\n"
    "  --domains FILE [the shipped Waledac list]  --waledac-key HEX  --waledac-iv HEX\n"
    "  --asn-v4 CSV  --asn-v6 CSV  --geo-db MMDB [third_party/node_modules/@ip-location-db]\n"
    "  --truth FILE: write the ground truth (JSON)\n"
    "compressed (simulated timestamps, seconds for many days):\n"
    "  --out FILE|- [-]: ingest lines (docs/ingest.md)   --sinkhole-ip ADDR [127.0.0.1]\n"
    "  --store PATH [--config FILE]: straight into sinkd ingest\n"
    "live (through the sinkhole's listeners, PROXY v2 source addresses):\n"
    "  --live HOST:DNSPORT,HTTPPORT,TLSPORT  --speed X [0: no pauses; 1: real time]\n"
    "  --duration SECONDS  --max-checkins N (also bounds compressed runs)\n";

struct sim_opts {
	struct sim_params p;
	const char *domains, *truth, *out, *store, *config, *live, *key, *iv;
	const char *asn_v4, *asn_v6, *geo_db, *sinkhole_ip;
	struct sim_live_opts lo;
	bool help;
};

static int bad(const char *opt, const char *value, const char *expect)
{
	fprintf(stderr, "sinkd sim: %s '%s': %s\n", opt, value, expect);
	return 2;
}

static int num(const char *opt, const char *v, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d >= min && d <= max)) {
		char why[96];
		snprintf(why, sizeof(why), "expected a number from %g to %g", min, max);
		return bad(opt, v, why);
	}
	*out = d;
	return 0;
}

static int whole(const char *opt, const char *v, double min, double max, unsigned long long *out)
{
	double d;
	int ret = num(opt, v, min, max, &d);
	if (ret == 0 && d != floor(d))
		ret = bad(opt, v, "expected a whole number");
	*out = (unsigned long long)d;
	return ret;
}

static int parse_hex16(const char *opt, const char *v, uint8_t out[16])
{
	if (strlen(v) != 32)
		return bad(opt, v, "expected 32 hex digits");
	for (int i = 0; i < 16; i++) {
		unsigned b;
		if (sscanf(v + 2 * i, "%2x", &b) != 1 || !isxdigit((unsigned char)v[2 * i]) ||
		    !isxdigit((unsigned char)v[2 * i + 1]))
			return bad(opt, v, "expected 32 hex digits");
		out[i] = (uint8_t)b;
	}
	return 0;
}

static int parse_nat(struct sim_opts *o, const char *v)
{
	char buf[64];
	unsigned long long g = o->p.nat_group;
	snprintf(buf, sizeof(buf), "%s", v);
	char *colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (whole("--nat GROUP", colon + 1, 2, 1000, &g) != 0)
			return 2;
	}
	o->p.nat_group = (unsigned)g;
	return num("--nat", buf, 0, 1, &o->p.nat_fraction);
}

/* "127.0.0.1:5353,8080,8443" */
static int parse_live(struct sim_opts *o, const char *v)
{
	const char *colon = strrchr(v, ':');
	unsigned a, b, c;
	char tail;
	if (colon == NULL || (size_t)(colon - v) >= sizeof(o->lo.host) ||
	    sscanf(colon + 1, "%u,%u,%u%c", &a, &b, &c, &tail) != 3 || a == 0 || b == 0 || c == 0 ||
	    a > 65535 || b > 65535 || c > 65535)
		return bad("--live", v,
			   "expected HOST:DNSPORT,HTTPPORT,TLSPORT (127.0.0.1:53,80,443)");
	memcpy(o->lo.host, v, (size_t)(colon - v));
	o->lo.host[colon - v] = '\0';
	if (o->lo.host[0] == '[') { /* [::1] */
		size_t n = strlen(o->lo.host);
		if (n < 3 || o->lo.host[n - 1] != ']')
			return bad("--live", v, "expected HOST:DNSPORT,HTTPPORT,TLSPORT");
		memmove(o->lo.host, o->lo.host + 1, n - 2);
		o->lo.host[n - 2] = '\0';
	}
	o->lo.dns_port = (uint16_t)a;
	o->lo.http_port = (uint16_t)b;
	o->lo.tls_port = (uint16_t)c;
	o->live = v;
	return 0;
}

static int parse_value(struct sim_opts *o, const char *name, const char *v)
{
	unsigned long long n;
	char err[160];
	int ret = 0;
	struct sim_params *p = &o->p;
	if (strcmp(name, "bots") == 0) {
		ret = whole("--bots", v, 0, 10000000, &n);
		p->bots = (unsigned)n;
	} else if (strcmp(name, "days") == 0) {
		ret = whole("--days", v, 1, 3650, &n);
		p->days = (unsigned)n;
	} else if (strcmp(name, "seed") == 0) {
		char *end;
		p->seed = strtoull(v, &end, 0);
		if (*end != '\0' || end == v)
			ret = bad("--seed", v, "expected a number");
	} else if (strcmp(name, "start") == 0) {
		if (ingest_time_parse(v, &p->start_ns) != 0 ||
		    p->start_ns % (86400ull * 1000000000ull))
			ret = bad("--start", v, "expected a midnight UTC as 2026-01-01T00:00:00Z");
	} else if (strcmp(name, "mix") == 0) {
		if (sim_mix_parse(v, p, err, sizeof(err)) != 0)
			ret = bad("--mix", v, err);
	} else if (strcmp(name, "interval") == 0) {
		ret = whole("--interval", v, 1, 86400 * 7, &n);
		p->interval_s = (unsigned)n;
	} else if (strcmp(name, "jitter") == 0) {
		ret = num("--jitter", v, 0, 1, &p->jitter);
	} else if (strcmp(name, "diurnal") == 0) {
		ret = num("--diurnal", v, 0, 1, &p->diurnal);
	} else if (strcmp(name, "churn") == 0) {
		ret = num("--churn", v, 0, 1, &p->churn);
	} else if (strcmp(name, "nat") == 0) {
		ret = parse_nat(o, v);
	} else if (strcmp(name, "ipv6") == 0) {
		ret = num("--ipv6", v, 0, 1, &p->ipv6_fraction);
	} else if (strcmp(name, "half-life") == 0) {
		ret = num("--half-life", v, 0, 1e6, &p->half_life_days);
	} else if (strcmp(name, "tls") == 0) {
		ret = num("--tls", v, 0, 1, &p->tls_fraction);
	} else if (strcmp(name, "live") == 0) {
		ret = parse_live(o, v);
	} else if (strcmp(name, "speed") == 0) {
		ret = num("--speed", v, 0, 1e9, &o->lo.speed);
	} else if (strcmp(name, "duration") == 0) {
		ret = num("--duration", v, 0.001, 1e7, &o->lo.duration_s);
	} else if (strcmp(name, "max-checkins") == 0) {
		ret = whole("--max-checkins", v, 1, 1e12, &n);
		o->lo.max_checkins = n;
	}
	return ret;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	static const struct option longopts[] = {
	    {"bots", 1, NULL, 1},	   {"days", 1, NULL, 1},
	    {"seed", 1, NULL, 1},	   {"start", 1, NULL, 1},
	    {"mix", 1, NULL, 1},	   {"interval", 1, NULL, 1},
	    {"jitter", 1, NULL, 1},	   {"diurnal", 1, NULL, 1},
	    {"churn", 1, NULL, 1},	   {"nat", 1, NULL, 1},
	    {"ipv6", 1, NULL, 1},	   {"half-life", 1, NULL, 1},
	    {"tls", 1, NULL, 1},	   {"live", 1, NULL, 1},
	    {"speed", 1, NULL, 1},	   {"duration", 1, NULL, 1},
	    {"max-checkins", 1, NULL, 1},  {"domains", 1, NULL, 'd'},
	    {"truth", 1, NULL, 't'},	   {"out", 1, NULL, 'o'},
	    {"store", 1, NULL, 's'},	   {"config", 1, NULL, 'c'},
	    {"waledac-key", 1, NULL, 'k'}, {"waledac-iv", 1, NULL, 'v'},
	    {"asn-v4", 1, NULL, '4'},	   {"asn-v6", 1, NULL, '6'},
	    {"geo-db", 1, NULL, 'g'},	   {"sinkhole-ip", 1, NULL, 'i'},
	    {"help", 0, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char **slot[128] = {
	    ['d'] = &o->domains, ['t'] = &o->truth,  ['o'] = &o->out,	      ['s'] = &o->store,
	    ['c'] = &o->config,	 ['k'] = &o->key,    ['v'] = &o->iv,	      ['4'] = &o->asn_v4,
	    ['6'] = &o->asn_v6,	 ['g'] = &o->geo_db, ['i'] = &o->sinkhole_ip,
	};
	int opt, idx;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, &idx)) != -1) {
		if (opt == 'h') {
			o->help = true;
		} else if (opt == 1) {
			int ret = parse_value(o, longopts[idx].name, optarg);
			if (ret != 0)
				return ret;
		} else if (opt > 0 && opt < 128 && slot[opt] != NULL) {
			*slot[opt] = optarg;
		} else {
			fprintf(stderr, "sinkd sim: %s '%s' (see sinkd sim --help)\n",
				opt == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd sim: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->help)
		return 0;
	if ((o->live != NULL) + (o->out != NULL) + (o->store != NULL) > 1) {
		fprintf(stderr, "sinkd sim: one destination at a time: --live HOST:DNS,HTTP,TLS, "
				"--out FILE or --store PATH\n");
		return 2;
	}
	if (o->live == NULL && o->store == NULL && o->out == NULL)
		o->out = "-"; /* compressed, to standard output */
	if (o->p.nat_fraction + o->p.ipv6_fraction > 1) {
		fprintf(stderr, "sinkd sim: --nat and --ipv6 fractions add up to more than 1\n");
		return 2;
	}
	return 0;
}

/* Everything a run holds. */
struct sim_ctx {
	struct sim_opts o;
	struct domain_registry *reg;
	const char **domains;
	size_t n_domains;
	struct sim_keys keys;
	struct sim_prefixes *px;
	struct sim_population *pop;
	struct sim_truth *truth;
};

static int load_domains(struct sim_ctx *s)
{
	const char *path =
	    s->o.domains != NULL ? s->o.domains : SINKD_DATA_DIR "/waledac-domains.txt";
	struct domains_load_stats st = {0};
	s->reg = domains_new();
	if (s->reg == NULL)
		return SINKD_ENOMEM;
	if (domains_load_file(s->reg, path, stderr, &st) != 0 || domains_count(s->reg) == 0) {
		fprintf(stderr, "sinkd sim: %s: no usable seized domains (--domains FILE)\n", path);
		return SINKD_EINVAL;
	}
	s->n_domains = domains_count(s->reg);
	s->domains = calloc(s->n_domains, sizeof(*s->domains));
	if (s->domains == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < s->n_domains; i++)
		s->domains[i] = domains_name(s->reg, i);
	return 0;
}

static int setup(struct sim_ctx *s)
{
	char err[512];
	if (s->o.key != NULL) {
		if (parse_hex16("--waledac-key", s->o.key, s->keys.waledac_key) != 0)
			return SINKD_EINVAL;
		s->keys.have_key = true;
	}
	if (s->o.iv != NULL && parse_hex16("--waledac-iv", s->o.iv, s->keys.waledac_iv) != 0)
		return SINKD_EINVAL;
	if (s->o.p.mix[SIM_WALEDAC] > 0 && !s->keys.have_key) {
		fprintf(stderr,
			"sinkd sim: Waledac bots need --waledac-key HEX (the key the "
			"sinkhole's [decode] waledac_key has), or leave waledac out of --mix\n");
		return SINKD_EINVAL;
	}
	int ret = load_domains(s);
	if (ret != 0)
		return ret;
	ret = sim_prefixes_load(&s->px, s->o.asn_v4 ? s->o.asn_v4 : ASN_DIR "/asn-ipv4-num.csv",
				s->o.asn_v6 ? s->o.asn_v6 : ASN_DIR "/asn-ipv6-num.csv",
				s->o.geo_db ? s->o.geo_db : GEO_DIR "/geo-whois-asn-country.mmdb",
				err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "sinkd sim: %s\n", err);
		return ret;
	}
	ret = sim_population_new(&s->pop, &s->o.p, s->px);
	if (ret == 0)
		ret = sim_truth_new(&s->truth, s->pop);
	if (ret != 0)
		fprintf(stderr, "sinkd sim: cannot make the population: %s\n", sinkd_strerror(ret));
	return ret;
}

/* Bounds a compressed run by --max-checkins. */
struct bounded {
	struct sim_compressed c;
	uint64_t max, n;
};

static int bounded_emit(void *ctx, const struct sim_checkin *c, const struct sim_request *r)
{
	struct bounded *b = ctx;
	if (b->max > 0 && b->n >= b->max)
		return 1;
	b->n++;
	return sim_compressed_emit(&b->c, c, r);
}

static int run_compressed(struct sim_ctx *s, FILE *out)
{
	struct bounded b = {.max = s->o.lo.max_checkins};
	const char *ip = s->o.sinkhole_ip ? s->o.sinkhole_ip : "127.0.0.1";
	int ret = sim_compressed_init(&b.c, out, ip);
	if (ret == SINKD_EINVAL)
		fprintf(stderr, "sinkd sim: --sinkhole-ip '%s': expected an address\n", ip);
	struct sim_sink sink = {bounded_emit, &b};
	if (ret == 0) {
		ret = sim_run(s->pop, &s->keys, s->domains, s->n_domains, ip, &sink, s->truth);
		if (ret == SINKD_ENOMEM)
			fprintf(stderr,
				"sinkd sim: out of memory: a day holds up to bots x "
				"86400/interval check-ins (fewer --bots or a longer --interval)\n");
		else if (ret != 0 && ret != SINKD_EIO) /* write errors: said by the caller */
			fprintf(stderr, "sinkd sim: stopped: %s\n", sinkd_strerror(ret));
	}
	sim_compressed_free(&b.c);
	return ret;
}

static int run_live(struct sim_ctx *s)
{
	struct sim_live *l = NULL;
	uint64_t sent, dns_ok, failed;
	int ret = sim_live_new(&l, &s->o.lo);
	if (ret != 0) {
		fprintf(stderr, "sinkd sim: --live '%s': bad address\n", s->o.live);
		return ret;
	}
	struct sim_sink sink = {sim_live_emit, l};
	ret = sim_run(s->pop, &s->keys, s->domains, s->n_domains, s->o.lo.host, &sink, s->truth);
	sim_live_counts(l, &sent, &dns_ok, &failed);
	fprintf(stderr, "sinkd sim: live: %llu check-ins sent, %llu DNS answers, %llu failures\n",
		(unsigned long long)sent, (unsigned long long)dns_ok, (unsigned long long)failed);
	if (ret == SINKD_ENET)
		fprintf(stderr, "sinkd sim: live: cannot reach %s (%s): is sinkd serving there?\n",
			s->o.live, sinkd_strerror(ret));
	else if (ret != 0)
		fprintf(stderr, "sinkd sim: live: stopped: %s\n", sinkd_strerror(ret));
	sim_live_free(l);
	return ret;
}

/* Compressed into a store: the lines go through sinkd ingest's own path,
 * generated by a second thread into a pipe while ingest reads it. */
struct producer {
	struct sim_ctx *s;
	FILE *out;
	int ret;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	p->ret = run_compressed(p->s, p->out);
	if (fclose(p->out) != 0 && p->ret == 0)
		p->ret = SINKD_EIO;
	return NULL;
}

static int run_store(struct sim_ctx *s)
{
	struct sinkd_config *cfg = malloc(sizeof(*cfg));
	struct producer p = {.s = s};
	pthread_t thread;
	FILE *in = NULL;
	int fds[2] = {-1, -1};
	int ret = cfg == NULL || pipe2(fds, O_CLOEXEC) != 0 ? SINKD_ENOMEM : 0;
	if (ret == 0) {
		config_defaults(cfg);
		if (s->o.config != NULL && config_load(cfg, s->o.config, stderr) != 0)
			ret = SINKD_EINVAL;
	}
	if (ret == 0 &&
	    ((p.out = fdopen(fds[1], "w")) == NULL || (in = fdopen(fds[0], "r")) == NULL))
		ret = SINKD_ENOMEM;
	if (ret == 0) {
		fds[0] = fds[1] = -1; /* owned by the streams */
		/* An ingest that stops early closes the pipe: the writer gets
		 * EPIPE, not the signal. */
		signal(SIGPIPE, SIG_IGN);
		if (pthread_create(&thread, NULL, produce, &p) != 0) {
			fclose(p.out);
			ret = SINKD_ENOMEM;
		} else {
			int status = ingest_stream(cfg, s->o.store, in, "sim");
			fclose(in);
			in = NULL;
			pthread_join(thread, NULL);
			if (status != 0) /* ingest said why; the writer's EPIPE follows from it */
				ret = SINKD_ESTORE;
			else if (p.ret == SINKD_EIO)
				fprintf(stderr, "sinkd sim: write error on the pipe to ingest\n");
			if (ret == 0)
				ret = p.ret;
		}
	} else if (p.out != NULL) {
		fclose(p.out);
		fds[1] = -1;
	}
	if (in != NULL)
		fclose(in);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(cfg);
	return ret;
}

static int write_truth(struct sim_ctx *s)
{
	json_t *t = sim_truth_json(s->truth, s->px);
	int ret = t != NULL && json_dump_file(t, s->o.truth, JSON_COMPACT) == 0 ? 0 : SINKD_EIO;
	if (ret != 0)
		fprintf(stderr, "sinkd sim: cannot write the ground truth to %s\n", s->o.truth);
	json_decref(t);
	return ret;
}

static int run(struct sim_ctx *s)
{
	int ret = setup(s);
	if (ret != 0)
		return ret;
	if (s->o.live != NULL) {
		ret = run_live(s);
	} else if (s->o.store != NULL) {
		ret = run_store(s);
	} else {
		bool to_stdout = strcmp(s->o.out, "-") == 0;
		FILE *out = to_stdout ? stdout : fopen(s->o.out, "w");
		if (out == NULL) {
			fprintf(stderr, "sinkd sim: cannot write %s: %s\n", s->o.out,
				strerror(errno));
			return SINKD_EIO;
		}
		ret = run_compressed(s, out);
		if ((to_stdout ? fflush(out) : fclose(out)) != 0 && ret == 0)
			ret = SINKD_EIO;
		if (ret == SINKD_EIO)
			fprintf(stderr, "sinkd sim: write error on %s\n", s->o.out);
	}
	if (ret == 0 && s->o.truth != NULL)
		ret = write_truth(s);
	return ret;
}

int sim_cli(int argc, char **argv)
{
	struct sim_ctx *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return 1;
	sim_params_defaults(&s->o.p);
	int ret = parse_args(argc, argv, &s->o);
	if (ret == 0 && s->o.help)
		fputs(usage_text, stdout);
	else if (ret == 0)
		ret = run(s) == 0 ? 0 : 1;
	sim_truth_free(s->truth);
	sim_population_free(s->pop);
	sim_prefixes_free(s->px);
	free(s->domains);
	domains_free(s->reg);
	free(s);
	return ret;
}
