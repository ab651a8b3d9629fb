/* pidfds (files_notify.h). The holder's fdinfo "Pid:" is the PID in the
 * namespace of minicr's /proc, which is how pstree.img records the tree. */
#include "files_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd-notify.pb-c.h"
#include "fdinfo_notify.h"
#include "log.h"
#include "pstree.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static bool pidfd_match(const struct fd_dump_info *fi)
{
	return !strcmp(fi->link, "anon_inode:[pidfd]");
}

/* The tree's task whose thread tid is (leader included), NULL if none. */
static const struct pstree_task *task_of_tid(const struct pstree *tree, pid_t tid)
{
	for (size_t i = 0; i < tree->nr_tasks; i++)
		for (size_t j = 0; j < tree->tasks[i]->nr_tids; j++)
			if (tree->tasks[i]->tids[j] == tid)
				return tree->tasks[i];
	return NULL;
}

static int pidfd_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	bool thread = fi->flags & PIDFD_THREAD;
	const struct pstree_task *t;
	PidfdEntry *e;
	int pid, ret;

	ret = fdinfo_pidfd(fi->fdinfo, &pid);
	if (ret) {
		pr_err("task %d: fd %d (pidfd): no valid Pid: line in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	if (pid <= 0) {
		pr_err("task %d: fd %d is a pidfd of a process %s; minicr restores only pidfds "
		       "of tasks of the dumped tree", fi->pid, fi->fd,
		       pid < 0 ? "that has exited and been reaped" :
				 "outside minicr's PID namespace");
		return -EOPNOTSUPP;
	}
	t = thread ? task_of_tid(files_dump_tree(d), pid) : pstree_find(files_dump_tree(d), pid);
	/* A zombie is restored as one (its exit status kept), so its
	 * pidfd can be made again; its threads are gone. */
	if (!t || (t->zombie && thread)) {
		pr_err("task %d: fd %d is a pidfd of %s %d, %s; minicr restores only pidfds of "
		       "tasks of the dumped tree", fi->pid, fi->fd, thread ? "thread" : "process",
		       pid, t ? "a thread of a zombie" : "which is outside the dumped tree");
		return -EOPNOTSUPP;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	pidfd_entry__init(e);
	e->pid = pid;
	e->has_thread = thread;
	e->thread = thread;
	fe->pidfd = e;
	return 0;
}

static int pidfd_open_hook(struct files_rst *r, const FileEntry *fe)
{
	const PidfdEntry *e = fe->pidfd;
	pid_t now;
	int fd, ret;

	if (!e) {
		pr_err("file %u: pidfd without its pidfd entry in the image", fe->id);
		return -EINVAL;
	}
	now = files_rst_pid_now(r, e->pid, e->thread);
	if (!now) {
		pr_err("file %u: pidfd of %s %d, which is not a task of the restored tree",
		       fe->id, e->thread ? "thread" : "process", e->pid);
		return -ESRCH;
	}
	fd = syscall(SYS_pidfd_open, now, e->thread ? PIDFD_THREAD : 0);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: pidfd_open(%d, restored as %d%s): %s", fe->id, e->pid, now,
		       e->thread ? ", PIDFD_THREAD" : "", errstr(ret));
		return ret;
	}
	return fd;
}

const struct file_ops files_pidfd_ops = {
	.kind = FD_KIND__FD_PIDFD,
	.name = "pidfd",
	.match = pidfd_match,
	.dump = pidfd_dump,
	.open = pidfd_open_hook,
};
