/* Files reopened by path: regular files, directories, character devices.
 *
 * At restore the path must still name the recorded file. It is checked
 * twice: on the path before the open, so a path that now names a FIFO or
 * another device is never opened (that could block or have side effects),
 * and on the opened fd, so a file swapped in between cannot slip through.
 * dev/ino are compared only when the images come from this boot (inode
 * numbers mean nothing elsewhere); otherwise kind, size (regular files)
 * and rdev (devices) must match.
 *
 * Size: a regular file must have its recorded size, as the task's view of
 * it (its position, what it read) depends on the content. One exception:
 * a file the task opened O_APPEND may have GROWN since the dump (a log
 * file that other writers keep appending to is what a user expects to be
 * able to restore a logger into); the restored task appends after the new
 * end, as it would have had it kept running. A shorter one (truncated,
 * rotated by copytruncate) is refused like any other change. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "proc_parse.h"
#include "pstree.h"
#include "rst_shm.h"
#include "util.h"

/* ---- pure ---- */

static const char *kind_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symlink";
	default: return "a special file";
	}
}

int files_reg_check(const FileEntry *fe, const struct stat *st, bool same_host,
		    char *why, size_t len)
{
	mode_t want;

	switch (fe->kind) {
	case FD_KIND__FD_REG: want = S_IFREG; break;
	case FD_KIND__FD_DIR: want = S_IFDIR; break;
	case FD_KIND__FD_CHR: want = S_IFCHR; break;
	default:
		snprintf(why, len, "has kind %d, not a file reopened by path", (int)fe->kind);
		return -EINVAL;
	}
	if (fe->has_mode && (fe->mode & S_IFMT) != want) {
		snprintf(why, len, "is recorded as kind %d but with mode 0%o", (int)fe->kind,
			 (unsigned)fe->mode);
		return -EINVAL;
	}
	if ((st->st_mode & S_IFMT) != want) {
		snprintf(why, len, "is now %s, was %s", kind_name(st->st_mode), kind_name(want));
		return -ESTALE;
	}
	if (same_host && fe->has_dev && fe->has_ino &&
	    ((uint64_t)st->st_dev != fe->dev || (uint64_t)st->st_ino != fe->ino)) {
		snprintf(why, len, "is another file now (dev %u:%u ino %" PRIu64
			 ", was dev %u:%u ino %" PRIu64 ")",
			 major(st->st_dev), minor(st->st_dev), (uint64_t)st->st_ino,
			 major(fe->dev), minor(fe->dev), fe->ino);
		return -ESTALE;
	}
	if (want == S_IFREG && fe->has_size && (uint64_t)st->st_size != fe->size &&
	    !((fe->flags & O_APPEND) && (uint64_t)st->st_size > fe->size)) {
		snprintf(why, len, "has changed: size %" PRIu64 ", was %" PRIu64 "%s",
			 (uint64_t)st->st_size, fe->size,
			 (fe->flags & O_APPEND) ? " (an O_APPEND file may only grow)" : "");
		return -ESTALE;
	}
	/* Permission bits are not compared: they do not make it another file,
	 * and the open itself enforces them. */
	if (want == S_IFCHR && fe->has_rdev && (uint64_t)st->st_rdev != fe->rdev) {
		snprintf(why, len, "is device %u:%u now, was %u:%u",
			 major(st->st_rdev), minor(st->st_rdev), major(fe->rdev), minor(fe->rdev));
		return -ESTALE;
	}
	return 0;
}

int files_reg_open_flags(const FileEntry *fe, int *flags, char *why, size_t len)
{
	int f = (int)fe->flags;

	(void)why;
	(void)len;
	/* The file exists and keeps its contents: never create or truncate.
	 * O_CLOEXEC is per fd (FdEntry). open() ignores O_ASYNC: files.c sets
	 * it with F_SETFL once the owner is set. */
	f &= ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_ASYNC);
	/* A linked O_TMPFILE file still carries __O_TMPFILE|O_DIRECTORY in
	 * f_flags; reopening with them would make a new temporary file. */
	if (fe->kind == FD_KIND__FD_REG && (f & __O_TMPFILE) == __O_TMPFILE)
		f &= ~O_TMPFILE;
	/* The kernel drops O_NOCTTY from f_flags, but reopening a terminal in
	 * a session leader without one must not make it the controlling
	 * terminal: the recorded session decides that. */
	*flags = f | O_NOCTTY;
	return 0;
}

int files_extents_check(FileExtent *const *e, size_t n, uint64_t size, uint64_t *data,
			char *why, size_t len)
{
	uint64_t end = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (!e[i]->len || e[i]->offset < end || e[i]->offset > size ||
		    e[i]->len > size - e[i]->offset) {
			snprintf(why, len, "extent %zu (%" PRIu64 "+%" PRIu64 ") is empty, out of "
				 "order or beyond the size %" PRIu64, i, e[i]->offset, e[i]->len, size);
			return -EINVAL;
		}
		end = e[i]->offset + e[i]->len;
		sum += e[i]->len;
	}
	*data = sum;
	return 0;
}

/* ---- dump ---- */

static bool match_reg(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISREG(fi->st.st_mode) && fi->st.st_nlink;
}

/* A removed directory (no links) too: dump_dir() records it as deleted. */
static bool match_dir(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISDIR(fi->st.st_mode);
}

static bool match_chr(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISCHR(fi->st.st_mode);
}

/* Is n a task or thread of the tree, as the tree's PID namespace (its
 * tasks' innermost NSpid) calls it? */
static int tree_has_ns_pid(const struct pstree *tree, pid_t n, bool *found)
{
	struct proc_status st;
	int ret;

	*found = false;
	for (size_t i = 0; i < tree->nr_tasks && !*found; i++) {
		const struct pstree_task *t = tree->tasks[i];

		for (size_t k = 0; k < t->nr_tids && !*found; k++) {
			ret = proc_status_read(t->pid, t->tids[k], &st);
			if (ret)
				return ret;
			*found = st.ns_pid_nr && st.ns_pid[st.ns_pid_nr - 1] == n;
		}
	}
	return 0;
}

/* A file of procfs: its inode numbers belong to this instance of the task,
 * so it is recorded by path alone. Under /proc/N/, N must be of the tree:
 * restored with the same PID, its entry is the same. */
static int dump_procfs(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	const char *p = fi->link;
	bool found = true;
	char *end;
	long n;
	int ret;

	if (strncmp(p, "/proc/", 6)) {
		pr_err("task %d: fd %d (%s) is on a procfs mounted elsewhere than /proc; minicr "
		       "reopens /proc files only", fi->pid, fi->fd, fi->link);
		return -EOPNOTSUPP;
	}
	n = strtol(p + 6, &end, 10);
	if (end != p + 6 && (*end == '/' || !*end)) {
		ret = tree_has_ns_pid(files_dump_tree(d), (pid_t)n, &found);
		if (ret) {
			pr_err("task %d: fd %d (%s): cannot read the tree's PIDs: %s", fi->pid,
			       fi->fd, fi->link, errstr(ret));
			return ret;
		}
	}
	if (!found) {
		pr_err("task %d: fd %d (%s) is a /proc file of task %ld, which is not in the "
		       "tree: restore could not give it back", fi->pid, fi->fd, fi->link, n);
		return -EOPNOTSUPP;
	}
	fe->has_procfs = fe->procfs = 1;
	return 0;
}

/* The core fields (path, dev, ino, size, mode, rdev) are all it needs. */
static int dump_path(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	char why[160], path[64];
	struct statfs sfs;
	int flags;

	/* Whatever files_reg_open_flags() would refuse at restore is refused
	 * here, before anything is written. */
	if (files_reg_open_flags(fe, &flags, why, sizeof(why))) {
		pr_err("task %d: fd %d (%s) %s", fi->pid, fi->fd, fi->link, why);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", fi->pid, fi->fd);
	if (!S_ISCHR(fi->st.st_mode) && !statfs(path, &sfs) && sfs.f_type == PROC_SUPER_MAGIC)
		return dump_procfs(d, fi, fe);
	return 0;
}

/* ---- restore ---- */

static int check_path(struct files_rst *r, const FileEntry *fe, const char *stat_path,
		      const char *when)
{
	char why[192];
	struct stat st;
	int ret;

	if (stat(stat_path, &st) < 0) {
		ret = -errno;
		pr_err("file %s %s: %s", fe->path,
		       ret == -ENOENT ? "is gone" : "cannot be checked", errstr(ret));
		return ret;
	}
	ret = files_reg_check(fe, &st, files_rst_same_host(r), why, sizeof(why));
	if (ret)
		pr_err("file %s %s%s: %s", fe->path, why, when, errstr(ret));
	return ret;
}

/* Through the restored root's root directory: its /proc is the one of the
 * tree's PID namespace (minicr's may be another with --pidns). */
static int open_procfs(struct files_rst *r, const FileEntry *fe, int flags)
{
	pid_t root = files_rst_root_pid(r);
	mode_t want = fe->kind == FD_KIND__FD_DIR ? S_IFDIR : S_IFREG;
	_cleanup_free_ char *path = NULL;
	struct statfs sfs;
	struct stat st;
	int fd, ret;

	if (!root || asprintf(&path, "/proc/%d/root%s", root, fe->path) < 0)
		return root ? -ENOMEM : -ESRCH;
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %s (procfs): open(%s, 0%o): %s", fe->path, path, flags, errstr(ret));
		return ret;
	}
	if (fstat(fd, &st) || fstatfs(fd, &sfs) || (st.st_mode & S_IFMT) != want ||
	    sfs.f_type != PROC_SUPER_MAGIC) {
		pr_err("file %s (procfs): %s is not %s of procfs now", fe->path, path,
		       kind_name(want));
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int open_path(struct files_rst *r, const FileEntry *fe)
{
	char why[160], proc_path[64];
	int flags, fd, ret;

	if (!fe->path || fe->path[0] != '/') {
		pr_err("file %u: no absolute path in files.img", fe->id);
		return -EINVAL;
	}
	ret = files_reg_open_flags(fe, &flags, why, sizeof(why));
	if (ret) {
		pr_err("file %s %s: %s", fe->path, why, errstr(ret));
		return ret;
	}
	if (fe->has_procfs && fe->procfs)
		return open_procfs(r, fe, flags);
	ret = check_path(r, fe, fe->path, "");
	if (ret)
		return ret;
	fd = open(fe->path, flags | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %s: open(0%o): %s", fe->path, flags, errstr(ret));
		return ret;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	ret = check_path(r, fe, proc_path, " (after the open)");
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* ---- deleted files and memfds ----
 *
 * A regular file unlinked while open (or an O_TMPFILE file never linked)
 * and a memfd exist only through their fds: their content goes into
 * ghost-<id>.img (up to FILES_GHOST_MAX) and restore recreates them
 * unlinked. A deleted file is recreated under its old name in its old
 * directory and unlinked at once (so it is on the same filesystem and its
 * link reads the same), under a temporary name there if the name is taken
 * again, or as a memfd if the directory is gone. A second open file
 * description of the same inode records only which file it shares
 * (shared_with) and is reopened from it, so both see one file again. A
 * memfd that is also mapped is one object with its mappings again
 * (src/rst_shm.h). */

#define DELETED_SUFFIX " (deleted)"

static bool has_deleted_suffix(const char *link)
{
	size_t n = strlen(link), m = strlen(DELETED_SUFFIX);

	return n > m && !strcmp(link + n - m, DELETED_SUFFIX);
}

static bool is_memfd_link(const char *link)
{
	return !strncmp(link, "/memfd:", 7) && has_deleted_suffix(link);
}

static bool match_ghost(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISREG(fi->st.st_mode) && !fi->st.st_nlink &&
	       !is_memfd_link(fi->link);
}

static bool match_memfd(const struct fd_dump_info *fi)
{
	return S_ISREG(fi->st.st_mode) && !fi->st.st_nlink && is_memfd_link(fi->link);
}

/* The lowest file id before fi's open on the same inode, 0 if none. */
static uint32_t same_inode_as(const struct files_dump *d, const struct fd_dump_info *fi)
{
	uint32_t best = 0;

	for (size_t i = 0; i < files_dump_nr_fds(d); i++) {
		const struct fd_dump_info *o = files_dump_fd(d, i);

		if (o->file_id < fi->file_id && o->st.st_dev == fi->st.st_dev &&
		    o->st.st_ino == fi->st.st_ino && (!best || o->file_id < best))
			best = o->file_id;
	}
	return best;
}

/* A file of its own on fi's inode, read-only: the task's fd may be
 * write-only, and seeking minicr's pidfd_getfd() copy would move the
 * task's position. */
static int open_content(const struct fd_dump_info *fi)
{
	char proc_path[64];
	int fd, ret;

	snprintf(proc_path, sizeof(proc_path), "/proc/%d/fd/%d", fi->pid, fi->fd);
	fd = open(proc_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): cannot open %s to read its content: %s", fi->pid,
		       fi->fd, fi->link, proc_path, errstr(ret));
		return ret;
	}
	return fd;
}

static int add_extent(FileEntry *fe, uint64_t off, uint64_t len)
{
	FileExtent **ne, *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	file_extent__init(x);
	x->offset = off;
	x->len = len;
	ne = realloc(fe->extents, (fe->n_extents + 1) * sizeof(*ne));
	if (!ne) {
		free(x);
		return -ENOMEM;
	}
	fe->extents = ne;
	fe->extents[fe->n_extents++] = x;
	return 0;
}

/* fe->extents: the data of a deleted file or memfd, so that holes cost
 * nothing in the image and come back as holes. Only the data counts
 * against FILES_GHOST_MAX. */
static int dump_extents(const struct fd_dump_info *fi, FileEntry *fe, const char *what)
{
	uint64_t size = fi->st.st_size, off = 0, data = 0;
	_cleanup_close_ int fd = -1;
	int ret;

	fd = open_content(fi);
	if (fd < 0)
		return fd;
	while (off < size) {
		off_t d = lseek(fd, off, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;
		h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			ret = -errno;
			pr_err("task %d: fd %d (%s): SEEK_DATA/SEEK_HOLE at %" PRIu64 ": %s", fi->pid,
			       fi->fd, fi->link, off, errstr(ret));
			return ret;
		}
		if ((uint64_t)h > size)
			h = size;
		if (h <= d)
			break;
		data += h - d;
		if (data > FILES_GHOST_MAX || fe->n_extents >= FILES_GHOST_EXTENTS_MAX) {
			pr_err("task %d: fd %d (%s) is %s with %s; minicr saves the data of "
			       "deleted files and memfds up to %llu MiB in %d extents", fi->pid, fi->fd,
			       fi->link, what, data > FILES_GHOST_MAX ? "more data" : "more extents",
			       FILES_GHOST_MAX >> 20, FILES_GHOST_EXTENTS_MAX);
			return -EFBIG;
		}
		ret = add_extent(fe, d, h - d);
		if (ret)
			return ret;
		off = h;
	}
	return 0;
}

static int dump_ghost(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	GhostFileEntry *g;
	int ret;

	ret = dump_path(d, fi, fe);
	/* A second open of the inode has no content of its own. */
	if (!ret && !same_inode_as(d, fi))
		ret = dump_extents(fi, fe, "a deleted file");
	if (ret)
		return ret;
	fe->path[strlen(fe->path) - (has_deleted_suffix(fe->path) ? strlen(DELETED_SUFFIX) : 0)] = '\0';
	g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	ghost_file_entry__init(g);
	fe->ghost = g;
	g->size = fi->st.st_size;
	g->has_mtime = g->has_uid = g->has_gid = 1;
	g->mtime = fi->st.st_mtim.tv_sec * 1000000000ULL + fi->st.st_mtim.tv_nsec;
	g->uid = fi->st.st_uid;
	g->gid = fi->st.st_gid;
	g->shared_with = same_inode_as(d, fi);
	g->has_shared_with = !!g->shared_with;
	return 0;
}

static int dump_memfd(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	const char *name = fi->link + 7;
	MemfdEntry *m;
	int fd, seals, ret;

	ret = dump_path(d, fi, fe);
	/* A second open of the inode has no content of its own. */
	if (!ret && !same_inode_as(d, fi))
		ret = dump_extents(fi, fe, "a memfd");
	if (ret)
		return ret;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	memfd_entry__init(m);
	fe->memfd = m;
	m->name = strndup(name, strlen(name) - strlen(DELETED_SUFFIX));
	if (!m->name)
		return -ENOMEM;
	m->size = fi->st.st_size;
	m->has_uid = m->has_gid = 1;
	m->uid = fi->st.st_uid;
	m->gid = fi->st.st_gid;
	m->shared_with = same_inode_as(d, fi);
	m->has_shared_with = !!m->shared_with;
	fd = files_dump_local_fd(d, fi);
	if (fd < 0)
		return fd;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): F_GET_SEALS: %s", fi->pid, fi->fd, fi->link, errstr(ret));
		return ret;
	}
	m->has_seals = 1;
	m->seals = seals;
	return 0;
}

/* ghost-<id>.img: the bytes of fe->extents, read through a file of its own. */
static int dump_ghost_data(struct files_dump *d, struct img_out *out, const FileEntry *fe)
{
	const struct fd_dump_info *fi = files_dump_first(d, fe->id);
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct img_writer w;
	int ret = 0;

	if ((fe->ghost && fe->ghost->shared_with) || (fe->memfd && fe->memfd->shared_with))
		return 0;
	if (!fi)
		return -EINVAL;
	fd = open_content(fi);
	if (fd < 0)
		return fd;
	buf = malloc(1 << 20);
	if (!buf)
		return -ENOMEM;
	ret = img_writer_open(out, IMG_GHOST, fe->id, &w);   /* logs */
	if (ret)
		return ret;
	for (size_t i = 0; i < fe->n_extents && !ret; i++) {
		uint64_t off = fe->extents[i]->offset, end = off + fe->extents[i]->len;

		while (off < end && !ret) {
			size_t want = end - off < (1 << 20) ? end - off : (1 << 20);
			ssize_t n = pread(fd, buf, want, off);

			if (n <= 0) {
				ret = n < 0 ? -errno : -EIO;
				pr_err("task %d: fd %d (%s): reading its content at %" PRIu64 ": %s",
				       fi->pid, fi->fd, fi->link, off,
				       n < 0 ? errstr(ret) : "shorter than its size");
				break;
			}
			ret = img_writer_raw(&w, buf, n);
			off += n;
		}
	}
	if (ret) {
		img_writer_abort(&w);
		return ret;
	}
	return img_writer_commit(&w);
}

/* fd reopened with fe's flags through /proc (works for unlinked files). */
static int reopen(int fd, const FileEntry *fe)
{
	char why[160], proc_path[64];
	int flags, nfd, ret;

	ret = files_reg_open_flags(fe, &flags, why, sizeof(why));
	if (ret) {
		pr_err("file %s %s: %s", fe->path, why, errstr(ret));
		return ret;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	nfd = open(proc_path, flags | O_CLOEXEC);
	if (nfd < 0) {
		ret = -errno;
		pr_err("file %s: reopen through %s with flags 0%o: %s", fe->path, proc_path, flags,
		       errstr(ret));
		return ret;
	}
	return nfd;
}

static int reopen_shared(struct files_rst *r, const FileEntry *fe, uint32_t other)
{
	int fd = files_rst_open_id(r, other);   /* logs */

	return fd < 0 ? fd : reopen(fd, fe);
}

/* Write ghost-<id>.img's bytes at fe's extents (the whole file for an
 * image without extents), then ftruncate() to the size: the rest stays
 * holes. */
static int fill_content(struct files_rst *r, const FileEntry *fe, int fd, uint64_t size)
{
	FileExtent whole = FILE_EXTENT__INIT, *wp = &whole, *const *ext = fe->extents;
	_cleanup_free_ char *buf = malloc(1 << 20);
	_cleanup_close_ int raw = -1;
	size_t n_ext = fe->n_extents;
	uint64_t have, data, src = IMG_HDR_SIZE;
	char why[160];
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = img_raw_open(files_rst_dirfd(r), IMG_GHOST, fe->id, &raw, &have);   /* logs */
	if (ret)
		return ret;
	if (!n_ext && have) {
		whole.offset = 0;
		whole.len = have;
		ext = &wp;
		n_ext = 1;
	}
	ret = files_extents_check(ext, n_ext, size, &data, why, sizeof(why));
	if (!ret && have != data) {
		snprintf(why, sizeof(why), "ghost-%u.img holds %" PRIu64 " bytes, its extents %"
			 PRIu64, fe->id, have, data);
		ret = -EINVAL;
	}
	if (ret) {
		pr_err("file %s: %s", fe->path, why);
		return ret;
	}
	for (size_t i = 0; i < n_ext; i++) {
		uint64_t off = ext[i]->offset, end = off + ext[i]->len;

		while (off < end) {
			size_t want = end - off < (1 << 20) ? end - off : (1 << 20);
			ssize_t n = pread(raw, buf, want, src);

			if (n <= 0 || pwrite(fd, buf, n, off) != n) {
				ret = n <= 0 ? (n < 0 ? -errno : -EIO) : -errno;
				ret = ret ? ret : -EIO;
				pr_err("file %s: copying its content from ghost-%u.img at %" PRIu64 ": %s",
				       fe->path, fe->id, off, errstr(ret));
				return ret;
			}
			off += n;
			src += n;
		}
	}
	if (ftruncate(fd, size) < 0) {
		ret = -errno;
		pr_err("file %s: ftruncate(%" PRIu64 "): %s", fe->path, size, errstr(ret));
		return ret;
	}
	return 0;
}

/* A new, already unlinked file for fe: under its old name, a temporary
 * name in its old directory, or a memfd if the directory is gone. */
static int create_unlinked(const FileEntry *fe)
{
	char tmp[PATH_MAX];
	const char *name = fe->path;
	int fd, ret;

	fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (snprintf(tmp, sizeof(tmp), "%s.minicr-ghost-%d-%u", fe->path, getpid(), fe->id) >=
		    (int)sizeof(tmp))
			return -ENAMETOOLONG;
		name = tmp;
		fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0 && errno == ENOENT) {
		const char *base = strrchr(fe->path, '/');

		pr_warn("the directory of deleted file %s is gone: it is recreated as a memfd",
			fe->path);
		fd = memfd_create(base ? base + 1 : fe->path, MFD_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			pr_err("file %s: memfd_create: %s", fe->path, errstr(ret));
			return ret;
		}
		return fd;
	}
	if (fd < 0) {
		ret = -errno;
		pr_err("file %s: cannot recreate it: %s", name, errstr(ret));
		return ret;
	}
	if (unlink(name) < 0) {
		ret = -errno;
		pr_err("file %s: unlink after recreating it: %s", name, errstr(ret));
		close(fd);
		return ret;
	}
	return fd;
}

static int open_ghost(struct files_rst *r, const FileEntry *fe)
{
	const GhostFileEntry *g = fe->ghost;
	_cleanup_close_ int wfd = -1;
	struct timespec ts[2];
	int fd, ret;

	if (!g || !fe->path || fe->path[0] != '/') {
		pr_err("file %u: a deleted file without its ghost record or path", fe->id);
		return -EINVAL;
	}
	if (g->shared_with)
		return reopen_shared(r, fe, g->shared_with);
	wfd = create_unlinked(fe);
	if (wfd < 0)
		return wfd;
	ret = fill_content(r, fe, wfd, g->size);
	if (ret)
		return ret;
	/* chown() clears set-user-ID and set-group-ID bits: the mode after it. */
	if ((g->has_uid && g->has_gid && fchown(wfd, g->uid, g->gid) < 0) ||
	    (fe->has_mode && fchmod(wfd, fe->mode & 07777) < 0)) {
		ret = -errno;
		pr_err("file %s: setting mode 0%o and owner %u:%u: %s", fe->path, fe->mode & 07777,
		       g->uid, g->gid, errstr(ret));
		return ret;
	}
	if (g->has_mtime) {
		ts[0].tv_nsec = UTIME_OMIT;
		ts[0].tv_sec = 0;
		ts[1].tv_sec = g->mtime / 1000000000ULL;
		ts[1].tv_nsec = g->mtime % 1000000000ULL;
		if (futimens(wfd, ts) < 0)
			pr_warn("file %s: cannot set its mtime back: %s", fe->path, errstr(-errno));
	}
	fd = reopen(wfd, fe);
	return fd;
}

static int open_memfd(struct files_rst *r, const FileEntry *fe)
{
	const MemfdEntry *m = fe->memfd;
	_cleanup_close_ int wfd = -1;
	int fd, ret, shm;

	if (!m) {
		pr_err("file %u: a memfd without its record", fe->id);
		return -EINVAL;
	}
	if (m->shared_with)
		return reopen_shared(r, fe, m->shared_with);
	/* Also mapped: one object with the mappings (src/rst_shm.h), made
	 * and filled by whichever restore comes first. */
	shm = fe->has_ino ? rst_shm_memfd(fe->ino) : -ENOENT;
	if (shm >= 0) {
		wfd = fcntl(shm, F_DUPFD_CLOEXEC, 0);
		if (wfd < 0 || ftruncate(wfd, m->size) < 0) {
			ret = -errno;
			pr_err("memfd %s: cannot take the memfd of its mappings: %s", m->name,
			       errstr(ret));
			return ret;
		}
	} else {
		/* Sealing is always allowed here; F_SEAL_SEAL, if recorded, is
		 * added last, which leaves the same state as a memfd made
		 * without it. */
		wfd = memfd_create(m->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (wfd < 0) {
			ret = -errno;
			pr_err("memfd %s: memfd_create: %s", m->name, errstr(ret));
			return ret;
		}
		ret = fill_content(r, fe, wfd, m->size);
		if (!ret && fe->has_ino)
			ret = rst_shm_adopt_memfd(fe->ino, wfd);
		if (ret)
			return ret;
	}
	if ((m->has_uid && m->has_gid && fchown(wfd, m->uid, m->gid) < 0) ||
	    (fe->has_mode && fchmod(wfd, fe->mode & 07777) < 0)) {
		ret = -errno;
		pr_err("memfd %s: setting mode 0%o and owner %u:%u: %s", m->name, fe->mode & 07777,
		       m->uid, m->gid, errstr(ret));
		return ret;
	}
	fd = reopen(wfd, fe);
	if (fd < 0)
		return fd;
	if (m->has_seals && m->seals && fcntl(wfd, F_ADD_SEALS, m->seals) < 0) {
		ret = -errno;
		pr_err("memfd %s: F_ADD_SEALS 0x%x: %s", m->name, m->seals, errstr(ret));
		close(fd);
		return ret;
	}
	return fd;
}


const struct file_ops files_memfd_ops = {
	.kind = FD_KIND__FD_MEMFD,
	.name = "memfd",
	.match = match_memfd,
	.dump = dump_memfd,
	.dump_data = dump_ghost_data,
	.open = open_memfd,
};

/* ---- deleted directories ----
 *
 * A directory removed while open holds no data worth keeping (it is empty
 * and no entry can be made in it): restore only needs an unlinked
 * directory of the same mode. One open description per deleted directory:
 * a second would come back as another directory, so it is refused. */
/* A deleted directory that is also a task's cwd would come back as two
 * directories (the cwd is made again on its own): refused. */
static int dir_is_no_cwd(struct files_dump *d, const struct fd_dump_info *fi)
{
	const struct pstree *tree = files_dump_tree(d);
	char path[64];
	struct stat st;

	for (size_t i = 0; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];

		snprintf(path, sizeof(path), "/proc/%d/cwd", t->pid);
		if (t->zombie || stat(path, &st) < 0)
			continue;
		if (st.st_dev == fi->st.st_dev && st.st_ino == fi->st.st_ino) {
			pr_err("task %d: fd %d (%s): a deleted directory that is also the cwd of "
			       "task %d; minicr would make them two directories", fi->pid, fi->fd,
			       fi->link, t->pid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int dump_dir(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	uint32_t other;
	int ret;

	ret = dump_path(d, fi, fe);
	if (ret || fi->st.st_nlink)
		return ret;
	if (!has_deleted_suffix(fe->path)) {
		pr_err("task %d: fd %d (%s): a directory without links whose path does not say "
		       "deleted", fi->pid, fi->fd, fi->link);
		return -EINVAL;
	}
	other = same_inode_as(d, fi);
	if (other) {
		pr_err("task %d: fd %d (%s): a deleted directory open twice (also file %u); "
		       "minicr restores one open of a deleted directory only", fi->pid, fi->fd,
		       fi->link, other);
		return -EOPNOTSUPP;
	}
	ret = dir_is_no_cwd(d, fi);
	if (ret)
		return ret;
	fe->path[strlen(fe->path) - strlen(DELETED_SUFFIX)] = '\0';
	fe->has_dir_deleted = 1;
	fe->dir_deleted = 1;
	fe->has_dir_deleted_uid = fe->has_dir_deleted_gid = 1;
	fe->dir_deleted_uid = fi->st.st_uid;
	fe->dir_deleted_gid = fi->st.st_gid;
	return 0;
}

int files_remake_dir(const char *path, unsigned tag, char *out, size_t len)
{
	int ret;

	/* Its old name first, so /proc/PID/cwd or fd/N reads as before. */
	if ((size_t)snprintf(out, len, "%s", path) >= len)
		return -ENAMETOOLONG;
	ret = mkdir(out, 0700) < 0 ? -errno : 0;
	for (int i = 0; i < 100 && ret == -EEXIST; i++) {
		if ((size_t)snprintf(out, len, "%s.minicr-ghost-dir.%d.%u.%d", path, getpid(), tag,
				     i) >= len)
			ret = -ENAMETOOLONG;
		else
			ret = mkdir(out, 0700) < 0 ? -errno : 0;
	}
	return ret;
}

/* Made in the old parent under its old name (a temporary one if that is
 * taken again), opened, removed: fd is an unlinked directory of fe's mode. */
static int open_deleted_dir(const FileEntry *fe)
{
	char tmp[PATH_MAX], why[160];
	int flags, fd, ret;

	if (!fe->path || fe->path[0] != '/') {
		pr_err("file %u: a deleted directory without an absolute path", fe->id);
		return -EINVAL;
	}
	ret = files_reg_open_flags(fe, &flags, why, sizeof(why));
	if (ret) {
		pr_err("file %s %s: %s", fe->path, why, errstr(ret));
		return ret;
	}
	ret = files_remake_dir(fe->path, fe->id, tmp, sizeof(tmp));
	if (ret) {
		pr_err("deleted directory %s: cannot make it again in its old parent%s: %s",
		       fe->path, ret == -ENOENT ? " (the parent is gone)" : "", errstr(ret));
		return ret;
	}
	/* chown before chmod, which it would undo the set-id bits of; chmod,
	 * not mkdir's mode: minicr's umask must not change it. */
	if ((fe->has_dir_deleted_uid &&
	     chown(tmp, fe->dir_deleted_uid, fe->has_dir_deleted_gid ? fe->dir_deleted_gid : 0) < 0) ||
	    (fe->has_mode && chmod(tmp, fe->mode & 07777) < 0)) {
		ret = -errno;
		pr_err("deleted directory %s: chown/chmod %s: %s", fe->path, tmp, errstr(ret));
		rmdir(tmp);
		return ret;
	}
	fd = open(tmp, flags | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("deleted directory %s: open %s (0%o): %s", fe->path, tmp, flags, errstr(ret));
		rmdir(tmp);
		return ret;
	}
	if (rmdir(tmp) < 0) {
		ret = -errno;
		pr_err("deleted directory %s: cannot remove %s made again: %s", fe->path, tmp,
		       errstr(ret));
		close(fd);
		return ret;
	}
	return fd;
}

static int open_dir(struct files_rst *r, const FileEntry *fe)
{
	return fe->has_dir_deleted && fe->dir_deleted ? open_deleted_dir(fe) : open_path(r, fe);
}

/* FD_REG covers deleted files too: the image says which by fe->ghost. */
static int open_reg(struct files_rst *r, const FileEntry *fe)
{
	return fe->ghost ? open_ghost(r, fe) : open_path(r, fe);
}

const struct file_ops files_reg_ops = {
	.kind = FD_KIND__FD_REG,
	.name = "regular file",
	.match = match_reg,
	.dump = dump_path,
	.open = open_reg,
};

const struct file_ops files_dir_ops = {
	.kind = FD_KIND__FD_DIR,
	.name = "directory",
	.match = match_dir,
	.dump = dump_dir,
	.open = open_dir,
};

const struct file_ops files_chr_ops = {
	.kind = FD_KIND__FD_CHR,
	.name = "character device",
	.match = match_chr,
	.dump = dump_path,
	.open = open_path,
};

const struct file_ops files_ghost_ops = {
	.kind = FD_KIND__FD_REG,
	.name = "deleted file",
	.match = match_ghost,
	.dump = dump_ghost,
	.dump_data = dump_ghost_data,
	.open = open_reg,       /* restore finds kinds by FdKind: either may be asked */
};
