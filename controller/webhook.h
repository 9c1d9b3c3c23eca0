/*
 * Webhook receivers for GitHub and GitLab push events: authenticate the
 * request, then say whether it asks for a fetch of the followed branch.
 *
 * A request is acted on only when it is authenticated: GitHub's
 * X-Hub-Signature-256 (HMAC-SHA256 of the body with the shared secret) or
 * GitLab's X-Gitlab-Token, both compared in constant time. Without a
 * configured secret every request is refused. Bodies over
 * WEBHOOK_MAX_BODY are refused unread by the server, and here too.
 *
 * Pure: no I/O, so every hostile input is tested and fuzzed directly.
 */
#ifndef SAGESYNC_CONTROLLER_WEBHOOK_H
#define SAGESYNC_CONTROLLER_WEBHOOK_H

#include <stddef.h>

#define WEBHOOK_MAX_BODY (1024 * 1024)

enum webhook_source {
	WEBHOOK_GITHUB,
	WEBHOOK_GITLAB,
};

enum webhook_result {
	WEBHOOK_FETCH, /* a push to the followed branch: fetch now */
	WEBHOOK_IGNORED, /* authentic, nothing to do (ping, other branch) */
	WEBHOOK_REJECTED, /* not authentic, too large or malformed */
};

struct webhook_request {
	const char *event; /* X-GitHub-Event or X-Gitlab-Event, or NULL */
	const char *signature; /* X-Hub-Signature-256, or NULL */
	const char *token; /* X-Gitlab-Token, or NULL */
	const char *body;
	size_t len;
};

struct webhook_verdict {
	enum webhook_result result;
	int http_status; /* what to answer: 200, 202, 400, 401, 413 */
	char reason[128]; /* for the answer body and the metrics label */
	char after[41]; /* the pushed commit, for a fetch */
};

/*
 * Judges `req` from `src`, authenticated with `secret` (`secret_len`
 * bytes; NULL or empty: refuse all), for the branch `branch` (NULL: a
 * push to any branch asks for a fetch).
 */
void webhook_judge(struct webhook_verdict *out, enum webhook_source src,
		   const struct webhook_request *req, const char *secret,
		   size_t secret_len, const char *branch);

#endif
