/*
 * The daemon's HTTP server, on libmicrohttpd: /healthz, /readyz,
 * /metrics, and the webhook receivers POST /hooks/github and
 * /hooks/gitlab. Requests are served on the server's own thread; a push
 * that asks for a fetch calls `on_fetch`, which must only signal the
 * reconcile loop (it runs on the server's thread).
 *
 * Every webhook request is counted in sagesync_webhook_requests_total
 * by source and result; bodies are read up to WEBHOOK_MAX_BODY, and a
 * larger one is refused (413) without being kept. An authenticated
 * delivery seen before (GitHub's X-GitHub-Delivery, GitLab's
 * X-Gitlab-Event-UUID, else the body's digest; the last
 * HTTPD_DELIVERIES kept) is answered but not acted on again.
 *
 * Under abuse the health endpoints stay answered: at most
 * HTTPD_PER_IP connections from one address (of HTTPD_CONNECTIONS), a
 * connection idle for HTTPD_IDLE_SECONDS is closed, and a request whose
 * body is still arriving after the request deadline is cut off. A
 * request with both Content-Length and Transfer-Encoding is refused
 * (400), as RFC 9112 6.3 allows: a proxy in front may read it otherwise.
 *
 * Ownership: the server borrows `opt`'s strings and `metrics`; they must
 * outlive it.
 */
#ifndef SAGESYNC_CONTROLLER_HTTPD_H
#define SAGESYNC_CONTROLLER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "metrics.h"

#define HTTPD_CONNECTIONS 64
#define HTTPD_PER_IP 8
#define HTTPD_IDLE_SECONDS 5
#define HTTPD_DELIVERIES 1024

struct httpd_options {
	const char *listen; /* "127.0.0.1:9090"; port 0 picks a free one */
	const char *github_secret; /* NULL: GitHub webhooks refused */
	size_t github_secret_len;
	const char *gitlab_token; /* NULL: GitLab webhooks refused */
	size_t gitlab_token_len;
	/* the followed branch (copied); NULL: the remote's default one,
	 * unknown here, so a push to any branch fetches */
	const char *branch;
	struct metrics *metrics; /* rendered at /metrics */
	/* /readyz: ready once the source is fetched and a reconcile ran */
	bool (*ready)(void *payload);
	/* a push to the branch: fetch and reconcile now */
	void (*on_fetch)(const char *commit, void *payload);
	void *payload;
	/* how long a request's body may take to arrive; 0: 10 s */
	long request_deadline_ms;
};

struct httpd;

int httpd_start(struct httpd **out, const struct httpd_options *opt,
		struct err *e);
/* The port it listens on (useful with port 0). */
int httpd_port(const struct httpd *h);
void httpd_stop(struct httpd *h);

/* Declares the server's metric families in `m`. */
void httpd_declare_metrics(struct metrics *m);

#endif
