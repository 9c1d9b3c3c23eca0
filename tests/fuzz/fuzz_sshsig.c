/*
 * libFuzzer target for SSH signature checks: the signature of a commit
 * comes from whoever pushed it, so any bytes must be refused or judged,
 * never crash, leak or read out of bounds. Half the inputs are armored
 * here, so the fuzzer works on the binary format behind the armor.
 */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sshkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char signers[] = "/tmp/sagesync-fuzz-signers-XXXXXX";

static void remove_signers(void)
{
	unlink(signers);
}

static void make_signers(void)
{
	/* the ed25519 key of tests/fixtures/ssh, and an ECDSA line */
	static const char text[] =
		"a@x namespaces=\"git\" ssh-ed25519 "
		"AAAAC3NzaC1lZDI1NTE5AAAAIF7b1+imZ+YAD+SPRncHGT/ERpCv9dJM49CtTQ"
		"esdDma\n"
		"b@x ecdsa-sha2-nistp256 AAAA\n";
	int fd = mkstemp(signers);

	if (fd < 0 || write(fd, text, sizeof(text) - 1) < 0)
		abort();
	close(fd);
	atexit(remove_signers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct buf sig = BUF_INIT, who = BUF_INIT;
	struct err e = ERR_INIT;

	if (!ready) {
		make_signers();
		ready = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		size_t n = size - 1;

		buf_puts(&sig, "-----BEGIN SSH SIGNATURE-----\n");
		buf_grow(&sig, 4 * (n / 3 + 1) + 1);
		sig.len += (size_t)EVP_EncodeBlock(
			(unsigned char *)sig.ptr + sig.len, data + 1, (int)n);
		buf_puts(&sig, "\n-----END SSH SIGNATURE-----\n");
	} else {
		buf_put(&sig, data + 1, size - 1);
	}
	if (sshsig_verify(sig.ptr, sig.len, "message", 7, signers, 1764000000,
			  &who, &e) == 0 &&
	    !who.ptr)
		abort(); /* a good signature names its signer */
	buf_release(&sig);
	buf_release(&who);
	return 0;
}
