/*
 * AWS Signature Version 4, header variant (see sigv4.h). The AWS client
 * calls sigv4_sign() once per request, just before sending it, and adds
 * the Authorization header and the headers in sigv4_result.add.
 *
 * The steps follow the SigV4 documentation: canonical request (method,
 * canonical URI, canonical query, canonical headers, signed headers,
 * payload hash), string to sign, signing key derived from the secret by
 * a chain of HMAC-SHA256, and the signature over the string to sign.
 * Nothing here reads the clock or the environment, so the AWS test suite
 * checks every intermediate string byte for byte.
 */
#include "sigv4.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "mem.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_SHA256_LEN 32

/* a canonical header before merging: lower-case name, trimmed value */
struct hdr {
	char *name;
	char *value;
	size_t order; /* position in the request, to keep duplicates in order */
};

/* a canonical query parameter: name and value already re-encoded */
struct param {
	char *name;
	char *value;
};

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* folded continuation lines count as whitespace, so they become a space */
static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void hex_lower(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void sigv4_uri_encode(struct buf *out, const char *s, size_t len,
		      bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	buf_grow(out, len * 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (unreserved(c) || (keep_slash && c == '/')) {
			buf_putc(out, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = digits[c >> 4];
		esc[2] = digits[c & 0xf];
		buf_put(out, esc, sizeof(esc));
	}
}

static int sha256(unsigned char md[SIGV4_SHA256_LEN], const void *data,
		  size_t len)
{
	unsigned int n = 0;

	if (!EVP_Digest(len ? data : "", len, md, &n, EVP_sha256(), NULL) ||
	    n != SIGV4_SHA256_LEN)
		return -1;
	return 0;
}

void sigv4_sha256_hex(char hex[65], const void *data, size_t len)
{
	unsigned char md[SIGV4_SHA256_LEN];

	/* only a broken crypto library fails here; treat it like OOM */
	if (sha256(md, data, len) < 0) {
		fprintf(stderr, "sagesync: fatal: sha-256 failed\n");
		abort();
	}
	hex_lower(hex, md, sizeof(md));
}

static int hmac(unsigned char out[SIGV4_SHA256_LEN], const void *key,
		size_t keylen, const void *data, size_t len)
{
	unsigned int n = 0;

	if (keylen > INT_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) ||
	    n != SIGV4_SHA256_LEN)
		return -1;
	return 0;
}

void sigv4_hmac_sha256_hex(char hex[65], const void *key, size_t keylen,
			   const void *data, size_t len)
{
	unsigned char md[SIGV4_SHA256_LEN];

	if (hmac(md, key, keylen, data, len) < 0) {
		fprintf(stderr, "sagesync: fatal: hmac-sha-256 failed\n");
		abort();
	}
	hex_lower(hex, md, sizeof(md));
}

/*
 * Removes "." and ".." segments and empty segments (duplicate slashes),
 * then encodes each remaining segment. A trailing slash survives only if
 * the path as given ends with one, as the AWS SDKs do.
 */
static void put_normalized_path(struct buf *out, const char *path)
{
	size_t *starts = NULL, cap = 0, n = 0;
	const char *p = path, *end = path + strlen(path);

	while (p < end) {
		const char *seg;
		size_t len;

		while (p < end && *p == '/')
			p++;
		seg = p;
		while (p < end && *p != '/')
			p++;
		len = (size_t)(p - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			/* drop the previous segment; above the root is root */
			if (n > 0) {
				out->len = starts[--n];
				out->ptr[out->len] = '\0';
			}
			continue;
		}
		starts = mem_grow(starts, &cap, n + 1, sizeof(*starts));
		starts[n++] = out->len;
		buf_putc(out, '/');
		sigv4_uri_encode(out, seg, len, false);
	}
	if (n == 0 || (end > path && end[-1] == '/'))
		buf_putc(out, '/');
	free(starts);
}

static void put_canonical_uri(struct buf *out, const char *path, bool normalize)
{
	if (!path || !*path) {
		buf_putc(out, '/');
		return;
	}
	if (normalize) {
		put_normalized_path(out, path);
		return;
	}
	if (path[0] != '/')
		buf_putc(out, '/');
	sigv4_uri_encode(out, path, strlen(path), true);
}

/* Decodes %XX escapes; a '%' not followed by two hex digits stays as is. */
static void percent_decode(struct buf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			buf_putc(out, (char)(hi << 4 | lo));
			i += 2;
			continue;
		}
		buf_putc(out, s[i]);
	}
}

static char *reencode(const char *s, size_t len)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;

	percent_decode(&raw, s, len);
	sigv4_uri_encode(&enc, buf_cstr(&raw), raw.len, false);
	buf_release(&raw);
	return buf_detach(&enc);
}

static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static void put_canonical_query(struct buf *out, const char *query)
{
	struct param *params = NULL;
	size_t cap = 0, n = 0, i;
	const char *p = query, *end;

	if (!query)
		return;
	end = query + strlen(query);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (stop > p) {
			params = mem_grow(params, &cap, n + 1, sizeof(*params));
			params[n].name =
				reencode(p, (size_t)((eq ? eq : stop) - p));
			params[n].value =
				eq ? reencode(eq + 1, (size_t)(stop - eq - 1)) :
				     mem_strdup("");
			n++;
		}
		p = stop + 1;
	}
	if (n)
		qsort(params, n, sizeof(*params), param_cmp);
	for (i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '&');
		buf_puts(out, params[i].name);
		buf_putc(out, '=');
		buf_puts(out, params[i].value);
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

/* Trims the value and turns every run of whitespace inside into a space. */
static char *trim_value(const char *v)
{
	struct buf b = BUF_INIT;
	bool gap = false;

	buf_grow(&b, strlen(v));
	for (; *v; v++) {
		if (space(*v)) {
			gap = true;
			continue;
		}
		if (gap && b.len)
			buf_putc(&b, ' ');
		gap = false;
		buf_putc(&b, *v);
	}
	return buf_detach(&b);
}

static char *lower_dup(const char *s)
{
	char *d = mem_strdup(s), *p;

	for (p = d; *p; p++)
		*p = lower(*p);
	return d;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == ':')
			return false;
	}
	return true;
}

/* For the credential scope and the Authorization header: no separators. */
static bool valid_scope_part(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',')
			return false;
	}
	return true;
}

/* A session token goes into a header as is: no control characters. */
static bool valid_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void hdr_add(struct hdr *h, size_t *n, const char *name,
		    const char *value)
{
	h[*n].name = lower_dup(name);
	h[*n].value = trim_value(value);
	h[*n].order = *n;
	(*n)++;
}

/* The headers the signer adds itself; the caller must not pass them. */
static bool signer_owned(const char *lname,
			 const struct sigv4_credentials *cred,
			 const struct sigv4_params *params)
{
	return !strcmp(lname, "authorization") ||
	       !strcmp(lname, "x-amz-date") ||
	       (cred->session_token &&
		!strcmp(lname, "x-amz-security-token")) ||
	       (params->sign_body && !strcmp(lname, "x-amz-content-sha256"));
}

/*
 * Appends the canonical headers (each "name:value\n", duplicates merged
 * with ',' in request order) to `out`, and the signed headers (names
 * joined by ';') to `signed_hdrs`.
 */
static int put_canonical_headers(struct buf *out, struct buf *signed_hdrs,
				 const struct sigv4_request *req,
				 const struct sigv4_credentials *cred,
				 const struct sigv4_params *params,
				 const char *amz_date, const char *payload_hash,
				 struct err *e)
{
	struct hdr *h = NULL;
	size_t n = 0, i;
	bool host = false;
	int rc = 0;

	h = mem_calloc(req->n_headers + 3, sizeof(*h));
	for (i = 0; i < req->n_headers; i++) {
		const struct sigv4_header *in = &req->headers[i];

		if (!in->name || !valid_name(in->name) || !in->value) {
			rc = err_set(e, ERR_INVALID, "invalid header name '%s'",
				     in->name ? in->name : "(null)");
			goto out;
		}
		hdr_add(h, &n, in->name, in->value);
		if (signer_owned(h[n - 1].name, cred, params)) {
			rc = err_set(e, ERR_INVALID,
				     "header '%s' is set by the signer",
				     in->name);
			goto out;
		}
		if (!strcmp(h[n - 1].name, "host"))
			host = true;
	}
	if (!host) {
		rc = err_set(e, ERR_INVALID, "request has no 'Host' header");
		goto out;
	}
	hdr_add(h, &n, "x-amz-date", amz_date);
	if (cred->session_token && !params->omit_session_token)
		hdr_add(h, &n, "x-amz-security-token", cred->session_token);
	if (params->sign_body)
		hdr_add(h, &n, "x-amz-content-sha256", payload_hash);

	qsort(h, n, sizeof(*h), hdr_cmp);
	for (i = 0; i < n; i++) {
		if (i && !strcmp(h[i].name, h[i - 1].name)) {
			buf_putc(out, ',');
			buf_puts(out, h[i].value);
			continue;
		}
		if (i) {
			buf_putc(out, '\n');
			buf_putc(signed_hdrs, ';');
		}
		buf_puts(signed_hdrs, h[i].name);
		buf_printf(out, "%s:%s", h[i].name, h[i].value);
	}
	buf_putc(out, '\n');
out:
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return rc;
}

static int check_inputs(const struct sigv4_request *req,
			const struct sigv4_credentials *cred,
			const struct sigv4_params *params, struct err *e)
{
	if (!req->method || !valid_name(req->method))
		return err_set(e, ERR_INVALID, "invalid method '%s'",
			       req->method ? req->method : "(null)");
	if (!valid_scope_part(cred->access_key_id) ||
	    !cred->secret_access_key || !*cred->secret_access_key)
		return err_set(e, ERR_INVALID, "incomplete credentials");
	if (cred->session_token && !valid_token(cred->session_token))
		return err_set(e, ERR_INVALID, "invalid session token");
	if (!valid_scope_part(params->region))
		return err_set(e, ERR_INVALID, "invalid region '%s'",
			       params->region ? params->region : "(null)");
	if (!valid_scope_part(params->service))
		return err_set(e, ERR_INVALID, "invalid service '%s'",
			       params->service ? params->service : "(null)");
	if (req->body_len && !req->body)
		return err_set(e, ERR_INVALID, "body of %zu bytes is NULL",
			       req->body_len);
	return 0;
}

static int derive_key(unsigned char key[SIGV4_SHA256_LEN], const char *secret,
		      const char *date, const char *region, const char *service)
{
	struct buf k = BUF_INIT;
	unsigned char tmp[SIGV4_SHA256_LEN];
	int rc = 0;

	buf_puts(&k, "AWS4");
	buf_puts(&k, secret);
	if (hmac(tmp, k.ptr, k.len, date, strlen(date)) < 0 ||
	    hmac(key, tmp, sizeof(tmp), region, strlen(region)) < 0 ||
	    hmac(tmp, key, SIGV4_SHA256_LEN, service, strlen(service)) < 0 ||
	    hmac(key, tmp, sizeof(tmp), "aws4_request", 12) < 0)
		rc = -1;
	OPENSSL_cleanse(k.ptr, k.len);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	buf_release(&k);
	return rc;
}

int sigv4_sign(struct sigv4_result *out, const struct sigv4_request *req,
	       const struct sigv4_credentials *cred,
	       const struct sigv4_params *params, struct err *e)
{
	struct buf creq = BUF_INIT, sts = BUF_INIT, signed_hdrs = BUF_INIT;
	struct buf auth = BUF_INIT, scope = BUF_INIT;
	unsigned char key[SIGV4_SHA256_LEN], mac[SIGV4_SHA256_LEN];
	char date[9], creq_hash[65];
	size_t token_at = 0;
	struct tm tm;
	int rc = 0;

	assert(out && req && cred && params && e);
	memset(out, 0, sizeof(*out));
	if ((rc = check_inputs(req, cred, params, e)) < 0)
		goto out;
	if (!gmtime_r(&params->now, &tm) ||
	    strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ",
		     &tm) != sizeof(out->amz_date) - 1) {
		rc = err_set(e, ERR_INVALID, "time %lld cannot be signed",
			     (long long)params->now);
		goto out;
	}
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	sigv4_sha256_hex(out->payload_hash, req->body, req->body_len);

	buf_printf(&creq, "%s\n", req->method);
	put_canonical_uri(&creq, req->path, params->normalize_path);
	buf_putc(&creq, '\n');
	put_canonical_query(&creq, req->query);
	buf_putc(&creq, '\n');
	rc = put_canonical_headers(&creq, &signed_hdrs, req, cred, params,
				   out->amz_date, out->payload_hash, e);
	if (rc < 0)
		goto out;
	buf_printf(&creq, "\n%s\n%s", buf_cstr(&signed_hdrs),
		   out->payload_hash);

	buf_printf(&scope, "%s/%s/%s/aws4_request", date, params->region,
		   params->service);
	sigv4_sha256_hex(creq_hash, creq.ptr, creq.len);
	buf_printf(&sts, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, out->amz_date,
		   buf_cstr(&scope), creq_hash);

	if (derive_key(key, cred->secret_access_key, date, params->region,
		       params->service) < 0 ||
	    hmac(mac, key, sizeof(key), sts.ptr, sts.len) < 0) {
		rc = err_set(e, ERR_GENERIC, "hmac-sha256 failed");
		goto out;
	}
	hex_lower(out->signature, mac, sizeof(mac));

	buf_printf(&auth, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		   SIGV4_ALGORITHM, cred->access_key_id, buf_cstr(&scope),
		   buf_cstr(&signed_hdrs), out->signature);
	/*
	 * The result has no field of its own for the session token, so a
	 * copy lives in the same allocation, after the Authorization value's
	 * NUL: add[] then never borrows from the caller's credentials.
	 */
	if (cred->session_token) {
		token_at = auth.len + 1;
		buf_put(&auth, "", 1);
		buf_puts(&auth, cred->session_token);
	}

	out->canonical_request = buf_detach(&creq);
	out->string_to_sign = buf_detach(&sts);
	out->authorization = buf_detach(&auth);
	out->add[out->n_add].name = "X-Amz-Date";
	out->add[out->n_add++].value = out->amz_date;
	if (cred->session_token) {
		out->add[out->n_add].name = "X-Amz-Security-Token";
		out->add[out->n_add++].value = out->authorization + token_at;
	}
	if (params->sign_body) {
		out->add[out->n_add].name = "x-amz-content-sha256";
		out->add[out->n_add++].value = out->payload_hash;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	buf_release(&creq);
	buf_release(&sts);
	buf_release(&signed_hdrs);
	buf_release(&auth);
	buf_release(&scope);
	if (rc < 0)
		sigv4_result_release(out);
	return rc;
}

void sigv4_result_release(struct sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	memset(r, 0, sizeof(*r));
}
