/*
 * The reconcile engine: observe what lives in AWS, diff it against the
 * desired resources of a revision into a plan, and apply the plan in
 * dependency order (DESIGN.md §3 steps 3-4 and 7).
 *
 * Each kind of resource is a reconciler: a const ops table (observe,
 * diff, apply) in the registry of engine.c; the engine walks only that.
 * observe makes read-only calls, diff is pure, apply makes the writes.
 *
 * Ownership: only resources tagged sagesync:managed-by=<controller> are
 * changed or deleted; a wanted name taken by anything else is a conflict.
 * Prune deletes owned resources whose manifest is gone, and is refused
 * when it would delete all of them or more than max_prune_percent.
 *
 * Calls are kept few: list calls, content hashes in names, and a cache of
 * tags and change markers in state_dir (a cache only: safe to delete).
 */
#ifndef SAGESYNC_RECONCILERS_ENGINE_H
#define SAGESYNC_RECONCILERS_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "aws.h"
#include "buf.h"
#include "desired.h"
#include "err.h"
#include "manifest.h"

enum change_action {
	CHANGE_CREATE,
	CHANGE_UPDATE,
	CHANGE_DELETE,
	CHANGE_CONFLICT,
};

struct change {
	enum desired_kind kind;
	enum change_action action;
	bool drift; /* changed in AWS, not in Git */
	bool prune; /* a delete because the manifest is gone */
	char *name;
	char *manifest; /* "Endpoint/churn-prod", "" when unknown */
	char *detail; /* what differs: "Threshold: 5 -> 10" */
	char *arn; /* of the live resource, when there is one */
	const struct desired_resource *want; /* NULL for deletes */
	/* set by the caller of `plan --base`: the base revision's plan has
	 * this change too, so it is pending already (drift, or a commit not
	 * yet applied), not the doing of the revisions under review */
	bool inherited;
};

struct plan {
	struct change *items;
	size_t n;
	size_t cap;
	size_t creates, updates, deletes, drifts, conflicts;
	char *refusal; /* why the plan must not be applied, or NULL */
};

struct engine_options {
	const char *controller;
	/* the commit; NULL for a plain directory: "local-" and a hash of
	 * the desired content, so any change reads as a new revision */
	const char *revision;
	const char *state_dir; /* NULL: no cache kept between runs */
	bool prune;
	bool self_heal;
	bool allow_mass_prune;
	int max_prune_percent; /* negative: 50 (0 allows no prune at all) */
	long wait_seconds; /* for endpoints to settle; 0: 3600 */
	long poll_ms; /* between DescribeEndpoint calls; 0: 10000 */
	int concurrency; /* changes of one kind applied at once; 0: 8 */
	/* the bake of an endpoint without bakeSeconds of its own */
	long bake_seconds;
	/* no bake longer than this (0: no bake at all; negative: no cap) */
	long bake_cap;
	/* asked before every batch of writes (one kind at a time): false
	 * stops the apply with an error (a controller that lost its lease);
	 * NULL: always allowed */
	bool (*may_write)(void *payload);
	void *may_write_payload;
};

struct engine;

/*
 * Observes AWS and plans the changes that bring it to `set`. The engine
 * borrows `aws` and `set`; both must outlive it.
 */
int engine_plan(struct engine **out, struct aws_client *aws,
		const struct manifest_set *set,
		const struct engine_options *opt, struct err *e);
/* borrowed; the caller may mark changes inherited */
struct plan *engine_get_plan(struct engine *en);
const char *engine_revision(const struct engine *en);
/* The resources this controller owns, one line each, for `status`. */
void engine_print_owned(const struct engine *en, FILE *fp);
/*
 * Applies the plan (drift only with self_heal), waits for every endpoint
 * to be InService on its desired config, then deletes what the new state
 * superseded. Fails on a refused plan, a failed deploy or a timeout.
 */
int engine_apply(struct engine *en, struct err *e);
/* Whether engine_apply makes change `c` (not a conflict; drift only with
 * self_heal). */
bool engine_applies(const struct engine *en, const struct change *c);
void engine_free(struct engine *en);

/* The plan for people ("+ Model churn-v7-3f9a2c1 ...") and for machines. */
void plan_print(const struct plan *p, FILE *fp);
char *plan_json(const struct plan *p);
/*
 * The plan as Markdown, for a pull-request comment: `heading` (Markdown,
 * may be NULL) first, then a table of the changes, with the inherited
 * ones folded away under a summary of their own.
 */
void plan_markdown(const struct plan *p, FILE *fp, const char *heading);
/* "create Endpoint/churn-prod: detail": one change on one line */
void change_line(struct buf *out, const struct change *c);
const char *change_action_name(enum change_action a);

#endif
