/* The durable local spool and the shipper thread.
 *
 * Spool files: <dir>/<seq:016>-<events>-<oldest ts_ns>.tsv.gz, one per
 * committed batch, written as <name>.part, fsync'd, renamed, directory
 * fsync'd: a file either exists whole or not at all. The in-memory index
 * (oldest first) is rebuilt from the directory at start; .part files left
 * by a crash are deleted (their batch is in the SQLite store, counted as
 * not spooled). The writer thread appends and evicts; the shipper posts
 * the oldest and deletes it; `lock` guards the index, never held across
 * I/O that can block on the network. */
#include "cluster/cluster_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct spool_file {
	uint64_t seq, events, oldest_ns, bytes;
};

struct cluster {
	struct ch_server servers[CONFIG_MAX_SERVERS];
	unsigned n_servers, current;
	char node[64];
	char dir[CONFIG_PATH_MAX];
	uint64_t max_bytes;
	unsigned interval_ms;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct spool_file *files; /* oldest first */
	size_t n_files, cap_files;
	uint64_t bytes;
	uint64_t in_flight; /* seq being posted (0: none) */
	uint64_t next_seq;
	bool stop, running;
	pthread_t thread;

	struct tsv_buf tsv; /* writer thread */

	atomic_uint_least64_t events_spooled, events_shipped, events_dropped, spool_write_failed;
	atomic_uint_least64_t batches_shipped, batches_retried, batches_rejected;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void file_path(const struct cluster *c, const struct spool_file *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%016" PRIu64 "-%" PRIu64 "-%" PRIu64 CLUSTER_SPOOL_SUFFIX, c->dir,
		 f->seq, f->events, f->oldest_ns);
}

static int index_push(struct cluster *c, const struct spool_file *f)
{
	if (c->n_files == c->cap_files) {
		size_t cap = c->cap_files ? c->cap_files * 2 : 256;
		struct spool_file *p = realloc(c->files, cap * sizeof(*p));
		if (p == NULL)
			return SINKD_ENOMEM;
		c->files = p;
		c->cap_files = cap;
	}
	c->files[c->n_files++] = *f;
	c->bytes += f->bytes;
	return 0;
}

static void index_remove(struct cluster *c, size_t i)
{
	c->bytes -= c->files[i].bytes;
	memmove(c->files + i, c->files + i + 1, (c->n_files - i - 1) * sizeof(*c->files));
	c->n_files--;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct spool_file *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Rebuild the index from the directory (at start, before any thread). */
static int scan_dir(struct cluster *c)
{
	DIR *d = opendir(c->dir);
	if (d == NULL) {
		log_err("cluster: spool %s: %s", c->dir, strerror(errno));
		return SINKD_EIO;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct spool_file f = {0};
		char path[CONFIG_PATH_MAX + 300];
		int end = 0;
		snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
		size_t nlen = strlen(e->d_name);
		if (nlen > 5 && strcmp(e->d_name + nlen - 5, ".part") == 0) {
			log_warn("cluster: spool %s: deleting partial file from an interrupted "
				 "write",
				 path);
			unlink(path);
			continue;
		}
		if (sscanf(e->d_name, "%" SCNu64 "-%" SCNu64 "-%" SCNu64 ".tsv.gz%n", &f.seq,
			   &f.events, &f.oldest_ns, &end) != 3 ||
		    (size_t)end != nlen)
			continue;
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		f.bytes = (uint64_t)st.st_size;
		if (index_push(c, &f) != 0) {
			closedir(d);
			return SINKD_ENOMEM;
		}
	}
	closedir(d);
	if (c->n_files > 1)
		qsort(c->files, c->n_files, sizeof(*c->files), cmp_seq);
	c->next_seq = c->n_files ? c->files[c->n_files - 1].seq + 1 : 1;
	return 0;
}

void cluster_node_name(const struct sinkd_config *cfg, char *buf, size_t len)
{
	if (cfg->cluster_node[0] != '\0') {
		snprintf(buf, len, "%s", cfg->cluster_node);
		return;
	}
	if (gethostname(buf, len) != 0 || buf[0] == '\0')
		snprintf(buf, len, "sinkd");
	buf[len - 1] = '\0';
}

int cluster_new(struct cluster **out, const struct sinkd_config *cfg)
{
	if (cfg->n_cluster_shard == 0) {
		log_err("cluster: [cluster] enabled but no shard configured: add "
			"shard = HOST:HTTP_PORT for each ClickHouse shard");
		return SINKD_EINVAL;
	}
	struct cluster *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SINKD_ENOMEM;
	for (unsigned i = 0; i < cfg->n_cluster_shard; i++)
		ch_server_from_config(&c->servers[i], cfg, i);
	c->n_servers = cfg->n_cluster_shard;
	cluster_node_name(cfg, c->node, sizeof(c->node));
	snprintf(c->dir, sizeof(c->dir), "%s", cfg->cluster_spool_dir);
	c->max_bytes = (uint64_t)cfg->cluster_spool_max_mb << 20;
	c->interval_ms = cfg->cluster_ship_interval_ms;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (mkdir(c->dir, 0700) != 0 && errno != EEXIST) {
		log_err("cluster: cannot create spool directory %s: %s", c->dir, strerror(errno));
		cluster_free(c);
		return SINKD_EIO;
	}
	if (scan_dir(c) != 0) {
		cluster_free(c);
		return SINKD_EIO;
	}
	if (c->n_files > 0)
		log_info("cluster: spool %s holds %zu batches (%" PRIu64 " bytes) to ship", c->dir,
			 c->n_files, c->bytes);
	*out = c;
	return 0;
}

void cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c->files);
	tsv_buf_free(&c->tsv);
	free(c);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	char part[CONFIG_PATH_MAX + 320];
	snprintf(part, sizeof(part), "%s.part", path);
	int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	if (rename(part, path) != 0) {
		unlink(part);
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(part);
	return -1;
}

/* Delete the oldest files not being posted until `more` bytes fit. */
static void evict_for(struct cluster *c, uint64_t more)
{
	size_t i = 0;
	while (c->bytes + more > c->max_bytes && i < c->n_files) {
		if (c->files[i].seq == c->in_flight) {
			i++;
			continue;
		}
		char path[CONFIG_PATH_MAX + 300];
		file_path(c, &c->files[i], path, sizeof(path));
		unlink(path);
		atomic_fetch_add(&c->events_dropped, c->files[i].events);
		log_warn("cluster: spool full (%u MiB): dropped the oldest batch, %" PRIu64
			 " events",
			 (unsigned)(c->max_bytes >> 20), c->files[i].events);
		index_remove(c, i);
	}
}

int cluster_spool(struct cluster *c, const struct sinkd_event *ev, const int64_t *ids, size_t n)
{
	if (n == 0)
		return 0;
	struct spool_file f = {.events = n, .oldest_ns = UINT64_MAX};
	for (size_t i = 0; i < n; i++)
		if (ev[i].ts_ns < f.oldest_ns)
			f.oldest_ns = ev[i].ts_ns;
	c->tsv.len = 0;
	uint8_t *gz = NULL;
	size_t gz_len = 0;
	if (cluster_tsv_events(&c->tsv, c->node, ev, ids, n) != 0 ||
	    cluster_gzip(c->tsv.p, c->tsv.len, &gz, &gz_len) != 0) {
		atomic_fetch_add(&c->spool_write_failed, n);
		log_err("cluster: out of memory spooling %zu events", n);
		return SINKD_EIO;
	}
	f.bytes = gz_len;
	pthread_mutex_lock(&c->lock);
	evict_for(c, f.bytes);
	f.seq = c->next_seq++;
	pthread_mutex_unlock(&c->lock);

	char path[CONFIG_PATH_MAX + 300];
	file_path(c, &f, path, sizeof(path));
	int ret = write_file(path, gz, gz_len);
	free(gz);
	if (ret != 0 || fsync_dir(c->dir) != 0) {
		atomic_fetch_add(&c->spool_write_failed, n);
		log_err("cluster: cannot write spool file %s: %s", path, strerror(errno));
		return SINKD_EIO;
	}
	pthread_mutex_lock(&c->lock);
	ret = index_push(c, &f);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (ret != 0) {
		unlink(path);
		atomic_fetch_add(&c->spool_write_failed, n);
		return SINKD_EIO;
	}
	atomic_fetch_add(&c->events_spooled, n);
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	size_t off = 0;
	while (buf != NULL && off < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (buf == NULL || off != (size_t)st.st_size) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = off;
	return 0;
}

/* Errors that mean the data itself is refused (a retry cannot help):
 * ClickHouse's parse error codes. Everything else (a shard down, a
 * timeout, too many parts) is retried. */
static bool data_refused(const struct ch_response *r)
{
	static const char *const codes[] = {"Code: 6,",	 "Code: 26,", "Code: 27,", "Code: 38,",
					    "Code: 41,", "Code: 72,", "Code: 117,"};
	if (r->status != 400 && r->status != 500)
		return false;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (r->body != NULL && strstr(r->body, codes[i]) != NULL)
			return true;
	return false;
}

static void heartbeat(struct cluster *c)
{
	struct cluster_stats s;
	cluster_stats(c, &s);
	char row[512];
	int n = snprintf(row, sizeof(row),
			 "%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
			 c->node, wall_ns() / 1000000000u, s.spool_bytes, s.spool_files,
			 s.events_spooled, s.events_shipped, s.events_dropped, s.batches_retried,
			 s.lag_ns);
	struct ch_response r;
	ch_request(&c->servers[c->current], "INSERT INTO nodes FORMAT TabSeparated", row, (size_t)n,
		   false, "insert_distributed_sync=1", &r);
	ch_response_free(&r);
}

/* Post the oldest spool file. 1 shipped or rejected, 0 nothing to do,
 * -1 failed (retry later). */
static int ship_one(struct cluster *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_files == 0) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	struct spool_file f = c->files[0];
	c->in_flight = f.seq;
	pthread_mutex_unlock(&c->lock);

	char path[CONFIG_PATH_MAX + 300];
	file_path(c, &f, path, sizeof(path));
	uint8_t *data = NULL;
	size_t len = 0;
	int result = -1;
	struct ch_response r = {0};
	bool rejected = false;
	if (read_file(path, &data, &len) != 0) {
		log_err("cluster: cannot read spool file %s: %s", path, strerror(errno));
		rejected = true; /* unreadable: never shippable */
	} else if (ch_request(&c->servers[c->current], "INSERT INTO events FORMAT TabSeparated",
			      data, len, true, "insert_distributed_sync=1", &r) == 0) {
		result = 1;
	} else if (data_refused(&r)) {
		log_err("cluster: ClickHouse refused spool batch %s: %s", path, r.error);
		rejected = true;
	} else {
		atomic_fetch_add(&c->batches_retried, 1);
		log_warn("cluster: shipping to %s failed (%s); batch kept in the spool, will "
			 "retry",
			 c->servers[c->current].url, r.error);
		/* Try the next configured server as the entry point next time. */
		c->current = (c->current + 1) % c->n_servers;
	}
	ch_response_free(&r);
	free(data);

	pthread_mutex_lock(&c->lock);
	c->in_flight = 0;
	if (result == 1 || rejected) {
		if (rejected) {
			char aside[CONFIG_PATH_MAX + 320];
			snprintf(aside, sizeof(aside), "%s.rejected", path);
			rename(path, aside);
			atomic_fetch_add(&c->batches_rejected, 1);
			atomic_fetch_add(&c->events_dropped, f.events);
		} else {
			unlink(path);
			atomic_fetch_add(&c->batches_shipped, 1);
			atomic_fetch_add(&c->events_shipped, f.events);
		}
		for (size_t i = 0; i < c->n_files; i++) {
			if (c->files[i].seq == f.seq) {
				index_remove(c, i);
				break;
			}
		}
		result = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return result;
}

static void wait_ms(struct cluster *c, uint64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + ms * 1000000u;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&c->lock);
	if (!c->stop)
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
	pthread_mutex_unlock(&c->lock);
}

static bool stopping(struct cluster *c)
{
	pthread_mutex_lock(&c->lock);
	bool s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void *ship_main(void *arg)
{
	struct cluster *c = arg;
	uint64_t backoff = c->interval_ms, last_beat = 0;
	while (!stopping(c)) {
		int r = ship_one(c);
		uint64_t now = wall_ns();
		if (r >= 0 && now - last_beat > 5000000000ull) {
			heartbeat(c);
			last_beat = now;
		}
		if (r == 1) {
			backoff = c->interval_ms;
			continue;
		}
		if (r < 0)
			backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
		wait_ms(c, r < 0 ? backoff : c->interval_ms);
	}
	/* One last round for what the final commit spooled. */
	while (ship_one(c) == 1)
		;
	heartbeat(c);
	return NULL;
}

int cluster_start(struct cluster *c)
{
	if (pthread_create(&c->thread, NULL, ship_main, c) != 0)
		return SINKD_ENOMEM;
	c->running = true;
	return 0;
}

void cluster_stop(struct cluster *c)
{
	if (c == NULL || !c->running)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	c->running = false;
}

void cluster_stats(struct cluster *c, struct cluster_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	out->spool_bytes = c->bytes;
	out->spool_files = c->n_files;
	uint64_t oldest = UINT64_MAX;
	for (size_t i = 0; i < c->n_files; i++)
		if (c->files[i].oldest_ns < oldest)
			oldest = c->files[i].oldest_ns;
	pthread_mutex_unlock(&c->lock);
	uint64_t now = wall_ns();
	out->lag_ns = oldest != UINT64_MAX && now > oldest ? now - oldest : 0;
	out->events_spooled = atomic_load(&c->events_spooled);
	out->events_shipped = atomic_load(&c->events_shipped);
	out->events_dropped = atomic_load(&c->events_dropped);
	out->spool_write_failed = atomic_load(&c->spool_write_failed);
	out->batches_shipped = atomic_load(&c->batches_shipped);
	out->batches_retried = atomic_load(&c->batches_retried);
	out->batches_rejected = atomic_load(&c->batches_rejected);
}

void cluster_metrics(struct cluster *c, FILE *out)
{
	struct cluster_stats s;
	cluster_stats(c, &s);
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
#define M(n, t, h, f) {n, t, h, offsetof(struct cluster_stats, f)}
	    M("sinkd_cluster_spool_bytes", "gauge", "Bytes waiting in the shipping spool.",
	      spool_bytes),
	    M("sinkd_cluster_spool_batches", "gauge", "Batches waiting in the shipping spool.",
	      spool_files),
	    M("sinkd_cluster_events_spooled_total", "counter", "Events written to the spool.",
	      events_spooled),
	    M("sinkd_cluster_events_shipped_total", "counter", "Events acknowledged by ClickHouse.",
	      events_shipped),
	    M("sinkd_cluster_events_dropped_total", "counter",
	      "Events deleted unshipped (spool full, or refused by ClickHouse).", events_dropped),
	    M("sinkd_cluster_spool_write_failed_total", "counter",
	      "Events that could not be spooled (disk error).", spool_write_failed),
	    M("sinkd_cluster_batches_shipped_total", "counter", "Batches shipped.",
	      batches_shipped),
	    M("sinkd_cluster_batches_retried_total", "counter",
	      "Batch posts that failed and were kept for a retry.", batches_retried),
	    M("sinkd_cluster_batches_rejected_total", "counter",
	      "Batches ClickHouse refused as malformed (moved aside as *.rejected).",
	      batches_rejected),
#undef M
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)&s + m[i].off, sizeof(v));
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", m[i].name, m[i].help,
			m[i].name, m[i].type, m[i].name, v);
	}
	fprintf(out,
		"# HELP sinkd_cluster_lag_seconds Age of the oldest unshipped event.\n"
		"# TYPE sinkd_cluster_lag_seconds gauge\nsinkd_cluster_lag_seconds %.3f\n",
		(double)s.lag_ns / 1e9);
}
