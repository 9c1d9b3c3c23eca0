/*
 * The controller's source (see source.c): what `plan`, `apply`, `run`,
 * `history` and `rollback` read, and where they keep their records.
 */
#ifndef SAGESYNC_CONTROLLER_SOURCE_H
#define SAGESYNC_CONTROLLER_SOURCE_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "gitsrc.h"
#include "records.h"

/* A secret file's content without its trailing newline; NULL (logged)
 * when it cannot be read or `path` is NULL. */
char *source_secret(const char *path, const char *what);

/*
 * The repository's path on its host, from its URL: "acme/ml-deploy" of
 * https://github.com/acme/ml-deploy.git or git@github.com:acme/ml-deploy
 * (appended to `out`; nothing when the URL has no path).
 */
void source_repository_path(const char *url, struct buf *out);

/* Clones or fetches a remote source into its mirror, records merged. */
int source_fetch(const struct config *cfg, struct err *e);

/*
 * The repository the source is read from: a local repository, or the
 * mirror of a remote one (1, its path in `repo`); or a plain directory
 * (0, its path in `repo`).
 */
int source_repo(struct buf *repo, const struct config *cfg, struct err *e);

/* The commit `rev` names (NULL: the one the config follows). */
int source_resolve(const char *repo, const struct config *cfg, const char *rev,
		   char commit[41], struct err *e);

/* The notes ref of the deployment records. */
const char *source_notes_ref(const struct config *cfg);

/* The revision applied last, cached in the state directory ("" if none). */
void source_applied_get(const struct config *cfg, char out[41]);
void source_applied_set(const struct config *cfg, const char *commit);

/*
 * How the deployment records are trusted. The key is history.keyFile
 * (read at each load, so a rotated key is picked up), else one made once
 * in the state directory (stateDir/records.key); records are written
 * with it. With history.keyFile or source.verify, a record counts only
 * when authentic (records.h); otherwise every record counts, as before
 * records had keys. No usable key under verify: no record counts. The
 * key's bytes are wiped on release.
 */
struct source_trust {
	char *secret;
	struct records_key key;
	bool need; /* records must be authentic to count */
};
void source_trust_load(struct source_trust *t, const struct config *cfg);
void source_trust_release(struct source_trust *t);
bool source_trust_counts(const struct source_trust *t, const struct record *r);

/*
 * The last good revision: this controller's newest counted good record
 * (the notes are scanned once per notes commit), else the state
 * directory's cache; "" when none. `repo` NULL: a plain directory.
 */
void source_last_good(const char *repo, const struct config *cfg, char out[41]);

/* Whether the last record of `commit` is a failed deploy, and why. */
bool source_failed_before(const char *repo, const struct config *cfg,
			  const char *commit, struct buf *reason);

/* Whether this controller's last counted record of `commit` says it was
 * good (deployed healthy, or its own revert commit). */
bool source_was_good(const char *repo, const struct config *cfg,
		     const char *commit);

/*
 * source.verify's rule for one commit: 0 when it carries a signature by
 * an allowed signer (the signer into `who`), or when it is a revert
 * commit this controller made itself, as its authenticated "reverted"
 * record says. Otherwise the signature's error. Never by content: an
 * unsigned commit whose tree equals a signed one is still unsigned.
 */
int source_verify(const char *repo, const struct config *cfg,
		  const char *commit, struct buf *who, struct err *e);

/*
 * Adds `rec` (its controller and finish time filled in here) to the note
 * of its revision and pushes the records; failures are logged, never
 * fatal: the record goes with the next push.
 */
void source_record(const char *repo, const struct config *cfg,
		   struct record *rec);

/* Pushes `ref` of the mirror `repo` to the source's remote (never forced). */
int source_push(const char *repo, const struct config *cfg, const char *ref,
		struct err *e);

/*
 * reconcile.rollback: revert-commit: a commit on the followed branch
 * whose tree is `good`'s, its message naming the failed commit `head`,
 * the endpoint and `reason`, pushed (never forced) to the remote. A
 * refused push (a protected branch, a race) is an error saying so.
 */
int source_revert(const char *repo, const struct config *cfg, const char *head,
		  const char *good, const char *reason, char out[41],
		  struct err *e);

#endif
