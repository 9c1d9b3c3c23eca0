/*
 * The desired state: the manifests of one revision as typed C structs.
 *
 * A manifest_set is loaded from files or a directory tree of *.yaml /
 * *.yml files, validated whole (syntax, schema, AWS's own constraints,
 * references between manifests) and handed out only when it has no error:
 * a revision is applied all or nothing (DESIGN.md §2). Every error goes to
 * a diag_list as FILE:LINE:COL, and all errors of a tree are reported in
 * one run.
 *
 * Field names in the YAML are camelCase and map onto the SageMaker,
 * CloudWatch and Application Auto Scaling API members; docs/manifests.md
 * is the reference. Optional scalars carry a `set` flag; optional strings
 * and sub-structs are NULL when absent; enums are 0 when absent.
 *
 * Ownership: the set owns everything in it. Each kind's array is sorted
 * by name, so iteration order does not depend on file layout.
 */
#ifndef SAGESYNC_MANIFESTS_MANIFEST_H
#define SAGESYNC_MANIFESTS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "ytree.h"

#define MANIFEST_API_VERSION "sagesync/v1"

/*
 * SageMaker names are at most 63 characters; Models and EndpointConfigs
 * get "-" and a 7-character hex content hash (DESIGN.md §2), so the
 * manifests naming them must leave room for it.
 */
#define MANIFEST_HASH_SUFFIX_LEN 8
#define MANIFEST_SM_NAME_MAX (63 - MANIFEST_HASH_SUFFIX_LEN)

/* where something was written, for error messages */
struct mf_loc {
	const char *file; /* borrowed from the set */
	int line;
	int col;
};

struct mf_int {
	long v;
	bool set;
};

struct mf_num {
	double v;
	bool set;
};

struct mf_bool {
	bool v;
	bool set;
};

struct mf_kv {
	char *key;
	char *value;
};

struct mf_kv_list {
	struct mf_kv *items;
	size_t n;
};

struct mf_str_list {
	char **items;
	size_t n;
};

/* a reference to another manifest by name (or an ARN where allowed) */
struct mf_ref {
	char *name;
	struct mf_loc loc;
};

struct mf_ref_list {
	struct mf_ref *items;
	size_t n;
};

enum mf_kind {
	MF_KIND_MODEL_PACKAGE,
	MF_KIND_MODEL,
	MF_KIND_ENDPOINT,
	MF_KIND_ALARM,
	MF_KIND_DATA_QUALITY_MONITOR,
	MF_KIND_RETRAIN_TRIGGER,
	MF_KIND_COUNT,
};

struct mf_meta {
	char *name;
	struct mf_kv_list labels;
	struct mf_loc loc; /* the document */
	struct mf_loc name_loc; /* metadata.name's value */
};

enum mf_approval {
	MF_APPROVAL_UNSET,
	MF_APPROVAL_APPROVED,
	MF_APPROVAL_REJECTED,
	MF_APPROVAL_PENDING_MANUAL_APPROVAL,
};

struct mf_model_package {
	struct mf_meta meta;
	char *group;
	struct mf_int version;
	char *arn;
	enum mf_approval approval;
	char *description;
};

enum mf_container_mode {
	MF_CONTAINER_MODE_UNSET,
	MF_CONTAINER_MODE_SINGLE_MODEL,
	MF_CONTAINER_MODE_MULTI_MODEL,
};

struct mf_container {
	char *image;
	char *model_data_url;
	struct mf_kv_list environment;
	enum mf_container_mode mode;
};

struct mf_vpc {
	struct mf_str_list security_group_ids;
	struct mf_str_list subnets;
};

struct mf_model {
	struct mf_meta meta;
	char *execution_role_arn;
	struct mf_ref model_package; /* manifest name or ARN; name NULL if unset
				      */
	struct mf_container *containers;
	size_t n_containers;
	struct mf_vpc *vpc;
	struct mf_bool network_isolation;
	struct mf_kv_list tags;
};

struct mf_serverless {
	struct mf_int memory_mb;
	struct mf_int max_concurrency;
	struct mf_int provisioned_concurrency;
};

struct mf_autoscaling {
	struct mf_int min;
	struct mf_int max;
	struct mf_num target_invocations_per_instance;
	struct mf_int scale_in_cooldown;
	struct mf_int scale_out_cooldown;
};

struct mf_variant {
	struct mf_loc loc;
	char *name;
	struct mf_ref model;
	char *instance_type;
	struct mf_int instance_count;
	struct mf_num weight;
	struct mf_serverless *serverless;
	struct mf_autoscaling *autoscaling;
};

enum mf_capture_mode {
	MF_CAPTURE_MODE_UNSET,
	MF_CAPTURE_MODE_INPUT,
	MF_CAPTURE_MODE_OUTPUT,
};

struct mf_data_capture {
	struct mf_bool enabled;
	struct mf_int sampling_percentage;
	char *destination_s3_uri;
	char *kms_key_id;
	struct mf_str_list capture_modes; /* "Input", "Output" */
};

enum mf_strategy {
	MF_STRATEGY_UNSET,
	MF_STRATEGY_ALL_AT_ONCE,
	MF_STRATEGY_CANARY,
	MF_STRATEGY_LINEAR,
	MF_STRATEGY_ROLLING,
};

enum mf_capacity_type {
	MF_CAPACITY_UNSET,
	MF_CAPACITY_INSTANCE_COUNT,
	MF_CAPACITY_CAPACITY_PERCENT,
};

struct mf_capacity {
	enum mf_capacity_type type;
	struct mf_int value;
};

struct mf_deployment {
	enum mf_strategy strategy;
	struct mf_capacity *step_size;
	struct mf_int wait_interval_seconds;
	struct mf_int termination_wait_seconds;
	struct mf_int maximum_execution_timeout_seconds;
	struct mf_capacity *rollback_maximum_batch_size;
	struct mf_ref_list rollback_alarms;
};

struct mf_endpoint {
	struct mf_meta meta;
	struct mf_variant *variants;
	size_t n_variants;
	struct mf_data_capture *data_capture;
	char *kms_key_id;
	struct mf_deployment *deployment;
	struct mf_int bake_seconds;
	struct mf_ref_list health_alarms;
	struct mf_kv_list tags;
};

enum mf_statistic {
	MF_STATISTIC_UNSET,
	MF_STATISTIC_SAMPLE_COUNT,
	MF_STATISTIC_AVERAGE,
	MF_STATISTIC_SUM,
	MF_STATISTIC_MINIMUM,
	MF_STATISTIC_MAXIMUM,
};

enum mf_comparison {
	MF_COMPARISON_UNSET,
	MF_COMPARISON_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
	MF_COMPARISON_GREATER_THAN_THRESHOLD,
	MF_COMPARISON_LESS_THAN_THRESHOLD,
	MF_COMPARISON_LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

enum mf_missing_data {
	MF_MISSING_DATA_UNSET,
	MF_MISSING_DATA_BREACHING,
	MF_MISSING_DATA_NOT_BREACHING,
	MF_MISSING_DATA_IGNORE,
	MF_MISSING_DATA_MISSING,
};

struct mf_alarm {
	struct mf_meta meta;
	struct mf_ref endpoint;
	struct mf_ref variant;
	/* a DataQualityMonitor: the alarm watches the metrics its schedule
	 * publishes (dimensions Endpoint and MonitoringSchedule) */
	struct mf_ref monitor;
	char *metric;
	char *namespace;
	enum mf_statistic statistic;
	struct mf_int period;
	struct mf_int evaluation_periods;
	struct mf_int datapoints_to_alarm;
	struct mf_num threshold;
	enum mf_comparison comparison;
	enum mf_missing_data treat_missing_data;
	struct mf_str_list actions;
	char *description;
	struct mf_kv_list tags;
};

struct mf_baseline {
	char *statistics; /* S3 URIs */
	char *constraints;
};

/* SageMaker Model Monitor (data quality) on an endpoint */
struct mf_monitor {
	struct mf_meta meta;
	struct mf_ref endpoint;
	char *schedule; /* "cron(0 * ? * * *)" */
	struct mf_baseline *baseline;
	char *output; /* S3 URI of the reports */
	char *instance_type;
	struct mf_int instance_count;
	struct mf_int volume_size_gb;
	char *role_arn;
	struct mf_int max_runtime_seconds;
	char *image; /* NULL: the region's prebuilt analyzer */
	struct mf_kv_list tags;
};

/* an EventBridge rule: named alarms entering ALARM start a pipeline */
struct mf_trigger {
	struct mf_meta meta;
	struct mf_ref_list alarms;
	char *pipeline_arn;
	struct mf_kv_list parameters;
	char *role_arn;
	char *sns_topic_arn;
	struct mf_bool enabled;
	char *description;
	struct mf_kv_list tags;
};

struct manifest_limits {
	size_t max_file_bytes;
	size_t max_files;
	size_t max_errors; /* per file; the rest are summarised */
	struct ytree_limits yaml;
};

#define MANIFEST_LIMITS_INIT                                \
	{                                                   \
		1024 * 1024, 100000, 100, YTREE_LIMITS_INIT \
	}

struct manifest_set {
	struct mf_model_package *packages;
	size_t n_packages;
	struct mf_model *models;
	size_t n_models;
	struct mf_endpoint *endpoints;
	size_t n_endpoints;
	struct mf_alarm *alarms;
	size_t n_alarms;
	struct mf_monitor *monitors;
	size_t n_monitors;
	struct mf_trigger *triggers;
	size_t n_triggers;
	size_t n_files; /* manifest files read */
	/* private */
	char **files;
	size_t cap_files, cap_packages, cap_models, cap_endpoints, cap_alarms,
		cap_monitors, cap_triggers;
	struct manifest_limits limits;
	bool finished;
};

/* `lim` may be NULL for the defaults. */
void manifest_set_new(struct manifest_set **out,
		      const struct manifest_limits *lim);
/*
 * Adds the manifests in `data`, reported as coming from `file`. Returns
 * -1 if this added any diagnostic.
 */
int manifest_set_add_buffer(struct manifest_set *set, const char *file,
			    const char *data, size_t len,
			    struct diag_list *diags);
/*
 * Adds a file, or every *.yaml / *.yml file below a directory (hidden
 * entries skipped). Symbolic links are never followed: a link with a
 * manifest's name, to a directory, or leading outside `path` is an error;
 * a link to another file inside is skipped. Returns -1 if this added any
 * diagnostic.
 */
int manifest_set_add_path(struct manifest_set *set, const char *path,
			  struct diag_list *diags);
/*
 * Checks what needs the whole set: duplicate names and references. Sorts
 * the diagnostics. Returns -1 if `diags` holds any error.
 */
int manifest_set_finish(struct manifest_set *set, struct diag_list *diags);
void manifest_set_free(struct manifest_set *set);

/*
 * Loads and validates `path` in one call. On success *out is the set; on
 * any error *out is NULL, -1 is returned and `diags` lists every error.
 */
int manifest_load(struct manifest_set **out, const char *path,
		  const struct manifest_limits *lim, struct diag_list *diags);

/*
 * Whether the loader reads an entry named `name` of a directory: a
 * directory (`dir`), or a *.yaml / *.yml file, and neither hidden (a name
 * starting with '.'). The Git export writes exactly these.
 */
bool manifest_reads_entry(const char *name, bool dir);

/* Lookups by name in a finished set; NULL when absent. */
const struct mf_model_package *
manifest_find_package(const struct manifest_set *set, const char *name);
const struct mf_model *manifest_find_model(const struct manifest_set *set,
					   const char *name);
const struct mf_endpoint *manifest_find_endpoint(const struct manifest_set *set,
						 const char *name);
const struct mf_alarm *manifest_find_alarm(const struct manifest_set *set,
					   const char *name);

const char *manifest_kind_name(enum mf_kind kind);
/* The manifests of one kind, in name order: how many, and the i-th's
 * metadata (every kind's struct starts with it). */
size_t manifest_kind_count(const struct manifest_set *set, enum mf_kind kind);
const struct mf_meta *manifest_kind_item(const struct manifest_set *set,
					 enum mf_kind kind, size_t i);
/* Total number of manifests in the set. */
size_t manifest_set_count(const struct manifest_set *set);

/*
 * True when `s` is a model package ARN rather than a manifest name
 * (Model.modelPackage accepts both).
 */
bool manifest_is_arn(const char *s);

#endif
