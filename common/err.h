/*
 * The one error type of sagesync. Functions return int (0 success,
 * negative failure) and fill a caller-owned `struct err *` passed last.
 * Each layer prefixes the message with its context, so the final text
 * reads outermost first:
 *   reconcile Endpoint 'churn-prod': UpdateEndpoint: ValidationException: ...
 * The struct owns no heap memory; copying it is fine.
 */
#ifndef SAGESYNC_COMMON_ERR_H
#define SAGESYNC_COMMON_ERR_H

#include <stdarg.h>
#include <stdbool.h>

enum err_code {
	ERR_OK = 0,
	ERR_GENERIC = -1, /* anything without a better code */
	ERR_INVALID = -2, /* bad input: manifest, config, request */
	ERR_NOTFOUND = -3, /* a named thing does not exist */
	ERR_IO = -4, /* file system or network I/O */
	ERR_LIMIT = -5, /* a size or count limit was hit */
	ERR_AWS = -6, /* AWS answered with an error (see aws_code) */
	ERR_USAGE = -7, /* bad command line */
	/* a deploy failed its health gates: an endpoint Failed or rolled
	 * back, a health alarm fired during the bake, a deploy timeout */
	ERR_UNHEALTHY = -8,
};

#define ERR_MSG_MAX 1024

struct err {
	int code;
	bool retryable; /* trying again later may succeed */
	int http_status; /* 0 when no HTTP exchange was involved */
	char aws_code[64]; /* e.g. "ThrottlingException" */
	char request_id[64];
	char msg[ERR_MSG_MAX];
};

#define ERR_INIT                        \
	{                               \
		0, false, 0, "", "", "" \
	}

/* Sets code and message (replacing what was there); returns `code`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts "CONTEXT: " before the current message. */
void err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

#endif
