/* minicr-test-extpipe: a task holding pipe ends whose other ends its
 * launcher keeps, outside the dumped tree (tests/cr/scenarios/ext-pipe.sh).
 *
 *   minicr-test-extpipe DIR
 *
 * Started with fd 5 the write end of one pipe and fd 6 the read end of
 * another, the launcher holding their other ends (and having written
 * "queued\n" into the second). It ignores SIGPIPE (so a write to a pipe
 * without a reader fails with EPIPE instead of killing it), sets O_NONBLOCK
 * on fd 6 and a 128 KiB capacity on fd 5, forks a child that shares both
 * open file descriptions and pauses, writes DIR/ready and then touches
 * neither fd until DIR/go appears. A restore without --inherit-fd must
 * have given it new pipes whose other ends are closed; on DIR/go it checks
 * that: fd 5 a write end of that capacity, shared with the child, a write
 * failing with EPIPE; fd 6 a read end with O_NONBLOCK, shared with the
 * child, reading "queued\n" then EOF. The result goes to DIR/result ("OK
 * ..." or "FAIL ..."). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wl_files.h"

#define WR_FD 5
#define RD_FD 6
#define CAPACITY (128 * 1024)
#define QUEUED "queued\n"

struct wl {
	const char *dir;
	pid_t child;
	char msg[512];
	size_t len;
};

/* Collects what is wrong; an empty message is OK. */
static void bad(struct wl *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->len >= sizeof(w->msg) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->msg + w->len, sizeof(w->msg) - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n < sizeof(w->msg) - w->len ? (size_t)n : sizeof(w->msg) - w->len - 1;
}

static void check_end(struct wl *w, int fd, int acc)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		bad(w, "fd %d is not a pipe; ", fd);
		return;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != acc)
		bad(w, "fd %d: flags 0%o, want access mode %d; ", fd, fl, acc);
	if (syscall(SYS_kcmp, getpid(), w->child, KCMP_FILE, fd, fd) != 0)
		bad(w, "fd %d: not the child's open file description; ", fd);
}

static void check(struct wl *w)
{
	char buf[64];
	size_t got = 0;
	ssize_t n;
	int fl;

	check_end(w, WR_FD, O_WRONLY);
	check_end(w, RD_FD, O_RDONLY);
	if (fcntl(WR_FD, F_GETPIPE_SZ) != CAPACITY)
		bad(w, "fd %d: capacity %d, want %d; ", WR_FD, fcntl(WR_FD, F_GETPIPE_SZ), CAPACITY);
	fl = fcntl(RD_FD, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK))
		bad(w, "fd %d: O_NONBLOCK lost; ", RD_FD);
	n = write(WR_FD, "x", 1);
	if (n != -1 || errno != EPIPE)
		bad(w, "write to fd %d: %zd (%s), want EPIPE; ", WR_FD, n, n < 0 ? strerror(errno) : "");
	/* O_NONBLOCK: a pipe that still had a writer would say EAGAIN. */
	while ((n = read(RD_FD, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	if (n != 0)
		bad(w, "read of fd %d: %s, want EOF; ", RD_FD, strerror(errno));
	if (got != strlen(QUEUED) || memcmp(buf, QUEUED, got))
		bad(w, "fd %d gave %zu bytes '%.*s', want '%s'; ", RD_FD, got, (int)got, buf, "queued\\n");
}

int main(int argc, char **argv)
{
	struct wl w = { 0 };
	char res[700];

	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-extpipe DIR\n");
		return 2;
	}
	w.dir = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(RD_FD, F_SETFL, O_NONBLOCK) < 0 || fcntl(WR_FD, F_SETPIPE_SZ, CAPACITY) < 0) {
		perror("minicr-test-extpipe: fds 5 and 6");
		return 3;
	}
	w.child = fork();
	if (w.child < 0)
		return 3;
	if (!w.child)
		for (;;)
			pause();
	snprintf(res, sizeof(res), "%d\n", getpid());
	wl_put(w.dir, "ready", res);
	if (wl_await(w.dir, "go", 600))
		return 1;
	check(&w);
	kill(w.child, SIGKILL);
	snprintf(res, sizeof(res), "%s %d %s\n", w.len ? "FAIL" : "OK", getpid(),
		 w.len ? w.msg : "new pipes, other ends closed: EPIPE, queued bytes then EOF");
	wl_put(w.dir, "result", res);
	return w.len ? 1 : 0;
}
