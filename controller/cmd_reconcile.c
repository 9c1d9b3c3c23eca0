/*
 * `sagesync plan`, `sagesync apply --once` and `sagesync status`: one
 * reconcile of the configured source against AWS, from the command line.
 * The source is a Git repository, local or remote (fetched into a mirror
 * in the state directory), read at a revision, or a plain directory.
 * `sagesync run`, the daemon, is here too: it does the same in a loop.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "engine.h"
#include "file.h"
#include "gitsrc.h"
#include "http.h"
#include "httpd.h"
#include "lease.h"
#include "log.h"
#include "notify.h"
#include "promote.h"
#include "records.h"
#include "source.h"
#include "mem.h"
#include "metrics.h"
#include "manifest.h"

enum mode { PLAN, APPLY, STATUS, RUN, ROLLBACK };

static const char plan_usage[] =
	"NAME\n"
	"    sagesync plan - show what applying the source would change in AWS\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync plan --config FILE [--revision REV] [--output FORMAT]\n"
	"    sagesync plan --config FILE --base REV [--head REV] [--output "
	"FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Plans the configured source against the live state in AWS, and\n"
	"    shows each resource to create (+), update (~), delete (-),\n"
	"    drifted from Git (~ drift), or in conflict (!) with a resource\n"
	"    the controller does not own, with the fields that differ. Makes\n"
	"    no change.\n"
	"\n"
	"    With --base, for a pull request: plans the head (what merging\n"
	"    would change), plans the base too, and marks the head's changes\n"
	"    that the base's plan has as well: those were pending before the\n"
	"    pull request (drift, or a merge not applied yet) and are not its\n"
	"    doing. --output markdown writes it for a pull-request comment.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    -r, --revision REV, --head REV\n"
	"        The Git revision to plan (a branch, tag or commit; default:\n"
	"        the configured branch, tag or commit, or HEAD).\n"
	"    --base REV\n"
	"        The revision the head is compared with (a pull request's\n"
	"        target branch, or the merge base).\n"
	"    -o, --output FORMAT\n"
	"        text (default), json (each change with pendingBefore), or\n"
	"        markdown.\n"
	"    --log-format FORMAT\n"
	"        text (default) or json, for the messages on standard error.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   no changes\n"
	"    1   an error, or the revision is invalid\n"
	"    2   changes planned, or a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    What the next reconcile would change:\n"
	"        sagesync plan --config prod.yaml\n"
	"\n"
	"    A pull request's plan, as a comment (CI, with read-only AWS\n"
	"    credentials; see examples/ci):\n"
	"        sagesync plan --config prod.yaml --base origin/main \\\n"
	"            --head HEAD --output markdown >plan.md\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync apply --help, docs/reconcile.md, docs/getting-started.md\n";

static const char apply_usage[] =
	"NAME\n"
	"    sagesync apply - apply the source once, and wait until healthy\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync apply --config FILE --once [--revision REV]\n"
	"                   [--allow-mass-prune] [--log-format FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Plans the configured source against AWS as plan does, prints the\n"
	"    plan, and applies it once: creates and updates in dependency\n"
	"    order (ModelPackage, Model, EndpointConfig, Endpoint, autoscaling,\n"
	"    Alarm), waits until every changed endpoint is InService on its\n"
	"    new configuration and its healthAlarms stay out of ALARM for\n"
	"    bakeSeconds, then deletes what the new state superseded (and,\n"
	"    with reconcile.prune, what Git no longer declares).\n"
	"\n"
	"    It refuses a plan with conflicts, a revision that source.verify\n"
	"    does not accept, and a prune of every owned resource or of more\n"
	"    than reconcile.maxPrunePercent of them. For a Git source, the\n"
	"    outcome is recorded in Git as the daemon records it, and a\n"
	"    healthy revision becomes the last good one.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    --once\n"
	"        Apply once and exit; required (the daemon is sagesync run).\n"
	"    -r, --revision REV\n"
	"        The Git revision to apply (a branch, tag or commit; default:\n"
	"        the configured branch, tag or commit, or HEAD).\n"
	"    --allow-mass-prune\n"
	"        Allow a prune beyond the limit.\n"
	"    --log-format FORMAT\n"
	"        The log lines on stderr: text (default) or json.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   applied, and everything is healthy\n"
	"    1   an error, a refused plan, or a failed deploy\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Apply what Git declares now:\n"
	"        sagesync apply --config prod.yaml --once\n"
	"\n"
	"    Apply a given tag:\n"
	"        sagesync apply --config prod.yaml --once --revision v1.4\n"
	"\n"
	"    Apply a revision that deletes most resources, on purpose:\n"
	"        sagesync apply --config prod.yaml --once --allow-mass-prune\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync plan --help, sagesync rollback --help, docs/reconcile.md\n";

static const char run_usage[] =
	"NAME\n"
	"    sagesync run - the controller: reconcile on every change\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync run --config FILE [--log-format FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    The controller daemon. It fetches the source and reconciles it at\n"
	"    once, then every source.interval (give or take 10%) or as soon as\n"
	"    an authentic push webhook arrives, and serves /healthz, /readyz,\n"
	"    /metrics and the webhooks on server.listen.\n"
	"\n"
	"    A deploy that fails its health gates is rolled back to the last\n"
	"    good revision (and with reconcile.rollback: revert-commit, a\n"
	"    revert is pushed), recorded and notified; the failed revision is\n"
	"    not tried again until a newer commit arrives. A head that is not\n"
	"    signed by an allowed signer (source.verify), that does not descend\n"
	"    from the revision applied last (a force-push), or that is gone (a\n"
	"    deleted branch) is not applied: it is logged, and the revision\n"
	"    applied last is kept. With leaderElection, only the replica that\n"
	"    holds the DynamoDB lease writes.\n"
	"\n"
	"    With promotion, it also polls the model package groups named\n"
	"    there every promotion.interval; a version newer than the one Git\n"
	"    deploys becomes a branch sagesync/promote-GROUP-vN and a pull (or\n"
	"    merge) request whose body is its plan, once per version; with\n"
	"    promotion.mode: commit it is committed to the branch and deployed\n"
	"    (docs/monitoring.md).\n"
	"\n"
	"    SIGTERM or SIGINT finishes the reconcile in flight, then exits 0.\n"
	"    SIGHUP reloads the config (a config with errors is reported and\n"
	"    the running one kept) and reconciles at once.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    --log-format FORMAT\n"
	"        The log lines on stderr: json (default: one object a line) or\n"
	"        text, for people.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   stopped by SIGTERM or SIGINT\n"
	"    1   it could not start: the config, AWS, HTTP, or the lease\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Run the controller, with logs for people:\n"
	"        sagesync run --config prod.yaml --log-format text\n"
	"\n"
	"    Reload it after editing the config (the unit's ExecReload sends\n"
	"    SIGHUP):\n"
	"        systemctl reload sagesync\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync doctor --help, sagesync history --help,\n"
	"    docs/operations.md, docs/config.md\n";

static const char rollback_usage[] =
	"NAME\n"
	"    sagesync rollback - go back to an earlier revision by hand\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync rollback --config FILE --to REV --reason TEXT\n"
	"                      [--log-format FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Puts AWS back on revision REV by hand: applies it as apply --once\n"
	"    --revision REV does, without a bake, and records it like an\n"
	"    automatic rollback. The revision that was last good before is\n"
	"    recorded rolled-back with TEXT, so that the daemon does not apply\n"
	"    it again, and REV becomes the last good revision. A newer commit\n"
	"    deploys normally.\n"
	"\n"
	"    It needs a Git source, and refuses a revision that source.verify\n"
	"    does not accept.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    --to REV\n"
	"        The revision to go back to (a commit, tag or branch).\n"
	"    --reason TEXT\n"
	"        Why, for the record.\n"
	"    --log-format FORMAT\n"
	"        The log lines on stderr: text (default) or json.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   rolled back, and everything is healthy\n"
	"    1   an error, or the deploy of REV failed\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    Find the revision to go back to:\n"
	"        sagesync history --config prod.yaml --endpoint churn-prod\n"
	"\n"
	"    Go back to it:\n"
	"        sagesync rollback --config prod.yaml --to 3f9a2c1 \\\n"
	"            --reason \"latency regression in v8\"\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync history --help, sagesync apply --help, docs/operations.md\n";

static const char status_usage[] =
	"NAME\n"
	"    sagesync status - list the AWS resources this controller owns\n"
	"\n"
	"SYNOPSIS\n"
	"    sagesync status --config FILE [--revision REV]\n"
	"                    [--log-format FORMAT]\n"
	"\n"
	"DESCRIPTION\n"
	"    Lists the AWS resources this controller owns (tagged\n"
	"    sagesync:managed-by with its name), one a line: the kind, the\n"
	"    name, the state (an endpoint's status, an alarm's state), and the\n"
	"    manifest and revision that applied it; then how many. For a Git\n"
	"    source, the last good and the last applied revisions come first.\n"
	"    It changes nothing.\n"
	"\n"
	"    The source is read as plan reads it: a revision with errors is\n"
	"    reported, and nothing is listed.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE\n"
	"        The controller's configuration.\n"
	"    -r, --revision REV\n"
	"        The Git revision to read (a branch, tag or commit; default:\n"
	"        the configured branch, tag or commit, or HEAD).\n"
	"    --log-format FORMAT\n"
	"        The log lines on stderr: text (default) or json.\n"
	"    -h, --help\n"
	"        Show this help.\n"
	"\n"
	"EXIT STATUS\n"
	"    0   success\n"
	"    1   an error: the config, the source, or AWS\n"
	"    2   a usage error\n"
	"\n"
	"EXAMPLES\n"
	"    What the controller owns, and the state of each:\n"
	"        sagesync status --config prod.yaml\n"
	"\n"
	"    The last good revision, for a script:\n"
	"        sagesync status --config prod.yaml |\n"
	"            sed -n 's/^last good revision: //p'\n"
	"\n"
	"SEE ALSO\n"
	"    sagesync history --help, sagesync plan --help, docs/reconcile.md\n";

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
 * Loads the manifests of `commit` in the repository `repo`, or of the
 * plain directory `repo` when `commit` is NULL. A commit is exported
 * into a directory of its own in the state directory (the temporary
 * directory without one), read, and removed; a tree the export refuses
 * is an error of the revision, as a manifest's would be.
 */
static int load_source(struct manifest_set **set, const struct config *cfg,
		       const char *repo, const char *commit,
		       struct diag_list *diags)
{
	struct buf tmp = BUF_INIT;
	char got[41];
	struct err e = ERR_INIT;
	int rc = -1;

	if (!commit)
		return manifest_load(set, repo, NULL, diags);
	if (file_temp_dir(&tmp, cfg->state_dir, "export", &e) < 0) {
		log_msg(LOG_ERROR, commit, NULL, "%s", e.msg);
		goto out;
	}
	if (gitsrc_export(repo, commit, cfg->source->path, tmp.ptr, got, &e) <
	    0) {
		if (e.code == ERR_INVALID) {
			char short_id[8];

			snprintf(short_id, sizeof(short_id), "%.7s", got);
			diag_add(diags, short_id, 0, 0, "%s", e.msg);
		} else {
			log_msg(LOG_ERROR, commit, NULL, "source '%s': %s",
				cfg->source->url, e.msg);
		}
	} else {
		rc = manifest_load(set, tmp.ptr, NULL, diags);
		rename_files(diags, tmp.ptr, commit, cfg->source->path);
	}
	file_remove_tree(tmp.ptr);
out:
	buf_release(&tmp);
	return rc;
}

/* one error of a revision, as a line of a pull request's comment */
static void markdown_diag(FILE *fp, const struct diag *d)
{
	if (d->line > 0)
		fprintf(fp, "- `%s:%d:%d`: %s\n", d->file, d->line, d->col,
			d->msg);
	else
		fprintf(fp, "- `%s`: %s\n", d->file, d->msg);
}

/* the engine's question before a batch of writes */
static bool may_write(void *payload)
{
	return lease_may_write(payload);
}

/* ---- one reconcile ------------------------------------------------------- */

enum output { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_MARKDOWN };

/* how to reconcile once, and how to show it */
struct once_options {
	bool restore; /* putting back the last good revision: no bake */
	struct lease *lease; /* asked before every batch of writes */
	bool mass; /* --allow-mass-prune */
	enum output output; /* of plan */
	bool quiet; /* print nothing: the caller wants the outcome only */
	/* plan --base: the base's changes, as change_line()s, one per line;
	 * the same changes in this plan are marked inherited */
	const char *base_changes;
	const char *heading; /* of the Markdown plan */
	FILE *out; /* where the plan goes; NULL: stdout */
};

struct outcome {
	size_t n_changes, drifts;
	size_t n_applied; /* the changes an apply makes (engine_applies) */
	bool invalid; /* the revision has errors */
	bool applied; /* the plan was applied and every endpoint is healthy */
	bool unhealthy; /* the deploy failed its health gates: why */
	char reason[ERR_MSG_MAX];
	struct buf changes; /* "action Kind/name: detail" lines */
};

static void log_plan(const struct plan *p, const char *revision)
{
	size_t i;

	log_msg(LOG_INFO, revision, NULL,
		"plan: %zu to create, %zu to update, %zu to delete, %zu "
		"drifted, %zu conflicts",
		p->creates, p->updates, p->deletes, p->drifts, p->conflicts);
	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->items[i];
		struct buf res = BUF_INIT;

		buf_printf(&res, "%s/%s", desired_kind_name(c->kind), c->name);
		log_msg(c->action == CHANGE_CONFLICT ? LOG_WARN : LOG_INFO,
			revision, res.ptr, "%s%s%s%s",
			c->drift ? "drift, " : "",
			change_action_name(c->action), *c->detail ? ": " : "",
			c->detail);
		buf_release(&res);
	}
	if (p->refusal)
		log_msg(LOG_ERROR, revision, NULL, "refused: %s", p->refusal);
}

/* whether `line` is one of the lines of `lines` */
static bool has_line(const char *lines, const char *line)
{
	size_t n = strlen(line);
	const char *at;

	for (at = lines; (at = strstr(at, line)); at++)
		if ((at == lines || at[-1] == '\n') &&
		    (at[n] == '\n' || !at[n]))
			return true;
	return false;
}

/*
 * One reconcile of `commit` of the repository `repo` (or of the plain
 * directory `repo`): plan, print (the daemon logs), maybe apply.
 */
static int once(enum mode mode, const struct config *cfg,
		struct aws_client *aws, const char *repo, const char *commit,
		const struct once_options *opt, struct outcome *out)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct engine *en = NULL;
	struct engine_options eopt = { 0 };
	struct err e = ERR_INIT;
	struct plan *p;
	FILE *fp = opt->out ? opt->out : stdout;
	int rc = CMD_FAILED;

	memset(out, 0, sizeof(*out));
	if (load_source(&set, cfg, repo, commit, &diags) < 0) {
		size_t i;

		if (opt->quiet) {
			/* the caller says what matters */
		} else if (mode == RUN) {
			for (i = 0; i < diags.n; i++)
				log_msg(LOG_ERROR, commit, diags.items[i].file,
					"%d:%d: %s", diags.items[i].line,
					diags.items[i].col, diags.items[i].msg);
		} else {
			diag_print(&diags, stderr);
		}
		/* a pull request's reader sees why in the comment */
		if (!opt->quiet && opt->output == OUTPUT_MARKDOWN && diags.n) {
			fprintf(fp,
				"%s\n\n**Invalid: nothing of this revision "
				"would be applied.**\n\n",
				opt->heading ? opt->heading : "");
			for (i = 0; i < diags.n; i++)
				markdown_diag(fp, &diags.items[i]);
		}
		if (diags.n) {
			out->invalid = true;
			log_msg(LOG_ERROR, commit, NULL,
				"the revision has errors; nothing is applied");
		}
		goto out;
	}
	eopt.controller = cfg->name;
	eopt.revision = commit;
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
	eopt.allow_mass_prune = opt->mass;
	if (opt->lease) {
		eopt.may_write = may_write;
		eopt.may_write_payload = opt->lease;
	}
	if (cfg->reconcile && cfg->reconcile->bake_seconds.set)
		eopt.bake_seconds = (long)cfg->reconcile->bake_seconds.v;
	/* a restore does not bake: there is nothing better to go back to */
	eopt.bake_cap = opt->restore ? 0 : -1;
	if (!opt->restore && getenv("SAGESYNC_BAKE_SECONDS"))
		eopt.bake_cap =
			strtol(getenv("SAGESYNC_BAKE_SECONDS"), NULL, 10);
	if (getenv("SAGESYNC_POLL_MS"))
		eopt.poll_ms = strtol(getenv("SAGESYNC_POLL_MS"), NULL, 10);
	if (engine_plan(&en, aws, set, &eopt, &e) < 0) {
		log_msg(LOG_ERROR, commit, NULL, "%s", e.msg);
		goto out;
	}
	p = engine_get_plan(en);
	out->n_changes = p->n;
	out->drifts = p->drifts;
	{
		size_t i;

		for (i = 0; i < p->n; i++) {
			struct buf line = BUF_INIT;

			out->n_applied += engine_applies(en, &p->items[i]);
			change_line(&line, &p->items[i]);
			p->items[i].inherited =
				opt->base_changes &&
				has_line(opt->base_changes, line.ptr);
			buf_printf(&out->changes, "%s%s", i ? "\n" : "",
				   line.ptr);
			buf_release(&line);
		}
	}
	if (opt->quiet) {
		/* nothing to show */
	} else if (mode == STATUS) {
		engine_print_owned(en, stdout);
		rc = CMD_OK;
	} else if (mode == RUN) {
		if (p->n || p->refusal)
			log_plan(p, engine_revision(en));
	} else if (opt->output == OUTPUT_JSON) {
		char *s = plan_json(p);

		fprintf(fp, "%s\n", s);
		free(s);
	} else if (opt->output == OUTPUT_MARKDOWN) {
		plan_markdown(p, fp, opt->heading);
	} else {
		fprintf(fp, "revision %s\n", engine_revision(en));
		plan_print(p, fp);
	}
	if (mode == PLAN)
		rc = p->n ? CMD_USAGE /* 2: changes */ : CMD_OK;
	if (mode == APPLY || mode == RUN || mode == ROLLBACK) {
		if (engine_apply(en, &e) < 0) {
			log_msg(LOG_ERROR, engine_revision(en), NULL,
				"apply: %s", e.msg);
			if (e.code == ERR_UNHEALTHY) {
				out->unhealthy = true;
				snprintf(out->reason, sizeof(out->reason), "%s",
					 e.msg);
			}
			goto out;
		}
		if (mode == APPLY || mode == ROLLBACK)
			printf("applied: everything is healthy\n");
		else if (p->n)
			log_msg(LOG_INFO, engine_revision(en), NULL,
				"applied: everything is healthy");
		out->applied = true;
		rc = CMD_OK;
	}
out:
	fflush(stdout);
	engine_free(en);
	manifest_set_free(set);
	diag_release(&diags);
	return rc;
}

/*
 * plan --base: the base revision's plan, quietly, so that the head's plan
 * can tell the changes of the revisions under review from those pending
 * before them. A base that cannot be planned (say, it has errors) leaves
 * `changes` empty: every change is then the head's.
 */
static void plan_base(struct buf *changes, struct buf *heading,
		      const struct config *cfg, struct aws_client *aws,
		      const char *repo, const char *base, const char *head,
		      bool say_base)
{
	/* the base's plan is not for the reader: only its changes count */
	struct once_options opt = { .quiet = true };
	struct outcome o;

	once(PLAN, cfg, aws, repo, base, &opt, &o);
	if (o.invalid)
		log_msg(LOG_WARN, base, NULL,
			"the base revision has errors; every change is shown "
			"as the head's");
	buf_puts(changes, o.changes.ptr ? o.changes.ptr : "");
	buf_release(&o.changes);
	if (say_base)
		printf("base %s\n", base);
	buf_printf(heading, "### sagesync plan: `%s`, `%.7s` → `%.7s`",
		   cfg->name, base, head);
}

/* ---- the daemon ---------------------------------------------------------- */

struct daemon {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* SIGTERM or SIGINT: finish this reconcile, then exit */
	bool now; /* a webhook push or SIGHUP: reconcile without waiting */
	bool reload; /* SIGHUP: read the config again first */
	bool ready; /* the source is fetched and a reconcile has finished */
	bool signalled; /* the signal thread has ended: it took SIGTERM */
	const char *why; /* what started the next reconcile */
	sigset_t signals;
	const char *config_path;
	struct config *cfg;
	struct aws_client *aws;
	struct metrics *m;
	struct httpd *h;
	struct notifier *notifier;
	struct lease *lease; /* leaderElection; NULL: the only controller */
	struct aws_client *lease_aws;
	char *github, *gitlab; /* the webhook secrets */
	struct promoter *promoter; /* config promotion; NULL: none */
	struct timespec promoted; /* the last registry poll (monotonic) */
};

static void wake(struct daemon *d, int sig)
{
	pthread_mutex_lock(&d->lock);
	if (sig == SIGHUP)
		d->reload = true;
	if (sig == SIGTERM || sig == SIGINT) {
		d->stop = true;
	} else {
		d->now = true;
		d->why = sig == SIGHUP ? "reload" :
			 sig < 0       ? "leader" :
					 "webhook";
	}
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

static void *signal_thread(void *payload)
{
	struct daemon *d = payload;
	int sig = 0;

	for (;;) {
		if (sigwait(&d->signals, &sig) != 0)
			continue;
		wake(d, sig);
		if (sig != SIGHUP) {
			pthread_mutex_lock(&d->lock);
			d->signalled = true;
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
	}
}

static bool daemon_ready(void *payload)
{
	struct daemon *d = payload;
	bool ready;

	pthread_mutex_lock(&d->lock);
	ready = d->ready;
	pthread_mutex_unlock(&d->lock);
	return ready;
}

static void daemon_fetch(const char *commit, void *payload)
{
	(void)commit;
	wake(payload, 0);
}

/* the lease's thread: leadership won or lost */
static void leader_changed(bool leader, void *payload)
{
	struct daemon *d = payload;

	metrics_set(d->m, "sagesync_leader", NULL, leader ? 1 : 0);
	metrics_set(d->m, "sagesync_lease_fence", NULL,
		    (double)lease_fence(d->lease));
	if (leader)
		wake(d, -1); /* reconcile at once: a deploy may be waiting */
}

static void count_call(const char *service, const char *op, bool throttled,
		       void *payload)
{
	const char *labels[] = { "service", service, "operation", op, NULL };

	metrics_add(payload, "sagesync_aws_calls_total", labels, 1);
	if (throttled)
		metrics_add(payload, "sagesync_aws_throttles_total", labels, 1);
}

static void declare_metrics(struct metrics *m)
{
	static const double reconcile[] = { 0.5, 1, 2, 5, 10, 30, 60, 300, 900 };
	static const double fetch[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

	metrics_declare(m, "sagesync_reconcile_total", METRICS_COUNTER,
			"Reconciles by result: success, failed (the apply "
			"failed), rolled-back (the deploy failed its health "
			"gates and the last good revision was restored), "
			"invalid (the revision has errors), refused (not "
			"applied: unsigned, force-pushed, missing, or failed "
			"before).");
	metrics_declare_histogram(m, "sagesync_reconcile_duration_seconds",
				  "How long reconciles took.", reconcile,
				  sizeof(reconcile) / sizeof(reconcile[0]));
	metrics_declare(m, "sagesync_last_applied_revision_info", METRICS_GAUGE,
			"The revision last applied (1 on its series).");
	metrics_declare(m, "sagesync_last_good_revision_info", METRICS_GAUGE,
			"The last revision applied with every endpoint "
			"healthy (1 on its series).");
	metrics_declare(m, "sagesync_leader", METRICS_GAUGE,
			"1 while this controller leads (always, without "
			"leaderElection), 0 on a standby.");
	metrics_declare(m, "sagesync_lease_fence", METRICS_GAUGE,
			"The fencing counter of this controller's leadership.");
	metrics_declare(m, "sagesync_drift_detected_total", METRICS_COUNTER,
			"Resources found changed in AWS and not in Git.");
	metrics_declare(m, "sagesync_aws_calls_total", METRICS_COUNTER,
			"AWS requests sent, retries included, by service and "
			"operation.");
	metrics_declare(m, "sagesync_aws_throttles_total", METRICS_COUNTER,
			"AWS answers that were throttling, by service and "
			"operation.");
	metrics_declare_histogram(m, "sagesync_git_fetch_duration_seconds",
				  "How long fetching the source took.", fetch,
				  sizeof(fetch) / sizeof(fetch[0]));
	metrics_declare(m, "sagesync_git_fetch_errors_total", METRICS_COUNTER,
			"Fetches of the source that failed.");
	metrics_declare(m, "sagesync_source_refused_total", METRICS_COUNTER,
			"Source heads not applied, by reason: unsigned "
			"(signature verification failed), force-push, "
			"missing (branch or tag deleted), failed-before (its "
			"deploy failed).");
	httpd_declare_metrics(m);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void refused(struct daemon *d, const char *reason)
{
	const char *labels[] = { "reason", reason, NULL };

	metrics_add(d->m, "sagesync_source_refused_total", labels, 1);
}

/* Starts (or restarts, after a reload) the HTTP server of the config. */
static int serve(struct daemon *d, struct err *e)
{
	const struct config *cfg = d->cfg;
	struct httpd_options hopt = { 0 };

	httpd_stop(d->h);
	d->h = NULL;
	free(d->github);
	free(d->gitlab);
	d->github = d->gitlab = NULL;
	if (!cfg->server || !cfg->server->listen)
		return 0;
	d->github = source_secret(cfg->server->github_secret_file,
				  "server.githubSecretFile");
	d->gitlab = source_secret(cfg->server->gitlab_token_file,
				  "server.gitlabTokenFile");
	hopt.listen = cfg->server->listen;
	hopt.github_secret = d->github;
	hopt.github_secret_len = d->github ? strlen(d->github) : 0;
	hopt.gitlab_token = d->gitlab;
	hopt.gitlab_token_len = d->gitlab ? strlen(d->gitlab) : 0;
	hopt.branch = cfg->source->branch;
	hopt.metrics = d->m;
	hopt.ready = daemon_ready;
	hopt.on_fetch = daemon_fetch;
	hopt.payload = d;
	if (httpd_start(&d->h, &hopt, e) < 0)
		return -1;
	log_msg(LOG_INFO, NULL, NULL, "serving on port %d", httpd_port(d->h));
	return 0;
}

/* The AWS client of the config, its calls counted in the metrics. */
static int aws_for(struct aws_client **out, const struct config *cfg,
		   struct metrics *m, struct err *e)
{
	struct aws_options aopt = { 0 };

	config_aws_options(cfg, &aopt);
	aopt.on_call = count_call;
	aopt.on_call_payload = m;
	return aws_client_new(out, &aopt, e);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* whether the server of `old` (running) is the one d->cfg asks for */
static bool same_server(const struct daemon *d, const struct config *old)
{
	const struct config_server *a = old->server, *b = d->cfg->server;
	char *github, *gitlab;
	bool same;

	if (!a || !b)
		return !a && !b;
	if (!same_str(a->listen, b->listen) ||
	    !same_str(old->source->branch, d->cfg->source->branch))
		return false;
	/* a rotated secret restarts the server too */
	github =
		source_secret(b->github_secret_file, "server.githubSecretFile");
	gitlab = source_secret(b->gitlab_token_file, "server.gitlabTokenFile");
	same = same_str(github, d->github) && same_str(gitlab, d->gitlab);
	free(github);
	free(gitlab);
	return same;
}

/* a promotion's pull request body: the plan of its branch, as `plan
 * --base BRANCH --head PROMOTION --output markdown` writes it */
static void promotion_plan(void *payload, const char *repo, const char *base,
			   const char *head, struct buf *out)
{
	struct daemon *d = payload;
	struct buf changes = BUF_INIT, heading = BUF_INIT;
	struct once_options opt = { .output = OUTPUT_MARKDOWN };
	struct outcome o;
	char *text = NULL;
	size_t len = 0;

	plan_base(&changes, &heading, d->cfg, d->aws, repo, base, head, false);
	opt.base_changes = changes.ptr;
	opt.heading = heading.ptr;
	if ((opt.out = open_memstream(&text, &len))) {
		once(PLAN, d->cfg, d->aws, repo, head, &opt, &o);
		fclose(opt.out);
		buf_put(out, text, len);
		buf_release(&o.changes);
	}
	free(text);
	buf_release(&changes);
	buf_release(&heading);
}

static void promoter_restart(struct daemon *d)
{
	struct promote_options po = { 0 };

	promoter_free(d->promoter);
	d->promoter = NULL;
	if (!d->cfg->promotion)
		return;
	po.cfg = d->cfg;
	po.aws = d->aws;
	po.m = d->m;
	po.plan = promotion_plan;
	po.payload = d;
	promoter_new(&d->promoter, &po);
	memset(&d->promoted, 0, sizeof(d->promoted));
}

/* the registry poll, every promotion.interval, by the leader */
static void promote(struct daemon *d, const char *repo)
{
	const struct config_promotion *pr = d->cfg->promotion;
	long every = pr && pr->interval ? pr->interval_seconds :
					  d->cfg->source->interval_seconds;

	if (!d->promoter || !lease_may_write(d->lease) ||
	    (d->promoted.tv_sec && seconds_since(&d->promoted) < every - 1))
		return;
	clock_gettime(CLOCK_MONOTONIC, &d->promoted);
	if (!gitsrc_is_url(d->cfg->source->url)) {
		log_msg(LOG_WARN, NULL, NULL,
			"promotion: needs a remote source (a URL) to push "
			"to; '%s' is a local path",
			d->cfg->source->url);
		return;
	}
	/* committed straight to the branch: deploy it now */
	if (promoter_poll(d->promoter, repo) > 0 &&
	    pr->mode == CONFIG_PROMOTION_COMMIT) {
		pthread_mutex_lock(&d->lock);
		d->now = true;
		d->why = "promotion";
		pthread_mutex_unlock(&d->lock);
	}
}

/* SIGHUP: a new config, if it is valid; the old one stays otherwise. */
static void reload(struct daemon *d)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct aws_client *aws = NULL;
	struct err e = ERR_INIT;
	size_t i;

	if (config_load(&cfg, d->config_path, &diags) < 0 || !cfg->source) {
		for (i = 0; i < diags.n; i++)
			log_msg(LOG_ERROR, NULL, diags.items[i].file,
				"%d:%d: %s", diags.items[i].line,
				diags.items[i].col, diags.items[i].msg);
		log_msg(LOG_ERROR, NULL, NULL,
			"reload: %s is not valid; the running config is kept",
			d->config_path);
		goto out;
	}
	if (aws_for(&aws, cfg, d->m, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL,
			"reload: %s; the running config is kept", e.msg);
		goto out;
	}
	/* swap: the old ones are freed below; the notifier borrows them */
	notifier_stop(d->notifier);
	d->notifier = NULL;
	{
		struct config *c = d->cfg;
		struct aws_client *a = d->aws;

		d->cfg = cfg;
		d->aws = aws;
		cfg = c;
		aws = a;
	}
	notifier_start(&d->notifier, d->cfg, d->aws, d->m);
	promoter_restart(d);
	if (!same_server(d, cfg) && serve(d, &e) < 0)
		log_msg(LOG_ERROR, NULL, NULL, "reload: %s", e.msg);
	log_msg(LOG_INFO, NULL, NULL, "reloaded %s: following %s every %lds",
		d->config_path, d->cfg->source->url,
		d->cfg->source->interval_seconds);
out:
	aws_client_free(aws);
	config_free(cfg);
	diag_release(&diags);
}

/*
 * One cycle: fetch the source, choose the revision to apply, apply it;
 * whether a revision was reconciled (false: no source to read yet).
 * The head of the followed branch (or tag) is applied unless it is not
 * signed by an allowed signer, or it does not descend from the revision
 * last applied (a force-push), or it is gone (a deleted branch): then the
 * revision last applied is reconciled instead, so the live state stays
 * as it was (drift still healed), and the refusal is logged and counted.
 */
/* reconcile.rollback: revert-commit, after a restore */
/* Returns whether the revert commit was pushed. */
static bool revert(const char *repo, const struct config *cfg, const char *head,
		   const char *good, const char *reason)
{
	struct err e = ERR_INIT;
	char id[41];

	if (source_revert(repo, cfg, head, good, reason, id, &e) < 0) {
		log_msg(LOG_ERROR, head, NULL,
			"the revert commit is not pushed: %s; the live state "
			"stays on the last good revision %.7s",
			e.msg, good);
		return false;
	}
	log_msg(LOG_INFO, id, NULL,
		"pushed a revert commit: the branch again equals what runs "
		"(%.7s)",
		good);
	return true;
}

/* A deploy outcome: recorded in Git, and told to the notify targets. */
static void report(struct daemon *d, const char *repo, struct record *rec)
{
	struct notify_event ev;

	if (!lease_may_write(d->lease)) {
		log_msg(LOG_WARN, rec->revision, NULL,
			"not the leader any more: the outcome (%s) is left "
			"to the next leader to record",
			rec->result);
		return;
	}
	source_record(repo, d->cfg, rec);
	ev.event = rec->result;
	ev.revision = rec->revision;
	ev.reason = rec->reason;
	ev.changes = rec->changes;
	ev.controller = d->cfg->name;
	notify_send(d->notifier, &ev);
}

static bool cycle(struct daemon *d, const char *why)
{
	const struct config *cfg = d->cfg;
	struct buf repo = BUF_INIT, who = BUF_INIT, failure = BUF_INIT;
	struct err e = ERR_INIT;
	struct once_options apply = { .lease = d->lease };
	struct outcome o;
	struct record rec;
	struct timespec t0;
	char head[41] = "", last[41];
	const char *target = NULL, *result;
	const char *labels[] = { "result", NULL, NULL };
	bool reconciled = false;
	int git;

	if (d->lease && !lease_may_write(d->lease)) {
		log_msg(LOG_DEBUG, NULL, NULL, "standby: not reconciling");
		return true; /* a standby is ready: it does its part */
	}
	log_msg(LOG_INFO, NULL, NULL, "reconcile started (%s)", why);
	memset(&rec, 0, sizeof(rec));
	record_now(rec.started);
	last[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gitsrc_is_url(cfg->source->url)) {
		if (source_fetch(cfg, &e) < 0) {
			metrics_add(d->m, "sagesync_git_fetch_errors_total",
				    NULL, 1);
			log_msg(LOG_ERROR, NULL, NULL,
				"fetch: %s; reconciling what was fetched "
				"before",
				e.msg);
			err_clear(&e);
		}
		metrics_observe(d->m, "sagesync_git_fetch_duration_seconds",
				NULL, seconds_since(&t0));
	}
	if ((git = source_repo(&repo, cfg, &e)) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "source: %s", e.msg);
		result = "failed";
		goto out;
	}
	source_last_good(git ? repo.ptr : NULL, cfg, last);
	/* it comes from this controller's authenticated records; with
	 * signatures on it must still verify, so that removing a key from
	 * the allowed signers retires what it signed */
	if (git && last[0] && cfg->source->verify &&
	    source_verify(repo.ptr, cfg, last, &who, &e) < 0) {
		refused(d, "unsigned");
		log_msg(LOG_ERROR, last, NULL,
			"the last good revision in the records is not signed "
			"by an allowed signer (%s): it is not trusted, and "
			"never applied or restored",
			e.msg);
		err_clear(&e);
		last[0] = '\0';
	}
	err_clear(&e);
	if (git && source_resolve(repo.ptr, cfg, NULL, head, &e) < 0) {
		refused(d, "missing");
		log_msg(LOG_ERROR, NULL, NULL, "source: %s; %s%.7s", e.msg,
			last[0] ? "keeping the live state of " :
				  "nothing to apply",
			last);
		err_clear(&e);
		head[0] = '\0';
	}
	target = git ? head : NULL;
	if (git && head[0] && last[0] && strcmp(head, last) &&
	    gitsrc_descends(repo.ptr, head, last, &e) != 1) {
		refused(d, "force-push");
		log_msg(LOG_ERROR, head, NULL,
			"the source was rewritten (force-pushed): %.7s does "
			"not descend from %.7s, the revision applied last; it "
			"is not applied. Review it, then apply it with "
			"`sagesync apply --once --revision %.7s`%s%s",
			head, last, head, e.code ? ": " : "",
			e.code ? e.msg : "");
		err_clear(&e);
		head[0] = '\0';
	}
	/* a head that is the last good revision was verified just above */
	if (git && head[0] && cfg->source->verify && strcmp(head, last)) {
		buf_clear(&who);
		if (source_verify(repo.ptr, cfg, head, &who, &e) < 0) {
			refused(d, "unsigned");
			log_msg(LOG_ERROR, head, NULL,
				"not applied: %s; %s%.7s", e.msg,
				last[0] ? "keeping the live state of " :
					  "nothing is applied",
				last);
			err_clear(&e);
			head[0] = '\0';
		} else {
			log_msg(LOG_INFO, head, NULL,
				"signature verified: signed by %s", who.ptr);
		}
	}
	if (git && head[0] && strcmp(head, last) &&
	    source_failed_before(repo.ptr, cfg, head, &failure)) {
		refused(d, "failed-before");
		log_msg(LOG_INFO, head, NULL,
			"not retried: its deploy failed (%s); a newer commit "
			"deploys normally%s%.7s",
			failure.ptr, last[0] ? "; keeping " : "", last);
		head[0] = '\0';
	}
	if (git && !head[0]) {
		if (!last[0]) {
			result = "refused";
			goto out;
		}
		target = last;
	}
	reconciled = true;
	if (target)
		snprintf(rec.revision, sizeof(rec.revision), "%s", target);
	snprintf(rec.last_good, sizeof(rec.last_good), "%s", last);
	if (once(RUN, cfg, d->aws, repo.ptr, target, &apply, &o) == CMD_OK) {
		/* the head refused, the last revision reconciled instead */
		result = target == last ? "refused" : "success";
		if (target == head)
			source_applied_set(cfg, target);
		/* a new good revision, or drift put back: a record (drift
		 * only reported, without selfHeal, changed nothing) */
		if (target && (strcmp(target, last) || o.n_applied)) {
			snprintf(rec.result, sizeof(rec.result), "%s",
				 strcmp(target, last) ? "succeeded" :
							"drift-healed");
			rec.changes = o.changes.ptr;
			report(d, repo.ptr, &rec);
		}
	} else if (o.unhealthy && target == head) {
		/* a failed deploy: never again, and back to the last good */
		snprintf(rec.result, sizeof(rec.result), "%s",
			 last[0] ? "rolled-back" : "failed");
		rec.reason = o.reason;
		rec.changes = o.changes.ptr;
		report(d, repo.ptr, &rec);
		result = "rolled-back";
		log_msg(LOG_ERROR, head, NULL, "deploy failed: %s; %s%.7s",
			o.reason,
			last[0] ? "restoring the last good revision " :
				  "there is no good revision to restore",
			last);
		if (last[0]) {
			struct once_options restore = { .restore = true,
							.lease = d->lease };
			struct outcome r;

			target = last;
			if (once(RUN, cfg, d->aws, repo.ptr, last, &restore,
				 &r) == CMD_OK) {
				log_msg(LOG_INFO, last, NULL,
					"restored the last good revision");
				if (cfg->reconcile &&
				    cfg->reconcile->rollback ==
					    CONFIG_ROLLBACK_REVERT_COMMIT &&
				    lease_may_write(d->lease) &&
				    revert(repo.ptr, cfg, head, last,
					   o.reason)) {
					/* the revert is the new head: applied
					 * (nothing changes) and recorded good
					 * by the next reconcile, at once */
					pthread_mutex_lock(&d->lock);
					d->now = true;
					d->why = "revert";
					pthread_mutex_unlock(&d->lock);
				}
			} else
				log_msg(LOG_ERROR, last, NULL,
					"restoring the last good revision "
					"failed; the next reconcile tries "
					"again");
			buf_release(&r.changes);
		} else {
			result = "failed";
		}
	} else {
		result = o.invalid ? "invalid" : "failed";
	}
	if (target) {
		const char *rev[] = { "revision", target, NULL };

		metrics_replace(d->m, "sagesync_last_applied_revision_info",
				rev, 1);
		if (o.applied)
			metrics_replace(d->m,
					"sagesync_last_good_revision_info", rev,
					1);
	}
	if (o.drifts)
		metrics_add(d->m, "sagesync_drift_detected_total", NULL,
			    (double)o.drifts);
	buf_release(&o.changes);
	if (git)
		promote(d, repo.ptr);
out:
	labels[1] = result;
	metrics_add(d->m, "sagesync_reconcile_total", labels, 1);
	metrics_observe(d->m, "sagesync_reconcile_duration_seconds", NULL,
			seconds_since(&t0));
	buf_release(&repo);
	buf_release(&who);
	buf_release(&failure);
	return reconciled;
}

/*
 * `sagesync run`: reconcile at once, then every source.interval (with
 * 10% jitter, so replicas and many controllers do not beat in step) or
 * as soon as a webhook push arrives; serve HTTP; SIGHUP reloads the
 * config; exit 0 on SIGTERM once the reconcile in flight is done.
 */
/* the registry poll between reconciles: fetch, then promote; false: it
 * reconciled nothing (readiness waits for a reconcile) */
static bool promote_only(struct daemon *d)
{
	struct buf repo = BUF_INIT;
	struct err e = ERR_INIT;

	if (!d->promoter || !lease_may_write(d->lease))
		return false;
	if (!gitsrc_is_url(d->cfg->source->url))
		promote(d, d->cfg->source->url); /* says why it cannot */
	else if (source_fetch(d->cfg, &e) < 0)
		log_msg(LOG_WARN, NULL, NULL, "promotion: fetch: %s", e.msg);
	else if (source_repo(&repo, d->cfg, &e) == 1)
		promote(d, repo.ptr);
	buf_release(&repo);
	return false;
}

static int daemon_loop(const char *config_path, struct config *cfg)
{
	struct daemon d;
	struct err e = ERR_INIT;
	pthread_t sig;
	int rc = CMD_OK;

	memset(&d, 0, sizeof(d));
	d.config_path = config_path;
	d.cfg = cfg;
	d.why = "start";
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.wake, NULL);
	sigemptyset(&d.signals);
	sigaddset(&d.signals, SIGTERM);
	sigaddset(&d.signals, SIGINT);
	sigaddset(&d.signals, SIGHUP);
	/* before any thread: every thread inherits the blocked set */
	pthread_sigmask(SIG_BLOCK, &d.signals, NULL);
	pthread_create(&sig, NULL, signal_thread, &d);
	metrics_new(&d.m);
	declare_metrics(d.m);
	notify_declare_metrics(d.m);
	promote_declare_metrics(d.m);
	if (aws_for(&d.aws, cfg, d.m, &e) < 0 || serve(&d, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "%s", e.msg);
		rc = CMD_FAILED;
		wake(&d, SIGTERM);
	} else {
		notifier_start(&d.notifier, d.cfg, d.aws, d.m);
		promoter_restart(&d);
	}
	metrics_set(d.m, "sagesync_leader", NULL, cfg->leader_election ? 0 : 1);
	if (cfg->leader_election && rc == CMD_OK) {
		const struct config_leader *le = cfg->leader_election;
		struct lease_options lo = { 0 };

		lo.table = le->table;
		lo.key = cfg->name ? cfg->name : "sagesync";
		lo.lease_ms =
			(le->lease_seconds.set ? le->lease_seconds.v : 30) *
			1000;
		lo.renew_ms =
			(le->renew_seconds.set ? le->renew_seconds.v : 10) *
			1000;
		lo.changed = leader_changed;
		lo.payload = &d;
		if (aws_for(&d.lease_aws, cfg, d.m, &e) < 0 ||
		    lease_start(&d.lease, d.lease_aws, &lo, &e) < 0) {
			log_msg(LOG_ERROR, NULL, NULL, "leader election: %s",
				e.msg);
			rc = CMD_FAILED;
			wake(&d, SIGTERM);
		}
	}
	if (rc == CMD_OK)
		log_msg(LOG_INFO, NULL, NULL, "following %s%s%s every %lds",
			cfg->source->url, cfg->source->branch ? " branch " : "",
			cfg->source->branch ? cfg->source->branch : "",
			cfg->source->interval_seconds);
	if (rc == CMD_OK && cfg->source->verify && cfg->leader_election &&
	    !(cfg->history && cfg->history->key_file))
		log_msg(LOG_WARN, NULL, NULL,
			"source.verify with leaderElection and no "
			"history.keyFile: each replica authenticates its "
			"records with its own key (stateDir/records.key), so "
			"after a failover the new leader does not trust the "
			"old one's records and knows no last good revision; "
			"give every replica one key in history.keyFile");
	struct timespec last = { 0, 0 }; /* the last reconcile (monotonic) */

	for (;;) {
		struct timespec until;
		long interval, wait_ms;
		const char *why;
		bool again, reconciled;

		pthread_mutex_lock(&d.lock);
		again = !d.stop;
		d.now = false;
		why = d.why;
		d.why = "interval";
		if (d.reload) {
			d.reload = false;
			pthread_mutex_unlock(&d.lock);
			reload(&d);
		} else {
			pthread_mutex_unlock(&d.lock);
		}
		if (!again)
			break;
		/* woken for the registry poll alone: no reconcile before
		 * source.interval (give or take its 10%) */
		if (!strcmp(why, "interval") && last.tv_sec &&
		    seconds_since(&last) <
			    d.cfg->source->interval_seconds * 0.9) {
			reconciled = promote_only(&d);
		} else {
			reconciled = cycle(&d, why);
			clock_gettime(CLOCK_MONOTONIC, &last);
		}

		/* the next one: the interval, give or take 10% (the
		 * registry's, when it is polled more often) */
		interval = d.cfg->source->interval_seconds;
		if (d.cfg->promotion && d.cfg->promotion->interval &&
		    d.cfg->promotion->interval_seconds < interval)
			interval = d.cfg->promotion->interval_seconds;
		wait_ms = interval * 900 +
			  (long)arc4random_uniform(
				  (uint32_t)(interval * 200 + 1));
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&d.lock);
		/* ready: the source was read and a reconcile of it ended */
		d.ready = d.ready || reconciled;
		while (!d.stop && !d.now &&
		       pthread_cond_timedwait(&d.wake, &d.lock, &until) == 0)
			;
		pthread_mutex_unlock(&d.lock);
	}
	notifier_stop(d.notifier);
	promoter_free(d.promoter);
	lease_stop(d.lease);
	aws_client_free(d.lease_aws);
	httpd_stop(d.h);
	/* stopping on our own (a failed start): the signal thread still
	 * waits for a signal, so it gets one */
	pthread_mutex_lock(&d.lock);
	if (!d.signalled)
		pthread_kill(sig, SIGTERM);
	pthread_mutex_unlock(&d.lock);
	pthread_join(sig, NULL);
	if (d.aws) {
		struct aws_stats st;

		aws_client_stats(d.aws, &st);
		log_msg(LOG_INFO, NULL, NULL,
			"aws calls: %lu (%lu retries, %lu throttled)", st.calls,
			st.retries, st.throttles);
	}
	aws_client_free(d.aws);
	metrics_free(d.m);
	free(d.github);
	free(d.gitlab);
	config_free(d.cfg);
	pthread_cond_destroy(&d.wake);
	pthread_mutex_destroy(&d.lock);
	log_msg(LOG_INFO, NULL, NULL, "stopped");
	return rc;
}

/* what the command line asked for */
struct cli_args {
	const char *rev; /* --revision, --head, or rollback's --to */
	const char *base; /* plan --base */
	const char *reason; /* rollback --reason */
	enum output output;
	bool mass; /* --allow-mass-prune */
};

/*
 * The CLI's reconcile: fetch a remote source, choose the revision, check
 * its signature (apply refuses an unsigned one; plan and status say so),
 * then plan, apply or list.
 */
static int cli(enum mode mode, const struct config *cfg, struct aws_client *aws,
	       const struct cli_args *a)
{
	struct buf repo = BUF_INIT, who = BUF_INIT, why = BUF_INIT;
	struct buf base_changes = BUF_INIT, heading = BUF_INIT;
	struct once_options opt = { .mass = a->mass, .output = a->output };
	const char *rev = a->rev, *reason = a->reason;
	struct err e = ERR_INIT;
	struct outcome o;
	struct record rec;
	char commit[41] = "", good[41] = "", applied[41] = "", base[41] = "";
	int git, rc = CMD_FAILED;

	memset(&rec, 0, sizeof(rec));
	memset(&o, 0, sizeof(o));
	record_now(rec.started);

	if (gitsrc_is_url(cfg->source->url) && source_fetch(cfg, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "fetch: %s", e.msg);
		goto out;
	}
	if ((git = source_repo(&repo, cfg, &e)) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "source: %s", e.msg);
		goto out;
	}
	if (!git && (rev || a->base)) {
		log_msg(LOG_ERROR, NULL, NULL,
			"--%s needs a Git repository; '%s' is a plain "
			"directory",
			a->base ? "base" : "revision", repo.ptr);
		goto out;
	}
	if (a->base && source_resolve(repo.ptr, cfg, a->base, base, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "source '%s': --base: %s",
			cfg->source->url, e.msg);
		goto out;
	}
	if (git && source_resolve(repo.ptr, cfg, rev, commit, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "source '%s': revision: %s",
			cfg->source->url, e.msg);
		goto out;
	}
	if (git && cfg->source->verify &&
	    source_verify(repo.ptr, cfg, commit, &who, &e) < 0) {
		if (mode == APPLY || mode == ROLLBACK) {
			log_msg(LOG_ERROR, commit, NULL, "not applied: %s",
				e.msg);
			goto out;
		}
		log_msg(LOG_WARN, commit, NULL,
			"%s: the daemon would not apply it", e.msg);
	}
	/* a rollback goes back to what this controller deployed and found
	 * healthy, as its records say; anything else is an apply */
	if (git && mode == ROLLBACK &&
	    !source_was_good(repo.ptr, cfg, commit)) {
		log_msg(LOG_ERROR, commit, NULL,
			"not rolled back: %.7s was never recorded good by "
			"this controller (%s); a rollback goes only to a "
			"revision it deployed healthy (see sagesync history); "
			"to deploy another, use apply --once --revision",
			commit, cfg->name);
		goto out;
	}
	if (git) {
		source_last_good(repo.ptr, cfg, good);
		source_applied_get(cfg, applied);
	}
	if (mode == STATUS && git)
		printf("last good revision: %s\nlast applied revision: %s\n",
		       good[0] ? good : "(none)",
		       applied[0] ? applied : "(none)");
	opt.restore = mode == ROLLBACK;
	if (base[0]) {
		plan_base(&base_changes, &heading, cfg, aws, repo.ptr, base,
			  commit, a->output == OUTPUT_TEXT);
		opt.base_changes = base_changes.ptr;
	} else if (mode == PLAN) {
		buf_printf(&heading, "### sagesync plan: `%s` at `%.7s`",
			   cfg->name, git ? commit : "(a plain directory)");
	}
	opt.heading = heading.ptr;
	rc = once(mode, cfg, aws, repo.ptr, git ? commit : NULL, &opt, &o);
	if (!git || (mode != APPLY && mode != ROLLBACK))
		goto out;
	/* the record: an apply by hand or a rollback, like the daemon's */
	snprintf(rec.revision, sizeof(rec.revision), "%s", commit);
	snprintf(rec.last_good, sizeof(rec.last_good), "%s", good);
	rec.changes = o.changes.ptr;
	if (rc == CMD_OK) {
		source_applied_set(cfg, commit);
		snprintf(rec.result, sizeof(rec.result), "succeeded");
		if (mode == ROLLBACK) {
			buf_printf(&why, "rollback by hand%s%.7s: %s",
				   good[0] ? " from " : "", good, reason);
			rec.reason = why.ptr;
		}
		source_record(repo.ptr, cfg, &rec);
		/* the revision rolled back from is not applied again */
		if (mode == ROLLBACK && good[0] && strcmp(good, commit)) {
			struct record from;

			memset(&from, 0, sizeof(from));
			snprintf(from.result, sizeof(from.result),
				 "rolled-back");
			snprintf(from.revision, sizeof(from.revision), "%s",
				 good);
			snprintf(from.last_good, sizeof(from.last_good), "%s",
				 commit);
			snprintf(from.started, sizeof(from.started), "%s",
				 rec.started);
			buf_clear(&why);
			buf_printf(&why, "rolled back by hand to %.7s: %s",
				   commit, reason);
			from.reason = why.ptr;
			source_record(repo.ptr, cfg, &from);
		}
	} else if (o.unhealthy) {
		snprintf(rec.result, sizeof(rec.result), "failed");
		rec.reason = o.reason;
		source_record(repo.ptr, cfg, &rec);
	}
out:
	buf_release(&o.changes);
	buf_release(&repo);
	buf_release(&who);
	buf_release(&why);
	buf_release(&base_changes);
	buf_release(&heading);
	return rc;
}

static int run(enum mode mode, const char *path, const struct cli_args *a)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct aws_client *aws = NULL;
	struct aws_options aopt = { 0 };
	struct err e = ERR_INIT;
	struct aws_stats st;
	int rc = CMD_FAILED;

	if (config_load(&cfg, path, &diags) < 0) {
		diag_print(&diags, stderr);
		goto out;
	}
	if (!cfg->source) {
		log_msg(LOG_ERROR, NULL, NULL, "%s: no 'source' configured",
			cfg->file);
		goto out;
	}
	if (mode == RUN) {
		rc = daemon_loop(path, cfg);
		cfg = NULL; /* the daemon's now, freed there */
		goto out;
	}
	config_aws_options(cfg, &aopt);
	if (aws_client_new(&aws, &aopt, &e) < 0) {
		log_msg(LOG_ERROR, NULL, NULL, "%s", e.msg);
		goto out;
	}
	rc = cli(mode, cfg, aws, a);
out:
	fflush(stdout); /* the plan before the summary, even in a pipe */
	if (aws) {
		aws_client_stats(aws, &st);
		fprintf(stderr, "aws calls: %lu (%lu retries, %lu throttled)\n",
			st.calls, st.retries, st.throttles);
	}
	aws_client_free(aws);
	config_free(cfg);
	diag_release(&diags);
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
		{ "log-format", required_argument, NULL, 'L' },
		{ "to", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'R' },
		{ "base", required_argument, NULL, 'B' },
		{ "head", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = mode == PLAN     ? plan_usage :
			    mode == APPLY    ? apply_usage :
			    mode == RUN	     ? run_usage :
			    mode == ROLLBACK ? rollback_usage :
					       status_usage;
	const char *path = NULL, *to = NULL, *head = NULL;
	struct cli_args a = { .output = OUTPUT_TEXT };
	bool once = false;
	enum log_format lf = mode == RUN ? LOG_JSON : LOG_TEXT;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'r':
			a.rev = optarg;
			break;
		case 'B':
			a.base = optarg;
			break;
		case 'H':
			head = optarg;
			break;
		case 'o':
			if (mode != PLAN)
				return cmd_usage_error(usage);
			if (!strcmp(optarg, "json"))
				a.output = OUTPUT_JSON;
			else if (!strcmp(optarg, "markdown"))
				a.output = OUTPUT_MARKDOWN;
			else if (strcmp(optarg, "text"))
				return cmd_usage_error(usage);
			break;
		case 'O':
			once = true;
			break;
		case 'M':
			a.mass = true;
			break;
		case 't':
			to = optarg;
			break;
		case 'R':
			a.reason = optarg;
			break;
		case 'L':
			if (log_parse_format(optarg, &lf) < 0)
				return cmd_usage_error(usage);
			break;
		case 'h':
			fputs(usage, stdout);
			return CMD_OK;
		default:
			return cmd_usage_error(usage);
		}
	}
	if (!path || optind != argc || (mode == APPLY && !once) ||
	    (mode != APPLY && (once || a.mass)))
		return cmd_usage_error(usage);
	if ((mode == ROLLBACK) != (to && a.reason) ||
	    (mode == ROLLBACK && a.rev))
		return cmd_usage_error(usage);
	/* --head is plan's name for --revision, beside --base; options a
	 * command would ignore are errors, not silence */
	if ((mode != PLAN && (a.base || head)) || (head && a.rev) ||
	    (mode != ROLLBACK && (to || a.reason)) || (mode == RUN && a.rev))
		return cmd_usage_error(usage);
	if (head)
		a.rev = head;
	if (mode == ROLLBACK)
		a.rev = to;
	log_set_format(lf);
	return run(mode, path, &a);
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

int cmd_rollback(int argc, char **argv)
{
	return command(ROLLBACK, argc, argv);
}

int cmd_run(int argc, char **argv)
{
	return command(RUN, argc, argv);
}
