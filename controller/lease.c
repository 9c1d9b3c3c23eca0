/*
 * The DynamoDB lease (see lease.h).
 */
#include "lease.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

struct lease {
	struct aws_client *aws;
	struct lease_options opt;
	char *table, *key;
	char holder[128];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	/* under lock */
	bool leader;
	long fence;
	char rvn[40]; /* the rvn we wrote last (leader) */
	double renewed; /* monotonic seconds of the last good renewal */
	/* the lease's thread only: what a standby watches */
	char seen_rvn[40];
	double seen_at;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void new_rvn(char out[40])
{
	snprintf(out, 40, "%08x%08x%08x", arc4random(), arc4random(),
		 arc4random());
}

/* the margin a leader keeps before the end of its lease */
static double margin(const struct lease *l)
{
	double m = (double)l->opt.renew_ms / 1000.0;

	if (m > (double)l->opt.lease_ms / 3000.0)
		m = (double)l->opt.lease_ms / 3000.0;
	return m;
}

static int call(struct lease *l, const char *op, json_t *req, json_t **out,
		struct err *e)
{
	struct buf body = BUF_INIT;
	char *s = json_dumps(req, JSON_COMPACT);
	int rc;

	json_decref(req);
	rc = aws_json(l->aws, &aws_dynamodb, op, s, &body, e);
	free(s);
	if (rc == 0 && out)
		*out = json_loadb(body.ptr ? body.ptr : "{}", body.len, 0,
				  NULL);
	buf_release(&body);
	return rc;
}

static bool condition_failed(const struct err *e)
{
	return e->aws_code[0] &&
	       strstr(e->aws_code, "ConditionalCheckFailed") != NULL;
}

static void set_leader(struct lease *l, bool leader, long fence,
		       const char *rvn, double renewed)
{
	bool was;

	pthread_mutex_lock(&l->lock);
	was = l->leader;
	l->leader = leader;
	if (leader) {
		l->fence = fence;
		snprintf(l->rvn, sizeof(l->rvn), "%s", rvn);
		l->renewed = renewed;
	}
	pthread_mutex_unlock(&l->lock);
	if (was != leader) {
		log_msg(leader ? LOG_INFO : LOG_WARN, NULL, NULL,
			leader ? "leader now (lease %s/%s, fence %ld)" :
				 "no longer the leader (lease %s/%s): "
				 "nothing more is written",
			l->table, l->key, fence);
		if (l->opt.changed)
			l->opt.changed(leader, l->opt.payload);
	}
}

/* the leader: replace the rvn, if it is still ours */
static void renew(struct lease *l)
{
	struct err e = ERR_INIT;
	char old[40], rvn[40];
	long fence;
	double sent = now_s(), renewed;

	pthread_mutex_lock(&l->lock);
	snprintf(old, sizeof(old), "%s", l->rvn);
	fence = l->fence;
	renewed = l->renewed;
	pthread_mutex_unlock(&l->lock);
	new_rvn(rvn);
	if (call(l, "UpdateItem",
		 json_pack("{s:s, s:{s:{s:s}}, s:s, s:s, s:{s:s, s:s}, "
			   "s:{s:{s:s}, s:{s:s}, s:{s:s}}}",
			   "TableName", l->table, "Key", "leaseKey", "S",
			   l->key, "UpdateExpression", "SET #r = :new",
			   "ConditionExpression", "#h = :me AND #r = :old",
			   "ExpressionAttributeNames", "#r", "rvn", "#h",
			   "holder", "ExpressionAttributeValues", ":new", "S",
			   rvn, ":me", "S", l->holder, ":old", "S", old),
		 NULL, &e) == 0) {
		set_leader(l, true, fence, rvn, sent);
		return;
	}
	if (condition_failed(&e)) {
		log_msg(LOG_WARN, NULL, NULL,
			"the lease was taken over by another controller");
		set_leader(l, false, 0, NULL, 0);
	} else if (now_s() - renewed >=
		   (double)l->opt.lease_ms / 1000.0 - margin(l)) {
		log_msg(LOG_WARN, NULL, NULL,
			"the lease cannot be renewed (%s) and is about to "
			"expire",
			e.msg);
		set_leader(l, false, 0, NULL, 0);
	} else {
		log_msg(LOG_WARN, NULL, NULL,
			"renewing the lease: %s; trying again", e.msg);
	}
}

/* a standby: watch the rvn; take the lease when it stood still long */
static void watch(struct lease *l)
{
	struct err e = ERR_INIT;
	json_t *item = NULL, *ans = NULL;
	const char *rvn;
	long fence = 0;
	char mine[40];
	double t = now_s();
	int rc;

	if (call(l, "GetItem",
		 json_pack("{s:s, s:{s:{s:s}}, s:b}", "TableName", l->table,
			   "Key", "leaseKey", "S", l->key, "ConsistentRead", 1),
		 &ans, &e) < 0) {
		log_msg(LOG_WARN, NULL, NULL, "reading the lease: %s", e.msg);
		return;
	}
	item = json_object_get(ans, "Item");
	new_rvn(mine);
	if (!item) {
		/* nobody holds it: the first leader */
		rc = call(l, "PutItem",
			  json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, "
				    "s:{s:s}}, s:s}",
				    "TableName", l->table, "Item", "leaseKey",
				    "S", l->key, "holder", "S", l->holder,
				    "rvn", "S", mine, "fence", "N", "1",
				    "ConditionExpression",
				    "attribute_not_exists(leaseKey)"),
			  NULL, &e);
		if (rc == 0)
			set_leader(l, true, 1, mine, t);
		goto out;
	}
	rvn = json_string_value(
		json_object_get(json_object_get(item, "rvn"), "S"));
	{
		const char *f = json_string_value(
			json_object_get(json_object_get(item, "fence"), "N"));

		fence = f ? strtol(f, NULL, 10) : 0;
	}
	if (!rvn)
		goto out;
	if (strcmp(rvn, l->seen_rvn)) {
		snprintf(l->seen_rvn, sizeof(l->seen_rvn), "%s", rvn);
		l->seen_at = t;
		goto out;
	}
	if (t - l->seen_at < (double)l->opt.lease_ms / 1000.0)
		goto out;
	/* the same rvn for a whole lease: its holder is gone */
	{
		char next[24];

		snprintf(next, sizeof(next), "%ld", fence + 1);
		rc = call(l, "PutItem",
			  json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, "
				    "s:{s:s}}, s:s, s:{s:s}, s:{s:{s:s}}}",
				    "TableName", l->table, "Item", "leaseKey",
				    "S", l->key, "holder", "S", l->holder,
				    "rvn", "S", mine, "fence", "N", next,
				    "ConditionExpression", "#r = :seen",
				    "ExpressionAttributeNames", "#r", "rvn",
				    "ExpressionAttributeValues", ":seen", "S",
				    l->seen_rvn),
			  NULL, &e);
		if (rc == 0)
			set_leader(l, true, fence + 1, mine, t);
	}
out:
	if (e.code && !condition_failed(&e))
		log_msg(LOG_WARN, NULL, NULL, "taking the lease: %s", e.msg);
	json_decref(ans);
}

static void *run(void *payload)
{
	struct lease *l = payload;

	for (;;) {
		struct timespec until;
		bool leader;

		pthread_mutex_lock(&l->lock);
		leader = l->leader;
		if (l->stop) {
			pthread_mutex_unlock(&l->lock);
			return NULL;
		}
		pthread_mutex_unlock(&l->lock);
		if (leader)
			renew(l);
		else
			watch(l);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->opt.renew_ms / 1000;
		until.tv_nsec += (l->opt.renew_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&l->lock);
		while (!l->stop &&
		       pthread_cond_timedwait(&l->wake, &l->lock, &until) == 0)
			;
		pthread_mutex_unlock(&l->lock);
	}
}

int lease_start(struct lease **out, struct aws_client *aws,
		const struct lease_options *opt, struct err *e)
{
	struct lease *l = mem_calloc(1, sizeof(*l));
	char host[64] = "";

	(void)e;
	l->aws = aws;
	l->opt = *opt;
	l->table = mem_strdup(opt->table);
	l->key = mem_strdup(opt->key);
	l->opt.table = l->table;
	l->opt.key = l->key;
	gethostname(host, sizeof(host) - 1);
	snprintf(l->holder, sizeof(l->holder), "%s:%ld:%08x",
		 host[0] ? host : "unknown", (long)getpid(), arc4random());
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	pthread_create(&l->thread, NULL, run, l);
	*out = l;
	return 0;
}

void lease_stop(struct lease *l)
{
	struct err e = ERR_INIT;
	bool leader;
	char rvn[40];

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_mutex_lock(&l->lock);
	leader = l->leader;
	snprintf(rvn, sizeof(rvn), "%s", l->rvn);
	pthread_mutex_unlock(&l->lock);
	/* a clean exit hands over at once: the item goes, if still ours */
	if (leader && call(l, "DeleteItem",
			   json_pack("{s:s, s:{s:{s:s}}, s:s, s:{s:s, s:s}, "
				     "s:{s:{s:s}, s:{s:s}}}",
				     "TableName", l->table, "Key", "leaseKey",
				     "S", l->key, "ConditionExpression",
				     "#h = :me AND #r = :old",
				     "ExpressionAttributeNames", "#h", "holder",
				     "#r", "rvn", "ExpressionAttributeValues",
				     ":me", "S", l->holder, ":old", "S", rvn),
			   NULL, &e) == 0)
		log_msg(LOG_INFO, NULL, NULL, "released the lease");
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l->table);
	free(l->key);
	free(l);
}

bool lease_may_write(struct lease *l)
{
	bool ok;

	if (!l)
		return true; /* no election: the only controller */
	pthread_mutex_lock(&l->lock);
	ok = l->leader && now_s() - l->renewed <
				  (double)l->opt.lease_ms / 1000.0 - margin(l);
	pthread_mutex_unlock(&l->lock);
	return ok;
}

long lease_fence(struct lease *l)
{
	long f;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	f = l->fence;
	pthread_mutex_unlock(&l->lock);
	return f;
}

const char *lease_holder(const struct lease *l)
{
	return l ? l->holder : "";
}

char *lease_table_request(const char *table)
{
	json_t *o = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}",
			      "TableName", table, "AttributeDefinitions",
			      "AttributeName", "leaseKey", "AttributeType", "S",
			      "KeySchema", "AttributeName", "leaseKey",
			      "KeyType", "HASH", "BillingMode",
			      "PAY_PER_REQUEST");
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}
