/*
 * What a command prints on a usage error: not its whole --help page, only
 * the synopsis and where the rest is. Every help text is shaped like a man
 * page (cmd.h): section headers at the start of a line, their lines
 * indented by four spaces, so the synopsis and the command's name are
 * found by their headers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define INDENT "    "

int cmd_usage_error(const char *help)
{
	const char *name = strstr(help, "NAME\n" INDENT);
	const char *at = strstr(help, "SYNOPSIS\n");
	const char *dash = NULL;
	bool first = true;

	if (!at) {
		fputs(help, stderr);
		return CMD_USAGE;
	}
	at += strlen("SYNOPSIS\n");
	/* the section's lines, up to the blank line that ends it */
	while (!strncmp(at, INDENT, strlen(INDENT))) {
		const char *end = strchr(at, '\n');
		int n = end ? (int)(end - at) : (int)strlen(at);

		n -= (int)strlen(INDENT);
		fprintf(stderr, "%s%.*s\n", first ? "usage: " : "       ", n,
			at + strlen(INDENT));
		first = false;
		if (!end)
			break;
		at = end + 1;
	}
	/* "sagesync plan - what it does": the command is before the dash */
	if (name) {
		name += strlen("NAME\n" INDENT);
		dash = strstr(name, " - ");
	}
	if (dash && !memchr(name, '\n', (size_t)(dash - name)))
		fprintf(stderr, "Run '%.*s --help' for more.\n",
			(int)(dash - name), name);
	else
		fputs("Run 'sagesync --help' for more.\n", stderr);
	return CMD_USAGE;
}
