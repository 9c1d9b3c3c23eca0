/*
 * Growable NUL-terminated buffer (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void buf_grow(struct buf *b, size_t extra)
{
	b->ptr = mem_grow(b->ptr, &b->cap, b->len + extra + 1, 1);
	if (b->len == 0)
		b->ptr[0] = '\0';
}

void buf_put(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (!len)
		return;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void buf_release(struct buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

char *buf_detach(struct buf *b)
{
	char *s;

	buf_grow(b, 0);
	s = b->ptr;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return s;
}

const char *buf_cstr(const struct buf *b)
{
	return b->ptr ? b->ptr : "";
}

/* the length of the valid UTF-8 sequence at `p` (n bytes left), or 0;
 * its code point into `cp` */
static size_t utf8_len(const unsigned char *p, size_t n, unsigned long *cp)
{
	size_t want, i;
	unsigned long c;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	want = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < want)
		return 0;
	c = p[0] & (0x7f >> want);
	for (i = 1; i < want; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong, surrogates and beyond U+10FFFF are not UTF-8 */
	if ((want == 3 && c < 0x800) || (want == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return want;
}

/* C1 controls, and the bidirectional controls that reorder what a
 * terminal shows (the "Trojan Source" characters) */
static bool invisible_control(unsigned long c)
{
	return c <= 0x9f || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f;
}

void buf_put_shown(struct buf *b, const char *s, size_t len, bool ascii)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned long cp = 0;

	buf_grow(b, len);
	while (i < len) {
		n = p[i] >= 0x80 && !ascii ? utf8_len(p + i, len - i, &cp) : 0;
		if (n && !invisible_control(cp)) {
			buf_put(b, p + i, n);
			i += n;
			continue;
		}
		if (n) { /* valid, but shown by its bytes */
			for (k = 0; k < n; k++)
				buf_printf(b, "\\x%02x", p[i++]);
			continue;
		}
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
			buf_printf(b, "\\x%02x", p[i++]);
		else
			buf_putc(b, (char)p[i++]);
	}
}
