/*
 * known_hosts and SSH signatures, with OpenSSL (see sshkeys.h).
 */
#include "sshkeys.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

#define KEYS_FILE_MAX (1024 * 1024)

/* ---- the SSH wire format ------------------------------------------------ */

struct rd {
	const unsigned char *p;
	size_t left;
};

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

/* a length-prefixed string, borrowed from the reader's buffer */
static bool rd_str(struct rd *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (!rd_u32(r, &n) || n > r->left)
		return false;
	*s = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return true;
}

static bool str_is(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

static void put_str(struct buf *b, const void *s, size_t len)
{
	unsigned char n[4] = { (unsigned char)(len >> 24),
			       (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8), (unsigned char)len };

	buf_put(b, n, 4);
	buf_put(b, s, len);
}

/* base64 (no line breaks) into `out`; false when it is not base64 */
static bool unbase64(struct buf *out, const char *s, size_t len)
{
	size_t pad = 0;
	int n;

	buf_clear(out);
	if (len == 0 || len % 4 || len > INT32_MAX)
		return false;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	buf_grow(out, len / 4 * 3 + 1);
	n = EVP_DecodeBlock((unsigned char *)out->ptr, (const unsigned char *)s,
			    (int)len);
	if (n < 0 || (size_t)n < pad)
		return false;
	out->len = (size_t)n - pad;
	out->ptr[out->len] = '\0';
	return true;
}

/* ---- public keys and their signatures ----------------------------------- */

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *k = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return k;
}

static const char *ecdsa_curve(const unsigned char *name, size_t len,
			       const EVP_MD **md)
{
	if (str_is(name, len, "nistp256")) {
		*md = EVP_sha256();
		return "prime256v1";
	}
	if (str_is(name, len, "nistp384")) {
		*md = EVP_sha384();
		return "secp384r1";
	}
	if (str_is(name, len, "nistp521")) {
		*md = EVP_sha512();
		return "secp521r1";
	}
	return NULL;
}

/*
 * Verifies `sig` (an SSH signature blob: type, bytes) of `data` by the
 * public key `key` (an SSH public key blob). 1 good, 0 bad, -1 a key or
 * signature this code does not read.
 */
static int key_verify(const unsigned char *key, size_t key_len,
		      const unsigned char *sig, size_t sig_len,
		      const unsigned char *data, size_t data_len, struct err *e)
{
	struct rd k = { key, key_len }, s = { sig, sig_len };
	const unsigned char *ktype, *stype, *sbytes, *a, *b;
	size_t ktype_len, stype_len, sbytes_len, a_len, b_len;
	const EVP_MD *md = NULL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *bn1 = NULL, *bn2 = NULL;
	ECDSA_SIG *esig = NULL;
	unsigned char *der = NULL;
	int der_len = 0, rc = -1;

	if (!rd_str(&k, &ktype, &ktype_len) ||
	    !rd_str(&s, &stype, &stype_len) ||
	    !rd_str(&s, &sbytes, &sbytes_len))
		return err_set(e, ERR_INVALID, "malformed key or signature");
	if (str_is(ktype, ktype_len, "ssh-ed25519")) {
		if (!str_is(stype, stype_len, "ssh-ed25519") ||
		    !rd_str(&k, &a, &a_len) || a_len != 32)
			goto bad;
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a,
						 a_len);
	} else if (str_is(ktype, ktype_len, "ssh-rsa")) {
		if (str_is(stype, stype_len, "rsa-sha2-256"))
			md = EVP_sha256();
		else if (str_is(stype, stype_len, "rsa-sha2-512"))
			md = EVP_sha512();
		else
			goto bad; /* SHA-1 "ssh-rsa" signatures: not trusted */
		if (!rd_str(&k, &a, &a_len) || !rd_str(&k, &b, &b_len))
			goto bad;
		bn1 = BN_bin2bn(a, (int)a_len, NULL); /* e */
		bn2 = BN_bin2bn(b, (int)b_len, NULL); /* n */
		bld = OSSL_PARAM_BLD_new();
		if (!bn1 || !bn2 || !bld ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn1) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn2))
			goto bad;
		pk = pkey_from_params("RSA", bld);
	} else if (ktype_len > 11 && !memcmp(ktype, "ecdsa-sha2-", 11)) {
		const char *curve;
		struct rd rs = { sbytes, sbytes_len };

		if (stype_len != ktype_len || memcmp(stype, ktype, ktype_len))
			goto bad;
		if (!rd_str(&k, &a, &a_len) || !rd_str(&k, &b, &b_len) ||
		    !(curve = ecdsa_curve(a, a_len, &md)))
			goto bad;
		bld = OSSL_PARAM_BLD_new();
		if (!bld ||
		    !OSSL_PARAM_BLD_push_utf8_string(
			    bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(
			    bld, OSSL_PKEY_PARAM_PUB_KEY, b, b_len))
			goto bad;
		pk = pkey_from_params("EC", bld);
		/* the signature: mpint r, mpint s, to DER for OpenSSL */
		if (!rd_str(&rs, &a, &a_len) || !rd_str(&rs, &b, &b_len))
			goto bad;
		esig = ECDSA_SIG_new();
		bn1 = BN_bin2bn(a, (int)a_len, NULL);
		bn2 = BN_bin2bn(b, (int)b_len, NULL);
		if (!esig || !bn1 || !bn2 || !ECDSA_SIG_set0(esig, bn1, bn2))
			goto bad;
		bn1 = bn2 = NULL; /* the signature owns them */
		if ((der_len = i2d_ECDSA_SIG(esig, &der)) <= 0)
			goto bad;
		sbytes = der;
		sbytes_len = (size_t)der_len;
	} else {
		err_set(e, ERR_INVALID, "key type '%.*s' is not supported",
			(int)ktype_len, (const char *)ktype);
		goto out;
	}
	if (!pk || !(ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) <= 0)
		goto bad;
	rc = EVP_DigestVerify(ctx, sbytes, sbytes_len, data, data_len) == 1;
	goto out;
bad:
	err_set(e, ERR_INVALID, "malformed or mismatched %.*s key or signature",
		(int)ktype_len, (const char *)ktype);
	rc = -1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	BN_free(bn1);
	BN_free(bn2);
	OSSL_PARAM_BLD_free(bld);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

/* ---- key lists: known_hosts and allowed_signers ------------------------- */

/* the next whitespace-separated field of *p, quotes kept together */
static bool next_field(const char **p, const char **f, size_t *len)
{
	const char *s = *p;
	bool quoted = false;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n' || *s == '#')
		return false;
	*f = s;
	while (*s && *s != '\n' && (quoted || (*s != ' ' && *s != '\t'))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	*len = (size_t)(s - *f);
	*p = s;
	return true;
}

static bool is_key_type(const char *f, size_t len)
{
	return (len > 4 && !memcmp(f, "ssh-", 4)) ||
	       (len > 6 && !memcmp(f, "ecdsa-", 6)) ||
	       (len > 3 && !memcmp(f, "sk-", 3));
}

/* the key blob of "TYPE BASE64" at *p, its type checked against the blob */
static bool read_key(const char **p, struct buf *blob)
{
	const char *type, *b64;
	size_t type_len, b64_len;
	struct rd r;
	const unsigned char *t;
	size_t t_len;

	if (!next_field(p, &type, &type_len) || !next_field(p, &b64, &b64_len))
		return false;
	if (!unbase64(blob, b64, b64_len))
		return false;
	r.p = (const unsigned char *)blob->ptr;
	r.left = blob->len;
	return rd_str(&r, &t, &t_len) && t_len == type_len &&
	       !memcmp(t, type, t_len);
}

/* the end of the line that starts at `p` */
static const char *line_end(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl + 1 : p + strlen(p);
}

/* ssh's patterns: `*` any run of characters, `?` any one; no classes */
static bool wildcard(const char *pat, const char *s)
{
	for (; *pat; pat++, s++) {
		if (*pat == '*') {
			for (;; s++) {
				if (wildcard(pat + 1, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (!*s || (*pat != '?' && tolower((unsigned char)*pat) !=
						   tolower((unsigned char)*s)))
			return false;
	}
	return !*s;
}

/* does one known_hosts host name (plain, pattern or |1| hashed) match? */
static bool host_matches(const char *pat, size_t len, const char *name)
{
	struct buf salt = BUF_INIT, hash = BUF_INIT, p = BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	const char *bar;
	bool match = false;

	if (len > 3 && !memcmp(pat, "|1|", 3) &&
	    (bar = memchr(pat + 3, '|', len - 3))) {
		if (unbase64(&salt, pat + 3, (size_t)(bar - pat - 3)) &&
		    unbase64(&hash, bar + 1, (size_t)(pat + len - bar - 1)) &&
		    HMAC(EVP_sha1(), salt.ptr, (int)salt.len,
			 (const unsigned char *)name, strlen(name), mac,
			 &mac_len) &&
		    hash.len == mac_len)
			match = CRYPTO_memcmp(mac, hash.ptr, mac_len) == 0;
	} else {
		buf_put(&p, pat, len);
		match = wildcard(p.ptr, name);
	}
	buf_release(&salt);
	buf_release(&hash);
	buf_release(&p);
	return match;
}

/* 1 when the comma-separated host list matches, -1 when negated, 0 not */
static int hosts_match(const char *list, size_t len, const char *name)
{
	int result = 0;

	while (len) {
		const char *comma = memchr(list, ',', len);
		size_t n = comma ? (size_t)(comma - list) : len;

		if (n && list[0] == '!') {
			if (host_matches(list + 1, n - 1, name))
				return -1;
		} else if (n && host_matches(list, n, name)) {
			result = 1;
		}
		len -= comma ? n + 1 : n;
		list += comma ? n + 1 : n;
	}
	return result;
}

int known_hosts_check(const char *known_hosts, const char *host, int port,
		      const unsigned char *key, size_t key_len, struct err *e)
{
	struct buf text = BUF_INIT, name = BUF_INIT, blob = BUF_INIT;
	const char *p;
	bool listed = false, found = false, revoked = false;

	if (file_read(&text, known_hosts, KEYS_FILE_MAX, e) < 0) {
		err_prefix(e, "known hosts");
		goto out;
	}
	if (port == 22 || port <= 0)
		buf_puts(&name, host);
	else
		buf_printf(&name, "[%s]:%d", host, port);
	for (p = text.ptr; *p; p = line_end(p)) {
		const char *f, *q = p;
		size_t len;
		bool is_revoked = false;

		if (!next_field(&q, &f, &len))
			continue;
		if (f[0] == '@') {
			if (len == 8 && !memcmp(f, "@revoked", 8))
				is_revoked = true;
			else
				continue; /* @cert-authority: not supported */
			if (!next_field(&q, &f, &len))
				continue;
		}
		if (!is_revoked && hosts_match(f, len, name.ptr) != 1)
			continue;
		if (!read_key(&q, &blob))
			continue;
		if (blob.len != key_len || memcmp(blob.ptr, key, key_len)) {
			listed = listed || !is_revoked;
			continue;
		}
		if (is_revoked)
			revoked = true;
		else
			found = listed = true;
	}
	if (revoked)
		err_set(e, ERR_INVALID,
			"the host key of %s is marked @revoked in %s", name.ptr,
			known_hosts);
	else if (!found && listed)
		err_set(e, ERR_INVALID,
			"the host key of %s does not match the one in %s: "
			"the server's key changed or someone is in between; "
			"refusing to connect",
			name.ptr, known_hosts);
	else if (!found)
		err_set(e, ERR_NOTFOUND,
			"%s is not in %s: unknown host key, refusing to connect "
			"(add it with ssh-keyscan after checking it)",
			name.ptr, known_hosts);
out:
	buf_release(&text);
	buf_release(&name);
	buf_release(&blob);
	return found && !revoked ? 0 : -1;
}

/* ---- SSH signatures ------------------------------------------------------ */

static bool list_has(const char *list, size_t len, const char *want)
{
	size_t n = strlen(want);

	while (len) {
		const char *comma = memchr(list, ',', len);
		size_t item = comma ? (size_t)(comma - list) : len;

		if (item == n && !memcmp(list, want, n))
			return true;
		len -= comma ? item + 1 : item;
		list += comma ? item + 1 : item;
	}
	return false;
}

/* YYYYMMDD[HHMM[SS]][Z], as ssh-keygen writes valid-after/valid-before */
static bool parse_time(const char *s, size_t len, time_t *out)
{
	struct tm tm = { 0 };
	int v[6] = { 0 };
	size_t i, digits = len;

	if (len && s[len - 1] == 'Z')
		digits--;
	if (digits != 8 && digits != 12 && digits != 14)
		return false;
	for (i = 0; i < digits; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	for (i = 0; i < digits; i += 2)
		v[i < 4 ? 0 : i / 2 - 1] = v[i < 4 ? 0 : i / 2 - 1] * 100 +
					   (s[i] - '0') * 10 + (s[i + 1] - '0');
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = timegm(&tm);
	return true;
}

/*
 * The options field of an allowed_signers line, as ssh-keygen reads it
 * (sshsig.c, sshsigopt_parse): 0 when it lets the key sign at `when`, 1
 * when it does not (`why`), -1 when it is malformed (`why`): an unknown
 * option, an unquoted or empty namespaces list, a time ssh-keygen would
 * not read. ssh-keygen refuses such a file; so do we, rather than read a
 * typo as no restriction at all.
 */
static int options_allow(const char *f, size_t len, time_t when,
			 const char **why)
{
	int verdict = 0;

	while (len) {
		const char *end = f;
		bool quoted = false;
		size_t n;

		while (end < f + len && (quoted || *end != ',')) {
			if (*end == '"')
				quoted = !quoted;
			end++;
		}
		n = (size_t)(end - f);
		if (quoted) {
			*why = "an option's quotes are not closed";
			return -1;
		}
		if (n == 14 && !strncasecmp(f, "cert-authority", n)) {
			*why = "the allowed signer is a certificate authority: "
			       "certificate authorities are not supported";
			verdict = 1;
		} else if (n >= 11 && !strncasecmp(f, "namespaces=", 11)) {
			if (n < 14 || f[11] != '"' || f[n - 1] != '"') {
				*why = "namespaces= needs a quoted, non-empty "
				       "list";
				return -1;
			}
			if (!verdict && !list_has(f + 12, n - 13, "git")) {
				*why = "the key is not allowed for namespace "
				       "\"git\"";
				verdict = 1;
			}
		} else if ((n >= 12 && !strncasecmp(f, "valid-after=", 12)) ||
			   (n >= 13 && !strncasecmp(f, "valid-before=", 13))) {
			bool after = f[6] == 'a' || f[6] == 'A';
			size_t k = after ? 12 : 13;
			size_t q = n > k && f[k] == '"';
			time_t t;

			if (n < k + 2 * q || (q && f[n - 1] != '"') ||
			    !parse_time(f + k + q, n - k - 2 * q, &t)) {
				*why = "valid-after= and valid-before= need a "
				       "time written YYYYMMDD[HHMM[SS]][Z]";
				return -1;
			}
			if (!verdict && (after ? when < t : when > t)) {
				*why = after ? "the key is not valid yet at "
					       "the commit's time" :
					       "the key is no longer valid at "
					       "the commit's time";
				verdict = 1;
			}
		} else {
			*why = "an option ssh-keygen does not know (it knows "
			       "cert-authority, namespaces=, valid-after= and "
			       "valid-before=)";
			return -1;
		}
		len -= n + (end < f + len);
		f = end + (end < f + len);
	}
	return verdict;
}

/*
 * The principals `allowed_signers` gives the key `key`; -1 when it does
 * not allow it (with the reason).
 */
static int find_signer(const char *allowed_signers, const unsigned char *key,
		       size_t key_len, time_t when, struct buf *principal,
		       struct err *e)
{
	struct buf text = BUF_INIT, blob = BUF_INIT;
	const char *p, *why = NULL;
	size_t line = 0;
	int rc = -1;

	if (file_read(&text, allowed_signers, KEYS_FILE_MAX, e) < 0) {
		err_prefix(e, "allowed signers");
		goto out;
	}
	for (p = text.ptr; *p && rc < 0; p = line_end(p)) {
		const char *who, *f, *q = p, *opts = NULL, *bad = NULL;
		size_t who_len, len, opts_len = 0;
		const char *at;
		int allow = 0;

		line++;
		if (!next_field(&q, &who, &who_len))
			continue;
		at = q;
		if (!next_field(&q, &f, &len))
			continue;
		if (!is_key_type(f, len)) {
			opts = f;
			opts_len = len;
			at = q;
		}
		/* a line ssh-keygen cannot read is never read as a line
		 * without restrictions: the file is refused */
		if (opts &&
		    (allow = options_allow(opts, opts_len, when, &bad)) < 0) {
			err_set(e, ERR_INVALID,
				"allowed signers '%s' line %zu: %s; the file "
				"is refused, as ssh-keygen refuses it",
				allowed_signers, line, bad);
			goto out;
		}
		q = at;
		if (!read_key(&q, &blob) || blob.len != key_len ||
		    memcmp(blob.ptr, key, key_len))
			continue;
		if (allow > 0) {
			why = bad;
			continue;
		}
		buf_clear(principal);
		if (who_len >= 2 && who[0] == '"' && who[who_len - 1] == '"')
			buf_put(principal, who + 1, who_len - 2);
		else
			buf_put(principal, who, who_len);
		rc = 0;
	}
	if (rc < 0 && !e->code)
		err_set(e, ERR_INVALID, "%s",
			why ? why :
			      "the signing key is not in the allowed signers "
			      "file");
out:
	buf_release(&text);
	buf_release(&blob);
	return rc;
}

/* the binary signature inside the armor */
static int unarmor(struct buf *out, const char *s, size_t len, struct err *e)
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----";
	static const char end[] = "-----END SSH SIGNATURE-----";
	struct buf b64 = BUF_INIT;
	const char *p = s, *stop = s + len;
	int rc = -1;

	while (p < stop && isspace((unsigned char)*p))
		p++;
	if ((size_t)(stop - p) < sizeof(begin) - 1 ||
	    memcmp(p, begin, sizeof(begin) - 1)) {
		err_set(e, ERR_INVALID,
			"the commit's signature is not an SSH signature "
			"(OpenPGP and X.509 signatures are not supported)");
		goto out;
	}
	for (p += sizeof(begin) - 1; p < stop; p++) {
		if ((size_t)(stop - p) >= sizeof(end) - 1 &&
		    !memcmp(p, end, sizeof(end) - 1)) {
			rc = 0;
			break;
		}
		if (!isspace((unsigned char)*p))
			buf_putc(&b64, *p);
	}
	if (rc < 0 || !unbase64(out, b64.ptr ? b64.ptr : "", b64.len))
		rc = err_set(e, ERR_INVALID, "the SSH signature is malformed");
out:
	buf_release(&b64);
	return rc;
}

int sshsig_verify(const char *armored, size_t armored_len, const char *data,
		  size_t data_len, const char *allowed_signers, time_t when,
		  struct buf *principal, struct err *e)
{
	struct buf raw = BUF_INIT, signed_data = BUF_INIT;
	struct rd r;
	const unsigned char *key, *ns, *reserved, *hash_alg, *sig;
	size_t key_len, ns_len, reserved_len, hash_len, sig_len;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	const EVP_MD *md;
	uint32_t version;
	int rc = -1;

	if (unarmor(&raw, armored, armored_len, e) < 0)
		goto out;
	r.p = (const unsigned char *)raw.ptr;
	r.left = raw.len;
	if (r.left < 6 || memcmp(r.p, "SSHSIG", 6)) {
		err_set(e, ERR_INVALID, "the SSH signature is malformed");
		goto out;
	}
	r.p += 6;
	r.left -= 6;
	if (!rd_u32(&r, &version) || version != 1 ||
	    !rd_str(&r, &key, &key_len) || !rd_str(&r, &ns, &ns_len) ||
	    !rd_str(&r, &reserved, &reserved_len) ||
	    !rd_str(&r, &hash_alg, &hash_len) || !rd_str(&r, &sig, &sig_len)) {
		err_set(e, ERR_INVALID, "the SSH signature is malformed");
		goto out;
	}
	if (!str_is(ns, ns_len, "git")) {
		err_set(e, ERR_INVALID,
			"the signature is for namespace '%.*s', not 'git'",
			(int)ns_len, (const char *)ns);
		goto out;
	}
	if (str_is(hash_alg, hash_len, "sha512"))
		md = EVP_sha512();
	else if (str_is(hash_alg, hash_len, "sha256"))
		md = EVP_sha256();
	else {
		err_set(e, ERR_INVALID,
			"the signature's hash '%.*s' is not "
			"supported",
			(int)hash_len, (const char *)hash_alg);
		goto out;
	}
	if (!EVP_Digest(data, data_len, digest, &digest_len, md, NULL)) {
		err_set(e, ERR_GENERIC, "cannot hash the signed data");
		goto out;
	}
	buf_put(&signed_data, "SSHSIG", 6);
	put_str(&signed_data, ns, ns_len);
	put_str(&signed_data, reserved, reserved_len);
	put_str(&signed_data, hash_alg, hash_len);
	put_str(&signed_data, digest, digest_len);
	switch (key_verify(key, key_len, sig, sig_len,
			   (const unsigned char *)signed_data.ptr,
			   signed_data.len, e)) {
	case 1:
		rc = find_signer(allowed_signers, key, key_len, when, principal,
				 e);
		break;
	case 0:
		err_set(e, ERR_INVALID,
			"the signature does not verify: the "
			"commit was changed after signing, or "
			"is not what was signed");
		break;
	default:
		err_prefix(e, "signature");
		break;
	}
out:
	buf_release(&raw);
	buf_release(&signed_data);
	return rc;
}
