/*
 * The reconcile engine (see engine.h): observe, diff, apply.
 *
 * One registry lists the reconcilers, in dependency order; each is a
 * const ops table. Observation and the cache are shared here; what is
 * particular to a kind (its calls and what "differs" means) is in its
 * table's functions below.
 */
#include "engine.h"
#include "reconciler.h"

#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "sigv4.h"

/* ---- small helpers --------------------------------------------------- */

static const char *const action_names[] = { "create", "update", "delete",
					    "conflict" };

const char *change_action_name(enum change_action a)
{
	return action_names[a];
}

json_t *engine_json_parse(const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);

	return j ? j : json_object();
}

const char *engine_json_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* AWS JSON timestamps are epoch seconds; a string keeps them exact */
void engine_marker(json_t *v, char *out, size_t size)
{
	if (json_is_number(v))
		snprintf(out, size, "%.3f", json_number_value(v));
	else
		snprintf(out, size, "%s",
			 json_string_value(v) ? json_string_value(v) : "");
}

struct live *engine_live_add(struct engine *en, enum desired_kind kind,
			     const char *name, const char *arn)
{
	struct live *l;

	en->live = mem_grow(en->live, &en->cap_live, en->n_live + 1,
			    sizeof(*en->live));
	l = &en->live[en->n_live++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->name = mem_strdup(name);
	l->arn = mem_strdup(arn ? arn : "");
	l->managed_by = mem_strdup("");
	l->manifest = mem_strdup("");
	l->revision = mem_strdup("");
	return l;
}

struct live *engine_live_find(struct engine *en, enum desired_kind kind,
			      const char *name)
{
	size_t i;

	for (i = 0; i < en->n_live; i++)
		if (en->live[i].kind == kind && !strcmp(en->live[i].name, name))
			return &en->live[i];
	return NULL;
}

void engine_plan_add(struct engine *en, enum desired_kind kind,
		     enum change_action action, const char *name,
		     const char *manifest, const char *arn,
		     const struct desired_resource *want, bool drift,
		     const char *detail)
{
	struct plan *p = &en->plan;
	struct change *c;

	p->items = mem_grow(p->items, &p->cap, p->n + 1, sizeof(*p->items));
	c = &p->items[p->n++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->action = action;
	c->drift = drift;
	c->name = mem_strdup(name);
	c->manifest = mem_strdup(manifest ? manifest : "");
	c->arn = mem_strdup(arn ? arn : "");
	c->detail = mem_strdup(detail ? detail : "");
	c->want = want;
	if (drift)
		p->drifts++;
	else if (action == CHANGE_CREATE)
		p->creates++;
	else if (action == CHANGE_UPDATE)
		p->updates++;
	else if (action == CHANGE_DELETE)
		p->deletes++;
	else
		p->conflicts++;
}

/* ---- tags, through the cache ----------------------------------------- */

static void apply_tags(struct engine *en, struct live *l, json_t *entry)
{
	free(l->managed_by);
	free(l->manifest);
	free(l->revision);
	l->managed_by = mem_strdup(engine_json_str(entry, "m"));
	l->manifest = mem_strdup(engine_json_str(entry, "f"));
	l->revision = mem_strdup(engine_json_str(entry, "r"));
	l->owned = !strcmp(l->managed_by, en->opt.controller);
}

/* called from apply's worker threads too: the cache is shared */
void engine_cache_tags(struct engine *en, const char *arn, const char *marker,
		       const char *managed_by, const char *manifest,
		       const char *revision)
{
	pthread_mutex_lock(&en->lock);
	json_object_set_new(json_object_get(en->cache, "tags"), arn,
			    json_pack("{s:s, s:s, s:s, s:s}", "t", marker, "m",
				      managed_by, "f", manifest, "r",
				      revision));
	pthread_mutex_unlock(&en->lock);
}

/*
 * The cache key of a resource's tags: its ARN, or for alarms its name (a
 * PutMetricAlarm answer has no ARN, and the controller wants to remember
 * the tags it just set).
 */
void engine_tags_key(struct buf *out, enum desired_kind kind, const char *name,
		     const char *arn)
{
	buf_clear(out);
	if (kind == DESIRED_ALARM)
		buf_printf(out, "alarm:%s", name);
	else
		buf_puts(out, arn);
}

/* where a kind's tags are read: SageMaker, CloudWatch or EventBridge */
struct tags_api {
	const struct aws_service *svc;
	const char *op, *arn_key;
};

static struct tags_api tags_api_of(enum desired_kind kind)
{
	if (kind == DESIRED_ALARM)
		return (struct tags_api){ &aws_cloudwatch,
					  "ListTagsForResource",
					  "ResourceARN" };
	if (kind == DESIRED_RULE)
		return (struct tags_api){ &aws_events, "ListTagsForResource",
					  "ResourceARN" };
	return (struct tags_api){ &aws_sagemaker, "ListTags", "ResourceArn" };
}

/*
 * Fills the ownership tags of `l`: from the cache when `marker` (a change
 * marker such as LastModifiedTime) is unchanged, or when the controller
 * set the tags itself and has not seen a marker since ("" in the cache);
 * else by asking AWS.
 */
int engine_fetch_tags(struct engine *en, struct live *l, const char *marker,
		      struct err *e)
{
	struct buf key = BUF_INIT;
	json_t *entry;
	struct tags_api api = tags_api_of(l->kind);
	struct buf req = BUF_INIT, out = BUF_INIT;
	json_t *ans, *tags, *t;
	const char *m = "", *f = "", *r = "";
	size_t i;
	int rc;

	engine_tags_key(&key, l->kind, l->name, l->arn);
	entry = json_object_get(json_object_get(en->cache, "tags"), key.ptr);
	if (entry && (!strcmp(engine_json_str(entry, "t"), marker) ||
		      !engine_json_str(entry, "t")[0])) {
		json_object_set_new(entry, "t", json_string(marker));
		apply_tags(en, l, entry);
		buf_release(&key);
		return 0;
	}
	engine_request(&req, json_pack("{s:s}", api.arn_key, l->arn));
	rc = aws_json(en->aws, api.svc, api.op, req.ptr, &out, e);
	if (rc < 0 && engine_not_found(e)) {
		/* deleted since it was listed: it is not there */
		err_clear(e);
		rc = ENGINE_GONE;
	}
	if (rc == 0) {
		ans = engine_json_parse(out.ptr, out.len);
		tags = json_object_get(ans, "Tags");
		json_array_foreach(tags, i, t)
		{
			const char *k = engine_json_str(t, "Key");

			if (!strcmp(k, DESIRED_TAG_MANAGED_BY))
				m = engine_json_str(t, "Value");
			else if (!strcmp(k, DESIRED_TAG_MANIFEST))
				f = engine_json_str(t, "Value");
			else if (!strcmp(k, DESIRED_TAG_REVISION))
				r = engine_json_str(t, "Value");
		}
		engine_cache_tags(en, key.ptr, marker, m, f, r);
		apply_tags(en, l,
			   json_object_get(json_object_get(en->cache, "tags"),
					   key.ptr));
		json_decref(ans);
	}
	buf_release(&key);
	buf_release(&req);
	buf_release(&out);
	return rc;
}

/* ---- observation ----------------------------------------------------- */

struct lister {
	struct engine *en;
	enum desired_kind kind;
	const char *list_key, *name_key, *arn_key;
	json_t *found; /* array of the items */
};

static int collect(const char *body, size_t len, void *payload)
{
	struct lister *ls = payload;
	json_t *ans = engine_json_parse(body, len);

	json_array_extend(ls->found, json_object_get(ans, ls->list_key));
	json_decref(ans);
	return 0;
}

int engine_list_all(struct engine *en, const struct aws_service *svc,
		    const char *op, const char *request, const char *list_key,
		    json_t **out, struct err *e)
{
	struct lister ls = { en, 0, list_key, NULL, NULL, json_array() };
	int rc = aws_json_pages(en->aws, svc, op, request, collect, &ls, e);

	*out = ls.found;
	return rc;
}

/* ---- diff ------------------------------------------------------------ */

/* Appends "Field: live -> want" for each field of `want` that differs. */
void engine_compare(struct buf *d, json_t *live, json_t *want,
		    const char *const *fields)
{
	size_t i;

	for (i = 0; fields[i]; i++) {
		json_t *a = json_object_get(live, fields[i]);
		json_t *b = json_object_get(want, fields[i]);
		char *sa, *sb;

		/* a field Git leaves out must be unset (or empty) live too */
		if (!b && (!a || json_is_null(a) ||
			   (json_is_string(a) && !*json_string_value(a)) ||
			   (json_is_array(a) && !json_array_size(a))))
			continue;
		if (a && b && json_equal(a, b))
			continue;
		if (a && b && json_is_number(a) && json_is_number(b) &&
		    json_number_value(a) == json_number_value(b))
			continue;
		sa = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		sb = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		buf_printf(d, "%s%s: %s -> %s", d->len ? "; " : "", fields[i],
			   sa ? sa : "(unset)", sb ? sb : "(unset)");
		free(sa);
		free(sb);
	}
}

/* what a resource's desired content is, in short, for the cache */
static void want_key(const struct desired_resource *w, struct buf *key,
		     char hex[65])
{
	struct buf all = BUF_INIT;

	buf_clear(key);
	buf_printf(key, "%s/%s", desired_kind_name(w->kind), w->name);
	buf_printf(&all, "%s\n%s", w->request, w->request2 ? w->request2 : "");
	sigv4_sha256_hex(hex, all.ptr, all.len);
	buf_release(&all);
}

/*
 * A difference is drift when Git did not change the resource since it was
 * last applied: the desired content is the one the cache says was applied.
 * (Without a cache, a difference is an update.)
 */
bool engine_is_drift(struct engine *en, const struct desired_resource *w)
{
	struct buf key = BUF_INIT;
	char hex[65];
	bool drift;

	want_key(w, &key, hex);
	drift = !strcmp(engine_json_str(json_object_get(en->cache, "applied"),
					key.ptr),
			hex);
	buf_release(&key);
	return drift;
}

/* After a successful apply, every desired resource is as Git says. */
static void remember_applied(struct engine *en)
{
	json_t *applied = json_object();
	struct buf key = BUF_INIT;
	char hex[65];
	size_t i;

	for (i = 0; i < en->want.n; i++) {
		want_key(&en->want.items[i], &key, hex);
		json_object_set_new(applied, key.ptr, json_string(hex));
	}
	json_object_set_new(en->cache, "applied", applied);
	buf_release(&key);
}

/* ---- apply ----------------------------------------------------------- */

/* the request with "Tags" added */
char *engine_with_tags(const struct desired_resource *r)
{
	json_t *req = engine_json_parse(r->request, strlen(r->request));
	char *s;

	json_object_set_new(req, "Tags",
			    engine_json_parse(r->tags, strlen(r->tags)));
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

bool engine_not_found(const struct err *e)
{
	return !strcmp(e->aws_code, "ResourceNotFound") ||
	       !strcmp(e->aws_code, "ResourceNotFoundException") ||
	       (!strcmp(e->aws_code, "ValidationException") &&
		strstr(e->msg, "Could not find"));
}

void engine_live_drop_last(struct engine *en)
{
	struct live *l = &en->live[--en->n_live];

	free(l->name);
	free(l->arn);
	free(l->managed_by);
	free(l->manifest);
	free(l->revision);
	json_decref(l->content);
}

/* The sagesync:managed-by tag of a resource as AWS says it now. */
static int owner_now(struct engine *en, enum desired_kind kind, const char *arn,
		     struct buf *owner, struct err *e)
{
	struct tags_api api = tags_api_of(kind);
	struct buf req = BUF_INIT, out = BUF_INIT;
	json_t *ans, *t;
	size_t i;
	int rc;

	buf_clear(owner);
	engine_request(&req, json_pack("{s:s}", api.arn_key, arn));
	rc = aws_json(en->aws, api.svc, api.op, req.ptr, &out, e);
	if (rc == 0) {
		ans = engine_json_parse(out.ptr, out.len);
		json_array_foreach(json_object_get(ans, "Tags"), i, t)
		{
			if (!strcmp(engine_json_str(t, "Key"),
				    DESIRED_TAG_MANAGED_BY))
				buf_puts(owner, engine_json_str(t, "Value"));
		}
		json_decref(ans);
	}
	buf_release(&req);
	buf_release(&out);
	return rc;
}

static int before_delete(struct engine *en, const struct change *ch,
			 struct err *e)
{
	struct buf owner = BUF_INIT;
	int rc;

	if (ch->kind == DESIRED_SCALING)
		return 0; /* no tags: its endpoint's owner decided */
	rc = owner_now(en, ch->kind, ch->arn, &owner, e);
	if (rc < 0 && engine_not_found(e)) {
		err_clear(e);
		rc = ENGINE_GONE;
	} else if (rc == 0 && strcmp(buf_cstr(&owner), en->opt.controller)) {
		rc = err_set(e, ERR_INVALID,
			     "not deleted: it is no longer managed by this "
			     "controller (managed-by is '%s')",
			     buf_cstr(&owner));
	}
	buf_release(&owner);
	return rc;
}

static int after_delete(struct engine *en, const struct change *ch, int rc,
			struct err *e)
{
	struct buf key = BUF_INIT;

	/* already gone (a retry of a delete that went through) is done */
	if (rc < 0 && engine_not_found(e)) {
		err_clear(e);
		rc = 0;
	}
	if (rc == 0) {
		engine_tags_key(&key, ch->kind, ch->name, ch->arn);
		pthread_mutex_lock(&en->lock);
		json_object_del(json_object_get(en->cache, "tags"), key.ptr);
		pthread_mutex_unlock(&en->lock);
	}
	buf_release(&key);
	return rc;
}

int engine_delete(struct engine *en, const struct change *ch,
		  const struct aws_service *svc, const char *op, json_t *req,
		  struct err *e)
{
	struct buf body = BUF_INIT, out = BUF_INIT;
	int rc = before_delete(en, ch, e);

	if (rc == 0) {
		engine_request(&body, req);
		req = NULL;
		rc = engine_call(en, svc, op, body.ptr, &out, e);
		rc = after_delete(en, ch, rc, e);
	} else if (rc == ENGINE_GONE) {
		rc = 0;
	}
	json_decref(req);
	buf_release(&body);
	buf_release(&out);
	return rc;
}

int engine_adopt(struct engine *en, const struct change *ch,
		 const char *describe_op, const char *name_key,
		 const char *arn_key, struct err *e)
{
	struct buf req = BUF_INIT, out = BUF_INIT, owner = BUF_INIT;
	struct err why = *e, e2 = ERR_INIT;
	json_t *d = NULL;
	int rc = why.code;

	if (strcmp(e->aws_code, "ValidationException") ||
	    !strstr(e->msg, "already existing"))
		return e->code;
	engine_request(&req, json_pack("{s:s}", name_key, ch->name));
	if (aws_json(en->aws, &aws_sagemaker, describe_op, req.ptr, &out,
		     &e2) == 0) {
		d = engine_json_parse(out.ptr, out.len);
		if (owner_now(en, ch->kind, engine_json_str(d, arn_key), &owner,
			      &e2) == 0 &&
		    !strcmp(buf_cstr(&owner), en->opt.controller)) {
			/* ours: an earlier attempt did create it */
			engine_cache_tags(en, engine_json_str(d, arn_key), "",
					  en->opt.controller,
					  ch->want->manifest, en->opt.revision);
			err_clear(e);
			rc = 0;
		}
	}
	if (rc < 0)
		*e = why;
	json_decref(d);
	buf_release(&req);
	buf_release(&out);
	buf_release(&owner);
	return rc;
}

void engine_request(struct buf *out, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);

	buf_clear(out);
	buf_puts(out, s ? s : "{}");
	free(s);
	json_decref(req);
}

int engine_call(struct engine *en, const struct aws_service *svc,
		const char *op, const char *request, struct buf *out,
		struct err *e)
{
	return aws_json(en->aws, svc, op, request, out, e);
}

int engine_tag_revision(struct engine *en, const struct aws_service *svc,
			const char *op, const char *arn_key, const char *arn,
			struct err *e)
{
	struct buf req = BUF_INIT, out = BUF_INIT;
	int rc;

	engine_request(&req, json_pack("{s:s, s:[{s:s, s:s}]}", arn_key, arn,
				       "Tags", "Key", DESIRED_TAG_REVISION,
				       "Value", en->opt.revision));
	rc = aws_json(en->aws, svc, op, req.ptr, &out, e);
	buf_release(&req);
	buf_release(&out);
	return rc;
}

/* ---- the registry ------------------------------------------------------ */

static const struct reconciler *const registry[] = {
	&rec_package, &rec_model, &rec_endpoint_config, &rec_endpoint,
	&rec_scaling, &rec_alarm, &rec_monitor_job,	&rec_monitor_schedule,
	&rec_rule,
};

#define N_RECONCILERS (sizeof(registry) / sizeof(registry[0]))

static const struct reconciler *reconciler_of(enum desired_kind kind)
{
	size_t i;

	for (i = 0; i < N_RECONCILERS; i++)
		if (registry[i]->kind == kind)
			return registry[i];
	return NULL;
}

/* ---- planning ------------------------------------------------------------ */

static void cache_load(struct engine *en)
{
	struct buf path = BUF_INIT;

	en->cache = NULL;
	if (en->opt.state_dir) {
		buf_printf(&path, "%s/cache.json", en->opt.state_dir);
		en->cache = json_load_file(path.ptr, 0, NULL);
		en->cache_path = buf_detach(&path);
	}
	if (!json_is_object(en->cache) ||
	    json_integer_value(json_object_get(en->cache, "version")) != 1) {
		json_decref(en->cache);
		en->cache = json_pack("{s:i, s:{}, s:{}, s:{}}", "version", 1,
				      "tags", "endpoints", "applied");
	}
	buf_release(&path);
}

static void cache_save(struct engine *en)
{
	struct buf tmp = BUF_INIT;

	if (!en->cache_path)
		return;
	buf_printf(&tmp, "%s.tmp", en->cache_path);
	/* a cache: failing to write it only costs calls next time */
	if (json_dump_file(en->cache, tmp.ptr, JSON_COMPACT) == 0)
		rename(tmp.ptr, en->cache_path);
	buf_release(&tmp);
}

static int account_of(struct engine *en, struct err *e)
{
	struct xmldoc *doc = NULL;
	const char *account;
	int rc;

	if ((rc = aws_query(en->aws, &aws_sts, "GetCallerIdentity", NULL, &doc,
			    e)) < 0)
		return rc;
	account = xmldoc_text(xmldoc_search(xmldoc_root(doc),
					    "GetCallerIdentityResult"),
			      "Account");
	snprintf(en->account, sizeof(en->account), "%s",
		 account ? account : "");
	xmldoc_free(doc);
	return 0;
}

/* Refuses mass deletion: all owned manifests, or too large a share. */
static void check_prune(struct engine *en)
{
	json_t *owned = json_object(), *gone = json_object();
	int pct = en->opt.max_prune_percent < 0 ? 50 :
						  en->opt.max_prune_percent;
	size_t i, n_owned, n_gone;
	struct buf msg = BUF_INIT;

	for (i = 0; i < en->n_live; i++)
		if (en->live[i].owned && en->live[i].manifest[0])
			json_object_set_new(owned, en->live[i].manifest,
					    json_true());
	for (i = 0; i < en->plan.n; i++)
		if (en->plan.items[i].prune)
			json_object_set_new(gone, en->plan.items[i].manifest,
					    json_true());
	n_owned = json_object_size(owned);
	n_gone = json_object_size(gone);
	if (n_gone && !en->opt.allow_mass_prune &&
	    (n_gone == n_owned || n_gone * 100 > (size_t)pct * n_owned)) {
		buf_printf(&msg,
			   "prune would delete %zu of the %zu manifests' "
			   "resources this controller owns (%s; the limit is "
			   "%d%%): refused, nothing is deleted; check the "
			   "source path, or pass --allow-mass-prune",
			   n_gone, n_owned,
			   n_gone == n_owned ? "all of them" : "too many", pct);
		en->plan.refusal = buf_detach(&msg);
	}
	json_decref(owned);
	json_decref(gone);
}

static bool manifest_wanted(const struct engine *en, const char *manifest)
{
	size_t i;

	for (i = 0; i < en->want.n; i++)
		if (!strcmp(en->want.items[i].manifest, manifest))
			return true;
	return false;
}

/*
 * Whether an endpoint is being moved to config `name` by an update in
 * progress. (The config an endpoint runs now may go once this plan has
 * moved it; if the move is not applied, apply holds such deletes.)
 */
static bool config_pending(struct engine *en, const char *name)
{
	size_t i;

	for (i = 0; i < en->n_live; i++) {
		const struct live *l = &en->live[i];

		if (l->kind == DESIRED_ENDPOINT &&
		    !strcmp(engine_json_str(l->content, "pending"), name))
			return true;
	}
	return false;
}

static void diff_all(struct engine *en)
{
	size_t i;

	for (i = 0; i < en->want.n; i++) {
		const struct desired_resource *w = &en->want.items[i];
		struct live *l = engine_live_find(en, w->kind, w->name);
		struct buf d = BUF_INIT;

		if (!l && w->kind == DESIRED_MODEL_PACKAGE) {
			engine_plan_add(en, w->kind, CHANGE_CONFLICT, w->name,
					w->manifest, NULL, w, false,
					"the model package version is not "
					"registered");
		} else if (!l) {
			engine_plan_add(en, w->kind, CHANGE_CREATE, w->name,
					w->manifest, NULL, w, false, NULL);
		} else if (!l->owned) {
			if (l->managed_by[0])
				buf_printf(&d,
					   "exists, managed by controller "
					   "'%s'",
					   l->managed_by);
			else
				buf_puts(&d, "exists without the "
					     "sagesync:managed-by tag: not "
					     "ours to change");
			engine_plan_add(en, w->kind, CHANGE_CONFLICT, w->name,
					w->manifest, l->arn, w, false, d.ptr);
		} else {
			reconciler_of(w->kind)->diff(en, w, l);
		}
		buf_release(&d);
	}
	for (i = 0; i < en->n_live; i++) {
		struct live *l = &en->live[i];
		bool superseded;

		if (!l->owned || l->kind == DESIRED_MODEL_PACKAGE ||
		    desired_find(&en->want, l->kind, l->name))
			continue;
		/* an old model or config of a manifest still declared is
		 * garbage once the new one serves; a gone manifest is a
		 * prune */
		superseded = manifest_wanted(en, l->manifest);
		if (!superseded && !en->opt.prune)
			continue;
		/* never the config an update in progress is moving to */
		if (l->kind == DESIRED_ENDPOINT_CONFIG &&
		    config_pending(en, l->name))
			continue;
		engine_plan_add(en, l->kind, CHANGE_DELETE, l->name,
				l->manifest, l->arn, NULL, false,
				superseded ? "superseded" : "no longer in Git");
		en->plan.items[en->plan.n - 1].prune = !superseded;
	}
	check_prune(en);
}

/* whether a kind's resources are observed in this plan (only_if_used) */
static bool needs_observing(struct engine *en, const struct reconciler *r)
{
	const char *key;
	json_t *v;
	size_t i;

	if (!r->only_if_used)
		return true;
	for (i = 0; i < en->want.n; i++)
		if (en->want.items[i].kind == r->kind)
			return true;
	json_object_foreach(json_object_get(en->cache, "tags"), key, v)
	{
		if (strstr(key, r->only_if_used) &&
		    !strcmp(engine_json_str(v, "m"), en->opt.controller))
			return true;
	}
	return false;
}

static void local_revision(char *out, size_t size, const struct desired_set *d)
{
	struct buf all = BUF_INIT;
	char hex[65];
	size_t i;

	for (i = 0; i < d->n; i++)
		buf_printf(&all, "%s\n%s\n%s\n", d->items[i].name,
			   d->items[i].request,
			   d->items[i].request2 ? d->items[i].request2 : "");
	sigv4_sha256_hex(hex, buf_cstr(&all), all.len);
	snprintf(out, size, "local-%.7s", hex);
	buf_release(&all);
}

int engine_plan(struct engine **out, struct aws_client *aws,
		const struct manifest_set *set,
		const struct engine_options *opt, struct err *e)
{
	struct engine *en = mem_calloc(1, sizeof(*en));
	struct desired_options dopt;
	size_t i;
	int rc;

	*out = NULL;
	en->aws = aws;
	en->opt = *opt;
	en->set = set;
	pthread_mutex_init(&en->lock, NULL);
	cache_load(en);
	if (set->n_packages && (rc = account_of(en, e)) < 0)
		goto fail;
	dopt = (struct desired_options){ opt->controller,
					 opt->revision ? opt->revision :
							 "local",
					 aws_client_region(aws), en->account };
	if ((rc = desired_build(&en->want, set, &dopt, e)) < 0)
		goto fail;
	if (!opt->revision) {
		/* a plain directory has no commit: its content names it */
		local_revision(en->revision, sizeof(en->revision), &en->want);
		desired_set_release(&en->want);
		dopt.revision = en->opt.revision = en->revision;
		if ((rc = desired_build(&en->want, set, &dopt, e)) < 0)
			goto fail;
	}
	/* endpoints before scaling: a target's owner is its endpoint's */
	for (i = 0; i < N_RECONCILERS; i++)
		if (needs_observing(en, registry[i]) &&
		    (rc = registry[i]->observe(en, e)) < 0) {
			err_prefix(e, "observe %s",
				   desired_kind_name(registry[i]->kind));
			goto fail;
		}
	diff_all(en);
	cache_save(en);
	*out = en;
	return 0;
fail:
	engine_free(en);
	return rc;
}

struct plan *engine_get_plan(struct engine *en)
{
	return &en->plan;
}

const char *engine_revision(const struct engine *en)
{
	return en->opt.revision;
}

void engine_print_owned(const struct engine *en, FILE *fp)
{
	size_t i, n = 0;

	for (i = 0; i < en->n_live; i++) {
		const struct live *l = &en->live[i];
		const char *state = "";

		if (!l->owned || l->kind == DESIRED_MODEL_PACKAGE)
			continue;
		if (l->kind == DESIRED_ENDPOINT)
			state = engine_json_str(l->content, "status");
		else if (l->kind == DESIRED_ALARM)
			state = engine_json_str(l->content, "StateValue");
		else if (l->kind == DESIRED_MONITOR_SCHEDULE)
			state = engine_json_str(l->content,
						"MonitoringScheduleStatus");
		else if (l->kind == DESIRED_RULE)
			state = engine_json_str(l->content, "State");
		fprintf(fp, "  %-14s %-40s %-10s %s %s\n",
			desired_kind_name(l->kind), l->name, state, l->manifest,
			l->revision);
		n++;
	}
	fprintf(fp, "%zu resources managed by '%s'\n", n, en->opt.controller);
}

/* ---- applying ------------------------------------------------------------ */

bool engine_applies(const struct engine *en, const struct change *c)
{
	return c->action != CHANGE_CONFLICT && (!c->drift || en->opt.self_heal);
}

/*
 * Whether a planned change of endpoint `name` (NULL: of any endpoint) is
 * left unapplied: drift without selfHeal, or a conflict.
 */
static bool unapplied_endpoint(const struct engine *en, const char *name)
{
	size_t i;

	for (i = 0; i < en->plan.n; i++) {
		const struct change *c = &en->plan.items[i];

		if (c->kind == DESIRED_ENDPOINT && !engine_applies(en, c) &&
		    (!name || !strcmp(c->name, name)))
			return true;
	}
	return false;
}

/* the changes of one kind, shared by the workers that apply them */
struct batch {
	struct engine *en;
	enum desired_kind kind;
	bool deletes;
	/* an endpoint was left on an old config: keep what it may use */
	bool hold_superseded;
	pthread_mutex_t lock;
	size_t next; /* the next plan item to look at */
	int rc; /* the first failure; the rest of the batch stops */
	struct err err;
};

static struct change *batch_take(struct batch *b)
{
	struct change *c = NULL;

	pthread_mutex_lock(&b->lock);
	while (b->rc == 0 && b->next < b->en->plan.n) {
		struct change *x = &b->en->plan.items[b->next++];

		if (x->kind == b->kind && engine_applies(b->en, x) &&
		    !(b->hold_superseded && x->action == CHANGE_DELETE &&
		      !x->prune) &&
		    (x->action == CHANGE_DELETE) == b->deletes) {
			c = x;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return c;
}

static void *batch_worker(void *payload)
{
	struct batch *b = payload;
	struct change *c;

	while ((c = batch_take(b))) {
		struct err e = ERR_INIT;
		int rc = reconciler_of(b->kind)->apply(b->en, c, &e);

		if (rc < 0) {
			err_prefix(&e, "%s %s '%s'",
				   change_action_name(c->action),
				   desired_kind_name(b->kind), c->name);
			pthread_mutex_lock(&b->lock);
			if (b->rc == 0) {
				b->rc = rc;
				b->err = e;
			}
			pthread_mutex_unlock(&b->lock);
		}
	}
	return NULL;
}

/*
 * Applies every change of `kind`, up to `concurrency` at once: resources
 * of one kind do not depend on each other.
 */
static int apply_kind(struct engine *en, enum desired_kind kind, bool deletes,
		      struct err *e)
{
	struct batch b;
	pthread_t threads[64];
	size_t n = en->opt.concurrency > 0 ? (size_t)en->opt.concurrency : 8;
	size_t i, started = 0;

	memset(&b, 0, sizeof(b));
	b.en = en;
	b.kind = kind;
	b.deletes = deletes;
	b.hold_superseded = unapplied_endpoint(en, NULL);
	pthread_mutex_init(&b.lock, NULL);
	if (n > sizeof(threads) / sizeof(threads[0]))
		n = sizeof(threads) / sizeof(threads[0]);
	for (i = 0; i < n; i++)
		if (pthread_create(&threads[started], NULL, batch_worker, &b) ==
		    0)
			started++;
	if (!started)
		batch_worker(&b);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&b.lock);
	if (b.rc < 0)
		*e = b.err;
	return b.rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static bool changed(const struct engine *en, enum desired_kind kind,
		    const char *name)
{
	size_t i;

	for (i = 0; i < en->plan.n; i++)
		if (en->plan.items[i].kind == kind &&
		    !strcmp(en->plan.items[i].name, name))
			return true;
	return false;
}

/* observed InService on `config` and untouched since: no need to ask */
static bool known_healthy(struct engine *en, const char *name,
			  const char *config)
{
	struct live *l = engine_live_find(en, DESIRED_ENDPOINT, name);

	return l &&
	       !strcmp(engine_json_str(l->content, "status"), "InService") &&
	       !strcmp(engine_json_str(l->content, "config"), config);
}

/*
 * Waits until every desired endpoint serves its desired config: "applied"
 * means healthy, also for endpoints this plan did not touch.
 */
static int wait_endpoints(struct engine *en, struct err *e)
{
	long wait = en->opt.wait_seconds ? en->opt.wait_seconds : 3600;
	long poll = en->opt.poll_ms ? en->opt.poll_ms : 10000;
	time_t deadline = time(NULL) + wait;
	struct buf req = BUF_INIT, out = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < en->want.n && rc == 0; i++) {
		const struct desired_resource *c = &en->want.items[i];
		json_t *w;
		const char *need;

		if (c->kind != DESIRED_ENDPOINT)
			continue;
		w = engine_json_parse(c->request, strlen(c->request));
		need = engine_json_str(w, "EndpointConfigName");
		/* untouched and seen healthy, or left as it is on purpose */
		if ((!changed(en, DESIRED_ENDPOINT, c->name) &&
		     known_healthy(en, c->name, need)) ||
		    unapplied_endpoint(en, c->name)) {
			json_decref(w);
			continue;
		}
		buf_clear(&req);
		engine_request(&req,
			       json_pack("{s:s}", "EndpointName", c->name));
		for (;;) {
			json_t *d;
			const char *status, *config;
			char marker[64];

			if ((rc = aws_json(en->aws, &aws_sagemaker,
					   "DescribeEndpoint", req.ptr, &out,
					   e)) < 0)
				break;
			d = engine_json_parse(out.ptr, out.len);
			status = engine_json_str(d, "EndpointStatus");
			config = engine_json_str(d, "EndpointConfigName");
			if (!strcmp(status, "InService") &&
			    !strcmp(config, need)) {
				/* remember it, so the next run need not ask */
				engine_marker(
					json_object_get(d, "LastModifiedTime"),
					marker, sizeof(marker));
				json_object_set_new(
					json_object_get(en->cache, "endpoints"),
					c->name,
					json_pack("{s:s, s:s, s:s, s:s}", "t",
						  marker, "config", config,
						  "status", status, "reason",
						  ""));
				engine_cache_tags(
					en, engine_json_str(d, "EndpointArn"),
					marker, en->opt.controller, c->manifest,
					en->opt.revision);
				json_decref(d);
				break;
			}
			if (!strcmp(status, "Failed") ||
			    (!strcmp(status, "InService") &&
			     engine_json_str(d, "FailureReason")[0])) {
				rc = err_set(e, ERR_UNHEALTHY,
					     "endpoint '%s' %s: %s", c->name,
					     strcmp(status, "Failed") ?
						     "was rolled back" :
						     "failed",
					     engine_json_str(d,
							     "FailureReason"));
				json_decref(d);
				break;
			}
			json_decref(d);
			if (time(NULL) >= deadline) {
				rc = err_set(e, ERR_UNHEALTHY,
					     "endpoint '%s' is still %s after "
					     "%ld s",
					     c->name, status, wait);
				break;
			}
			sleep_ms(poll);
		}
		json_decref(w);
	}
	buf_release(&req);
	buf_release(&out);
	return rc;
}

/* the bake of one endpoint: its alarms, until when */
struct baking {
	const struct mf_endpoint *ep;
	time_t until;
};

/*
 * The bake: every endpoint this apply changed keeps its healthAlarms out
 * of ALARM for its bakeSeconds (the manifest's, else the option's), all
 * endpoints at once, one DescribeAlarms per poll.
 */
static int bake(struct engine *en, struct err *e)
{
	long poll = en->opt.poll_ms ? en->opt.poll_ms : 10000;
	struct baking *b = NULL;
	struct buf out = BUF_INIT;
	size_t i, j, n = 0;
	time_t now = time(NULL);
	int rc = 0;

	b = mem_calloc(en->set->n_endpoints + 1, sizeof(*b));
	for (i = 0; i < en->set->n_endpoints; i++) {
		const struct mf_endpoint *ep = &en->set->endpoints[i];
		long secs = ep->bake_seconds.set ? (long)ep->bake_seconds.v :
						   en->opt.bake_seconds;

		if (en->opt.bake_cap >= 0 && secs > en->opt.bake_cap)
			secs = en->opt.bake_cap;
		if (secs <= 0 || !ep->health_alarms.n ||
		    !changed(en, DESIRED_ENDPOINT, ep->meta.name))
			continue;
		b[n].ep = ep;
		b[n++].until = now + secs;
	}
	while (n && rc == 0) {
		json_t *names = json_array(), *d, *alarms;
		size_t k;

		for (i = 0; i < n; i++)
			for (j = 0; j < b[i].ep->health_alarms.n; j++)
				json_array_append_new(
					names,
					json_string(
						b[i].ep->health_alarms.items[j]
							.name));
		{
			struct buf req = BUF_INIT;

			engine_request(&req,
				       json_pack("{s:o}", "AlarmNames", names));
			rc = aws_json(en->aws, &aws_cloudwatch,
				      "DescribeAlarms", req.ptr, &out, e);
			buf_release(&req);
		}
		if (rc < 0)
			break;
		d = engine_json_parse(out.ptr, out.len);
		alarms = json_object_get(d, "MetricAlarms");
		for (k = 0; k < json_array_size(alarms) && rc == 0; k++) {
			json_t *a = json_array_get(alarms, k);
			const char *name = engine_json_str(a, "AlarmName");

			if (strcmp(engine_json_str(a, "StateValue"), "ALARM"))
				continue;
			for (i = 0; i < n && rc == 0; i++)
				for (j = 0; j < b[i].ep->health_alarms.n; j++)
					if (!strcmp(b[i].ep->health_alarms
							    .items[j]
							    .name,
						    name))
						rc = err_set(
							e, ERR_UNHEALTHY,
							"endpoint '%s': health "
							"alarm '%s' went ALARM "
							"during the bake: %s",
							b[i].ep->meta.name,
							name,
							engine_json_str(
								a,
								"StateReason"));
		}
		json_decref(d);
		/* done baking: drop those whose time is up */
		now = time(NULL);
		for (i = 0; i < n;)
			if (now >= b[i].until)
				b[i] = b[--n];
			else
				i++;
		if (n && rc == 0)
			sleep_ms(poll);
	}
	free(b);
	buf_release(&out);
	return rc;
}

/* the lease, before a batch of writes */
static int may_write(struct engine *en, struct err *e)
{
	if (en->opt.may_write && !en->opt.may_write(en->opt.may_write_payload))
		return err_set(e, ERR_LIMIT,
			       "this controller is not the leader (any more): "
			       "nothing more is written");
	return 0;
}

int engine_apply(struct engine *en, struct err *e)
{
	static const enum desired_kind order[] = {
		DESIRED_MODEL_PACKAGE, DESIRED_MODEL, DESIRED_ENDPOINT_CONFIG,
		DESIRED_ALARM,	       DESIRED_RULE,  DESIRED_ENDPOINT,
	};
	/* what needs its endpoint in service */
	static const enum desired_kind after_endpoints[] = {
		DESIRED_SCALING,
		DESIRED_MONITOR_JOB,
		DESIRED_MONITOR_SCHEDULE,
	};
	static const enum desired_kind delete_order[] = {
		DESIRED_RULE,
		DESIRED_MONITOR_SCHEDULE,
		DESIRED_MONITOR_JOB,
		DESIRED_SCALING,
		DESIRED_ALARM,
		DESIRED_ENDPOINT,
		DESIRED_ENDPOINT_CONFIG,
		DESIRED_MODEL,
	};
	size_t i;
	int rc = 0;

	if (en->plan.refusal)
		return err_set(e, ERR_INVALID, "%s", en->plan.refusal);
	if (en->plan.conflicts)
		return err_set(e, ERR_INVALID,
			       "the plan has %zu conflict%s (see the plan): "
			       "nothing applied",
			       en->plan.conflicts,
			       en->plan.conflicts == 1 ? "" : "s");
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && rc == 0; i++)
		if ((rc = may_write(en, e)) == 0)
			rc = apply_kind(en, order[i], false, e);
	if (rc == 0)
		rc = wait_endpoints(en, e);
	/* a scaling target or a monitor needs its endpoint InService */
	for (i = 0; i < sizeof(after_endpoints) / sizeof(after_endpoints[0]) &&
		    rc == 0;
	     i++)
		if ((rc = may_write(en, e)) == 0)
			rc = apply_kind(en, after_endpoints[i], false, e);
	/* the old state stays until the new one has baked */
	if (rc == 0)
		rc = bake(en, e);
	/* deletes only once the new state serves */
	for (i = 0;
	     i < sizeof(delete_order) / sizeof(delete_order[0]) && rc == 0; i++)
		if ((rc = may_write(en, e)) == 0)
			rc = apply_kind(en, delete_order[i], true, e);
	if (rc == 0)
		remember_applied(en);
	cache_save(en);
	return rc;
}

void engine_free(struct engine *en)
{
	size_t i;

	if (!en)
		return;
	for (i = 0; i < en->n_live; i++) {
		free(en->live[i].name);
		free(en->live[i].arn);
		free(en->live[i].managed_by);
		free(en->live[i].manifest);
		free(en->live[i].revision);
		json_decref(en->live[i].content);
	}
	free(en->live);
	for (i = 0; i < en->plan.n; i++) {
		free(en->plan.items[i].name);
		free(en->plan.items[i].manifest);
		free(en->plan.items[i].detail);
		free(en->plan.items[i].arn);
	}
	free(en->plan.items);
	free(en->plan.refusal);
	desired_set_release(&en->want);
	json_decref(en->cache);
	free(en->cache_path);
	pthread_mutex_destroy(&en->lock);
	free(en);
}

/* ---- output -------------------------------------------------------------- */

static char symbol(const struct change *c)
{
	if (c->drift)
		return '~';
	switch (c->action) {
	case CHANGE_CREATE:
		return '+';
	case CHANGE_UPDATE:
		return '~';
	case CHANGE_DELETE:
		return '-';
	default:
		return '!';
	}
}

void plan_print(const struct plan *p, FILE *fp)
{
	size_t i;

	fprintf(fp,
		"plan: %zu to create, %zu to update, %zu to delete, %zu "
		"drifted, %zu conflict%s\n",
		p->creates, p->updates, p->deletes, p->drifts, p->conflicts,
		p->conflicts == 1 ? "" : "s");
	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->items[i];

		fprintf(fp, "  %c %-14s %-40s %s%s%s%s\n", symbol(c),
			desired_kind_name(c->kind), c->name,
			c->drift ? "drift: " : "",
			c->action == CHANGE_CONFLICT ? "conflict: " : "",
			c->detail,
			c->inherited ? " (pending before this change)" : "");
	}
	if (p->refusal)
		fprintf(fp, "refused: %s\n", p->refusal);
}

char *plan_json(const struct plan *p)
{
	json_t *root = json_object(), *list = json_array();
	char *s, *copy;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->items[i];

		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "kind",
				  desired_kind_name(c->kind), "name", c->name,
				  "action", change_action_name(c->action),
				  "manifest", c->manifest, "drift", c->drift,
				  "detail", c->detail, "pendingBefore",
				  c->inherited));
	}
	json_object_set_new(root, "changes", list);
	json_object_set_new(root, "summary",
			    json_pack("{s:I, s:I, s:I, s:I, s:I}", "create",
				      (json_int_t)p->creates, "update",
				      (json_int_t)p->updates, "delete",
				      (json_int_t)p->deletes, "drift",
				      (json_int_t)p->drifts, "conflict",
				      (json_int_t)p->conflicts));
	if (p->refusal)
		json_object_set_new(root, "refused", json_string(p->refusal));
	s = json_dumps(root, JSON_INDENT(2));
	copy = mem_strdup(s);
	free(s);
	json_decref(root);
	return copy;
}

void change_line(struct buf *out, const struct change *c)
{
	buf_printf(out, "%s %s/%s%s%s", change_action_name(c->action),
		   desired_kind_name(c->kind), c->name, *c->detail ? ": " : "",
		   c->detail);
}

/* a table cell: pipes and newlines would break the row, backticks the code */
static void md_cell(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", fp);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', fp);
		else if (*s == '`')
			fputc('\'', fp);
		else
			fputc(*s, fp);
	}
}

static void md_table(const struct plan *p, FILE *fp, bool inherited)
{
	size_t i;

	fputs("| | Kind | Name | Change |\n|:-:|---|---|---|\n", fp);
	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->items[i];

		if (c->inherited != inherited)
			continue;
		fprintf(fp, "| `%c` | %s | `", symbol(c),
			desired_kind_name(c->kind));
		md_cell(fp, c->name);
		fprintf(fp, "` | %s%s%s", c->drift ? "drift, " : "",
			change_action_name(c->action), *c->detail ? ": " : "");
		md_cell(fp, c->detail);
		fputs(" |\n", fp);
	}
}

void plan_markdown(const struct plan *p, FILE *fp, const char *heading)
{
	size_t i, mine = 0, creates = 0, updates = 0, deletes = 0, other = 0;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->items[i];

		if (c->inherited)
			continue;
		mine++;
		creates += c->action == CHANGE_CREATE;
		updates += c->action == CHANGE_UPDATE;
		deletes += c->action == CHANGE_DELETE;
	}
	other = mine - creates - updates - deletes;
	if (heading)
		fprintf(fp, "%s\n\n", heading);
	if (p->refusal) {
		fputs("> **Refused:** ", fp);
		md_cell(fp, p->refusal);
		fputs("\n\n", fp);
	}
	if (!mine) {
		fputs("**No changes** in AWS from this revision.\n", fp);
	} else {
		fprintf(fp,
			"**%zu to create, %zu to update, %zu to delete%s**\n\n",
			creates, updates, deletes,
			other ? ", and conflicts to resolve" : "");
		md_table(p, fp, false);
	}
	if (mine < p->n) {
		fprintf(fp,
			"\n<details><summary>%zu change%s pending before this "
			"one (drift, or a revision not applied yet)</summary>"
			"\n\n",
			p->n - mine, p->n - mine == 1 ? "" : "s");
		md_table(p, fp, true);
		fputs("\n</details>\n", fp);
	}
}
