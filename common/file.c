/*
 * Bounded whole-file reads (see file.h).
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read(struct buf *out, const char *path, size_t max_bytes,
	      struct err *e)
{
	struct stat st;
	char chunk[65536];
	size_t total = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size > max_bytes) {
		rc = err_set(e, ERR_LIMIT,
			     "'%s' is %lld bytes; the limit is %zu bytes", path,
			     (long long)st.st_size, max_bytes);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, ERR_IO, "cannot read '%s': %s", path,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		/* the file may grow between fstat() and here */
		if (total > max_bytes) {
			rc = err_set(
				e, ERR_LIMIT,
				"'%s' is larger than the limit of %zu bytes",
				path, max_bytes);
			goto out;
		}
		buf_put(out, chunk, (size_t)n);
	}
out:
	close(fd);
	return rc;
}

int file_path_normalize(struct buf *out, const char *path)
{
	const char *p = path, *end;

	buf_clear(out);
	buf_puts(out, ""); /* never NULL */
	if (*path == '/')
		return -1;
	for (; *p; p = *end ? end + 1 : end) {
		size_t n;

		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (!out->len) {
				buf_clear(out);
				return -1;
			}
			slash = strrchr(out->ptr, '/');
			out->len = slash ? (size_t)(slash - out->ptr) : 0;
			out->ptr[out->len] = '\0';
			continue;
		}
		if (out->len)
			buf_putc(out, '/');
		buf_put(out, p, n);
	}
	return 0;
}

int file_temp_dir(struct buf *out, const char *parent, const char *prefix,
		  struct err *e)
{
	const char *tmp = getenv("TMPDIR");

	if (!parent)
		parent = tmp && *tmp ? tmp : "/tmp";
	buf_clear(out);
	buf_printf(out, "%s/%s-XXXXXX", parent, prefix);
	if (!mkdtemp(out->ptr))
		return err_set(e, ERR_IO,
			       "cannot make a temporary directory in '%s': %s",
			       parent, strerror(errno));
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void file_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
