/*
 * SSH public keys as Git uses them, checked with OpenSSL:
 *
 * - known_hosts_check(): is this server key the one `known_hosts` lists
 *   for the host? The strict check ssh does (StrictHostKeyChecking=yes):
 *   plain, wildcard, negated, [host]:port and hashed (|1|) host names;
 *   @revoked keys refused.
 * - sshsig_verify(): the SSH signature of a commit (Git's gpg.format=ssh,
 *   the armored "SSH SIGNATURE" of PROTOCOL.sshsig), by a key listed in
 *   an allowed_signers file for namespace "git", as `git verify-commit`
 *   does with gpg.ssh.allowedSignersFile.
 *
 * Key types: ssh-ed25519, ssh-rsa (signatures rsa-sha2-256 and
 * rsa-sha2-512; SHA-1 ssh-rsa signatures are refused), ecdsa-sha2-nistp256,
 * -nistp384 and -nistp521. Certificates (cert-authority) are not
 * supported and are said to be so.
 */
#ifndef SAGESYNC_CONTROLLER_SSHKEYS_H
#define SAGESYNC_CONTROLLER_SSHKEYS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/*
 * 0 when `known_hosts` (a file) lists `key` (the server's public key
 * blob, SSH wire format) for `host` at `port`; otherwise an error that
 * says whether the host is unknown, its key differs or is revoked.
 */
int known_hosts_check(const char *known_hosts, const char *host, int port,
		      const unsigned char *key, size_t key_len, struct err *e);

/*
 * 0 when `armored` is a valid SSH signature of `data` in namespace "git"
 * by a key `allowed_signers` (a file) allows at time `when`; the
 * signer's principals are put in `principal`. Otherwise an error that
 * says why (malformed, unknown key, bad signature, not yet or no longer
 * valid).
 */
int sshsig_verify(const char *armored, size_t armored_len, const char *data,
		  size_t data_len, const char *allowed_signers, time_t when,
		  struct buf *principal, struct err *e);

#endif
