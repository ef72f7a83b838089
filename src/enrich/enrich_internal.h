/* Private to src/enrich/: the ASN range table loaded from CSV files and
 * the organisation-name pool shared with the MaxMind lookups. */
#ifndef SINKD_ENRICH_INTERNAL_H
#define SINKD_ENRICH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Interned organisation names: one copy of each distinct name. */
struct enrich_orgs {
	char **names; /* by index */
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t n_slots;
};

/* Intern name (len bytes, not NUL terminated); *idx its index. 0 or
 * SINKD_ENOMEM. */
int enrich_orgs_intern(struct enrich_orgs *o, const char *name, size_t len, uint32_t *idx);
void enrich_orgs_free(struct enrich_orgs *o);

struct asn_range4 {
	uint32_t start, end, asn, org;
};

struct asn_range6 {
	unsigned __int128 start, end;
	uint32_t asn, org;
};

/* Sorted ranges of every CSV file loaded. */
struct asn_table {
	struct asn_range4 *v4;
	size_t n4, cap4;
	struct asn_range6 *v6;
	size_t n6, cap6;
};

/* Load one CSV file (start,end,asn,org per line; start and end numeric or
 * as addresses) into t. Returns 0, SINKD_EIO (unreadable), SINKD_EPARSE
 * (a bad line: message "path:line: what" in err) or SINKD_ENOMEM. Call
 * asn_table_sort after the last file. */
int asn_table_load(struct asn_table *t, struct enrich_orgs *orgs, const char *path, char *err,
		   size_t errlen);
void asn_table_sort(struct asn_table *t);
void asn_table_free(struct asn_table *t);

/* Find the range holding ip (IPv4-mapped for IPv4): 0 and *asn, *org, or
 * SINKD_ENOENT. */
int asn_table_find(const struct asn_table *t, const uint8_t ip[16], uint32_t *asn, uint32_t *org);

#endif
