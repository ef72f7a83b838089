/* JSON-lines output of stored event rows ([store] jsonl): the store-writer
 * thread appends each committed batch's rows, one `sinkd events --format
 * json` object per line, for Filebeat, Vector or Fluent Bit to ship. A
 * reopen (SIGUSR1, after logrotate moved the file) is requested from any
 * thread and done by the writer before its next append. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store_jsonl {
	char path[1024];
	FILE *f;
	atomic_bool reopen;
	atomic_uint_least64_t lines, errors;
};

static FILE *open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "a");
	if (f == NULL)
		close(fd);
	return f;
}

int store_jsonl_open(struct store_jsonl **out, const char *path)
{
	*out = NULL;
	if (strlen(path) >= 1024) {
		log_err("[store] jsonl %s: path too long", path);
		return SINKD_EINVAL;
	}
	struct store_jsonl *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return SINKD_ENOMEM;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->f = open_append(path);
	if (j->f == NULL) {
		log_err("[store] jsonl %s: %s", path, strerror(errno));
		free(j);
		return SINKD_EIO;
	}
	*out = j;
	return 0;
}

void store_jsonl_reopen(struct store_jsonl *j)
{
	if (j != NULL)
		atomic_store(&j->reopen, true);
}

static void do_reopen(struct store_jsonl *j)
{
	FILE *f = open_append(j->path);
	if (f == NULL) {
		/* Keep writing to the old file rather than lose lines. */
		log_err("[store] jsonl %s: cannot reopen: %s (still writing the old file)", j->path,
			strerror(errno));
		return;
	}
	if (j->f != NULL)
		fclose(j->f);
	j->f = f;
	log_info("[store] jsonl %s reopened", j->path);
}

/* The row a query would return for a stored event. */
static void event_row(const struct sinkd_event *ev, struct store_row *row)
{
	memset(row, 0, sizeof(*row));
	row->ev = *ev;
	row->count = 1;
	row->capture = ev->kind != EVENT_DNS;
	const uint8_t *data;
	size_t len;
	if (event_payload_get(ev, EVP_BODY, &data, &len) == 0 && len > 0) {
		SHA256(data, len, row->body_sha256);
		row->has_body = true;
		row->body_stored = (uint32_t)len;
	}
	if (event_payload_get(ev, EVP_TLS_HELLO, &data, &len) == 0) {
		json_t *o = json_loadb((const char *)data, len, JSON_DECODE_ANY, NULL);
		row->hello_json = o != NULL && json_is_object(o);
		json_decref(o);
	}
}

int store_jsonl_write(struct store_jsonl *j, const struct sinkd_event *ev, size_t n)
{
	if (j == NULL)
		return 0;
	if (atomic_exchange(&j->reopen, false))
		do_reopen(j);
	struct store_row row;
	for (size_t i = 0; i < n; i++) {
		event_row(&ev[i], &row);
		store_print_row(j->f, STORE_FMT_JSON, &row);
	}
	if (fflush(j->f) != 0 || ferror(j->f)) {
		clearerr(j->f);
		atomic_fetch_add(&j->errors, 1);
		log_err("[store] jsonl %s: write failed: %s", j->path, strerror(errno));
		return SINKD_EIO;
	}
	atomic_fetch_add(&j->lines, n);
	return 0;
}

void store_jsonl_counts(const struct store_jsonl *j, uint64_t *lines, uint64_t *errors)
{
	struct store_jsonl *m = (struct store_jsonl *)j;
	*lines = j != NULL ? atomic_load(&m->lines) : 0;
	*errors = j != NULL ? atomic_load(&m->errors) : 0;
}

void store_jsonl_close(struct store_jsonl *j)
{
	if (j == NULL)
		return;
	if (j->f != NULL)
		fclose(j->f);
	free(j);
}
