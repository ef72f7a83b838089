#include "core/log.h"
#include "core/error.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_level = LOG_INFO;
static const char *const names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
	atomic_store(&g_level, (int)level);
}

const char *log_level_name(enum log_level level)
{
	return (level >= LOG_ERR && level <= LOG_DEBUG) ? names[level] : "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&g_level))
		return;
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "sinkd[%s]: ", log_level_name(level));
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

static char g_log_path[1024];

/* The log file replaces stderr (dup2), so messages of libraries writing
 * to stderr land there too. */
int log_open_file(const char *path)
{
	if (strlen(path) >= sizeof(g_log_path))
		return SINKD_EINVAL;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return SINKD_EIO;
	if (dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return SINKD_EIO;
	}
	close(fd);
	snprintf(g_log_path, sizeof(g_log_path), "%s", path);
	return 0;
}

int log_reopen(void)
{
	if (g_log_path[0] == '\0')
		return 0;
	char path[sizeof(g_log_path)];
	snprintf(path, sizeof(path), "%s", g_log_path);
	return log_open_file(path);
}
