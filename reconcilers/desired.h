/*
 * The desired AWS resources of a manifest set: what the controller would
 * create, under which names, with which request and tags. Pure: no I/O,
 * no clock, so the naming and hashing rules are tested without AWS.
 *
 * Naming (DESIGN.md §2): SageMaker Models and EndpointConfigs are
 * immutable, so each is created as "<manifest name>-<hash>", the hash
 * being the first 7 hex digits of SHA-256 over the canonical JSON of its
 * create request (sorted keys, no tags). Identical content gives the same
 * name, so re-applying is a no-op, and any change gives a new resource to
 * switch the endpoint to. Data-quality job definitions are immutable too
 * and named the same way. Endpoints, alarms, scaling targets, monitoring
 * schedules and EventBridge rules keep their manifest's name and are
 * updated in place.
 *
 * Ownership tags on everything created: sagesync:managed-by (controller
 * name), sagesync:revision (commit) and sagesync:manifest (Kind/name);
 * they are not part of the hash, so a new revision with the same content
 * keeps every name.
 *
 * Ownership: a desired_set owns its strings; desired_set_release() frees.
 */
#ifndef SAGESYNC_RECONCILERS_DESIRED_H
#define SAGESYNC_RECONCILERS_DESIRED_H

#include <stddef.h>

#include "err.h"
#include "manifest.h"

#define DESIRED_TAG_MANAGED_BY "sagesync:managed-by"
#define DESIRED_TAG_REVISION "sagesync:revision"
#define DESIRED_TAG_MANIFEST "sagesync:manifest"

/* in dependency order: a resource depends only on earlier kinds */
enum desired_kind {
	DESIRED_MODEL_PACKAGE, /* UpdateModelPackage (approval) */
	DESIRED_MODEL, /* CreateModel */
	DESIRED_ENDPOINT_CONFIG, /* CreateEndpointConfig */
	DESIRED_ENDPOINT, /* CreateEndpoint / UpdateEndpoint */
	DESIRED_SCALING, /* RegisterScalableTarget + PutScalingPolicy */
	DESIRED_ALARM, /* PutMetricAlarm */
	DESIRED_MONITOR_JOB, /* CreateDataQualityJobDefinition */
	DESIRED_MONITOR_SCHEDULE, /* Create/UpdateMonitoringSchedule */
	DESIRED_RULE, /* PutRule + PutTargets (EventBridge) */
	DESIRED_KIND_COUNT,
};

struct desired_resource {
	enum desired_kind kind;
	char *name; /* the AWS name (or scaling ResourceId) */
	char *manifest; /* "Endpoint/churn-prod" */
	char *hash; /* content hash; "" for resources updated in place */
	/* the request, canonical JSON without tags: CreateModel,
	 * CreateEndpointConfig, CreateEndpoint (with DeploymentConfig),
	 * RegisterScalableTarget, PutMetricAlarm, UpdateModelPackage,
	 * CreateDataQualityJobDefinition, CreateMonitoringSchedule, PutRule */
	char *request;
	/* PutScalingPolicy for DESIRED_SCALING, PutTargets for DESIRED_RULE,
	 * else NULL */
	char *request2;
	char *tags; /* JSON list of {"Key", "Value"}, ownership tags first */
	struct mf_loc loc; /* the manifest, for messages */
};

struct desired_set {
	struct desired_resource *items;
	size_t n;
};

struct desired_options {
	const char *controller; /* config `name` */
	const char *revision; /* the commit (or "local") */
	const char *region; /* for model package ARNs, monitor images */
	const char *account; /* 12 digits, for model package ARNs */
};

/* Builds the desired resources of `set`, in dependency order. */
int desired_build(struct desired_set *out, const struct manifest_set *set,
		  const struct desired_options *opt, struct err *e);
void desired_set_release(struct desired_set *d);

/* The resource of `kind` named `name`, or NULL. */
const struct desired_resource *desired_find(const struct desired_set *d,
					    enum desired_kind kind,
					    const char *name);
const char *desired_kind_name(enum desired_kind kind);

#endif
