#include "files_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "rst_core_int.h"
#include "tty.pb-c.h"
#include "util.h"

static bool shell_job;

void files_tty_set_shell_job(bool on)
{
	shell_job = on;
}

/* ---- pure ---- */

bool files_tty_rdev(dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	/* 4: virtual consoles and serial ports; 5: /dev/tty, /dev/console,
	 * /dev/ptmx; 128-135: pty masters; 136-143: pty slaves (/dev/pts/N). */
	return ma == 4 || (ma == 5 && mi <= 2) || (ma >= 128 && ma <= 143);
}

int files_tty_stat_parse(const char *stat, int *tty_nr, int *tpgid)
{
	const char *s = strrchr(stat, ')');
	int n = 0;

	/* after the comm: state ppid pgrp session tty_nr tpgid */
	if (!s || sscanf(s + 1, " %*c %*d %*d %*d %d %d%n", tty_nr, tpgid, &n) != 2 || !n)
		return -EINVAL;
	return 0;
}

bool files_tty_is_nr(dev_t rdev, int tty_nr)
{
	/* tty_nr is the kernel's new_encode_dev(): minor bits 0-7 and 20-31,
	 * major bits 8-19. */
	unsigned int v = (unsigned int)tty_nr;
	unsigned int ma = (v >> 8) & 0xfff, mi = (v & 0xff) | ((v >> 12) & 0xfff00);

	return tty_nr != 0 && major(rdev) == ma && minor(rdev) == mi;
}

/* ---- dump ---- */

static bool tty_match(const struct fd_dump_info *fi)
{
	return S_ISCHR(fi->st.st_mode) && files_tty_rdev(fi->st.st_rdev);
}

static int tty_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	_cleanup_free_ char *stat = NULL;
	bool is_dev_tty = major(fi->st.st_rdev) == 5 && minor(fi->st.st_rdev) == 0;
	int tty_nr, tpgid, ret;
	char path[64];
	TtyEntry *e;

	(void)d;
	if (!shell_job) {
		pr_err("task %d: fd %d is the terminal %s; if the tree is a job started from a "
		       "shell, dump it with --shell-job (and restore with --shell-job)",
		       fi->pid, fi->fd, fi->link);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", fi->pid);
	ret = read_file(path, 4096, &stat, NULL);
	if (!ret)
		ret = files_tty_stat_parse(stat, &tty_nr, &tpgid);
	if (ret) {
		pr_err("task %d: fd %d (%s): cannot read its controlling terminal from %s: %s",
		       fi->pid, fi->fd, fi->link, path, errstr(ret));
		return ret;
	}
	if (!is_dev_tty && !files_tty_is_nr(fi->st.st_rdev, tty_nr)) {
		pr_err("task %d: fd %d is the terminal %s, which is not its controlling terminal%s; "
		       "--shell-job restores only fds on the job's controlling terminal",
		       fi->pid, fi->fd, fi->link, tty_nr ? "" : " (it has none)");
		return -EOPNOTSUPP;
	}
	if (is_dev_tty && !tty_nr) {
		pr_err("task %d: fd %d is /dev/tty but the task has no controlling terminal",
		       fi->pid, fi->fd);
		return -EOPNOTSUPP;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	tty_entry__init(e);
	fe->tty = e;         /* freed with fe from here on */
	e->path = strdup(fi->link);
	if (!e->path)
		return -ENOMEM;
	e->rdev = fi->st.st_rdev;
	e->has_ctty = 1;
	e->ctty = !is_dev_tty;
	if (tpgid > 0) {
		e->has_fg_pgrp = 1;
		e->fg_pgrp = tpgid;
	}
	return 0;
}

/* ---- restore ---- */

static int tty_open(struct files_rst *r, const FileEntry *fe)
{
	const TtyEntry *e = fe->tty;
	char link[PATH_MAX];
	const char *path;
	struct stat st;
	int fd, ret;
	ssize_t n;

	(void)r;
	if (!e) {
		pr_err("file %u: terminal without its tty entry in the image", fe->id);
		return -EINVAL;
	}
	if (!shell_job) {
		pr_err("file %u: the images hold the terminal %s of a shell job: restore with "
		       "--shell-job from a terminal", fe->id, e->path);
		return -EOPNOTSUPP;
	}
	if (e->has_ctty && !e->ctty) {
		path = "/dev/tty";
	} else {
		n = readlink("/proc/self/fd/0", link, sizeof(link) - 1);
		if (n < 0 || !isatty(0) || fstat(0, &st) < 0 || !S_ISCHR(st.st_mode)) {
			pr_err("file %u: --shell-job: minicr's stdin is not a terminal, so there is "
			       "no terminal to give the job in place of %s", fe->id, e->path);
			return -ENOTTY;
		}
		link[n] = '\0';
		path = link;
	}
	/* O_NOCTTY: minicr must not acquire it; the tree's session leader
	 * (if any) does, in tty_post_install(). */
	fd = open(path, (fe->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: --shell-job: cannot open %s in place of %s: %s", fe->id, path,
		       e->path, errstr(ret));
		return ret;
	}
	pr_info("file %u: terminal %s restored as %s", fe->id, e->path, path);
	return fd;
}

static int tty_post_install(struct files_rst *r, struct rst_call *c, const FileEntry *fe,
			    int task_fd, int ctl_fd)
{
	const TtyEntry *e = fe->tty;
	const PstreeEntry *pe = c->t->pe;
	char what[96];
	int32_t pgrp;
	long ret;

	(void)r;
	(void)ctl_fd;
	if (!e->ctty)
		return 0;
	if (pe->sid == pe->pid) {
		snprintf(what, sizeof(what), "fd %d (terminal): ioctl(TIOCSCTTY)", task_fd);
		ret = rst_call(c, what, __NR_ioctl, task_fd, TIOCSCTTY, 0, 0, 0, 0);
		if (ret == -EPERM)
			pr_err("task %d leads a session of the tree and had %s as its controlling "
			       "terminal; the terminal it gets instead is already the controlling "
			       "terminal of another session (minicr's, or its shell's)", c->t->pid,
			       e->path);
		if (ret < 0)
			return ret;
	}
	/* Only a group of the tree can be made the foreground: its leader is
	 * this task. Signals are blocked during remote calls, so a background
	 * caller gets no SIGTTOU. */
	if (e->has_fg_pgrp && e->fg_pgrp == pe->pid && pe->pgid == pe->pid) {
		pgrp = c->t->pid;
		ret = rst_call_put(c, 0, &pgrp, sizeof(pgrp));
		if (ret)
			return ret;
		snprintf(what, sizeof(what), "fd %d (terminal): ioctl(TIOCSPGRP, %d)", task_fd, pgrp);
		ret = rst_call(c, what, __NR_ioctl, task_fd, TIOCSPGRP, rst_scratch(c, 0), 0, 0, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

const struct file_ops files_tty_ops = {
	.kind = FD_KIND__FD_TTY,
	.name = "terminal",
	.match = tty_match,
	.dump = tty_dump,
	.open = tty_open,
	.post_install = tty_post_install,
};
