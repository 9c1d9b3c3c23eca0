/*
 * `sagesync history`: the deployment records of the source (records.h),
 * newest first, as a table or JSON: when, revision, author, subject,
 * result, reason; `--endpoint NAME` keeps the records that touched it.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "log.h"
#include "mem.h"
#include "source.h"

static const char usage[] =
	"NAME\n"
	"    sagesync history - list the deployment records, newest first\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync history --config FILE [--endpoint NAME] [--output FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the deployment records of the configured source, newest\n"
	"    first: when each outcome was recorded, the revision, its author\n"
	"    and subject, the result (succeeded, failed, rolled-back,\n"
	"    drift-healed) and the reason. A remote source is fetched first.\n"
	"\n"
	"    The records are Git notes on the deployed commits, under\n"
	"    history.notesRef (default refs/notes/sagesync), so plain Git shows\n"
	"    them too: git log --notes=sagesync. A plain directory has none.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    -e, --endpoint NAME\n"
	"        Only the records that changed the endpoint NAME, or name it in\n"
	"        their reason.\n"
	"    -o, --output FORMAT\n"
	"        text (default: a table), or json: an array of records with\n"
	"        every field (started, finished, revision, lastGood, author,\n"
	"        subject, result, reason, controller, changes).\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   success (there may be no records yet)\n"
	"    1   an error: the config, the fetch, or a source without Git\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    What happened to one endpoint:\n"
	"        sagesync history --config prod.yaml --endpoint churn-prod\n"
	"\n"
	"    The revision that succeeded last, for a script (with jq):\n"
	"        sagesync history --config prod.yaml --output json |\n"
	"            jq -r 'map(select(.result == \"succeeded\"))[0].revision'\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync rollback --help, docs/operations.md\n";

struct row {
	struct record r;
	char *author, *subject;
};

struct rows {
	struct row *items;
	size_t n, cap;
	const char *repo;
	const char *endpoint;
	const struct source_trust *trust;
};

/* whether a record concerns the endpoint NAME */
static bool touches(const struct record *r, const char *name)
{
	struct buf needle = BUF_INIT;
	bool yes;

	buf_printf(&needle, "Endpoint/%s", name);
	yes = strstr(r->changes, needle.ptr) != NULL;
	buf_clear(&needle);
	buf_printf(&needle, "'%s'", name);
	yes = yes || strstr(r->reason, needle.ptr) != NULL;
	buf_release(&needle);
	return yes;
}

static int collect(const char *commit, const char *text, void *payload)
{
	struct rows *rows = payload;
	struct record *list;
	size_t n, i;

	if (!text) {
		log_msg(LOG_WARN, commit, NULL,
			"its note is over %d bytes and is not read",
			GITSRC_MAX_NOTE);
		return 0;
	}
	records_parse(text, &rows->trust->key, &list, &n);
	for (i = 0; i < n; i++) {
		struct buf author = BUF_INIT, subject = BUF_INIT;
		struct err e = ERR_INIT;
		struct row *row;

		if (rows->endpoint && !touches(&list[i], rows->endpoint)) {
			record_release(&list[i]);
			continue;
		}
		gitsrc_commit_info(rows->repo, list[i].revision, &author,
				   &subject, &e);
		rows->items = mem_grow(rows->items, &rows->cap, rows->n + 1,
				       sizeof(*rows->items));
		row = &rows->items[rows->n++];
		row->r = list[i];
		row->author = mem_strdup(author.ptr ? author.ptr : "");
		row->subject = mem_strdup(subject.ptr ? subject.ptr : "");
		buf_release(&author);
		buf_release(&subject);
	}
	free(list); /* the strings moved into the rows */
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(y->r.finished, x->r.finished);

	return c ? c : strcmp(y->r.started, x->r.started);
}

/* a record's text as anyone may have written it, safe to show */
static json_t *shown_json(const char *s)
{
	struct buf b = BUF_INIT;
	json_t *j;

	buf_put_shown(&b, s ? s : "", s ? strlen(s) : 0, false);
	j = json_string(buf_cstr(&b));
	buf_release(&b);
	return j;
}

static const char *shown(struct buf *b, const char *s)
{
	buf_clear(b);
	buf_put_shown(b, s ? s : "", s ? strlen(s) : 0, false);
	return buf_cstr(b);
}

static void print_json(const struct rows *rows)
{
	json_t *list = json_array();
	size_t i;
	char *s;

	for (i = 0; i < rows->n; i++) {
		const struct row *w = &rows->items[i];
		json_t *o = json_object();

		json_object_set_new(o, "started", shown_json(w->r.started));
		json_object_set_new(o, "finished", shown_json(w->r.finished));
		json_object_set_new(o, "revision", shown_json(w->r.revision));
		json_object_set_new(o, "lastGood", shown_json(w->r.last_good));
		json_object_set_new(o, "author", shown_json(w->author));
		json_object_set_new(o, "subject", shown_json(w->subject));
		json_object_set_new(o, "result", shown_json(w->r.result));
		json_object_set_new(o, "reason", shown_json(w->r.reason));
		json_object_set_new(o, "controller",
				    shown_json(w->r.controller));
		json_object_set_new(o, "changes", shown_json(w->r.changes));
		if (rows->trust->need)
			json_object_set_new(o, "authentic",
					    json_boolean(w->r.authentic));
		json_array_append_new(list, o);
	}
	s = json_dumps(list, JSON_INDENT(2));
	puts(s ? s : "[]");
	free(s);
	json_decref(list);
}

static void print_table(const struct rows *rows)
{
	struct buf f[6] = { BUF_INIT, BUF_INIT, BUF_INIT,
			    BUF_INIT, BUF_INIT, BUF_INIT };
	size_t i;

	printf("%-24s  %-7s  %-16s  %-32s  %-12s  %s\n", "WHEN", "REV",
	       "AUTHOR", "SUBJECT", "RESULT", "REASON");
	for (i = 0; i < rows->n; i++) {
		const struct row *w = &rows->items[i];

		printf("%-24s  %.7s  %-16.16s  %-32.32s  %-12s  %s%s\n",
		       shown(&f[0], w->r.finished), shown(&f[1], w->r.revision),
		       shown(&f[2], w->author), shown(&f[3], w->subject),
		       shown(&f[4], w->r.result),
		       rows->trust->need && !w->r.authentic ?
			       "(not authenticated: not counted) " :
			       "",
		       shown(&f[5], w->r.reason));
	}
	if (!rows->n)
		printf("(no deployment records yet)\n");
	for (i = 0; i < 6; i++)
		buf_release(&f[i]);
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diag_list diags = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct rows rows = { 0 };
	struct source_trust trust = { 0 };
	struct buf repo = BUF_INIT;
	struct err e = ERR_INIT;
	const char *path = NULL;
	bool json = false;
	size_t i;
	int c, rc = CMD_FAILED;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:e:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'e':
			rows.endpoint = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr,
					"sagesync history: unknown output "
					"format '%s' (expected text or json)\n",
					optarg);
				return cmd_usage_error(usage);
			}
			json = !strcmp(optarg, "json");
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
	if (config_load(&cfg, path, &diags) < 0) {
		diag_print(&diags, stderr);
		goto out;
	}
	if (!cfg->source) {
		log_msg(LOG_ERROR, NULL, NULL, "%s: no 'source' configured",
			cfg->file);
		goto out;
	}
	if (gitsrc_is_url(cfg->source->url) && source_fetch(cfg, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "fetch: %s", e.msg);
		goto out;
	}
	if ((c = source_repo(&repo, cfg, &e)) <= 0) {
		log_msg(LOG_ERROR, NULL, NULL, "source: %s",
			c < 0 ? e.msg :
				"a plain directory has no history; records "
				"need a Git source");
		goto out;
	}
	rows.repo = repo.ptr;
	source_trust_load(&trust, cfg);
	rows.trust = &trust;
	if (gitsrc_notes_each(repo.ptr, source_notes_ref(cfg), collect, &rows,
			      &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "records: %s", e.msg);
		goto out;
	}
	if (rows.n)
		qsort(rows.items, rows.n, sizeof(*rows.items), newest_first);
	if (json)
		print_json(&rows);
	else
		print_table(&rows);
	rc = CMD_OK;
out:
	for (i = 0; i < rows.n; i++) {
		record_release(&rows.items[i].r);
		free(rows.items[i].author);
		free(rows.items[i].subject);
	}
	free(rows.items);
	source_trust_release(&trust);
	buf_release(&repo);
	config_free(cfg);
	diag_release(&diags);
	gitsrc_global_cleanup();
	return rc;
}
