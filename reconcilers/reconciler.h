/*
 * What the kind modules (rec_*.c) and the engine share: the interface a
 * reconciler implements, and the engine's services it may use. Internal to
 * reconcilers/; the rest of sagesync sees only engine.h.
 *
 * A reconciler is a const ops table: observe (read-only AWS calls that add
 * live resources), diff (pure: compares one desired resource with its live
 * twin and adds plan changes) and apply (the write calls of one change).
 * The engine's registry lists them in dependency order and walks only it.
 *
 * Ownership: live resources, plan changes and the cache belong to the
 * engine; the helpers below copy what they are given.
 */
#ifndef SAGESYNC_RECONCILERS_RECONCILER_H
#define SAGESYNC_RECONCILERS_RECONCILER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "aws.h"
#include "buf.h"
#include "desired.h"
#include "engine.h"

struct live {
	enum desired_kind kind;
	char *name;
	char *arn;
	char *managed_by; /* "" when untagged */
	char *manifest;
	char *revision;
	bool owned;
	json_t *content; /* what the kind compares (new reference) */
};

struct engine {
	struct aws_client *aws;
	struct engine_options opt;
	const struct manifest_set *set;
	struct desired_set want;
	struct live *live;
	size_t n_live, cap_live;
	struct plan plan;
	json_t *cache; /* {"tags": {ARN: {...}}, "endpoints": {...}} */
	char *cache_path;
	char account[16];
	char revision[32];
	pthread_mutex_t lock; /* the cache, while workers apply */
};

struct reconciler {
	int version;
	enum desired_kind kind;
	int (*observe)(struct engine *en, struct err *e);
	void (*diff)(struct engine *en, const struct desired_resource *want,
		     struct live *live);
	int (*apply)(struct engine *en, struct change *ch, struct err *e);
	/*
	 * NULL: observed on every plan. Else a kind observed only where it
	 * matters, Git declaring one or the cache remembering this controller
	 * owning one (to prune it): this part of its ARNs finds it in the
	 * cache. A controller without such resources makes no call about
	 * them, and needs no permission for them.
	 */
	const char *only_if_used;
};

extern const struct reconciler rec_package;
extern const struct reconciler rec_model;
extern const struct reconciler rec_endpoint_config;
extern const struct reconciler rec_endpoint;
extern const struct reconciler rec_scaling;
extern const struct reconciler rec_alarm;
extern const struct reconciler rec_monitor_job;
extern const struct reconciler rec_monitor_schedule;
extern const struct reconciler rec_rule;

/* JSON text to a value (new reference; an empty object if it does not
 * parse), a string member ("" when absent), a timestamp as a marker */
json_t *engine_json_parse(const char *body, size_t len);
const char *engine_json_str(json_t *o, const char *key);
void engine_marker(json_t *v, char *out, size_t size);

/* the live resources observed, and the plan */
struct live *engine_live_add(struct engine *en, enum desired_kind kind,
			     const char *name, const char *arn);
struct live *engine_live_find(struct engine *en, enum desired_kind kind,
			      const char *name);
void engine_plan_add(struct engine *en, enum desired_kind kind,
		     enum change_action action, const char *name,
		     const char *manifest, const char *arn,
		     const struct desired_resource *want, bool drift,
		     const char *detail);
/* ownership tags: the cache, its key for a resource, and reading them
 * (from the cache while `marker` is unchanged, else from AWS) */
void engine_cache_tags(struct engine *en, const char *arn, const char *marker,
		       const char *managed_by, const char *manifest,
		       const char *revision);
void engine_tags_key(struct buf *out, enum desired_kind kind, const char *name,
		     const char *arn);
int engine_fetch_tags(struct engine *en, struct live *l, const char *marker,
		      struct err *e);
/* every item of a paginated JSON list call, into a new array */
int engine_list_all(struct engine *en, const struct aws_service *svc,
		    const char *op, const char *request, const char *list_key,
		    json_t **out, struct err *e);
/* "Field: live -> want" for each of `fields` that differs */
void engine_compare(struct buf *d, json_t *live, json_t *want,
		    const char *const *fields);
/* whether Git left this resource as it was when last applied here */
bool engine_is_drift(struct engine *en, const struct desired_resource *w);
/* engine_fetch_tags: the resource was deleted since it was listed */
#define ENGINE_GONE 1

/* an AWS error that says the named resource does not exist */
bool engine_not_found(const struct err *e);
/* forgets the live resource added last (it turned out to be gone) */
void engine_live_drop_last(struct engine *en);

/*
 * Deletes one resource with `op` and the request `req` (whose reference
 * it takes): first asks AWS, not the cache, whether the resource is still
 * ours; a resource already gone is done; the cache forgets it.
 */
int engine_delete(struct engine *en, const struct change *ch,
		  const struct aws_service *svc, const char *op, json_t *req,
		  struct err *e);
/*
 * A create that failed as "already existing" (a retry after a lost answer,
 * an interrupted apply): success if the resource found there is ours.
 */
int engine_adopt(struct engine *en, const struct change *ch,
		 const char *describe_op, const char *name_key,
		 const char *arn_key, struct err *e);

/* a request's JSON text into `out`, from `req` (whose reference it
 * takes): names and ARNs are escaped, never formatted into JSON by hand */
void engine_request(struct buf *out, json_t *req);
/* the desired request with its Tags (caller frees), a call, and setting
 * the sagesync:revision tag of a resource updated in place */
char *engine_with_tags(const struct desired_resource *r);
int engine_call(struct engine *en, const struct aws_service *svc,
		const char *op, const char *request, struct buf *out,
		struct err *e);
int engine_tag_revision(struct engine *en, const struct aws_service *svc,
			const char *op, const char *arn_key, const char *arn,
			struct err *e);

#endif
