/*
 * HTTP client over libcurl, for AWS calls, credential endpoints and
 * (later) notifications. One http_client is one connection cache: reuse it
 * for calls to the same host so keep-alive saves the TCP and TLS setup.
 * A client is not thread-safe; use one per thread.
 *
 * TLS peers are always verified (the system CA bundle, or `ca_file`).
 * Error messages name the method and URL, never a header: credentials and
 * tokens travel in headers, so nothing here can leak them (DESIGN.md §7).
 */
#ifndef SAGESYNC_RECONCILERS_HTTP_H
#define SAGESYNC_RECONCILERS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct http_client;

struct http_request {
	const char *method; /* "GET", "POST", "PUT" */
	const char *url;
	/* "Name: value" lines, NULL-terminated; may be NULL */
	const char *const *headers;
	const void *body;
	size_t body_len;
	long timeout_ms; /* whole exchange; 0: 30 s */
	long connect_timeout_ms; /* 0: 5 s */
	size_t max_body; /* refuse larger answers; 0: 16 MiB */
};

struct http_response {
	long status;
	struct buf body;
	struct buf headers; /* raw header lines of the final answer */
};

#define HTTP_RESPONSE_INIT            \
	{                             \
		0, BUF_INIT, BUF_INIT \
	}

int http_client_new(struct http_client **out, const char *ca_file,
		    struct err *e);
void http_client_free(struct http_client *c);

/*
 * Performs `req`. A transport failure (refused, reset, timed out, no
 * answer) is an error with `retryable` set; any HTTP answer, 5xx
 * included, is a success here and its status is in `out`.
 */
int http_client_do(struct http_client *c, struct http_response *out,
		   const struct http_request *req, struct err *e);

/* The value of header `name` (case-insensitive) into `out`; -1 if none. */
int http_response_header(const struct http_response *r, const char *name,
			 struct buf *out);
void http_response_release(struct http_response *r);

/* libcurl's process-wide state: call once at exit, after every client. */
void http_global_cleanup(void);

#endif
