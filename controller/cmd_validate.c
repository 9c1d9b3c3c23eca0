/*
 * `sagesync validate [PATH...]`: load and check a desired-state tree the
 * way the controller would before applying it, and say what it found.
 * Used on pull requests, so `--output json` gives CI a machine-readable
 * list of errors.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "diag.h"
#include "manifest.h"

static const char usage[] =
	"NAME\n"
	"    sagesync validate - check manifests without touching AWS\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync validate [--output FORMAT] [PATH...]\n"
	"\n"
	"DESCRIPTION\n"
	"    Checks the manifests in each PATH as the controller does before\n"
	"    it applies a revision: YAML syntax, the schema of each kind, AWS's\n"
	"    own constraints, and the references between manifests. A PATH is\n"
	"    a file, or a directory searched recursively for *.yaml and *.yml;\n"
	"    with no PATH, the current directory. All PATHs form one revision:\n"
	"    names and references are checked across all of them. It never\n"
	"    contacts AWS: run it in CI on every pull request.\n"
	"\n"
	"    A valid revision prints a summary and one line per manifest on\n"
	"    stdout. An invalid one prints every error on stderr, as\n"
	"    FILE:LINE:COL: error: MESSAGE, then how many there are.\n"
	"\n"
	"OPTIONS\n"
	"    -o, --output FORMAT\n"
	"        text (default), or json: one object on stdout, with path,\n"
	"        valid, files, manifests and errors.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   every manifest is valid\n"
	"    1   at least one error: the revision would be rejected\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Check the quickstart example:\n"
	"        sagesync validate examples/quickstart\n"
	"\n"
	"    Check one environment in CI, for a machine to read:\n"
	"        sagesync validate --output json environments/prod >report.json\n"
	"\n"
	"    Check the current directory:\n"
	"        sagesync validate\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync plan --help, docs/manifests.md\n";

struct item {
	const char *kind;
	const struct mf_meta *meta;
};

/* Every manifest of the set, in kind order then name order. */
static size_t list_items(const struct manifest_set *set, struct item *out)
{
	size_t n = 0, i;
	int k;

	for (k = 0; k < MF_KIND_COUNT; k++)
		for (i = 0; i < manifest_kind_count(set, k); i++)
			out[n++] = (struct item){
				manifest_kind_name(k),
				manifest_kind_item(set, k, i),
			};
	return n;
}

static void print_text(const char *paths, const struct manifest_set *set,
		       const struct diag_list *diags)
{
	struct item *items;
	size_t n, i;

	if (!set) {
		diag_print(diags, stderr);
		fprintf(stderr, "%s: %zu error%s\n", paths, diags->n,
			diags->n == 1 ? "" : "s");
		return;
	}
	items = calloc(manifest_set_count(set) + 1, sizeof(*items));
	n = list_items(set, items);
	printf("%s: valid: %zu manifest%s in %zu file%s\n", paths, n,
	       n == 1 ? "" : "s", set->n_files, set->n_files == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		printf("  %-13s %-32s %s:%d\n", items[i].kind,
		       items[i].meta->name, items[i].meta->loc.file,
		       items[i].meta->loc.line);
	free(items);
}

static void print_json(const char *paths, const struct manifest_set *set,
		       const struct diag_list *diags)
{
	json_t *root = json_object(); /* new reference */
	json_t *errors = json_array(), *manifests = json_array();
	size_t i;

	json_object_set_new(root, "path", json_string(paths));
	json_object_set_new(root, "valid", json_boolean(set != NULL));
	for (i = 0; i < diags->n; i++) {
		const struct diag *d = &diags->items[i];

		json_array_append_new(
			errors, json_pack("{s:s, s:i, s:i, s:s}", "file",
					  d->file, "line", d->line, "column",
					  d->col, "message", d->msg));
	}
	if (set) {
		struct item *items =
			calloc(manifest_set_count(set) + 1, sizeof(*items));
		size_t n = list_items(set, items);

		for (i = 0; i < n; i++)
			json_array_append_new(
				manifests,
				json_pack("{s:s, s:s, s:s, s:i}", "kind",
					  items[i].kind, "name",
					  items[i].meta->name, "file",
					  items[i].meta->loc.file, "line",
					  items[i].meta->loc.line));
		free(items);
		json_object_set_new(root, "files",
				    json_integer((json_int_t)set->n_files));
	}
	json_object_set_new(root, "manifests", manifests);
	json_object_set_new(root, "errors", errors);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct buf paths = BUF_INIT;
	bool json = false;
	int c, i, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!strcmp(optarg, "json")) {
				json = true;
			} else if (strcmp(optarg, "text")) {
				fprintf(stderr,
					"sagesync validate: unknown output "
					"format '%s' (expected text or json)\n",
					optarg);
				return cmd_usage_error(usage);
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return CMD_OK;
		default:
			return cmd_usage_error(usage);
		}
	}
	manifest_set_new(&set, NULL);
	if (optind == argc) {
		buf_puts(&paths, ".");
		manifest_set_add_path(set, ".", &diags);
	}
	for (i = optind; i < argc; i++) {
		buf_printf(&paths, "%s%s", i > optind ? " " : "", argv[i]);
		manifest_set_add_path(set, argv[i], &diags);
	}
	if (manifest_set_finish(set, &diags) < 0) {
		manifest_set_free(set);
		set = NULL;
	}
	if (json)
		print_json(paths.ptr, set, &diags);
	else
		print_text(paths.ptr, set, &diags);
	rc = set ? CMD_OK : CMD_FAILED;
	manifest_set_free(set);
	diag_release(&diags);
	buf_release(&paths);
	return rc;
}
