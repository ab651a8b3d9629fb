/* inotify and fanotify groups (files_notify.h). Both name inodes by file
 * handle in fdinfo; minicr turns each into a path at dump, while the tree
 * is frozen, and watches that path again at restore. */
#include "files_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fd-notify.pb-c.h"
#include "fdinfo_notify.h"
#include "log.h"
#include "rst_core_int.h"
#include "rst_state.h"
#include "util.h"

#define DELETED_SUFFIX " (deleted)"

static bool same_dev(uint32_t kdev, dev_t dev)
{
	return (kdev >> 20) == major(dev) && (kdev & 0xfffff) == minor(dev);
}

/* A mount of the holder's mount table, by id or by device, as the path
 * of its mount point in the holder's root, checked through
 * /proc/PID/root (the holder's mount namespace may not be minicr's). */
static int mount_path(const struct fd_dump_info *fi, const char *what, bool by_id,
		      uint64_t key, char **out)
{
	_cleanup_free_ char *info = NULL;
	char path[64], mp[PATH_MAX], root[PATH_MAX + 32];
	struct statx stx;
	uint32_t kdev = 0;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", fi->pid);
	ret = read_file(path, 16 << 20, &info, NULL);
	if (ret) {
		pr_err("task %d: fd %d (%s): cannot read %s: %s", fi->pid, fi->fd, what, path,
		       errstr(ret));
		return ret;
	}
	ret = mountinfo_find(info, by_id, key, mp, sizeof(mp), &kdev);
	snprintf(root, sizeof(root), "/proc/%d/root%s", fi->pid, mp);
	if (!ret && statx(AT_FDCWD, root, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		ret = -errno;
	if (!ret && (((uint32_t)stx.stx_dev_major << 20 | stx.stx_dev_minor) != kdev ||
		     (by_id && stx.stx_mnt_id != key)))
		ret = -EXDEV;
	if (ret) {
		char which[48];

		if (by_id)
			snprintf(which, sizeof(which), "mount %" PRIu64, key);
		else
			snprintf(which, sizeof(which), "filesystem %u:%u", (unsigned int)(key >> 20),
				 (unsigned int)(key & 0xfffff));
		pr_err("task %d: fd %d (%s) watches %s, which minicr cannot reach by a path of "
		       "its own (%s): %s", fi->pid, fi->fd, what, which,
		       ret == -ENOENT ? "not in the task's mountinfo" : mp, errstr(ret));
		return ret == -ENOMEM ? ret : -EOPNOTSUPP;
	}
	*out = strdup(mp);
	return *out ? 0 : -ENOMEM;
}

/* The path of the inode a mark names by file handle: open_by_handle_at()
 * through a mount of its filesystem, then the opened file's link. A
 * deleted inode, or one minicr's path does not lead back to, is refused:
 * the watch could not be put back on that same inode. */
static int handle_path(const struct fd_dump_info *fi, const char *what, uint32_t sdev,
		       uint64_t ino, const struct fdinfo_fhandle *fh, char **out)
{
	_cleanup_free_ struct file_handle *h = NULL;
	_cleanup_free_ char *mp = NULL;
	_cleanup_close_ int mfd = -1, hfd = -1;
	char link[64], path[PATH_MAX];
	struct stat hst, pst;
	ssize_t n;
	int ret;

	if (!fh->bytes) {
		pr_err("task %d: fd %d (%s) watches inode %" PRIu64 ", for which the kernel shows "
		       "no file handle; minicr cannot find its path", fi->pid, fi->fd, what, ino);
		return -EOPNOTSUPP;
	}
	ret = mount_path(fi, what, false, sdev, &mp);
	if (ret)
		return ret;
	/* Through the holder's root: its mount namespace may not be
	 * minicr's. Not O_PATH: open_by_handle_at() does not take those. */
	snprintf(path, sizeof(path), "/proc/%d/root%s", fi->pid, mp);
	mfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	h = malloc(sizeof(*h) + fh->bytes);
	if (!h)
		return -ENOMEM;
	h->handle_bytes = fh->bytes;
	h->handle_type = fh->type;
	memcpy(h->f_handle, fh->h, fh->bytes);
	if (mfd >= 0)
		hfd = open_by_handle_at(mfd, h, O_PATH | O_CLOEXEC);
	if (mfd < 0 || hfd < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s) watches inode %" PRIu64 " %s: %s", fi->pid, fi->fd, what,
		       ino, ret == -ESTALE ? "of a deleted file; minicr cannot restore that watch" :
		       "that minicr cannot open by its file handle", errstr(ret));
		return ret == -ESTALE ? -EOPNOTSUPP : ret;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", hfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0 || fstat(hfd, &hst) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): cannot read the path of inode %" PRIu64 ": %s",
		       fi->pid, fi->fd, what, ino, errstr(ret));
		return ret;
	}
	path[n] = '\0';
	if ((size_t)n > strlen(DELETED_SUFFIX) &&
	    !strcmp(path + n - strlen(DELETED_SUFFIX), DELETED_SUFFIX))
		ret = -ENOENT;
	else if (path[0] != '/')
		ret = -EXDEV;
	else if (lstat(path, &pst) < 0)
		ret = -ENOENT;
	else if (pst.st_dev != hst.st_dev || pst.st_ino != hst.st_ino)
		ret = -EXDEV;
	if (ret) {
		pr_err("task %d: fd %d (%s) watches inode %" PRIu64 " (%s), %s; minicr cannot "
		       "restore that watch", fi->pid, fi->fd, what, ino, path,
		       ret == -ENOENT ? "a deleted file" : "which that path no longer leads to");
		return -EOPNOTSUPP;
	}
	*out = strdup(path);
	return *out ? 0 : -ENOMEM;
}

/* Events queued and not read yet are not recorded. */
static int check_queue_empty(struct files_dump *d, const struct fd_dump_info *fi,
			     const char *what)
{
	int fd = files_dump_local_fd(d, fi), n = 0, ret;

	if (fd < 0)
		return fd;
	if (ioctl(fd, FIONREAD, &n) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): FIONREAD: %s", fi->pid, fi->fd, what, errstr(ret));
		return ret;
	}
	if (n > 0) {
		pr_err("task %d: fd %d (%s) has %d bytes of events queued that it has not read; "
		       "minicr cannot restore queued events", fi->pid, fi->fd, what, n);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- inotify ---- */

static bool inotify_match(const struct fd_dump_info *fi)
{
	return !strcmp(fi->link, "anon_inode:inotify");
}

static int inotify_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	_cleanup_free_ struct fdinfo_inotify_wd *w = NULL;
	_cleanup_free_ int *nums = NULL;
	InotifyEntry *e;
	size_t nr = 0;
	int ret;

	ret = fdinfo_inotify(fi->fdinfo, &w, &nr);
	if (ret) {
		pr_err("task %d: fd %d (inotify): malformed inotify line in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	nums = calloc(nr ? nr : 1, sizeof(*nums));
	if (!nums)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++)
		nums[i] = w[i].wd;
	if (inotify_wds_check(nums, nr, NOTIFY_WD_MAX)) {
		pr_err("task %d: fd %d (inotify) has watch descriptor %d; minicr reproduces wds up "
		       "to %d only", fi->pid, fi->fd, nr ? nums[nr - 1] : 0, NOTIFY_WD_MAX);
		return -EOPNOTSUPP;
	}
	ret = check_queue_empty(d, fi, "inotify");
	if (ret)
		return ret;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	inotify_entry__init(e);
	fe->inotify = e;    /* freed with fe from here on */
	e->wds = calloc(nr ? nr : 1, sizeof(*e->wds));
	if (!e->wds)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		InotifyWdEntry *we = malloc(sizeof(*we));

		if (!we)
			return -ENOMEM;
		inotify_wd_entry__init(we);
		e->wds[e->n_wds++] = we;
		we->wd = w[i].wd;
		we->mask = w[i].mask;
		we->has_ino = we->has_sdev = 1;
		we->ino = w[i].ino;
		we->sdev = w[i].sdev;
		ret = handle_path(fi, "inotify", w[i].sdev, w[i].ino, &w[i].fh, &we->path);
		if (ret)
			return ret;
	}
	return 0;
}

/* Is path still the inode recorded at dump? Only comparable on this boot. */
static int check_same_inode(struct files_rst *r, const FileEntry *fe, const char *path,
			    uint64_t ino, uint32_t sdev, bool has)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0) {
		ret = -errno;
		pr_err("file %u: watched path %s: %s", fe->id, path, errstr(ret));
		return ret;
	}
	if (has && files_rst_same_host(r) && (st.st_ino != ino || !same_dev(sdev, st.st_dev))) {
		pr_err("file %u: watched path %s is no longer the file watched at dump (inode %"
		       PRIu64 ", now %" PRIu64 ")", fe->id, path, ino, (uint64_t)st.st_ino);
		return -ESTALE;
	}
	return 0;
}

/* Add the watch of we so that it gets wd we->wd: the kernel's wds are
 * cyclic from 1, so adding and removing it moves the allocator up by one
 * each time until it reaches that number. done: the wds placed so far. */
static int inotify_place(int fd, const FileEntry *fe, const InotifyWdEntry *we)
{
	uint32_t mask = we->mask | IN_DONT_FOLLOW;
	int ret;

	for (int tries = 0; tries <= we->wd; tries++) {
		int wd = inotify_add_watch(fd, we->path, mask);

		if (wd < 0) {
			ret = -errno;
			pr_err("file %u: inotify_add_watch(%s, 0x%x) for wd %d: %s", fe->id, we->path,
			       mask, we->wd, errstr(ret));
			return ret;
		}
		if (wd == we->wd)
			return 0;
		if (wd > we->wd || inotify_rm_watch(fd, wd) < 0) {
			pr_err("file %u: the watch of %s came as wd %d, not the recorded %d (another "
			       "recorded watch is on that file now?)", fe->id, we->path, wd, we->wd);
			return -EBUSY;
		}
	}
	pr_err("file %u: the watch of %s did not reach wd %d", fe->id, we->path, we->wd);
	return -EBUSY;
}

static int inotify_open(struct files_rst *r, const FileEntry *fe)
{
	const InotifyEntry *e = fe->inotify;
	_cleanup_close_ int fd = -1;
	char buf[4096];
	int ret;

	if (!e) {
		pr_err("file %u: inotify without its inotify entry in the image", fe->id);
		return -EINVAL;
	}
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: inotify_init1(): %s", fe->id, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < e->n_wds; i++) {
		const InotifyWdEntry *we = e->wds[i];

		if (i && we->wd <= e->wds[i - 1]->wd) {
			pr_err("file %u: inotify wds not ascending in the image (%d after %d)", fe->id,
			       we->wd, e->wds[i - 1]->wd);
			return -EINVAL;
		}
		ret = check_same_inode(r, fe, we->path, we->ino, we->sdev, we->has_ino);
		if (!ret)
			ret = inotify_place(fd, fe, we);
		if (ret)
			return ret;
	}
	/* The IN_IGNORED events of the removed watches: the task never had
	 * them. Anything else read here happened before the restore ended,
	 * like all the events the tree missed while it was dumped. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	ret = fd;
	fd = -1;
	return ret;
}

const struct file_ops files_inotify_ops = {
	.kind = FD_KIND__FD_INOTIFY,
	.name = "inotify",
	.match = inotify_match,
	.dump = inotify_dump,
	.open = inotify_open,
};

/* ---- fanotify ---- */

#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif
/* Events a listener must answer (FAN_*_PERM, pre-content). */
#define FAN_PERM_MASK (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM | 0x00080000u)

static bool fanotify_match(const struct fd_dump_info *fi)
{
	return !strcmp(fi->link, "anon_inode:[fanotify]");
}

static int fan_mark_entry(const struct fd_dump_info *fi, const struct fdinfo_fan_mark *m,
			  FanotifyMarkEntry **out)
{
	FanotifyMarkEntry *me;
	int ret;

	if (m->mflags & FAN_MARK_IGNORE) {
		pr_err("task %d: fd %d (fanotify) has a FAN_MARK_IGNORE mark; minicr does not "
		       "restore those", fi->pid, fi->fd);
		return -EOPNOTSUPP;
	}
	if ((m->mask | m->ignored_mask) & FAN_PERM_MASK) {
		pr_err("task %d: fd %d (fanotify) has a mark with permission events (mask 0x%x): "
		       "an event read but not answered yet cannot be seen, so minicr does not "
		       "dump them", fi->pid, fi->fd, m->mask | m->ignored_mask);
		return -EOPNOTSUPP;
	}
	me = malloc(sizeof(*me));
	if (!me)
		return -ENOMEM;
	fanotify_mark_entry__init(me);
	*out = me;
	me->mflags = m->mflags;
	me->mask = m->mask;
	me->ignored_mask = m->ignored_mask;
	switch (m->type) {
	case FDINFO_FAN_INODE:
		me->type = FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_INODE;
		ret = handle_path(fi, "fanotify", m->sdev, m->ino, &m->fh, &me->path);
		break;
	case FDINFO_FAN_MOUNT:
		me->type = FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_MOUNT;
		ret = mount_path(fi, "fanotify", true, (uint64_t)m->mnt_id, &me->path);
		break;
	default:
		me->type = FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_SB;
		ret = mount_path(fi, "fanotify", false, m->sdev, &me->path);
		break;
	}
	return ret;
}

static int fanotify_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	_cleanup_free_ struct fdinfo_fan_mark *m = NULL;
	const char *unknown = NULL;
	uint32_t flags = 0, ev = 0;
	FanotifyEntry *e;
	size_t nr = 0;
	int ret;

	ret = fdinfo_fanotify(fi->fdinfo, &flags, &ev, &m, &nr, &unknown);
	if (ret == -EOPNOTSUPP) {
		pr_err("task %d: fd %d (fanotify) has a mark minicr does not know: '%.*s'",
		       fi->pid, fi->fd, (int)strcspn(unknown, "\n"), unknown);
		return ret;
	}
	if (ret) {
		pr_err("task %d: fd %d (fanotify): malformed fanotify line in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	ret = check_queue_empty(d, fi, "fanotify");
	if (ret)
		return ret;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	fanotify_entry__init(e);
	fe->fanotify = e;   /* freed with fe from here on */
	/* Close-on-exec and non-blocking belong to the fd and the open file
	 * description: restored as for every file. */
	e->flags = flags & ~(FAN_CLOEXEC | FAN_NONBLOCK);
	e->event_flags = ev;
	e->marks = calloc(nr ? nr : 1, sizeof(*e->marks));
	if (!e->marks)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		ret = fan_mark_entry(fi, &m[i], &e->marks[e->n_marks]);
		if (e->marks[e->n_marks])
			e->n_marks++;
		if (ret)
			return ret;
	}
	return 0;
}

/* path: me->path, or for mount and filesystem marks that path in the
 * holder's root (its mount namespace: a mount is not its copy in
 * minicr's). */
static int fan_mark_add(int fd, const FileEntry *fe, const FanotifyMarkEntry *me,
			const char *path)
{
	unsigned int how = FAN_MARK_ADD | (me->mflags & FAN_MARK_EVICTABLE);
	int ret = 0;

	switch (me->type) {
	case FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_MOUNT:
		how |= FAN_MARK_MOUNT;
		break;
	case FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_SB:
		how |= FAN_MARK_FILESYSTEM;
		break;
	default:
		how |= FAN_MARK_DONT_FOLLOW;
		break;
	}
	if (me->mask && fanotify_mark(fd, how, me->mask, AT_FDCWD, path) < 0)
		ret = -errno;
	how |= FAN_MARK_IGNORED_MASK | (me->mflags & FAN_MARK_IGNORED_SURV_MODIFY);
	if (!ret && me->ignored_mask &&
	    fanotify_mark(fd, how, me->ignored_mask, AT_FDCWD, path) < 0)
		ret = -errno;
	if (ret)
		pr_err("file %u: fanotify_mark(%s, mask 0x%" PRIx64 ", ignored 0x%" PRIx64
		       ", flags 0x%x): %s", fe->id, path, me->mask, me->ignored_mask, how,
		       errstr(ret));
	return ret;
}

static int fanotify_open(struct files_rst *r, const FileEntry *fe)
{
	const FanotifyEntry *e = fe->fanotify;
	_cleanup_close_ int fd = -1;
	int ret;

	(void)r;
	if (!e) {
		pr_err("file %u: fanotify without its fanotify entry in the image", fe->id);
		return -EINVAL;
	}
	fd = fanotify_init(e->flags | FAN_CLOEXEC | FAN_NONBLOCK, e->event_flags);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: fanotify_init(0x%x, 0x%x): %s", fe->id, e->flags, e->event_flags,
		       errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < e->n_marks; i++) {
		if (e->marks[i]->type != FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_INODE)
			continue;   /* post_install: by the holder's root */
		ret = fan_mark_add(fd, fe, e->marks[i], e->marks[i]->path);
		if (ret)
			return ret;
	}
	ret = fd;
	fd = -1;
	return ret;
}

/* Mount and filesystem marks, through the first holder's root: the tree
 * exists now, with the mount namespace its restore gave it. */
static int fanotify_post_install(struct files_rst *r, struct rst_call *c, const FileEntry *fe,
				 int task_fd, int ctl_fd)
{
	const FanotifyEntry *e = fe->fanotify;
	char path[PATH_MAX + 32];
	int ret;

	(void)r;
	(void)task_fd;
	for (size_t i = 0; i < e->n_marks; i++) {
		if (e->marks[i]->type == FANOTIFY_MARK_TYPE__FAN_MARK_TYPE_INODE)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root%s", c->t->pid, e->marks[i]->path);
		ret = fan_mark_add(ctl_fd, fe, e->marks[i], path);
		if (ret)
			return ret;
	}
	return 0;
}

const struct file_ops files_fanotify_ops = {
	.kind = FD_KIND__FD_FANOTIFY,
	.name = "fanotify",
	.match = fanotify_match,
	.dump = fanotify_dump,
	.open = fanotify_open,
	.post_install = fanotify_post_install,
};
