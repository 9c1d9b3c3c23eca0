/*
 * Notifications of deploy outcomes, delivered off the reconcile loop:
 * notify_send() only queues, a thread of the notifier delivers to every
 * configured target (config.h, notify:) and retries a failed delivery
 * with exponential backoff (5 attempts), so a dead receiver never slows
 * or blocks reconciling. Targets: a Slack incoming webhook, a generic
 * JSON webhook (optionally signed: X-Sagesync-Signature-256: sha256=HMAC
 * of the body with the secret), SNS Publish, and commit statuses on
 * GitHub (POST /repos/OWNER/REPO/statuses/SHA) and GitLab
 * (POST /projects/ID/statuses/SHA).
 *
 * Ownership: the notifier borrows `cfg`, `aws` and `m`; stop it before
 * they go.
 */
#ifndef SAGESYNC_CONTROLLER_NOTIFY_H
#define SAGESYNC_CONTROLLER_NOTIFY_H

#include "aws.h"
#include "config.h"
#include "metrics.h"

struct notify_event {
	const char *event; /* succeeded, failed, rolled-back, drift-healed */
	const char *revision; /* the commit */
	const char *reason; /* why it failed; may be NULL */
	const char *changes; /* "action Kind/name: detail" lines; may be NULL */
	const char *controller; /* NAME@HOST */
};

struct notifier;

/* NULL in *out when the config has no targets (notify_send ignores it). */
void notifier_start(struct notifier **out, const struct config *cfg,
		    struct aws_client *aws, struct metrics *m);
void notify_send(struct notifier *n, const struct notify_event *ev);
/* Delivers what is queued (one attempt each, no more backoff), stops. */
void notifier_stop(struct notifier *n);

/* Declares sagesync_notifications_total{target,result} in `m`. */
void notify_declare_metrics(struct metrics *m);

#endif
