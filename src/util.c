#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = NULL, *nb;
	ssize_t r;
	int fd, ret;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(cap);
	if (!b) {
		ret = -ENOMEM;
		goto err;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				ret = -EFBIG;
				goto err;
			}
			cap *= 2;
			nb = realloc(b, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto err;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto err;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > max) {
		ret = -EFBIG;
		goto err;
	}
	b[n] = '\0';
	close(fd);
	*buf = b;
	if (len)
		*len = n;
	return 0;
err:
	free(b);
	close(fd);
	return ret;
}

int read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return read_file_at(AT_FDCWD, path, max, buf, len);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= w;
	}
	return 0;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, p + done, len - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

int pid_array_add(pid_t **arr, size_t *nr, size_t *cap, pid_t v)
{
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		pid_t *n = realloc(*arr, ncap * sizeof(**arr));

		if (!n)
			return -ENOMEM;
		*arr = n;
		*cap = ncap;
	}
	(*arr)[(*nr)++] = v;
	return 0;
}

int parse_pid_list(const char *s, pid_t **out, size_t *nr)
{
	pid_t *arr = NULL;
	size_t n = 0, cap = 0;
	char *end;
	long v;

	for (;;) {
		while (*s == ' ' || *s == '\n' || *s == '\t')
			s++;
		if (!*s)
			break;
		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v <= 0 || v > INT_MAX ||
		    (*end && *end != ' ' && *end != '\n' && *end != '\t')) {
			free(arr);
			return -EINVAL;
		}
		if (pid_array_add(&arr, &n, &cap, (pid_t)v)) {
			free(arr);
			return -ENOMEM;
		}
		s = end;
	}
	*out = arr;
	*nr = n;
	return 0;
}
