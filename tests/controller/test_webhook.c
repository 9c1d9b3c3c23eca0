/*
 * Unit tests for controller/webhook: authentication of GitHub and GitLab
 * push events, and what a push asks for.
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

#include "webhook.h"

#define SECRET "It's a Secret to Everybody"

static const char push_main[] =
	"{\"ref\": \"refs/heads/main\", \"after\": "
	"\"3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e\", \"repository\": "
	"{\"full_name\": \"acme/ml-deploy\"}}";

/* "sha256=" and the hex HMAC of `body` with `key` */
static void sign(char out[72], const char *key, const char *body, size_t len)
{
	unsigned char mac[32];
	unsigned int n = 0;
	int i;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
	     len, mac, &n);
	snprintf(out, 8, "sha256=");
	for (i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
}

static void github(struct webhook_verdict *v, const char *event,
		   const char *sig, const char *body, size_t len)
{
	struct webhook_request req = { event, sig, NULL, body, len };

	webhook_judge(v, WEBHOOK_GITHUB, &req, SECRET, strlen(SECRET), "main");
}

static void test_webhook__signed_push_to_branch_fetches(void **state)
{
	struct webhook_verdict v;
	char sig[72];

	(void)state;
	sign(sig, SECRET, push_main, strlen(push_main));
	github(&v, "push", sig, push_main, strlen(push_main));
	assert_int_equal(v.result, WEBHOOK_FETCH);
	assert_int_equal(v.http_status, 202);
	assert_string_equal(v.after,
			    "3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e");
}

/* no branch configured: the remote's default is followed, so any push */
static void test_webhook__any_branch_without_one_configured(void **state)
{
	struct webhook_verdict v;
	const char body[] = "{\"ref\": \"refs/heads/master\", \"after\": "
			    "\"3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e3f9a2c1e\"}";
	struct webhook_request req = { "push", NULL, NULL, body, strlen(body) };
	char sig[72];

	(void)state;
	sign(sig, SECRET, body, strlen(body));
	req.signature = sig;
	webhook_judge(&v, WEBHOOK_GITHUB, &req, SECRET, strlen(SECRET), NULL);
	assert_int_equal(v.result, WEBHOOK_FETCH);
	webhook_judge(&v, WEBHOOK_GITHUB, &req, SECRET, strlen(SECRET), "main");
	assert_int_equal(v.result, WEBHOOK_IGNORED);
}

/* GitHub's documented example: secret and body give this signature */
static void test_webhook__github_documented_vector(void **state)
{
	struct webhook_verdict v;
	const char body[] = "Hello, World!";

	(void)state;
	github(&v, "other",
	       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
	       "8b043e17",
	       body, strlen(body));
	/* authentic (the signature matched), an event we do not use */
	assert_int_equal(v.result, WEBHOOK_IGNORED);
	assert_int_equal(v.http_status, 202);
}

static void test_webhook__bad_signatures_are_refused(void **state)
{
	const char *bad[] = {
		NULL,
		"",
		"sha1=0123",
		"sha256=",
		"sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8"
		"b043e17",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
		"8b043e1",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
		"8b043e17",
	};
	struct webhook_verdict v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the last one signs "Hello, World!", not this body */
		github(&v, "push", bad[i], push_main, strlen(push_main));
		assert_int_equal(v.result, WEBHOOK_REJECTED);
		assert_int_equal(v.http_status, 401);
		assert_string_equal(v.reason, "bad or missing signature");
	}
}

static void test_webhook__signature_with_another_secret(void **state)
{
	struct webhook_verdict v;
	char sig[72];

	(void)state;
	sign(sig, "another secret", push_main, strlen(push_main));
	github(&v, "push", sig, push_main, strlen(push_main));
	assert_int_equal(v.http_status, 401);
}

static void test_webhook__no_secret_refuses_everything(void **state)
{
	struct webhook_request req = { "push", "sha256=00", NULL, push_main,
				       strlen(push_main) };
	struct webhook_verdict v;

	(void)state;
	webhook_judge(&v, WEBHOOK_GITHUB, &req, NULL, 0, "main");
	assert_int_equal(v.http_status, 401);
	assert_string_equal(v.reason, "no secret configured");
}

static void test_webhook__other_branch_and_ping_are_ignored(void **state)
{
	const char body[] = "{\"ref\": \"refs/heads/feature\", \"after\": "
			    "\"0000000000000000000000000000000000000000\"}";
	struct webhook_verdict v;
	char sig[72];

	(void)state;
	sign(sig, SECRET, body, strlen(body));
	github(&v, "push", sig, body, strlen(body));
	assert_int_equal(v.result, WEBHOOK_IGNORED);
	assert_string_equal(v.reason, "push to another branch");
	sign(sig, SECRET, "{}", 2);
	github(&v, "ping", sig, "{}", 2);
	assert_int_equal(v.result, WEBHOOK_IGNORED);
	assert_int_equal(v.http_status, 200);
}

static void test_webhook__oversized_body_is_refused(void **state)
{
	static char big[WEBHOOK_MAX_BODY + 1];
	struct webhook_verdict v;

	(void)state;
	memset(big, ' ', sizeof(big));
	github(&v, "push", "sha256=00", big, sizeof(big));
	assert_int_equal(v.result, WEBHOOK_REJECTED);
	assert_int_equal(v.http_status, 413);
}

static void test_webhook__malformed_push_is_400(void **state)
{
	const char *bodies[] = { "not json", "[]", "{\"ref\": 5}", "" };
	struct webhook_verdict v;
	char sig[72];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		sign(sig, SECRET, bodies[i], strlen(bodies[i]));
		github(&v, "push", sig, bodies[i], strlen(bodies[i]));
		assert_int_equal(v.result, WEBHOOK_REJECTED);
		assert_int_equal(v.http_status, 400);
	}
}

static void test_webhook__gitlab_token(void **state)
{
	struct webhook_request req = { "Push Hook", NULL, SECRET, push_main,
				       strlen(push_main) };
	struct webhook_verdict v;

	(void)state;
	webhook_judge(&v, WEBHOOK_GITLAB, &req, SECRET, strlen(SECRET), "main");
	assert_int_equal(v.result, WEBHOOK_FETCH);
	req.token = "It's a Secret to Everybodx";
	webhook_judge(&v, WEBHOOK_GITLAB, &req, SECRET, strlen(SECRET), "main");
	assert_int_equal(v.http_status, 401);
	req.token = NULL;
	webhook_judge(&v, WEBHOOK_GITLAB, &req, SECRET, strlen(SECRET), "main");
	assert_int_equal(v.http_status, 401);
	req.token = SECRET "x";
	webhook_judge(&v, WEBHOOK_GITLAB, &req, SECRET, strlen(SECRET), "main");
	assert_int_equal(v.http_status, 401);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webhook__signed_push_to_branch_fetches),
		cmocka_unit_test(
			test_webhook__any_branch_without_one_configured),
		cmocka_unit_test(test_webhook__github_documented_vector),
		cmocka_unit_test(test_webhook__bad_signatures_are_refused),
		cmocka_unit_test(test_webhook__signature_with_another_secret),
		cmocka_unit_test(test_webhook__no_secret_refuses_everything),
		cmocka_unit_test(
			test_webhook__other_branch_and_ping_are_ignored),
		cmocka_unit_test(test_webhook__oversized_body_is_refused),
		cmocka_unit_test(test_webhook__malformed_push_is_400),
		cmocka_unit_test(test_webhook__gitlab_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
