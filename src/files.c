/* The files framework (files.h): kind table, dump-side collection and
 * grouping into open file descriptions, files.img and fds-<pid>.img, and
 * the restore-side registry and install step. */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files_event.h"
#include "files_inet.h"
#include "files_notify.h"
#include "files_tty.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "kcmp.h"
#include "log.h"
#include "refuse.h"
#include "pstree.h"
#include "rst_core_int.h"
#include "rst_state.h"
#include "util.h"

/* The first kind whose match() takes an fd wins: more specific kinds
 * (a memfd, a deleted file, a terminal) before the general ones. */
static const struct file_ops *const kinds[] = {
	&files_tty_ops,         /* terminals are character devices */
	&files_memfd_ops,       /* memfds are deleted regular files */
	&files_ghost_ops,
	&files_reg_ops,
	&files_dir_ops,
	&files_chr_ops,
	&files_pipe_ops,
	&files_fifo_ops,
	&files_unix_ops,
	&files_inet_ops,        /* after unix: it asks other sockets for their family */
	&files_netlink_ops,
	&files_eventfd_ops,
	&files_epoll_ops,
	&files_signalfd_ops,
	&files_timerfd_ops,
	&files_inotify_ops,
	&files_fanotify_ops,
	&files_pidfd_ops,
};

static const struct file_ops *ops_by_kind(FdKind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i]->kind == kind)
			return kinds[i];
	return NULL;
}

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* ================================ dump ================================ */

struct dump_task {
	pid_t pid;
	pid_t ppid;             /* its parent in the tree, 0 for the root */
	pid_t table_owner;      /* first task of its fd table: itself unless it
	                         * shares its parent's (clone(CLONE_FILES)) */
	int pidfd;              /* for files_dump_local_fd(), -1 until needed */
	size_t first, nr;       /* its fds in files_dump.fds */
};

struct files_dump {
	struct fd_dump_info *fds;
	int *local;             /* per fd: files_dump_local_fd() result or -1 */
	size_t nr, cap;
	struct dump_task *tasks;
	size_t nr_tasks;
	FileEntry **files;      /* index id - 1 */
	size_t *first;          /* index id - 1: its first fd in fds */
	size_t nr_files;
	const struct pstree *tree;
};

size_t files_dump_nr_fds(const struct files_dump *d)
{
	return d->nr;
}

const struct fd_dump_info *files_dump_fd(const struct files_dump *d, size_t i)
{
	return i < d->nr ? &d->fds[i] : NULL;
}

static const struct dump_task *find_task(const struct files_dump *d, pid_t pid)
{
	for (size_t i = 0; i < d->nr_tasks; i++)
		if (d->tasks[i].pid == pid)
			return &d->tasks[i];
	return NULL;
}

bool files_dump_has_task(const struct files_dump *d, pid_t pid)
{
	return find_task(d, pid) != NULL;
}

const struct pstree *files_dump_tree(const struct files_dump *d)
{
	return d->tree;
}

const struct fd_dump_info *files_dump_first(const struct files_dump *d, uint32_t id)
{
	return id && id <= d->nr_files ? &d->fds[d->first[id - 1]] : NULL;
}

int files_sock_domain(const struct fd_dump_info *fi)
{
	int pidfd, fd, dom = -1;
	socklen_t len = sizeof(dom);

	if (!S_ISSOCK(fi->st.st_mode) || strncmp(fi->link, "socket:", 7) || fi->pid <= 0)
		return -1;
	pidfd = syscall(SYS_pidfd_open, fi->pid, 0);
	if (pidfd < 0)
		return -1;
	fd = syscall(SYS_pidfd_getfd, pidfd, fi->fd, 0);
	close(pidfd);
	if (fd < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) < 0)
		dom = -1;
	close(fd);
	return dom;
}

int files_dump_local_fd(struct files_dump *d, const struct fd_dump_info *fi)
{
	size_t i = fi - d->fds;
	struct dump_task *t = NULL;
	int fd, ret;

	if (i >= d->nr)
		return -EINVAL;
	if (d->local[i] >= 0)
		return d->local[i];
	for (size_t k = 0; k < d->nr_tasks && !t; k++)
		if (d->tasks[k].pid == fi->pid)
			t = &d->tasks[k];
	if (!t)
		return -ESRCH;
	if (t->pidfd < 0) {
		t->pidfd = pidfd_open_(t->pid);
		if (t->pidfd < 0) {
			ret = -errno;
			pr_err("task %d: pidfd_open: %s", t->pid, errstr(ret));
			return ret;
		}
	}
	fd = syscall(SYS_pidfd_getfd, t->pidfd, fi->fd, 0);
	if (fd < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): pidfd_getfd: %s", fi->pid, fi->fd, fi->link,
		       errstr(ret));
		return ret;
	}
	d->local[i] = fd;
	return fd;
}

int files_mark_external(const struct fd_dump_info *fi, FileEntry *fe, const char *key,
			const char *why, const char *without)
{
	char *k = strdup(key);

	if (!k)
		return -ENOMEM;
	free(fe->external);
	fe->external = k;
	fe->has_external_kind = 1;
	fe->external_kind = fe->kind;
	fe->kind = FD_KIND__FD_EXTERNAL;
	if (without)
		pr_warn("task %d: fd %d (%s) is external: %s; restore %s, unless given "
			"--inherit-fd fd[N]:%s with an fd N of the caller for it", fi->pid, fi->fd,
			key, why, without, key);
	else
		pr_warn("task %d: fd %d (%s) is external: %s; restore needs --inherit-fd fd[N]:%s "
			"with an fd N of the caller for it", fi->pid, fi->fd, key, why, key);
	return 0;
}

static void free_info(struct fd_dump_info *fi)
{
	free((char *)fi->link);
	free((char *)fi->fdinfo);
}

void files_dump_free(struct files_dump *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		free_info(&d->fds[i]);
		if (d->local[i] >= 0)
			close(d->local[i]);
	}
	for (size_t i = 0; i < d->nr_tasks; i++)
		if (d->tasks[i].pidfd >= 0)
			close(d->tasks[i].pidfd);
	for (size_t i = 0; i < d->nr_files; i++)
		if (d->files[i])
			protobuf_c_message_free_unpacked(&d->files[i]->base, NULL);
	free(d->files);
	free(d->first);
	free(d->fds);
	free(d->local);
	free(d->tasks);
	free(d);
}

static int grow(struct files_dump *d)
{
	size_t cap = d->cap ? d->cap * 2 : 64;
	struct fd_dump_info *nf;
	int *nl;

	nf = realloc(d->fds, cap * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	d->fds = nf;
	nl = realloc(d->local, cap * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	d->local = nl;
	d->cap = cap;
	return 0;
}

/* Read fd of pid into fi; 1 if it is refused (counted in r), 0, or -errno. */
/* A "lock:" line of fdinfo (after "lock:") that is a lease: its state
 * (ACTIVE, BREAKING, BREAKER), whether its type is WRITE and the PID of
 * the task that took it. -EINVAL if the line is not a lease. */
static int lease_parse(const char *line, char state[16], bool *write, int *pid)
{
	char type[16];
	int p;

	if (sscanf(line, " %*s LEASE %15s %15s %d", state, type, &p) != 3)
		return -EINVAL;
	*write = !strcmp(type, "WRITE");
	if (pid)
		*pid = p;
	return 0;
}

static int read_fd(pid_t pid, int fd, struct fd_dump_info *fi, struct refusals *r)
{
	char *info = NULL;
	char path[64], link[PATH_MAX];
	struct fdinfo parsed;
	ssize_t n;
	int ret;

	memset(fi, 0, sizeof(*fi));
	fi->pid = pid;
	fi->fd = fd;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link));
	if (n < 0 || (size_t)n >= sizeof(link)) {
		ret = n < 0 ? -errno : -ENAMETOOLONG;
		pr_err("task %d: fd %d: cannot read link %s: %s", pid, fd, path, errstr(ret));
		return ret;
	}
	link[n] = '\0';
	fi->link = strdup(link);
	if (!fi->link)
		return -ENOMEM;
	if (stat(path, &fi->st) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): cannot stat %s: %s", pid, fd, link, path, errstr(ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	ret = read_file(path, 1 << 20, &info, NULL);
	if (!ret)
		ret = fdinfo_parse(info, &parsed);
	if (ret) {
		free(info);
		pr_err("task %d: fd %d (%s): cannot read %s: %s", pid, fd, link, path, errstr(ret));
		return ret;
	}
	fi->fdinfo = info;
	fi->pos = parsed.pos;
	fi->flags = parsed.flags;
	/* Leases first, before any kind takes the fd: only an active read or
	 * write lease of a regular file is taken again (collect_locks()). */
	for (const char *l = strstr(info, "\nlock:"); l; l = strstr(l + 1, "\nlock:")) {
		struct files_lock lk;
		char state[16];
		bool wr;

		if (!lease_parse(l + 6, state, &wr, NULL) && (strcmp(state, "ACTIVE") ||
							       !S_ISREG(fi->st.st_mode))) {
			refuse(r, "task %d: fd %d (%s) holds a lease in state %s; minicr restores "
			       "only an active lease of a regular file", pid, fd, link, state);
			return 1;
		}
		if (!files_lock_parse(l + 6, &lk) && !lk.kind && strcmp(lk.name, "LEASE")) {
			refuse(r, "task %d: fd %d (%s) holds a %s lock; minicr restores only "
			       "flock, POSIX and OFD locks", pid, fd, link, lk.name);
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(kinds) && !fi->ops; i++)
		if (kinds[i]->match(fi))
			fi->ops = kinds[i];
	if (!fi->ops) {
		refuse(r, "task %d: fd %d is %s (%s); minicr cannot dump it", pid, fd,
		       files_what(fi->st.st_mode, fi->st.st_nlink, link), link);
		return 1;
	}
	return 0;
}

static int cmp_info_fd(const void *a, const void *b)
{
	const struct fd_dump_info *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Every fd of a frozen task, ascending; fds no kind takes are refused (and
 * keep no ops). */
static int collect_task(struct files_dump *d, pid_t pid, struct refusals *r)
{
	struct dump_task *t = &d->tasks[d->nr_tasks];
	struct dirent *de;
	char path[64];
	DIR *dir;
	int ret = 0;

	t->pid = pid;
	t->pidfd = -1;
	t->first = d->nr;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir) {
		ret = -errno;
		pr_err("task %d: cannot open %s: %s", pid, path, errstr(ret));
		return ret;
	}
	d->nr_tasks++;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (d->nr == d->cap) {
			ret = grow(d);
			if (ret)
				break;
		}
		d->local[d->nr] = -1;
		ret = read_fd(pid, atoi(de->d_name), &d->fds[d->nr], r);
		if (ret < 0) {
			free_info(&d->fds[d->nr]);
			break;
		}
		ret = 0;
		d->nr++;
	}
	closedir(dir);
	t->nr = d->nr - t->first;
	qsort(d->fds + t->first, t->nr, sizeof(*d->fds), cmp_info_fd);
	return ret;
}

static int same_file(void *ctx, size_t i, size_t j)
{
	const struct files_dump *d = ctx;
	const struct fd_dump_info *a = &d->fds[i], *b = &d->fds[j];
	long r;

	r = syscall(SYS_kcmp, a->pid, b->pid, KCMP_FILE, a->fd, b->fd);
	if (r < 0) {
		int ret = -errno;

		pr_err("kcmp(task %d fd %d, task %d fd %d): %s", a->pid, a->fd, b->pid, b->fd,
		       errstr(ret));
		return ret;
	}
	return r == 0 ? 0 : 1;
}

/* Is the F_SETOWN_EX owner (type, pid as minicr sees it) in the tree? */
static bool owner_in_tree(const struct files_dump *d, int type, pid_t pid)
{
	for (size_t i = 0; i < d->tree->nr_tasks; i++) {
		const struct pstree_task *t = d->tree->tasks[i];

		if (t->zombie)
			continue;
		if (type == F_OWNER_PID && t->pid == pid)
			return true;
		if (type == F_OWNER_PGRP && getpgid(t->pid) == pid)
			return true;
		for (size_t k = 0; type == F_OWNER_TID && k < t->nr_tids; k++)
			if (t->tids[k] == pid)
				return true;
	}
	return false;
}

/* fe->owner and fe->signum: F_SETOWN_EX and F_SETSIG belong to the open
 * file description and are not in fdinfo; read on minicr's copy. */
static int dump_owner(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	static const char *const types[] = { "thread", "process", "process group" };
	struct f_owner_ex o;
	int fd, sig, ret;

	fd = files_dump_local_fd(d, fi);   /* logs */
	if (fd < 0)
		return fd;
	sig = fcntl(fd, F_GETSIG);
	if (sig < 0 || fcntl(fd, F_GETOWN_EX, &o) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (%s): F_GETSIG/F_GETOWN_EX: %s", fi->pid, fi->fd, fi->link,
		       errstr(ret));
		return ret;
	}
	fe->has_signum = sig != 0;
	fe->signum = sig;
	if (!o.pid)
		return 0;
	if ((unsigned)o.type > F_OWNER_PGRP || !owner_in_tree(d, o.type, o.pid)) {
		pr_err("task %d: fd %d (%s): its F_SETOWN owner, %s %d, is %s; minicr restores "
		       "owners inside the tree only", fi->pid, fi->fd, fi->link,
		       (unsigned)o.type <= F_OWNER_PGRP ? types[o.type] : "of unknown type", o.pid,
		       (unsigned)o.type <= F_OWNER_PGRP ? "outside the tree (or gone)" : "unknown");
		return -EOPNOTSUPP;
	}
	fe->owner = malloc(sizeof(*fe->owner));
	if (!fe->owner)
		return -ENOMEM;
	file_owner__init(fe->owner);
	fe->owner->type = (FileOwnerType)o.type;
	fe->owner->pid = o.pid;
	return 0;
}

/* Core fields of fi's open file description, then the kind's part. */
static int dump_file(struct files_dump *d, const struct fd_dump_info *fi, FileEntry **out)
{
	FileEntry *fe = malloc(sizeof(*fe));
	int ret;

	if (!fe)
		return -ENOMEM;
	file_entry__init(fe);
	*out = fe;
	fe->id = fi->file_id;
	fe->kind = fi->ops->kind;
	fe->flags = fi->flags & ~O_CLOEXEC;
	fe->has_pos = 1;
	fe->pos = fi->pos;
	fe->path = strdup(fi->link);
	if (!fe->path)
		return -ENOMEM;
	fe->has_dev = fe->has_ino = fe->has_size = fe->has_mode = fe->has_rdev = 1;
	fe->dev = fi->st.st_dev;
	fe->ino = fi->st.st_ino;
	fe->size = fi->st.st_size;
	fe->mode = fi->st.st_mode;
	fe->rdev = fi->st.st_rdev;
	ret = dump_owner(d, fi, fe);
	if (!ret)
		ret = fi->ops->dump(d, fi, fe);
	/* A refusal (-EOPNOTSUPP) was logged by the kind, naming what and why. */
	if (ret && ret != -EOPNOTSUPP)
		pr_err("task %d: fd %d (%s, %s): cannot dump it: %s", fi->pid, fi->fd, fi->link,
		       fi->ops->name, errstr(ret));
	return ret;
}

static bool same_lock(const FileLockEntry *a, const FileLockEntry *b)
{
	return a->kind == b->kind && a->write == b->write && a->start == b->start &&
	       a->len == b->len && a->owner == b->owner;
}

/* The task to take a flock again, fi being the file's first fd: /proc/locks
 * names a flock by the PID of the task that took it, so the one that did
 * (pid), if it holds the file; else fi's task. A task sharing its
 * parent's fd table installs nothing itself: the table's first task. */
static pid_t flock_taker(const struct files_dump *d, const struct fd_dump_info *fi, pid_t pid)
{
	pid_t taker = fi->pid;

	for (size_t i = 0; i < d->nr; i++)
		if (d->fds[i].file_id == fi->file_id && d->fds[i].pid == pid)
			taker = pid;
	return find_task(d, taker)->table_owner;
}

/* The "lock:" lines of fi's fdinfo into fe->locks. The kernel lists, for
 * an fd, the flock and OFD locks of its open file description and the
 * POSIX locks its task took through it: the former are taken from the
 * file's first fd only, the latter from every fd, once per owner. */
static int collect_locks(const struct files_dump *d, const struct fd_dump_info *fi, bool first,
			 FileEntry *fe)
{
	const char *line = fi->fdinfo;

	for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		FileLockEntry *le, **nl;
		struct files_lock l;
		bool dup = false;

		if (strncmp(line, "lock:", 5))
			continue;
		if (files_lock_parse(line + 5, &l)) {
			pr_err("task %d: fd %d (%s): cannot parse fdinfo line '%.*s'", fi->pid, fi->fd,
			       fi->link, (int)strcspn(line, "\n"), line);
			return -EINVAL;
		}
		if (l.waiter)
			continue;   /* a blocked flock()/F_SETLKW: retried after restore */
		if (!l.kind && !strcmp(l.name, "LEASE")) {
			char state[16];
			bool wr;
			int pid;

			/* Active (collect_task()): taken again by the task that
			 * took it, through this fd, which the break signal
			 * names in si_fd. */
			if (lease_parse(line + 5, state, &wr, &pid))
				return -EINVAL;
			fe->has_lease_write = 1;
			fe->lease_write = wr;
			if (pid != fi->pid)
				continue;
			if (fe->has_lease_fd && (fe->lease_owner != pid || fe->lease_fd != fi->fd)) {
				pr_err("task %d: fd %d (%s) holds a lease that fd %d of the task holds "
				       "too; minicr cannot tell which fd took it (the break signal's "
				       "si_fd)", fi->pid, fi->fd, fi->link, fe->lease_fd);
				return -EOPNOTSUPP;
			}
			fe->has_lease_fd = fe->has_lease_owner = 1;
			fe->lease_fd = fi->fd;
			fe->lease_owner = pid;
			continue;
		}
		if (!l.kind) {
			pr_err("task %d: fd %d (%s) holds a %s lock; minicr restores only flock, "
			       "POSIX and OFD locks", fi->pid, fi->fd, fi->link, l.name);
			return -EOPNOTSUPP;
		}
		if (l.kind != FILE_LOCK_KIND__LOCK_POSIX && !first)
			continue;
		/* The kernel's owner of a POSIX lock is the fd table: a task
		 * sharing its parent's lists the table's locks, which the
		 * table's first task records and takes back. One it took
		 * itself would come back owned by that first task (another
		 * F_GETLK l_pid): refused. */
		if (l.kind == FILE_LOCK_KIND__LOCK_POSIX &&
		    find_task(d, fi->pid)->table_owner != fi->pid) {
			pid_t owner = find_task(d, fi->pid)->table_owner;

			if (l.pid == owner)
				continue;
			pr_err("task %d: fd %d (%s): holds a POSIX lock (pid %d) on the fd table "
			       "it shares with task %d; minicr restores the POSIX locks of a "
			       "shared fd table only when its first task took them",
			       fi->pid, fi->fd, fi->link, l.pid, owner);
			return -EOPNOTSUPP;
		}
		le = malloc(sizeof(*le));
		if (!le)
			return -ENOMEM;
		file_lock_entry__init(le);
		le->kind = l.kind;
		le->write = l.write;
		le->has_start = le->has_len = 1;
		le->start = l.start;
		le->len = l.len;
		if (l.kind == FILE_LOCK_KIND__LOCK_POSIX) {
			le->has_owner = 1;
			le->owner = fi->pid;
		}
		if (l.kind == FILE_LOCK_KIND__LOCK_FLOCK) {
			le->has_owner = 1;
			le->owner = flock_taker(d, fi, l.pid);
		}
		for (size_t k = 0; k < fe->n_locks && !dup; k++)
			dup = same_lock(fe->locks[k], le);
		if (dup) {
			free(le);
			continue;
		}
		nl = realloc(fe->locks, (fe->n_locks + 1) * sizeof(*nl));
		if (!nl) {
			free(le);
			return -ENOMEM;
		}
		fe->locks = nl;
		fe->locks[fe->n_locks++] = le;
		pr_debug("task %d: fd %d (%s): %s %s lock %" PRIu64 "+%" PRIu64, fi->pid, fi->fd,
			 fi->link, l.name, l.write ? "write" : "read", l.start, l.len);
	}
	return 0;
}

static bool group_has(struct dump_task *const *t, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i]->pid == pid)
			return true;
	return false;
}

/* Tasks sharing one fd table (clone(CLONE_FILES) without CLONE_THREAD):
 * restore recreates a table shared with the recorded parent (the parent
 * forks the child with CLONE_FILES), so a group of tasks sharing one must
 * be a subtree-connected chain of parents and children: exactly one of them
 * (the table's first task, its owner) has its parent outside the group.
 * Any other sharing (with a sibling, a cousin...) is refused. */
static int check_fd_group(struct dump_task **t, size_t n, struct refusals *r)
{
	struct dump_task *owner = NULL;

	for (size_t i = 0; i < n; i++) {
		if (group_has(t, n, t[i]->ppid))
			continue;
		if (owner) {
			refuse(r, "tasks %d and %d share one fd table (clone(CLONE_FILES) "
			       "without CLONE_THREAD) but not along parent-child links; minicr "
			       "restores only an fd table a child shares with its parent",
			       owner->pid, t[i]->pid);
			return 0;
		}
		owner = t[i];
	}
	if (!owner) {
		pr_err("tasks %d..: fd table shared in a cycle of parents", t[0]->pid);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		t[i]->table_owner = owner->pid;
		if (t[i] != owner)
			pr_debug("task %d shares the fd table of its parent %d (first task %d)",
				 t[i]->pid, t[i]->ppid, owner->pid);
	}
	return 0;
}

static int check_fd_tables(struct files_dump *d, struct refusals *r)
{
	_cleanup_free_ struct dump_task **t = calloc(d->nr_tasks + 1, sizeof(*t));
	_cleanup_free_ pid_t *pids = calloc(d->nr_tasks + 1, sizeof(*pids));
	int ret;

	if (!t || !pids)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_tasks; i++)
		pids[i] = d->tasks[i].pid;
	ret = kcmp_sort(pids, d->nr_tasks, KCMP_FILES);
	for (size_t i = 0; i < d->nr_tasks && !ret; i++)
		t[i] = (struct dump_task *)find_task(d, pids[i]);
	for (size_t i = 0, j; i < d->nr_tasks && !ret; i = j) {
		for (j = i + 1; j < d->nr_tasks; j++) {
			ret = kcmp_same(pids[i], pids[j], KCMP_FILES);
			if (ret != 1)
				break;
			ret = 0;
		}
		if (ret < 0)
			break;
		ret = 0;
		if (j - i > 1)
			ret = check_fd_group(t + i, j - i, r);
	}
	return ret;
}

bool files_dump_shares_parent_table(const struct files_dump *d, pid_t pid)
{
	const struct dump_task *t = find_task(d, pid);

	return t && t->table_owner != pid;
}

int files_dump_collect(struct files_dump **out, const struct pstree *tree, struct refusals *r)
{
	struct files_group_key *keys = NULL;
	uint32_t *group = NULL;
	struct files_dump *d;
	size_t nr_groups;
	int ret = 0;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->tree = tree;
	d->tasks = calloc(tree->nr_tasks ? tree->nr_tasks : 1, sizeof(*d->tasks));
	if (!d->tasks) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < tree->nr_tasks && !ret; i++) {
		const struct pstree_task *pt = tree->tasks[i];
		LOG_TASK_SCOPE(pt->pid);

		if (pt->zombie)
			continue;
		ret = collect_task(d, pt->pid, r);
		if (!ret) {
			d->tasks[d->nr_tasks - 1].ppid = pt->parent ? pt->parent->pid : 0;
			d->tasks[d->nr_tasks - 1].table_owner = pt->pid;
		}
	}
	if (!ret)
		ret = check_fd_tables(d, r);
	if (ret)
		goto out;

	keys = calloc(d->nr ? d->nr : 1, sizeof(*keys));
	group = calloc(d->nr ? d->nr : 1, sizeof(*group));
	if (!keys || !group) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->nr; i++) {
		keys[i].dev = d->fds[i].st.st_dev;
		keys[i].ino = d->fds[i].st.st_ino;
		keys[i].pos = d->fds[i].pos;
		keys[i].flags = d->fds[i].flags & ~O_CLOEXEC;
	}
	ret = files_group(keys, d->nr, same_file, d, group, &nr_groups);
	if (ret)
		goto out;
	d->files = calloc(nr_groups ? nr_groups : 1, sizeof(*d->files));
	d->first = calloc(nr_groups ? nr_groups : 1, sizeof(*d->first));
	if (!d->files || !d->first) {
		ret = -ENOMEM;
		goto out;
	}
	d->nr_files = nr_groups;
	/* Groups are numbered by first appearance: fds[i] is the first of
	 * its group when the group is new. */
	for (size_t i = 0, next = 0; i < d->nr; i++) {
		d->fds[i].file_id = group[i] + 1;
		if (group[i] == next)
			d->first[next++] = i;
	}
	/* Groups are numbered by first appearance: the first fd of a group
	 * meets an empty slot. */
	for (size_t i = 0; i < d->nr && !ret; i++) {
		bool first = !d->files[group[i]];

		if (!d->fds[i].ops)
			continue;   /* refused by collect_task() */
		if (first) {
			ret = dump_file(d, &d->fds[i], &d->files[group[i]]);
			/* Refused: go on, so that the dump reports every refusal. */
			if (ret == -EOPNOTSUPP) {
				refuse_counted(r);
				ret = 0;
				continue;
			}
		}
		if (!ret)
			ret = collect_locks(d, &d->fds[i], first, d->files[group[i]]);
	}
	/* A lease whose taker holds no fd of it would be lost. */
	for (size_t i = 0; i < d->nr && !ret; i++) {
		const FileEntry *fe = d->files[group[i]];

		if (fe && fe->has_lease_write && !fe->has_lease_fd) {
			pr_err("task %d: fd %d (%s) holds a lease taken by a task that holds no fd "
			       "of it; minicr cannot take it again", d->fds[i].pid, d->fds[i].fd,
			       d->fds[i].link);
			refuse_counted(r);
			break;
		}
	}
	if (!ret)
		pr_debug("%zu fds of %zu tasks: %zu open files", d->nr, d->nr_tasks, d->nr_files);
out:
	free(keys);
	free(group);
	if (ret)
		files_dump_free(d);
	else
		*out = d;
	return ret;
}

static int write_fds(struct files_dump *d, struct img_out *out, const struct dump_task *t)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(out, IMG_FDS, t->pid, &w);   /* logs */
	if (ret)
		return ret;
	for (size_t i = t->first; i < t->first + t->nr && !ret; i++) {
		FdEntry e = FD_ENTRY__INIT;

		e.fd = d->fds[i].fd;
		e.file_id = d->fds[i].file_id;
		e.has_cloexec = 1;
		e.cloexec = !!(d->fds[i].flags & O_CLOEXEC);
		ret = img_writer_put(&w, &e.base);
	}
	if (ret) {
		img_writer_abort(&w);
		return ret;
	}
	return img_writer_commit(&w);
}

int files_dump_write(struct files_dump *d, struct img_out *out)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(out, IMG_FILE_DESCS, 0, &w);
	if (ret)
		return ret;
	for (size_t i = 0; i < d->nr_files && !ret; i++)
		ret = img_writer_put(&w, &d->files[i]->base);
	if (ret) {
		img_writer_abort(&w);
		return ret;
	}
	ret = img_writer_commit(&w);
	for (size_t i = 0; i < d->nr_tasks && !ret; i++)
		ret = write_fds(d, out, &d->tasks[i]);
	for (size_t i = 0; i < d->nr_files && !ret; i++) {
		const FileEntry *fe = d->files[i];
		/* The kind that dumped it: kinds may share an FdKind. */
		const struct file_ops *ops = files_dump_first(d, fe->id)->ops;

		/* External files too: an external pipe's read end keeps the
		 * bytes queued in it for a restore without --inherit-fd. */
		if (ops->dump_data)
			ret = ops->dump_data(d, out, fe);
	}
	return ret;
}

void files_dump_remove(struct files_dump *d, int dirfd)
{
	char name[NAME_MAX + 1];

	unlinkat(dirfd, "files.img", 0);
	for (size_t i = 0; d && i < d->nr_tasks; i++)
		if (!img_file_name(IMG_FDS, d->tasks[i].pid, name, sizeof(name)))
			unlinkat(dirfd, name, 0);
	for (size_t i = 0; d && i < d->nr_files; i++)
		if (!img_file_name(IMG_GHOST, d->files[i]->id, name, sizeof(name)))
			unlinkat(dirfd, name, 0);
	for (size_t i = 0; d && i < d->nr_files; i++)
		if (!img_file_name(IMG_PIPE_DATA, d->files[i]->id, name, sizeof(name)))
			unlinkat(dirfd, name, 0);
}

/* =============================== restore =============================== */

struct rst_file {
	FileEntry *fe;
	/* NULL for FD_EXTERNAL, but files_pipe_ext_ops for a stand_in */
	const struct file_ops *ops;
	int ctl_fd;                     /* minicr's, -1 until opened */
	bool inherited;                 /* ctl_fd is the caller's --inherit-fd */
	bool stand_in;                  /* external pipe end no --inherit-fd hands in */
	bool ready;                     /* position, flags, locks set on ctl_fd */
	bool posted;                    /* post_install() done */
	bool async_set;                 /* O_ASYNC set by a task (set_async()) */
};

struct inherit {
	int fd;
	const char *key;
	bool used;
};

struct files_rst {
	int dirfd;
	int self_pidfd;                 /* minicr's pidfd; the tasks inherit it */
	bool same_host;
	struct rst_file *files;         /* ascending id */
	size_t nr_files;
	struct inherit *inh;
	size_t nr_inh;
	const struct rst_task *tasks;   /* files_rst_set_tasks() */
	size_t nr_tasks;
};

static struct files_rst *rst;

void files_rst_set_tasks(const struct rst_task *tasks, size_t nr)
{
	if (rst) {
		rst->tasks = tasks;
		rst->nr_tasks = nr;
	}
}

pid_t files_rst_pid_now(const struct files_rst *r, pid_t img, bool thread)
{
	for (size_t i = 0; i < r->nr_tasks; i++) {
		const struct rst_task *t = &r->tasks[i];

		if (!thread && t->pe->pid == img)
			return t->pid;  /* 0 for a zombie not found */
		for (size_t j = 0; thread && t->core && j < t->nr_tids && j < t->pe->n_threads; j++)
			if (t->pe->threads[j] == img)
				return t->tids[j];
	}
	return 0;
}

int files_rst_dirfd(const struct files_rst *r)
{
	return r->dirfd;
}

static struct rst_file *find_file(const struct files_rst *r, uint32_t id)
{
	size_t lo = 0, hi = r->nr_files;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r->files[mid].fe->id == id)
			return &r->files[mid];
		if (r->files[mid].fe->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const FileEntry *files_rst_entry(const struct files_rst *r, uint32_t id)
{
	struct rst_file *f = find_file(r, id);

	return f ? f->fe : NULL;
}

int files_rst_stash(struct files_rst *r, uint32_t id, int fd)
{
	struct rst_file *f = find_file(r, id);

	if (!f || f->ctl_fd >= 0) {
		pr_err("file %u: %s", id, f ? "opened twice" : "not in files.img");
		close(fd);
		return -EINVAL;
	}
	f->ctl_fd = fd;
	return 0;
}

/* Images older than version 2 have per-task files-PID.img: say so rather
 * than fail on a missing files.img. Then: do the images come from this
 * boot? Only then are dev/ino numbers comparable. */
static int read_inventory(struct files_rst *r)
{
	_cleanup_free_ char *boot = NULL;
	ProtobufCMessage *msg = NULL;
	InventoryEntry *inv;
	int ret;

	ret = img_read_one(r->dirfd, IMG_INVENTORY, 0, &msg);   /* logs */
	if (ret)
		return ret;
	inv = (InventoryEntry *)msg;
	if (inv->img_version < 2) {
		pr_err("the images are of format version %u, whose open files this minicr cannot "
		       "read (version 2 has files.img and fds-PID.img): dump again", inv->img_version);
		ret = -EPROTO;
	}
	if (!read_file("/proc/sys/kernel/random/boot_id", 64, &boot, NULL)) {
		boot[strcspn(boot, "\n")] = '\0';
		r->same_host = inv->boot_id && !strcmp(inv->boot_id, boot);
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return ret;
}

static int cmp_rst_file(const void *a, const void *b)
{
	const struct rst_file *x = a, *y = b;

	return (x->fe->id > y->fe->id) - (x->fe->id < y->fe->id);
}

static int read_files_img(struct files_rst *r)
{
	ProtobufCMessage *msg = NULL;
	struct img_reader ir;
	size_t cap = 0;
	int ret;

	ret = img_reader_open(r->dirfd, "files.img", &img_types[IMG_FILE_DESCS], &ir);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&ir, &msg)) == 1) {
		FileEntry *fe = (FileEntry *)msg;
		struct rst_file *f;

		if (r->nr_files == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct rst_file *nf = realloc(r->files, nc * sizeof(*nf));

			if (!nf) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
			r->files = nf;
			cap = nc;
		}
		f = &r->files[r->nr_files++];
		*f = (struct rst_file){ .fe = fe, .ctl_fd = -1 };
		if (fe->kind == FD_KIND__FD_EXTERNAL) {
			if (!fe->external) {
				pr_err("files.img: external file %u without a key", fe->id);
				ret = -EINVAL;
				break;
			}
			continue;
		}
		f->ops = ops_by_kind(fe->kind);
		if (!f->ops) {
			pr_err("files.img: file %u (%s) has kind %d, which this minicr cannot "
			       "restore", fe->id, fe->path ? fe->path : "?", (int)fe->kind);
			ret = -EOPNOTSUPP;
			break;
		}
	}
	img_reader_close(&ir);
	if (ret)
		return ret;
	qsort(r->files, r->nr_files, sizeof(*r->files), cmp_rst_file);
	for (size_t i = 1; i < r->nr_files; i++) {
		if (r->files[i].fe->id == r->files[i - 1].fe->id) {
			pr_err("files.img: file %u recorded twice", r->files[i].fe->id);
			return -EINVAL;
		}
	}
	return 0;
}

/* Every --inherit-fd names an open fd of minicr and an external file of the
 * images, and every external file is handed in, but for an external pipe
 * end, which is otherwise given a new pipe whose other end is closed, as if
 * the outside holder had gone (images of older minicr versions lack the
 * pipe's capacity, so theirs still must be handed in). */
static int resolve_inherit(struct files_rst *r, const char *const *specs, size_t n)
{
	int ret = 0;

	r->inh = calloc(n ? n : 1, sizeof(*r->inh));
	if (!r->inh)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct inherit *in = &r->inh[r->nr_inh];

		if (files_inherit_parse(specs[i], &in->fd, &in->key)) {
			pr_err("--inherit-fd %s: expected fd[N]:KEY, e.g. fd[3]:pipe:[12345]",
			       specs[i]);
			return -EINVAL;
		}
		if (fcntl(in->fd, F_GETFD) < 0) {
			ret = -errno;
			pr_err("--inherit-fd %s: fd %d is not open in minicr: %s", specs[i], in->fd,
			       errstr(ret));
			return ret;
		}
		r->nr_inh++;
	}
	for (size_t i = 0; i < r->nr_files; i++) {
		struct rst_file *f = &r->files[i];
		struct inherit *in = NULL;

		if (f->fe->kind != FD_KIND__FD_EXTERNAL)
			continue;
		for (size_t k = 0; k < r->nr_inh && !in; k++)
			if (!strcmp(r->inh[k].key, f->fe->external))
				in = &r->inh[k];
		if (!in && f->fe->has_external_kind && f->fe->external_kind == FD_KIND__FD_PIPE &&
		    f->fe->pipe) {
			f->ops = &files_pipe_ext_ops;
			f->stand_in = true;
			continue;
		}
		if (!in) {
			pr_err("file %u (%s) was external to the dumped tree: hand it in with "
			       "--inherit-fd fd[N]:%s", f->fe->id, f->fe->external,
			       f->fe->external);
			ret = -ENOENT;
			continue;
		}
		if (f->fe->pipe && f->fe->pipe->data_len)
			pr_warn("file %u (%s): the %" PRIu64 " bytes queued in it at dump are not "
				"put into fd %d handed in with --inherit-fd", f->fe->id,
				f->fe->external, f->fe->pipe->data_len, in->fd);
		in->used = true;
		f->inherited = true;
		f->ctl_fd = in->fd;
		f->ready = true;   /* the caller's file, as it is */
	}
	for (size_t k = 0; k < r->nr_inh; k++) {
		if (!r->inh[k].used) {
			pr_err("--inherit-fd fd[%d]:%s: no external file of the images has key %s",
			       r->inh[k].fd, r->inh[k].key, r->inh[k].key);
			ret = -ENOENT;
		}
	}
	return ret;
}

/* minicr holds every open file of the tree until the install is done. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			pr_warn("cannot raise minicr's RLIMIT_NOFILE to %llu: %s",
				(unsigned long long)rl.rlim_max, errstr(-errno));
	}
}

int files_rst_init(int dirfd, const char *const *specs, size_t nr_specs)
{
	struct files_rst *r;
	int ret;

	files_rst_fini();
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dirfd = dirfd;
	r->self_pidfd = -1;
	ret = read_inventory(r);
	if (!ret)
		ret = read_files_img(r);
	if (!ret)
		ret = resolve_inherit(r, specs, nr_specs);
	if (ret)
		goto fail;
	r->self_pidfd = pidfd_open_(getpid());
	if (r->self_pidfd < 0) {
		ret = -errno;
		pr_err("pidfd_open of minicr itself: %s", errstr(ret));
		goto fail;
	}
	raise_nofile();
	rst = r;
	pr_debug("%zu open files in files.img; images %s this boot", r->nr_files,
		 r->same_host ? "from" : "not from");
	return 0;
fail:
	rst = r;
	files_rst_fini();
	return ret;
}

void files_rst_fini(void)
{
	struct files_rst *r = rst;

	if (!r)
		return;
	for (size_t i = 0; i < r->nr_files; i++) {
		/* An inherited fd is the caller's: left open. */
		if (r->files[i].ctl_fd >= 0 && !r->files[i].inherited)
			close(r->files[i].ctl_fd);
		protobuf_c_message_free_unpacked(&r->files[i].fe->base, NULL);
	}
	free(r->files);
	free(r->inh);
	if (r->self_pidfd >= 0)
		close(r->self_pidfd);
	free(r);
	rst = NULL;
}

pid_t files_rst_root_pid(const struct files_rst *r)
{
	return r->nr_tasks ? r->tasks[0].pid : 0;
}

bool files_rst_same_host(const struct files_rst *r)
{
	return r->same_host;
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

/* The recorded owner as minicr sees it now, 0 if no restored task has
 * it. A process group is found through a member: its leader may have been
 * a helper that is gone. */
static pid_t owner_now(const struct files_rst *r, const FileOwner *o)
{
	for (size_t i = 0; i < r->nr_tasks; i++) {
		const struct rst_task *t = &r->tasks[i];

		if (!t->core)
			continue;
		if (o->type == FILE_OWNER_TYPE__OWNER_PID && t->pe->pid == o->pid)
			return t->pid;
		if (o->type == FILE_OWNER_TYPE__OWNER_PGRP && t->pe->pgid == o->pid)
			return getpgid(t->pid);
		for (size_t k = 0; o->type == FILE_OWNER_TYPE__OWNER_TID &&
		     k < t->pe->n_threads && k < t->nr_tids; k++)
			if (t->pe->threads[k] == o->pid)
				return t->tids[k];
	}
	return 0;
}

/* F_SETSIG and F_SETOWN_EX on minicr's fd, before O_ASYNC is set. The
 * owner records minicr's uid/euid (root) for the SIGIO permission check,
 * not those of whoever set it at dump time, which the kernel does not
 * show. */
static int set_owner(const struct files_rst *r, const FileEntry *fe, int fd, const char *who)
{
	struct f_owner_ex o = { 0 };
	int ret;

	if (fe->has_signum && fe->signum && fcntl(fd, F_SETSIG, (int)fe->signum) < 0) {
		ret = -errno;
		pr_err("%s: file %u (%s): F_SETSIG %u: %s", who, fe->id, fe->path ? fe->path : "?",
		       fe->signum, errstr(ret));
		return ret;
	}
	if (!fe->owner)
		return 0;
	o.type = (enum __pid_type)fe->owner->type;
	o.pid = owner_now(r, fe->owner);
	if (o.pid <= 0) {
		pr_err("%s: file %u (%s): its F_SETOWN owner (type %d, %d) is not a restored task",
		       who, fe->id, fe->path ? fe->path : "?", (int)fe->owner->type, fe->owner->pid);
		return -ESRCH;
	}
	if (fcntl(fd, F_SETOWN_EX, &o) < 0) {
		ret = -errno;
		pr_err("%s: file %u (%s): F_SETOWN_EX(type %d, %d): %s", who, fe->id,
		       fe->path ? fe->path : "?", o.type, o.pid, errstr(ret));
		return ret;
	}
	return 0;
}

/* minicr's fd for f, opened by its kind on first use, with the recorded
 * position and status flags (both belong to the open file description, so
 * the task sees them). */
/* OFD locks (and flocks of older images) belong to the open file
 * description: minicr takes them on its own fd, and the task's fds share
 * them. */
static int take_file_locks(const FileEntry *fe, int fd, const char *who)
{
	for (size_t i = 0; i < fe->n_locks; i++) {
		const FileLockEntry *le = fe->locks[i];
		struct flock fl = { .l_type = le->write ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET,
				    .l_start = le->start, .l_len = le->len };
		int r;

		if (le->kind == FILE_LOCK_KIND__LOCK_FLOCK && le->has_owner)
			continue;   /* taken by its task: take_task_locks() */
		if (le->kind == FILE_LOCK_KIND__LOCK_FLOCK)
			r = flock(fd, (le->write ? LOCK_EX : LOCK_SH) | LOCK_NB);
		else if (le->kind == FILE_LOCK_KIND__LOCK_OFD)
			r = fcntl(fd, F_OFD_SETLK, &fl);
		else
			continue;
		if (r < 0) {
			r = -errno;
			pr_err("%s: file %u (%s): cannot take its %s %s lock again%s: %s", who, fe->id,
			       fe->path ? fe->path : "?",
			       le->kind == FILE_LOCK_KIND__LOCK_FLOCK ? "flock" : "OFD",
			       le->write ? "write" : "read",
			       r == -EWOULDBLOCK || r == -EAGAIN ? " (someone else holds one now)" : "",
			       errstr(r));
			return r;
		}
	}
	return 0;
}

/* minicr's fd for f, opened by its kind on first use, with the recorded
 * position, status flags and locks (all belong to the open file
 * description, so the task sees them). who names the user for messages. */
static int ctl_fd(struct files_rst *r, struct rst_file *f, const char *who)
{
	const FileEntry *fe = f->fe;
	int fl, ret;

	if (f->ready)
		return f->ctl_fd;
	/* Not opened yet, or stashed by the open() of another file. */
	if (f->ctl_fd < 0) {
		ret = f->ops->open(r, fe);
		if (ret < 0) {
			pr_err("%s: cannot open file %u (%s, %s): %s", who, fe->id,
			       fe->path ? fe->path : "?", f->ops->name, errstr(ret));
			return ret;
		}
		f->ctl_fd = ret;
	}
	if (fe->has_pos && fe->pos && lseek(f->ctl_fd, fe->pos, SEEK_SET) != (off_t)fe->pos) {
		ret = -errno;
		pr_err("%s: file %u (%s): lseek to %" PRIu64 ": %s", who, fe->id,
		       fe->path ? fe->path : "?", fe->pos, errstr(ret ? ret : -EIO));
		return ret ? ret : -EIO;
	}
	ret = set_owner(r, fe, f->ctl_fd, who);
	if (ret)
		return ret;
	/* O_ASYNC is set by the task (set_async()); off here, so that an open()
	 * that set it leaves no SIGIO registration under minicr's fd. */
	fl = fcntl(f->ctl_fd, F_GETFL);
	if (fl >= 0 && (fl & SETFL_MASK) != (int)(fe->flags & SETFL_MASK & ~O_ASYNC))
		fl = fcntl(f->ctl_fd, F_SETFL,
			   (fl & ~SETFL_MASK) | (fe->flags & SETFL_MASK & ~O_ASYNC));
	if (fl < 0) {
		ret = -errno;
		pr_err("%s: file %u (%s): status flags 0%o: %s", who, fe->id,
		       fe->path ? fe->path : "?", fe->flags & SETFL_MASK, errstr(ret));
		return ret;
	}
	ret = take_file_locks(fe, f->ctl_fd, who);
	if (ret)
		return ret;
	f->ready = true;
	return f->ctl_fd;
}

int files_rst_open_id(struct files_rst *r, uint32_t id)
{
	struct rst_file *f = find_file(r, id);
	char who[48];

	if (!f) {
		pr_err("file %u: not in files.img", id);
		return -EINVAL;
	}
	snprintf(who, sizeof(who), "file %u", id);
	return ctl_fd(r, f, who);
}

struct task_fds {
	FdEntry **e;
	size_t nr;
};

static void task_fds_free(struct task_fds *t)
{
	for (size_t i = 0; i < t->nr; i++)
		protobuf_c_message_free_unpacked(&t->e[i]->base, NULL);
	free(t->e);
}

static int read_fds_img(struct files_rst *r, pid_t img_pid, struct task_fds *t)
{
	ProtobufCMessage *msg = NULL;
	char name[NAME_MAX + 1];
	struct img_reader ir;
	size_t cap = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = img_file_name(IMG_FDS, img_pid, name, sizeof(name));
	if (ret)
		return ret;
	/* A live task always has an fds image, possibly empty: its absence
	 * is a broken image set, not "no files". img_reader_open() logs. */
	ret = img_reader_open(r->dirfd, name, &img_types[IMG_FDS], &ir);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&ir, &msg)) == 1) {
		FdEntry *e = (FdEntry *)msg;

		if (t->nr == cap) {
			size_t nc = cap ? cap * 2 : 16;
			FdEntry **ne = realloc(t->e, nc * sizeof(*ne));

			if (!ne) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
			t->e = ne;
			cap = nc;
		}
		t->e[t->nr++] = e;
		if (e->fd < 0 || !find_file(r, e->file_id)) {
			pr_err("%s: fd %d refers to file %u, %s", name, e->fd, e->file_id,
			       e->fd < 0 ? "with a negative number" : "which files.img lacks");
			ret = -EINVAL;
			break;
		}
		/* A second entry for a number would silently replace the first
		 * through dup3(). */
		for (size_t i = 0; i + 1 < t->nr; i++) {
			if (t->e[i]->fd == e->fd) {
				pr_err("%s: fd %d recorded twice", name, e->fd);
				ret = -EINVAL;
				break;
			}
		}
		if (ret < 0)
			break;
	}
	img_reader_close(&ir);
	if (ret)
		task_fds_free(t);
	return ret;
}

static bool fd_recorded(const struct task_fds *t, long fd)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->e[i]->fd == fd)
			return true;
	return false;
}

/* Pull minicr's ctl into the task as fd (pidfd is minicr's pidfd there). */
static int install_one(struct rst_call *c, long pidfd, const FdEntry *e, int ctl)
{
	char what[128];
	long got, r;

	snprintf(what, sizeof(what), "fd %d: pidfd_getfd(minicr, %d)", e->fd, ctl);
	got = rst_call(c, what, __NR_pidfd_getfd, pidfd, ctl, 0, 0, 0, 0);
	if (got < 0)
		return got;
	if (got == e->fd) {
		/* pidfd_getfd() always sets FD_CLOEXEC. */
		if (e->cloexec)
			return 0;
		snprintf(what, sizeof(what), "fd %d: fcntl(F_SETFD, 0)", e->fd);
		r = rst_call(c, what, __NR_fcntl, got, F_SETFD, 0, 0, 0, 0);
		return r < 0 ? r : 0;
	}
	snprintf(what, sizeof(what), "fd %d: dup3(%ld, %d)", e->fd, got, e->fd);
	r = rst_call(c, what, __NR_dup3, got, e->fd, e->cloexec ? O_CLOEXEC : 0, 0, 0, 0);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "fd %d: close(%ld) after dup3", e->fd, got);
	r = rst_call(c, what, __NR_close, got, 0, 0, 0, 0, 0);
	return r < 0 ? r : 0;
}

/* O_ASYNC, in the first task that installs the file, through its fd: the
 * kernel's SIGIO registration (fasync) keeps the fd number it was set
 * through, which the signal carries in si_fd (F_SETSIG). */
static int set_async(struct files_rst *r, struct rst_call *c, const struct task_fds *t)
{
	char what[160];
	long ret;

	for (size_t i = 0; i < t->nr; i++) {
		struct rst_file *f = find_file(r, t->e[i]->file_id);

		if (f->async_set || !(f->fe->flags & O_ASYNC))
			continue;
		f->async_set = true;
		snprintf(what, sizeof(what), "fd %d (%s): fcntl(F_SETFL, 0%o)", t->e[i]->fd,
			 f->fe->path ? f->fe->path : "?", f->fe->flags & SETFL_MASK);
		ret = rst_call(c, what, __NR_fcntl, t->e[i]->fd, F_SETFL,
			       f->fe->flags & SETFL_MASK, 0, 0, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* POSIX locks belong to the process: the task takes them itself, through
 * one of its fds of the file, once per file. So are flocks (of the open
 * file description), so that /proc/locks names the task that took them,
 * not minicr. */
static int take_task_locks(struct files_rst *r, struct rst_call *c, pid_t img_pid,
			    const struct task_fds *t)
{
	_cleanup_free_ bool *done = calloc(r->nr_files + 1, sizeof(*done));
	char what[160];
	long ret;

	if (!done)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++) {
		struct rst_file *f = find_file(r, t->e[i]->file_id);

		if (f->fe->has_lease_fd && f->fe->lease_owner == img_pid &&
		    f->fe->lease_fd == t->e[i]->fd) {
			snprintf(what, sizeof(what), "fd %d (%s): fcntl(F_SETLEASE, %s)", t->e[i]->fd,
				 f->fe->path ? f->fe->path : "?", f->fe->lease_write ? "F_WRLCK" : "F_RDLCK");
			ret = rst_call(c, what, __NR_fcntl, t->e[i]->fd, F_SETLEASE,
				       f->fe->lease_write ? F_WRLCK : F_RDLCK, 0, 0, 0);
			if (ret < 0)
				return ret;
		}
		if (done[f - r->files])
			continue;
		done[f - r->files] = true;
		for (size_t k = 0; k < f->fe->n_locks; k++) {
			const FileLockEntry *le = f->fe->locks[k];
			struct flock fl = { .l_type = le->write ? F_WRLCK : F_RDLCK,
					    .l_whence = SEEK_SET, .l_start = le->start,
					    .l_len = le->len };

			if ((le->kind != FILE_LOCK_KIND__LOCK_POSIX &&
			     le->kind != FILE_LOCK_KIND__LOCK_FLOCK) || !le->has_owner ||
			    le->owner != img_pid)
				continue;
			if (le->kind == FILE_LOCK_KIND__LOCK_FLOCK) {
				snprintf(what, sizeof(what), "fd %d (%s): flock(%s)", t->e[i]->fd,
					 f->fe->path ? f->fe->path : "?",
					 le->write ? "LOCK_EX" : "LOCK_SH");
				ret = rst_call(c, what, __NR_flock, t->e[i]->fd,
					       (le->write ? LOCK_EX : LOCK_SH) | LOCK_NB, 0, 0, 0, 0);
				if (ret < 0)
					return ret;
				continue;
			}
			ret = rst_call_put(c, 0, &fl, sizeof(fl));
			if (ret)
				return ret;
			snprintf(what, sizeof(what), "fd %d (%s): fcntl(F_SETLK, %s %" PRIu64 "+%"
				 PRIu64 ")", t->e[i]->fd, f->fe->path ? f->fe->path : "?",
				 le->write ? "write" : "read", le->start, le->len);
			ret = rst_call(c, what, __NR_fcntl, t->e[i]->fd, F_SETLK, rst_scratch(c, 0),
				       0, 0, 0);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* Once per fd: the user learns which fds lost their outside peer and how
 * to connect them instead. */
static void warn_stand_in(const FileEntry *fe, pid_t pid, pid_t img_pid, int fd)
{
	char at_dump[32] = "";

	if (pid != img_pid)
		snprintf(at_dump, sizeof(at_dump), " (%d at dump)", img_pid);
	pr_warn("task %d%s: fd %d (%s) was external: it gets a new pipe whose other end is "
		"closed (%s); restore --inherit-fd fd[N]:%s would connect it to an fd N of the "
		"caller instead", pid, at_dump, fd, fe->external,
		(fe->flags & O_ACCMODE) == O_RDONLY ? "reads give EOF once the recorded bytes are read"
						    : "writes fail with EPIPE",
		fe->external);
}

int files_rst_task(struct rst_call *c, pid_t img_pid)
{
	struct files_rst *r = rst;
	pid_t pid = c->t->pid;
	struct task_fds t;
	long pidfd, q;
	int ret;

	if (!r) {
		pr_err("task %d: files_rst_init() was not called", pid);
		return -EINVAL;
	}
	ret = read_fds_img(r, img_pid, &t);
	if (ret)
		return ret;
	/* Everything is opened in minicr first: a file that is gone or
	 * changed fails here, before the task loses anything. */
	for (size_t i = 0; i < t.nr; i++) {
		struct rst_file *f = find_file(r, t.e[i]->file_id);
		char who[64];

		snprintf(who, sizeof(who), "task %d: fd %d", pid, t.e[i]->fd);
		ret = ctl_fd(r, f, who);
		if (ret < 0)
			goto out;
		if (f->stand_in)
			warn_stand_in(f->fe, pid, img_pid, t.e[i]->fd);
	}
	/* The task inherited minicr's fds, among them the pidfd at the same
	 * number; move it off the recorded numbers, then close the rest. */
	pidfd = r->self_pidfd;
	q = pidfd;
	if (fd_recorded(&t, q))
		for (q = 0; fd_recorded(&t, q); q++)
			;
	if (q != pidfd) {
		ret = rst_call(c, "dup3 of minicr's pidfd", __NR_dup3, pidfd, q, O_CLOEXEC,
			       0, 0, 0);
		if (ret < 0)
			goto out;
	}
	if (q > 0) {
		ret = rst_call(c, "close_range of the fds inherited from minicr",
			       __NR_close_range, 0, q - 1, 0, 0, 0, 0);
		if (ret < 0)
			goto out;
	}
	ret = rst_call(c, "close_range of the fds inherited from minicr", __NR_close_range,
		       q + 1, ~0U, 0, 0, 0, 0);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < t.nr; i++) {
		struct rst_file *f = find_file(r, t.e[i]->file_id);

		ret = install_one(c, q, t.e[i], f->ctl_fd);
		if (ret)
			goto out;
	}
	ret = rst_call(c, "close of minicr's pidfd", __NR_close, q, 0, 0, 0, 0, 0);
	if (ret < 0)
		goto out;
	ret = 0;
	for (size_t i = 0; i < t.nr && !ret; i++) {
		struct rst_file *f = find_file(r, t.e[i]->file_id);

		if (f->posted || !f->ops || !f->ops->post_install)
			continue;
		f->posted = true;
		ret = f->ops->post_install(r, c, f->fe, t.e[i]->fd, f->ctl_fd);
	}
	if (!ret)
		ret = set_async(r, c, &t);
	if (!ret)
		ret = take_task_locks(r, c, img_pid, &t);
	if (!ret)
		pr_debug("task %d: %zu fds installed", pid, t.nr);
out:
	task_fds_free(&t);
	return ret;
}
