#include "dump_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "util.h"

/* ---- pure ---- */

int fdinfo_parse(const char *buf, struct fdinfo *fi)
{
	const char *line = buf;
	bool has_pos = false, has_flags = false;

	memset(fi, 0, sizeof(*fi));
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *s = NULL;
		unsigned long long v;
		int base = 0;
		char *end;

		if (!strncmp(line, "pos:", 4)) {
			s = line + 4;
			base = 10;
		} else if (!strncmp(line, "flags:", 6)) {
			s = line + 6;
			base = 8;
		}
		if (s) {
			while (*s == ' ' || *s == '\t')
				s++;
			errno = 0;
			v = strtoull(s, &end, base);
			if (errno || end == s || *s == '-' || (*end && *end != '\n'))
				return -EINVAL;
			if (base == 10) {
				fi->pos = v;
				has_pos = true;
			} else {
				if (v > UINT32_MAX)
					return -EINVAL;
				fi->flags = v;
				has_flags = true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return has_pos && has_flags ? 0 : -EINVAL;
}

/* Links that are not paths read "pipe:[123]", "socket:[45]",
 * "anon_inode:[eventfd]", "net:[4026531840]", ... */
static const char *pseudo_kind(const char *link)
{
	if (!strncmp(link, "pipe:", 5))
		return "a pipe";
	if (!strncmp(link, "socket:", 7))
		return "a socket";
	if (!strncmp(link, "anon_inode:", 11))
		return "an anon_inode file";
	return "a special file";
}

int fd_classify(mode_t mode, nlink_t nlink, const char *link, FdKind *kind,
		const char **what)
{
	/* Checked first: anon inodes (and pidfds) report S_IFREG on recent
	 * kernels. */
	if (link[0] != '/') {
		*what = pseudo_kind(link);
		return -EOPNOTSUPP;
	}
	switch (mode & S_IFMT) {
	case S_IFREG:
		if (!nlink) {
			*what = "a deleted file";
			return -EOPNOTSUPP;
		}
		*kind = FD_KIND__FD_REG;
		return 0;
	case S_IFDIR:
		if (!nlink) {
			*what = "a deleted directory";
			return -EOPNOTSUPP;
		}
		*kind = FD_KIND__FD_DIR;
		return 0;
	case S_IFCHR:
		*kind = FD_KIND__FD_CHR;
		return 0;
	case S_IFIFO:
		*what = "a FIFO";
		return -EOPNOTSUPP;
	case S_IFSOCK:
		*what = "a socket";
		return -EOPNOTSUPP;
	case S_IFBLK:
		*what = "a block device";
		return -EOPNOTSUPP;
	default:
		*what = "a special file";
		return -EOPNOTSUPP;
	}
}

/* ---- reading /proc ---- */

struct fd_list {
	FdEntry *e;
	size_t nr, cap;
};

static void fd_list_free(struct fd_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->e[i].path);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static int cmp_fd(const void *a, const void *b)
{
	const FdEntry *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

static int read_fd(pid_t pid, int fd, FdEntry *e)
{
	_cleanup_free_ char *info = NULL;
	char path[64], link[PATH_MAX];
	const char *what = NULL;
	struct fdinfo fi;
	struct stat st;
	FdKind kind;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link));
	if (n < 0 || (size_t)n >= sizeof(link)) {
		ret = n < 0 ? -errno : -ENAMETOOLONG;
		pr_err("task %d: fd %d: cannot read link %s: %s", pid, fd, path, errstr(ret));
		return ret;
	}
	link[n] = '\0';
	if (stat(path, &st) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): cannot stat %s: %s", pid, fd, link, path, errstr(ret));
		return ret;
	}
	ret = fd_classify(st.st_mode, st.st_nlink, link, &kind, &what);
	if (ret) {
		pr_err("task %d: fd %d is %s (%s); minicr cannot dump it", pid, fd, what, link);
		return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	ret = read_file(path, 1 << 20, &info, NULL);
	if (!ret)
		ret = fdinfo_parse(info, &fi);
	if (ret) {
		pr_err("task %d: fd %d (%s): cannot read %s: %s", pid, fd, link, path, errstr(ret));
		return ret;
	}

	fd_entry__init(e);
	e->fd = fd;
	e->kind = kind;
	e->path = strdup(link);
	if (!e->path)
		return -ENOMEM;
	e->flags = fi.flags & ~O_CLOEXEC;
	e->has_cloexec = 1;
	e->cloexec = !!(fi.flags & O_CLOEXEC);
	e->has_pos = 1;
	e->pos = fi.pos;
	e->has_dev = e->has_ino = e->has_size = e->has_mode = e->has_rdev = 1;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mode = st.st_mode;
	e->rdev = st.st_rdev;
	return 0;
}

/* Every fd of a frozen task, ascending. */
static int collect_fds(pid_t pid, struct fd_list *l)
{
	struct dirent *de;
	char path[64];
	DIR *d;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		ret = -errno;
		pr_err("task %d: cannot open %s: %s", pid, path, errstr(ret));
		return ret;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (l->nr == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			FdEntry *ne = realloc(l->e, cap * sizeof(*ne));

			if (!ne) {
				ret = -ENOMEM;
				break;
			}
			l->e = ne;
			l->cap = cap;
		}
		ret = read_fd(pid, atoi(de->d_name), &l->e[l->nr]);
		if (ret)
			break;
		l->nr++;
	}
	closedir(d);
	if (ret) {
		fd_list_free(l);
		return ret;
	}
	qsort(l->e, l->nr, sizeof(*l->e), cmp_fd);
	return 0;
}

int dump_files_check(pid_t pid)
{
	struct fd_list l;
	int ret;

	ret = collect_fds(pid, &l);
	if (!ret)
		fd_list_free(&l);
	return ret;
}

int dump_files_write(int dirfd, pid_t pid)
{
	struct img_writer w;
	struct fd_list l;
	int ret;

	ret = collect_fds(pid, &l);
	if (ret)
		return ret;
	/* The image writer logs its own failures. */
	ret = img_writer_open(dirfd, IMG_FILES, pid, &w);
	if (ret)
		goto out;
	for (size_t i = 0; i < l.nr && !ret; i++)
		ret = img_writer_put(&w, &l.e[i].base);
	if (ret)
		img_writer_abort(&w);
	else
		ret = img_writer_commit(&w);
out:
	fd_list_free(&l);
	return ret;
}
