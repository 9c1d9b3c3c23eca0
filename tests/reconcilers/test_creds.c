/*
 * Tests of the credential chain: each source, in order. STS (role
 * chaining, web identity) is the local AWS; the container and instance
 * metadata endpoints are small HTTP servers this test runs on loopback.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../awsim.h"
#include "../helpers.h"
#include "aws.h"
#include "creds.h"

static struct awsim sim;
static struct tmpdir dir;

/* ---- a loopback server for the container and IMDS endpoints ---------- */

struct fake {
	struct MHD_Daemon *d;
	int port;
	int hits;
	char expiration[32];
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_size, void **state)
{
	static int marker;
	struct fake *f = cls;
	const char *auth, *token;
	char body[512];

	(void)version;
	(void)upload;
	if (!*state) {
		*state = &marker;
		return MHD_YES;
	}
	*upload_size = 0;
	f->hits++;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   "Authorization");
	token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					    "X-aws-ec2-metadata-token");
	snprintf(body, sizeof(body),
		 "{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAFAKE%d\", "
		 "\"SecretAccessKey\": \"fakesecret\", \"Token\": "
		 "\"faketoken\", \"Expiration\": \"%s\"}",
		 f->hits, f->expiration);
	/* ECS: the authorization token must come along */
	if (!strcmp(url, "/creds"))
		return auth && !strcmp(auth, "Bearer container-token") ?
			       reply(conn, 200, body) :
			       reply(conn, 403, "forbidden");
	/* IMDSv2: a session token first, then only with it */
	if (!strcmp(url, "/latest/api/token") && !strcmp(method, "PUT"))
		return MHD_lookup_connection_value(
			       conn, MHD_HEADER_KIND,
			       "X-aws-ec2-metadata-token-ttl-seconds") ?
			       reply(conn, 200, "imds-session") :
			       reply(conn, 400, "ttl missing");
	if (!token || strcmp(token, "imds-session"))
		return reply(conn, 401, "unauthorized");
	if (!strcmp(url, "/latest/meta-data/iam/security-credentials/"))
		return reply(conn, 200, "deploy-role\n");
	if (!strcmp(url, "/latest/meta-data/iam/security-credentials/"
			 "deploy-role"))
		return reply(conn, 200, body);
	return reply(conn, 404, "not found");
}

static void fake_start(struct fake *f, time_t expires)
{
	struct sockaddr_in sa;
	struct tm tm;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->hits = 0;
	gmtime_r(&expires, &tm);
	strftime(f->expiration, sizeof(f->expiration), "%Y-%m-%dT%H:%M:%SZ",
		 &tm);
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				serve, f, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_END);
	assert_non_null(f->d);
	info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	f->port = info->port;
}

static void fake_stop(struct fake *f)
{
	MHD_stop_daemon(f->d);
}

/* ---- fixtures --------------------------------------------------------- */

static int setup(void **state)
{
	char path[512];

	(void)state;
	awsim_start(&sim, NULL);
	tmpdir_make(&dir);
	tmpdir_write(&dir, "credentials",
		     "[base]\n"
		     "aws_access_key_id = AKIDBASE\n"
		     "aws_secret_access_key = basesecret\n"
		     "\n[nosecret]\naws_access_key_id = AKIDHALF\n");
	tmpdir_write(&dir, "config",
		     "[profile mid]\n"
		     "role_arn = arn:aws:iam::123456789012:role/mid\n"
		     "source_profile = base\n"
		     "[profile top]\n"
		     "role_arn = arn:aws:iam::123456789012:role/top\n"
		     "source_profile = mid\n"
		     "role_session_name = deploy\n"
		     "region = eu-west-2\n"
		     "[profile loop1]\n"
		     "role_arn = arn:aws:iam::123456789012:role/a\n"
		     "source_profile = loop2\n"
		     "[profile loop2]\n"
		     "role_arn = arn:aws:iam::123456789012:role/b\n"
		     "source_profile = loop1\n"
		     "[profile fromenv]\n"
		     "role_arn = arn:aws:iam::123456789012:role/env\n"
		     "credential_source = Environment\n");
	tmpdir_write(&dir, "web-token", "eyJhbGciOiJSUzI1NiJ9.test.sig\n");
	tmpdir_write(&dir, "container-token", "Bearer container-token\n");
	snprintf(path, sizeof(path), "%s/credentials", dir.path);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir.path);
	setenv("AWS_CONFIG_FILE", path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	awsim_stop(&sim);
	tmpdir_remove(&dir);
	http_global_cleanup();
	return 0;
}

/* every source off, so that each test turns on exactly one */
static int clean_env(void **state)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN",
		"AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN",
		"AWS_ROLE_SESSION_NAME",
		"AWS_PROFILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	/* no test may reach a real metadata service */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return awsim_control(&sim, "POST", "/_sim/reset", "{}", NULL);
}

static struct aws_client *client(const char *profile)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct err e = ERR_INIT;

	opt.region = "us-east-1";
	opt.profile = profile;
	opt.endpoint_url = sim.url;
	assert_int_equal(aws_client_new(&c, &opt, &e), 0);
	return c;
}

static void get_ok(struct aws_client *c, struct creds *out)
{
	struct err e = ERR_INIT;

	if (creds_get(aws_client_creds(c), out, &e) < 0)
		fail_msg("%s", e.msg);
}

static void get_fails(struct aws_client *c, const char *words)
{
	struct creds out = { 0 };
	struct err e = ERR_INIT;

	assert_true(creds_get(aws_client_creds(c), &out, &e) < 0);
	if (!strstr(e.msg, words))
		fail_msg("\"%s\" lacks \"%s\"", e.msg, words);
	/* no secret of any fixture in a message */
	assert_null(strstr(e.msg, "envsecret"));
	assert_null(strstr(e.msg, "fakesecret"));
	assert_null(strstr(e.msg, "basesecret"));
	assert_null(strstr(e.msg, "container-token"));
}

/* ---- tests ------------------------------------------------------------- */

static void test_creds__environment_comes_first(void **state)
{
	struct aws_client *c;
	struct creds cr = { 0 };

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	setenv("AWS_PROFILE", "base", 1);
	c = client(NULL);
	get_ok(c, &cr);
	assert_string_equal(cr.access_key_id, "AKIDENV");
	assert_string_equal(cr.secret_access_key, "envsecret");
	assert_string_equal(cr.session_token, "envtoken");
	assert_string_equal(cr.source, "environment");
	creds_release(&cr);
	aws_client_free(c);
}

static void test_creds__half_environment_is_an_error(void **state)
{
	struct aws_client *c;

	(void)state;
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	c = client(NULL);
	get_fails(c, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is "
		     "not");
	aws_client_free(c);
}

static void test_creds__profile_with_static_keys(void **state)
{
	struct aws_client *c = client("base");
	struct creds cr = { 0 };

	(void)state;
	get_ok(c, &cr);
	assert_string_equal(cr.access_key_id, "AKIDBASE");
	assert_string_equal(cr.secret_access_key, "basesecret");
	assert_null(cr.session_token);
	assert_string_equal(cr.source, "profile 'base'");
	assert_int_equal(awsim_calls(&sim, "sts.AssumeRole"), 0);
	creds_release(&cr);
	aws_client_free(c);
}

static void test_creds__profile_roles_chain_through_sts(void **state)
{
	struct aws_client *c;
	struct creds cr = { 0 };
	char *region = creds_profile_region("top");

	(void)state;
	setenv("AWS_PROFILE", "top", 1);
	c = client(NULL);
	get_ok(c, &cr);
	/* base's keys assume mid, mid's session assumes top */
	assert_int_equal(awsim_calls(&sim, "sts.AssumeRole"), 2);
	assert_non_null(cr.session_token);
	assert_string_not_equal(cr.access_key_id, "AKIDBASE");
	assert_true(cr.expiration > time(NULL));
	assert_string_equal(cr.source, "profile 'top' (assumed role)");
	assert_string_equal(region, "eu-west-2");
	free(region);
	creds_release(&cr);
	/* cached until it nears expiry: no more STS calls */
	get_ok(c, &cr);
	assert_int_equal(awsim_calls(&sim, "sts.AssumeRole"), 2);
	creds_release(&cr);
	aws_client_free(c);
}

static void test_creds__role_from_environment_source(void **state)
{
	struct aws_client *c;
	struct creds cr = { 0 };

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	/* an explicit profile still loses to the environment's own keys... */
	c = client("fromenv");
	get_ok(c, &cr);
	assert_string_equal(cr.source, "environment");
	creds_release(&cr);
	aws_client_free(c);
}

static void test_creds__profile_loop_is_an_error(void **state)
{
	struct aws_client *c = client("loop1");

	(void)state;
	get_fails(c, "role chain longer than 8");
	aws_client_free(c);
}

static void test_creds__missing_profile_is_an_error(void **state)
{
	struct aws_client *c = client("nope");

	(void)state;
	get_fails(c, "profile 'nope' not found");
	aws_client_free(c);
}

static void test_creds__key_without_secret_is_an_error(void **state)
{
	struct aws_client *c = client("nosecret");

	(void)state;
	get_fails(c, "profile 'nosecret': aws_access_key_id without "
		     "aws_secret_access_key");
	aws_client_free(c);
}

static void test_creds__web_identity_through_sts(void **state)
{
	struct aws_client *c;
	struct creds cr = { 0 };
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/web-token", dir.path);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/eks-deployer",
	       1);
	c = client(NULL);
	get_ok(c, &cr);
	assert_int_equal(awsim_calls(&sim, "sts.AssumeRoleWithWebIdentity"), 1);
	assert_non_null(cr.session_token);
	assert_true(cr.expiration > time(NULL));
	assert_non_null(strstr(cr.source, "web identity"));
	creds_release(&cr);
	aws_client_free(c);
}

static void test_creds__web_identity_token_file_missing(void **state)
{
	struct aws_client *c;

	(void)state;
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x", 1);
	c = client(NULL);
	get_fails(c, "web identity token: cannot open '/nonexistent/token'");
	aws_client_free(c);
}

static void test_creds__container_with_token_file(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct creds cr = { 0 };
	char url[128], path[512];

	(void)state;
	fake_start(&f, time(NULL) + 3600);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", f.port);
	snprintf(path, sizeof(path), "%s/container-token", dir.path);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
	c = client(NULL);
	get_ok(c, &cr);
	assert_string_equal(cr.access_key_id, "ASIAFAKE1");
	assert_string_equal(cr.session_token, "faketoken");
	assert_string_equal(cr.source, "container");
	creds_release(&cr);
	aws_client_free(c);
	/* without the token the endpoint refuses, and the chain says so */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	c = client(NULL);
	get_fails(c, "container credentials: GET");
	aws_client_free(c);
	fake_stop(&f);
}

static void test_creds__container_refuses_remote_plain_http(void **state)
{
	static const char *const urls[] = {
		"http://198.51.100.7/creds",
		"http://127.0.0.1@198.51.100.7/creds",
		"http://localhost.example.com/creds",
		"http://169.254.170.200/creds",
		"http://127.0.0.1.example.com/creds",
	};
	struct aws_client *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", urls[i], 1);
		c = client(NULL);
		get_fails(c, "must be https or a loopback");
		aws_client_free(c);
	}
}

static void test_creds__instance_metadata_v2(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct creds cr = { 0 };
	char url[128];

	(void)state;
	fake_start(&f, time(NULL) + 3600);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	c = client(NULL);
	get_ok(c, &cr);
	/* token, role name, credentials: three requests */
	assert_int_equal(f.hits, 3);
	assert_string_equal(cr.access_key_id, "ASIAFAKE3");
	assert_string_equal(cr.source, "instance role 'deploy-role'");
	creds_release(&cr);
	aws_client_free(c);
	fake_stop(&f);
}

static void test_creds__expiring_credentials_are_refreshed(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct creds a = { 0 }, b = { 0 };
	char url[128];

	(void)state;
	/* expires in two minutes: inside the five-minute margin */
	fake_start(&f, time(NULL) + 120);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", f.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-token",
	       1);
	c = client(NULL);
	get_ok(c, &a);
	get_ok(c, &b);
	assert_int_equal(f.hits, 2);
	assert_string_equal(a.access_key_id, "ASIAFAKE1");
	assert_string_equal(b.access_key_id, "ASIAFAKE2");
	creds_release(&a);
	creds_release(&b);
	aws_client_free(c);
	fake_stop(&f);
}

static void test_creds__nothing_found_says_what_to_do(void **state)
{
	struct aws_client *c = client(NULL);

	(void)state;
	get_fails(c, "no AWS credentials: set AWS_ACCESS_KEY_ID");
	aws_client_free(c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, clean_env)
	const struct CMUnitTest tests[] = {
		T(test_creds__environment_comes_first),
		T(test_creds__half_environment_is_an_error),
		T(test_creds__profile_with_static_keys),
		T(test_creds__profile_roles_chain_through_sts),
		T(test_creds__role_from_environment_source),
		T(test_creds__profile_loop_is_an_error),
		T(test_creds__missing_profile_is_an_error),
		T(test_creds__key_without_secret_is_an_error),
		T(test_creds__web_identity_through_sts),
		T(test_creds__web_identity_token_file_missing),
		T(test_creds__container_with_token_file),
		T(test_creds__container_refuses_remote_plain_http),
		T(test_creds__instance_metadata_v2),
		T(test_creds__expiring_credentials_are_refreshed),
		T(test_creds__nothing_found_says_what_to_do),
	};
#undef T

	return cmocka_run_group_tests(tests, setup, teardown);
}
