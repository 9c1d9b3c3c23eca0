/*
 * The metrics registry (see metrics.h). Small and linear: a controller
 * has a few dozen series, and /metrics is read every few seconds.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct series {
	char *labels; /* rendered: `a="x",b="y"`, or "" */
	double value; /* counter, gauge; histogram sum */
	unsigned long count; /* histogram */
	unsigned long *buckets; /* histogram, per bound (not cumulative) */
};

struct family {
	char *name;
	char *help;
	enum metrics_type type;
	double *bounds;
	size_t n_bounds;
	struct series *series;
	size_t n_series, cap_series;
};

struct metrics {
	pthread_mutex_t lock;
	struct family *families;
	size_t n, cap;
};

void metrics_new(struct metrics **out)
{
	struct metrics *m = mem_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	*out = m;
}

void metrics_free(struct metrics *m)
{
	size_t i, j;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		struct family *f = &m->families[i];

		for (j = 0; j < f->n_series; j++) {
			free(f->series[j].labels);
			free(f->series[j].buckets);
		}
		free(f->series);
		free(f->name);
		free(f->help);
		free(f->bounds);
	}
	free(m->families);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct family *declare(struct metrics *m, const char *name,
			      enum metrics_type type, const char *help)
{
	struct family *f;

	m->families =
		mem_grow(m->families, &m->cap, m->n + 1, sizeof(*m->families));
	f = &m->families[m->n++];
	memset(f, 0, sizeof(*f));
	f->name = mem_strdup(name);
	f->help = mem_strdup(help);
	f->type = type;
	return f;
}

void metrics_declare(struct metrics *m, const char *name,
		     enum metrics_type type, const char *help)
{
	pthread_mutex_lock(&m->lock);
	declare(m, name, type, help);
	pthread_mutex_unlock(&m->lock);
}

void metrics_declare_histogram(struct metrics *m, const char *name,
			       const char *help, const double *bounds,
			       size_t n_bounds)
{
	struct family *f;

	pthread_mutex_lock(&m->lock);
	f = declare(m, name, METRICS_HISTOGRAM, help);
	f->bounds = mem_alloc(n_bounds * sizeof(*bounds));
	memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
	f->n_bounds = n_bounds;
	pthread_mutex_unlock(&m->lock);
}

/* Prometheus label value escaping: backslash, quote, newline */
static void escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '"')
			buf_puts(b, "\\\"");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void render_labels(struct buf *b, const char *const *labels)
{
	size_t i;

	for (i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		buf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
		escape(b, labels[i + 1]);
		buf_putc(b, '"');
	}
}

/* The series of `name` with `labels`, made on first use; lock held. */
static struct series *find(struct metrics *m, const char *name,
			   const char *const *labels, struct family **fam)
{
	struct buf key = BUF_INIT;
	struct family *f = NULL;
	struct series *s = NULL;
	size_t i;

	for (i = 0; i < m->n && !f; i++)
		if (!strcmp(m->families[i].name, name))
			f = &m->families[i];
	if (!f) {
		/* a programming error: every family is declared at start */
		fprintf(stderr, "sagesync: metric '%s' is not declared\n",
			name);
		abort();
	}
	render_labels(&key, labels);
	for (i = 0; i < f->n_series && !s; i++)
		if (!strcmp(f->series[i].labels, buf_cstr(&key)))
			s = &f->series[i];
	if (!s) {
		f->series = mem_grow(f->series, &f->cap_series, f->n_series + 1,
				     sizeof(*f->series));
		s = &f->series[f->n_series++];
		memset(s, 0, sizeof(*s));
		s->labels = mem_strdup(buf_cstr(&key));
		if (f->type == METRICS_HISTOGRAM)
			s->buckets = mem_calloc(f->n_bounds + 1,
						sizeof(*s->buckets));
	}
	buf_release(&key);
	*fam = f;
	return s;
}

void metrics_add(struct metrics *m, const char *name, const char *const *labels,
		 double by)
{
	struct family *f;

	pthread_mutex_lock(&m->lock);
	find(m, name, labels, &f)->value += by;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set(struct metrics *m, const char *name, const char *const *labels,
		 double value)
{
	struct family *f;

	pthread_mutex_lock(&m->lock);
	find(m, name, labels, &f)->value = value;
	pthread_mutex_unlock(&m->lock);
}

void metrics_replace(struct metrics *m, const char *name,
		     const char *const *labels, double value)
{
	struct family *f;
	size_t i;

	pthread_mutex_lock(&m->lock);
	find(m, name, NULL, &f); /* the family; its series go below */
	for (i = 0; i < f->n_series; i++) {
		free(f->series[i].labels);
		free(f->series[i].buckets);
	}
	f->n_series = 0;
	find(m, name, labels, &f)->value = value;
	pthread_mutex_unlock(&m->lock);
}

void metrics_observe(struct metrics *m, const char *name,
		     const char *const *labels, double value)
{
	struct family *f;
	struct series *s;
	size_t i;

	pthread_mutex_lock(&m->lock);
	s = find(m, name, labels, &f);
	for (i = 0; i < f->n_bounds && value > f->bounds[i]; i++)
		;
	s->buckets[i]++; /* i == n_bounds: only +Inf */
	s->count++;
	s->value += value;
	pthread_mutex_unlock(&m->lock);
}

double metrics_get(struct metrics *m, const char *name,
		   const char *const *labels)
{
	struct family *f;
	double v;

	pthread_mutex_lock(&m->lock);
	v = find(m, name, labels, &f)->value;
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void number(struct buf *b, double v)
{
	if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		buf_printf(b, "%lld", (long long)v);
	else {
		/* the shortest text that reads back as the same number */
		char s[32];

		snprintf(s, sizeof(s), "%.15g", v);
		if (strtod(s, NULL) != v)
			snprintf(s, sizeof(s), "%.17g", v);
		buf_puts(b, s);
	}
}

static void sample(struct buf *b, const char *name, const char *suffix,
		   const char *labels, const char *extra, double v)
{
	bool any = *labels || extra;

	buf_printf(b, "%s%s", name, suffix);
	if (any)
		buf_printf(b, "{%s%s%s}", labels, *labels && extra ? "," : "",
			   extra ? extra : "");
	buf_putc(b, ' ');
	number(b, v);
	buf_putc(b, '\n');
}

void metrics_render(struct metrics *m, struct buf *out)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct buf le = BUF_INIT;
	size_t i, j, k;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++) {
		const struct family *f = &m->families[i];

		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name,
			   f->help, f->name, types[f->type]);
		for (j = 0; j < f->n_series; j++) {
			const struct series *s = &f->series[j];
			unsigned long cum = 0;

			if (f->type != METRICS_HISTOGRAM) {
				sample(out, f->name, "", s->labels, NULL,
				       s->value);
				continue;
			}
			for (k = 0; k <= f->n_bounds; k++) {
				cum += s->buckets[k];
				buf_clear(&le);
				buf_puts(&le, "le=\"");
				number(&le, k < f->n_bounds ? f->bounds[k] :
							      INFINITY);
				buf_putc(&le, '"');
				sample(out, f->name, "_bucket", s->labels,
				       le.ptr, (double)cum);
			}
			sample(out, f->name, "_sum", s->labels, NULL, s->value);
			sample(out, f->name, "_count", s->labels, NULL,
			       (double)s->count);
		}
	}
	pthread_mutex_unlock(&m->lock);
	buf_release(&le);
}
