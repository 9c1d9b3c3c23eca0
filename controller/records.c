/*
 * Deployment records (see records.h).
 */
#include "records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

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

void record_format(struct buf *out, const struct record *r)
{
	const char *p;

	if (out->len && out->ptr[out->len - 1] != '\n')
		buf_putc(out, '\n');
	if (out->len)
		buf_putc(out, '\n');
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
}

static void set(char *dst, size_t size, const char *v, size_t n)
{
	snprintf(dst, size, "%.*s", (int)n, v);
}

void records_parse(const char *text, struct record **out, size_t *n)
{
	struct record *list = NULL, *r = NULL;
	size_t cap = 0;
	const char *p = text;

	*n = 0;
	while (p && *p) {
		size_t len = strcspn(p, "\n");
		const char *colon = memchr(p, ':', len);
		const char *v = colon ? colon + 1 : p + len;
		size_t klen = colon ? (size_t)(colon - p) : len, vlen;

		while (v < p + len && *v == ' ')
			v++;
		vlen = (size_t)(p + len - v);
		if (klen == 8 && !strncmp(p, "sagesync", 8)) {
			list = mem_grow(list, &cap, *n + 1, sizeof(*list));
			r = &list[(*n)++];
			memset(r, 0, sizeof(*r));
			set(r->result, sizeof(r->result), v, vlen);
			r->controller = mem_strdup("");
			r->reason = mem_strdup("");
			r->changes = mem_strdup("");
		} else if (r && klen == 8 && !strncmp(p, "revision", 8)) {
			set(r->revision, sizeof(r->revision), v, vlen);
		} else if (r && klen == 9 && !strncmp(p, "last-good", 9)) {
			set(r->last_good, sizeof(r->last_good), v, vlen);
		} else if (r && klen == 7 && !strncmp(p, "started", 7)) {
			set(r->started, sizeof(r->started), v, vlen);
		} else if (r && klen == 8 && !strncmp(p, "finished", 8)) {
			set(r->finished, sizeof(r->finished), v, vlen);
		} else if (r && klen == 10 && !strncmp(p, "controller", 10)) {
			free(r->controller);
			r->controller = mem_strndup(v, vlen);
		} else if (r && klen == 6 && !strncmp(p, "reason", 6)) {
			free(r->reason);
			r->reason = mem_strndup(v, vlen);
		} else if (r && klen == 6 && !strncmp(p, "change", 6)) {
			struct buf b = BUF_INIT;

			buf_puts(&b, r->changes);
			if (b.len)
				buf_putc(&b, '\n');
			buf_put(&b, v, vlen);
			free(r->changes);
			r->changes = buf_detach(&b);
		}
		p += len + (p[len] == '\n');
	}
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

char *records_union(const char *ours, const char *theirs)
{
	struct buf out = BUF_INIT;
	char **a, **b;
	size_t na = blocks(ours, &a), nb = blocks(theirs, &b), i, j;

	buf_puts(&out, ours);
	for (j = 0; j < nb; j++) {
		bool seen = false;

		for (i = 0; i < na && !seen; i++)
			seen = !strcmp(a[i], b[j]);
		if (seen)
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
