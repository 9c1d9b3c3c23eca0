/*
 * AWS Signature Version 4, header variant: the canonical request, the
 * string to sign, the signature and the headers a signed request carries.
 * Pure functions of their inputs (the time is a parameter), so the AWS
 * test suite in tests/fixtures/sigv4 checks them byte for byte.
 *
 * Ownership: everything in a sigv4_request is borrowed; a sigv4_result
 * owns its strings until sigv4_result_release().
 */
#ifndef SAGESYNC_RECONCILERS_SIGV4_H
#define SAGESYNC_RECONCILERS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method; /* "GET", "POST" */
	/* the path as sent, before any encoding ("/", "/example space/") */
	const char *path;
	/* the query as in the URL, without '?', or NULL */
	const char *query;
	/* every header to sign; must include Host */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL without one */
};

struct sigv4_params {
	const char *region;
	const char *service; /* the signing name: "sagemaker", "monitoring" */
	time_t now;
	/* remove dot segments and duplicate slashes (all but S3) */
	bool normalize_path;
	/* add and sign x-amz-content-sha256 (S3 style) */
	bool sign_body;
	/* add X-Amz-Security-Token after signing instead of signing it */
	bool omit_session_token;
};

struct sigv4_result {
	char amz_date[17]; /* 20150830T123600Z */
	char *canonical_request;
	char *string_to_sign;
	char signature[65]; /* lower-case hex */
	char *authorization; /* the Authorization header's value */
	char payload_hash[65]; /* hex SHA-256 of the body */
	/* headers to add to the request: X-Amz-Date, and when they apply
	 * X-Amz-Security-Token and x-amz-content-sha256 */
	struct sigv4_header add[3];
	size_t n_add;
};

int sigv4_sign(struct sigv4_result *out, const struct sigv4_request *req,
	       const struct sigv4_credentials *cred,
	       const struct sigv4_params *params, struct err *e);
void sigv4_result_release(struct sigv4_result *r);

/*
 * URI-encodes `s` into `out` as SigV4 does: everything but A-Z a-z 0-9
 * - _ . ~ becomes %XX (upper-case hex); '/' too unless `keep_slash`.
 */
struct buf;
void sigv4_uri_encode(struct buf *out, const char *s, size_t len,
		      bool keep_slash);
/* Lower-case hex SHA-256 of `data` into `hex` (65 bytes). */
void sigv4_sha256_hex(char hex[65], const void *data, size_t len);
/* Lower-case hex HMAC-SHA256 of `data` with `key` into `hex`. */
void sigv4_hmac_sha256_hex(char hex[65], const void *key, size_t keylen,
			   const void *data, size_t len);

#endif
