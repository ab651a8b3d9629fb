/* minicr-test-notify MODE DIR: self-checking holders of inotify, fanotify
 * and pidfd files for tests/cr/scenarios/notify-*.sh. Each writes DIR/ready
 * once set up, then appends one line per observed event to DIR/log (and
 * "BAD ..." lines for anything wrong), so the scenario only has to poke
 * the files or the child and grep the log.
 *
 *   inotify   watches DIR/a, DIR/b, DIR/c (IN_MODIFY), then removes b's:
 *             wds 1 and 3 with a gap. Logs "wd W NAME" per event, NAME
 *             from the wd -> file table it built, "BAD wd W" if W is not
 *             in it.
 *   fanotify  marks DIR/f (FAN_MODIFY, inode mark) and, if they exist,
 *             the mount DIR/mnt (FAN_MARK_MOUNT) and the filesystem of
 *             DIR/fs (FAN_MARK_FILESYSTEM) for FAN_CLOSE_WRITE; logs "fan
 *             PATH" with the path of each event's fd.
 *   pidfd     forks a child that pauses and a thread; holds a pidfd of the
 *             child (PIDFD_NONBLOCK) and a PIDFD_THREAD pidfd of the
 *             thread. Every 50 ms signals the thread through its pidfd
 *             (the thread logs "BAD" if it is not the thread the pidfd was
 *             opened on, or leaves it pending in the main thread) and polls the child's pidfd; once the child is
 *             gone it logs "child exit sig S" from waitid(P_PIDFD). Also
 *             "BAD" if the child's pidfd lost O_NONBLOCK. A first child
 *             exits 7 at once and stays a zombie, the parent holding a
 *             pidfd of it, until DIR/reap appears: then the parent reaps
 *             it through that pidfd and logs "zombie exit 7 code 1"
 *             (CLD_EXITED). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *dir;

static void logf_(const char *fmt, ...)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/log", dir);
	f = fopen(path, "a");
	if (!f)
		_exit(3);
	fprintf(f, "%s\n", line);
	fclose(f);
}

static void ready(void)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(path, "w");
	if (!f)
		_exit(3);
	fclose(f);
}

static void touch(const char *name, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		_exit(3);
	close(fd);
}

static int run_inotify(void)
{
	static const char *names[] = { "a", "b", "c" };
	char path[PATH_MAX], buf[4096];
	int fd = inotify_init1(IN_CLOEXEC), wd[3];

	if (fd < 0)
		return 3;
	for (int i = 0; i < 3; i++) {
		touch(names[i], path, sizeof(path));
		wd[i] = inotify_add_watch(fd, path, IN_MODIFY);
		if (wd[i] < 0)
			return 3;
	}
	inotify_rm_watch(fd, wd[1]);
	/* The IN_IGNORED of b. */
	if (read(fd, buf, sizeof(buf)) <= 0)
		return 3;
	logf_("wds %d %d", wd[0], wd[2]);
	ready();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			logf_("BAD read %zd errno %d", n, errno);
			return 1;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			const char *name = ev->wd == wd[0] ? "a" : ev->wd == wd[2] ? "c" : NULL;

			if (name && ev->mask == IN_MODIFY)
				logf_("wd %d %s", ev->wd, name);
			else
				logf_("BAD wd %d mask 0x%x", ev->wd, ev->mask);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static int run_fanotify(void)
{
	char path[PATH_MAX], buf[4096], link[64], target[PATH_MAX];
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);

	if (fd < 0)
		return 3;
	touch("f", path, sizeof(path));
	if (fanotify_mark(fd, FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, path) < 0)
		return 3;
	/* DIR/mnt and DIR/fs: mount points of tmpfs the scenario made. */
	snprintf(path, sizeof(path), "%s/mnt", dir);
	if (!access(path, F_OK) &&
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE, AT_FDCWD, path) < 0)
		return 3;
	snprintf(path, sizeof(path), "%s/fs", dir);
	if (!access(path, F_OK) &&
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD,
			  path) < 0)
		return 3;
	ready();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;

		if (n <= 0) {
			logf_("BAD read %zd errno %d", n, errno);
			return 1;
		}
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			ssize_t l;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
			l = m->fd >= 0 ? readlink(link, target, sizeof(target) - 1) : -1;
			target[l > 0 ? l : 0] = '\0';
			if (m->mask & (FAN_MODIFY | FAN_CLOSE_WRITE))
				logf_("fan %s", target);
			else
				logf_("BAD fan mask 0x%llx", (unsigned long long)m->mask);
			if (m->fd >= 0)
				close(m->fd);
		}
	}
}

static pid_t thread_tid;

static void on_usr1(int sig)
{
	(void)sig;
	if (syscall(SYS_gettid) != thread_tid)
		logf_("BAD SIGUSR1 through the thread pidfd reached tid %ld, not %d",
		      (long)syscall(SYS_gettid), thread_tid);
}

static void *thread_main(void *arg)
{
	sigset_t s;

	thread_tid = syscall(SYS_gettid);
	*(volatile int *)arg = 1;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	for (;;)
		pause();
	return NULL;
}

static int run_pidfd(void)
{
	volatile int started = 0;
	int child_fd, thr_fd, zombie_fd;
	char reap[PATH_MAX];
	pid_t child, zombie;
	pthread_t th;
	siginfo_t si;
	sigset_t s;

	zombie = fork();
	if (zombie < 0)
		return 3;
	if (zombie == 0)
		_exit(7);
	zombie_fd = syscall(SYS_pidfd_open, zombie, 0);
	memset(&si, 0, sizeof(si));
	/* Dumped as a zombie: not reaped until DIR/reap appears. */
	if (zombie_fd < 0 || waitid(P_PIDFD, zombie_fd, &si, WEXITED | WNOWAIT) < 0)
		return 3;
	child = fork();
	if (child < 0)
		return 3;
	if (child == 0) {
		for (;;)
			pause();
	}
	/* SIGUSR1 only for the thread: a misdirected one would be left
	 * pending in the main thread instead of running the handler. */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&th, NULL, thread_main, (void *)&started))
		return 3;
	while (!started)
		usleep(1000);
	child_fd = syscall(SYS_pidfd_open, child, PIDFD_NONBLOCK);
	thr_fd = syscall(SYS_pidfd_open, thread_tid, PIDFD_THREAD);
	if (child_fd < 0 || thr_fd < 0)
		return 3;
	logf_("child %d thread %d zombie %d", child, thread_tid, zombie);
	snprintf(reap, sizeof(reap), "%s/reap", dir);
	ready();
	for (;;) {
		struct pollfd p = { .fd = child_fd, .events = POLLIN };
		struct pollfd z = { .fd = zombie_fd, .events = POLLIN };

		if (zombie_fd >= 0 && !access(reap, F_OK)) {
			memset(&si, 0, sizeof(si));
			if (poll(&z, 1, 0) != 1 || waitid(P_PIDFD, zombie_fd, &si, WEXITED) < 0) {
				logf_("BAD the zombie's pidfd: not readable or waitid: errno %d", errno);
				return 1;
			}
			logf_("zombie exit %d code %d", si.si_status, si.si_code);
			close(zombie_fd);
			zombie_fd = -1;
		}
		if (!(fcntl(child_fd, F_GETFL) & O_NONBLOCK))
			logf_("BAD the child's pidfd lost O_NONBLOCK");
		if (syscall(SYS_pidfd_send_signal, thr_fd, SIGUSR1, NULL, 0) < 0)
			logf_("BAD pidfd_send_signal to the thread: errno %d", errno);
		/* Blocked here: one sent to this thread stays pending. */
		sigpending(&s);
		if (sigismember(&s, SIGUSR1)) {
			logf_("BAD SIGUSR1 through the thread pidfd reached the main thread");
			return 1;
		}
		if (poll(&p, 1, 50) == 1) {
			memset(&si, 0, sizeof(si));
			if (waitid(P_PIDFD, child_fd, &si, WEXITED) < 0) {
				logf_("BAD waitid(P_PIDFD): errno %d", errno);
				return 1;
			}
			logf_("child exit sig %d pid %d", si.si_status, si.si_pid);
			for (;;)
				pause();
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s inotify|fanotify|pidfd DIR\n", argv[0]);
		return 2;
	}
	dir = argv[2];
	if (!strcmp(argv[1], "inotify"))
		return run_inotify();
	if (!strcmp(argv[1], "fanotify"))
		return run_fanotify();
	if (!strcmp(argv[1], "pidfd"))
		return run_pidfd();
	return 2;
}
