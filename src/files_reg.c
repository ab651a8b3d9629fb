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
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
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

	if (f & O_ASYNC) {
		snprintf(why, len, "has O_ASYNC, which needs an owner the image does not record");
		return -EOPNOTSUPP;
	}
	/* The file exists and keeps its contents: never create or truncate.
	 * O_CLOEXEC is per fd (FdEntry). */
	f &= ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC);
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

/* ---- dump ---- */

static bool match_reg(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISREG(fi->st.st_mode) && fi->st.st_nlink;
}

static bool match_dir(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISDIR(fi->st.st_mode) && fi->st.st_nlink;
}

static bool match_chr(const struct fd_dump_info *fi)
{
	return fi->link[0] == '/' && S_ISCHR(fi->st.st_mode);
}

/* The core fields (path, dev, ino, size, mode, rdev) are all it needs. */
static int dump_path(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	char why[160];
	int flags;

	(void)d;
	/* Refused at dump rather than at restore. */
	if (files_reg_open_flags(fe, &flags, why, sizeof(why))) {
		pr_err("task %d: fd %d (%s) %s", fi->pid, fi->fd, fi->link, why);
		return -EOPNOTSUPP;
	}
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

const struct file_ops files_reg_ops = {
	.kind = FD_KIND__FD_REG,
	.name = "regular file",
	.match = match_reg,
	.dump = dump_path,
	.open = open_path,
};

const struct file_ops files_dir_ops = {
	.kind = FD_KIND__FD_DIR,
	.name = "directory",
	.match = match_dir,
	.dump = dump_path,
	.open = open_path,
};

const struct file_ops files_chr_ops = {
	.kind = FD_KIND__FD_CHR,
	.name = "character device",
	.match = match_chr,
	.dump = dump_path,
	.open = open_path,
};
