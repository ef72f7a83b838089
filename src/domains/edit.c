/* Editing a domain list file in place: add, remove, import. The file is
 * read whole, checked, and rewritten atomically; lines we do not change
 * (comments, formatting, the order) are copied byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

#define RELOAD_HINT "send SIGHUP to sinkd to reload"

struct dfile {
	char path[PATH_MAX]; /* symlinks resolved: we replace the target */
	char *buf;	     /* whole content, NUL-terminated */
	size_t len;
	bool exists;
	mode_t mode;
	const char *eol; /* "\n" or "\r\n", as the file uses */
	enum domains_format format;
	struct domain_registry *reg;
};

/* One line of f->buf from *pos: start, length without line ending, length
 * with it. False at the end. */
static bool next_line(const struct dfile *f, size_t *pos, const char **line, size_t *len,
		      size_t *full)
{
	if (*pos >= f->len)
		return false;
	const char *s = f->buf + *pos;
	const char *nl = memchr(s, '\n', f->len - *pos);
	*full = nl ? (size_t)(nl - s) + 1 : f->len - *pos;
	*len = nl ? (size_t)(nl - s) : *full;
	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	*line = s;
	*pos += *full;
	return true;
}

/* Parse a line through a private copy (parsing modifies its input). */
static enum domains_line parse_copy(struct domains_parser *p, const char *line, size_t len,
				    char *name, struct domain_meta *meta)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return DOMAINS_LINE_INVALID;
	memcpy(copy, line, len);
	copy[len] = '\0';
	enum domains_line kind = domains_parse_line(p, copy, len, name, meta);
	free(copy);
	return kind;
}

static int read_whole(struct dfile *f, FILE *err)
{
	struct stat st;
	FILE *in = fopen(f->path, "r");
	if (!in && errno == ENOENT)
		return 0;
	if (!in || fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(err, "%s: cannot read: %s\n", f->path,
			in ? (S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file")
			   : strerror(errno));
		if (in)
			fclose(in);
		return SINKD_EIO;
	}
	f->exists = true;
	f->mode = st.st_mode & 07777;
	f->buf = malloc((size_t)st.st_size + 1);
	if (f->buf)
		f->len = fread(f->buf, 1, (size_t)st.st_size, in);
	int bad = !f->buf || ferror(in);
	fclose(in);
	if (bad) {
		fprintf(err, "%s: cannot read: %s\n", f->path, strerror(errno));
		return SINKD_EIO;
	}
	f->buf[f->len] = '\0';
	const char *nl = memchr(f->buf, '\n', f->len);
	if (nl && nl > f->buf && nl[-1] == '\r')
		f->eol = "\r\n";
	return 0;
}

static void dfile_close(struct dfile *f)
{
	free(f->buf);
	domains_free(f->reg);
}

/* Read and check the whole file: any invalid line refuses the edit, since
 * rewriting would drop it. A missing file is an empty list. */
static int dfile_open(struct dfile *f, const char *path, FILE *err)
{
	memset(f, 0, sizeof(*f));
	f->eol = "\n";
	f->mode = 0644;
	if (!realpath(path, f->path))
		snprintf(f->path, sizeof(f->path), "%s", path);
	f->reg = domains_new();
	if (!f->reg) {
		fprintf(err, "%s: %s\n", path, sinkd_strerror(SINKD_ENOMEM));
		return 1;
	}
	if (read_whole(f, err) != 0)
		return 1;
	struct domains_parser p;
	struct domain_meta meta;
	char name[DOMAINS_NAME_MAX];
	const char *line;
	size_t pos = 0, len, full, invalid = 0;
	domains_parser_init(&p, f->path, err);
	while (next_line(f, &pos, &line, &len, &full)) {
		enum domains_line kind = parse_copy(&p, line, len, name, &meta);
		if (kind == DOMAINS_LINE_INVALID)
			invalid++;
		if (kind == DOMAINS_LINE_ENTRY &&
		    domains_add_normalized(f->reg, name, &meta) == SINKD_ENOMEM) {
			fprintf(err, "%s: %s\n", f->path, sinkd_strerror(SINKD_ENOMEM));
			return 1;
		}
	}
	f->format = p.format;
	if (invalid) {
		fprintf(err, "%s: %zu invalid line%s: fix %s first; nothing changed\n", f->path,
			invalid, invalid > 1 ? "s" : "", invalid > 1 ? "them" : "it");
		return 1;
	}
	return 0;
}

static bool contains(const struct domain_registry *reg, const char *name)
{
	long idx = domains_match_name(reg, name);
	return idx >= 0 && strcmp(domains_name(reg, (size_t)idx), name) == 0;
}

static int fsync_dir(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write through fill() into a temporary file beside f->path, then rename it
 * over the original. */
static int write_atomic(struct dfile *f, void (*fill)(struct dfile *, FILE *, void *), void *ctx,
			FILE *err)
{
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", f->path);
	int fd = mkstemp(tmp);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		fprintf(err, "%s: cannot create a temporary file: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	fill(f, out, ctx);
	bool ok = fchmod(fd, f->mode) == 0 && fflush(out) == 0 && !ferror(out) && fsync(fd) == 0;
	ok = fclose(out) == 0 && ok;
	ok = ok && rename(tmp, f->path) == 0;
	if (!ok) {
		fprintf(err, "%s: cannot write: %s; nothing changed\n", f->path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	fsync_dir(f->path);
	return 0;
}

static void put_original(const struct dfile *f, FILE *out)
{
	if (f->len == 0)
		return;
	fwrite(f->buf, 1, f->len, out);
	if (f->buf[f->len - 1] != '\n')
		fputs(f->eol, out);
}

static void put_entry(const struct dfile *f, FILE *out, bool csv, const char *name,
		      const struct domain_meta *meta)
{
	if (csv) {
		domains_csv_field(out, name);
		for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
			fputc(',', out);
			domains_csv_field(out, domains_field_cptr(meta, &domains_fields[i]));
		}
	} else {
		fputs(name, out);
	}
	fputs(f->eol, out);
}

static void put_header(const struct dfile *f, FILE *out)
{
	fputs("domain", out);
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++)
		fprintf(out, ",%s", domains_fields[i].name);
	fputs(f->eol, out);
}

/* A plain list rewritten as CSV: comments and blank lines kept in place,
 * an inline comment moved onto its own line above the entry. */
static void put_converted(const struct dfile *f, FILE *out)
{
	struct domains_parser p;
	struct domain_meta meta;
	char name[DOMAINS_NAME_MAX];
	const char *line;
	size_t pos = 0, len, full;
	bool header = false;
	domains_parser_init(&p, f->path, NULL);
	while (next_line(f, &pos, &line, &len, &full)) {
		if (parse_copy(&p, line, len, name, &meta) != DOMAINS_LINE_ENTRY) {
			fwrite(line, 1, len, out);
			fputs(f->eol, out);
			continue;
		}
		if (!header)
			put_header(f, out);
		header = true;
		const char *hash = memchr(line, '#', len);
		if (hash)
			fprintf(out, "#%.*s%s", (int)(len - (size_t)(hash - line) - 1), hash + 1,
				f->eol);
		put_entry(f, out, true, name, &meta);
	}
	if (!header)
		put_header(f, out);
}

static void fill_append(struct dfile *f, FILE *out, void *ctx)
{
	const struct domain_registry *add = ctx;
	bool need_csv = false;
	for (size_t i = 0; i < domains_count(add); i++)
		need_csv = need_csv || !domains_meta_is_empty(domains_meta(add, i));
	bool csv = f->format == DOMAINS_FMT_CSV || need_csv;
	if (f->format == DOMAINS_FMT_LIST && need_csv) {
		put_converted(f, out);
	} else {
		put_original(f, out);
		if (csv && f->format != DOMAINS_FMT_CSV)
			put_header(f, out);
	}
	for (size_t i = 0; i < domains_count(add); i++)
		put_entry(f, out, csv, domains_name(add, i), domains_meta(add, i));
}

/* Append the zones of add (none of them in f) and report. */
static int append(struct dfile *f, struct domain_registry *add, const char *verb, const char *prep,
		  FILE *out, FILE *err)
{
	bool converts = false;
	for (size_t i = 0; i < domains_count(add); i++)
		converts = converts || !domains_meta_is_empty(domains_meta(add, i));
	converts = converts && f->format == DOMAINS_FMT_LIST;
	if (write_atomic(f, fill_append, add, err) != 0)
		return 1;
	if (converts)
		fprintf(out, "%s: converted from a plain list to CSV to hold the metadata\n",
			f->path);
	fprintf(out, "%s %zu domain%s %s %s (%zu in total); " RELOAD_HINT "\n", verb,
		domains_count(add), domains_count(add) == 1 ? "" : "s", prep, f->path,
		domains_count(f->reg) + domains_count(add));
	return 0;
}

/* Normalise names into set; each bad one is reported. False if any was. */
static bool collect(struct domain_registry *set, char **names, size_t n,
		    const struct domain_meta *meta, FILE *err)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		char norm[DOMAINS_NAME_MAX];
		const char *why;
		int rc = domains_normalize(names[i], norm, sizeof(norm), &why);
		if (rc == 0)
			rc = domains_add_normalized(set, norm, meta);
		if (rc == SINKD_ENOMEM)
			why = sinkd_strerror(rc);
		if (rc != 0 && rc != SINKD_EEXIST) {
			fprintf(err, "'%s': %s\n", names[i], why);
			ok = false;
		}
	}
	return ok;
}

/* The zones of from that f does not hold yet, with their metadata. */
static struct domain_registry *missing_from(const struct dfile *f,
					    const struct domain_registry *from, size_t *present)
{
	struct domain_registry *add = domains_new();
	*present = 0;
	for (size_t i = 0; add && i < domains_count(from); i++) {
		const char *name = domains_name(from, i);
		if (contains(f->reg, name)) {
			(*present)++;
		} else if (domains_add_normalized(add, name, domains_meta(from, i)) != 0) {
			domains_free(add);
			return NULL;
		}
	}
	return add;
}

int domains_file_add(const char *path, char **names, size_t n, const struct domain_meta *meta,
		     FILE *out, FILE *err)
{
	struct dfile f;
	struct domain_registry *args = NULL, *add = NULL;
	size_t present;
	int rc = 1;
	if (dfile_open(&f, path, err) != 0)
		goto done;
	args = domains_new();
	if (!args || !collect(args, names, n, meta, err))
		goto done;
	add = missing_from(&f, args, &present);
	if (!add)
		goto done;
	for (size_t i = 0; i < domains_count(args); i++) {
		if (contains(f.reg, domains_name(args, i)))
			fprintf(out, "%s: already in %s (metadata unchanged)\n",
				domains_name(args, i), f.path);
	}
	rc = 0;
	if (domains_count(add) == 0)
		fprintf(out, "nothing changed\n");
	else
		rc = append(&f, add, "added", "to", out, err);
done:
	domains_free(args);
	domains_free(add);
	dfile_close(&f);
	return rc;
}

static void fill_filtered(struct dfile *f, FILE *out, void *ctx)
{
	const struct domain_registry *drop = ctx;
	struct domains_parser p;
	struct domain_meta meta;
	char name[DOMAINS_NAME_MAX];
	const char *line;
	size_t pos = 0, len, full;
	domains_parser_init(&p, f->path, NULL);
	while (next_line(f, &pos, &line, &len, &full)) {
		if (parse_copy(&p, line, len, name, &meta) == DOMAINS_LINE_ENTRY &&
		    contains(drop, name))
			continue;
		fwrite(line, 1, full, out);
	}
}

int domains_file_remove(const char *path, char **names, size_t n, FILE *out, FILE *err)
{
	struct dfile f;
	struct domain_registry *drop = NULL;
	int rc = 1;
	if (dfile_open(&f, path, err) != 0)
		goto done;
	drop = domains_new();
	if (!drop || !collect(drop, names, n, NULL, err))
		goto done;
	bool ok = true;
	for (size_t i = 0; i < domains_count(drop); i++) {
		if (!contains(f.reg, domains_name(drop, i))) {
			fprintf(err, "'%s': not in %s\n", domains_name(drop, i), f.path);
			ok = false;
		}
	}
	if (!ok) {
		fprintf(err, "nothing changed\n");
		goto done;
	}
	if (write_atomic(&f, fill_filtered, drop, err) != 0)
		goto done;
	fprintf(out, "removed %zu domain%s from %s (%zu left); " RELOAD_HINT "\n",
		domains_count(drop), domains_count(drop) == 1 ? "" : "s", f.path,
		domains_count(f.reg) - domains_count(drop));
	rc = 0;
done:
	domains_free(drop);
	dfile_close(&f);
	return rc;
}

int domains_file_import(const char *path, const char *src, FILE *out, FILE *err)
{
	struct dfile f;
	struct domain_registry *from = NULL, *add = NULL;
	struct domains_load_stats st;
	size_t present = 0;
	int rc = 1;
	if (dfile_open(&f, path, err) != 0)
		goto done;
	from = domains_new();
	if (!from)
		goto done;
	int lrc = domains_load_file(from, src, err, &st);
	if (lrc == SINKD_EIO || lrc == SINKD_ENOMEM)
		goto done;
	if (lrc == 0)
		add = missing_from(&f, from, &present);
	fprintf(out, "%s: %zu loaded, %zu duplicates, %zu invalid, %zu already in %s\n", src,
		st.loaded, st.duplicates, st.invalid, present, f.path);
	if (lrc != 0) {
		fprintf(err, "%s: fix the invalid lines above; nothing imported\n", src);
		goto done;
	}
	if (!add)
		goto done;
	rc = 0;
	if (domains_count(add) == 0)
		fprintf(out, "nothing changed\n");
	else
		rc = append(&f, add, "imported", "into", out, err);
done:
	domains_free(from);
	domains_free(add);
	dfile_close(&f);
	return rc;
}
