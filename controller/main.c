/*
 * The sagesync binary: one executable, one subcommand per job
 * (`sagesync <command> --help` for each). This file only dispatches;
 * each command lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

#ifndef SAGESYNC_VERSION
#define SAGESYNC_VERSION "0.0.0-dev"
#endif

static const char usage[] =
	"NAME\n"
	"    sagesync - keep machine-learning deployments on AWS equal to Git\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync COMMAND [OPTIONS] [ARGS]\n"
	"    sagesync help\n"
	"    sagesync COMMAND --help\n"
	"\n"
	"DESCRIPTION\n"
	"    sagesync is a GitOps controller for machine-learning deployments\n"
	"    on AWS. SageMaker model packages, models and endpoints, their\n"
	"    autoscaling, and the CloudWatch alarms that guard them are kept\n"
	"    equal to manifests in a Git repository: a merged change is\n"
	"    planned, applied in dependency order, checked for health,\n"
	"    recorded in Git, and rolled back to the last good revision if it\n"
	"    fails.\n"
	"\n"
	"COMMANDS\n"
	"    validate   check manifests without touching AWS\n"
	"    plan       show what applying the source would change in AWS\n"
	"    apply      apply the source once, and wait until healthy\n"
	"    status     list the AWS resources this controller owns\n"
	"    run        the controller: reconcile on every change\n"
	"    history    list the deployment records, newest first\n"
	"    rollback   go back to an earlier revision by hand\n"
	"    doctor     check the config, AWS credentials and access\n"
	"    version    print the version\n"
	"\n"
	"GLOBAL\n"
	"    sagesync help, sagesync --help, sagesync -h\n"
	"        Show this help.\n"
	"    sagesync COMMAND --help\n"
	"        Show a command's help: its options, exit status and examples.\n"
	"    sagesync --version\n"
	"        Print the version.\n"
	"\n"
	"ENVIRONMENT\n"
	"    AWS_REGION, AWS_DEFAULT_REGION\n"
	"        The region when the config sets no aws.region (then the\n"
	"        profile's region).\n"
	"    AWS_PROFILE\n"
	"        The profile when the config sets no aws.profile (default:\n"
	"        default).\n"
	"    AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE\n"
	"        The shared files (default ~/.aws/credentials and\n"
	"        ~/.aws/config).\n"
	"    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
	"        Credentials, first in the chain; then come a web identity,\n"
	"        the profile, the container and the instance metadata.\n"
	"    AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME\n"
	"        A web identity (STS AssumeRoleWithWebIdentity, as on EKS).\n"
	"    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,\n"
	"    AWS_CONTAINER_CREDENTIALS_FULL_URI,\n"
	"    AWS_CONTAINER_AUTHORIZATION_TOKEN,\n"
	"    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\n"
	"        The container credentials endpoint (ECS).\n"
	"    AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT\n"
	"        The instance role (IMDSv2), last in the chain: true turns it\n"
	"        off; the endpoint replaces http://169.254.169.254.\n"
	"    AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL\n"
	"        Where calls go, before aws.endpointUrl. SERVICE is SAGEMAKER,\n"
	"        CLOUDWATCH, APPLICATION_AUTO_SCALING, STS, SNS or DYNAMODB.\n"
	"    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS\n"
	"        true: ignore those and aws.endpointUrl, call AWS itself.\n"
	"    AWS_MAX_ATTEMPTS\n"
	"        Attempts per AWS call, retries included (default 3).\n"
	"    SAGESYNC_BAKE_SECONDS\n"
	"        Caps every bake, for demos and tests (0 skips it).\n"
	"    SAGESYNC_POLL_MS\n"
	"        How often a deploy in progress is polled, in milliseconds\n"
	"        (default 10000).\n"
	"    SAGESYNC_AWS_BACKOFF_MS\n"
	"        The base of the AWS retry backoff, in milliseconds (default\n"
	"        1000).\n"
	"    SAGESYNC_NOTIFY_BACKOFF_MS\n"
	"        The base of the notification retry backoff, in milliseconds\n"
	"        (default 1000).\n"
	"\n"
	"FILES\n"
	"    In the configuration's stateDir, a cache only: the records live\n"
	"    in Git and in tags on the AWS resources, so it can be deleted\n"
	"    while the controller is stopped.\n"
	"    source.git\n"
	"        The mirror of a remote source: every branch and tag.\n"
	"    applied-revision\n"
	"        The revision applied last.\n"
	"    cache.json\n"
	"        The observation cache, which saves AWS calls.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   success\n"
	"    1   a failure the command reports (invalid manifests, a failed\n"
	"        deploy)\n"
	"    2   a usage error (and for plan: changes planned)\n"
	"\n"
	"EXAMPLES\n"
	"    Check the manifests, then see what they would change:\n"
	"        sagesync validate environments/prod\n"
	"        sagesync plan --config prod.yaml\n"
	"\n"
	"    A command's options:\n"
	"        sagesync apply --help\n"
	"\n"
	"SEE ALSO\n"
	"    docs/config.md, docs/manifests.md, docs/reconcile.md,\n"
	"    docs/operations.md\n";

static const char version_usage[] =
	"NAME\n"
	"    sagesync version - print the version\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync version\n"
	"    sagesync --version\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints the version of sagesync on stdout, as \"sagesync X.Y.Z\".\n"
	"\n"
	"OPTIONS\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   success\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Print the version:\n"
	"        sagesync version\n"
	"\n"
	"    The version number alone, for a script:\n"
	"        sagesync --version | cut -d' ' -f2\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync --help\n";

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(version_usage, stdout);
		return CMD_OK;
	}
	if (argc > 1)
		return cmd_usage_error(version_usage);
	printf("sagesync %s\n", SAGESYNC_VERSION);
	return CMD_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "validate", cmd_validate }, { "doctor", cmd_doctor },
	{ "plan", cmd_plan },	      { "apply", cmd_apply },
	{ "status", cmd_status },     { "run", cmd_run },
	{ "history", cmd_history },   { "rollback", cmd_rollback },
	{ "version", cmd_version },
};

int main(int argc, char **argv)
{
	size_t i;

	/* what sagesync writes (the state directory: the mirror of the
	 * repository, the caches, the records key, exports) is its user's
	 * alone, whatever umask it was started with */
	umask(077);
	if (argc < 2)
		return cmd_usage_error(usage);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return CMD_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sagesync: unknown command '%s'\n", argv[1]);
	return cmd_usage_error(usage);
}
