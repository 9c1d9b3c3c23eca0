/*
 * Unit tests for reconcilers/aws/sigv4, and the SigV4 test suite in
 * tests/fixtures/sigv4 (SIGV4_SUITE): every case of v4/ (the official
 * AWS cases) and extra-generated/ (JSON and query protocol requests) is
 * its own test. A case signs its request.txt with its context.json and
 * must reproduce header-canonical-request.txt, header-string-to-sign.txt
 * and header-signature.txt byte for byte, and the Authorization and added
 * headers of header-signed-request.txt. A missing or incomplete suite
 * directory is a failure, not a skip.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "file.h"
#include "mem.h"
#include "sigv4.h"

#ifndef SIGV4_SUITE
#error "SIGV4_SUITE must be the path of the sigv4 test data directory"
#endif

/* the suite as described in its README: fewer means files went missing */
#define SUITE_V4_CASES 38
#define SUITE_EXTRA_CASES 7
#define FILE_MAX (1 << 20)

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static size_t cases_passed;

/* ---- a raw HTTP/1.1 request as the suite writes it ---- */

struct field {
	char *name;
	struct buf value; /* continuation lines kept, joined by '\n' */
};

struct http_req {
	char *method;
	char *path;
	char *query; /* NULL without '?' */
	struct field *fields;
	size_t n_fields;
	size_t cap;
	struct sigv4_header *headers; /* views of fields, for signing */
	char *body;
	size_t body_len;
};

static void http_req_release(struct http_req *r)
{
	size_t i;

	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->n_fields; i++) {
		free(r->fields[i].name);
		buf_release(&r->fields[i].value);
	}
	free(r->fields);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/*
 * The first line is METHOD SP TARGET SP VERSION; TARGET may hold spaces
 * (v4/get-space-*), so it ends at the last space. Then header lines
 * "Name:value", continuation lines starting with whitespace, a blank
 * line and the body. Without a blank line the body is empty.
 */
static void parse_request(struct http_req *out, const char *text, size_t len,
			  const char *what)
{
	const char *p = text, *end = text + len, *le, *sp1, *sp2, *q;
	size_t i;

	memset(out, 0, sizeof(*out));
	le = line_end(p, end);
	sp1 = memchr(p, ' ', (size_t)(le - p));
	for (sp2 = le; sp2 > p && sp2[-1] != ' '; sp2--)
		;
	if (!sp1 || sp2 - 1 <= sp1) {
		fail_msg("%s: bad request line", what);
		return;
	}
	sp2--;
	out->method = mem_strndup(p, (size_t)(sp1 - p));
	sp1++;
	q = memchr(sp1, '?', (size_t)(sp2 - sp1));
	out->path = mem_strndup(sp1, (size_t)((q ? q : sp2) - sp1));
	if (q)
		out->query = mem_strndup(q + 1, (size_t)(sp2 - q - 1));
	p = le < end ? le + 1 : end;

	while (p < end) {
		struct field *f;

		le = line_end(p, end);
		if (le == p) {
			p++;
			out->body_len = (size_t)(end - p);
			out->body = mem_strndup(p, out->body_len);
			break;
		}
		if (*p == ' ' || *p == '\t') {
			if (!out->n_fields)
				fail_msg("%s: continuation before a header",
					 what);
			f = &out->fields[out->n_fields - 1];
			buf_putc(&f->value, '\n');
			buf_put(&f->value, p, (size_t)(le - p));
		} else {
			const char *colon = memchr(p, ':', (size_t)(le - p));

			if (!colon)
				fail_msg("%s: header line without ':'", what);
			out->fields = mem_grow(out->fields, &out->cap,
					       out->n_fields + 1,
					       sizeof(*out->fields));
			f = &out->fields[out->n_fields++];
			f->name = mem_strndup(p, (size_t)(colon - p));
			memset(&f->value, 0, sizeof(f->value));
			buf_put(&f->value, colon + 1, (size_t)(le - colon - 1));
		}
		p = le < end ? le + 1 : end;
	}
	out->headers = mem_calloc(out->n_fields, sizeof(*out->headers));
	for (i = 0; i < out->n_fields; i++) {
		out->headers[i].name = out->fields[i].name;
		out->headers[i].value = buf_cstr(&out->fields[i].value);
	}
}

/* ---- context.json, converted to owned strings at the boundary ---- */

struct context {
	char *access_key_id;
	char *secret_access_key;
	char *token; /* NULL without one */
	char *region;
	char *service;
	time_t now;
	bool normalize;
	bool sign_body;
	bool omit_session_token;
};

static void context_release(struct context *c)
{
	free(c->access_key_id);
	free(c->secret_access_key);
	free(c->token);
	free(c->region);
	free(c->service);
	memset(c, 0, sizeof(*c));
}

static char *json_str(json_t *obj, const char *key, bool required,
		      const char *what)
{
	json_t *v = json_object_get(obj, key); /* borrowed */

	if (!v && !required)
		return NULL;
	if (!json_is_string(v))
		fail_msg("%s: '%s' is not a string", what, key);
	return mem_strdup(json_string_value(v));
}

static bool json_flag(json_t *obj, const char *key, bool dflt, const char *what)
{
	json_t *v = json_object_get(obj, key); /* borrowed */

	if (!v)
		return dflt;
	if (!json_is_boolean(v))
		fail_msg("%s: '%s' is not a boolean", what, key);
	return json_is_true(v);
}

static time_t parse_timestamp(const char *s, const char *what)
{
	struct tm tm;
	char tail;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
		   &tail) != 6)
		fail_msg("%s: bad timestamp '%s'", what, s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void parse_context(struct context *out, const char *path,
			  const char *what)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr); /* new reference */
	json_t *cred;
	char *ts;

	memset(out, 0, sizeof(*out));
	if (!root)
		fail_msg("%s: %s:%d: %s", what, path, jerr.line, jerr.text);
	cred = json_object_get(root, "credentials"); /* borrowed */
	if (!json_is_object(cred))
		fail_msg("%s: no 'credentials' object", what);
	out->access_key_id = json_str(cred, "access_key_id", true, what);
	out->secret_access_key =
		json_str(cred, "secret_access_key", true, what);
	out->token = json_str(cred, "token", false, what);
	out->region = json_str(root, "region", true, what);
	out->service = json_str(root, "service", true, what);
	ts = json_str(root, "timestamp", true, what);
	out->now = parse_timestamp(ts, what);
	free(ts);
	/* absent flags take the defaults of the harness that wrote the suite */
	out->normalize = json_flag(root, "normalize", true, what);
	out->sign_body = json_flag(root, "sign_body", false, what);
	out->omit_session_token =
		json_flag(root, "omit_session_token", false, what);
	json_decref(root);
}

/* ---- one suite case ---- */

static void read_case_file(struct buf *out, const char *dir, const char *name)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&path, "%s/%s/%s", SIGV4_SUITE, dir, name);
	if (file_read(out, path.ptr, FILE_MAX, &e) < 0)
		fail_msg("%s", e.msg);
	buf_release(&path);
}

static void check_text(const char *what, const char *file, const char *want,
		       const char *got)
{
	size_t i = 0;

	if (!strcmp(want, got))
		return;
	while (want[i] && want[i] == got[i])
		i++;
	print_error("%s: %s differs at byte %zu\n"
		    "--- expected\n%s\n--- got\n%s\n---\n",
		    what, file, i, want, got);
	fail();
}

static void sign_case(struct sigv4_result *out, const struct http_req *r,
		      const struct context *c)
{
	struct sigv4_request req = { 0 };
	struct sigv4_credentials cred = { 0 };
	struct sigv4_params params = { 0 };
	struct err e = ERR_INIT;

	req.method = r->method;
	req.path = r->path;
	req.query = r->query;
	req.headers = r->headers;
	req.n_headers = r->n_fields;
	req.body = r->body;
	req.body_len = r->body_len;
	cred.access_key_id = c->access_key_id;
	cred.secret_access_key = c->secret_access_key;
	cred.session_token = c->token;
	params.region = c->region;
	params.service = c->service;
	params.now = c->now;
	params.normalize_path = c->normalize;
	params.sign_body = c->sign_body;
	params.omit_session_token = c->omit_session_token;
	if (sigv4_sign(out, &req, &cred, &params, &e) < 0)
		fail_msg("sigv4_sign: %s", e.msg);
}

/*
 * header-signed-request.txt is the request with its headers first, then
 * the added headers (in an order that differs between v4/ and
 * extra-generated/, so compared as a set) and Authorization, then the
 * same body.
 */
static void check_signed_request(const char *what, const struct http_req *r,
				 const struct sigv4_result *res,
				 const char *text, size_t len)
{
	struct http_req s;
	bool seen[3] = { false, false, false };
	bool auth = false;
	size_t i, j;

	parse_request(&s, text, len, what);
	assert_string_equal(s.method, r->method);
	assert_string_equal(s.path, r->path);
	if (r->query || s.query)
		assert_string_equal(s.query ? s.query : "(none)",
				    r->query ? r->query : "(none)");
	assert_int_equal(s.body_len, r->body_len);
	if (r->body_len)
		assert_memory_equal(s.body, r->body, r->body_len);
	if (s.n_fields != r->n_fields + res->n_add + 1)
		fail_msg("%s: signed request has %zu headers, expected %zu",
			 what, s.n_fields, r->n_fields + res->n_add + 1);
	for (i = 0; i < r->n_fields; i++) {
		assert_string_equal(s.headers[i].name, r->headers[i].name);
		assert_string_equal(s.headers[i].value, r->headers[i].value);
	}
	for (; i < s.n_fields; i++) {
		const struct sigv4_header *h = &s.headers[i];

		if (!strcmp(h->name, "Authorization")) {
			check_text(what, "Authorization", h->value,
				   res->authorization);
			auth = true;
			continue;
		}
		for (j = 0; j < res->n_add; j++) {
			if (!seen[j] && !strcmp(h->name, res->add[j].name) &&
			    !strcmp(h->value, res->add[j].value))
				break;
		}
		if (j == res->n_add)
			fail_msg("%s: added header '%s: %s' not produced", what,
				 h->name, h->value);
		seen[j] = true;
	}
	if (!auth)
		fail_msg("%s: no Authorization header", what);
	http_req_release(&s);
}

static void test_sigv4__suite_case_matches(void **state)
{
	const char *dir = *state;
	struct buf raw = BUF_INIT, want = BUF_INIT, path = BUF_INIT;
	struct http_req r;
	struct context c;
	struct sigv4_result res;
	char body_hash[65];

	read_case_file(&raw, dir, "request.txt");
	parse_request(&r, raw.ptr, raw.len, dir);
	buf_printf(&path, "%s/%s/context.json", SIGV4_SUITE, dir);
	parse_context(&c, path.ptr, dir);
	sign_case(&res, &r, &c);

	read_case_file(&want, dir, "header-canonical-request.txt");
	check_text(dir, "header-canonical-request.txt", want.ptr,
		   res.canonical_request);
	buf_clear(&want);
	read_case_file(&want, dir, "header-string-to-sign.txt");
	check_text(dir, "header-string-to-sign.txt", want.ptr,
		   res.string_to_sign);
	buf_clear(&want);
	read_case_file(&want, dir, "header-signature.txt");
	check_text(dir, "header-signature.txt", want.ptr, res.signature);
	buf_clear(&want);
	read_case_file(&want, dir, "header-signed-request.txt");
	check_signed_request(dir, &r, &res, want.ptr, want.len);

	sigv4_sha256_hex(body_hash, r.body, r.body_len);
	assert_string_equal(res.payload_hash, body_hash);

	sigv4_result_release(&res);
	context_release(&c);
	http_req_release(&r);
	buf_release(&raw);
	buf_release(&want);
	buf_release(&path);
	cases_passed++;
}

/* ---- the suite's directory listing ---- */

struct case_list {
	char **names; /* "v4/get-vanilla" */
	size_t n;
	size_t cap;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every subdirectory of SIGV4_SUITE/sub; returns how many, or -1. */
static int list_cases(struct case_list *l, const char *sub)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	struct dirent *de;
	DIR *dir;
	size_t first = l->n;
	int n = 0;

	buf_printf(&path, "%s/%s", SIGV4_SUITE, sub);
	dir = opendir(path.ptr);
	if (!dir) {
		perror(path.ptr);
		buf_release(&path);
		return -1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		buf_clear(&name);
		buf_printf(&name, "%s/%s/%s/request.txt", SIGV4_SUITE, sub,
			   de->d_name);
		if (access(name.ptr, R_OK) != 0)
			continue;
		buf_clear(&name);
		buf_printf(&name, "%s/%s", sub, de->d_name);
		l->names = mem_grow(l->names, &l->cap, l->n + 1,
				    sizeof(*l->names));
		l->names[l->n++] = buf_detach(&name);
		n++;
	}
	closedir(dir);
	if (l->n > first)
		qsort(l->names + first, l->n - first, sizeof(*l->names),
		      name_cmp);
	buf_release(&path);
	buf_release(&name);
	return n;
}

static void test_sigv4__suite_is_complete(void **state)
{
	struct case_list l = { NULL, 0, 0 };
	int v4, extra;
	size_t i;

	(void)state;
	v4 = list_cases(&l, "v4");
	extra = list_cases(&l, "extra-generated");
	for (i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	if (v4 < 0 || extra < 0)
		fail_msg("%s: suite directory is missing", SIGV4_SUITE);
	if (v4 < SUITE_V4_CASES || extra < SUITE_EXTRA_CASES)
		fail_msg("%s: %d v4 and %d extra-generated cases, expected "
			 "%d and %d",
			 SIGV4_SUITE, v4, extra, SUITE_V4_CASES,
			 SUITE_EXTRA_CASES);
}

/* ---- direct unit tests ---- */

static const struct sigv4_header vanilla_headers[] = {
	{ "Host", "example.amazonaws.com" },
};

static void sign_simple(struct sigv4_result *out, struct sigv4_request *req,
			struct sigv4_credentials *cred,
			struct sigv4_params *params)
{
	struct err e = ERR_INIT;

	if (sigv4_sign(out, req, cred, params, &e) < 0)
		fail_msg("sigv4_sign: %s", e.msg);
}

static void setup_simple(struct sigv4_request *req,
			 struct sigv4_credentials *cred,
			 struct sigv4_params *params)
{
	memset(req, 0, sizeof(*req));
	memset(cred, 0, sizeof(*cred));
	memset(params, 0, sizeof(*params));
	req->method = "GET";
	req->path = "/";
	req->headers = vanilla_headers;
	req->n_headers = 1;
	cred->access_key_id = "AKIDEXAMPLE";
	cred->secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	params->region = "us-east-1";
	params->service = "service";
	params->now = 1440938160; /* 2015-08-30T12:36:00Z */
	params->normalize_path = true;
}

/* The canonical request's second and third lines: URI and query. */
static void canonical_uri_and_query(char *uri, size_t urilen, char *query,
				    size_t qlen, const struct sigv4_result *r)
{
	const char *p = strchr(r->canonical_request, '\n') + 1;
	const char *q = strchr(p, '\n');
	const char *e = strchr(q + 1, '\n');

	snprintf(uri, urilen, "%.*s", (int)(q - p), p);
	snprintf(query, qlen, "%.*s", (int)(e - q - 1), q + 1);
}

static void test_sigv4__uri_encode_escapes_all_but_unreserved(void **state)
{
	struct buf b = BUF_INIT;
	const char unres[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789-_.~";
	const char reserved[] = " !\"#$%&'()*+,/:;=?@[]";

	(void)state;
	sigv4_uri_encode(&b, unres, strlen(unres), false);
	assert_string_equal(b.ptr, unres);
	buf_clear(&b);
	sigv4_uri_encode(&b, reserved, strlen(reserved), false);
	assert_string_equal(b.ptr, "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C"
				   "%2F%3A%3B%3D%3F%40%5B%5D");
	buf_clear(&b);
	/* U+1234 and a stray high byte: each byte escaped, upper-case hex */
	sigv4_uri_encode(&b, "\xe1\x88\xb4\xff", 4, false);
	assert_string_equal(b.ptr, "%E1%88%B4%FF");
	buf_clear(&b);
	sigv4_uri_encode(&b, "a\0b", 3, false);
	assert_string_equal(b.ptr, "a%00b");
	buf_release(&b);
}

static void test_sigv4__uri_encode_keeps_slash_on_request(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	sigv4_uri_encode(&b, "/a b/c", 6, true);
	assert_string_equal(b.ptr, "/a%20b/c");
	buf_clear(&b);
	sigv4_uri_encode(&b, "/a b/c", 6, false);
	assert_string_equal(b.ptr, "%2Fa%20b%2Fc");
	buf_release(&b);
}

static void test_sigv4__sha256_of_empty_string(void **state)
{
	char hex[65];

	(void)state;
	sigv4_sha256_hex(hex, "", 0);
	assert_string_equal(hex, EMPTY_SHA256);
	sigv4_sha256_hex(hex, NULL, 0);
	assert_string_equal(hex, EMPTY_SHA256);
	sigv4_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
}

static void test_sigv4__signature_changes_with_body(void **state)
{
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result a, b;
	size_t len;

	(void)state;
	setup_simple(&req, &cred, &params);
	req.method = "POST";
	req.body = "{\"EndpointName\":\"a\"}";
	req.body_len = strlen(req.body);
	sign_simple(&a, &req, &cred, &params);
	req.body = "{\"EndpointName\":\"b\"}";
	sign_simple(&b, &req, &cred, &params);
	assert_string_not_equal(a.signature, b.signature);
	assert_string_not_equal(a.payload_hash, b.payload_hash);
	/* the payload hash is the canonical request's last line */
	len = strlen(b.canonical_request);
	assert_string_equal(b.canonical_request + len - 64, b.payload_hash);
	assert_int_equal(b.canonical_request[len - 65], '\n');
	sigv4_result_release(&a);
	sigv4_result_release(&b);
}

static void test_sigv4__normalizes_dot_segments_and_slashes(void **state)
{
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;
	char uri[128], query[128];

	(void)state;
	setup_simple(&req, &cred, &params);
	req.path = "/a/b/../c/./d e//";
	sign_simple(&r, &req, &cred, &params);
	canonical_uri_and_query(uri, sizeof(uri), query, sizeof(query), &r);
	assert_string_equal(uri, "/a/c/d%20e/");
	sigv4_result_release(&r);

	req.path = "/../..";
	sign_simple(&r, &req, &cred, &params);
	canonical_uri_and_query(uri, sizeof(uri), query, sizeof(query), &r);
	assert_string_equal(uri, "/");
	sigv4_result_release(&r);

	/* unnormalized (S3): kept as given, encoded once */
	params.normalize_path = false;
	req.path = "/a//./b%41";
	sign_simple(&r, &req, &cred, &params);
	canonical_uri_and_query(uri, sizeof(uri), query, sizeof(query), &r);
	assert_string_equal(uri, "/a//./b%2541");
	sigv4_result_release(&r);
}

static void test_sigv4__query_is_decoded_sorted_and_reencoded(void **state)
{
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;
	char uri[128], query[256];

	(void)state;
	setup_simple(&req, &cred, &params);
	req.query = "b&a=2&a=1&&c=%7e%2f+x&d=%zz";
	sign_simple(&r, &req, &cred, &params);
	canonical_uri_and_query(uri, sizeof(uri), query, sizeof(query), &r);
	assert_string_equal(query, "a=1&a=2&b=&c=~%2F%2Bx&d=%25zz");
	sigv4_result_release(&r);
}

static void test_sigv4__headers_merge_trim_and_sort(void **state)
{
	static const struct sigv4_header hs[] = {
		{ "X-Zeta", "  one\n\t two  " },
		{ "Host", "example.amazonaws.com" },
		{ "x-zeta", "three" },
		{ "Content-Type", "application/x-amz-json-1.1" },
	};
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;

	(void)state;
	setup_simple(&req, &cred, &params);
	req.headers = hs;
	req.n_headers = 4;
	sign_simple(&r, &req, &cred, &params);
	assert_non_null(strstr(r.canonical_request,
			       "\n\ncontent-type:application/x-amz-json-1.1\n"
			       "host:example.amazonaws.com\n"
			       "x-amz-date:20150830T123600Z\n"
			       "x-zeta:one two,three\n\n"
			       "content-type;host;x-amz-date;x-zeta\n"));
	assert_non_null(strstr(r.authorization,
			       "SignedHeaders=content-type;host;x-amz-date;"
			       "x-zeta, Signature="));
	sigv4_result_release(&r);
}

static void test_sigv4__added_headers_outlive_the_credentials(void **state)
{
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;
	char token[] = "FQoGZXIvYXdzEXAMPLETOKEN";

	(void)state;
	setup_simple(&req, &cred, &params);
	cred.session_token = token;
	params.omit_session_token = true;
	params.sign_body = true;
	sign_simple(&r, &req, &cred, &params);
	memset(token, 'x', sizeof(token) - 1);

	assert_int_equal(r.n_add, 3);
	assert_string_equal(r.add[0].name, "X-Amz-Date");
	assert_string_equal(r.add[0].value, "20150830T123600Z");
	assert_string_equal(r.add[1].name, "X-Amz-Security-Token");
	assert_string_equal(r.add[1].value, "FQoGZXIvYXdzEXAMPLETOKEN");
	assert_string_equal(r.add[2].name, "x-amz-content-sha256");
	assert_string_equal(r.add[2].value, EMPTY_SHA256);
	/* omitted from signing, but still sent */
	assert_null(strstr(r.canonical_request, "security-token"));
	assert_non_null(strstr(r.authorization,
			       "SignedHeaders=host;x-amz-content-sha256;"
			       "x-amz-date, "));
	sigv4_result_release(&r);
	sigv4_result_release(&r);
}

static void test_sigv4__refuses_bad_requests(void **state)
{
	static const struct sigv4_header no_host[] = {
		{ "Content-Type", "application/json" },
	};
	static const struct sigv4_header own_date[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	static const struct sigv4_header bad_name[] = {
		{ "Host", "example.amazonaws.com" },
		{ "My Header", "x" },
	};
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;
	struct err e = ERR_INIT;

	(void)state;
	setup_simple(&req, &cred, &params);
	req.headers = no_host;
	assert_int_equal(sigv4_sign(&r, &req, &cred, &params, &e), ERR_INVALID);
	assert_string_equal(e.msg, "request has no 'Host' header");
	assert_null(r.canonical_request);
	assert_null(r.authorization);

	req.headers = own_date;
	req.n_headers = 2;
	assert_int_equal(sigv4_sign(&r, &req, &cred, &params, &e), ERR_INVALID);
	assert_string_equal(e.msg, "header 'X-Amz-Date' is set by the signer");

	req.headers = bad_name;
	assert_int_equal(sigv4_sign(&r, &req, &cred, &params, &e), ERR_INVALID);
	assert_string_equal(e.msg, "invalid header name 'My Header'");

	setup_simple(&req, &cred, &params);
	params.region = "us-east-1/x";
	assert_int_equal(sigv4_sign(&r, &req, &cred, &params, &e), ERR_INVALID);
	setup_simple(&req, &cred, &params);
	cred.session_token = "abc\r\nInjected: yes";
	assert_int_equal(sigv4_sign(&r, &req, &cred, &params, &e), ERR_INVALID);
	sigv4_result_release(&r);
}

static void test_sigv4__amz_date_is_utc(void **state)
{
	struct sigv4_request req;
	struct sigv4_credentials cred;
	struct sigv4_params params;
	struct sigv4_result r;

	(void)state;
	setup_simple(&req, &cred, &params);
	params.now = 0;
	sign_simple(&r, &req, &cred, &params);
	assert_string_equal(r.amz_date, "19700101T000000Z");
	assert_non_null(strstr(r.string_to_sign,
			       "\n19700101/us-east-1/service/aws4_request\n"));
	sigv4_result_release(&r);
}

/*
 * The unit tests first, then one test per suite case (so each case passes
 * or fails alone), then the summary line.
 */
int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_sigv4__suite_is_complete),
		cmocka_unit_test(
			test_sigv4__uri_encode_escapes_all_but_unreserved),
		cmocka_unit_test(test_sigv4__uri_encode_keeps_slash_on_request),
		cmocka_unit_test(test_sigv4__sha256_of_empty_string),
		cmocka_unit_test(test_sigv4__signature_changes_with_body),
		cmocka_unit_test(
			test_sigv4__normalizes_dot_segments_and_slashes),
		cmocka_unit_test(
			test_sigv4__query_is_decoded_sorted_and_reencoded),
		cmocka_unit_test(test_sigv4__headers_merge_trim_and_sort),
		cmocka_unit_test(
			test_sigv4__added_headers_outlive_the_credentials),
		cmocka_unit_test(test_sigv4__refuses_bad_requests),
		cmocka_unit_test(test_sigv4__amz_date_is_utc),
	};
	struct case_list l = { NULL, 0, 0 };
	struct CMUnitTest *cases = NULL;
	size_t i;
	int rc;

	rc = cmocka_run_group_tests_name("sigv4", unit, NULL, NULL);

	list_cases(&l, "v4");
	list_cases(&l, "extra-generated");
	if (l.n) {
		cases = mem_calloc(l.n, sizeof(*cases));
		for (i = 0; i < l.n; i++) {
			cases[i].name = l.names[i];
			cases[i].test_func = test_sigv4__suite_case_matches;
			cases[i].initial_state = l.names[i];
		}
		if (_cmocka_run_group_tests("sigv4 suite", cases, l.n, NULL,
					    NULL))
			rc = 1;
	}
	printf("sigv4 suite: %zu/%zu cases passed\n", cases_passed, l.n);
	if (cases_passed != l.n || l.n < SUITE_V4_CASES + SUITE_EXTRA_CASES)
		rc = 1;

	for (i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(cases);
	return rc;
}
