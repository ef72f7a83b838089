/* Minimal leveled logging to stderr, one line per message, thread-safe
 * (a single write(2) per line). Not for the hot path. */
#ifndef SINKD_CORE_LOG_H
#define SINKD_CORE_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the maximum level printed (default LOG_INFO). */
void log_set_level(enum log_level level);
/* Parse "error|warning|info|debug"; returns 0 or SINKD_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Log to path (appended, created 0640) instead of stderr: the file takes
 * stderr's place. 0, SINKD_EINVAL (path too long) or SINKD_EIO (errno). */
int log_open_file(const char *path);
/* Open the log file's path again (after logrotate moved it): SIGUSR1.
 * 0 when logging to stderr; else as log_open_file. */
int log_reopen(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
