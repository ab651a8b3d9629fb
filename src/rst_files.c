/* File descriptors of a restored task: the task is a fork of minicr and
 * holds minicr's fds; they all go, then each recorded fd is reopened by
 * path inside the task (so it is the task's own open file description,
 * with its own position) and moved to its recorded number. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files.pb-c.h"
#include "image.h"
#include "log.h"
#include "rst_core_int.h"
#include "rst_core_util.h"
#include "util.h"

/* The check is done twice: on the path before the remote open, so a path
 * that now names a FIFO or another device is never opened (that could
 * block or have side effects), and on the opened fd, so a file swapped in
 * between cannot slip through. */
static int check_file(const struct rst_call *c, const FdEntry *e, const char *stat_path,
		      const char *when)
{
	char why[192];
	struct stat st;
	int ret;

	if (stat(stat_path, &st) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d: %s %s: %s", c->t->pid, e->fd, e->path,
		       ret == -ENOENT ? "is gone" : "cannot be checked", errstr(ret));
		return ret;
	}
	ret = rst_fd_check(e, &st, why, sizeof(why));
	if (ret)
		pr_err("task %d: fd %d: %s %s%s: %s", c->t->pid, e->fd, e->path, why, when,
		       errstr(ret));
	return ret;
}

static int restore_fd(struct rst_call *c, const FdEntry *e)
{
	char what[PATH_MAX + 96], why[160], proc_path[64];
	size_t plen = strlen(e->path) + 1;
	int flags, ret;
	long fd, r;

	if (e->fd < 0) {
		pr_err("task %d: fd entry with negative number %d in the image", c->t->pid, e->fd);
		return -EINVAL;
	}
	ret = rst_fd_open_flags(e, &flags, why, sizeof(why));
	if (ret) {
		pr_err("task %d: fd %d (%s) %s: %s", c->t->pid, e->fd, e->path, why, errstr(ret));
		return ret;
	}
	ret = check_file(c, e, e->path, "");
	if (ret)
		return ret;
	if (plen > c->scratch_len) {
		pr_err("task %d: fd %d: path %s longer than the %zu bytes of scratch memory",
		       c->t->pid, e->fd, e->path, c->scratch_len);
		return -ENAMETOOLONG;
	}
	ret = rst_call_put(c, 0, e->path, plen);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "fd %d: openat(\"%s\", 0%o)", e->fd, e->path, flags);
	fd = rst_call(c, what, __NR_openat, AT_FDCWD, rst_scratch(c, 0), flags, 0, 0, 0);
	if (fd < 0)
		return fd;
	/* All fds were closed, so the open lands on the lowest free number;
	 * move it where it belongs unless it is there already. */
	if (fd != e->fd) {
		snprintf(what, sizeof(what), "fd %d (%s): dup3(%ld, %d)", e->fd, e->path, fd, e->fd);
		r = rst_call(c, what, __NR_dup3, fd, e->fd, e->cloexec ? O_CLOEXEC : 0, 0, 0, 0);
		if (r < 0)
			return r;
		snprintf(what, sizeof(what), "fd %d (%s): close(%ld) after dup3", e->fd, e->path, fd);
		r = rst_call(c, what, __NR_close, fd, 0, 0, 0, 0, 0);
		if (r < 0)
			return r;
	} else if (e->cloexec) {
		snprintf(what, sizeof(what), "fd %d (%s): fcntl(F_SETFD, FD_CLOEXEC)", e->fd, e->path);
		r = rst_call(c, what, __NR_fcntl, fd, F_SETFD, FD_CLOEXEC, 0, 0, 0);
		if (r < 0)
			return r;
	}
	if (e->has_pos && e->pos) {
		snprintf(what, sizeof(what), "fd %d (%s): lseek(%" PRIu64 ")", e->fd, e->path, e->pos);
		r = rst_call(c, what, __NR_lseek, e->fd, e->pos, SEEK_SET, 0, 0, 0);
		if (r < 0)
			return r;
		if ((uint64_t)r != e->pos) {
			pr_err("task %d: fd %d (%s): lseek to %" PRIu64 " landed at %ld",
			       c->t->pid, e->fd, e->path, e->pos, r);
			return -EIO;
		}
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/%d/fd/%d", c->t->pid, e->fd);
	return check_file(c, e, proc_path, " (after the reopen)");
}

int rst_files_restore(int dirfd, struct rst_call *c, pid_t img_pid)
{
	_cleanup_free_ pid_t *done = NULL;
	size_t nr_done = 0, cap_done = 0;
	ProtobufCMessage *msg = NULL;
	char name[NAME_MAX + 1];
	struct img_reader ir;
	long r;
	int ret;

	ret = img_file_name(IMG_FILES, img_pid, name, sizeof(name));
	if (ret)
		return ret;
	/* A live task always has a files image, possibly empty: its absence
	 * is a broken image set, not "no files". img_reader_open() logs. */
	ret = img_reader_open(dirfd, name, &img_types[IMG_FILES], &ir);
	if (ret)
		return ret;
	r = rst_call(c, "close_range(0, ~0U, 0) of the fds inherited from minicr",
		     __NR_close_range, 0, ~0U, 0, 0, 0, 0);
	if (r < 0) {
		ret = r;
		goto cleanup;
	}
	while ((ret = img_reader_next(&ir, &msg)) == 1) {
		const FdEntry *e = (const FdEntry *)msg;

		/* A second entry for a number would silently replace the
		 * first through dup3(). */
		for (size_t i = 0; i < nr_done; i++) {
			if (done[i] == e->fd) {
				pr_err("%s: fd %d recorded twice", name, e->fd);
				ret = -EINVAL;
				goto cleanup;
			}
		}
		ret = pid_array_add(&done, &nr_done, &cap_done, e->fd);
		if (!ret)
			ret = restore_fd(c, e);
		protobuf_c_message_free_unpacked(msg, NULL);
		msg = NULL;
		if (ret)
			goto cleanup;
	}
	if (!ret)
		pr_debug("task %d: %zu fds restored", c->t->pid, nr_done);
cleanup:
	img_reader_close(&ir);
	return ret;
}
