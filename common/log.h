/*
 * The controller's log, on stderr: one line per event. For machines
 * (the daemon's default) a JSON object per line, with the fields time
 * (UTC, RFC 3339 with milliseconds), level, message and, when known,
 * revision and resource; for people ("text") "sagesync: MESSAGE", with
 * the revision and resource after it. Lines from many threads never
 * interleave.
 */
#ifndef SAGESYNC_COMMON_LOG_H
#define SAGESYNC_COMMON_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Process-wide; LOG_TEXT until set. */
void log_set_format(enum log_format f);
/* "text" or "json" into *out; -1 for anything else. */
int log_parse_format(const char *s, enum log_format *out);

/* `revision` and `resource` may be NULL. */
void log_msg(enum log_level level, const char *revision, const char *resource,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
