/*
 * Integration tests of the AWS client against the local AWS
 * (tests/aws/start-aws) with signature checks and IAM enforcement on
 * (INITIAL_NO_AUTH_ACTION_COUNT): signing, errors, retries, pagination,
 * the rate limit and endpoint resolution.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../awsim.h"
#include "aws.h"

static struct awsim sim;
static char key_id[64], secret[128];

/* IAM, only to set up users here: the controller never calls it */
static const struct aws_service iam = {
	"iam", "iam", "iam",	    "IAM", AWS_PROTOCOL_QUERY,
	NULL,  NULL,  "2010-05-08", true,
};

static struct aws_client *client(const char *id, const char *key)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct err e = ERR_INIT;

	setenv("AWS_ACCESS_KEY_ID", id, 1);
	setenv("AWS_SECRET_ACCESS_KEY", key, 1);
	opt.region = "us-east-1";
	opt.endpoint_url = sim.url;
	assert_int_equal(aws_client_new(&c, &opt, &e), 0);
	return c;
}

static void query_ok(struct aws_client *c, const struct aws_service *svc,
		     const char *op, const char *const *params,
		     struct xmldoc **out)
{
	struct err e = ERR_INIT;

	if (aws_query(c, svc, op, params, out, &e) < 0)
		fail_msg("%s", e.msg);
}

/*
 * The first three requests are let through unchecked: they create the
 * user "deployer", who may use SageMaker and nothing else, and its key.
 */
static int setup(void **state)
{
	static const char *const env[] = { "INITIAL_NO_AUTH_ACTION_COUNT=3",
					   "SIM_STATE_SECONDS=0", NULL };
	const char *user[] = { "UserName", "deployer", NULL };
	const char *policy[] = {
		"UserName",
		"deployer",
		"PolicyName",
		"sagemaker-only",
		"PolicyDocument",
		"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
		"\"Allow\", \"Action\": \"sagemaker:*\", \"Resource\": "
		"\"*\"}]}",
		NULL
	};
	struct aws_client *c;
	struct xmldoc *doc = NULL;

	(void)state;
	setenv("SAGESYNC_AWS_BACKOFF_MS", "10", 1);
	awsim_start(&sim, env);
	c = client("AKIDBOOTSTRAP", "bootstrap");
	query_ok(c, &iam, "CreateUser", user, &doc);
	xmldoc_free(doc);
	query_ok(c, &iam, "PutUserPolicy", policy, &doc);
	xmldoc_free(doc);
	query_ok(c, &iam, "CreateAccessKey", user, &doc);
	snprintf(key_id, sizeof(key_id), "%s",
		 xmldoc_text(xmldoc_search(xmldoc_root(doc), "AccessKey"),
			     "AccessKeyId"));
	snprintf(secret, sizeof(secret), "%s",
		 xmldoc_text(xmldoc_search(xmldoc_root(doc), "AccessKey"),
			     "SecretAccessKey"));
	xmldoc_free(doc);
	aws_client_free(c);
	return key_id[0] && secret[0] ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	awsim_stop(&sim);
	http_global_cleanup();
	return 0;
}

static int reset(void **state)
{
	(void)state;
	return awsim_control(&sim, "POST", "/_sim/reset", "{}", NULL);
}

static void test_aws__right_keys_succeed(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct xmldoc *doc = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	query_ok(c, &aws_sts, "GetCallerIdentity", NULL, &doc);
	assert_non_null(
		strstr(xmldoc_text(xmldoc_search(xmldoc_root(doc),
						 "GetCallerIdentityResult"),
				   "Arn"),
		       "user/deployer"));
	if (aws_json(c, &aws_sagemaker, "ListEndpoints", NULL, &out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(out.ptr, "\"Endpoints\""));
	xmldoc_free(doc);
	buf_release(&out);
	aws_client_free(c);
}

static void test_aws__wrong_secret_fails_clearly(void **state)
{
	struct aws_client *c;
	struct buf out = BUF_INIT, wrong = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	buf_printf(&wrong, "x%s", secret);
	c = client(key_id, wrong.ptr);
	assert_true(aws_json(c, &aws_sagemaker, "ListEndpoints", NULL, &out,
			     &e) < 0);
	assert_string_equal(e.aws_code, "SignatureDoesNotMatch");
	assert_int_equal(e.http_status, 403);
	assert_false(e.retryable);
	assert_non_null(strstr(e.msg, "sagemaker ListEndpoints: "
				      "SignatureDoesNotMatch: The request "
				      "signature we calculated does not "
				      "match"));
	/* no secret in the message, and no retry of a client error */
	assert_null(strstr(e.msg, secret));
	assert_int_equal(awsim_calls(&sim, "sagemaker.ListEndpoints"), 1);
	buf_release(&out);
	buf_release(&wrong);
	aws_client_free(c);
}

static void test_aws__missing_permission_is_access_denied(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct buf out = BUF_INIT;
	struct xmldoc *doc = NULL;
	struct err e = ERR_INIT;
	const char *publish[] = { "TopicArn",
				  "arn:aws:sns:us-east-1:123456789012:t",
				  "Message", "hi", NULL };

	(void)state;
	/* JSON protocol */
	assert_true(aws_json(c, &aws_cloudwatch, "DescribeAlarms", NULL, &out,
			     &e) < 0);
	assert_string_equal(e.aws_code, "AccessDenied");
	assert_non_null(strstr(e.msg, "cloudwatch DescribeAlarms: "
				      "AccessDenied: "));
	assert_non_null(strstr(e.msg, "not authorized to perform: "
				      "cloudwatch:DescribeAlarms"));
	/* query protocol: the code comes from the XML */
	assert_true(aws_query(c, &aws_sns, "Publish", publish, &doc, &e) < 0);
	assert_null(doc);
	assert_string_equal(e.aws_code, "AccessDenied");
	assert_non_null(strstr(e.msg, "sns Publish: AccessDenied: "));
	assert_non_null(strstr(e.msg, "sns:Publish"));
	buf_release(&out);
	aws_client_free(c);
}

/*
 * Injects `fault`, lists endpoints once, and checks that it succeeded
 * after `attempts` attempts; the client's stats go into `st`.
 */
static void list_through(const char *fault, long attempts, struct aws_stats *st)
{
	struct aws_client *c = client(key_id, secret);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	assert_int_equal(
		awsim_control(&sim, "POST", "/_sim/faults", fault, NULL), 0);
	if (aws_json(c, &aws_sagemaker, "ListEndpoints", NULL, &out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(out.ptr, "\"Endpoints\""));
	assert_int_equal(awsim_calls(&sim, "sagemaker.ListEndpoints"),
			 attempts);
	aws_client_stats(c, st);
	assert_int_equal(st->calls, attempts);
	assert_int_equal(st->retries, attempts - 1);
	buf_release(&out);
	aws_client_free(c);
}

static void test_aws__throttling_is_retried(void **state)
{
	struct aws_stats st;

	(void)state;
	list_through("{\"operation\": \"ListEndpoints\", \"error\": "
		     "\"ThrottlingException\", \"count\": 2}",
		     3, &st);
	assert_int_equal(st.throttles, 2);
}

static void test_aws__dropped_connection_is_retried(void **state)
{
	struct aws_stats st;

	(void)state;
	list_through("{\"operation\": \"sagemaker.ListEndpoints\", "
		     "\"drop\": true, \"count\": 1}",
		     2, &st);
	assert_int_equal(st.throttles, 0);
}

static void test_aws__server_error_is_retried(void **state)
{
	struct aws_stats st;

	(void)state;
	list_through("{\"operation\": \"*\", \"error\": "
		     "\"InternalFailure\", \"status\": 500, \"count\": 1}",
		     2, &st);
	assert_int_equal(st.throttles, 0);
}

static void test_aws__validation_error_is_not_retried(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	assert_true(aws_json(c, &aws_sagemaker, "DescribeEndpoint",
			     "{\"EndpointName\": \"nope\"}", &out, &e) < 0);
	assert_string_equal(e.aws_code, "ValidationException");
	assert_int_equal(e.http_status, 400);
	assert_false(e.retryable);
	assert_non_null(strstr(e.msg, "sagemaker DescribeEndpoint: "
				      "ValidationException: Could not find "
				      "endpoint"));
	assert_int_equal(awsim_calls(&sim, "sagemaker.DescribeEndpoint"), 1);
	buf_release(&out);
	aws_client_free(c);
}

static void test_aws__gives_up_after_max_attempts(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	awsim_control(&sim, "POST", "/_sim/faults",
		      "{\"operation\": \"ListEndpoints\", \"error\": "
		      "\"ThrottlingException\", \"count\": 10}",
		      NULL);
	assert_true(aws_json(c, &aws_sagemaker, "ListEndpoints", NULL, &out,
			     &e) < 0);
	assert_string_equal(e.aws_code, "ThrottlingException");
	assert_true(e.retryable);
	assert_non_null(strstr(e.msg, "after 3 attempts: sagemaker "
				      "ListEndpoints: ThrottlingException"));
	assert_int_equal(awsim_calls(&sim, "sagemaker.ListEndpoints"), 3);
	buf_release(&out);
	aws_client_free(c);
}

struct pages {
	int n;
	int configs;
};

static int count_page(const char *body, size_t len, void *payload)
{
	struct pages *p = payload;
	const char *s = body, *end = body + len;

	p->n++;
	while ((s = strstr(s, "\"EndpointConfigName\"")) && s < end) {
		p->configs++;
		s++;
	}
	return 0;
}

static void test_aws__pages_follow_next_token(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct buf out = BUF_INIT, req = BUF_INIT;
	struct err e = ERR_INIT;
	struct pages p = { 0, 0 };
	int i;

	(void)state;
	assert_int_equal(
		aws_json(c, &aws_sagemaker, "CreateModel",
			 "{\"ModelName\": \"pm\", \"ExecutionRoleArn\": "
			 "\"arn:aws:iam::123456789012:role/r\", "
			 "\"PrimaryContainer\": {\"Image\": \"i\"}}",
			 &out, &e),
		0);
	for (i = 0; i < 5; i++) {
		buf_clear(&req);
		buf_printf(&req,
			   "{\"EndpointConfigName\": \"page%d\", "
			   "\"ProductionVariants\": [{\"VariantName\": \"v\", "
			   "\"ModelName\": \"pm\", \"InstanceType\": "
			   "\"ml.m5.large\", \"InitialInstanceCount\": 1}]}",
			   i);
		if (aws_json(c, &aws_sagemaker, "CreateEndpointConfig", req.ptr,
			     &out, &e) < 0)
			fail_msg("%s", e.msg);
	}
	if (aws_json_pages(c, &aws_sagemaker, "ListEndpointConfigs",
			   "{\"MaxResults\": 2}", count_page, &p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p.configs, 5);
	assert_int_equal(p.n, 3);
	buf_release(&out);
	buf_release(&req);
	aws_client_free(c);
}

/* a server whose NextToken never moves on: an error, not a loop */
static void test_aws__repeated_next_token_stops(void **state)
{
	struct aws_client *c = client(key_id, secret);
	struct err e = ERR_INIT;
	struct pages p = { 0, 0 };

	(void)state;
	assert_int_equal(
		awsim_control(&sim, "POST", "/_sim/faults",
			      "{\"operation\": \"ListEndpointConfigs\", "
			      "\"nextToken\": \"repeat\", \"count\": 3}",
			      NULL),
		0);
	assert_int_equal(
		aws_json_pages(c, &aws_sagemaker, "ListEndpointConfigs",
			       "{\"MaxResults\": 2}", count_page, &p, &e),
		ERR_AWS);
	assert_int_equal(p.n, 2); /* the first page, and the one repeating */
	assert_non_null(strstr(e.msg, "repeats the NextToken"));
	aws_client_free(c);
}

static void test_aws__rate_limit_spaces_calls(void **state)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	struct timespec a, b;
	int i;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", key_id, 1);
	setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
	opt.region = "us-east-1";
	opt.endpoint_url = sim.url;
	opt.rate = 20;
	opt.burst = 1;
	assert_int_equal(aws_client_new(&c, &opt, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 6; i++)
		assert_int_equal(aws_json(c, &aws_sagemaker, "ListEndpoints",
					  NULL, &out, &e),
				 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* one at once, five more at 20 a second: at least 0.25 s */
	assert_true((double)(b.tv_sec - a.tv_sec) +
			    (double)(b.tv_nsec - a.tv_nsec) / 1e9 >=
		    0.24);
	buf_release(&out);
	aws_client_free(c);
}

static void test_aws__endpoint_resolution(void **state)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct buf url = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	opt.region = "eu-west-1";
	assert_int_equal(aws_client_new(&c, &opt, &e), 0);
	aws_client_endpoint(c, &aws_sagemaker, &url);
	assert_string_equal(url.ptr,
			    "https://api.sagemaker.eu-west-1.amazonaws.com");
	aws_client_endpoint(c, &aws_cloudwatch, &url);
	assert_string_equal(url.ptr, "https://monitoring.eu-west-1."
				     "amazonaws.com");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	aws_client_endpoint(c, &aws_sts, &url);
	assert_string_equal(url.ptr, "http://127.0.0.1:1");
	setenv("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
	       "http://127.0.0.1:2", 1);
	aws_client_endpoint(c, &aws_autoscaling, &url);
	assert_string_equal(url.ptr, "http://127.0.0.1:2");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	aws_client_endpoint(c, &aws_autoscaling, &url);
	assert_string_equal(url.ptr, "https://application-autoscaling."
				     "eu-west-1.amazonaws.com");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	unsetenv("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING");
	unsetenv("AWS_ENDPOINT_URL");
	aws_client_free(c);
	opt.region = "cn-north-1";
	assert_int_equal(aws_client_new(&c, &opt, &e), 0);
	aws_client_endpoint(c, &aws_sts, &url);
	assert_string_equal(url.ptr, "https://sts.cn-north-1.amazonaws.com.cn");
	aws_client_free(c);
	buf_release(&url);
}

static void test_aws__no_region_is_an_error(void **state)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct err e = ERR_INIT;

	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	assert_true(aws_client_new(&c, &opt, &e) < 0);
	assert_null(c);
	assert_non_null(strstr(e.msg, "no AWS region"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
	const struct CMUnitTest tests[] = {
		T(test_aws__right_keys_succeed),
		T(test_aws__wrong_secret_fails_clearly),
		T(test_aws__missing_permission_is_access_denied),
		T(test_aws__throttling_is_retried),
		T(test_aws__dropped_connection_is_retried),
		T(test_aws__server_error_is_retried),
		T(test_aws__validation_error_is_not_retried),
		T(test_aws__gives_up_after_max_attempts),
		T(test_aws__pages_follow_next_token),
		T(test_aws__repeated_next_token_stops),
		T(test_aws__rate_limit_spaces_calls),
		T(test_aws__endpoint_resolution),
		T(test_aws__no_region_is_an_error),
	};
#undef T

	return cmocka_run_group_tests(tests, setup, teardown);
}
