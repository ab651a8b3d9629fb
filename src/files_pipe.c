/* Pipes (FD_PIPE) and FIFOs (FD_FIFO), see proto/pipe.proto.
 *
 * Dump: one pipe is one inode with (normally) two open file descriptions,
 * the read and the write end. Each end's FileEntry names the other end's
 * (peer_file_id) when it is open in the tree. An end missing from the tree
 * is either held by a task outside it (the file is then external: restored
 * from --inherit-fd, or else as a new pipe whose other end is closed, with
 * its capacity and, for a read end, its queued bytes) or closed everywhere
 * (restored closed). The
 * buffered bytes are copied without consuming them: tee(2) from minicr's
 * pidfd_getfd copy of the read end into a pipe of minicr's of the same
 * capacity, then read from there into pipe-data-<id>.img.
 *
 * Restore (in minicr): one pipe2() makes both ends, the other end is
 * handed to the registry for its FileEntry; the capacity is set and the
 * data written back before any task runs. A FIFO is reopened by path:
 * first O_RDWR (never blocks, whatever else is open), which holds the pipe
 * while the data goes in and the real end is opened with O_NONBLOCK, then
 * dropped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "log.h"
#include "pipe.pb-c.h"
#include "util.h"

/* ---- dump ---- */

static bool pipe_match(const struct fd_dump_info *fi)
{
	return S_ISFIFO(fi->st.st_mode) && !strncmp(fi->link, "pipe:", 5);
}

static bool fifo_match(const struct fd_dump_info *fi)
{
	return S_ISFIFO(fi->st.st_mode) && fi->link[0] == '/';
}

static int peek_into_entry(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe);

static bool same_inode(const struct fd_dump_info *a, const struct fd_dump_info *b)
{
	return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino &&
	       a->ops == b->ops;
}

/* Pipes held by tasks outside the tree: one walk of /proc per dump (the
 * tree is frozen; outside tasks may come and go, which no walk can pin
 * down). minicr itself is not "outside": it holds pidfd_getfd copies of
 * the tree's files. */
struct holder {
	uint64_t ino;
	pid_t pid;
};
static struct holder *holders;
static size_t nr_holders;
static bool holders_read;

static int add_holder(uint64_t ino, pid_t pid)
{
	struct holder *nh = realloc(holders, (nr_holders + 1) * sizeof(*nh));

	if (!nh)
		return -ENOMEM;
	holders = nh;
	holders[nr_holders++] = (struct holder){ ino, pid };
	return 0;
}

static int read_holders(const struct files_dump *d)
{
	char path[300], link[64];
	struct dirent *de, *fde;
	pid_t self = getpid();
	DIR *proc, *fds;
	int ret = 0;

	proc = opendir("/proc");
	if (!proc) {
		ret = -errno;
		pr_err("cannot open /proc to look for pipe ends outside the tree: %s", errstr(ret));
		return ret;
	}
	while (!ret && (de = readdir(proc))) {
		pid_t pid = atoi(de->d_name);

		if (pid <= 0 || pid == self || files_dump_has_task(d, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;   /* gone, or a kernel thread */
		while (!ret && (fde = readdir(fds))) {
			unsigned long long ino;
			ssize_t n;

			if (fde->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fde->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "pipe:[%llu]", &ino) == 1)
				ret = add_holder(ino, pid);
		}
		closedir(fds);
	}
	closedir(proc);
	holders_read = !ret;
	return ret;
}

/* A task outside the tree holding pipe ino, or 0. */
static int pipe_outside_holder(const struct files_dump *d, uint64_t ino, pid_t *holder)
{
	int ret;

	*holder = 0;
	if (!holders_read) {
		ret = read_holders(d);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < nr_holders; i++) {
		if (holders[i].ino == ino) {
			*holder = holders[i].pid;
			break;
		}
	}
	return 0;
}

/* The FileEntry ids of the pipe's first open file description (lowest id)
 * in the tree, by access mode. More than one per mode means some were
 * reopened through /proc/PID/fd: *extra says so. -EOPNOTSUPP (logged) for
 * an end opened for reading and writing. */
static int pipe_ends(const struct files_dump *d, const struct fd_dump_info *fi,
		     uint32_t *rd, uint32_t *wr, bool *has_rd, bool *has_wr, bool *extra)
{
	*has_rd = *has_wr = *extra = false;
	for (size_t i = 0; i < files_dump_nr_fds(d); i++) {
		const struct fd_dump_info *o = files_dump_fd(d, i);
		uint32_t acc = o->flags & O_ACCMODE;
		uint32_t *id = acc == O_RDONLY ? rd : wr;
		bool *has = acc == O_RDONLY ? has_rd : has_wr;

		if (!same_inode(fi, o))
			continue;
		if (acc == O_RDWR) {
			pr_err("task %d: fd %d (%s) is a pipe end opened for reading and writing "
			       "(through /proc); minicr cannot dump it", o->pid, o->fd, o->link);
			return -EOPNOTSUPP;
		}
		if (*has && *id != o->file_id)
			*extra = true;
		if (!*has || o->file_id < *id)
			*id = o->file_id;
		*has = true;
	}
	return 0;
}

static int pipe_size_of(struct files_dump *d, const struct fd_dump_info *fi, uint32_t *size)
{
	int fd, ret;

	fd = files_dump_local_fd(d, fi);
	if (fd < 0)
		return fd;
	ret = fcntl(fd, F_GETPIPE_SZ);
	if (ret < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): F_GETPIPE_SZ: %s", fi->pid, fi->fd, fi->link, errstr(ret));
		return ret;
	}
	*size = ret;
	return 0;
}

static int new_pipe_entry(FileEntry *fe, uint64_t ino, uint32_t size)
{
	PipeEntry *pe = malloc(sizeof(*pe));

	if (!pe)
		return -ENOMEM;
	pipe_entry__init(pe);
	pe->pipe_ino = ino;
	pe->pipe_size = size;
	fe->pipe = pe;
	return 0;
}

static int pipe_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	uint32_t rd = 0, wr = 0, size;
	bool has_rd, has_wr, extra;
	pid_t holder;
	int ret;

	ret = pipe_ends(d, fi, &rd, &wr, &has_rd, &has_wr, &extra);
	if (!ret)
		ret = pipe_outside_holder(d, fi->st.st_ino, &holder);
	if (!ret)
		ret = pipe_size_of(d, fi, &size);
	if (!ret)
		ret = new_pipe_entry(fe, fi->st.st_ino, size);
	if (ret)
		return ret;
	if (extra && holder && (!has_rd || !has_wr)) {
		pr_err("task %d: fd %d (%s): the pipe has several open file descriptions for one "
		       "end and its other end is held by task %d, outside the tree; minicr "
		       "cannot dump it", fi->pid, fi->fd, fi->link, holder);
		return -EOPNOTSUPP;
	}
	if (extra && !has_rd) {
		/* Reopening a pipe for writing needs a reader (ENXIO). */
		pr_err("task %d: fd %d (%s): the pipe has several open file descriptions for "
		       "writing and none for reading; minicr cannot restore it", fi->pid,
		       fi->fd, fi->link);
		return -EOPNOTSUPP;
	}
	if (holder && (!has_rd || !has_wr)) {
		char why[96];

		/* The capacity and, for a read end, the queued bytes are kept
		 * with the key: without --inherit-fd, restore makes a pipe of
		 * that capacity holding those bytes, its other end closed. */
		snprintf(why, sizeof(why), "its other end is held by task %d, outside the tree",
			 holder);
		ret = files_mark_external(fi, fe, fi->link, why,
					  "gives it a new pipe whose other end is closed");
		if (!ret && (fi->flags & O_ACCMODE) == O_RDONLY)
			ret = peek_into_entry(d, fi, fe);
		return ret;
	}
	/* Both ends are in the tree: it is restored as the tree's own pipe,
	 * and the outside task keeps the old one, which then reaches no
	 * task of the restored tree. */
	if (holder && (fi->flags & O_ACCMODE) == O_RDONLY)
		pr_warn("task %d: fd %d (%s): task %d outside the tree holds this pipe too; "
			"after a restore it no longer reaches the tree", fi->pid, fi->fd,
			fi->link, holder);
	if (fi->file_id != rd && fi->file_id != wr) {
		/* A description reopened through /proc: restore reopens it
		 * from the first read one; the data and the peer link go with
		 * the first ones only, so the bytes come back once. */
		fe->pipe->has_reopened_from = 1;
		fe->pipe->reopened_from = rd;
		return 0;
	}
	if ((fi->flags & O_ACCMODE) == O_RDONLY) {
		fe->pipe->has_peer_file_id = has_wr;
		fe->pipe->peer_file_id = wr;
	} else {
		fe->pipe->has_peer_file_id = has_rd;
		fe->pipe->peer_file_id = rd;
	}
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		ret = peek_into_entry(d, fi, fe);
	return ret;
}

/* The FIFO's data goes with its first FileEntry able to read (lowest id):
 * tee needs a read end. */
static bool fifo_data_owner(const struct files_dump *d, const struct fd_dump_info *fi)
{
	if ((fi->flags & O_ACCMODE) == O_WRONLY)
		return false;
	for (size_t i = 0; i < files_dump_nr_fds(d); i++) {
		const struct fd_dump_info *o = files_dump_fd(d, i);

		if (same_inode(fi, o) && (o->flags & O_ACCMODE) != O_WRONLY &&
		    o->file_id < fi->file_id)
			return false;
	}
	return true;
}

static int fifo_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	uint32_t size;
	int ret;

	if (!fe->path) {
		pr_err("task %d: fd %d: FIFO without a path", fi->pid, fi->fd);
		return -EINVAL;
	}
	/* Restore reopens a FIFO by its path, which no longer leads to it;
	 * an anonymous pipe in its place would be another kind of file. */
	if (!fi->st.st_nlink) {
		pr_err("task %d: fd %d (%s): the FIFO was unlinked and restore reopens a FIFO by "
		       "its path; minicr cannot dump it", fi->pid, fi->fd, fi->link);
		return -EOPNOTSUPP;
	}
	ret = pipe_size_of(d, fi, &size);
	if (!ret)
		ret = new_pipe_entry(fe, fi->st.st_ino, size);
	if (!ret && fifo_data_owner(d, fi))
		ret = peek_into_entry(d, fi, fe);
	return ret;
}

/* Copy what is buffered in the pipe of local_fd (a read end) without
 * consuming it. *buf is malloc'd. */
static int pipe_peek(int local_fd, uint32_t size, const char *what, uint8_t **buf, size_t *len)
{
	int p[2] = { -1, -1 }, avail = 0, ret;
	size_t got = 0;
	uint8_t *b = NULL;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	if (ioctl(local_fd, FIONREAD, &avail) < 0) {
		ret = -errno;
		pr_err("%s: FIONREAD: %s", what, errstr(ret));
		return ret;
	}
	if (!avail)
		return 0;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		ret = -errno;
		pr_err("%s: pipe2 for tee: %s", what, errstr(ret));
		return ret;
	}
	/* tee copies buffer references: the copy needs as many slots as the
	 * pipe it reads. */
	if (fcntl(p[1], F_SETPIPE_SZ, size) < 0) {
		ret = -errno;
		pr_err("%s: F_SETPIPE_SZ(%u) on minicr's tee pipe: %s", what, size, errstr(ret));
		goto cleanup;
	}
	n = tee(local_fd, p[1], avail, SPLICE_F_NONBLOCK);
	if (n != avail) {
		ret = n < 0 ? -errno : -EIO;
		if (n < 0)
			pr_err("%s: tee of %d buffered bytes: %s", what, avail, errstr(ret));
		else
			pr_err("%s: tee copied %zd of %d buffered bytes", what, n, avail);
		goto cleanup;
	}
	b = malloc(avail);
	if (!b) {
		ret = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)avail) {
		n = read(p[0], b + got, avail - got);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("%s: reading back the tee'd data: %s", what, errstr(ret));
			goto cleanup;
		}
		got += n;
	}
	*buf = b;
	*len = got;
	b = NULL;
	ret = 0;
cleanup:
	free(b);
	close(p[0]);
	close(p[1]);
	return ret;
}

/* Data peeked in dump() (the entry must say data_len before files.img is
 * written), put into pipe-data-<id>.img by dump_data(). */
struct peeked {
	uint32_t id;
	uint8_t *buf;
	size_t len;
};
static struct peeked *peeked;
static size_t nr_peeked;

static int peek_into_entry(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	struct peeked *np;
	char what[128];
	uint8_t *buf;
	size_t len;
	int fd, ret;

	snprintf(what, sizeof(what), "task %d: fd %d (%s)", fi->pid, fi->fd, fi->link);
	fd = files_dump_local_fd(d, fi);
	if (fd < 0)
		return fd;
	ret = pipe_peek(fd, fe->pipe->pipe_size, what, &buf, &len);
	if (ret || !len)
		return ret;
	np = realloc(peeked, (nr_peeked + 1) * sizeof(*np));
	if (!np) {
		free(buf);
		return -ENOMEM;
	}
	peeked = np;
	peeked[nr_peeked++] = (struct peeked){ fe->id, buf, len };
	fe->pipe->has_data_len = 1;
	fe->pipe->data_len = len;
	pr_debug("%s: %zu buffered bytes", what, len);
	return 0;
}

static int pipe_dump_data(struct files_dump *d, struct img_out *out, const FileEntry *fe)
{
	struct img_writer w;
	struct peeked *p = NULL;
	int ret;

	(void)d;
	for (size_t i = 0; i < nr_peeked; i++)
		if (peeked[i].id == fe->id)
			p = &peeked[i];
	if (!p)
		return 0;
	ret = img_writer_open(out, IMG_PIPE_DATA, fe->id, &w);
	if (ret)
		goto out;
	ret = img_writer_raw(&w, p->buf, p->len);
	if (ret)
		img_writer_abort(&w);
	else
		ret = img_writer_commit(&w);
out:
	free(p->buf);
	p->buf = NULL;
	p->id = 0;      /* file ids start at 1 */
	return ret;
}

/* ---- restore ---- */

/* Write pipe-data-<owner>.img (len bytes) into wfd, which must take it
 * all at once: the pipe has the capacity it had when it held the data. */
static int pipe_fill(struct files_rst *r, uint32_t owner, uint64_t len, int wfd,
		     const char *what)
{
	uint64_t size, done = 0;
	char buf[65536];
	int fd, ret;

	ret = img_raw_open(files_rst_dirfd(r), IMG_PIPE_DATA, owner, &fd, &size);
	if (ret)
		return ret;
	if (size != len) {
		pr_err("%s: pipe data image of file %u holds %" PRIu64 " bytes, %" PRIu64
		       " recorded", what, owner, size, len);
		ret = -EINVAL;
		goto cleanup;
	}
	while (done < len) {
		size_t chunk = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t n = pread(fd, buf, chunk, IMG_HDR_SIZE + done);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("%s: reading pipe data of file %u: %s", what, owner, errstr(ret));
			goto cleanup;
		}
		ret = write_all(wfd, buf, n);
		if (ret) {
			pr_err("%s: writing %zd bytes of buffered data back: %s", what, n,
			       errstr(ret));
			goto cleanup;
		}
		done += n;
	}
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

static int set_pipe_size(int fd, uint32_t size, const char *what)
{
	int cur = fcntl(fd, F_GETPIPE_SZ), ret;

	if (cur >= 0 && (uint32_t)cur == size)
		return 0;
	if (fcntl(fd, F_SETPIPE_SZ, size) < 0) {
		ret = -errno;
		pr_err("%s: F_SETPIPE_SZ(%u): %s", what, size, errstr(ret));
		return ret;
	}
	return 0;
}

static int check_pipe_entry(const FileEntry *fe, const char *what)
{
	if (!fe->pipe) {
		pr_err("%s: no pipe part in the image", what);
		return -EINVAL;
	}
	return 0;
}

/* A pipe's open file description that was reopened through /proc/PID/fd:
 * opened again the same way from minicr's fd of the pipe's first read
 * description, which the registry opens (and fills) first. O_NONBLOCK so
 * the open never waits for a writer; the status flags are then set from
 * the entry by the framework. */
static int pipe_reopen(struct files_rst *r, const FileEntry *fe, const char *what)
{
	const FileEntry *from = files_rst_entry(r, fe->pipe->reopened_from);
	char path[64];
	int fd, ret;

	if (!from || from->kind != FD_KIND__FD_PIPE || !from->pipe || from->pipe->has_reopened_from ||
	    from->pipe->pipe_ino != fe->pipe->pipe_ino) {
		pr_err("%s: it was reopened from file %u, which is not the same pipe in the image",
		       what, fe->pipe->reopened_from);
		return -EINVAL;
	}
	fd = files_rst_open_id(r, from->id);   /* logs */
	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = open(path, (fe->flags & O_ACCMODE) | O_CLOEXEC | O_NONBLOCK);
	if (ret < 0) {
		ret = -errno;
		pr_err("%s: reopening file %u through %s: %s", what, from->id, path, errstr(ret));
	}
	return ret;
}

static int pipe_open(struct files_rst *r, const FileEntry *fe)
{
	const PipeEntry *pe = fe->pipe;
	const FileEntry *peer = NULL;
	bool rd = (fe->flags & O_ACCMODE) == O_RDONLY;
	int p[2] = { -1, -1 }, mine, ret;
	char what[64];

	snprintf(what, sizeof(what), "file %u (pipe)", fe->id);
	ret = check_pipe_entry(fe, what);
	if (ret)
		return ret;
	if (pe->has_reopened_from)
		return pipe_reopen(r, fe, what);
	if (pe->has_peer_file_id) {
		peer = files_rst_entry(r, pe->peer_file_id);
		if (!peer || peer->kind != FD_KIND__FD_PIPE || !peer->pipe ||
		    peer->pipe->pipe_ino != pe->pipe_ino) {
			pr_err("%s: its other end, file %u, is not the same pipe in the image",
			       what, pe->peer_file_id);
			return -EINVAL;
		}
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = -errno;
		pr_err("%s: pipe2: %s", what, errstr(ret));
		return ret;
	}
	ret = set_pipe_size(p[1], pe->pipe_size, what);
	if (ret)
		goto cleanup;
	/* The data belongs to the read end's entry. */
	if (pe->has_data_len && pe->data_len)
		ret = pipe_fill(r, fe->id, pe->data_len, p[1], what);
	else if (peer && peer->pipe->has_data_len && peer->pipe->data_len)
		ret = pipe_fill(r, peer->id, peer->pipe->data_len, p[1], what);
	if (ret)
		goto cleanup;
	/* O_NONBLOCK was for the fill; the status flags of both ends are set
	 * from their entries by the framework. */
	if (fcntl(p[0], F_SETFL, 0) < 0 || fcntl(p[1], F_SETFL, 0) < 0) {
		ret = -errno;
		pr_err("%s: fcntl(F_SETFL, 0): %s", what, errstr(ret));
		goto cleanup;
	}
	mine = rd ? p[0] : p[1];
	if (peer) {
		/* The registry sets status flags only on files it opens
		 * itself. */
		if (fcntl(p[rd ? 1 : 0], F_SETFL, peer->flags & (O_NONBLOCK | O_DIRECT)) < 0) {
			ret = -errno;
			pr_err("%s: fcntl(F_SETFL, 0%o) of the other end: %s", what, peer->flags,
			       errstr(ret));
			goto cleanup;
		}
		ret = files_rst_stash(r, peer->id, rd ? p[1] : p[0]);
		p[rd ? 1 : 0] = -1;     /* owned by the registry now */
		if (ret)
			goto cleanup;
	}
	/* Without a peer the other end was closed everywhere: it goes. */
	close(p[rd ? 1 : 0]);
	return mine;
cleanup:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return ret;
}

static int fifo_open(struct files_rst *r, const FileEntry *fe)
{
	const PipeEntry *pe = fe->pipe;
	int holder = -1, fd = -1, ret;
	char what[PATH_MAX + 32];
	struct stat st;

	snprintf(what, sizeof(what), "file %u (FIFO %s)", fe->id, fe->path ? fe->path : "?");
	ret = check_pipe_entry(fe, what);
	if (ret)
		return ret;
	if (!fe->path) {
		pr_err("%s: no path in the image", what);
		return -EINVAL;
	}
	/* O_RDWR on a FIFO never blocks and holds both a reader and a
	 * writer, so the real open below does not block either. */
	holder = open(fe->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (holder < 0) {
		ret = -errno;
		pr_err("%s: open O_RDWR: %s", what, errstr(ret));
		return ret;
	}
	if (fstat(holder, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		ret = -ESTALE;
		pr_err("%s: is not a FIFO any more", what);
		goto cleanup;
	}
	ret = set_pipe_size(holder, pe->pipe_size, what);
	if (!ret && pe->has_data_len && pe->data_len)
		ret = pipe_fill(r, fe->id, pe->data_len, holder, what);
	if (ret)
		goto cleanup;
	fd = open(fe->path, (fe->flags & (O_ACCMODE | O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME)) |
		  O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s: open with flags 0%o: %s", what, fe->flags, errstr(ret));
		goto cleanup;
	}
	if (fcntl(fd, F_SETFL, fe->flags & (O_NONBLOCK | O_APPEND | O_ASYNC | O_DIRECT |
					     O_NOATIME)) < 0) {
		ret = -errno;
		pr_err("%s: fcntl(F_SETFL, 0%o): %s", what, fe->flags, errstr(ret));
		goto cleanup;
	}
	ret = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	close(holder);
	return ret;
}

const struct file_ops files_pipe_ops = {
	.kind = FD_KIND__FD_PIPE,
	.name = "pipe",
	.match = pipe_match,
	.dump = pipe_dump,
	.dump_data = pipe_dump_data,
	.open = pipe_open,
};

/* pipe_open() of an entry without a peer: the other end is closed, and
 * the read end's recorded bytes are written back first. */
const struct file_ops files_pipe_ext_ops = {
	.kind = FD_KIND__FD_EXTERNAL,
	.name = "external pipe, its other end closed",
	.open = pipe_open,
};

const struct file_ops files_fifo_ops = {
	.kind = FD_KIND__FD_FIFO,
	.name = "FIFO",
	.match = fifo_match,
	.dump = fifo_dump,
	.dump_data = pipe_dump_data,
	.open = fifo_open,
};
