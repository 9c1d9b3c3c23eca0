/*
 * `sagesync plan`, `sagesync apply --once` and `sagesync status`: one
 * reconcile of the configured source against AWS, from the command line.
 * The source is local for now (source.url a path or file:// URL,
 * source.path inside it): a Git repository, read at a revision, or a plain
 * directory; the daemon and remote Git sources come with `sagesync run`.
 */
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "metrics.h"
#include "manifest.h"

enum mode { PLAN, APPLY, STATUS, RUN };

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

static const char run_usage[] =
	"usage: sagesync run --config FILE\n"
	"\n"
	"The controller: reconciles the source at once, then every\n"
	"source.interval (with 10% jitter) or as soon as a signed webhook push\n"
	"arrives, and serves /healthz, /readyz, /metrics and the webhooks on\n"
	"server.listen. SIGTERM or SIGINT finishes the reconcile in flight\n"
	"and exits 0; SIGHUP reconciles at once.\n"
	"\n"
	"example:\n"
	"  sagesync run --config /etc/sagesync/config.yaml\n";

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

/* One reconcile of the configured source: plan, print, maybe apply. */
static int once(enum mode mode, const struct config *cfg,
		struct aws_client *aws, const char *rev, bool json, bool mass)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct engine *en = NULL;
	struct engine_options eopt = { 0 };
	struct err e = ERR_INIT;
	const struct plan *p;
	char commit[41];
	int rc = CMD_FAILED;

	if (load_source(&set, commit, cfg, rev, &diags) < 0) {
		diag_print(&diags, stderr);
		if (diags.n)
			fprintf(stderr, "sagesync: the revision has errors; "
					"nothing is applied\n");
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
	if (mode == APPLY || mode == RUN) {
		if (engine_apply(en, &e) < 0) {
			fprintf(stderr, "sagesync: apply: %s\n", e.msg);
			goto out;
		}
		printf("applied: everything is healthy\n");
		rc = CMD_OK;
	}
out:
	fflush(stdout);
	engine_free(en);
	manifest_set_free(set);
	diag_release(&diags);
	return rc;
}

/* ---- the daemon ---------------------------------------------------------- */

struct daemon {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* SIGTERM or SIGINT: finish this reconcile, then exit */
	bool now; /* a webhook push or SIGHUP: reconcile without waiting */
	bool ready; /* a reconcile has finished */
	sigset_t signals;
};

static void wake(struct daemon *d, bool stop)
{
	pthread_mutex_lock(&d->lock);
	if (stop)
		d->stop = true;
	else
		d->now = true;
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
		wake(d, sig != SIGHUP);
		if (sig != SIGHUP)
			return NULL;
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
	wake(payload, false);
}

/* a secret file's content, without the trailing newline; NULL if none */
static char *read_secret(const char *path)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (!path)
		return NULL;
	if (file_read(&b, path, 4096, &e) < 0) {
		fprintf(stderr, "sagesync: %s\n", e.msg);
		buf_release(&b);
		return NULL;
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	return buf_detach(&b);
}

/*
 * `sagesync run`: reconcile at once, then every source.interval (with
 * 10% jitter, so replicas and many controllers do not beat in step) or
 * as soon as a webhook push arrives; serve HTTP; exit 0 on SIGTERM once
 * the reconcile in flight is done.
 */
static int daemon_loop(const struct config *cfg, struct aws_client *aws)
{
	static const double bounds[] = { 0.5, 1, 2, 5, 10, 30, 60, 300, 900 };
	struct daemon d;
	struct metrics *m = NULL;
	struct httpd *h = NULL;
	struct httpd_options hopt = { 0 };
	struct err e = ERR_INIT;
	pthread_t sig;
	char *github = NULL, *gitlab = NULL;
	long interval = cfg->source->interval_seconds;
	int rc = CMD_OK;

	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.wake, NULL);
	sigemptyset(&d.signals);
	sigaddset(&d.signals, SIGTERM);
	sigaddset(&d.signals, SIGINT);
	sigaddset(&d.signals, SIGHUP);
	/* before any thread: every thread inherits the blocked set */
	pthread_sigmask(SIG_BLOCK, &d.signals, NULL);
	pthread_create(&sig, NULL, signal_thread, &d);
	metrics_new(&m);
	metrics_declare(m, "sagesync_reconcile_total", METRICS_COUNTER,
			"Reconciles by result.");
	metrics_declare_histogram(m, "sagesync_reconcile_duration_seconds",
				  "How long reconciles took.", bounds,
				  sizeof(bounds) / sizeof(bounds[0]));
	metrics_declare(m, "sagesync_aws_calls_total", METRICS_COUNTER,
			"AWS requests sent, retries included.");
	metrics_declare(m, "sagesync_aws_throttles_total", METRICS_COUNTER,
			"AWS answers that were throttling.");
	httpd_declare_metrics(m);
	if (cfg->server && cfg->server->listen) {
		github = read_secret(cfg->server->github_secret_file);
		gitlab = read_secret(cfg->server->gitlab_token_file);
		hopt.listen = cfg->server->listen;
		hopt.github_secret = github;
		hopt.github_secret_len = github ? strlen(github) : 0;
		hopt.gitlab_token = gitlab;
		hopt.gitlab_token_len = gitlab ? strlen(gitlab) : 0;
		hopt.branch = cfg->source->branch ? cfg->source->branch :
						    "main";
		hopt.metrics = m;
		hopt.ready = daemon_ready;
		hopt.on_fetch = daemon_fetch;
		hopt.payload = &d;
		if (httpd_start(&h, &hopt, &e) < 0) {
			fprintf(stderr, "sagesync: %s\n", e.msg);
			rc = CMD_FAILED;
			wake(&d, true);
		} else {
			fprintf(stderr, "sagesync: serving on port %d\n",
				httpd_port(h));
		}
	}
	for (;;) {
		struct timespec t0, t1, until;
		struct aws_stats before, after;
		const char *labels[] = { "result", NULL, NULL };
		long wait_ms;
		int r;

		pthread_mutex_lock(&d.lock);
		if (d.stop) {
			pthread_mutex_unlock(&d.lock);
			break;
		}
		d.now = false;
		pthread_mutex_unlock(&d.lock);

		aws_client_stats(aws, &before);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = once(RUN, cfg, aws, NULL, false, false);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		aws_client_stats(aws, &after);
		labels[1] = r == CMD_OK ? "success" : "failed";
		metrics_add(m, "sagesync_reconcile_total", labels, 1);
		metrics_observe(m, "sagesync_reconcile_duration_seconds", NULL,
				(double)(t1.tv_sec - t0.tv_sec) +
					(double)(t1.tv_nsec - t0.tv_nsec) /
						1e9);
		metrics_add(m, "sagesync_aws_calls_total", NULL,
			    (double)(after.calls - before.calls));
		metrics_add(m, "sagesync_aws_throttles_total", NULL,
			    (double)(after.throttles - before.throttles));

		/* the next one: the interval, give or take 10% */
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
		d.ready = true;
		while (!d.stop && !d.now &&
		       pthread_cond_timedwait(&d.wake, &d.lock, &until) == 0)
			;
		pthread_mutex_unlock(&d.lock);
	}
	httpd_stop(h);
	pthread_join(sig, NULL);
	metrics_free(m);
	free(github);
	free(gitlab);
	pthread_cond_destroy(&d.wake);
	pthread_mutex_destroy(&d.lock);
	fprintf(stderr, "sagesync: stopped\n");
	return rc;
}

static int run(enum mode mode, const char *path, const char *rev, bool json,
	       bool mass)
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
		fprintf(stderr, "sagesync: %s: no 'source' configured\n",
			cfg->file);
		goto out;
	}
	config_aws_options(cfg, &aopt);
	if (aws_client_new(&aws, &aopt, &e) < 0) {
		fprintf(stderr, "sagesync: %s\n", e.msg);
		goto out;
	}
	rc = mode == RUN ? daemon_loop(cfg, aws) :
			   once(mode, cfg, aws, rev, json, mass);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = mode == PLAN  ? plan_usage :
			    mode == APPLY ? apply_usage :
			    mode == RUN	  ? run_usage :
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

int cmd_run(int argc, char **argv)
{
	return command(RUN, argc, argv);
}
