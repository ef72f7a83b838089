/* The on_change hook: one program run per round with that round's state
 * changes as JSON on its stdin, bounded in time. */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int mon_hook_json(const struct mon_result *res, size_t n, const char *source, time_t now,
		  struct mon_buf *out)
{
	char when[32], host[256] = "";
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gethostname(host, sizeof(host) - 1);
	mon_buf_printf(out, "{\"time\":\"%s\",\"host\":", when);
	mon_buf_json_str(out, host);
	mon_buf_put(out, ",\"source\":", 10);
	mon_buf_json_str(out, source);
	mon_buf_put(out, ",\"changes\":[", 12);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct mon_result *r = &res[i];
		if (!r->changed || (r->previous[0] == '\0' && r->state == MONITOR_OK))
			continue;
		mon_buf_put(out, first ? "{\"domain\":" : ",{\"domain\":", first ? 10 : 11);
		first = false;
		mon_buf_json_str(out, r->domain);
		mon_buf_put(out, ",\"old_state\":", 13);
		if (r->previous[0] != '\0')
			mon_buf_json_str(out, r->previous);
		else
			mon_buf_put(out, "null", 4);
		mon_buf_printf(out,
			       ",\"new_state\":\"%s\",\"summary\":", monitor_state_name(r->state));
		mon_buf_json_str(out, r->summary);
		mon_buf_put(out, ",\"details\":", 11);
		const char *d = r->details ? r->details : "{}";
		mon_buf_put(out, d, strlen(d));
		mon_buf_put(out, "}", 1);
	}
	mon_buf_put(out, "]}\n", 3);
	return out->failed ? SINKD_ENOMEM : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of json to fd (non-blocking) before the deadline. */
static int feed(int fd, const char *json, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return SINKD_EIO;
		ssize_t w = write(fd, json + off, len - off);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return SINKD_EIO; /* EPIPE: it exited without reading all */
		off += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

static int spawn(const char *program, int in_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	posix_spawnattr_init(&attr);
	/* sinkd serve blocks its signals in every thread and ignores SIGPIPE:
	 * the program starts with the usual dispositions. */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {(char *)program, NULL};
	int ret = posix_spawn(pid, program, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return ret;
}

/* Wait for pid until the deadline; kill it after. */
static int reap(const char *program, pid_t pid, int64_t deadline, unsigned timeout_s)
{
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			log_err("monitor: on_change %s: waitpid: %s", program, strerror(errno));
			return SINKD_EIO;
		}
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			log_err("monitor: on_change %s: still running after %us; killed", program,
				timeout_s);
			return SINKD_EIO;
		}
		struct timespec ts = {.tv_nsec = 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		log_err("monitor: on_change %s exited with status %d", program,
			WEXITSTATUS(status));
	else
		log_err("monitor: on_change %s killed by signal %d", program, WTERMSIG(status));
	return SINKD_EIO;
}

int mon_hook_run(const char *program, const char *json, size_t len, unsigned timeout_s)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_err("monitor: on_change %s: pipe: %s", program, strerror(errno));
		return SINKD_EIO;
	}
	pid_t pid;
	int ret = spawn(program, fds[0], &pid);
	close(fds[0]);
	if (ret != 0) {
		close(fds[1]);
		log_err("monitor: on_change %s: cannot run: %s (set [monitor] on_change to an "
			"executable file)",
			program, strerror(ret));
		return SINKD_EIO;
	}
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	/* A program that exits without reading its input must not kill us with
	 * SIGPIPE: block it in this thread and discard the pending one. */
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	int fed = feed(fds[1], json, len, deadline);
	close(fds[1]);
	struct timespec zero = {0};
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ret = reap(program, pid, deadline, timeout_s);
	if (ret == 0 && fed != 0)
		log_warn("monitor: on_change %s did not read all of its input", program);
	return ret;
}
