/*
 * The AWS client (see aws.h): one place where requests are built, signed,
 * sent, retried and their errors understood.
 */
#include "aws.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "mem.h"
#include "sigv4.h"

/* ---- services, from botocore's models (shared/aws-models/README.md) ---- */

const struct aws_service aws_sagemaker = {
	"sagemaker",
	"sagemaker",
	"api.sagemaker",
	"SAGEMAKER",
	AWS_PROTOCOL_JSON,
	"SageMaker",
	"1.1",
	NULL,
	false,
};
const struct aws_service aws_cloudwatch = {
	"cloudwatch",
	"monitoring",
	"monitoring",
	"CLOUDWATCH",
	AWS_PROTOCOL_JSON,
	"GraniteServiceVersion20100801",
	"1.0",
	NULL,
	false,
};
const struct aws_service aws_autoscaling = {
	"application-autoscaling",
	"application-autoscaling",
	"application-autoscaling",
	"APPLICATION_AUTO_SCALING",
	AWS_PROTOCOL_JSON,
	"AnyScaleFrontendService",
	"1.1",
	NULL,
	false,
};
const struct aws_service aws_sts = {
	"sts", "sts", "sts",	    "STS", AWS_PROTOCOL_QUERY,
	NULL,  NULL,  "2011-06-15", true,
};
const struct aws_service aws_sns = {
	"sns", "sns", "sns",	    "SNS", AWS_PROTOCOL_QUERY,
	NULL,  NULL,  "2010-03-31", false,
};
const struct aws_service aws_dynamodb = {
	"dynamodb",
	"dynamodb",
	"dynamodb",
	"DYNAMODB",
	AWS_PROTOCOL_JSON,
	"DynamoDB_20120810",
	"1.0",
	NULL,
	false,
};
const struct aws_service aws_events = {
	"events",    "events", "events", "EVENTS", AWS_PROTOCOL_JSON,
	"AWSEvents", "1.1",    NULL,	 false,
};

/* ---- the client ------------------------------------------------------ */

#define POOL_MAX 32

struct aws_client {
	char *region;
	char *endpoint_url;
	char *ca_file;
	int max_attempts;
	long timeout_ms;
	long backoff_base_ms;
	struct creds_provider *creds;
	void (*on_call)(const char *service, const char *op, bool throttled,
			void *payload);
	void *on_call_payload;

	pthread_mutex_t lock; /* guards everything below */
	struct http_client *pool[POOL_MAX];
	size_t n_pool;
	double rate, burst, tokens;
	struct timespec last_fill;
	struct aws_stats stats;
};

static double now_seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0)
		;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? mem_strdup(v) : NULL;
}

int aws_client_new(struct aws_client **out, const struct aws_options *opt,
		   struct err *e)
{
	struct aws_client *c = mem_calloc(1, sizeof(*c));
	const char *attempts = getenv("AWS_MAX_ATTEMPTS");

	*out = NULL;
	c->region = opt->region && *opt->region ? mem_strdup(opt->region) :
						  env_dup("AWS_REGION");
	if (!c->region)
		c->region = env_dup("AWS_DEFAULT_REGION");
	if (!c->region)
		c->region = creds_profile_region(opt->profile);
	if (!c->region) {
		free(c);
		return err_set(e, ERR_INVALID,
			       "no AWS region: set aws.region in the config, "
			       "or AWS_REGION");
	}
	c->endpoint_url = opt->endpoint_url && *opt->endpoint_url ?
				  mem_strdup(opt->endpoint_url) :
				  NULL;
	c->ca_file = opt->ca_file ? mem_strdup(opt->ca_file) : NULL;
	c->max_attempts = opt->max_attempts > 0 ? opt->max_attempts : 3;
	if (attempts && strtol(attempts, NULL, 10) > 0)
		c->max_attempts = (int)strtol(attempts, NULL, 10);
	c->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 30000;
	c->backoff_base_ms = 1000;
	if (getenv("SAGESYNC_AWS_BACKOFF_MS"))
		c->backoff_base_ms =
			strtol(getenv("SAGESYNC_AWS_BACKOFF_MS"), NULL, 10);
	c->on_call = opt->on_call;
	c->on_call_payload = opt->on_call_payload;
	c->rate = opt->rate > 0 ? opt->rate : 25;
	c->burst = opt->burst > 0 ? opt->burst : 50;
	c->tokens = c->burst;
	clock_gettime(CLOCK_MONOTONIC, &c->last_fill);
	pthread_mutex_init(&c->lock, NULL);
	creds_provider_new(&c->creds, opt->profile, c);
	*out = c;
	return 0;
}

void aws_client_free(struct aws_client *c)
{
	size_t i;

	if (!c)
		return;
	creds_provider_free(c->creds);
	for (i = 0; i < c->n_pool; i++)
		http_client_free(c->pool[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->region);
	free(c->endpoint_url);
	free(c->ca_file);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

struct creds_provider *aws_client_creds(struct aws_client *c)
{
	return c->creds;
}

void aws_client_stats(const struct aws_client *c, struct aws_stats *out)
{
	pthread_mutex_lock((pthread_mutex_t *)&c->lock);
	*out = c->stats;
	pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
}

static int http_take(struct aws_client *c, struct http_client **out,
		     struct err *e)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_pool) {
		*out = c->pool[--c->n_pool];
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);
	return http_client_new(out, c->ca_file, e);
}

static void http_give(struct aws_client *c, struct http_client *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_pool < POOL_MAX) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	http_client_free(h);
}

/* Token bucket: waits until one request may go. */
static void rate_wait(struct aws_client *c)
{
	for (;;) {
		struct timespec now;
		double wait;

		pthread_mutex_lock(&c->lock);
		clock_gettime(CLOCK_MONOTONIC, &now);
		c->tokens += (now_seconds(&now) - now_seconds(&c->last_fill)) *
			     c->rate;
		if (c->tokens > c->burst)
			c->tokens = c->burst;
		c->last_fill = now;
		if (c->tokens >= 1) {
			c->tokens -= 1;
			pthread_mutex_unlock(&c->lock);
			return;
		}
		wait = (1 - c->tokens) / c->rate;
		pthread_mutex_unlock(&c->lock);
		sleep_seconds(wait);
	}
}

void aws_client_endpoint(const struct aws_client *c,
			 const struct aws_service *svc, struct buf *out)
{
	const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	const char *v = NULL;
	struct buf name = BUF_INIT;

	buf_clear(out);
	if (!ignore || strcasecmp(ignore, "true")) {
		buf_printf(&name, "AWS_ENDPOINT_URL_%s", svc->env_name);
		v = getenv(name.ptr);
		if (!v || !*v)
			v = getenv("AWS_ENDPOINT_URL");
		if (!v || !*v)
			v = c->endpoint_url;
	}
	if (v && *v)
		buf_puts(out, v);
	else
		buf_printf(out, "https://%s.%s.%s", svc->host_prefix, c->region,
			   strncmp(c->region, "cn-", 3) ? "amazonaws.com" :
							  "amazonaws.com.cn");
	buf_release(&name);
}

/* Splits "scheme://host[:port][/path]" into host (with port) and path. */
static int split_url(const char *url, struct buf *host, struct buf *path,
		     struct err *e)
{
	const char *p = strstr(url, "://"), *slash;

	if (!p || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
		return err_set(e, ERR_INVALID,
			       "endpoint URL '%s' is not http:// or https://",
			       url);
	p += 3;
	slash = strchr(p, '/');
	buf_clear(host);
	buf_clear(path);
	buf_put(host, p, slash ? (size_t)(slash - p) : strlen(p));
	buf_puts(path, slash ? slash : "/");
	if (!host->len)
		return err_set(e, ERR_INVALID, "endpoint URL '%s' has no host",
			       url);
	return 0;
}

bool aws_is_throttle(const char *code)
{
	static const char *const codes[] = {
		"Throttling",
		"ThrottlingException",
		"ThrottledException",
		"RequestThrottledException",
		"TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException",
		"RequestLimitExceeded",
		"BandwidthLimitExceeded",
		"LimitExceededException",
		"RequestThrottled",
		"SlowDown",
		"PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

static bool transient_code(const char *code)
{
	return !strcmp(code, "RequestTimeout") ||
	       !strcmp(code, "RequestTimeoutException") ||
	       !strcmp(code, "InternalError") ||
	       !strcmp(code, "InternalFailure") ||
	       !strcmp(code, "ServiceUnavailable");
}

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Fills `e` from an error answer: the code from __type, X-Amzn-ErrorType
 * or the XML, stripped of namespace ("...#Code") and suffix ("Code:...").
 */
static void parse_error(const struct aws_service *svc, const char *op,
			struct http_response *r, struct err *e)
{
	struct buf code = BUF_INIT, msg = BUF_INIT, id = BUF_INIT,
		   qe = BUF_INIT;
	const char *c, *end;

	if (http_response_header(r, "x-amzn-RequestId", &id) < 0)
		http_response_header(r, "x-amz-request-id", &id);
	if (r->body.len && buf_cstr(&r->body)[0] == '{') {
		json_t *j = json_loadb(r->body.ptr, r->body.len, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "__type"));
		const char *m =
			json_string_value(json_object_get(j, "message"));

		if (!m)
			m = json_string_value(json_object_get(j, "Message"));
		if (t)
			buf_puts(&code, t);
		if (m)
			buf_puts(&msg, m);
		json_decref(j);
	} else if (r->body.len) {
		struct xmldoc *doc = NULL;
		struct err ignored = ERR_INIT;

		if (xmldoc_parse(&doc, r->body.ptr, r->body.len, &ignored) ==
		    0) {
			const struct xmlnode *err =
				xmldoc_search(xmldoc_root(doc), "Error");
			const char *t = err ? xmldoc_text(err, "Code") : NULL;
			const char *m = err ? xmldoc_text(err, "Message") :
					      NULL;
			const char *rid =
				xmldoc_text(xmldoc_root(doc), "RequestId");

			if (!rid)
				rid = xmldoc_text(xmldoc_root(doc),
						  "RequestID");
			if (t)
				buf_puts(&code, t);
			if (m)
				buf_puts(&msg, m);
			if (rid && !id.len)
				buf_puts(&id, rid);
		}
		xmldoc_free(doc);
	}
	/* CloudWatch's JSON answers name the modeled (query) code here */
	if (http_response_header(r, "x-amzn-query-error", &qe) == 0 &&
	    strchr(qe.ptr, ';')) {
		buf_clear(&code);
		buf_put(&code, qe.ptr, (size_t)(strchr(qe.ptr, ';') - qe.ptr));
	}
	if (!code.len)
		http_response_header(r, "x-amzn-ErrorType", &code);
	c = buf_cstr(&code);
	if (strchr(c, '#'))
		c = strchr(c, '#') + 1;
	end = strchr(c, ':');
	err_set(e, ERR_AWS, "%s %s: %.*s: %s", svc->name, op,
		(int)(end ? (size_t)(end - c) : strlen(c)),
		*c ? c : "HTTP error", msg.len ? msg.ptr : "(no message)");
	copy_field(e->aws_code, sizeof(e->aws_code), c,
		   end ? (size_t)(end - c) : strlen(c));
	if (!e->aws_code[0])
		snprintf(e->aws_code, sizeof(e->aws_code), "HTTP%ld",
			 r->status);
	copy_field(e->request_id, sizeof(e->request_id), buf_cstr(&id), id.len);
	e->http_status = (int)r->status;
	e->retryable = r->status >= 500 || r->status == 429 ||
		       aws_is_throttle(e->aws_code) ||
		       transient_code(e->aws_code);
	buf_release(&code);
	buf_release(&msg);
	buf_release(&id);
	buf_release(&qe);
}

struct call {
	const struct aws_service *svc;
	const char *op;
	const char *content_type;
	const char *target; /* X-Amz-Target, or NULL */
	const char *body;
	size_t body_len;
	bool use_provider; /* sign with the provider's credentials */
	const struct creds *as; /* else these, or unsigned when NULL */
};

/* One attempt: build, sign, send; an AWS error answer becomes `e`. */
static int attempt(struct aws_client *c, const struct call *k,
		   struct http_client *h, struct http_response *r,
		   struct err *e)
{
	struct buf url = BUF_INIT, host = BUF_INIT, path = BUF_INIT;
	struct buf hdr[8] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
			      BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	const char *lines[9];
	struct sigv4_header sh[3];
	struct sigv4_result sig;
	struct creds cr = { 0 };
	const struct creds *use = k->as;
	size_t n = 0, nsh = 0, i;
	int rc;

	memset(&sig, 0, sizeof(sig));
	aws_client_endpoint(c, k->svc, &url);
	if ((rc = split_url(url.ptr, &host, &path, e)) < 0)
		goto out;
	if (k->use_provider) {
		if ((rc = creds_get(c->creds, &cr, e)) < 0)
			goto out;
		use = &cr;
	}
	sh[nsh++] = (struct sigv4_header){ "Host", host.ptr };
	sh[nsh++] = (struct sigv4_header){ "Content-Type", k->content_type };
	if (k->target)
		sh[nsh++] = (struct sigv4_header){ "X-Amz-Target", k->target };
	for (i = 0; i < nsh; i++)
		buf_printf(&hdr[n++], "%s: %s", sh[i].name, sh[i].value);
	if (use) {
		struct sigv4_request req = { "POST", path.ptr, NULL,	   sh,
					     nsh,    k->body,  k->body_len };
		struct sigv4_credentials sc = { use->access_key_id,
						use->secret_access_key,
						use->session_token };
		struct sigv4_params p = { c->region,  k->svc->signing_name,
					  time(NULL), true,
					  false,      false };

		if ((rc = sigv4_sign(&sig, &req, &sc, &p, e)) < 0)
			goto out;
		for (i = 0; i < sig.n_add; i++)
			buf_printf(&hdr[n++], "%s: %s", sig.add[i].name,
				   sig.add[i].value);
		buf_printf(&hdr[n++], "Authorization: %s", sig.authorization);
	}
	for (i = 0; i < n; i++)
		lines[i] = hdr[i].ptr;
	lines[n] = NULL;
	{
		struct http_request req = { "POST",	 url.ptr,
					    lines,	 k->body,
					    k->body_len, c->timeout_ms,
					    0,		 0 };

		pthread_mutex_lock(&c->lock);
		c->stats.calls++;
		pthread_mutex_unlock(&c->lock);
		if ((rc = http_client_do(h, r, &req, e)) < 0) {
			err_prefix(e, "%s %s", k->svc->name, k->op);
			goto out;
		}
	}
	if (r->status >= 300) {
		parse_error(k->svc, k->op, r, e);
		rc = e->code;
	}
	if (c->on_call)
		c->on_call(k->svc->name, k->op,
			   rc < 0 && (aws_is_throttle(e->aws_code) ||
				      e->http_status == 429),
			   c->on_call_payload);
out:
	sigv4_result_release(&sig);
	creds_release(&cr);
	for (i = 0; i < 8; i++)
		buf_release(&hdr[i]);
	buf_release(&url);
	buf_release(&host);
	buf_release(&path);
	return rc;
}

/* Standard retry mode: full jitter over a capped exponential. */
static double backoff(const struct aws_client *c, int attempt_no)
{
	double cap = 20.0, base = (double)c->backoff_base_ms / 1000.0;
	double t = base * pow(2, attempt_no);

	if (t > cap)
		t = cap;
	return t * ((double)arc4random_uniform(1u << 30) / (double)(1u << 30));
}

static int call(struct aws_client *c, const struct call *k, struct buf *out,
		struct err *e)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_client *h = NULL;
	int rc, i;

	if ((rc = http_take(c, &h, e)) < 0)
		return rc;
	for (i = 0;; i++) {
		rate_wait(c);
		err_clear(e);
		rc = attempt(c, k, h, &r, e);
		if (rc == 0 || !e->retryable || i + 1 >= c->max_attempts)
			break;
		pthread_mutex_lock(&c->lock);
		c->stats.retries++;
		if (aws_is_throttle(e->aws_code) || e->http_status == 429)
			c->stats.throttles++;
		pthread_mutex_unlock(&c->lock);
		sleep_seconds(backoff(c, i));
	}
	if (rc < 0 && (aws_is_throttle(e->aws_code) || e->http_status == 429)) {
		pthread_mutex_lock(&c->lock);
		c->stats.throttles++;
		pthread_mutex_unlock(&c->lock);
	}
	if (rc < 0 && i > 0)
		err_prefix(e, "after %d attempts", i + 1);
	if (rc == 0) {
		buf_clear(out);
		buf_put(out, r.body.ptr ? r.body.ptr : "", r.body.len);
	}
	http_response_release(&r);
	http_give(c, h);
	return rc;
}

int aws_json(struct aws_client *c, const struct aws_service *svc,
	     const char *op, const char *request, struct buf *out,
	     struct err *e)
{
	struct buf target = BUF_INIT, ctype = BUF_INIT;
	struct call k;
	int rc;

	buf_printf(&target, "%s.%s", svc->target_prefix, op);
	buf_printf(&ctype, "application/x-amz-json-%s", svc->json_version);
	if (!request)
		request = "{}";
	k = (struct call){ svc,	       op,	ctype.ptr,
			   target.ptr, request, strlen(request),
			   true,       NULL };
	rc = call(c, &k, out, e);
	buf_release(&target);
	buf_release(&ctype);
	return rc;
}

/* no listing is longer (10,000 pages of 100: a million resources) */
#define MAX_PAGES 10000

int aws_json_pages(struct aws_client *c, const struct aws_service *svc,
		   const char *op, const char *request,
		   int (*page)(const char *body, size_t len, void *payload),
		   void *payload, struct err *e)
{
	json_t *req = json_loads(request ? request : "{}", 0, NULL);
	struct buf body = BUF_INIT;
	char *text = NULL;
	int rc = 0, pages = 0;

	if (!json_is_object(req)) {
		json_decref(req);
		return err_set(e, ERR_INVALID,
			       "%s %s: request is not a JSON "
			       "object",
			       svc->name, op);
	}
	for (;;) {
		json_t *ans;
		const char *next, *prev;

		free(text);
		text = json_dumps(req, JSON_COMPACT);
		if ((rc = aws_json(c, svc, op, text, &body, e)) < 0 ||
		    (rc = page(body.ptr, body.len, payload)) < 0)
			break;
		ans = json_loadb(body.ptr, body.len, 0, NULL);
		next = json_string_value(json_object_get(ans, "NextToken"));
		if (!next || !*next) {
			json_decref(ans);
			break;
		}
		/* a server that pages wrong must not keep us here forever */
		prev = json_string_value(json_object_get(req, "NextToken"));
		if (prev && !strcmp(next, prev)) {
			rc = err_set(e, ERR_AWS,
				     "%s %s: the answer repeats the NextToken "
				     "of the request (%s): the listing would "
				     "never end",
				     svc->name, op, next);
			json_decref(ans);
			break;
		}
		if (++pages > MAX_PAGES) {
			rc = err_set(e, ERR_LIMIT,
				     "%s %s: more than %d pages: stopped",
				     svc->name, op, MAX_PAGES);
			json_decref(ans);
			break;
		}
		json_object_set_new(req, "NextToken", json_string(next));
		json_decref(ans);
	}
	free(text);
	json_decref(req);
	buf_release(&body);
	return rc;
}

/*
 * A form value as the SDKs encode it (application/x-www-form-urlencoded):
 * unreserved characters as they are, a space as '+', the rest %XX. The
 * signature covers the body's bytes, so any encoding signs; this one is
 * the SDKs', which servers that re-encode a parsed form (the local AWS
 * does) reproduce byte for byte.
 */
static void form_encode(struct buf *out, const char *s)
{
	const char *space;

	while ((space = strchr(s, ' '))) {
		sigv4_uri_encode(out, s, (size_t)(space - s), false);
		buf_putc(out, '+');
		s = space + 1;
	}
	sigv4_uri_encode(out, s, strlen(s), false);
}

int aws_query_as(struct aws_client *c, const struct aws_service *svc,
		 const char *op, const char *const *params,
		 const struct creds *as, struct xmldoc **out, struct err *e)
{
	struct buf body = BUF_INIT, ans = BUF_INIT;
	struct call k;
	size_t i;
	int rc;

	*out = NULL;
	buf_printf(&body, "Action=%s&Version=%s", op, svc->api_version);
	for (i = 0; params && params[i] && params[i + 1]; i += 2) {
		buf_putc(&body, '&');
		form_encode(&body, params[i]);
		buf_putc(&body, '=');
		form_encode(&body, params[i + 1]);
	}
	k = (struct call){ svc,
			   op,
			   "application/x-www-form-urlencoded; charset=utf-8",
			   NULL,
			   body.ptr,
			   body.len,
			   false,
			   as };
	rc = call(c, &k, &ans, e);
	if (rc == 0 && (rc = xmldoc_parse(out, ans.ptr, ans.len, e)) < 0)
		err_prefix(e, "%s %s", svc->name, op);
	buf_release(&body);
	buf_release(&ans);
	return rc;
}

int aws_query(struct aws_client *c, const struct aws_service *svc,
	      const char *op, const char *const *params, struct xmldoc **out,
	      struct err *e)
{
	struct creds cr = { 0 };
	int rc;

	if ((rc = creds_get(c->creds, &cr, e)) < 0) {
		*out = NULL;
		return rc;
	}
	rc = aws_query_as(c, svc, op, params, &cr, out, e);
	creds_release(&cr);
	return rc;
}
