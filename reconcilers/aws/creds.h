/*
 * AWS credentials, from the sources the AWS SDKs use, in their order:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN;
 *   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, through
 *      STS AssumeRoleWithWebIdentity (as on EKS);
 *   3. the shared files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, or
 *      ~/.aws/credentials and ~/.aws/config), profile from the options,
 *      AWS_PROFILE or "default"; role_arn with source_profile,
 *      credential_source or web_identity_token_file goes through STS
 *      AssumeRole, chained as deep as the profiles say;
 *   4. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *   5. EC2 instance metadata with IMDSv2 session tokens
 *      (AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address,
 *      AWS_EC2_METADATA_DISABLED=true turns it off).
 * Temporary credentials are refreshed five minutes before they expire.
 *
 * Secrets never enter an error message or a log line: messages name the
 * source (and the profile or file), never a key, token or secret.
 *
 * Ownership: creds_get() copies into a caller-owned struct creds, freed
 * with creds_release(). A provider is thread-safe.
 */
#ifndef SAGESYNC_RECONCILERS_CREDS_H
#define SAGESYNC_RECONCILERS_CREDS_H

#include <time.h>

#include "err.h"

struct aws_client;

struct creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration; /* 0: does not expire */
	char source[64]; /* "environment", "profile 'ci'", "web identity" */
};

struct creds_provider;

/*
 * A provider that finds credentials lazily, on first use. `profile` may
 * be NULL (AWS_PROFILE, then "default"). STS calls go through `client`,
 * which the provider borrows and must outlive.
 */
void creds_provider_new(struct creds_provider **out, const char *profile,
			struct aws_client *client);
void creds_provider_free(struct creds_provider *p);

/* Current credentials, refreshed when they are about to expire. */
int creds_get(struct creds_provider *p, struct creds *out, struct err *e);
void creds_release(struct creds *c);

/*
 * The region the shared config file names for `profile` (NULL: the
 * provider's), or NULL; the caller frees it.
 */
char *creds_profile_region(const char *profile);

#endif
