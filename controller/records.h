/*
 * Deployment records: one per reconcile outcome, kept as Git notes on the
 * deployed commit (history.notesRef, default refs/notes/sagesync) and
 * pushed with the source, so `git log --notes=sagesync` shows them without
 * sagesync, and a new, restarted or standby controller knows the last
 * good revision and the failed ones from Git alone.
 *
 * A note holds one record or more, each a block of "key: value" lines
 * that starts with "sagesync: RESULT", blocks separated by a blank line:
 *
 *   sagesync: rolled-back
 *   revision: 1f71...
 *   last-good: 9a3c...
 *   started: 2026-11-26T23:10:04.210Z
 *   finished: 2026-11-26T23:11:40.005Z
 *   controller: prod@ip-10-0-1-7
 *   reason: endpoint 'churn-prod' was rolled back: ...
 *   change: update Endpoint/churn-prod: EndpointConfigName: a -> b
 *   mac: hmac-sha256:5e0c...
 *
 * Anyone who can push the notes ref can write a note, so a record counts
 * only when it is authentic: its last line, "mac", is the HMAC-SHA256 of
 * the lines before it in its block, keyed with history.keyFile, which
 * only the controller holds. (Without a key, and without source.verify,
 * every record counts, as before keys existed.)
 *
 * Results: succeeded, drift-healed (good), failed, rolled-back (failed),
 * and reverted: the revision is the revert commit this controller pushed
 * onto the branch, which it trusts although nobody signed it.
 */
#ifndef SAGESYNC_CONTROLLER_RECORDS_H
#define SAGESYNC_CONTROLLER_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The key of history.keyFile (borrowed); len 0 when none is set. */
struct records_key {
	const char *bytes;
	size_t len;
};

struct record {
	char result[16]; /* succeeded, failed, rolled-back, drift-healed,
			  * reverted */
	char revision[41];
	char last_good[41]; /* the last good revision when it started */
	char started[32], finished[32]; /* UTC, RFC 3339, milliseconds */
	char *controller;
	char *reason; /* "" unless failed or rolled back */
	char *changes; /* "kind resource: detail" lines, "\n"-separated */
	bool authentic; /* parsed with a key, and its mac is right */
};

/*
 * Appends the record's block to `out` (values kept to one line), with
 * its mac when `key` has one.
 */
void record_format(struct buf *out, const struct record *r,
		   const struct records_key *key);

/*
 * The records of one note, in order; *n of them (free with
 * records_free). With a key, each is checked: `authentic` is set when
 * its mac line is last and right. Linear in the note's size.
 */
void records_parse(const char *text, const struct records_key *key,
		   struct record **out, size_t *n);
void records_free(struct record *r, size_t n);
/* The strings of one record (not the record itself). */
void record_release(struct record *r);

/* Whether a result makes the revision good, or failed, or is a revert
 * commit the controller pushed. */
bool record_good(const struct record *r);
bool record_failed(const struct record *r);
bool record_revert(const struct record *r);

/*
 * Two versions of one note merged: ours, and theirs' blocks ours lacks
 * (malloc'd). Concurrent writers lose no record.
 */
char *records_union(const char *ours, const char *theirs);

/* now, UTC, as records write it */
void record_now(char out[32]);

#endif
