/*
 * The AWS client every reconciler uses: endpoints, signing, the JSON and
 * query protocols, errors, retries and a client-side rate limit.
 *
 * Calls take and return bytes: the JSON a reconciler builds and parses
 * stays in that reconciler (STYLE.md), and query answers come back as an
 * xmldoc. One call is synchronous; a client may be shared by threads
 * (each thread gets its own connection cache).
 *
 * Errors fill struct err with the service's code (aws_code), the HTTP
 * status, the request id, `retryable`, and a message
 *   sagemaker UpdateEndpoint: ValidationException: Could not find ...
 * Retries follow AWS's standard mode: up to `max_attempts` attempts,
 * capped exponential backoff with full jitter, on throttling, 5xx and
 * transport errors, never on a client error such as ValidationException.
 *
 * Endpoints: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the
 * configured endpoint_url, then https://<prefix>.<region>.amazonaws.com
 * (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the overrides).
 */
#ifndef SAGESYNC_RECONCILERS_AWS_H
#define SAGESYNC_RECONCILERS_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "creds.h"
#include "err.h"
#include "xmldoc.h"

enum aws_protocol {
	AWS_PROTOCOL_JSON,
	AWS_PROTOCOL_QUERY,
};

/* A service as botocore's model describes it (shared/aws-models). */
struct aws_service {
	const char *name; /* metrics and messages: "sagemaker" */
	const char *signing_name; /* "sagemaker", "monitoring" */
	const char *host_prefix; /* "api.sagemaker", "monitoring" */
	const char *env_name; /* AWS_ENDPOINT_URL_<env_name> */
	enum aws_protocol protocol;
	const char *target_prefix; /* JSON: X-Amz-Target prefix */
	const char *json_version; /* JSON: "1.0" or "1.1" */
	const char *api_version; /* query: Version= */
	bool global; /* STS may use the global endpoint; we stay regional */
};

extern const struct aws_service aws_sagemaker;
extern const struct aws_service aws_cloudwatch;
extern const struct aws_service aws_autoscaling;
extern const struct aws_service aws_sts;
extern const struct aws_service aws_sns;
extern const struct aws_service aws_dynamodb;
extern const struct aws_service aws_events;

struct aws_options {
	const char *region; /* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile */
	const char *profile; /* NULL: AWS_PROFILE, then "default" */
	const char *endpoint_url; /* NULL: none configured */
	const char *ca_file; /* NULL: the system's */
	int max_attempts; /* 0: 3 (AWS_MAX_ATTEMPTS overrides) */
	double rate; /* requests per second; 0: 25 */
	double burst; /* 0: 50 */
	long timeout_ms; /* per attempt; 0: 30 s */
	/*
	 * Told of every attempt sent (retries included), from the calling
	 * thread, with whether AWS answered it with throttling: for metrics
	 * by service and operation. NULL: nobody is told.
	 */
	void (*on_call)(const char *service, const char *op, bool throttled,
			void *payload);
	void *on_call_payload;
};

struct aws_stats {
	unsigned long calls; /* attempts sent */
	unsigned long retries;
	unsigned long throttles; /* throttling answers */
};

struct aws_client;

int aws_client_new(struct aws_client **out, const struct aws_options *opt,
		   struct err *e);
void aws_client_free(struct aws_client *c);

/* The resolved region ("us-east-1"). */
const char *aws_client_region(const struct aws_client *c);
/* The endpoint URL a service's calls go to, into `out`. */
void aws_client_endpoint(const struct aws_client *c,
			 const struct aws_service *svc, struct buf *out);
/* The credential provider (for `doctor`). */
struct creds_provider *aws_client_creds(struct aws_client *c);
void aws_client_stats(const struct aws_client *c, struct aws_stats *out);

/*
 * A JSON-protocol call: `request` is the JSON body ("{}" when NULL), the
 * answer's body goes into `out`.
 */
int aws_json(struct aws_client *c, const struct aws_service *svc,
	     const char *op, const char *request, struct buf *out,
	     struct err *e);

/*
 * A JSON call over every page: NextToken from each answer is put into the
 * request for the next, and `page` sees each answer's body. A negative
 * return from `page` stops and is returned.
 */
int aws_json_pages(struct aws_client *c, const struct aws_service *svc,
		   const char *op, const char *request,
		   int (*page)(const char *body, size_t len, void *payload),
		   void *payload, struct err *e);

/*
 * A query-protocol call: `params` are name, value pairs, NULL-terminated
 * (Action and Version are added); the answer is parsed into *out.
 */
int aws_query(struct aws_client *c, const struct aws_service *svc,
	      const char *op, const char *const *params, struct xmldoc **out,
	      struct err *e);

/*
 * The same with explicit credentials, or none (`as` NULL: unsigned, as
 * AssumeRoleWithWebIdentity is): for the credential provider itself.
 */
int aws_query_as(struct aws_client *c, const struct aws_service *svc,
		 const char *op, const char *const *params,
		 const struct creds *as, struct xmldoc **out, struct err *e);

/* Whether an AWS error code means throttling. */
bool aws_is_throttle(const char *code);

#endif
