/*
 * The controller's configuration: one YAML file (DESIGN.md §3), loaded
 * and checked with the same located-error machinery as the manifests, so
 * a bad config reads FILE:LINE:COL: error: MESSAGE too. docs/config.md
 * documents every field.
 *
 * Secrets are never in this file: fields ending in File name files that
 * hold them (tokens, webhook secrets, URLs with keys in them).
 *
 * Ownership: config_load() hands out a config the caller frees with
 * config_free().
 */
#ifndef SAGESYNC_CONTROLLER_CONFIG_H
#define SAGESYNC_CONTROLLER_CONFIG_H

#include <stdbool.h>

#include "diag.h"
#include "manifest.h"

struct config_auth {
	char *username;
	char *token_file;
	char *token_env;
	char *ssh_key_file;
	char *known_hosts_file;
};

struct config_verify {
	char *allowed_signers_file;
};

struct config_source {
	char *url;
	char *branch;
	char *tag;
	char *commit;
	char *path;
	char *interval; /* "60s", "5m"; see interval_seconds */
	long interval_seconds;
	struct config_auth *auth;
	struct config_verify *verify;
	char *ca_file;
};

struct config_aws {
	char *region;
	char *profile;
	char *endpoint_url;
};

enum config_rollback {
	CONFIG_ROLLBACK_UNSET,
	CONFIG_ROLLBACK_LAST_GOOD,
	CONFIG_ROLLBACK_REVERT_COMMIT,
};

struct config_reconcile {
	struct mf_bool prune;
	struct mf_bool self_heal;
	struct mf_int bake_seconds;
	enum config_rollback rollback;
	struct mf_int concurrency;
	struct mf_int max_prune_percent;
};

struct config_history {
	char *notes_ref;
	struct mf_bool push;
	char *key_file; /* the key that authenticates the records */
};

struct config_server {
	char *listen;
	char *github_secret_file;
	char *gitlab_token_file;
};

enum config_notify_type {
	CONFIG_NOTIFY_UNSET,
	CONFIG_NOTIFY_SLACK,
	CONFIG_NOTIFY_WEBHOOK,
	CONFIG_NOTIFY_SNS,
	CONFIG_NOTIFY_GITHUB_STATUS,
	CONFIG_NOTIFY_GITLAB_STATUS,
};

struct config_notify {
	enum config_notify_type type;
	char *url;
	char *url_file;
	char *secret_file;
	char *topic_arn;
	char *token_file;
	char *repository; /* OWNER/REPO for commit statuses */
};

struct config_leader {
	char *table;
	struct mf_int lease_seconds;
	struct mf_int renew_seconds;
};

enum config_promotion_mode {
	CONFIG_PROMOTION_UNSET, /* pull-request */
	CONFIG_PROMOTION_PULL_REQUEST,
	CONFIG_PROMOTION_COMMIT,
};

enum config_provider {
	CONFIG_PROVIDER_UNSET,
	CONFIG_PROVIDER_GITHUB,
	CONFIG_PROVIDER_GITLAB,
};

struct config_pull_request {
	enum config_provider provider;
	char *repository; /* OWNER/REPO; NULL: from source.url */
	char *api_url; /* NULL: the provider's public API */
	char *token_file;
};

/* registry-to-Git promotion of new model package versions */
struct config_promotion {
	struct mf_str_list groups; /* modelPackageGroups */
	char *branch; /* NULL: source.branch */
	char *path; /* NULL: source.path */
	enum config_promotion_mode mode;
	char *interval;
	long interval_seconds; /* 60 when not set: the daemon then uses
				* source.interval */
	struct config_pull_request *pull_request;
};

struct config {
	char *name;
	char *state_dir;
	struct config_source *source;
	struct config_aws *aws;
	struct config_reconcile *reconcile;
	struct config_history *history;
	struct config_server *server;
	struct config_notify *notify;
	size_t n_notify;
	struct config_leader *leader_election;
	struct config_promotion *promotion;
	char *file; /* where it was loaded from */
};

/* Loads and checks `path`; on any error *out is NULL and diags say why. */
int config_load(struct config **out, const char *path, struct diag_list *diags);
/* The AWS client's options the config sets (borrowed from `cfg`). */
struct aws_options;
void config_aws_options(const struct config *cfg, struct aws_options *out);

/* The same from memory, reported as coming from `name`. */
int config_load_buffer(struct config **out, const char *name, const char *data,
		       size_t len, struct diag_list *diags);
void config_free(struct config *cfg);

#endif
