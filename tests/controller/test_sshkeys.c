/*
 * Unit tests for controller/sshkeys: known_hosts matching (plain, port,
 * wildcard, negated, hashed, revoked, changed) and SSH signature checks
 * against signatures ssh-keygen made (tests/fixtures/ssh: ed25519, RSA
 * and ECDSA keys; message.txt signed in namespace "git", and once in
 * "file").
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "file.h"
#include "../helpers.h"
#include "sshkeys.h"

#define SSH FIXTURES "/ssh/"
/* the message's commit time, 2025-11-24 */
#define WHEN ((time_t)1764000000)

static void slurp(struct buf *b, const char *path)
{
	struct err e = ERR_INIT;

	buf_clear(b);
	assert_int_equal(file_read(b, path, 1 << 20, &e), 0);
}

/* "TYPE BASE64" of a .pub file, without its comment */
static void pub_key(struct buf *out, const char *name)
{
	struct buf b = BUF_INIT;
	char *second;

	slurp(&b, name);
	second = strchr(strchr(b.ptr, ' ') + 1, ' ');
	if (second)
		*second = '\0';
	buf_clear(out);
	buf_puts(out, b.ptr);
	buf_release(&b);
}

/* the wire blob of a .pub file */
static void pub_blob(struct buf *out, const char *name)
{
	struct buf b = BUF_INIT;
	char *b64, *end;
	int n;

	pub_key(&b, name);
	b64 = strchr(b.ptr, ' ') + 1;
	end = b64 + strlen(b64);
	buf_clear(out);
	buf_grow(out, (size_t)(end - b64));
	n = EVP_DecodeBlock((unsigned char *)out->ptr, (unsigned char *)b64,
			    (int)(end - b64));
	assert_true(n > 0);
	out->len = (size_t)n;
	while (end > b64 && end[-1] == '=') { /* padding decoded as zeros */
		out->len--;
		end--;
	}
	buf_release(&b);
}

static int check_host(const struct tmpdir *t, const char *known,
		      const char *host, int port, struct err *e)
{
	struct buf key = BUF_INIT, path = BUF_INIT;
	int rc;

	tmpdir_write(t, "known_hosts", known);
	buf_printf(&path, "%s/known_hosts", t->path);
	pub_blob(&key, SSH "host.pub");
	err_clear(e);
	rc = known_hosts_check(path.ptr, host, port,
			       (const unsigned char *)key.ptr, key.len, e);
	buf_release(&key);
	buf_release(&path);
	return rc;
}

static void test_known_hosts(void **state)
{
	const struct tmpdir *t = *state;
	struct buf key = BUF_INIT, other = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;

	pub_key(&key, SSH "host.pub");
	pub_key(&other, SSH "ed25519.pub");

	buf_printf(&text, "# comment\n\ngit.example.com %s comment\n", key.ptr);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 22, &e), 0);
	assert_int_equal(check_host(t, text.ptr, "GIT.example.com", 22, &e), 0);
	/* another port is another host */
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 2222, &e),
			 -1);
	assert_non_null(strstr(e.msg, "[git.example.com]:2222 is not in"));

	buf_clear(&text);
	buf_printf(&text, "[127.0.0.1]:2222,other %s\n", key.ptr);
	assert_int_equal(check_host(t, text.ptr, "127.0.0.1", 2222, &e), 0);
	assert_int_equal(check_host(t, text.ptr, "127.0.0.2", 2222, &e), -1);

	buf_clear(&text);
	buf_printf(&text, "*.example.com,!evil.example.com %s\n", key.ptr);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 22, &e), 0);
	assert_int_equal(check_host(t, text.ptr, "evil.example.com", 22, &e),
			 -1);
	assert_int_equal(check_host(t, text.ptr, "example.org", 22, &e), -1);

	/* a known host whose key changed */
	buf_clear(&text);
	buf_printf(&text, "git.example.com %s\n", other.ptr);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 22, &e),
			 -1);
	assert_non_null(strstr(e.msg, "does not match"));

	/* revoked wins over listed */
	buf_clear(&text);
	buf_printf(&text, "git.example.com %s\n@revoked * %s\n", key.ptr,
		   key.ptr);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 22, &e),
			 -1);
	assert_non_null(strstr(e.msg, "@revoked"));

	/* a line that is not a key is skipped, not trusted */
	assert_int_equal(check_host(t, "git.example.com ssh-ed25519 !!!\n",
				    "git.example.com", 22, &e),
			 -1);
	buf_release(&key);
	buf_release(&other);
	buf_release(&text);
}

static void test_known_hosts_hashed(void **state)
{
	const struct tmpdir *t = *state;
	static const unsigned char salt[20] = "0123456789abcdefghij";
	unsigned char mac[20], b64salt[40], b64mac[40];
	unsigned int n = 0;
	struct buf key = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;
	const char *name = "[git.example.com]:2222";

	pub_key(&key, SSH "host.pub");
	HMAC(EVP_sha1(), salt, sizeof(salt), (const unsigned char *)name,
	     strlen(name), mac, &n);
	EVP_EncodeBlock(b64salt, salt, sizeof(salt));
	EVP_EncodeBlock(b64mac, mac, (int)n);
	buf_printf(&text, "|1|%s|%s %s\n", b64salt, b64mac, key.ptr);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 2222, &e),
			 0);
	assert_int_equal(check_host(t, text.ptr, "git.example.com", 22, &e),
			 -1);
	buf_release(&key);
	buf_release(&text);
}

static int verify(const struct tmpdir *t, const char *sig_file,
		  const char *signers, const char *message, struct buf *who,
		  struct err *e)
{
	struct buf sig = BUF_INIT, msg = BUF_INIT, path = BUF_INIT;
	int rc;

	tmpdir_write(t, "allowed_signers", signers);
	buf_printf(&path, "%s/allowed_signers", t->path);
	slurp(&sig, sig_file);
	if (message) {
		buf_puts(&msg, message);
	} else {
		slurp(&msg, SSH "message.txt");
	}
	err_clear(e);
	rc = sshsig_verify(sig.ptr, sig.len, msg.ptr, msg.len, path.ptr, WHEN,
			   who, e);
	buf_release(&sig);
	buf_release(&msg);
	buf_release(&path);
	return rc;
}

static void test_sshsig_key_types(void **state)
{
	static const char *const types[] = { "ed25519", "rsa", "ecdsa" };
	const struct tmpdir *t = *state;
	struct buf key = BUF_INIT, line = BUF_INIT, who = BUF_INIT,
		   sig = BUF_INIT;
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < 3; i++) {
		buf_clear(&key);
		buf_clear(&line);
		buf_clear(&sig);
		buf_printf(&sig, SSH "%s.pub", types[i]);
		pub_key(&key, sig.ptr);
		buf_printf(&line, "%s@example.com %s\n", types[i], key.ptr);
		buf_clear(&sig);
		buf_printf(&sig, SSH "%s.sig", types[i]);
		assert_int_equal(verify(t, sig.ptr, line.ptr, NULL, &who, &e),
				 0);
		buf_clear(&line);
		buf_printf(&line, "%s@example.com", types[i]);
		assert_string_equal(who.ptr, line.ptr);
		/* one byte of the message changed */
		assert_int_equal(
			verify(t, sig.ptr, key.ptr, "tampered", &who, &e), -1);
		assert_non_null(strstr(e.msg, "does not verify"));
	}
	buf_release(&key);
	buf_release(&line);
	buf_release(&who);
	buf_release(&sig);
}

static void test_sshsig_signers(void **state)
{
	const struct tmpdir *t = *state;
	struct buf key = BUF_INIT, other = BUF_INIT, text = BUF_INIT,
		   who = BUF_INIT;
	struct err e = ERR_INIT;

	pub_key(&key, SSH "ed25519.pub");
	pub_key(&other, SSH "rsa.pub");

	/* not listed */
	buf_printf(&text, "someone@example.com %s\n", other.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "not in the allowed signers file"));

	/* options: quoted principals, namespaces, validity */
	buf_clear(&text);
	buf_printf(&text, "\"a@x,b@x\" namespaces=\"file,git\" %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 0);
	assert_string_equal(who.ptr, "a@x,b@x");
	buf_clear(&text);
	buf_printf(&text, "a@x namespaces=\"file\" %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "namespace"));
	buf_clear(&text);
	buf_printf(
		&text,
		"a@x valid-after=\"20200101\",valid-before=\"20301231Z\" %s\n",
		key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 0);
	buf_clear(&text);
	buf_printf(&text, "a@x valid-before=\"20250101\" %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "no longer valid"));
	buf_clear(&text);
	buf_printf(&text, "a@x valid-after=\"202601010000\" %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "not valid yet"));
	buf_clear(&text);
	buf_printf(&text, "a@x cert-authority %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519.sig", text.ptr, NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "not supported"));

	/* what ssh-keygen refuses to read is refused, never read as a line
	 * without restrictions: unknown options and typos, an unquoted or
	 * empty namespaces list, a time ssh-keygen cannot read; on the
	 * key's line or on another one */
	{
		static const char *const refused[] = {
			"namespace=\"git\"",
			"valid-afer=\"20200101\"",
			"namespaces=git",
			"namespaces=\"\"",
			"valid-after=\"2020-01-01\"",
			"valid-before=\"20300101",
			"no-touch-required",
		};
		size_t i;

		for (i = 0; i <= sizeof(refused) / sizeof(refused[0]); i++) {
			buf_clear(&text);
			if (i < sizeof(refused) / sizeof(refused[0]))
				buf_printf(&text, "a@x %s %s\n", refused[i],
					   key.ptr);
			else /* a typo on another line than the key's */
				buf_printf(&text,
					   "b@x namespace=\"file\" %s\na@x "
					   "%s\n",
					   other.ptr, key.ptr);
			if (verify(t, SSH "ed25519.sig", text.ptr, NULL, &who,
				   &e) != -1 ||
			    !strstr(e.msg, "the file is refused, as ssh-keygen "
					   "refuses it") ||
			    !strstr(e.msg, "line 1"))
				fail_msg("case %zu: %s", i, e.msg);
		}
	}

	/* a signature made for another namespace */
	buf_clear(&text);
	buf_printf(&text, "a@x %s\n", key.ptr);
	assert_int_equal(verify(t, SSH "ed25519-file-namespace.sig", text.ptr,
				NULL, &who, &e),
			 -1);
	assert_non_null(strstr(e.msg, "namespace 'file'"));
	buf_release(&key);
	buf_release(&other);
	buf_release(&text);
	buf_release(&who);
}

static void test_sshsig_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP "
		"SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH "
		"SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH "
		"SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAAP8=\n",
	};
	const struct tmpdir *t = *state;
	struct buf who = BUF_INIT, path = BUF_INIT;
	struct err e = ERR_INIT;
	size_t i;

	tmpdir_write(t, "allowed_signers", "");
	buf_printf(&path, "%s/allowed_signers", t->path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(sshsig_verify(bad[i], strlen(bad[i]), "m", 1,
					       path.ptr, WHEN, &who, &e),
				 -1);
		assert_true(e.code != 0);
	}
	buf_release(&who);
	buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_hosts, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_known_hosts_hashed,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sshsig_key_types,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sshsig_signers,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sshsig_malformed,
						tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
