/* minicr-test-fattrs MODE DIR: open-file state that lives only in the open
 * file description or the unlinked inode, checked by the workload itself
 * every 50 ms, before and after a restore (tests/cr/scenarios/files-*.sh).
 * Status in DIR/status, rewritten each round: "ok N" (N rounds so far) or
 * "FAIL what" (and the workload stops checking).
 *
 *   sparse  a deleted file and a memfd, each 1 GiB with 4 KiB of data in
 *           the middle (so sparse), and an O_TMPFILE file: size, data,
 *           st_blocks (still sparse), mode, owner, mtime.
 *   owner   a pipe read end with O_ASYNC, F_SETSIG SIGRTMIN+1 and
 *           F_SETOWN_EX of the process: writing to the pipe must raise
 *           that signal with si_fd; a socketpair end owned by a thread
 *           (F_OWNER_TID), another by the process group; a
 *           regular file given O_ASYNC.
 *   outside a pipe owned (F_SETOWN) by the parent of the workload, outside
 *           the tree: a dump must refuse it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "selfcheck.h"

#define GIB (1ULL << 30)
#define DATA_AT (512ULL << 20)
#define UID 1234
#define GID 2345

static const char *dir;


static void pattern(char *buf, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(seed + i * 7);
}

/* ---- sparse ---- */

struct sparse {
	const char *what;
	int fd;
	uint64_t size, at;
	mode_t mode;
	struct timespec mtime;      /* tv_nsec UTIME_OMIT: not checked */
};

static int make_sparse(struct sparse *s, int fd, const char *what, uint64_t size, uint64_t at,
		       mode_t mode, int seed)
{
	char buf[4096];
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 123456789 } };

	s->what = what;
	s->fd = fd;
	s->size = size;
	s->at = at;
	s->mode = mode;
	pattern(buf, sizeof(buf), seed);
	if (fd < 0 || ftruncate(fd, size) || pwrite(fd, buf, sizeof(buf), at) != sizeof(buf) ||
	    fchown(fd, UID, GID) || fchmod(fd, mode))
		return -1;
	/* memfds keep their own times; a file's mtime is checked. */
	if (strcmp(what, "memfd")) {
		if (futimens(fd, ts))
			return -1;
		s->mtime = ts[1];
	} else {
		s->mtime.tv_nsec = UTIME_OMIT;
	}
	return 0;
}

static bool check_sparse(const struct sparse *s, int seed)
{
	char want[4096], got[4096];
	struct stat st;

	if (fstat(s->fd, &st))
		return bad("%s: fstat: %s", s->what, strerror(errno));
	if ((uint64_t)st.st_size != s->size)
		return bad("%s: size %lld, want %llu", s->what, (long long)st.st_size,
			   (unsigned long long)s->size);
	if ((uint64_t)st.st_blocks * 512 > (1 << 20))
		return bad("%s: %lld blocks allocated: not sparse any more", s->what,
			   (long long)st.st_blocks);
	if ((st.st_mode & 07777) != s->mode || st.st_uid != UID || st.st_gid != GID)
		return bad("%s: mode 0%o owner %u:%u, want 0%o %u:%u", s->what,
			   st.st_mode & 07777, st.st_uid, st.st_gid, s->mode, UID, GID);
	if (st.st_nlink)
		return bad("%s: has %u links", s->what, (unsigned)st.st_nlink);
	if (s->mtime.tv_nsec != UTIME_OMIT && (st.st_mtim.tv_sec != s->mtime.tv_sec ||
					       st.st_mtim.tv_nsec != s->mtime.tv_nsec))
		return bad("%s: mtime %lld.%09ld, want %lld.%09ld", s->what,
			   (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			   (long long)s->mtime.tv_sec, s->mtime.tv_nsec);
	pattern(want, sizeof(want), seed);
	if (pread(s->fd, got, sizeof(got), s->at) != sizeof(got) || memcmp(got, want, sizeof(got)))
		return bad("%s: the data at %llu is not the one written", s->what,
			   (unsigned long long)s->at);
	memset(want, 0, sizeof(want));
	if (pread(s->fd, got, sizeof(got), 4096) != sizeof(got) || memcmp(got, want, sizeof(got)))
		return bad("%s: the hole at 4096 does not read zeros", s->what);
	return true;
}

static struct sparse sp[3];

static int setup_sparse(void)
{
	char p[4096];
	int fd;

	snprintf(p, sizeof(p), "%s/ghost.dat", dir);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (make_sparse(&sp[0], fd, "deleted file", GIB, DATA_AT, 04750, 1) || unlink(p))
		return -1;
	if (make_sparse(&sp[1], memfd_create("fattrs", 0), "memfd", GIB, 1 << 20, 0604, 2))
		return -1;
	fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (make_sparse(&sp[2], fd, "O_TMPFILE file", 3 << 20, 8192, 0620, 3))
		return -1;
	return 0;
}

static bool check_sparse_all(void)
{
	for (int i = 0; i < 3; i++)
		if (!check_sparse(&sp[i], i + 1))
			return false;
	return true;
}

/* ---- owner ---- */

static int pipe_r = -1, pipe_w = -1, sk_tid = -1, sk_pgrp = -1, reg_async = -1;
static volatile sig_atomic_t got_sig, got_fd = -1;
static pid_t thread_tid;
static bool reg_async_on;

static void on_io(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_fd = si->si_fd;
}

static void *idle(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static int set_owner(int fd, int type, pid_t pid)
{
	struct f_owner_ex o = { .type = type, .pid = pid };

	return fcntl(fd, F_SETOWN_EX, &o);
}

static int setup_owner(void)
{
	struct sigaction sa = { .sa_sigaction = on_io, .sa_flags = SA_SIGINFO | SA_RESTART };
	int p[2], sv[2], sv2[2];
	pthread_t th;
	char path[4096];

	if (sigaction(SIGRTMIN + 1, &sa, NULL) || pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv2))
		return -1;
	pipe_r = p[0];
	pipe_w = p[1];
	if (set_owner(pipe_r, F_OWNER_PID, getpid()) || fcntl(pipe_r, F_SETSIG, SIGRTMIN + 1) ||
	    fcntl(pipe_r, F_SETFL, O_ASYNC | O_NONBLOCK))
		return -1;
	if (pthread_create(&th, NULL, idle, NULL))
		return -1;
	while (!thread_tid)
		usleep(1000);
	sk_tid = sv[0];
	if (set_owner(sk_tid, F_OWNER_TID, thread_tid) || fcntl(sk_tid, F_SETSIG, SIGRTMIN + 2))
		return -1;
	sk_pgrp = sv2[0];
	/* No O_ASYNC here: its SIGIO would go to the whole group, which may
	 * hold more than this workload. */
	if (set_owner(sk_pgrp, F_OWNER_PGRP, getpgrp()))
		return -1;
	snprintf(path, sizeof(path), "%s/async.dat", dir);
	/* Linux 6.18 drops O_ASYNC on a file without fasync; whatever it kept
	 * must stay. */
	reg_async = open(path, O_RDWR | O_CREAT, 0600);
	if (reg_async < 0 || fcntl(reg_async, F_SETFL, O_ASYNC))
		return -1;
	reg_async_on = !!(fcntl(reg_async, F_GETFL) & O_ASYNC);
	return 0;
}

static bool check_owner_of(int fd, const char *what, int type, pid_t pid, int sig, bool async)
{
	struct f_owner_ex o;
	int s = fcntl(fd, F_GETSIG), fl = fcntl(fd, F_GETFL);

	if (fcntl(fd, F_GETOWN_EX, &o) || s < 0 || fl < 0)
		return bad("%s: fcntl: %s", what, strerror(errno));
	/* No owner: only the PID 0 is defined (no fown_struct at all). */
	if (o.pid != pid || (pid && (int)o.type != type))
		return bad("%s: owner type %d pid %d, want type %d pid %d", what, o.type, o.pid, type,
			   pid);
	if (s != sig)
		return bad("%s: F_GETSIG %d, want %d", what, s, sig);
	if (!!(fl & O_ASYNC) != async)
		return bad("%s: O_ASYNC %s", what, async ? "lost" : "appeared");
	return true;
}

static bool check_owner_all(void)
{
	char c;

	if (!check_owner_of(pipe_r, "pipe", F_OWNER_PID, getpid(), SIGRTMIN + 1, true) ||
	    !check_owner_of(sk_tid, "socket owned by a thread", F_OWNER_TID, thread_tid,
			    SIGRTMIN + 2, false) ||
	    !check_owner_of(sk_pgrp, "socket owned by the group", F_OWNER_PGRP, getpgrp(), 0,
			    false) ||
	    !check_owner_of(reg_async, "regular file", F_OWNER_PID, 0, 0, reg_async_on))
		return false;
	/* The signal itself: SIGRTMIN+1 with si_fd = the pipe's read end. */
	got_sig = 0;
	got_fd = -1;
	if (write(pipe_w, "x", 1) != 1)
		return bad("pipe: write: %s", strerror(errno));
	for (int i = 0; i < 100 && !got_sig; i++)
		usleep(1000);
	while (read(pipe_r, &c, 1) == 1)
		;
	if (got_sig != SIGRTMIN + 1 || got_fd != pipe_r)
		return bad("pipe: got signal %d si_fd %d on input, want %d si_fd %d", (int)got_sig,
			   (int)got_fd, SIGRTMIN + 1, pipe_r);
	return true;
}

/* ---- outside ---- */

/* Owned by the parent of the workload, outside the tree. (An owner that
 * has exited reads as no owner, F_GETOWN 0, which a restore gives back.) */
static int setup_outside(void)
{
	int p[2];

	if (getppid() <= 0) {
		errno = ESRCH;
		return -1;
	}
	return pipe(p) || fcntl(p[0], F_SETOWN, getppid()) ? -1 : 0;
}

int main(int argc, char **argv)
{
	bool (*check)(void) = NULL;
	unsigned long n = 0;
	int ret = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: minicr-test-fattrs sparse|owner|outside DIR\n");
		return 2;
	}
	dir = argv[2];
	snprintf(status_path, sizeof(status_path), "%s/status", dir);
	if (!strcmp(argv[1], "sparse")) {
		ret = setup_sparse();
		check = check_sparse_all;
	} else if (!strcmp(argv[1], "owner")) {
		ret = setup_owner();
		check = check_owner_all;
	} else if (!strcmp(argv[1], "outside")) {
		ret = setup_outside();
	}
	if (ret) {
		put_status("FAIL setup (%s): %s", argv[1], strerror(errno));
		return 1;
	}
	for (;; n++) {
		if (check && !check()) {
			put_status("FAIL %s", why);
			for (;;)
				pause();
		}
		put_status("ok %lu", n);
		usleep(50000);
	}
}
