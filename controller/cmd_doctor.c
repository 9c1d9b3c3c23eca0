/*
 * `sagesync doctor --config FILE`: checks, before anything is deployed,
 * that the controller can work with what it was given: the config, the
 * AWS region and endpoints, the credentials and whose they are, and read
 * access to each service it manages. Each problem comes with its fix.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "http.h"
#include "lease.h"

static const char usage[] =
	"NAME\n"
	"    sagesync doctor - check the config, AWS credentials and access\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync doctor --config FILE [--fix]\n"
	"\n"
	"DESCRIPTION\n"
	"    Checks, before anything is deployed, that the controller can work\n"
	"    with what it was given: the configuration, the AWS region and the\n"
	"    endpoint of each service, the credentials and whose they are (STS\n"
	"    GetCallerIdentity: the account and ARN), and read access to\n"
	"    SageMaker, CloudWatch and Application Auto Scaling. With\n"
	"    leaderElection, it checks that the DynamoDB lease table exists.\n"
	"\n"
	"    Each line reads \"ok CHECK DETAIL\", or \"FAIL CHECK MESSAGE\" and\n"
	"    then how to fix it. Without --fix, doctor changes nothing.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    --fix\n"
	"        Create what is missing and can be created: the lease table\n"
	"        (DynamoDB CreateTable, on-demand billing).\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   every check passed\n"
	"    1   a check failed (errors in the configuration included)\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Check a controller's setup before its first start:\n"
	"        sagesync doctor --config /etc/sagesync/config.yaml\n"
	"\n"
	"    Check it, and create the lease table if it is missing:\n"
	"        sagesync doctor --config /etc/sagesync/config.yaml --fix\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync plan --help, docs/config.md\n";

static int problems;
static bool fixing; /* --fix */

static void okay(const char *what, const char *detail)
{
	printf("ok    %-12s %s\n", what, detail);
}

static void problem(const char *what, const char *msg, const char *fix)
{
	problems++;
	printf("FAIL  %-12s %s\n", what, msg);
	printf("      %-12s fix: %s\n", "", fix);
}

/* What to do about a failed AWS call, by its error code. */
static const char *fix_for(const struct err *e, const char *action)
{
	static char buf[256];

	if (!strcmp(e->aws_code, "SignatureDoesNotMatch"))
		return "the secret access key does not match the access key "
		       "ID: correct the credentials where they come from";
	if (!strcmp(e->aws_code, "InvalidClientTokenId") ||
	    !strcmp(e->aws_code, "UnrecognizedClientException"))
		return "the access key ID is unknown to AWS: use an active "
		       "key of this account";
	if (!strcmp(e->aws_code, "ExpiredToken") ||
	    !strcmp(e->aws_code, "ExpiredTokenException"))
		return "the session token has expired: renew the temporary "
		       "credentials";
	if (!strcmp(e->aws_code, "AccessDenied") ||
	    !strcmp(e->aws_code, "AccessDeniedException")) {
		snprintf(buf, sizeof(buf),
			 "allow %s in the IAM policy of this identity", action);
		return buf;
	}
	if (e->code == ERR_IO)
		return "cannot reach the endpoint: check aws.endpointUrl, "
		       "AWS_ENDPOINT_URL and the network";
	return "see the message above";
}

static void check_access(struct aws_client *c, const struct aws_service *svc,
			 const char *op, const char *request,
			 const char *action)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	if (aws_json(c, svc, op, request, &out, &e) < 0)
		problem(svc->name, e.msg, fix_for(&e, action));
	else
		okay(svc->name, action);
	buf_release(&out);
}

/* leaderElection: the lease table exists (--fix: create it) */
static void check_lease_table(struct aws_client *c, const char *table)
{
	struct buf req = BUF_INIT, out = BUF_INIT, line = BUF_INIT;
	struct err e = ERR_INIT;
	char *create;

	buf_printf(&req, "{\"TableName\": \"%s\"}", table);
	buf_printf(&line, "table %s", table);
	if (aws_json(c, &aws_dynamodb, "DescribeTable", req.ptr, &out, &e) ==
	    0) {
		okay("lease", line.ptr);
		goto out;
	}
	if (strcmp(e.aws_code, "ResourceNotFoundException")) {
		problem("lease", e.msg, fix_for(&e, "dynamodb:DescribeTable"));
		goto out;
	}
	if (!fixing) {
		problem("lease", "the lease table does not exist",
			"run `sagesync doctor --fix`, or create it as "
			"docs/operations.md shows");
		goto out;
	}
	create = lease_table_request(table);
	err_clear(&e);
	if (aws_json(c, &aws_dynamodb, "CreateTable", create, &out, &e) < 0)
		problem("lease", e.msg, fix_for(&e, "dynamodb:CreateTable"));
	else
		okay("lease", "created the lease table");
	free(create);
out:
	buf_release(&req);
	buf_release(&out);
	buf_release(&line);
}

static void run_checks(const struct config *cfg)
{
	struct aws_options opt = { 0 };
	struct aws_client *c = NULL;
	struct xmldoc *doc = NULL;
	struct creds cr = { 0 };
	struct err e = ERR_INIT;
	struct buf line = BUF_INIT, url = BUF_INIT;
	const struct aws_service *services[] = { &aws_sagemaker,
						 &aws_cloudwatch,
						 &aws_autoscaling, &aws_sts };
	size_t i;

	config_aws_options(cfg, &opt);
	if (aws_client_new(&c, &opt, &e) < 0) {
		problem("region", e.msg,
			"set aws.region in the config (or AWS_REGION)");
		return;
	}
	okay("region", aws_client_region(c));
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		aws_client_endpoint(c, services[i], &url);
		buf_clear(&line);
		buf_printf(&line, "%s: %s", services[i]->name, url.ptr);
		okay("endpoint", line.ptr);
	}
	if (creds_get(aws_client_creds(c), &cr, &e) < 0) {
		problem("credentials", e.msg,
			"give the controller credentials: an IAM role "
			"(container, instance or web identity), a profile "
			"(aws.profile), or AWS_ACCESS_KEY_ID and "
			"AWS_SECRET_ACCESS_KEY");
		goto out;
	}
	buf_clear(&line);
	/* the key ID's last four characters identify it; never more */
	buf_printf(&line, "from %s, key ...%s%s", cr.source,
		   strlen(cr.access_key_id) > 4 ?
			   cr.access_key_id + strlen(cr.access_key_id) - 4 :
			   "",
		   cr.session_token ? ", temporary" : "");
	okay("credentials", line.ptr);
	if (aws_query(c, &aws_sts, "GetCallerIdentity", NULL, &doc, &e) < 0) {
		problem("identity", e.msg,
			fix_for(&e, "sts:GetCallerIdentity"));
		goto out;
	}
	{
		const struct xmlnode *r = xmldoc_search(
			xmldoc_root(doc), "GetCallerIdentityResult");
		const char *account = xmldoc_text(r, "Account");
		const char *arn = xmldoc_text(r, "Arn");

		buf_clear(&line);
		buf_printf(&line, "account %s, %s", account ? account : "?",
			   arn ? arn : "?");
	}
	okay("identity", line.ptr);
	check_access(c, &aws_sagemaker, "ListEndpoints", "{\"MaxResults\": 1}",
		     "sagemaker:ListEndpoints");
	check_access(c, &aws_cloudwatch, "DescribeAlarms",
		     "{\"MaxRecords\": 1}", "cloudwatch:DescribeAlarms");
	check_access(c, &aws_autoscaling, "DescribeScalableTargets",
		     "{\"ServiceNamespace\": \"sagemaker\", \"MaxResults\": 1}",
		     "application-autoscaling:DescribeScalableTargets");
	if (cfg->leader_election)
		check_lease_table(c, cfg->leader_election->table);
out:
	xmldoc_free(doc);
	creds_release(&cr);
	buf_release(&line);
	buf_release(&url);
	aws_client_free(c);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "fix", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diag_list diags = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	const char *path = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'F':
			fixing = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return CMD_OK;
		default:
			return cmd_usage_error(usage);
		}
	}
	if (!path || optind != argc)
		return cmd_usage_error(usage);
	problems = 0;
	if (config_load(&cfg, path, &diags) < 0) {
		diag_print(&diags, stdout);
		problem("config", "the configuration has errors (above)",
			"correct them; docs/config.md describes every field");
	} else {
		okay("config", path);
		run_checks(cfg);
	}
	config_free(cfg);
	diag_release(&diags);
	http_global_cleanup();
	printf("%s\n", problems ? "doctor: problems found" :
				  "doctor: all checks passed");
	return problems ? CMD_FAILED : CMD_OK;
}
