/*
 * The error type (see err.h). Messages are truncated, never overflowed:
 * a long chain of prefixes keeps its outermost context.
 */
#include "err.h"

#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	err_clear(e);
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

static size_t append(char *dst, size_t at, const char *src)
{
	size_t n = strlen(src);

	if (n > ERR_MSG_MAX - 1 - at)
		n = ERR_MSG_MAX - 1 - at;
	memcpy(dst + at, src, n);
	return at + n;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX], out[ERR_MSG_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	n = append(out, 0, prefix);
	n = append(out, n, ": ");
	n = append(out, n, e->msg);
	out[n] = '\0';
	memcpy(e->msg, out, n + 1);
}

void err_clear(struct err *e)
{
	memset(e, 0, sizeof(*e));
}
