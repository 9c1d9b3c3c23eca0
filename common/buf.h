/*
 * A growable byte buffer, always NUL-terminated, in the manner of git's
 * strbuf. A zeroed struct (BUF_INIT) is a valid empty buffer; `ptr` is
 * never NULL after the first write. The buffer owns `ptr` until
 * buf_detach() hands it to the caller.
 */
#ifndef SAGESYNC_COMMON_BUF_H
#define SAGESYNC_COMMON_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
};

#define BUF_INIT           \
	{                  \
		NULL, 0, 0 \
	}

void buf_grow(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Empties the buffer but keeps its memory. */
void buf_clear(struct buf *b);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/* Returns the string (caller frees) and leaves the buffer empty. */
char *buf_detach(struct buf *b);
/* "" for an empty buffer that never grew. */
const char *buf_cstr(const struct buf *b);

/*
 * Appends `len` bytes of `s` as text that is safe on one line of a log,
 * a terminal or a comment, whoever wrote it: control characters, DEL,
 * the backslash and bytes that are not valid UTF-8 become \xNN (with
 * `ascii`, every byte that is not printable ASCII does), so nothing is
 * dropped and no line or escape sequence can be forged.
 */
void buf_put_shown(struct buf *b, const char *s, size_t len, bool ascii);

#endif
