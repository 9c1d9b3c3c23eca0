/*
 * Located diagnostics (see diag.h).
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void diag_add(struct diag_list *l, const char *file, int line, int col,
	      const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	struct diag *d;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	l->items = mem_grow(l->items, &l->cap, l->n + 1, sizeof(*l->items));
	d = &l->items[l->n++];
	d->file = mem_strdup(file);
	d->line = line;
	d->col = col;
	d->msg = buf_detach(&msg);
	d->seq = l->n - 1;
}

static int cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* keep the order they were found in: qsort is not stable */
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

void diag_sort(struct diag_list *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), cmp);
}

void diag_print(const struct diag_list *l, FILE *fp)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct diag *d = &l->items[i];

		if (d->line > 0)
			fprintf(fp, "%s:%d:%d: error: %s\n", d->file, d->line,
				d->col, d->msg);
		else
			fprintf(fp, "%s: error: %s\n", d->file, d->msg);
	}
}

void diag_release(struct diag_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].file);
		free(l->items[i].msg);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}
