/*
 * Loading the controller's configuration (see config.h): the field tables
 * below are the schema, decoded by manifests/schema.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "err.h"
#include "file.h"
#include "gitsrc.h"
#include "mem.h"
#include "schema.h"
#include "ytree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define F(fname, ftype, st, member, ...)                                   \
	{                                                                  \
		.name = fname, .type = ftype, .off = offsetof(st, member), \
		__VA_ARGS__                                                \
	}
#define SHAPE(sname, st, table, checkfn)                                 \
	{                                                                \
		.name = sname, .size = sizeof(st), .fields = table,      \
		.n_fields = ARRAY_SIZE(table), .loc_off = SCHEMA_NO_LOC, \
		.check = checkfn                                         \
	}
#define OPT .flags = 0
#define REQ .flags = SCHEMA_REQUIRED
#define RANGE(lo, hi) .flags = SCHEMA_RANGE, .min = (lo), .max = (hi)

static const struct schema_rule rule_name = {
	.what = "a valid controller name",
	.expect = "1 to 63 letters, digits, '.', '_' and '-'",
	.min_len = 1,
	.max_len = 63,
	.pattern = "[a-zA-Z0-9._-]+",
};

static const struct schema_rule rule_path = {
	.what = "a path",
	.min_len = 1,
	.max_len = 4096,
};

static const struct schema_rule rule_endpoint_url = {
	.what = "an http:// or https:// URL",
	.min_len = 1,
	.max_len = 2048,
	.pattern = "https?://[^/:[:space:]][^/[:space:]]*(/[^[:space:]]*)?",
};

static const struct schema_rule rule_region = {
	.what = "an AWS region",
	.expect = "like us-east-1",
	.min_len = 1,
	.max_len = 32,
	.pattern = "[a-z]{2}(-[a-z]+)+-[0-9]+",
};

static const struct schema_rule rule_interval = {
	.what = "a duration",
	.expect = "a number followed by s, m or h, like 60s or 5m",
	.min_len = 2,
	.max_len = 16,
	.pattern = "[0-9]+[smh]",
};

static const struct schema_rule rule_topic_arn = {
	.what = "an SNS topic ARN",
	.expect = "arn:aws:sns:REGION:ACCOUNT:NAME",
	.min_len = 1,
	.max_len = 1024,
	.pattern = "arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+",
};

static const struct schema_rule rule_ref = {
	.what = "a Git ref name",
	.expect = "like refs/notes/sagesync",
	.min_len = 1,
	.max_len = 255,
	.pattern = "refs/[A-Za-z0-9._/-]+",
};

static const struct schema_rule rule_listen = {
	.what = "a listen address",
	.expect = "HOST:PORT, like 127.0.0.1:9090",
	.min_len = 3,
	.max_len = 255,
	.pattern = "(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5}",
};

static const struct schema_rule rule_env = {
	.what = "an environment variable name",
	.expect = "letters, digits and _, like GIT_TOKEN",
	.min_len = 1,
	.max_len = 255,
	.pattern = "[A-Za-z_][A-Za-z0-9_]*",
};

static void check_auth(struct schema_ctx *c, void *obj, const struct ynode *map,
		       const char *path)
{
	struct config_auth *a = obj;

	if (a->token_file && a->token_env)
		schema_error(c, schema_key(c, map, "tokenEnv"),
			     "%s: set one of 'tokenFile' and 'tokenEnv'", path);
}

static const struct schema_field auth_fields[] = {
	F("username", SCHEMA_STR, struct config_auth, username,
	  .rule = &rule_path),
	F("tokenFile", SCHEMA_STR, struct config_auth, token_file,
	  .rule = &rule_path),
	F("tokenEnv", SCHEMA_STR, struct config_auth, token_env,
	  .rule = &rule_env),
	F("sshKeyFile", SCHEMA_STR, struct config_auth, ssh_key_file,
	  .rule = &rule_path),
	F("knownHostsFile", SCHEMA_STR, struct config_auth, known_hosts_file,
	  .rule = &rule_path),
};
static const struct schema_shape auth_shape =
	SHAPE("auth", struct config_auth, auth_fields, check_auth);

static const struct schema_field verify_fields[] = {
	F("allowedSignersFile", SCHEMA_STR, struct config_verify,
	  allowed_signers_file, REQ, .rule = &rule_path),
};
static const struct schema_shape verify_shape =
	SHAPE("verify", struct config_verify, verify_fields, NULL);

/* "30s", "5m", "1h" in seconds (60 when not set); 5s to 24h */
static long interval_seconds(struct schema_ctx *c, const struct ynode *map,
			     const char *path, const char *text)
{
	long n, seconds;
	char unit;

	if (!text)
		return 60;
	n = strtol(text, NULL, 10);
	unit = text[strlen(text) - 1];
	seconds = n * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
	if (seconds < 5 || seconds > 86400)
		schema_error(c, schema_node(map, "interval"),
			     "%s.interval: expected 5s to 24h, found \"%s\"",
			     path, text);
	return seconds;
}

/*
 * A directory of the repository (source.path, promotion.path), written
 * as people write it ("./prod/", "prod//x"), normalised here once, so
 * that every reader sees one spelling: NULL for the whole repository.
 * Refused: absolute, climbing out of the repository, or with a part Git
 * would refuse in a tree ('.git').
 */
static void check_repo_path(struct schema_ctx *c, const struct ynode *map,
			    const char *path, char **value)
{
	struct buf norm = BUF_INIT;
	const char *part, *why = NULL;
	char *copy, *slash;

	if (!*value)
		return;
	if (file_path_normalize(&norm, *value) < 0) {
		schema_error(c, schema_node(map, "path"),
			     "%s.path: \"%s\" %s; give a directory inside "
			     "the repository, relative to its root",
			     path, *value,
			     **value == '/' ? "is absolute" :
					      "climbs out of the repository");
		goto out;
	}
	copy = mem_strdup(norm.ptr);
	for (part = norm.len ? copy : NULL; part && !why;
	     part = slash ? slash + 1 : NULL) {
		if ((slash = strchr(part, '/')))
			*slash = '\0';
		if ((why = gitsrc_name_refusal(part)))
			schema_error(c, schema_node(map, "path"),
				     "%s.path: \"%s\": the part '%s' is "
				     "refused: %s",
				     path, *value, part, why);
	}
	free(copy);
	if (why)
		goto out;
	free(*value);
	*value = norm.len ? buf_detach(&norm) : NULL;
out:
	buf_release(&norm);
}

/* A ref name the config gives (a branch, a tag, the notes ref), valid as
 * Git has it: `prefix` (refs/heads/) and `value`. */
static void check_ref_name(struct schema_ctx *c, const struct ynode *map,
			   const char *path, const char *key,
			   const char *prefix, const char *value)
{
	struct buf ref = BUF_INIT;

	if (!value)
		return;
	buf_printf(&ref, "%s%s", prefix, value);
	if (!gitsrc_ref_name_valid(ref.ptr))
		schema_error(c, schema_node(map, key),
			     "%s.%s: \"%s\" is not a valid Git ref name "
			     "(see git check-ref-format)",
			     path, key, value);
	buf_release(&ref);
}

static void check_source(struct schema_ctx *c, void *obj,
			 const struct ynode *map, const char *path)
{
	struct config_source *s = obj;
	int refs = !!s->branch + !!s->tag + !!s->commit;

	if (refs > 1)
		schema_error(c,
			     schema_key(c, map, s->commit ? "commit" : "tag"),
			     "%s: set one of 'branch', 'tag' and 'commit'",
			     path);
	/* a token over plain HTTP is a token given away */
	if (s->url && !strncmp(s->url, "http://", 7) && s->auth &&
	    (s->auth->token_file || s->auth->token_env))
		schema_error(c, schema_node(map, "url"),
			     "%s.url: a token is sent only over https://, "
			     "found \"%s\"",
			     path, s->url);
	s->interval_seconds = interval_seconds(c, map, path, s->interval);
	check_repo_path(c, map, path, &s->path);
	check_ref_name(c, map, path, "branch", "refs/heads/", s->branch);
	check_ref_name(c, map, path, "tag", "refs/tags/", s->tag);
}

static const struct schema_field source_fields[] = {
	F("url", SCHEMA_STR, struct config_source, url, REQ,
	  .rule = &rule_path),
	F("branch", SCHEMA_STR, struct config_source, branch,
	  .rule = &rule_path),
	F("tag", SCHEMA_STR, struct config_source, tag, .rule = &rule_path),
	F("commit", SCHEMA_STR, struct config_source, commit,
	  .rule = &rule_path),
	F("path", SCHEMA_STR, struct config_source, path, .rule = &rule_path),
	F("interval", SCHEMA_STR, struct config_source, interval,
	  .rule = &rule_interval),
	F("auth", SCHEMA_STRUCT, struct config_source, auth,
	  .shape = &auth_shape),
	F("verify", SCHEMA_STRUCT, struct config_source, verify,
	  .shape = &verify_shape),
	F("caFile", SCHEMA_STR, struct config_source, ca_file,
	  .rule = &rule_path),
};
static const struct schema_shape source_shape =
	SHAPE("source", struct config_source, source_fields, check_source);

static const struct schema_field aws_fields[] = {
	F("region", SCHEMA_STR, struct config_aws, region,
	  .rule = &rule_region),
	F("profile", SCHEMA_STR, struct config_aws, profile,
	  .rule = &rule_path),
	F("endpointUrl", SCHEMA_STR, struct config_aws, endpoint_url,
	  .rule = &rule_endpoint_url),
};
static const struct schema_shape aws_shape =
	SHAPE("aws", struct config_aws, aws_fields, NULL);

static const char *const rollback_values[] = { "last-good", "revert-commit",
					       NULL };

static const struct schema_field reconcile_fields[] = {
	F("prune", SCHEMA_BOOL, struct config_reconcile, prune, OPT),
	F("selfHeal", SCHEMA_BOOL, struct config_reconcile, self_heal, OPT),
	F("bakeSeconds", SCHEMA_INT, struct config_reconcile, bake_seconds,
	  RANGE(0, 86400)),
	F("rollback", SCHEMA_ENUM, struct config_reconcile, rollback,
	  .values = rollback_values),
	F("concurrency", SCHEMA_INT, struct config_reconcile, concurrency,
	  RANGE(1, 256)),
	F("maxPrunePercent", SCHEMA_INT, struct config_reconcile,
	  max_prune_percent, RANGE(0, 100)),
};
static const struct schema_shape reconcile_shape =
	SHAPE("reconcile", struct config_reconcile, reconcile_fields, NULL);

static const struct schema_field history_fields[] = {
	F("notesRef", SCHEMA_STR, struct config_history, notes_ref,
	  .rule = &rule_ref),
	F("push", SCHEMA_BOOL, struct config_history, push, OPT),
	F("keyFile", SCHEMA_STR, struct config_history, key_file,
	  .rule = &rule_path),
};
static void check_history(struct schema_ctx *c, void *obj,
			  const struct ynode *map, const char *path)
{
	struct config_history *h = obj;

	check_ref_name(c, map, path, "notesRef", "", h->notes_ref);
}

static const struct schema_shape history_shape =
	SHAPE("history", struct config_history, history_fields, check_history);

static void check_server(struct schema_ctx *c, void *obj,
			 const struct ynode *map, const char *path)
{
	struct config_server *s = obj;
	long port;

	if (!s->listen)
		return;
	port = strtol(strrchr(s->listen, ':') + 1, NULL, 10);
	if (port < 1 || port > 65535)
		schema_error(c, schema_node(map, "listen"),
			     "%s.listen: \"%s\": port %ld is not from 1 to "
			     "65535",
			     path, s->listen, port);
}

static const struct schema_field server_fields[] = {
	F("listen", SCHEMA_STR, struct config_server, listen,
	  .rule = &rule_listen),
	F("githubSecretFile", SCHEMA_STR, struct config_server,
	  github_secret_file, .rule = &rule_path),
	F("gitlabTokenFile", SCHEMA_STR, struct config_server,
	  gitlab_token_file, .rule = &rule_path),
};
static const struct schema_shape server_shape =
	SHAPE("server", struct config_server, server_fields, check_server);

static const char *const notify_values[] = { "slack",	      "webhook",
					     "sns",	      "github-status",
					     "gitlab-status", NULL };

static const struct schema_rule rule_repository = {
	.what = "a repository path",
	.expect = "OWNER/NAME, or GROUP/SUBGROUP/NAME on GitLab",
	.min_len = 3,
	.max_len = 255,
	.pattern = "[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+",
};

/* A token goes in a header: over TLS, or to this machine only. Whether
 * `url` (NULL: the default, https) may carry one. */
static bool token_url_ok(const char *url)
{
	static const char *const local[] = { "127.0.0.1", "localhost",
					     "[::1]" };
	const char *host;
	size_t i;

	if (!url || strncmp(url, "http://", 7))
		return true;
	host = url + 7;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		size_t n = strlen(local[i]);

		/* the whole host: not localhost.example.com */
		if (!strncmp(host, local[i], n) && strchr(":/", host[n]))
			return true;
	}
	return false;
}

static void check_notify(struct schema_ctx *c, void *obj,
			 const struct ynode *map, const char *path)
{
	/* the fields each type reads; the rest would be silently ignored */
	static const char *const used[][4] = {
		[CONFIG_NOTIFY_SLACK] = { "urlFile" },
		[CONFIG_NOTIFY_WEBHOOK] = { "url", "urlFile", "secretFile" },
		[CONFIG_NOTIFY_SNS] = { "topicArn" },
		[CONFIG_NOTIFY_GITHUB_STATUS] = { "tokenFile", "url",
						  "repository" },
		[CONFIG_NOTIFY_GITLAB_STATUS] = { "tokenFile", "url",
						  "repository" },
	};
	struct config_notify *n = obj;
	size_t i, j;

	for (i = 0; n->type && i < map->n; i++) {
		const char *key = map->keys[i]->value;
		bool ok = !strcmp(key, "type");

		for (j = 0; j < 4 && used[n->type][j] && !ok; j++)
			ok = !strcmp(key, used[n->type][j]);
		if (!ok)
			schema_error(c, map->keys[i],
				     "%s: '%s' is not used by type %s%s", path,
				     key, notify_values[n->type - 1],
				     n->type == CONFIG_NOTIFY_SLACK &&
						     !strcmp(key, "url") ?
					     " (a Slack webhook URL is a "
					     "secret: put it in a file and "
					     "name it in urlFile)" :
					     "");
	}
	if (n->type == CONFIG_NOTIFY_SLACK && !schema_has(map, "urlFile"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'urlFile' (a Slack "
			     "webhook URL is a secret)",
			     path);
	if (n->type == CONFIG_NOTIFY_WEBHOOK && !schema_has(map, "url") &&
	    !schema_has(map, "urlFile"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'url' (or 'urlFile')",
			     path);
	if (n->type == CONFIG_NOTIFY_SNS && !schema_has(map, "topicArn"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'topicArn'", path);
	if ((n->type == CONFIG_NOTIFY_GITHUB_STATUS ||
	     n->type == CONFIG_NOTIFY_GITLAB_STATUS) &&
	    !schema_has(map, "tokenFile"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'tokenFile'", path);
	if ((n->type == CONFIG_NOTIFY_GITHUB_STATUS ||
	     n->type == CONFIG_NOTIFY_GITLAB_STATUS) &&
	    !token_url_ok(n->url))
		schema_error(c, schema_node(map, "url"),
			     "%s.url: the token is sent only over https:// (or "
			     "to this machine), found \"%s\"",
			     path, n->url);
}

static const struct schema_field notify_fields[] = {
	F("type", SCHEMA_ENUM, struct config_notify, type, REQ,
	  .values = notify_values),
	F("url", SCHEMA_STR, struct config_notify, url,
	  .rule = &rule_endpoint_url),
	F("urlFile", SCHEMA_STR, struct config_notify, url_file,
	  .rule = &rule_path),
	F("secretFile", SCHEMA_STR, struct config_notify, secret_file,
	  .rule = &rule_path),
	F("topicArn", SCHEMA_STR, struct config_notify, topic_arn,
	  .rule = &rule_topic_arn),
	F("tokenFile", SCHEMA_STR, struct config_notify, token_file,
	  .rule = &rule_path),
	F("repository", SCHEMA_STR, struct config_notify, repository,
	  .rule = &rule_repository),
};
static const struct schema_shape notify_shape =
	SHAPE("notify", struct config_notify, notify_fields, check_notify);

static void check_leader(struct schema_ctx *c, void *obj,
			 const struct ynode *map, const char *path)
{
	struct config_leader *l = obj;

	if (l->lease_seconds.set && l->renew_seconds.set &&
	    l->renew_seconds.v >= l->lease_seconds.v)
		schema_error(c, schema_node(map, "renewSeconds"),
			     "%s.renewSeconds: %ld must be less than "
			     "leaseSeconds %ld",
			     path, l->renew_seconds.v, l->lease_seconds.v);
}

static const struct schema_rule rule_table = {
	.what = "a DynamoDB table name",
	.expect = "3 to 255 letters, digits, '_', '-' and '.'",
	.min_len = 3,
	.max_len = 255,
	.pattern = "[A-Za-z0-9_.-]+",
};

static const struct schema_field leader_fields[] = {
	F("table", SCHEMA_STR, struct config_leader, table, REQ,
	  .rule = &rule_table),
	F("leaseSeconds", SCHEMA_INT, struct config_leader, lease_seconds,
	  RANGE(5, 3600)),
	F("renewSeconds", SCHEMA_INT, struct config_leader, renew_seconds,
	  RANGE(1, 3600)),
};
static const struct schema_shape leader_shape = SHAPE(
	"leaderElection", struct config_leader, leader_fields, check_leader);

static const char *const provider_values[] = { "github", "gitlab", NULL };
static const char *const promotion_mode_values[] = { "pull-request", "commit",
						     NULL };

static const struct schema_rule rule_group = {
	.what = "a model package group name",
	.expect = "1 to 63 letters, digits and hyphens, starting and ending "
		  "with a letter or digit",
	.min_len = 1,
	.max_len = 63,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_branch = {
	.what = "a branch name",
	.expect = "letters, digits and . _ / -, not starting with - or /",
	.min_len = 1,
	.max_len = 200,
	.pattern = "[A-Za-z0-9._][A-Za-z0-9._/-]*",
};

static const struct schema_field pull_request_fields[] = {
	F("provider", SCHEMA_ENUM, struct config_pull_request, provider, REQ,
	  .values = provider_values),
	F("repository", SCHEMA_STR, struct config_pull_request, repository,
	  .rule = &rule_repository),
	F("apiUrl", SCHEMA_STR, struct config_pull_request, api_url,
	  .rule = &rule_endpoint_url),
	F("tokenFile", SCHEMA_STR, struct config_pull_request, token_file, REQ,
	  .rule = &rule_path),
};
static void check_pull_request(struct schema_ctx *c, void *obj,
			       const struct ynode *map, const char *path)
{
	struct config_pull_request *pr = obj;

	if (!token_url_ok(pr->api_url))
		schema_error(c, schema_node(map, "apiUrl"),
			     "%s.apiUrl: the token is sent only over https:// "
			     "(or to this machine), found \"%s\"",
			     path, pr->api_url);
}

static const struct schema_shape pull_request_shape =
	SHAPE("pullRequest", struct config_pull_request, pull_request_fields,
	      check_pull_request);

static void check_promotion(struct schema_ctx *c, void *obj,
			    const struct ynode *map, const char *path)
{
	struct config_promotion *p = obj;

	if (p->mode != CONFIG_PROMOTION_COMMIT && !p->pull_request &&
	    !schema_has(map, "pullRequest"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'pullRequest' (mode "
			     "pull-request opens one; mode commit pushes "
			     "straight to the branch)",
			     path);
	if (p->mode == CONFIG_PROMOTION_COMMIT &&
	    schema_has(map, "pullRequest"))
		schema_error(c, schema_key(c, map, "pullRequest"),
			     "%s.pullRequest: not used by mode commit", path);
	p->interval_seconds = interval_seconds(c, map, path, p->interval);
	check_repo_path(c, map, path, &p->path);
	check_ref_name(c, map, path, "branch", "refs/heads/", p->branch);
}

static const struct schema_field promotion_fields[] = {
	F("modelPackageGroups", SCHEMA_STR_LIST, struct config_promotion,
	  groups, REQ, .rule = &rule_group, .max_items = 50),
	F("branch", SCHEMA_STR, struct config_promotion, branch,
	  .rule = &rule_branch),
	F("path", SCHEMA_STR, struct config_promotion, path,
	  .rule = &rule_path),
	F("mode", SCHEMA_ENUM, struct config_promotion, mode,
	  .values = promotion_mode_values),
	F("interval", SCHEMA_STR, struct config_promotion, interval,
	  .rule = &rule_interval),
	F("pullRequest", SCHEMA_STRUCT, struct config_promotion, pull_request,
	  .shape = &pull_request_shape),
};
static const struct schema_shape promotion_shape =
	SHAPE("promotion", struct config_promotion, promotion_fields,
	      check_promotion);

static const struct schema_field config_fields[] = {
	F("name", SCHEMA_STR, struct config, name, REQ, .rule = &rule_name),
	F("stateDir", SCHEMA_STR, struct config, state_dir, .rule = &rule_path),
	F("source", SCHEMA_STRUCT, struct config, source,
	  .shape = &source_shape),
	F("aws", SCHEMA_STRUCT, struct config, aws, .shape = &aws_shape),
	F("reconcile", SCHEMA_STRUCT, struct config, reconcile,
	  .shape = &reconcile_shape),
	F("history", SCHEMA_STRUCT, struct config, history,
	  .shape = &history_shape),
	F("server", SCHEMA_STRUCT, struct config, server,
	  .shape = &server_shape),
	F("notify", SCHEMA_STRUCT_LIST, struct config, notify,
	  .shape = &notify_shape,
	  .count_off = offsetof(struct config, n_notify), .max_items = 16),
	F("leaderElection", SCHEMA_STRUCT, struct config, leader_election,
	  .shape = &leader_shape),
	F("promotion", SCHEMA_STRUCT, struct config, promotion,
	  .shape = &promotion_shape),
};
/* what needs two blocks at once */
static void check_config(struct schema_ctx *c, void *obj,
			 const struct ynode *map, const char *path)
{
	struct config *cfg = obj;
	const struct ynode *p = ynode_get(map, "promotion");

	(void)path;
	/* the daemon signs nothing: its commit would be refused */
	if (cfg->promotion && cfg->promotion->mode == CONFIG_PROMOTION_COMMIT &&
	    cfg->source && cfg->source->verify)
		schema_error(c, schema_node(p, "mode"),
			     "promotion.mode: commit pushes unsigned commits, "
			     "which source.verify refuses to apply; use "
			     "pull-request, whose merge your signers sign");
}

static const struct schema_shape config_shape =
	SHAPE("config", struct config, config_fields, check_config);

int config_load_buffer(struct config **out, const char *name, const char *data,
		       size_t len, struct diag_list *diags)
{
	static const struct ytree_limits lim = YTREE_LIMITS_INIT;
	struct config *cfg = mem_calloc(1, sizeof(*cfg));
	struct schema_ctx c = { name, diags, 0, 100, NULL };
	struct ytree *tree = NULL;
	size_t before = diags->n;

	*out = NULL;
	cfg->file = mem_strdup(name);
	if (ytree_parse(&tree, name, data, len, &lim, diags) < 0)
		goto out;
	if (ytree_ndocs(tree) == 0) {
		diag_add(diags, name, 0, 0, "is empty: expected a mapping");
		goto out;
	}
	if (ytree_ndocs(tree) > 1) {
		diag_add(diags, name, ytree_doc(tree, 1)->line,
			 ytree_doc(tree, 1)->col,
			 "expected one YAML document, found %zu",
			 ytree_ndocs(tree));
		goto out;
	}
	schema_decode(&c, &config_shape, ytree_doc(tree, 0), cfg, "", NULL);
out:
	ytree_free(tree);
	diag_sort(diags);
	if (diags->n != before) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int config_load(struct config **out, const char *path, struct diag_list *diags)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	int rc;

	*out = NULL;
	if (file_read(&text, path, 1 << 20, &e) < 0) {
		diag_add(diags, path, 0, 0, "%s", e.msg);
		buf_release(&text);
		return -1;
	}
	rc = config_load_buffer(out, path, buf_cstr(&text), text.len, diags);
	buf_release(&text);
	return rc;
}

void config_aws_options(const struct config *cfg, struct aws_options *out)
{
	memset(out, 0, sizeof(*out));
	if (!cfg->aws)
		return;
	out->region = cfg->aws->region;
	out->profile = cfg->aws->profile;
	out->endpoint_url = cfg->aws->endpoint_url;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	schema_release(&config_shape, cfg);
	free(cfg->file);
	free(cfg);
}
