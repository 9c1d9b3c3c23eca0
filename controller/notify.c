/*
 * Notifications (see notify.h).
 */
#include "notify.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"
#include "source.h"
#include "xmldoc.h"

#define ATTEMPTS 5

struct item {
	struct item *next;
	char *event, *revision, *reason, *changes, *controller;
	char time[32];
};

struct notifier {
	const struct config *cfg;
	struct aws_client *aws;
	struct metrics *m;
	struct http_client *http;
	long backoff_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct item *head, **tail;
	bool stop;
};

static const char *const type_names[] = {
	[CONFIG_NOTIFY_SLACK] = "slack",
	[CONFIG_NOTIFY_WEBHOOK] = "webhook",
	[CONFIG_NOTIFY_SNS] = "sns",
	[CONFIG_NOTIFY_GITHUB_STATUS] = "github-status",
	[CONFIG_NOTIFY_GITLAB_STATUS] = "gitlab-status",
};

void notify_declare_metrics(struct metrics *m)
{
	metrics_declare(m, "sagesync_notifications_total", METRICS_COUNTER,
			"Notifications by target type and result: delivered, "
			"failed (after every retry).");
}

static bool good(const char *event)
{
	return !strcmp(event, "succeeded") || !strcmp(event, "drift-healed");
}

/* the event as JSON, for webhooks and SNS */
static char *event_json(const struct item *it)
{
	json_t *changes = json_array(), *o;
	const char *p = it->changes;
	char *s;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		json_array_append_new(changes, json_stringn(p, n));
		p += n + (p[n] == '\n');
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "event", it->event,
		      "revision", it->revision, "reason", it->reason, "time",
		      it->time, "changes", changes, "controller",
		      it->controller);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* one line for people: Slack, status descriptions */
static void summary(struct buf *out, const struct item *it)
{
	buf_printf(out, "sagesync %s: deploy of %.7s %s%s%s", it->controller,
		   it->revision,
		   !strcmp(it->event, "succeeded")    ? "succeeded" :
		   !strcmp(it->event, "drift-healed") ? "healed drift" :
		   !strcmp(it->event, "rolled-back")  ? "failed and was rolled "
							"back" :
							"failed",
		   *it->reason ? ": " : "", it->reason);
}

/* OWNER/REPO of a Git URL: the path after the host, without .git */
/* OWNER/REPO of a commit status: the target's, or the source URL's */
static void repository(struct buf *out, const struct config_notify *t,
		       const char *url)
{
	buf_clear(out);
	if (t->repository)
		buf_puts(out, t->repository);
	else
		source_repository_path(url, out);
}

/*
 * One attempt at one target: 0 delivered, 1 worth retrying (transport,
 * 429, 5xx), -1 not (4xx, a bad config); `why` says what went wrong.
 */
static int deliver(struct notifier *n, const struct config_notify *t,
		   const struct item *it, struct err *why)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_request req = { 0 };
	struct buf url = BUF_INIT, body = BUF_INIT,
		   h[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	const char *headers[5] = { "Content-Type: application/json", NULL };
	char *secret = NULL, *token = NULL, *json = NULL;
	int rc = -1;

	switch (t->type) {
	case CONFIG_NOTIFY_SNS: {
		struct buf subject = BUF_INIT;
		struct xmldoc *doc = NULL;
		const char *params[] = { "TopicArn", t->topic_arn, "Subject",
					 NULL,	     "Message",	   NULL,
					 NULL };

		buf_printf(&subject, "sagesync: %s", it->event);
		json = event_json(it);
		params[3] = subject.ptr;
		params[5] = json;
		rc = aws_query(n->aws, &aws_sns, "Publish", params, &doc, why);
		xmldoc_free(doc);
		buf_release(&subject);
		rc = rc == 0 ? 0 : why->retryable ? 1 : -1;
		goto out;
	}
	case CONFIG_NOTIFY_SLACK: {
		json_t *o;
		struct buf text = BUF_INIT;

		if (!(secret = source_secret(t->url_file, "notify.urlFile")))
			goto misconfigured;
		buf_puts(&url, secret);
		summary(&text, it);
		o = json_pack("{s:s}", "text", text.ptr);
		json = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		buf_release(&text);
		break;
	}
	case CONFIG_NOTIFY_WEBHOOK:
		if (t->url_file) {
			if (!(secret = source_secret(t->url_file,
						     "notify.urlFile")))
				goto misconfigured;
			buf_puts(&url, secret);
			free(secret);
			secret = NULL;
		} else {
			buf_puts(&url, t->url);
		}
		json = event_json(it);
		if (t->secret_file) {
			char mac[65];

			if (!(secret = source_secret(t->secret_file,
						     "notify.secretFile")))
				goto misconfigured;
			sigv4_hmac_sha256_hex(mac, secret, strlen(secret), json,
					      strlen(json));
			buf_printf(&h[0], "X-Sagesync-Signature-256: sha256=%s",
				   mac);
			headers[1] = h[0].ptr;
		}
		break;
	case CONFIG_NOTIFY_GITHUB_STATUS:
	case CONFIG_NOTIFY_GITLAB_STATUS: {
		bool gh = t->type == CONFIG_NOTIFY_GITHUB_STATUS;
		struct buf repo = BUF_INIT, text = BUF_INIT, ctx = BUF_INIT;
		json_t *o;

		if (!(token = source_secret(t->token_file, "notify.tokenFile")))
			goto misconfigured;
		repository(&repo, t, n->cfg->source->url);
		if (!repo.len) {
			err_set(why, ERR_INVALID,
				"the repository is not known: set "
				"notify.repository");
			buf_release(&repo);
			goto out;
		}
		summary(&text, it);
		buf_printf(&ctx, "sagesync/%s",
			   n->cfg->name ? n->cfg->name : "deploy");
		if (gh) {
			buf_printf(&url, "%s/repos/%s/statuses/%s",
				   t->url ? t->url : "https://api.github.com",
				   repo.ptr, it->revision);
			o = json_pack("{s:s, s:s, s:s%}", "state",
				      good(it->event) ? "success" : "failure",
				      "context", ctx.ptr, "description",
				      text.ptr,
				      text.len > 140 ? (size_t)140 : text.len);
			buf_printf(&h[0], "Authorization: Bearer %s", token);
			headers[1] = h[0].ptr;
			headers[2] = "Accept: application/vnd.github+json";
		} else {
			buf_printf(&url, "%s/projects/",
				   t->url ? t->url :
					    "https://gitlab.com/api/v4");
			sigv4_uri_encode(&url, repo.ptr, repo.len, false);
			buf_printf(&url, "/statuses/%s", it->revision);
			o = json_pack("{s:s, s:s, s:s%}", "state",
				      good(it->event) ? "success" : "failed",
				      "name", ctx.ptr, "description", text.ptr,
				      text.len > 140 ? (size_t)140 : text.len);
			buf_printf(&h[0], "PRIVATE-TOKEN: %s", token);
			headers[1] = h[0].ptr;
		}
		json = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		buf_release(&repo);
		buf_release(&text);
		buf_release(&ctx);
		break;
	}
	default:
		goto out;
	}
	req.method = "POST";
	req.url = url.ptr;
	req.headers = headers;
	req.body = json;
	req.body_len = strlen(json);
	req.timeout_ms = 10000;
	if (http_client_do(n->http, &r, &req, why) < 0) {
		rc = 1;
	} else if (r.status >= 200 && r.status < 300) {
		rc = 0;
	} else {
		err_set(why, ERR_IO, "HTTP %ld", r.status);
		rc = r.status == 429 || r.status >= 500 ? 1 : -1;
	}
	goto out;
misconfigured:
	err_set(why, ERR_INVALID, "a secret file of the target cannot be read");
out:
	http_response_release(&r);
	free(secret);
	free(token);
	free(json);
	buf_release(&url);
	buf_release(&body);
	buf_release(&h[0]);
	buf_release(&h[1]);
	buf_release(&h[2]);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Every target for one event, each retried with backoff. */
static void deliver_all(struct notifier *n, const struct item *it)
{
	size_t i;

	for (i = 0; i < n->cfg->n_notify; i++) {
		const struct config_notify *t = &n->cfg->notify[i];
		const char *labels[] = { "target", type_names[t->type],
					 "result", NULL, NULL };
		struct err why = ERR_INIT;
		int attempt, rc = 1;
		bool stopping;

		for (attempt = 0; attempt < ATTEMPTS && rc > 0; attempt++) {
			err_clear(&why);
			rc = deliver(n, t, it, &why);
			pthread_mutex_lock(&n->lock);
			stopping = n->stop;
			pthread_mutex_unlock(&n->lock);
			if (rc > 0 && attempt + 1 < ATTEMPTS && !stopping)
				sleep_ms(n->backoff_ms << attempt);
			else if (stopping)
				break;
		}
		labels[3] = rc == 0 ? "delivered" : "failed";
		if (n->m)
			metrics_add(n->m, "sagesync_notifications_total",
				    labels, 1);
		if (rc != 0)
			log_msg(LOG_WARN, it->revision, NULL,
				"notification to %s not delivered after %d "
				"attempt%s: %s",
				type_names[t->type], attempt,
				attempt == 1 ? "" : "s", why.msg);
	}
}

static void item_free(struct item *it)
{
	free(it->event);
	free(it->revision);
	free(it->reason);
	free(it->changes);
	free(it->controller);
	free(it);
}

static void *run(void *payload)
{
	struct notifier *n = payload;

	for (;;) {
		struct item *it;

		pthread_mutex_lock(&n->lock);
		while (!n->head && !n->stop)
			pthread_cond_wait(&n->wake, &n->lock);
		it = n->head;
		if (it) {
			n->head = it->next;
			if (!n->head)
				n->tail = &n->head;
		}
		pthread_mutex_unlock(&n->lock);
		if (!it)
			return NULL; /* stopped, and nothing left */
		deliver_all(n, it);
		item_free(it);
	}
}

void notifier_start(struct notifier **out, const struct config *cfg,
		    struct aws_client *aws, struct metrics *m)
{
	struct notifier *n;
	struct err e = ERR_INIT;
	const char *env = getenv("SAGESYNC_NOTIFY_BACKOFF_MS");

	*out = NULL;
	if (!cfg->n_notify)
		return;
	n = mem_calloc(1, sizeof(*n));
	n->cfg = cfg;
	n->aws = aws;
	n->m = m;
	n->backoff_ms = env ? strtol(env, NULL, 10) : 1000;
	n->tail = &n->head;
	if (http_client_new(&n->http, NULL, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "notifications: %s", e.msg);
		free(n);
		return;
	}
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	pthread_create(&n->thread, NULL, run, n);
	*out = n;
}

void notify_send(struct notifier *n, const struct notify_event *ev)
{
	struct item *it;

	if (!n)
		return;
	it = mem_calloc(1, sizeof(*it));
	it->event = mem_strdup(ev->event);
	it->revision = mem_strdup(ev->revision ? ev->revision : "");
	it->reason = mem_strdup(ev->reason ? ev->reason : "");
	it->changes = mem_strdup(ev->changes ? ev->changes : "");
	it->controller = mem_strdup(ev->controller ? ev->controller : "");
	record_now(it->time);
	pthread_mutex_lock(&n->lock);
	*n->tail = it;
	n->tail = &it->next;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	http_client_free(n->http);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
