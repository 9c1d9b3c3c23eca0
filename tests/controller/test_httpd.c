/*
 * Tests of controller/httpd on a loopback port: health, readiness,
 * metrics, and webhooks that are acted on, ignored or refused (and
 * counted); and under abuse: slow clients from one address, a body that
 * trickles in, two lengths in one request, a replayed delivery.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
	opt.request_deadline_ms = 500;
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

/* a raw connection to the server from the loopback address `from` */
static int raw_connect(const struct world *w, const char *from)
{
	struct sockaddr_in a, to;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, from, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)httpd_port(w->h));
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

		if (k <= 0)
			return; /* closed by the server: what some tests want */
		s += k;
		n -= (size_t)k;
	}
}

/* what the server sends within `ms` (until it closes): into `out`;
 * whether it closed the connection */
static bool read_for(int fd, long ms, struct buf *out)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char chunk[4096];

	buf_clear(out);
	while (poll(&p, 1, (int)ms) > 0) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

		if (n <= 0)
			return true;
		buf_put(out, chunk, (size_t)n);
	}
	return false;
}

/*
 * 64 connections from one address, each sending a request's first line
 * and never the rest (slowloris): the server keeps HTTPD_PER_IP of them
 * and closes the others at once, and /healthz from another address is
 * answered at once.
 */
static void test_httpd__slow_clients_do_not_take_health_down(void **state)
{
	struct world *w = *state;
	int fds[64];
	size_t i, closed = 0, kept = 0;
	struct buf out = BUF_INIT;
	struct timespec t0, t1;

	for (i = 0; i < 64; i++) {
		fds[i] = raw_connect(w, "127.0.0.2");
		if (fds[i] >= 0)
			send_all(fds[i],
				 "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	}
	for (i = 0; i < 64; i++) {
		if (fds[i] < 0 || read_for(fds[i], 50, &out))
			closed++;
		else
			kept++;
	}
	assert_true(kept <= HTTPD_PER_IP);
	assert_int_equal(kept + closed, 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(request(w, "GET", "/healthz", NULL, NULL, 0, NULL),
			 200);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	for (i = 0; i < 64; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	buf_release(&out);
}

/* a body still arriving after the deadline is cut off, whatever its pace */
static void test_httpd__a_trickling_body_is_cut_off(void **state)
{
	struct world *w = *state;
	int fd = raw_connect(w, "127.0.0.3");
	struct buf out = BUF_INIT;
	int i;
	bool closed = false;

	assert_true(fd >= 0);
	send_all(fd, "POST /hooks/github HTTP/1.1\r\nHost: x\r\n"
		     "X-GitHub-Event: push\r\nContent-Length: 1000\r\n\r\n");
	/* a byte every 100 ms: never idle, never done */
	for (i = 0; i < 20 && !closed; i++) {
		send_all(fd, "{");
		closed = read_for(fd, 100, &out);
	}
	assert_true(closed);
	/* about 500 ms: not at once (taken), not after 2 s (never cut) */
	assert_true(i >= 3 && i < 15);
	close(fd);
	buf_release(&out);
}

static void test_httpd__two_lengths_are_refused(void **state)
{
	struct world *w = *state;
	int fd = raw_connect(w, "127.0.0.4");
	struct buf out = BUF_INIT;
	int before = w->fetches;

	assert_true(fd >= 0);
	send_all(fd, "POST /hooks/github HTTP/1.1\r\nHost: x\r\n"
		     "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "2\r\n{}\r\n0\r\n\r\n");
	read_for(fd, 1000, &out);
	assert_int_equal(strncmp(out.ptr ? out.ptr : "", "HTTP/1.1 400", 12),
			 0);
	assert_int_equal(w->fetches, before);
	close(fd);
	buf_release(&out);
}

/* a signed delivery replayed: answered, counted, not fetched again */
static void test_httpd__a_replayed_delivery_fetches_once(void **state)
{
	struct world *w = *state;
	const char body[] = "{\"ref\": \"refs/heads/main\", \"after\": "
			    "\"2222222222222222222222222222222222222222\"}";
	const char other[] = "{\"ref\": \"refs/heads/main\", \"after\": "
			     "\"3333333333333333333333333333333333333333\"}";
	char sig[100], sig2[100];
	const char *with_id[] = { "X-GitHub-Event: push", sig,
				  "X-GitHub-Delivery: 72d3162e-cc78-11e3",
				  NULL };
	const char *no_id[] = { "X-GitHub-Event: push", sig2, NULL };
	const char *labels[] = { "source", "github", "result", "replayed",
				 NULL };
	int before = w->fetches;

	signature(sig, body);
	signature(sig2, other);
	assert_int_equal(request(w, "POST", "/hooks/github", with_id, body,
				 strlen(body), NULL),
			 202);
	assert_int_equal(request(w, "POST", "/hooks/github", with_id, body,
				 strlen(body), NULL),
			 200);
	assert_int_equal(request(w, "POST", "/hooks/github", no_id, other,
				 strlen(other), NULL),
			 202);
	assert_int_equal(request(w, "POST", "/hooks/github", no_id, other,
				 strlen(other), NULL),
			 200);
	assert_int_equal(w->fetches, before + 2);
	assert_true(metrics_get(w->m, "sagesync_webhook_requests_total",
				labels) == 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpd__health_and_readiness),
		cmocka_unit_test(test_httpd__signed_push_fetches_at_once),
		cmocka_unit_test(test_httpd__refused_requests_are_counted),
		cmocka_unit_test(
			test_httpd__slow_clients_do_not_take_health_down),
		cmocka_unit_test(test_httpd__a_trickling_body_is_cut_off),
		cmocka_unit_test(test_httpd__two_lengths_are_refused),
		cmocka_unit_test(test_httpd__a_replayed_delivery_fetches_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
