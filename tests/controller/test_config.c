/*
 * Unit tests for controller/config: config_load() on the example of
 * DESIGN.md section 3, on a minimal file, and on each kind of mistake,
 * with the exact FILE:LINE:COL and the words of each error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../helpers.h"
#include "buf.h"
#include "config.h"

/* DESIGN.md section 3, with real paths in place of its '...' */
static const char design_example[] =
	"name: prod                       # this controller instance\n"
	"stateDir: /var/lib/sagesync      # clone and caches\n"
	"source:\n"
	"  url: https://github.com/acme/ml-deploy.git\n"
	"  branch: main                   # or tag: v1.2 / commit: <sha>\n"
	"  path: environments/prod\n"
	"  interval: 60s\n"
	"  auth: {tokenFile: /run/secrets/git-token, sshKeyFile: "
	"/run/secrets/git-ssh-key, knownHostsFile: "
	"/etc/sagesync/known_hosts}\n"
	"  verify: {allowedSignersFile: /etc/sagesync/allowed_signers}\n"
	"aws:\n"
	"  region: us-east-1\n"
	"  profile: ml-deployer           # optional\n"
	"  endpointUrl: http://127.0.0.1:5000   # optional\n"
	"reconcile: {prune: true, selfHeal: true, bakeSeconds: 300, "
	"rollback: last-good, concurrency: 16}\n"
	"history: {notesRef: refs/notes/sagesync, push: true}\n"
	"server: {listen: \"127.0.0.1:9090\", githubSecretFile: "
	"/run/secrets/github-webhook, gitlabTokenFile: "
	"/run/secrets/gitlab-token}\n"
	"notify:\n"
	"  - {type: slack, urlFile: /run/secrets/slack-url}\n"
	"  - {type: webhook, url: \"https://hooks.example.com/deploys\", "
	"secretFile: /run/secrets/webhook-secret}\n"
	"  - {type: sns, topicArn: "
	"\"arn:aws:sns:us-east-1:111122223333:deploys\"}\n"
	"  - {type: github-status, tokenFile: /run/secrets/github-token}\n"
	"leaderElection: {table: sagesync-leases, leaseSeconds: 30, "
	"renewSeconds: 10}\n";

/* Writes `text` as DIR/config.yaml and puts that path into `path`. */
static void write_config(const struct tmpdir *t, const char *text,
			 struct buf *path)
{
	buf_clear(path);
	buf_printf(path, "%s/config.yaml", t->path);
	tmpdir_write(t, "config.yaml", text);
}

/* Loads `text`, which must load; prints the diagnostics if it does not. */
static struct config *load_ok(const struct tmpdir *t, const char *text)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct buf path = BUF_INIT;

	write_config(t, text, &path);
	if (config_load(&cfg, path.ptr, &d) < 0) {
		diag_print(&d, stderr);
		fail();
	}
	assert_non_null(cfg);
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg->file, path.ptr);
	diag_release(&d);
	buf_release(&path);
	return cfg;
}

/* Loads `text`, which must fail; the diagnostics go into `d`. */
static void load_fail(const struct tmpdir *t, const char *text,
		      struct diag_list *d)
{
	struct config *cfg = NULL;
	struct buf path = BUF_INIT;
	int rc;

	write_config(t, text, &path);
	rc = config_load(&cfg, path.ptr, d);
	buf_release(&path);
	if (rc == 0) {
		config_free(cfg);
		fail_msg("the config loaded; expected errors");
	}
	assert_int_equal(rc, -1);
	assert_null(cfg);
	assert_true(d->n > 0);
}

/*
 * Whether diagnostic `i` is in config.yaml at LINE:COL and says each of
 * `words`; says what differs on stderr if not. The callers release their
 * list before failing, so that a failed test leaks nothing.
 */
static bool diag_is(const struct tmpdir *t, const struct diag_list *d, size_t i,
		    int line, int col, const char *const *words)
{
	struct buf path = BUF_INIT;
	bool ok = true;

	buf_printf(&path, "%s/config.yaml", t->path);
	if (i >= d->n || d->items[i].line != line || d->items[i].col != col ||
	    strcmp(d->items[i].file, path.ptr)) {
		fprintf(stderr, "expected diagnostic %zu at %s:%d:%d; have:\n",
			i, path.ptr, line, col);
		diag_print(d, stderr);
		ok = false;
	}
	for (; ok && *words; words++)
		if (!strstr(d->items[i].msg, *words)) {
			fprintf(stderr, "no '%s' in: %s\n", *words,
				d->items[i].msg);
			ok = false;
		}
	buf_release(&path);
	return ok;
}

/* `text` fails with exactly one error, at LINE:COL, saying `words`. */
static void expect_one(const struct tmpdir *t, const char *text, int line,
		       int col, const char *const *words)
{
	struct diag_list d = DIAG_LIST_INIT;
	bool ok;

	load_fail(t, text, &d);
	ok = d.n == 1;
	if (!ok) {
		fprintf(stderr, "expected one error, found %zu:\n", d.n);
		diag_print(&d, stderr);
	}
	ok = ok && diag_is(t, &d, 0, line, col, words);
	diag_release(&d);
	if (!ok)
		fail();
}

#define EXPECT_ONE(t, text, line, col, ...)                     \
	do {                                                    \
		const char *const w_[] = { __VA_ARGS__, NULL }; \
                                                                \
		expect_one((t), (text), (line), (col), w_);     \
	} while (0)

/* ---- what loads ------------------------------------------------------ */

static void test_config__design_example_loads_every_field(void **state)
{
	struct config *cfg = load_ok(*state, design_example);
	const struct config_source *s = cfg->source;
	const struct config_notify *n = cfg->notify;

	assert_string_equal(cfg->name, "prod");
	assert_string_equal(cfg->state_dir, "/var/lib/sagesync");

	assert_non_null(s);
	assert_string_equal(s->url, "https://github.com/acme/ml-deploy.git");
	assert_string_equal(s->branch, "main");
	assert_null(s->tag);
	assert_null(s->commit);
	assert_string_equal(s->path, "environments/prod");
	assert_string_equal(s->interval, "60s");
	assert_int_equal(s->interval_seconds, 60);
	assert_non_null(s->auth);
	assert_string_equal(s->auth->token_file, "/run/secrets/git-token");
	assert_string_equal(s->auth->ssh_key_file, "/run/secrets/git-ssh-key");
	assert_string_equal(s->auth->known_hosts_file,
			    "/etc/sagesync/known_hosts");
	assert_non_null(s->verify);
	assert_string_equal(s->verify->allowed_signers_file,
			    "/etc/sagesync/allowed_signers");
	assert_null(s->ca_file);

	assert_non_null(cfg->aws);
	assert_string_equal(cfg->aws->region, "us-east-1");
	assert_string_equal(cfg->aws->profile, "ml-deployer");
	assert_string_equal(cfg->aws->endpoint_url, "http://127.0.0.1:5000");

	assert_non_null(cfg->reconcile);
	assert_true(cfg->reconcile->prune.set);
	assert_true(cfg->reconcile->prune.v);
	assert_true(cfg->reconcile->self_heal.set);
	assert_true(cfg->reconcile->self_heal.v);
	assert_true(cfg->reconcile->bake_seconds.set);
	assert_int_equal(cfg->reconcile->bake_seconds.v, 300);
	assert_int_equal(cfg->reconcile->rollback, CONFIG_ROLLBACK_LAST_GOOD);
	assert_int_equal(cfg->reconcile->concurrency.v, 16);
	assert_false(cfg->reconcile->max_prune_percent.set);

	assert_non_null(cfg->history);
	assert_string_equal(cfg->history->notes_ref, "refs/notes/sagesync");
	assert_true(cfg->history->push.set);
	assert_true(cfg->history->push.v);

	assert_non_null(cfg->server);
	assert_string_equal(cfg->server->listen, "127.0.0.1:9090");
	assert_string_equal(cfg->server->github_secret_file,
			    "/run/secrets/github-webhook");
	assert_string_equal(cfg->server->gitlab_token_file,
			    "/run/secrets/gitlab-token");

	assert_int_equal(cfg->n_notify, 4);
	assert_int_equal(n[0].type, CONFIG_NOTIFY_SLACK);
	assert_string_equal(n[0].url_file, "/run/secrets/slack-url");
	assert_null(n[0].url);
	assert_int_equal(n[1].type, CONFIG_NOTIFY_WEBHOOK);
	assert_string_equal(n[1].url, "https://hooks.example.com/deploys");
	assert_string_equal(n[1].secret_file, "/run/secrets/webhook-secret");
	assert_int_equal(n[2].type, CONFIG_NOTIFY_SNS);
	assert_string_equal(n[2].topic_arn,
			    "arn:aws:sns:us-east-1:111122223333:deploys");
	assert_int_equal(n[3].type, CONFIG_NOTIFY_GITHUB_STATUS);
	assert_string_equal(n[3].token_file, "/run/secrets/github-token");

	assert_non_null(cfg->leader_election);
	assert_string_equal(cfg->leader_election->table, "sagesync-leases");
	assert_int_equal(cfg->leader_election->lease_seconds.v, 30);
	assert_int_equal(cfg->leader_election->renew_seconds.v, 10);
	config_free(cfg);
}

static void test_config__minimal_config_loads(void **state)
{
	struct config *cfg = load_ok(*state, "name: prod\n");

	assert_string_equal(cfg->name, "prod");
	assert_null(cfg->state_dir);
	assert_null(cfg->source);
	assert_null(cfg->aws);
	assert_null(cfg->reconcile);
	assert_null(cfg->history);
	assert_null(cfg->server);
	assert_null(cfg->notify);
	assert_int_equal(cfg->n_notify, 0);
	assert_null(cfg->leader_election);
	config_free(cfg);
}

static void test_config__interval_defaults_to_60_seconds(void **state)
{
	struct config *cfg = load_ok(*state, "name: prod\nsource:\n"
					     "  url: /srv/git/deploy.git\n"
					     "  tag: v1.2\n");

	assert_null(cfg->source->interval);
	assert_int_equal(cfg->source->interval_seconds, 60);
	assert_string_equal(cfg->source->tag, "v1.2");
	config_free(cfg);
}

static void test_config__interval_units_and_bounds(void **state)
{
	static const struct {
		const char *text;
		long seconds;
	} ok[] = { { "5s", 5 },	   { "90s", 90 },      { "5m", 300 },
		   { "2h", 7200 }, { "1440m", 86400 }, { "24h", 86400 } };
	struct buf text = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config *cfg;

		buf_clear(&text);
		buf_printf(&text,
			   "name: prod\nsource: {url: /srv/g, "
			   "interval: %s}\n",
			   ok[i].text);
		cfg = load_ok(*state, text.ptr);
		assert_int_equal(cfg->source->interval_seconds, ok[i].seconds);
		config_free(cfg);
	}
	buf_release(&text);
}

static void test_config__token_over_http_is_refused(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: http://git.example.com/r\n"
		   "  auth: {tokenFile: /run/t}\n",
		   3, 8, "source.url: a token is sent only over https://");
	config_free(load_ok(*state, "name: prod\nsource:\n"
				    "  url: http://git.example.com/r\n"));
}

static void test_config__null_section_is_absent(void **state)
{
	struct config *cfg =
		load_ok(*state, "name: prod\naws: ~\nnotify:\nserver: null\n");

	assert_null(cfg->aws);
	assert_null(cfg->server);
	assert_int_equal(cfg->n_notify, 0);
	config_free(cfg);
}

static void test_config__comments_and_document_markers_are_fine(void **state)
{
	struct config *cfg = load_ok(*state, "# the controller\n---\n"
					     "name: prod # inline\n...\n");

	assert_string_equal(cfg->name, "prod");
	config_free(cfg);
}

/* ---- field errors ---------------------------------------------------- */

static void test_config__unknown_top_level_field_suggests(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsoruce:\n  url: https://example.com/r.git\n", 2,
		   1, "unknown field 'soruce'", "did you mean 'source'?");
}

static void test_config__unknown_nested_field_names_its_path(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  auth:\n"
		   "    tokenFiel: /run/secrets/t\n",
		   5, 5, "source.auth: unknown field 'tokenFiel'",
		   "did you mean 'tokenFile'?");
}

static void test_config__unknown_field_far_from_any_lists_them(void **state)
{
	EXPECT_ONE(*state, "name: prod\nhistory: {zzzzzzzz: 1}\n", 2, 11,
		   "history: unknown field 'zzzzzzzz'", "notesRef, push");
}

static void test_config__name_is_required(void **state)
{
	EXPECT_ONE(*state, "stateDir: /var/lib/sagesync\n", 1, 1,
		   "missing required field 'name'");
	EXPECT_ONE(*state, "name: ~\n", 1, 1, "missing required field 'name'");
}

static void test_config__bad_name(void **state)
{
	EXPECT_ONE(*state, "name: prod east\n", 1, 7, "name: \"prod east\"",
		   "is not a valid controller name");
}

static void test_config__bad_region(void **state)
{
	EXPECT_ONE(*state, "name: prod\naws:\n  region: US-East-1\n", 3, 11,
		   "aws.region: \"US-East-1\" is not an AWS region",
		   "like us-east-1");
}

static void test_config__bad_endpoint_url(void **state)
{
	EXPECT_ONE(*state, "name: prod\naws:\n  endpointUrl: localhost:5000\n",
		   3, 16, "aws.endpointUrl: \"localhost:5000\"",
		   "is not an http:// or https:// URL");
}

static void test_config__interval_not_a_duration(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n"
		   "  interval: 60 seconds\n",
		   4, 13, "source.interval: \"60 seconds\" is not a duration",
		   "like 60s or 5m");
}

static void test_config__interval_out_of_range(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  interval: 2s\n", 4,
		   13, "source.interval: expected 5s to 24h, found \"2s\"");
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  interval: 25h\n", 4,
		   13, "source.interval: expected 5s to 24h, found \"25h\"");
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  interval: 4s\n", 4,
		   13, "expected 5s to 24h");
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  interval: 1441m\n", 4,
		   13, "expected 5s to 24h");
	/* as many digits as the rule lets through: no overflow */
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n"
		   "  interval: 999999999999999h\n",
		   4, 13, "expected 5s to 24h");
}

static void test_config__source_url_is_required(void **state)
{
	EXPECT_ONE(*state, "name: prod\nsource:\n  branch: main\n", 2, 1,
		   "source: missing required field 'url'");
}

/*
 * Two fields that exclude each other: the error points at the key of the
 * one too many (docs/manifests.md 1.4), as the manifests' checks do.
 */
static void test_config__branch_and_tag_both_set(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n  branch: main\n"
		   "  tag: v1.2\n",
		   5, 3, "source", "'branch'", "'tag'");
}

static void test_config__verify_needs_allowed_signers(void **state)
{
	EXPECT_ONE(*state, "name: prod\nsource:\n  url: /srv/g\n  verify: {}\n",
		   4, 3,
		   "source.verify: missing required field "
		   "'allowedSignersFile'");
}

static void test_config__bad_rollback_suggests(void **state)
{
	EXPECT_ONE(*state, "name: prod\nreconcile: {rollback: last_good}\n", 2,
		   23,
		   "reconcile.rollback: expected one of last-good, "
		   "revert-commit; found \"last_good\"",
		   "did you mean \"last-good\"?");
}

static void test_config__reconcile_numbers_and_booleans(void **state)
{
	EXPECT_ONE(*state, "name: prod\nreconcile:\n  concurrency: 0\n", 3, 16,
		   "reconcile.concurrency: expected an integer from 1 to 256, "
		   "found 0");
	EXPECT_ONE(*state, "name: prod\nreconcile:\n  maxPrunePercent: 101\n",
		   3, 20,
		   "reconcile.maxPrunePercent: expected an integer "
		   "from 0 to 100, found 101");
	EXPECT_ONE(*state, "name: prod\nreconcile:\n  bakeSeconds: \"300\"\n",
		   3, 16, "reconcile.bakeSeconds: expected an integer",
		   "remove the quotes");
	EXPECT_ONE(*state, "name: prod\nreconcile:\n  prune: yes\n", 3, 10,
		   "reconcile.prune: expected true or false, found \"yes\"");
}

static void test_config__renew_must_be_shorter_than_lease(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nleaderElection:\n  table: leases\n"
		   "  leaseSeconds: 30\n  renewSeconds: 30\n",
		   5, 17,
		   "leaderElection.renewSeconds: 30 must be less than "
		   "leaseSeconds 30");
	EXPECT_ONE(*state,
		   "name: prod\nleaderElection:\n  table: leases\n"
		   "  leaseSeconds: 30\n  renewSeconds: 45\n",
		   5, 17, "45 must be less than leaseSeconds 30");
}

static void test_config__leader_election_needs_table(void **state)
{
	EXPECT_ONE(*state, "name: prod\nleaderElection: {leaseSeconds: 30}\n",
		   2, 1, "leaderElection: missing required field 'table'");
}

/*
 * The lease table is a DynamoDB table: 3 to 255 letters, digits, '_', '-'
 * and '.'. A name DynamoDB refuses should fail here, not in the daemon.
 */
static void test_config__bad_lease_table_name(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nleaderElection:\n  table: sagesync leases\n", 3,
		   10, "leaderElection.table: \"sagesync leases\"");
	EXPECT_ONE(*state, "name: prod\nleaderElection:\n  table: ab\n", 3, 10,
		   "leaderElection.table: \"ab\"");
}

static void test_config__bad_notes_ref(void **state)
{
	EXPECT_ONE(*state, "name: prod\nhistory: {notesRef: notes/sagesync}\n",
		   2, 21,
		   "history.notesRef: \"notes/sagesync\" is not a Git ref",
		   "like refs/notes/sagesync");
}

static void test_config__listen_without_port(void **state)
{
	EXPECT_ONE(*state, "name: prod\nserver:\n  listen: 127.0.0.1\n", 3, 11,
		   "server.listen: \"127.0.0.1\" is not a listen address",
		   "HOST:PORT");
}

static void test_config__listen_forms_that_load(void **state)
{
	static const char *const ok[] = { "127.0.0.1:9090", ":9090",
					  "localhost:80", "[::1]:9090" };
	struct buf text = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config *cfg;

		buf_clear(&text);
		buf_printf(&text, "name: prod\nserver: {listen: \"%s\"}\n",
			   ok[i]);
		cfg = load_ok(*state, text.ptr);
		assert_string_equal(cfg->server->listen, ok[i]);
		config_free(cfg);
	}
	buf_release(&text);
}

/* A TCP port is 1 to 65535: five digits are not enough of a check. */
static void test_config__listen_port_above_65535_is_refused(void **state)
{
	EXPECT_ONE(*state, "name: prod\nserver:\n  listen: 127.0.0.1:99999\n",
		   3, 11, "server.listen: \"127.0.0.1:99999\"");
}

/* ---- notify ---------------------------------------------------------- */

static void test_config__notify_slack_needs_url_file(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n"
		   "  - {type: sns, topicArn: "
		   "\"arn:aws:sns:us-east-1:111122223333:deploys\"}\n"
		   "  - {type: slack}\n",
		   4, 5, "notify[1]: missing required field 'urlFile'",
		   "secret");
}

static void test_config__notify_sns_needs_topic_arn(void **state)
{
	EXPECT_ONE(*state, "name: prod\nnotify:\n  - type: sns\n", 3, 5,
		   "notify[0]: missing required field 'topicArn'");
}

static void test_config__notify_webhook_and_github_status_needs(void **state)
{
	EXPECT_ONE(*state, "name: prod\nnotify:\n  - {type: webhook}\n", 3, 5,
		   "notify[0]: missing required field 'url' (or 'urlFile')");
	EXPECT_ONE(*state, "name: prod\nnotify:\n  - {type: github-status}\n",
		   3, 5, "notify[0]: missing required field 'tokenFile'");
}

/* a status token goes over TLS, or to this machine only */
static void test_config__notify_status_token_over_http(void **state)
{
	struct config *cfg;

	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n  - {type: github-status, "
		   "tokenFile: /t, url: \"http://ghe.example.com/api/v3\"}\n",
		   3, 47,
		   "notify[0].url: the token is sent only over https:// (or "
		   "to this machine)");
	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n  - {type: gitlab-status, "
		   "tokenFile: /t, url: \"http://localhost.example.com\"}\n",
		   3, 47,
		   "notify[0].url: the token is sent only over https://");
	cfg = load_ok(*state, "name: prod\nnotify:\n  - {type: github-status, "
			      "tokenFile: /t, url: "
			      "\"http://127.0.0.1:8080/api\"}\n");
	config_free(cfg);
}

static void test_config__notify_bad_type_suggests(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n  - {type: slak, urlFile: /run/s}\n",
		   3, 12,
		   "notify[0].type: expected one of slack, webhook, sns, "
		   "github-status, gitlab-status; found \"slak\"",
		   "did you mean \"slack\"?");
}

static void test_config__notify_bad_topic_arn(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n  - type: sns\n"
		   "    topicArn: arn:aws:sns:us-east-1:1234:deploys\n",
		   4, 15, "notify[0].topicArn:", "is not an SNS topic ARN");
}

/*
 * A Slack webhook URL is a secret: written as `url` in the config it must
 * be refused even when `urlFile` is there too, not silently ignored.
 */
static void test_config__notify_slack_url_in_config_is_refused(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nnotify:\n  - type: slack\n"
		   "    urlFile: /run/secrets/slack-url\n"
		   "    url: https://hooks.slack.com/services/T0/B0/abc\n",
		   5, 5, "notify[0]", "'url'");
}

static void test_config__notify_list_is_limited(void **state)
{
	struct buf text = BUF_INIT;
	int i;

	buf_puts(&text, "name: prod\nnotify:\n");
	for (i = 0; i < 17; i++)
		buf_puts(&text, "  - {type: github-status, tokenFile: /t}\n");
	EXPECT_ONE(*state, text.ptr, 3, 3,
		   "notify: has 17 entries; the limit is 16");
	buf_release(&text);
}

/* ---- promotion ------------------------------------------------------- */

static void test_config__promotion_github_loads_every_field(void **state)
{
	struct config *cfg = load_ok(
		*state, "name: prod\n"
			"source: {url: https://github.com/acme/ml-deploy.git, "
			"branch: main}\n"
			"promotion:\n"
			"  modelPackageGroups: [churn, fraud-detect2]\n"
			"  branch: release/prod\n"
			"  path: environments/prod\n"
			"  mode: pull-request\n"
			"  interval: 5m\n"
			"  pullRequest:\n"
			"    provider: github\n"
			"    repository: acme/ml-deploy\n"
			"    apiUrl: https://github.example.com/api/v3\n"
			"    tokenFile: /run/secrets/github-token\n");
	const struct config_promotion *p = cfg->promotion;

	assert_non_null(p);
	assert_int_equal(p->groups.n, 2);
	assert_string_equal(p->groups.items[0], "churn");
	assert_string_equal(p->groups.items[1], "fraud-detect2");
	assert_string_equal(p->branch, "release/prod");
	assert_string_equal(p->path, "environments/prod");
	assert_int_equal(p->mode, CONFIG_PROMOTION_PULL_REQUEST);
	assert_string_equal(p->interval, "5m");
	assert_int_equal(p->interval_seconds, 300);
	assert_non_null(p->pull_request);
	assert_int_equal(p->pull_request->provider, CONFIG_PROVIDER_GITHUB);
	assert_string_equal(p->pull_request->repository, "acme/ml-deploy");
	assert_string_equal(p->pull_request->api_url,
			    "https://github.example.com/api/v3");
	assert_string_equal(p->pull_request->token_file,
			    "/run/secrets/github-token");
	config_free(cfg);
}

/* GitLab, with only what is required: the rest is left to defaults. */
static void test_config__promotion_gitlab_with_defaults(void **state)
{
	struct config *cfg = load_ok(
		*state, "name: prod\n"
			"source: {url: https://gitlab.com/acme/ml/deploy.git, "
			"interval: 30s}\n"
			"promotion:\n"
			"  modelPackageGroups:\n"
			"    - churn\n"
			"  pullRequest: {provider: gitlab, repository: "
			"acme/ml/deploy, tokenFile: /run/secrets/gl}\n");
	const struct config_promotion *p = cfg->promotion;

	assert_non_null(p);
	assert_int_equal(p->groups.n, 1);
	assert_string_equal(p->groups.items[0], "churn");
	assert_null(p->branch);
	assert_null(p->path);
	/* unset is pull-request */
	assert_int_equal(p->mode, CONFIG_PROMOTION_UNSET);
	assert_int_equal(p->pull_request->provider, CONFIG_PROVIDER_GITLAB);
	assert_string_equal(p->pull_request->repository, "acme/ml/deploy");
	assert_null(p->pull_request->api_url);
	assert_string_equal(p->pull_request->token_file, "/run/secrets/gl");
	config_free(cfg);
}

/*
 * No interval: the field stays NULL and interval_seconds is 60 (the
 * daemon then polls at source.interval, as it checks `interval`).
 */
static void test_config__promotion_interval_default(void **state)
{
	struct config *cfg = load_ok(*state, "name: prod\npromotion:\n"
					     "  modelPackageGroups: [churn]\n"
					     "  mode: commit\n");

	assert_null(cfg->promotion->interval);
	assert_int_equal(cfg->promotion->interval_seconds, 60);
	assert_int_equal(cfg->promotion->mode, CONFIG_PROMOTION_COMMIT);
	assert_null(cfg->promotion->pull_request);
	config_free(cfg);
}

static void test_config__promotion_interval_out_of_range(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: commit\n  interval: 2s\n",
		   5, 13,
		   "promotion.interval: expected 5s to 24h, found \"2s\"");
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: commit\n  interval: 5 minutes\n",
		   5, 13,
		   "promotion.interval: \"5 minutes\" is not a duration");
}

static void test_config__promotion_commit_with_pull_request(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: commit\n"
		   "  pullRequest: {provider: github, tokenFile: /run/t}\n",
		   5, 3, "promotion.pullRequest: not used by mode commit");
}

/* the token travels in a header: TLS, or this machine */
static void test_config__promotion_api_url_plain_http(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  pullRequest:\n    provider: github\n"
		   "    apiUrl: http://localhost.example.com/api\n"
		   "    tokenFile: /run/t\n",
		   6, 13,
		   "promotion.pullRequest.apiUrl: the token is sent only "
		   "over https:// (or to this machine), found "
		   "\"http://localhost.example.com/api\"");
	config_free(load_ok(*state, "name: prod\npromotion:\n"
				    "  modelPackageGroups: [churn]\n"
				    "  pullRequest:\n    provider: github\n"
				    "    apiUrl: http://127.0.0.1:8080\n"
				    "    tokenFile: /run/t\n"));
}

static void test_config__promotion_pull_request_is_required(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: pull-request\n",
		   2, 1, "promotion: missing required field 'pullRequest'");
	/* pull-request is the default mode */
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n", 2,
		   1, "promotion: missing required field 'pullRequest'");
}

static void test_config__promotion_unknown_provider(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  pullRequest:\n    provider: bitbucket\n"
		   "    tokenFile: /run/t\n",
		   5, 15,
		   "promotion.pullRequest.provider: expected one of github, "
		   "gitlab; found \"bitbucket\"");
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  pullRequest: {tokenFile: /run/t}\n",
		   4, 3,
		   "promotion.pullRequest: missing required field "
		   "'provider'");
}

static void test_config__promotion_bad_group_name(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n"
		   "  modelPackageGroups: [churn, churn_model]\n"
		   "  mode: commit\n",
		   3, 31, "promotion.modelPackageGroups[1]: \"churn_model\"",
		   "is not a model package group name");
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [-churn]\n"
		   "  mode: commit\n",
		   3, 24, "\"-churn\"", "is not a model package group name");
	EXPECT_ONE(*state, "name: prod\npromotion:\n  mode: commit\n", 2, 1,
		   "promotion: missing required field 'modelPackageGroups'");
}

static void test_config__promotion_bad_mode_suggests(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\npromotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: pull_request\n"
		   "  pullRequest: {provider: github, tokenFile: /run/t}\n",
		   4, 9,
		   "promotion.mode: expected one of pull-request, commit; "
		   "found \"pull_request\"",
		   "did you mean \"pull-request\"?");
}

/* The daemon signs nothing: with source.verify, its commit is refused. */
static void test_config__promotion_commit_with_verify(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource:\n  url: /srv/g\n"
		   "  verify: {allowedSignersFile: /etc/s}\n"
		   "promotion:\n  modelPackageGroups: [churn]\n"
		   "  mode: commit\n",
		   7, 9, "promotion.mode: commit pushes unsigned commits");
}

/* ---- paths inside the repository, and ref names ---------------------- */

/* source.path and promotion.path as people write them: one spelling */
static void test_config__repository_paths_are_normalised(void **state)
{
	static const char *const forms[][2] = {
		{ "./environments/prod", "environments/prod" },
		{ "environments/prod/", "environments/prod" },
		{ "environments//prod", "environments/prod" },
		{ "./environments/./prod/", "environments/prod" },
		{ "environments/x/../prod", "environments/prod" },
		{ "\"prod \"", "prod " },
	};
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct buf text = BUF_INIT;
		struct config *cfg;

		buf_printf(&text,
			   "name: prod\nsource: {url: /srv/g, path: %s}\n"
			   "promotion: {modelPackageGroups: [churn], mode: "
			   "commit, path: %s}\n",
			   forms[i][0], forms[i][0]);
		cfg = load_ok(*state, text.ptr);
		assert_string_equal(cfg->source->path, forms[i][1]);
		assert_string_equal(cfg->promotion->path, forms[i][1]);
		config_free(cfg);
		buf_release(&text);
	}
}

/* the root of the repository, however written, is no path at all */
static void test_config__repository_root_is_no_path(void **state)
{
	static const char *const forms[] = { ".", "./", "./.", "x/..", ".//" };
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct buf text = BUF_INIT;
		struct config *cfg;

		buf_printf(&text,
			   "name: prod\nsource: {url: /srv/g, path: \"%s\"}\n",
			   forms[i]);
		cfg = load_ok(*state, text.ptr);
		assert_null(cfg->source->path);
		config_free(cfg);
		buf_release(&text);
	}
}

static void test_config__repository_path_climbing_out_is_refused(void **state)
{
	EXPECT_ONE(*state, "name: prod\nsource: {url: /srv/g, path: ..}\n", 2,
		   29, "source.path: \"..\" climbs out of the repository",
		   "relative to its root");
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g, path: prod/../../x}\n", 2,
		   29, "climbs out of the repository");
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g}\npromotion: "
		   "{modelPackageGroups: [churn], mode: commit, path: ../x}\n",
		   3, 62, "promotion.path: \"../x\" climbs out");
}

static void test_config__repository_path_absolute_is_refused(void **state)
{
	EXPECT_ONE(*state, "name: prod\nsource: {url: /srv/g, path: /etc}\n", 2,
		   29, "source.path: \"/etc\" is absolute");
}

/* a part Git would refuse in a tree names nothing the export writes */
static void test_config__repository_path_with_dotgit_is_refused(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g, path: .git/hooks}\n", 2,
		   29,
		   "source.path: \".git/hooks\": the part '.git' is refused",
		   "Git's own directory");
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g, path: env/GIT~1}\n", 2,
		   29, "the part 'GIT~1' is refused", "NTFS");
}

static void test_config__ref_names_are_git_ref_names(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g, branch: \"a..b\"}\n", 2,
		   31, "source.branch: \"a..b\" is not a valid Git ref name");
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g, tag: \"v1.lock\"}\n", 2,
		   28, "source.tag: \"v1.lock\" is not a valid Git ref name");
	EXPECT_ONE(*state,
		   "name: prod\nsource: {url: /srv/g}\npromotion: "
		   "{modelPackageGroups: [churn], mode: commit, branch: "
		   "\"x/.y\"}\n",
		   3, 64, "promotion.branch: \"x/.y\" is not a valid Git ref");
	EXPECT_ONE(*state, "name: prod\nhistory: {notesRef: refs/notes/a..b}\n",
		   2, 21,
		   "history.notesRef: \"refs/notes/a..b\" is not a valid Git "
		   "ref name");
}

/* ---- the file as a whole --------------------------------------------- */

static void test_config__yaml_syntax_error(void **state)
{
	EXPECT_ONE(*state, "name: prod\naws:\n  region: [us-east-1\n", 4, 1,
		   "invalid YAML");
	EXPECT_ONE(*state, "name: prod\n  stateDir: /var/lib/sagesync\n", 2, 11,
		   "invalid YAML", "mapping values are not allowed");
}

static void test_config__duplicate_key(void **state)
{
	EXPECT_ONE(*state, "name: prod\naws: {region: us-east-1}\nname: dev\n",
		   3, 1, "duplicate key 'name'", "first given at line 1");
}

/*
 * A second document is the mistake: the error points at it, not at the
 * top of a file whose first document is fine.
 */
static void test_config__two_documents(void **state)
{
	EXPECT_ONE(*state,
		   "name: prod\naws:\n  region: us-east-1\n---\nname: dev\n", 5,
		   1, "expected one YAML document, found 2");
}

static void test_config__not_a_mapping(void **state)
{
	EXPECT_ONE(*state, "- name: prod\n", 1, 1,
		   "expected a mapping, found a sequence");
}

static void test_config__missing_file(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct buf path = BUF_INIT, words = BUF_INIT;

	buf_printf(&path, "%s/nope.yaml", t->path);
	buf_printf(&words, "cannot open '%s'", path.ptr);
	assert_int_equal(config_load(&cfg, path.ptr, &d), -1);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].file, path.ptr);
	/* a whole-file error: FILE: error: MESSAGE */
	assert_int_equal(d.items[0].line, 0);
	assert_int_equal(d.items[0].col, 0);
	assert_non_null(strstr(d.items[0].msg, words.ptr));
	assert_non_null(strstr(d.items[0].msg, "No such file"));
	diag_release(&d);
	buf_release(&path);
	buf_release(&words);
}

static void test_config__directory_is_not_a_file(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct config *cfg = NULL;

	assert_int_equal(config_load(&cfg, t->path, &d), -1);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].msg, t->path));
	diag_release(&d);
}

static void test_config__file_size_is_limited(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	char *big = malloc((1 << 20) + 2);

	assert_non_null(big);
	memset(big, '#', (1 << 20) + 1);
	memcpy(big, "name: prod\n", 11);
	big[(1 << 20) + 1] = '\0';
	load_fail(t, big, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 0);
	diag_release(&d);
	free(big);
}

/*
 * An empty file (or one of comments only) is a problem of the whole file:
 * it has no line to point at, so the error prints as FILE: error: MESSAGE.
 */
static void test_config__empty_file(void **state)
{
	static const char *const texts[] = { "", "# nothing yet\n\n" };
	size_t i;
	bool ok;

	for (i = 0; i < 2; i++) {
		struct diag_list d = DIAG_LIST_INIT;

		load_fail(*state, texts[i], &d);
		ok = d.n == 1 && d.items[0].line == 0 && d.items[0].col == 0 &&
		     (strstr(d.items[0].msg, "empty") ||
		      strstr(d.items[0].msg, "no YAML document") ||
		      strstr(d.items[0].msg, "found 0"));
		if (!ok) {
			fprintf(stderr, "expected one whole-file error about "
					"an empty file; have:\n");
			diag_print(&d, stderr);
		}
		diag_release(&d);
		if (!ok)
			fail();
	}
}

static void test_config__all_errors_of_a_file_in_one_run(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	const char text[] =
		"name: prod\n" /* 1 */
		"source:\n" /* 2 */
		"  url: /srv/g\n" /* 3 */
		"  interval: 2s\n" /* 4 */
		"aws:\n" /* 5 */
		"  region: mars\n" /* 6 */
		"reconcile:\n" /* 7 */
		"  rollback: lastgood\n" /* 8 */
		"  concurrency: 0\n" /* 9 */
		"nofity: []\n" /* 10 */
		"leaderElection: {leaseSeconds: 10, renewSeconds: 20}\n";
	static const char *const w0[] = { "source.interval", NULL };
	static const char *const w1[] = { "aws.region", NULL };
	static const char *const w2[] = { "reconcile.rollback",
					  "did you mean \"last-good\"?", NULL };
	static const char *const w3[] = { "reconcile.concurrency", NULL };
	static const char *const w4[] = { "unknown field 'nofity'",
					  "did you mean 'notify'?", NULL };
	static const char *const w5[] = { "missing required field 'table'",
					  NULL };
	static const char *const w6[] = { "20 must be less than leaseSeconds",
					  NULL };
	bool ok;

	load_fail(t, text, &d);
	ok = d.n == 7;
	if (!ok) {
		fprintf(stderr, "expected 7 errors, found %zu:\n", d.n);
		diag_print(&d, stderr);
	}
	/* sorted by line, then column */
	ok = ok && diag_is(t, &d, 0, 4, 13, w0) &&
	     diag_is(t, &d, 1, 6, 11, w1) && diag_is(t, &d, 2, 8, 13, w2) &&
	     diag_is(t, &d, 3, 9, 16, w3) && diag_is(t, &d, 4, 10, 1, w4) &&
	     diag_is(t, &d, 5, 11, 1, w5) && diag_is(t, &d, 6, 11, 50, w6);
	diag_release(&d);
	if (!ok)
		fail();
}

static void test_config__diagnostics_already_in_the_list_stay(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	struct buf path = BUF_INIT;

	diag_add(&d, "earlier.yaml", 3, 1, "an earlier problem");
	write_config(t, "name: prod\n", &path);
	/* a good config loads even when the list holds earlier errors */
	assert_int_equal(config_load(&cfg, path.ptr, &d), 0);
	assert_non_null(cfg);
	assert_int_equal(d.n, 1);
	config_free(cfg);
	diag_release(&d);
	buf_release(&path);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_config__design_example_loads_every_field),
		T(test_config__minimal_config_loads),
		T(test_config__interval_defaults_to_60_seconds),
		T(test_config__interval_units_and_bounds),
		T(test_config__token_over_http_is_refused),
		T(test_config__null_section_is_absent),
		T(test_config__comments_and_document_markers_are_fine),
		T(test_config__unknown_top_level_field_suggests),
		T(test_config__unknown_nested_field_names_its_path),
		T(test_config__unknown_field_far_from_any_lists_them),
		T(test_config__name_is_required),
		T(test_config__bad_name),
		T(test_config__bad_region),
		T(test_config__bad_endpoint_url),
		T(test_config__interval_not_a_duration),
		T(test_config__interval_out_of_range),
		T(test_config__source_url_is_required),
		T(test_config__branch_and_tag_both_set),
		T(test_config__verify_needs_allowed_signers),
		T(test_config__bad_rollback_suggests),
		T(test_config__reconcile_numbers_and_booleans),
		T(test_config__renew_must_be_shorter_than_lease),
		T(test_config__leader_election_needs_table),
		T(test_config__bad_lease_table_name),
		T(test_config__bad_notes_ref),
		T(test_config__listen_without_port),
		T(test_config__listen_forms_that_load),
		T(test_config__listen_port_above_65535_is_refused),
		T(test_config__notify_slack_needs_url_file),
		T(test_config__notify_sns_needs_topic_arn),
		T(test_config__notify_webhook_and_github_status_needs),
		T(test_config__notify_status_token_over_http),
		T(test_config__notify_bad_type_suggests),
		T(test_config__notify_bad_topic_arn),
		T(test_config__notify_slack_url_in_config_is_refused),
		T(test_config__notify_list_is_limited),
		T(test_config__promotion_github_loads_every_field),
		T(test_config__promotion_gitlab_with_defaults),
		T(test_config__promotion_interval_default),
		T(test_config__promotion_interval_out_of_range),
		T(test_config__promotion_commit_with_pull_request),
		T(test_config__promotion_api_url_plain_http),
		T(test_config__promotion_pull_request_is_required),
		T(test_config__promotion_unknown_provider),
		T(test_config__promotion_bad_group_name),
		T(test_config__promotion_bad_mode_suggests),
		T(test_config__promotion_commit_with_verify),
		T(test_config__repository_paths_are_normalised),
		T(test_config__repository_root_is_no_path),
		T(test_config__repository_path_climbing_out_is_refused),
		T(test_config__repository_path_absolute_is_refused),
		T(test_config__repository_path_with_dotgit_is_refused),
		T(test_config__ref_names_are_git_ref_names),
		T(test_config__yaml_syntax_error),
		T(test_config__duplicate_key),
		T(test_config__two_documents),
		T(test_config__not_a_mapping),
		T(test_config__missing_file),
		T(test_config__directory_is_not_a_file),
		T(test_config__file_size_is_limited),
		T(test_config__empty_file),
		T(test_config__all_errors_of_a_file_in_one_run),
		T(test_config__diagnostics_already_in_the_list_stay),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
