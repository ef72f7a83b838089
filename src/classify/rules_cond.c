/* Rule conditions: `[not] FIELD [NAME] [OP VALUE]` lines inside a rule
 * (docs/rules.md), compiled once: regexes through PCRE2 with JIT, hex
 * patterns to bytes, lists to bit masks and port ranges. */
#include "classify/rules_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct field_name {
	const char *name;
	uint8_t field;
};

static const struct field_name field_names[] = {
    {"kind", RF_KIND},	   {"transport", RF_TRANSPORT}, {"port", RF_PORT},
    {"method", RF_METHOD}, {"path", RF_PATH},		{"query", RF_QUERY},
    {"target", RF_TARGET}, {"param", RF_PARAM},		{"header", RF_HEADER},
    {"body", RF_BODY},	   {"bytes", RF_BYTES},		{"qname", RF_QNAME},
    {"host", RF_QNAME},	   {"sni", RF_QNAME},		{"zone", RF_ZONE},
    {"ja3", RF_JA3},	   {"ja3_md5", RF_JA3_MD5},	{"ja4", RF_JA4},
};

#define N_FIELDS (sizeof(field_names) / sizeof(field_names[0]))

static const char *const kind_names[] = {NULL, "dns", "http", "tls", "raw"};
static const char *const transport_names[] = {NULL, "udp", "tcp"};

void rules_cond_free(struct rule_cond *c)
{
	free(c->name);
	free(c->val);
	pcre2_code_free(c->re);
	for (unsigned i = 0; i < c->n_words; i++)
		free(c->words[i]);
	free(c->words);
	memset(c, 0, sizeof(*c));
}

unsigned rules_cond_cost(const struct rule_cond *c)
{
	unsigned base;
	switch (c->field) {
	case RF_KIND:
	case RF_TRANSPORT:
	case RF_PORT:
		base = 0;
		break;
	case RF_METHOD:
		base = 10;
		break;
	case RF_PATH:
	case RF_TARGET:
	case RF_QUERY:
	case RF_QNAME:
	case RF_ZONE:
		base = 20;
		break;
	case RF_HEADER:
	case RF_PARAM:
		base = 30;
		break;
	default:
		base = 40;
		break; /* payload sections: body, bytes, fingerprints */
	}
	switch (c->op) {
	case RO_CONTAINS:
		return base + 3;
	case RO_REGEX:
		return base + 100; /* every regex after every fixed test */
	case RO_IN:
		return c->field == RF_ZONE ? base + 2 : base;
	default:
		return base + 1;
	}
}

/* Every word from `from` split on commas, each passed to fn. */
static int each_item(const struct rules_line *ln, unsigned from,
		     int (*fn)(struct rule_cond *c, const char *item), struct rule_cond *c)
{
	unsigned items = 0;
	for (unsigned i = from; i < ln->n; i++) {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", ln->w[i]);
		char *save = NULL;
		for (char *t = strtok_r(tmp, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save)) {
			int ret = fn(c, t);
			if (ret != 0)
				return ret;
			items++;
		}
	}
	return items > 0 ? 0 : SINKD_EINVAL;
}

static int add_kind(struct rule_cond *c, const char *item)
{
	for (unsigned k = 1; k < 5; k++) {
		if (strcasecmp(item, kind_names[k]) == 0) {
			c->mask |= 1u << k;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

static int add_transport(struct rule_cond *c, const char *item)
{
	for (unsigned k = 1; k < 3; k++) {
		if (strcasecmp(item, transport_names[k]) == 0) {
			c->mask |= 1u << k;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0' || v > 65535)
		return SINKD_EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int add_port(struct rule_cond *c, const char *item)
{
	char tmp[32];
	if (c->n_ranges == RULE_MAX_RANGES || strlen(item) >= sizeof(tmp))
		return SINKD_EINVAL;
	snprintf(tmp, sizeof(tmp), "%s", item);
	char *dash = strchr(tmp, '-');
	if (dash != NULL)
		*dash = '\0';
	uint16_t lo, hi;
	if (parse_port(tmp, &lo) != 0 || parse_port(dash ? dash + 1 : tmp, &hi) != 0 || hi < lo)
		return SINKD_EINVAL;
	c->lo[c->n_ranges] = lo;
	c->hi[c->n_ranges++] = hi;
	return 0;
}

static int add_word(struct rule_cond *c, const char *item)
{
	char **w = realloc(c->words, (c->n_words + 1) * sizeof(*w));
	if (w == NULL)
		return SINKD_ENOMEM;
	c->words = w;
	w[c->n_words] = strdup(item);
	if (w[c->n_words] == NULL)
		return SINKD_ENOMEM;
	c->n_words++;
	return 0;
}

/* "01 02 ff", "0102ff", "01:02:ff" -> bytes. */
static int parse_hex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = 0, cap = strlen(s) / 2 + 1;
	uint8_t *b = malloc(cap + 1);
	if (b == NULL)
		return SINKD_ENOMEM;
	int hi = -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == ':' || *p == '\t') {
			if (hi >= 0)
				goto bad;
			continue;
		}
		int v = isxdigit((unsigned char)*p)
			    ? (isdigit((unsigned char)*p) ? *p - '0' : tolower(*p) - 'a' + 10)
			    : -1;
		if (v < 0)
			goto bad;
		if (hi < 0) {
			hi = v;
		} else {
			b[n++] = (uint8_t)(hi * 16 + v);
			hi = -1;
		}
	}
	if (hi >= 0 || n == 0)
		goto bad;
	b[n] = 0;
	*out = b;
	*len = n;
	return 0;
bad:
	free(b);
	return SINKD_EINVAL;
}

static int compile_regex(struct rule_cond *c, const struct rules_line *ln, unsigned i,
			 struct rules_errors *e)
{
	int code;
	PCRE2_SIZE off;
	c->re = pcre2_compile((PCRE2_SPTR)ln->w[i], ln->lens[i], 0, &code, &off, NULL);
	if (c->re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		rules_error(e, ln->file, ln->line, "bad regex \"%s\" at offset %zu: %s", ln->w[i],
			    (size_t)off, (const char *)msg);
		return SINKD_EPARSE;
	}
	/* Without JIT (unsupported CPU) the interpreter still matches. */
	pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static int copy_value(struct rule_cond *c, const struct rules_line *ln, unsigned i)
{
	c->val = malloc(ln->lens[i] + 1);
	if (c->val == NULL)
		return SINKD_ENOMEM;
	memcpy(c->val, ln->w[i], ln->lens[i] + 1);
	c->val_len = ln->lens[i];
	return 0;
}

static int syntax(const struct rules_line *ln, struct rules_errors *e, const char *field,
		  const char *expect)
{
	rules_error(e, ln->file, ln->line, "%s: expected %s", field, expect);
	return SINKD_EPARSE;
}

/* OP VALUE [at N|any] at ln->w[i..]. */
static int parse_op(struct rule_cond *c, const struct rules_line *ln, unsigned i, const char *field,
		    struct rules_errors *e)
{
	static const char ops[] = "'= VALUE', '~ REGEX', 'prefix VALUE', 'contains VALUE' or "
				  "'hex \"01 02\" [at N|any]'";
	if (i == ln->n) {
		c->op = RO_PRESENT;
		return 0;
	}
	const char *op = ln->w[i];
	bool hex = strcmp(op, "hex") == 0;
	if (i + 2 != ln->n && !(hex && (i + 4 == ln->n) && strcmp(ln->w[i + 2], "at") == 0))
		return syntax(ln, e, field, ops);
	if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0)
		c->op = RO_EQ;
	else if (strcmp(op, "~") == 0)
		c->op = RO_REGEX;
	else if (strcmp(op, "prefix") == 0)
		c->op = RO_PREFIX;
	else if (strcmp(op, "contains") == 0)
		c->op = RO_CONTAINS;
	else if (hex)
		c->op = RO_HEX;
	else
		return syntax(ln, e, field, ops);
	if (c->op == RO_REGEX)
		return compile_regex(c, ln, i + 1, e);
	if (c->op != RO_HEX) {
		if (ln->lens[i + 1] == 0 && c->op != RO_EQ) {
			rules_error(e, ln->file, ln->line, "%s %s: empty value", field, op);
			return SINKD_EPARSE;
		}
		return copy_value(c, ln, i + 1);
	}
	int ret = parse_hex(ln->w[i + 1], &c->val, &c->val_len);
	if (ret == SINKD_ENOMEM)
		return ret;
	if (ret != 0) {
		rules_error(e, ln->file, ln->line,
			    "%s hex \"%s\": expected pairs of hex digits like \"01 02 ff\"", field,
			    ln->w[i + 1]);
		return SINKD_EPARSE;
	}
	c->offset = 0;
	if (i + 4 == ln->n) {
		char *end;
		const char *at = ln->w[i + 3];
		if (strcmp(at, "any") == 0) {
			c->offset = RULE_HEX_ANY;
		} else {
			c->offset = strtol(at, &end, 10);
			if (!isdigit((unsigned char)at[0]) || *end != '\0' || c->offset > 1000000) {
				rules_error(e, ln->file, ln->line,
					    "%s hex ... at '%s': expected an offset 0-1000000 or "
					    "'any'",
					    field, at);
				return SINKD_EPARSE;
			}
		}
	}
	return 0;
}

static int parse_list(struct rule_cond *c, const struct rules_line *ln, unsigned i,
		      const char *field, struct rules_errors *e)
{
	int (*fn)(struct rule_cond *, const char *);
	const char *expect;
	switch (c->field) {
	case RF_KIND:
		fn = add_kind;
		expect = "a list of dns, http, tls, raw";
		break;
	case RF_TRANSPORT:
		fn = add_transport;
		expect = "a list of tcp, udp";
		break;
	case RF_PORT:
		fn = add_port;
		expect = "a list of ports or ranges like 80,8000-8099";
		break;
	default:
		fn = add_word;
		expect = "a list of methods like GET,POST";
		break;
	}
	c->op = RO_IN;
	int ret = each_item(ln, i, fn, c);
	if (ret == SINKD_ENOMEM)
		return ret;
	if (ret != 0)
		return syntax(ln, e, field, expect);
	return 0;
}

int rules_cond_parse(struct classifier *cl, const struct rules_line *ln, unsigned first,
		     struct rule_cond *c, struct rules_errors *e)
{
	unsigned i = first;
	if (strcmp(ln->w[i], "not") == 0) {
		c->negate = true;
		i++;
		if (i == ln->n)
			return syntax(ln, e, "not", "a condition after 'not'");
	}
	const char *field = ln->w[i];
	size_t f = 0;
	while (f < N_FIELDS && strcmp(field_names[f].name, field) != 0)
		f++;
	if (f == N_FIELDS) {
		rules_error(e, ln->file, ln->line,
			    "unknown keyword '%s' (conditions: kind transport port method path "
			    "query target param header body bytes qname host sni zone ja3 ja3_md5 "
			    "ja4; actions: family tag severity priority decoder; 'end' closes the "
			    "rule)",
			    field);
		return SINKD_EPARSE;
	}
	c->field = field_names[f].field;
	i++;
	int ret;
	switch (c->field) {
	case RF_KIND:
	case RF_TRANSPORT:
	case RF_PORT:
	case RF_METHOD:
		/* "method = POST", "port in 80,443": the operator is optional. */
		if (i < ln->n && (strcmp(ln->w[i], "=") == 0 || strcmp(ln->w[i], "==") == 0 ||
				  strcmp(ln->w[i], "in") == 0))
			i++;
		if (i == ln->n)
			return syntax(ln, e, field, "at least one value");
		ret = parse_list(c, ln, i, field, e);
		break;
	case RF_HEADER:
	case RF_PARAM:
		if (i == ln->n || ln->lens[i] == 0)
			return syntax(ln, e, field, "a name: 'header NAME [OP VALUE]'");
		c->name = strdup(ln->w[i]);
		if (c->name == NULL)
			return SINKD_ENOMEM;
		c->name_len = ln->lens[i];
		ret = parse_op(c, ln, i + 1, field, e);
		break;
	case RF_ZONE:
		if (i < ln->n && strcmp(ln->w[i], "in") == 0) {
			if (i + 2 != ln->n)
				return syntax(ln, e, field, "'zone in SET'");
			const struct named_set *s = rules_set_find(cl, ln->w[i + 1]);
			if (s == NULL) {
				rules_error(e, ln->file, ln->line,
					    "zone in '%s': no such set (define it above with 'set "
					    "%s = ...' or 'set %s file PATH')",
					    ln->w[i + 1], ln->w[i + 1], ln->w[i + 1]);
				return SINKD_EPARSE;
			}
			c->op = RO_IN;
			c->set = s->reg;
			ret = 0;
			break;
		}
		ret = parse_op(c, ln, i, field, e);
		break;
	default:
		ret = parse_op(c, ln, i, field, e);
		break;
	}
	if (ret != 0)
		rules_cond_free(c);
	return ret;
}
