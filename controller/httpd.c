/*
 * HTTP endpoints of the daemon (see httpd.h).
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mem.h"
#include "sigv4.h"
#include "webhook.h"

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_options opt;
	char *branch; /* opt.branch, copied: the config it came from may go */
	int port;
	/* the deliveries acted on, newest at `next - 1` (a ring); only the
	 * server's one thread touches it */
	char seen[HTTPD_DELIVERIES][65];
	size_t next;
};

/* one request's body, as it arrives */
struct upload {
	struct buf body;
	bool too_big;
	struct timespec started;
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L +
	       (now.tv_nsec - t->tv_nsec) / 1000000L;
}

/*
 * Whether this authenticated delivery was seen before; remembers it.
 * Its id is the sender's delivery header, else the body's digest, so
 * that a captured request replayed does not fetch again and again.
 */
static bool replayed(struct httpd *h, struct MHD_Connection *c,
		     enum webhook_source src, const struct upload *up)
{
	const char *id = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND,
		src == WEBHOOK_GITHUB ? "X-GitHub-Delivery" :
					"X-Gitlab-Event-UUID");
	struct buf key = BUF_INIT;
	char digest[65];
	size_t i;

	buf_printf(&key, "%d:", (int)src);
	if (id && *id)
		buf_puts(&key, id);
	else
		buf_put(&key, up->body.ptr ? up->body.ptr : "", up->body.len);
	sigv4_sha256_hex(digest, key.ptr, key.len);
	buf_release(&key);
	for (i = 0; i < HTTPD_DELIVERIES; i++)
		if (!strcmp(h->seen[i], digest))
			return true;
	memcpy(h->seen[h->next], digest, sizeof(digest));
	h->next = (h->next + 1) % HTTPD_DELIVERIES;
	return false;
}

#define WEBHOOK_METRIC "sagesync_webhook_requests_total"

void httpd_declare_metrics(struct metrics *m)
{
	metrics_declare(m, WEBHOOK_METRIC, METRICS_COUNTER,
			"Webhook requests by source and result (accepted, "
			"ignored, or the refusal).");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result hook(struct httpd *h, struct MHD_Connection *c,
			    enum webhook_source src, struct upload *up)
{
	struct webhook_request req;
	struct webhook_verdict v;
	const char *labels[] = { "source",
				 src == WEBHOOK_GITHUB ? "github" : "gitlab",
				 "result", NULL, NULL };
	char answer[160];

	req.event = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND,
		src == WEBHOOK_GITHUB ? "X-GitHub-Event" : "X-Gitlab-Event");
	req.signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "X-Hub-Signature-256");
	req.token = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						"X-Gitlab-Token");
	req.body = buf_cstr(&up->body);
	/* over the limit: judged as too large, whatever was kept */
	req.len = up->too_big ? WEBHOOK_MAX_BODY + 1 : up->body.len;
	if (src == WEBHOOK_GITHUB)
		webhook_judge(&v, src, &req, h->opt.github_secret,
			      h->opt.github_secret_len, h->opt.branch);
	else
		webhook_judge(&v, src, &req, h->opt.gitlab_token,
			      h->opt.gitlab_token_len, h->opt.branch);
	if (v.result == WEBHOOK_FETCH && replayed(h, c, src, up)) {
		v.result = WEBHOOK_IGNORED;
		v.http_status = 200;
		snprintf(v.reason, sizeof(v.reason), "delivered before");
		labels[3] = "replayed";
	} else
		labels[3] = v.result == WEBHOOK_FETCH	? "accepted" :
			    v.result == WEBHOOK_IGNORED ? "ignored" :
			    v.http_status == 413	? "too_large" :
			    v.http_status == 401	? "unauthenticated" :
							  "malformed";
	if (h->opt.metrics)
		metrics_add(h->opt.metrics, WEBHOOK_METRIC, labels, 1);
	if (v.result == WEBHOOK_FETCH && h->opt.on_fetch)
		h->opt.on_fetch(v.after, h->opt.payload);
	snprintf(answer, sizeof(answer), "{\"result\": \"%s\"}\n", v.reason);
	return reply(c, (unsigned)v.http_status, "application/json", answer);
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c,
			     const char *url, const char *method,
			     const char *version, const char *data,
			     size_t *size, void **state)
{
	struct httpd *h = cls;
	struct upload *up = *state;
	bool post = !strcmp(method, "POST");

	(void)version;
	if (!up) {
		*state = up = mem_calloc(1, sizeof(*up));
		clock_gettime(CLOCK_MONOTONIC, &up->started);
		/* two lengths: a proxy in front may read another request */
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						"Content-Length") &&
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						"Transfer-Encoding"))
			return reply(c, 400, "text/plain",
				     "Content-Length and Transfer-Encoding "
				     "together\n");
		return MHD_YES;
	}
	if (*size &&
	    ms_since(&up->started) > (h->opt.request_deadline_ms ?
					      h->opt.request_deadline_ms :
					      10000))
		return MHD_NO; /* a body this slow is an attack: cut off */
	if (*size) {
		/* keep up to the limit, then only note it was too big */
		if (up->body.len + *size > WEBHOOK_MAX_BODY)
			up->too_big = true;
		else
			buf_put(&up->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/hooks/github") || !strcmp(url, "/hooks/gitlab")) {
		if (!post)
			return reply(c, 405, "text/plain", "POST only\n");
		return hook(h, c,
			    !strcmp(url, "/hooks/github") ? WEBHOOK_GITHUB :
							    WEBHOOK_GITLAB,
			    up);
	}
	if (!strcmp(method, "GET") && !strcmp(url, "/healthz"))
		return reply(c, 200, "text/plain", "ok\n");
	if (!strcmp(method, "GET") && !strcmp(url, "/readyz")) {
		bool ready = h->opt.ready && h->opt.ready(h->opt.payload);

		return reply(c, ready ? 200 : 503, "text/plain",
			     ready ? "ready\n" : "not ready\n");
	}
	if (!strcmp(method, "GET") && !strcmp(url, "/metrics")) {
		struct buf text = BUF_INIT;
		enum MHD_Result ret;

		if (h->opt.metrics)
			metrics_render(h->opt.metrics, &text);
		ret = reply(c, 200, "text/plain; version=0.0.4",
			    buf_cstr(&text));
		buf_release(&text);
		return ret;
	}
	return reply(c, 404, "text/plain", "not found\n");
}

static void done(void *cls, struct MHD_Connection *c, void **state,
		 enum MHD_RequestTerminationCode code)
{
	struct upload *up = *state;

	(void)cls;
	(void)c;
	(void)code;
	if (up) {
		buf_release(&up->body);
		free(up);
		*state = NULL;
	}
}

int httpd_start(struct httpd **out, const struct httpd_options *opt,
		struct err *e)
{
	struct httpd *h = mem_calloc(1, sizeof(*h));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	const char *colon = strrchr(opt->listen, ':');
	struct buf host = BUF_INIT;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (colon)
		buf_put(&host, opt->listen, (size_t)(colon - opt->listen));
	if (!colon || inet_pton(AF_INET, host.len ? host.ptr : "0.0.0.0",
				&sa.sin_addr) != 1) {
		buf_release(&host);
		free(h);
		return err_set(e, ERR_INVALID,
			       "server.listen '%s': expected IPV4:PORT",
			       opt->listen);
	}
	buf_release(&host);
	sa.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	h->opt = *opt;
	h->branch = opt->branch ? mem_strdup(opt->branch) : NULL;
	h->opt.branch = h->branch;
	h->opt.listen = NULL; /* read here only */
	h->d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
		NULL, serve, h, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_SECONDS,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_PER_IP,
		MHD_OPTION_END);
	if (!h->d) {
		free(h->branch);
		free(h);
		return err_set(e, ERR_IO, "cannot listen on '%s'", opt->listen);
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*out = h;
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h->branch);
	free(h);
}
