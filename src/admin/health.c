/* /health: liveness (the process answers) and readiness (listeners up,
 * store writable, event rings below the fill threshold). */
#include "admin/admin_internal.h"

#include "pipeline/pipeline.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool admin_store_failing(struct admin *a, uint64_t failed_total)
{
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&a->health_lock);
	if (failed_total > a->seen_store_failed) {
		a->seen_store_failed = failed_total;
		a->last_store_failure_s = now;
	}
	bool failing = a->last_store_failure_s != 0 &&
		       now - a->last_store_failure_s < ADMIN_STORE_FAIL_WINDOW_S;
	pthread_mutex_unlock(&a->health_lock);
	return failing;
}

/* The store file the writer holds must still be the one at the configured
 * path (not removed or replaced under it), and its directory writable
 * (SQLite creates the -wal and -shm files there). */
static bool store_file_ok(struct admin *a, const char **why)
{
	struct stat st;
	if (stat(a->cfg.store_path, &st) != 0) {
		*why = "the store file is gone from its path";
		return false;
	}
	if (st.st_dev != a->store_dev || st.st_ino != a->store_ino) {
		*why = "the store file at the path is not the one being written";
		return false;
	}
	char dir[CONFIG_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", a->cfg.store_path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(a->cfg.store_path, W_OK) != 0 || access(dir, W_OK) != 0) {
		*why = "the store file or its directory is not writable";
		return false;
	}
	return true;
}

json_t *admin_health_json(struct admin *a, bool *ready)
{
	struct pipeline_stats ps;
	struct pipeline_queue q;
	pipeline_stats(a->src.pipe, &ps);
	pipeline_queue(a->src.pipe, &q);
	bool listeners = atomic_load(&a->ready);
	const char *why = NULL;
	bool failing = admin_store_failing(a, ps.events_store_failed);
	bool store = store_file_ok(a, &why) && !failing && ps.store_ok;
	if (failing)
		why = "a store commit failed within the last 5 minutes";
	if (!ps.store_ok) /* the pipeline's own view: failing right now, retrying */
		why = "the store is failing now (disk full or unwritable): events are dropped and "
		      "counted, the writer retries";
	double threshold = a->cfg.admin_health_queue_percent / 100.0;
	bool queue = q.max_fill < threshold;
	*ready = listeners && store && queue;
	json_t *o = json_pack(
	    "{s:s, s:b, s:b, s:I, s:{s:{s:b}, s:{s:b, s:s?, s:I, s:I}, s:{s:b, s:f, s:f, s:I, "
	    "s:I}}}",
	    "status", *ready ? "ready" : "not ready", "live", 1, "ready", *ready, "uptime_s",
	    (json_int_t)(time(NULL) - a->started_s), "checks", "listeners", "ok", listeners,
	    "store", "ok", store, "problem", why, "events_stored", (json_int_t)ps.events_stored,
	    "events_failed", (json_int_t)ps.events_store_failed, "queue", "ok", queue, "max_fill",
	    q.max_fill, "threshold", threshold, "used_bytes", (json_int_t)q.used_bytes,
	    "capacity_bytes", (json_int_t)q.capacity_bytes);
	return o;
}

enum MHD_Result admin_health(struct admin *a, struct MHD_Connection *c, const char *rest,
			     const struct admin_params *p)
{
	static const char *const allowed[] = {NULL};
	const char *bad = admin_params_unknown(p, allowed);
	(void)rest;
	if (bad != NULL)
		return admin_reply_error(c, MHD_HTTP_BAD_REQUEST, bad,
					 "%s: /health takes no parameters", bad);
	bool ready;
	json_t *o = admin_health_json(a, &ready);
	return admin_reply_json(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}
