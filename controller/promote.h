/*
 * Registry-to-Git promotion (config `promotion`, docs/monitoring.md):
 * the daemon polls the model package groups it is told to watch
 * (ListModelPackages, newest first: one call per group) and, when a
 * version newer than the one Git deploys appears, writes the change that
 * would approve and deploy it: the ModelPackage manifest's version and
 * approval, and the names that follow from it. It commits that on a new
 * branch and opens a pull request (GitHub) or merge request (GitLab)
 * whose body is the plan of the change, or, with mode commit, commits it
 * straight to the branch.
 *
 * Never twice for a version: the branch is named by the group and the
 * version, a branch that exists on the remote is taken as proposed, and
 * the state directory remembers what was proposed (promotions.json), so
 * a request that failed after the push is retried, not re-proposed.
 */
#ifndef SAGESYNC_CONTROLLER_PROMOTE_H
#define SAGESYNC_CONTROLLER_PROMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "aws.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "metrics.h"

/* the files an edit changed, relative to the directory edited */
struct promote_files {
	char **paths;
	char **texts; /* their new content */
	size_t n;
	char package[64]; /* the ModelPackage manifest's name, after */
	long from; /* the version Git had */
};

/*
 * Edits the manifests in `dir` so that `group` deploys `version`: the
 * newest ModelPackage of the group gets that version and approval
 * Approved (and `description` when it has one and it is not NULL); its
 * name follows (v7 in it, as a token, becomes v8; a name without it is
 * kept), and so do the references to it, a Model of the same name and
 * the endpoint variants serving that Model. Only those values change:
 * comments and layout stay. Returns 1 when edited (files in `out`), 0 when Git
 * already has that version or a newer one, <0 on error (no package of
 * the group, invalid manifests, a value it cannot edit in place).
 */
int promote_edit(const char *dir, const char *group, long version,
		 const char *description, struct promote_files *out,
		 struct err *e);
void promote_files_release(struct promote_files *f);

struct promoter;

/*
 * `plan` writes the Markdown plan of commit `head` against `base` into
 * `out` (cmd_reconcile.c's, for the pull request's body).
 */
struct promote_options {
	const struct config *cfg;
	struct aws_client *aws;
	struct metrics *m;
	void (*plan)(void *payload, const char *repo, const char *base,
		     const char *head, struct buf *out);
	void *payload;
};

void promoter_new(struct promoter **out, const struct promote_options *opt);
void promoter_free(struct promoter *p);

/*
 * One poll of every group, against the source mirror `repo` (fetched):
 * proposes what is new. Returns how many changes were pushed; with mode
 * commit, a push means the branch has a new head to reconcile.
 */
int promoter_poll(struct promoter *p, const char *repo);

/* Declares sagesync_promotions_total{group,result} in `m`. */
void promote_declare_metrics(struct metrics *m);

#endif
