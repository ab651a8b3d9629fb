/* eventfd, epoll, signalfd, timerfd (files_event.h).
 *
 * Time: a timerfd is re-armed for the time it had left when dumped, counted
 * from the restore (the tree was frozen in between; the clock went on), and
 * its pending expirations are set with TFD_IOC_SET_TICKS, so a read() gets
 * them. An absolute CLOCK_REALTIME timer keeps its wall-clock deadline. A
 * periodic timer that had expired with its ticks not read yet shows no
 * time left in fdinfo: its next expiration is put one period away. */
#include "files_event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fd-misc.pb-c.h"
#include "fdinfo_misc.h"
#include "log.h"
#include "rst_core_int.h"
#include "util.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static bool link_is(const struct fd_dump_info *fi, const char *name)
{
	return !strcmp(fi->link, name);
}

/* ---- eventfd ---- */

static bool eventfd_match(const struct fd_dump_info *fi)
{
	return link_is(fi, "anon_inode:[eventfd]");
}

static int eventfd_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	EventfdEntry *e;
	uint64_t count;
	int sem, ret;

	(void)d;
	ret = fdinfo_eventfd(fi->fdinfo, &count, &sem);
	if (ret) {
		pr_err("task %d: fd %d (eventfd): no valid eventfd-count in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	if (sem < 0) {
		/* Reading it would change it; only Linux 6.6+ shows it. */
		pr_err("task %d: fd %d (eventfd): this kernel does not show whether it is an "
		       "EFD_SEMAPHORE eventfd (fdinfo eventfd-semaphore, Linux 6.6+)", fi->pid, fi->fd);
		return -EOPNOTSUPP;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	eventfd_entry__init(e);
	e->counter = count;
	e->has_semaphore = 1;
	e->semaphore = sem;
	fe->eventfd = e;
	return 0;
}

static int eventfd_open(struct files_rst *r, const FileEntry *fe)
{
	const EventfdEntry *e = fe->eventfd;
	int fd, ret;

	(void)r;
	if (!e) {
		pr_err("file %u: eventfd without its eventfd entry in the image", fe->id);
		return -EINVAL;
	}
	if (e->counter == UINT64_MAX) {
		pr_err("file %u: eventfd counter 0x%" PRIx64 " is not a valid value", fe->id,
		       e->counter);
		return -EINVAL;
	}
	/* eventfd() takes an unsigned int: the counter is written instead. */
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (e->semaphore ? EFD_SEMAPHORE : 0));
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: eventfd(): %s", fe->id, errstr(ret));
		return ret;
	}
	if (e->counter) {
		ret = write_all(fd, &e->counter, sizeof(e->counter));
		if (ret) {
			pr_err("file %u: cannot set the eventfd counter to %" PRIu64 ": %s", fe->id,
			       e->counter, errstr(ret));
			close(fd);
			return ret;
		}
	}
	return fd;
}

const struct file_ops files_eventfd_ops = {
	.kind = FD_KIND__FD_EVENTFD,
	.name = "eventfd",
	.match = eventfd_match,
	.dump = eventfd_dump,
	.open = eventfd_open,
};

/* ---- signalfd ---- */

static bool signalfd_match(const struct fd_dump_info *fi)
{
	return link_is(fi, "anon_inode:[signalfd]");
}

static int signalfd_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	SignalfdEntry *e;
	uint64_t mask;
	int ret;

	(void)d;
	ret = fdinfo_signalfd(fi->fdinfo, &mask);
	if (ret) {
		pr_err("task %d: fd %d (signalfd): no valid sigmask in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	signalfd_entry__init(e);
	e->sigmask = mask;
	fe->signalfd = e;
	return 0;
}

static int signalfd_open(struct files_rst *r, const FileEntry *fe)
{
	uint64_t mask;
	int fd, ret;

	(void)r;
	if (!fe->signalfd) {
		pr_err("file %u: signalfd without its signalfd entry in the image", fe->id);
		return -EINVAL;
	}
	mask = fe->signalfd->sigmask;
	/* The kernel's sigset_t is 8 bytes; glibc's is 128. */
	fd = syscall(SYS_signalfd4, -1, &mask, sizeof(mask), SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: signalfd(mask 0x%" PRIx64 "): %s", fe->id, mask, errstr(ret));
		return ret;
	}
	return fd;
}

const struct file_ops files_signalfd_ops = {
	.kind = FD_KIND__FD_SIGNALFD,
	.name = "signalfd",
	.match = signalfd_match,
	.dump = signalfd_dump,
	.open = signalfd_open,
};

/* ---- timerfd ---- */

static bool timerfd_match(const struct fd_dump_info *fi)
{
	return link_is(fi, "anon_inode:[timerfd]");
}

static bool abs_realtime(int clockid, unsigned int flags)
{
	return (flags & TFD_TIMER_ABSTIME) &&
	       (clockid == CLOCK_REALTIME || clockid == CLOCK_REALTIME_ALARM);
}

static int timerfd_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	struct fdinfo_timerfd t;
	TimerfdEntry *e;
	int ret;

	(void)d;
	ret = fdinfo_timerfd(fi->fdinfo, &t);
	if (ret) {
		pr_err("task %d: fd %d (timerfd): no valid timer state in /proc/%d/fdinfo/%d",
		       fi->pid, fi->fd, fi->pid, fi->fd);
		return ret;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	timerfd_entry__init(e);
	e->clockid = t.clockid;
	e->ticks = t.ticks;
	e->settime_flags = t.settime_flags;
	e->value_sec = t.value_sec;
	e->value_nsec = t.value_nsec;
	e->interval_sec = t.interval_sec;
	e->interval_nsec = t.interval_nsec;
	if (abs_realtime(t.clockid, t.settime_flags) && (t.value_sec || t.value_nsec)) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		e->has_deadline_sec = e->has_deadline_nsec = 1;
		e->deadline_sec = now.tv_sec + t.value_sec;
		e->deadline_nsec = now.tv_nsec + t.value_nsec;
		if (e->deadline_nsec >= 1000000000) {
			e->deadline_sec++;
			e->deadline_nsec -= 1000000000;
		}
	}
	fe->timerfd = e;
	return 0;
}

static int timerfd_open(struct files_rst *r, const FileEntry *fe)
{
	const TimerfdEntry *e = fe->timerfd;
	struct itimerspec its = { 0 };
	int fd, flags = 0, ret;

	(void)r;
	if (!e) {
		pr_err("file %u: timerfd without its timerfd entry in the image", fe->id);
		return -EINVAL;
	}
	fd = timerfd_create(e->clockid, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: timerfd_create(clock %d): %s", fe->id, e->clockid, errstr(ret));
		return ret;
	}
	its.it_interval.tv_sec = e->interval_sec;
	its.it_interval.tv_nsec = e->interval_nsec;
	if (e->has_deadline_sec && abs_realtime(e->clockid, e->settime_flags)) {
		flags = e->settime_flags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
		its.it_value.tv_sec = e->deadline_sec;
		its.it_value.tv_nsec = e->deadline_nsec;
	} else if (e->value_sec || e->value_nsec) {
		its.it_value.tv_sec = e->value_sec;
		its.it_value.tv_nsec = e->value_nsec;
	} else {
		/* Disarmed, or periodic and expired (fdinfo shows no time left
		 * until the ticks are read): next expiration one period away. */
		its.it_value = its.it_interval;
	}
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) &&
	    timerfd_settime(fd, flags, &its, NULL) < 0) {
		ret = -errno;
		pr_err("file %u: timerfd_settime(clock %d, %lld.%09ld s, period %lld.%09ld s): %s",
		       fe->id, e->clockid, (long long)its.it_value.tv_sec, its.it_value.tv_nsec,
		       (long long)its.it_interval.tv_sec, its.it_interval.tv_nsec, errstr(ret));
		goto err;
	}
	if (e->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &e->ticks) < 0) {
		ret = -errno;
		pr_err("file %u: TFD_IOC_SET_TICKS(%" PRIu64 ") for the expirations not read yet "
		       "(needs CONFIG_CHECKPOINT_RESTORE): %s", fe->id, e->ticks, errstr(ret));
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

const struct file_ops files_timerfd_ops = {
	.kind = FD_KIND__FD_TIMERFD,
	.name = "timerfd",
	.match = timerfd_match,
	.dump = timerfd_dump,
	.open = timerfd_open,
};

/* ---- epoll ---- */

static bool epoll_match(const struct fd_dump_info *fi)
{
	return link_is(fi, "anon_inode:[eventpoll]");
}

/* fdinfo's sdev is the kernel's dev_t (major << 20 | minor). */
static bool same_dev(uint32_t kdev, dev_t dev)
{
	return (kdev >> 20) == major(dev) && (kdev & 0xfffff) == minor(dev);
}

/* A watch names its file by fd number: the fd must still be open in the
 * holder on that same file, or epoll_ctl() at restore would watch another
 * file (or none). */
static int check_target(const struct fd_dump_info *fi, const struct fdinfo_tfd *t)
{
	char path[64];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", fi->pid, t->tfd);
	if (stat(path, &st) < 0) {
		ret = -errno;
		pr_err("task %d: fd %d (epoll) watches fd %d, which %s: minicr can restore only "
		       "watches of fds that are still open: %s", fi->pid, fi->fd, t->tfd,
		       ret == -ENOENT ? "is closed" : "cannot be checked", errstr(ret));
		return ret == -ENOENT ? -EOPNOTSUPP : ret;
	}
	if (st.st_ino != t->ino || !same_dev(t->sdev, st.st_dev)) {
		pr_err("task %d: fd %d (epoll) watches a file (inode %" PRIu64 ") that fd %d no "
		       "longer refers to (it was closed and the number reused); minicr cannot "
		       "restore that watch", fi->pid, fi->fd, t->ino, t->tfd);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int epoll_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	_cleanup_free_ struct fdinfo_tfd *t = NULL;
	EpollEntry *e;
	size_t nr = 0;
	int ret;

	(void)d;
	ret = fdinfo_epoll(fi->fdinfo, &t, &nr);
	if (ret) {
		pr_err("task %d: fd %d (epoll): malformed tfd line in /proc/%d/fdinfo/%d: %s",
		       fi->pid, fi->fd, fi->pid, fi->fd, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < nr; i++) {
		ret = check_target(fi, &t[i]);
		if (ret)
			return ret;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	epoll_entry__init(e);
	fe->epoll = e;      /* freed with fe from here on */
	if (!nr)
		return 0;
	e->tfds = calloc(nr, sizeof(*e->tfds));
	if (!e->tfds)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		EpollTfdEntry *te = malloc(sizeof(*te));

		if (!te)
			return -ENOMEM;
		epoll_tfd_entry__init(te);
		te->tfd = t[i].tfd;
		te->events = t[i].events;
		te->data = t[i].data;
		te->has_ino = te->has_sdev = 1;
		te->ino = t[i].ino;
		te->sdev = t[i].sdev;
		e->tfds[e->n_tfds++] = te;
	}
	return 0;
}

static int epoll_open(struct files_rst *r, const FileEntry *fe)
{
	int fd, ret;

	(void)r;
	if (!fe->epoll) {
		pr_err("file %u: epoll without its epoll entry in the image", fe->id);
		return -EINVAL;
	}
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("file %u: epoll_create1(): %s", fe->id, errstr(ret));
		return ret;
	}
	return fd;
}

static int epoll_post_install(struct files_rst *r, struct rst_call *c, const FileEntry *fe,
			      int task_fd, int ctl_fd)
{
	const EpollEntry *e = fe->epoll;
	char what[128];
	long ret;

	(void)r;
	(void)ctl_fd;
	for (size_t i = 0; i < e->n_tfds; i++) {
		const EpollTfdEntry *te = e->tfds[i];
		struct epoll_event ev = { .events = te->events, .data.u64 = te->data };

		ret = rst_call_put(c, 0, &ev, sizeof(ev));
		if (ret)
			return ret;
		snprintf(what, sizeof(what), "fd %d (epoll): epoll_ctl(ADD, fd %d, events 0x%x)",
			 task_fd, te->tfd, te->events);
		ret = rst_call(c, what, __NR_epoll_ctl, task_fd, EPOLL_CTL_ADD, te->tfd,
			       rst_scratch(c, 0), 0, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

const struct file_ops files_epoll_ops = {
	.kind = FD_KIND__FD_EPOLL,
	.name = "epoll",
	.match = epoll_match,
	.dump = epoll_dump,
	.open = epoll_open,
	.post_install = epoll_post_install,
};
