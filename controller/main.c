/*
 * The sagesync binary: one executable, one subcommand per job
 * (`sagesync <command> --help` for each). This file only dispatches;
 * each command lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#ifndef SAGESYNC_VERSION
#define SAGESYNC_VERSION "0.0.0-dev"
#endif

static const char usage[] =
	"usage: sagesync <command> [options]\n"
	"\n"
	"sagesync keeps machine-learning deployments on AWS (SageMaker models,\n"
	"endpoints, and the alarms that guard them) equal to a Git repository.\n"
	"\n"
	"commands:\n"
	"  validate [PATH...]  check manifests without touching AWS\n"
	"  plan --config F     show what applying the source would change\n"
	"  apply --config F --once  apply it, wait until healthy\n"
	"  status --config F   list the resources this controller owns\n"
	"  run --config F      the controller: reconcile on every change\n"
	"  history --config F  the deployment records, newest first\n"
	"  rollback --config F --to REV --reason TEXT  go back by hand\n"
	"  doctor --config F   check credentials, region, endpoints, access\n"
	"  version             print the version\n"
	"  help                show this help\n"
	"\n"
	"Run 'sagesync <command> --help' for a command's options.\n";

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: sagesync version\n\nPrints the version of "
		     "sagesync.");
		return CMD_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: sagesync version\n");
		return CMD_USAGE;
	}
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

	if (argc < 2) {
		fputs(usage, stderr);
		return CMD_USAGE;
	}
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
	fprintf(stderr, "sagesync: unknown command '%s'\n\n%s", argv[1], usage);
	return CMD_USAGE;
}
