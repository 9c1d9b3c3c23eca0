/*
 * Tests of controller/httpd on a loopback port: health, readiness,
 * metrics, and webhooks that are acted on, ignored or refused (and
 * counted).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "httpd.h"
#include "webhook.h"

#define SECRET "hook-secret"

struct world {
	struct httpd *h;
	struct metrics *m;
	bool ready;
	int fetches;
	char commit[41];
};

static bool is_ready(void *payload)
{
	return ((struct world *)payload)->ready;
}

static void fetch(const char *commit, void *payload)
{
	struct world *w = payload;

	w->fetches++;
	snprintf(w->commit, sizeof(w->commit), "%s", commit);
}

static int setup(void **state)
{
	static struct world w;
	struct httpd_options opt = { 0 };
	struct err e = ERR_INIT;

	memset(&w, 0, sizeof(w));
	metrics_new(&w.m);
	httpd_declare_metrics(w.m);
	opt.listen = "127.0.0.1:0";
	opt.github_secret = SECRET;
	opt.github_secret_len = strlen(SECRET);
	opt.gitlab_token = SECRET;
	opt.gitlab_token_len = strlen(SECRET);
	opt.branch = "main";
	opt.metrics = w.m;
	opt.ready = is_ready;
	opt.on_fetch = fetch;
	opt.payload = &w;
	if (httpd_start(&w.h, &opt, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = &w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	httpd_stop(w->h);
	metrics_free(w->m);
	http_global_cleanup();
	return 0;
}

/* METHOD PATH with headers and body; returns the status, body in out */
static long request(struct world *w, const char *method, const char *path,
		    const char *const *headers, const char *body, size_t len,
		    struct buf *out)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct http_client *c = NULL;
	struct err e = ERR_INIT;
	struct buf url = BUF_INIT;
	struct http_request req = { method, NULL,  headers, body,
				    len,    10000, 0,	    0 };
	long status;

	buf_printf(&url, "http://127.0.0.1:%d%s", httpd_port(w->h), path);
	req.url = url.ptr;
	assert_int_equal(http_client_new(&c, NULL, &e), 0);
	if (http_client_do(c, &r, &req, &e) < 0)
		fail_msg("%s", e.msg);
	status = r.status;
	if (out) {
		buf_clear(out);
		buf_put(out, buf_cstr(&r.body), r.body.len);
	}
	http_response_release(&r);
	http_client_free(c);
	buf_release(&url);
	return status;
}

static void signature(char out[100], const char *body)
{
	unsigned char mac[32];
	unsigned int n = 0;
	int i;

	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
	     (const unsigned char *)body, strlen(body), mac, &n);
	snprintf(out, 100, "X-Hub-Signature-256: sha256=");
	for (i = 0; i < 32; i++)
		snprintf(out + strlen(out), 3, "%02x", mac[i]);
}

static void test_httpd__health_and_readiness(void **state)
{
	struct world *w = *state;

	assert_int_equal(request(w, "GET", "/healthz", NULL, NULL, 0, NULL),
			 200);
	assert_int_equal(request(w, "GET", "/readyz", NULL, NULL, 0, NULL),
			 503);
	w->ready = true;
	assert_int_equal(request(w, "GET", "/readyz", NULL, NULL, 0, NULL),
			 200);
	assert_int_equal(request(w, "GET", "/nope", NULL, NULL, 0, NULL), 404);
	assert_int_equal(
		request(w, "GET", "/hooks/github", NULL, NULL, 0, NULL), 405);
}

static void test_httpd__signed_push_fetches_at_once(void **state)
{
	struct world *w = *state;
	const char body[] = "{\"ref\": \"refs/heads/main\", \"after\": "
			    "\"1111111111111111111111111111111111111111\"}";
	char sig[100];
	const char *headers[] = { "X-GitHub-Event: push", sig,
				  "Content-Type: application/json", NULL };

	signature(sig, body);
	assert_int_equal(request(w, "POST", "/hooks/github", headers, body,
				 strlen(body), NULL),
			 202);
	assert_int_equal(w->fetches, 1);
	assert_string_equal(w->commit,
			    "1111111111111111111111111111111111111111");
}

static void test_httpd__refused_requests_are_counted(void **state)
{
	struct world *w = *state;
	static char big[WEBHOOK_MAX_BODY + 100];
	const char *unsigned_push[] = { "X-GitHub-Event: push", NULL };
	const char *wrong[] = { "X-GitHub-Event: push",
				"X-Hub-Signature-256: sha256=00", NULL };
	const char *gitlab[] = { "X-Gitlab-Event: Push Hook",
				 "X-Gitlab-Token: wrong", NULL };
	const char *labels[] = { "source", "github", "result",
				 "unauthenticated", NULL };
	const char *too_large[] = { "source", "github", "result", "too_large",
				    NULL };
	struct buf out = BUF_INIT;
	int before = w->fetches;

	assert_int_equal(request(w, "POST", "/hooks/github", unsigned_push,
				 "{}", 2, NULL),
			 401);
	assert_int_equal(
		request(w, "POST", "/hooks/github", wrong, "{}", 2, NULL), 401);
	assert_int_equal(request(w, "POST", "/hooks/gitlab", gitlab, "{}", 2,
				 NULL),
			 401);
	memset(big, '{', sizeof(big));
	assert_int_equal(request(w, "POST", "/hooks/github", unsigned_push, big,
				 sizeof(big), NULL),
			 413);
	assert_int_equal(w->fetches, before);
	assert_true(metrics_get(w->m, "sagesync_webhook_requests_total",
				labels) == 2);
	assert_true(metrics_get(w->m, "sagesync_webhook_requests_total",
				too_large) == 1);
	assert_int_equal(request(w, "GET", "/metrics", NULL, NULL, 0, &out),
			 200);
	assert_non_null(strstr(out.ptr, "sagesync_webhook_requests_total{"
					"source=\"gitlab\",result="
					"\"unauthenticated\"} 1"));
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpd__health_and_readiness),
		cmocka_unit_test(test_httpd__signed_push_fetches_at_once),
		cmocka_unit_test(test_httpd__refused_requests_are_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
