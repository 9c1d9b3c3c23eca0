/*
 * `sagesync plan`, `sagesync apply --once` and `sagesync status`: one
 * reconcile of the configured source against AWS, from the command line.
 * The source is local for now (source.url a path or file:// URL,
 * source.path inside it): a Git repository, read at a revision, or a plain
 * directory; the daemon and remote Git sources come with `sagesync run`.
 */
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "engine.h"
#include "gitsrc.h"
#include "http.h"
#include "manifest.h"

enum mode { PLAN, APPLY, STATUS };

static const char plan_usage[] =
	"usage: sagesync plan --config FILE [--output text|json]\n"
	"\n"
	"Shows what applying the configured source would change in AWS:\n"
	"each resource to create (+), update (~), delete (-), drifted from\n"
	"Git (~ drift), or in conflict (!) with a resource the controller\n"
	"does not own, with the fields that differ. Makes no change.\n"
	"\n"
	"options:\n"
	"  -c, --config FILE    the controller's configuration\n"
	"  -r, --revision REV   the Git revision to plan (default: the\n"
	"                       configured branch, tag or commit, or HEAD)\n"
	"  -o, --output FORMAT  text (default) or json\n"
	"  -h, --help           show this help\n"
	"\n"
	"exit status: 0 no changes, 2 changes planned, 1 error\n"
	"\n"
	"example:\n"
	"  sagesync plan --config prod.yaml\n";

static const char apply_usage[] =
	"usage: sagesync apply --config FILE --once [--allow-mass-prune]\n"
	"\n"
	"Applies the plan once: creates and updates in dependency order,\n"
	"waits until every changed endpoint is InService on its new config,\n"
	"then deletes what the new state superseded (and, with prune on, what\n"
	"Git no longer declares). Refuses a plan with conflicts, and a prune\n"
	"of all owned resources or more than reconcile.maxPrunePercent.\n"
	"\n"
	"options:\n"
	"  -c, --config FILE     the controller's configuration\n"
	"  -r, --revision REV    the Git revision to apply (default: the\n"
	"                        configured branch, tag or commit, or HEAD)\n"
	"      --once            apply once and exit (the daemon is `run`)\n"
	"      --allow-mass-prune  allow a prune beyond the limit\n"
	"  -h, --help            show this help\n"
	"\n"
	"exit status: 0 applied and healthy, 1 error or failed deploy, 2 "
	"usage\n"
	"\n"
	"example:\n"
	"  sagesync apply --config prod.yaml --once\n";

static const char status_usage[] =
	"usage: sagesync status --config FILE\n"
	"\n"
	"Lists the AWS resources this controller owns and their state.\n"
	"\n"
	"exit status: 0 success, 1 error, 2 usage error\n";

/* The directory of manifests the config points at. */
static int source_dir(struct buf *out, const struct config *cfg)
{
	const char *url;

	if (!cfg->source) {
		fprintf(stderr, "sagesync: %s: no 'source' configured\n",
			cfg->file);
		return -1;
	}
	url = cfg->source->url;
	if (!strncmp(url, "file://", 7))
		url += 7;
	else if (strstr(url, "://")) {
		fprintf(stderr,
			"sagesync: %s: source.url '%s': only a local path or "
			"file:// URL is supported by this command yet\n",
			cfg->file, url);
		return -1;
	}
	buf_puts(out, url);
	if (cfg->source->path)
		buf_printf(out, "/%s", cfg->source->path);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* FILE names under the export directory, as REV:PATH for people */
static void rename_files(struct diag_list *d, const char *tmp,
			 const char *commit, const char *path)
{
	size_t i, n = strlen(tmp);

	for (i = 0; i < d->n; i++) {
		struct buf name = BUF_INIT;

		if (strncmp(d->items[i].file, tmp, n))
			continue;
		buf_printf(&name, "%.7s:%s%s%s", commit, path ? path : "",
			   path ? "/" : "", d->items[i].file + n + 1);
		free(d->items[i].file);
		d->items[i].file = buf_detach(&name);
	}
}

/*
 * Loads the manifests of the source. A Git repository is read at `rev`
 * (or the configured ref, or HEAD) and `revision` is set to the commit;
 * a plain directory leaves `revision` empty.
 */
static int load_source(struct manifest_set **set, char revision[41],
		       const struct config *cfg, const char *rev,
		       struct diag_list *diags)
{
	const char *url = cfg->source->url, *ref;
	struct buf dir = BUF_INIT;
	char tmp[] = "/tmp/sagesync-source-XXXXXX";
	struct err e = ERR_INIT;
	int rc = -1;

	revision[0] = '\0';
	if (!strncmp(url, "file://", 7))
		url += 7;
	if ((rc = gitsrc_is_repository(url, &e)) < 0) {
		fprintf(stderr, "sagesync: source: %s\n", e.msg);
		rc = -1;
		goto out;
	}
	if (!rc) {
		rc = -1;
		if (rev) {
			fprintf(stderr,
				"sagesync: --revision needs a Git repository; "
				"'%s' is a plain directory\n",
				url);
			return -1;
		}
		if (source_dir(&dir, cfg) == 0)
			rc = manifest_load(set, dir.ptr, NULL, diags);
		goto out;
	}
	rc = -1;
	ref = rev		  ? rev :
	      cfg->source->commit ? cfg->source->commit :
	      cfg->source->tag	  ? cfg->source->tag :
				    cfg->source->branch;
	if (!mkdtemp(tmp)) {
		perror("sagesync: cannot make a temporary directory");
		goto out;
	}
	if (gitsrc_export(url, ref, cfg->source->path, tmp, revision, &e) < 0) {
		fprintf(stderr, "sagesync: source '%s': %s\n", url, e.msg);
	} else {
		rc = manifest_load(set, tmp, NULL, diags);
		rename_files(diags, tmp, revision, cfg->source->path);
	}
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
out:
	buf_release(&dir);
	return rc;
}

static int run(enum mode mode, const char *path, const char *rev, bool json,
	       bool mass)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct config *cfg = NULL;
	struct aws_client *aws = NULL;
	struct engine *en = NULL;
	struct aws_options aopt = { 0 };
	struct engine_options eopt = { 0 };
	struct buf dir = BUF_INIT;
	struct err e = ERR_INIT;
	struct aws_stats st;
	const struct plan *p;
	char commit[41];
	int rc = CMD_FAILED;

	if (config_load(&cfg, path, &diags) < 0) {
		diag_print(&diags, stderr);
		goto out;
	}
	if (!cfg->source) {
		fprintf(stderr, "sagesync: %s: no 'source' configured\n",
			cfg->file);
		goto out;
	}
	if (load_source(&set, commit, cfg, rev, &diags) < 0) {
		diag_print(&diags, stderr);
		if (diags.n)
			fprintf(stderr, "sagesync: the revision has errors; "
					"nothing is applied\n");
		goto out;
	}
	config_aws_options(cfg, &aopt);
	if (aws_client_new(&aws, &aopt, &e) < 0) {
		fprintf(stderr, "sagesync: %s\n", e.msg);
		goto out;
	}
	eopt.controller = cfg->name;
	eopt.revision = commit[0] ? commit : NULL;
	eopt.state_dir = cfg->state_dir;
	eopt.prune = true;
	eopt.self_heal = true;
	eopt.max_prune_percent = -1;
	if (cfg->reconcile) {
		if (cfg->reconcile->prune.set)
			eopt.prune = cfg->reconcile->prune.v;
		if (cfg->reconcile->self_heal.set)
			eopt.self_heal = cfg->reconcile->self_heal.v;
		if (cfg->reconcile->concurrency.set)
			eopt.concurrency = (int)cfg->reconcile->concurrency.v;
		if (cfg->reconcile->max_prune_percent.set)
			eopt.max_prune_percent =
				(int)cfg->reconcile->max_prune_percent.v;
	}
	eopt.allow_mass_prune = mass;
	if (getenv("SAGESYNC_POLL_MS"))
		eopt.poll_ms = strtol(getenv("SAGESYNC_POLL_MS"), NULL, 10);
	if (engine_plan(&en, aws, set, &eopt, &e) < 0) {
		fprintf(stderr, "sagesync: %s\n", e.msg);
		goto out;
	}
	p = engine_get_plan(en);
	if (mode == STATUS) {
		engine_print_owned(en, stdout);
		rc = CMD_OK;
	} else if (json) {
		char *s = plan_json(p);

		puts(s);
		free(s);
	} else {
		printf("revision %s\n", engine_revision(en));
		plan_print(p, stdout);
	}
	if (mode == PLAN)
		rc = p->n ? CMD_USAGE /* 2: changes */ : CMD_OK;
	if (mode == APPLY) {
		if (engine_apply(en, &e) < 0) {
			fprintf(stderr, "sagesync: apply: %s\n", e.msg);
			goto out;
		}
		printf("applied: everything is healthy\n");
		rc = CMD_OK;
	}
out:
	fflush(stdout); /* the plan before the summary, even in a pipe */
	if (aws) {
		aws_client_stats(aws, &st);
		fprintf(stderr, "aws calls: %lu (%lu retries, %lu throttled)\n",
			st.calls, st.retries, st.throttles);
	}
	engine_free(en);
	aws_client_free(aws);
	manifest_set_free(set);
	config_free(cfg);
	diag_release(&diags);
	buf_release(&dir);
	http_global_cleanup();
	gitsrc_global_cleanup();
	return rc;
}

static int command(enum mode mode, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "revision", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "once", no_argument, NULL, 'O' },
		{ "allow-mass-prune", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = mode == PLAN  ? plan_usage :
			    mode == APPLY ? apply_usage :
					    status_usage;
	const char *path = NULL, *rev = NULL;
	bool json = false, once = false, mass = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'r':
			rev = optarg;
			break;
		case 'o':
			if (mode != PLAN || (strcmp(optarg, "json") &&
					     strcmp(optarg, "text"))) {
				fputs(usage, stderr);
				return CMD_USAGE;
			}
			json = !strcmp(optarg, "json");
			break;
		case 'O':
			once = true;
			break;
		case 'M':
			mass = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return CMD_OK;
		default:
			fputs(usage, stderr);
			return CMD_USAGE;
		}
	}
	if (!path || optind != argc || (mode == APPLY && !once) ||
	    (mode != APPLY && (once || mass))) {
		fputs(usage, stderr);
		return CMD_USAGE;
	}
	return run(mode, path, rev, json, mass);
}

int cmd_plan(int argc, char **argv)
{
	return command(PLAN, argc, argv);
}

int cmd_apply(int argc, char **argv)
{
	return command(APPLY, argc, argv);
}

int cmd_status(int argc, char **argv)
{
	return command(STATUS, argc, argv);
}
