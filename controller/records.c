/*
 * Deployment records (see records.h).
 */
#include "records.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "sigv4.h"

void record_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	/* milliseconds: records of one second must still sort */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* "key: value\n", the value on one line */
static void field(struct buf *out, const char *key, const char *value)
{
	const char *p;

	if (!value || !*value)
		return;
	buf_printf(out, "%s: ", key);
	for (p = value; *p; p++)
		buf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
	buf_putc(out, '\n');
}

/* the mac line of the block text `block` */
static void mac_line(char hex[65], const char *block, size_t len,
		     const struct records_key *key)
{
	sigv4_hmac_sha256_hex(hex, key->bytes, key->len, block, len);
}

void record_format(struct buf *out, const struct record *r,
		   const struct records_key *key)
{
	const char *p;
	size_t start;

	if (out->len && out->ptr[out->len - 1] != '\n')
		buf_putc(out, '\n');
	if (out->len)
		buf_putc(out, '\n');
	start = out->len;
	buf_printf(out, "sagesync: %s\n", r->result);
	field(out, "revision", r->revision);
	field(out, "last-good", r->last_good);
	field(out, "started", r->started);
	field(out, "finished", r->finished);
	field(out, "controller", r->controller);
	field(out, "reason", r->reason);
	for (p = r->changes; p && *p;) {
		size_t n = strcspn(p, "\n");
		struct buf one = BUF_INIT;

		buf_put(&one, p, n);
		field(out, "change", one.ptr);
		buf_release(&one);
		p += n + (p[n] == '\n');
	}
	if (key && key->len) {
		char hex[65];

		mac_line(hex, out->ptr + start, out->len - start, key);
		buf_printf(out, "mac: hmac-sha256:%s\n", hex);
	}
}

static void set(char *dst, size_t size, const char *v, size_t n)
{
	snprintf(dst, size, "%.*s", (int)n, v);
}

/* a parse in progress: the record being read, and its block */
struct parsing {
	struct record *r;
	const char *block; /* where its "sagesync:" line starts */
	bool after_mac; /* a line followed the mac: it is not authentic */
	struct buf changes;
};

static void finish(struct parsing *ps)
{
	if (!ps->r)
		return;
	free(ps->r->changes);
	ps->r->changes = buf_detach(&ps->changes);
	if (!ps->r->changes)
		ps->r->changes = mem_strdup("");
	if (ps->after_mac)
		ps->r->authentic = false;
	ps->r = NULL;
}

static bool key_is(const char *p, size_t klen, const char *key)
{
	return klen == strlen(key) && !strncmp(p, key, klen);
}

void records_parse(const char *text, const struct records_key *key,
		   struct record **out, size_t *n)
{
	struct record *list = NULL;
	struct parsing ps = { NULL, NULL, false, BUF_INIT };
	size_t cap = 0;
	const char *p = text;

	*n = 0;
	while (p && *p) {
		size_t len = strcspn(p, "\n");
		const char *colon = memchr(p, ':', len);
		const char *v = colon ? colon + 1 : p + len;
		size_t klen = colon ? (size_t)(colon - p) : len, vlen;
		struct record *r;

		while (v < p + len && *v == ' ')
			v++;
		vlen = (size_t)(p + len - v);
		if (key_is(p, klen, "sagesync")) {
			finish(&ps);
			list = mem_grow(list, &cap, *n + 1, sizeof(*list));
			r = ps.r = &list[(*n)++];
			memset(r, 0, sizeof(*r));
			ps.block = p;
			ps.after_mac = false;
			set(r->result, sizeof(r->result), v, vlen);
			r->controller = mem_strdup("");
			r->reason = mem_strdup("");
			r->changes = NULL;
		} else if (len == 0) {
			finish(&ps); /* a blank line ends a block */
		} else if (!(r = ps.r)) {
			/* between blocks: not a record's */
		} else if (r->authentic || ps.after_mac) {
			ps.after_mac = true;
		} else if (key_is(p, klen, "mac")) {
			char hex[65];
			static const char prefix[] = "hmac-sha256:";

			if (key && key->len && vlen == 12 + 64 &&
			    !strncmp(v, prefix, 12)) {
				mac_line(hex, ps.block, (size_t)(p - ps.block),
					 key);
				r->authentic = CRYPTO_memcmp(hex, v + 12, 64) ==
					       0;
			}
			ps.after_mac = !r->authentic;
		} else if (key_is(p, klen, "revision")) {
			set(r->revision, sizeof(r->revision), v, vlen);
		} else if (key_is(p, klen, "last-good")) {
			set(r->last_good, sizeof(r->last_good), v, vlen);
		} else if (key_is(p, klen, "started")) {
			set(r->started, sizeof(r->started), v, vlen);
		} else if (key_is(p, klen, "finished")) {
			set(r->finished, sizeof(r->finished), v, vlen);
		} else if (key_is(p, klen, "controller")) {
			free(r->controller);
			r->controller = mem_strndup(v, vlen);
		} else if (key_is(p, klen, "reason")) {
			free(r->reason);
			r->reason = mem_strndup(v, vlen);
		} else if (key_is(p, klen, "change")) {
			if (ps.changes.len)
				buf_putc(&ps.changes, '\n');
			buf_put(&ps.changes, v, vlen);
		}
		p += len + (p[len] == '\n');
	}
	finish(&ps);
	buf_release(&ps.changes);
	*out = list;
}

void record_release(struct record *r)
{
	free(r->controller);
	free(r->reason);
	free(r->changes);
}

void records_free(struct record *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_release(&r[i]);
	free(r);
}

bool record_good(const struct record *r)
{
	return !strcmp(r->result, "succeeded") ||
	       !strcmp(r->result, "drift-healed");
}

bool record_failed(const struct record *r)
{
	return !strcmp(r->result, "failed") ||
	       !strcmp(r->result, "rolled-back");
}

bool record_revert(const struct record *r)
{
	return !strcmp(r->result, "reverted");
}

/* the blocks of a note, each as its text */
static size_t blocks(const char *text, char ***out)
{
	size_t n = 0, cap = 0;
	const char *p = text;

	*out = NULL;
	while (*p) {
		const char *end = strstr(p, "\n\n");
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);

		if (len > 1 || *p != '\n') {
			*out = mem_grow(*out, &cap, n + 1, sizeof(**out));
			(*out)[n++] = mem_strndup(p, len);
		}
		p += len;
		while (*p == '\n')
			p++;
	}
	return n;
}

static int cmp_block(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *records_union(const char *ours, const char *theirs)
{
	struct buf out = BUF_INIT;
	char **a, **b;
	size_t na = blocks(ours, &a), nb = blocks(theirs, &b), i, j;

	/* sorted, so that each of theirs is looked up, not compared with
	 * every one of ours */
	if (na)
		qsort(a, na, sizeof(*a), cmp_block);
	buf_puts(&out, ours);
	for (j = 0; j < nb; j++) {
		if (na && bsearch(&b[j], a, na, sizeof(*a), cmp_block))
			continue;
		if (out.len && out.ptr[out.len - 1] != '\n')
			buf_putc(&out, '\n');
		buf_printf(&out, "\n%s", b[j]);
	}
	for (i = 0; i < na; i++)
		free(a[i]);
	for (j = 0; j < nb; j++)
		free(b[j]);
	free(a);
	free(b);
	return buf_detach(&out);
}
