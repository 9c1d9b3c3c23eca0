/*
 * The subcommands of the sagesync binary. Each takes the arguments after
 * its name (argv[0] is the command name) and returns the process exit
 * status: 0 success, 1 a failure the command reports (invalid manifests,
 * a failed deploy), 2 a usage error.
 */
#ifndef SAGESYNC_CONTROLLER_CMD_H
#define SAGESYNC_CONTROLLER_CMD_H

#define CMD_OK 0
#define CMD_FAILED 1
#define CMD_USAGE 2

int cmd_validate(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_history(int argc, char **argv);

/*
 * The --help of each command is a man page in plain text, 80 columns:
 * sections NAME ("sagesync X - what it does"), SYNOPSIS, DESCRIPTION,
 * OPTIONS, EXIT STATUS, EXAMPLES, SEE ALSO, each header at the start of
 * a line and its lines indented by four spaces. It goes to stdout and
 * exits CMD_OK.
 *
 * A usage error: prints the SYNOPSIS lines of `help` (as "usage: ...")
 * and "Run 'sagesync X --help' for more." to stderr, and returns
 * CMD_USAGE, so that a parser can `return cmd_usage_error(usage);`.
 */
int cmd_usage_error(const char *help);

#endif
