/*
 * The log (see log.h).
 */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"

static enum log_format format = LOG_TEXT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_format(enum log_format f)
{
	format = f;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (!strcmp(s, "text"))
		*out = LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = LOG_JSON;
	else
		return -1;
	return 0;
}

void log_msg(enum log_level level, const char *revision, const char *resource,
	     const char *fmt, ...)
{
	struct buf raw = BUF_INIT, msg = BUF_INIT, line = BUF_INIT;
	struct buf rev = BUF_INIT, res = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&raw, fmt, ap);
	va_end(ap);
	/* what the message quotes may come from anyone (a commit, a
	 * signature, an AWS answer): one line, valid UTF-8, nothing lost */
	buf_put_shown(&msg, buf_cstr(&raw), raw.len, false);
	if (revision)
		buf_put_shown(&rev, revision, strlen(revision), false);
	if (resource)
		buf_put_shown(&res, resource, strlen(resource), false);
	if (format == LOG_JSON) {
		struct timespec ts;
		struct tm tm;
		char when[40];
		json_t *o;
		char *s;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + strlen(when), sizeof(when) - strlen(when),
			 ".%03ldZ", ts.tv_nsec / 1000000L);
		o = json_pack("{s:s, s:s, s:s%}", "time", when, "level",
			      level_names[level], "message", buf_cstr(&msg),
			      msg.len);
		if (o && revision)
			json_object_set_new(o, "revision",
					    json_string(buf_cstr(&rev)));
		if (o && resource)
			json_object_set_new(o, "resource",
					    json_string(buf_cstr(&res)));
		s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		buf_puts(&line, s ? s : "{\"message\":\"cannot encode\"}");
		free(s);
		json_decref(o);
	} else {
		buf_printf(&line, "sagesync: %s%s",
			   level == LOG_WARN  ? "warning: " :
			   level == LOG_ERROR ? "error: " :
						"",
			   buf_cstr(&msg));
		if (resource)
			buf_printf(&line, " [%s]", res.ptr);
		if (revision)
			buf_printf(&line, " (revision %.7s)", rev.ptr);
	}
	buf_putc(&line, '\n');
	/* one write, so lines from threads stay whole */
	fwrite(line.ptr, 1, line.len, stderr);
	buf_release(&raw);
	buf_release(&msg);
	buf_release(&rev);
	buf_release(&res);
	buf_release(&line);
}
