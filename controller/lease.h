/*
 * Leader election on a DynamoDB lease, the way the DynamoDB lock client
 * does it (leaderElection: {table, leaseSeconds, renewSeconds}).
 *
 * One item per controller name, key `leaseKey`: the holder, a record
 * version number (rvn) the holder replaces at every renewal, and a
 * fencing counter that grows by one with each new leader. Every write is
 * conditional, so two controllers never both succeed:
 *
 * - the leader renews every renewSeconds (condition: it still holds the
 *   lease with the rvn it last wrote), and steps down at once when that
 *   fails, or when leaseSeconds minus a margin have passed since its last
 *   successful renewal (a paused or partitioned leader stops by itself,
 *   before anyone may take over);
 * - a standby reads the item every renewSeconds and takes it (condition:
 *   the rvn is the one it watched) only after it saw the same rvn for
 *   leaseSeconds on its own clock: no clocks are compared across
 *   machines.
 *
 * lease_may_write() is what every AWS or Git write batch asks first.
 * Creating the table: docs/operations.md, or `sagesync doctor --fix`.
 */
#ifndef SAGESYNC_CONTROLLER_LEASE_H
#define SAGESYNC_CONTROLLER_LEASE_H

#include <stdbool.h>

#include "aws.h"
#include "err.h"

struct lease_options {
	const char *table;
	const char *key; /* the controller's name */
	long lease_ms, renew_ms;
	/* told (from the lease's thread) when this controller becomes
	 * leader or stops being one */
	void (*changed)(bool leader, void *payload);
	void *payload;
};

struct lease;

/* Starts the lease's thread; `aws` is borrowed and must outlive it. */
int lease_start(struct lease **out, struct aws_client *aws,
		const struct lease_options *opt, struct err *e);
/* Steps down (the item is released for the next leader) and stops. */
void lease_stop(struct lease *l);

/* Whether this controller holds the lease now, with time to spare. */
bool lease_may_write(struct lease *l);
/* The fencing counter of this controller's leadership (0: never led). */
long lease_fence(struct lease *l);
/* This controller's identity in the lease: HOST:PID:RANDOM. */
const char *lease_holder(const struct lease *l);

/* The DynamoDB CreateTable request for the lease table (malloc'd). */
char *lease_table_request(const char *table);

#endif
