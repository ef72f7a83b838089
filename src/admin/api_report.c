/* GET /api/v1/report/<name>: the reports of `sinkd report` (summary,
 * population, countries, asns, domains, families, timeline) as report_json
 * builds them from the hourly rollups, on the endpoint's read-only store
 * handle. Every argument is checked here first, so a 400 names it. */
#include "admin/admin_internal.h"

#include "classify/shapes.h"
#include "core/error.h"
#include "report/report.h"

#include <ctype.h>
#include <string.h>

#define BAD(param, ...) admin_reply_error(c, MHD_HTTP_BAD_REQUEST, param, __VA_ARGS__)

static const char *const reports[] = {"summary", "population", "countries", "asns",
				      "domains", "families",   "timeline",  NULL};

/* /api/v1/report/protocols: shapes of the traffic no rule claimed
 * (shapes_report_json, docs/shapes.md), most frequent first, at most
 * `limit` of them. */
static enum MHD_Result protocols(struct admin *a, struct MHD_Connection *c,
				 const struct admin_params *p)
{
	static const char *const allowed[] = {"domain", "limit", NULL};
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return BAD(bad, "%s: unknown or repeated parameter (allowed: domain, limit)", bad);
	const char *domain = admin_param(p, "domain");
	if (domain != NULL && !admin_name_ok(domain, 253))
		return BAD("domain", "domain: not a domain name");
	char lower[256] = "";
	for (size_t i = 0; domain != NULL && domain[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)domain[i]);
	uint64_t limit = 50;
	const char *v = admin_param(p, "limit");
	if (v != NULL && admin_parse_uint(v, 1, 1000, &limit) != 0)
		return BAD("limit", "limit: shapes from 1 to 1000");
	json_t *all = NULL;
	pthread_mutex_lock(&a->store_lock);
	int ret = shapes_report_json(a->store, domain != NULL ? lower : NULL, &all);
	pthread_mutex_unlock(&a->store_lock);
	if (ret != 0)
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "the shapes could not be read: %s", sinkd_strerror(ret));
	size_t total = json_array_size(all);
	while (json_array_size(all) > limit)
		json_array_remove(all, json_array_size(all) - 1);
	json_t *o =
	    json_pack("{s:s, s:{s:s?}, s:I, s:I, s:o}", "report", "protocols", "filter", "domain",
		      domain != NULL ? lower : NULL, "count", (json_int_t)json_array_size(all),
		      "total", (json_int_t)total, "shapes", all);
	return o != NULL ? admin_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}

enum MHD_Result admin_api_report(struct admin *a, struct MHD_Connection *c, const char *rest,
				 const struct admin_params *p)
{
	static const char *const allowed[] = {"since", "until", "family", "domain", "country",
					      "asn",   "top",	"bucket", NULL};
	const char *name = rest[0] == '/' ? rest + 1 : rest;
	if (strcmp(name, "protocols") == 0)
		return protocols(a, c, p);
	bool known = false;
	for (const char *const *r = reports; *r != NULL && !known; r++)
		known = strcmp(*r, name) == 0;
	if (!known)
		return admin_reply_error(c, MHD_HTTP_NOT_FOUND, NULL,
					 "no report '%.64s' (summary, population, countries, asns, "
					 "domains, families, timeline, protocols)",
					 name);
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return BAD(bad,
			   "%s: unknown or repeated parameter (allowed: since, until, family, "
			   "domain, country, asn, top, bucket)",
			   bad);
	struct report_filter f = {0};
	const char *v;
	if ((v = admin_param(p, "since")) != NULL && admin_parse_time(v, &f.since_ns) != 0)
		return BAD("since", "since: not a time (RFC 3339, a date, Unix seconds or an age "
				    "like 7d)");
	if ((v = admin_param(p, "until")) != NULL && admin_parse_time(v, &f.until_ns) != 0)
		return BAD("until", "until: not a time (RFC 3339, a date, Unix seconds or an age "
				    "like 7d)");
	if (f.until_ns != 0 && f.since_ns >= f.until_ns)
		return BAD("until", "until must be later than since");
	if ((v = admin_param(p, "family")) != NULL && !admin_name_ok(v, 31))
		return BAD("family", "family: 1 to 31 letters, digits, '.', '-' or '_'");
	f.family = v;
	if ((v = admin_param(p, "domain")) != NULL && !admin_name_ok(v, 253))
		return BAD("domain", "domain: not a domain name");
	f.domain = v;
	if ((v = admin_param(p, "country")) != NULL &&
	    (strlen(v) != 2 || !isalpha((unsigned char)v[0]) || !isalpha((unsigned char)v[1])))
		return BAD("country", "country: an ISO 3166 two-letter code like DE");
	char cc[3] = {0};
	if (v != NULL) {
		cc[0] = (char)toupper((unsigned char)v[0]);
		cc[1] = (char)toupper((unsigned char)v[1]);
		f.country = cc;
	}
	uint64_t n;
	if ((v = admin_param(p, "asn")) != NULL) {
		if (strncasecmp(v, "AS", 2) == 0)
			v += 2;
		if (admin_parse_uint(v, 1, UINT32_MAX, &n) != 0)
			return BAD("asn", "asn: a number from 1 to 4294967295 (AS prefix allowed)");
		f.asn = (uint32_t)n;
	}
	if ((v = admin_param(p, "top")) != NULL) {
		if (admin_parse_uint(v, 1, 100, &n) != 0)
			return BAD("top", "top: rows from 1 to 100");
		f.top = (unsigned)n;
	}
	if ((v = admin_param(p, "bucket")) != NULL) {
		if (strcmp(v, "hour") != 0 && strcmp(v, "day") != 0)
			return BAD("bucket", "bucket: hour or day");
		if (strcmp(name, "timeline") != 0)
			return BAD("bucket", "bucket: only the timeline report has buckets");
		f.bucket = v;
	}
	json_t *out = NULL;
	char err[256] = "";
	pthread_mutex_lock(&a->store_lock);
	int ret = report_json(a->store, name, &f, &out, err, sizeof(err));
	pthread_mutex_unlock(&a->store_lock);
	if (ret == SINKD_EINVAL)
		return BAD(NULL, "%s", err[0] ? err : "invalid report arguments");
	if (ret != 0)
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "the report could not be built: %s",
					 err[0] ? err : sinkd_strerror(ret));
	return admin_reply_json(c, MHD_HTTP_OK, out);
}
