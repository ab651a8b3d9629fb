/* minicr-test-flocks DIR: file locks in the cases a restore can get wrong,
 * checked by the workload itself every 100 ms, before and after a restore
 * (tests/cr/scenarios/files-locks.sh). Status in DIR/status: "ok N" after
 * N rounds, or "FAIL what" (then it stops checking).
 *
 * The parent P sets up, then forks a child C (which inherits every open
 * file description below) and both sleep:
 *   flock.dat  P: flock(LOCK_EX) on a description P also dup()s; C inherits
 *              it: one lock of the description, taken once.
 *   shared.dat P and C each flock(LOCK_SH) on a description of their own.
 *   ofd.dat    P: an OFD write lock on bytes 0..99 of a description C
 *              inherits.
 *   posix.dat  P: POSIX write 0..9, read 20..29, write 40..49, read
 *              1000..EOF through a description C inherits; C: read 20..29
 *              and write 100..109 through that same description, and
 *              read 3000..3009 through a description of its own.
 * Each round a probe (a fresh fork of P: no POSIX lock of its own, its own
 * descriptions) asks F_GETLK / F_OFD_GETLK / flock(LOCK_NB) who holds
 * what, with PIDs as P and C see them; and /proc/locks must list each lock
 * once (FLOCK 1 + 2, OFDLCK 1, POSIX 7), a flock under the PID of the task
 * that took it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "selfcheck.h"

static const char *dir;
static pid_t parent, child;
static ino_t ino_flock, ino_shared, ino_ofd, ino_posix;


static int open_in(const char *name, ino_t *ino)
{
	char p[4096];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd >= 0 && ino) {
		fstat(fd, &st);
		*ino = st.st_ino;
	}
	return fd;
}

static int plock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* ---- the probe (a child of P) ---- */

/* F_GETLK for a write lock on start+len: the holder must be want_type
 * (F_UNLCK: none) by one of pids (-1 ends the list), at want_start/len. */
static bool getlk(int fd, int cmd, const char *what, off_t start, off_t len, short want_type,
		  off_t want_start, off_t want_len, pid_t p1, pid_t p2)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl))
		return bad("%s: F_GETLK: %s", what, strerror(errno));
	if (fl.l_type != want_type)
		return bad("%s %lld+%lld: lock type %d, want %d", what, (long long)start,
			   (long long)len, fl.l_type, want_type);
	if (want_type == F_UNLCK)
		return true;
	if (fl.l_start != want_start || fl.l_len != want_len || (fl.l_pid != p1 && fl.l_pid != p2))
		return bad("%s %lld+%lld: held at %lld+%lld by pid %d, want %lld+%lld by %d or %d",
			   what, (long long)start, (long long)len, (long long)fl.l_start,
			   (long long)fl.l_len, fl.l_pid, (long long)want_start, (long long)want_len,
			   p1, p2);
	return true;
}

/* Locks in /proc/locks of inode ino and kind (FLOCK, OFDLCK, POSIX);
 * *mine: how many of them name pid. */
static int count_locks(ino_t ino, const char *kind, pid_t pid, int *mine)
{
	char line[256], k[16], rw[16];
	unsigned long long i;
	unsigned int maj, min;
	int n = 0, p;
	FILE *f = fopen("/proc/locks", "r");

	*mine = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %*s %15s %d %x:%x:%llu", k, rw, &p, &maj, &min, &i) != 6)
			continue;
		if (i != ino || strcmp(k, kind))
			continue;
		n++;
		*mine += p == pid;
	}
	fclose(f);
	return n;
}

static bool probe(void)
{
	int a = open_in("flock.dat", NULL), s = open_in("shared.dat", NULL);
	int o = open_in("ofd.dat", NULL), x = open_in("posix.dat", NULL), n, mine;
	bool same_view;
	char buf[32];

	if (a < 0 || s < 0 || o < 0 || x < 0)
		return bad("probe: open: %s", strerror(errno));
	if (!flock(a, LOCK_SH | LOCK_NB) || errno != EWOULDBLOCK)
		return bad("flock.dat: another description can flock it: the LOCK_EX is gone");
	if (flock(s, LOCK_SH | LOCK_NB))
		return bad("shared.dat: LOCK_SH refused: %s", strerror(errno));
	flock(s, LOCK_UN);
	if (!flock(s, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK)
		return bad("shared.dat: LOCK_EX granted: the LOCK_SH locks are gone");
	if (!getlk(o, F_OFD_GETLK, "ofd.dat", 50, 1, F_WRLCK, 0, 100, -1, -1) ||
	    !getlk(o, F_OFD_GETLK, "ofd.dat", 100, 1, F_UNLCK, 0, 0, 0, 0) ||
	    !getlk(x, F_GETLK, "posix.dat", 0, 10, F_WRLCK, 0, 10, parent, parent) ||
	    !getlk(x, F_GETLK, "posix.dat", 10, 10, F_UNLCK, 0, 0, 0, 0) ||
	    !getlk(x, F_GETLK, "posix.dat", 20, 10, F_RDLCK, 20, 10, parent, child) ||
	    !getlk(x, F_GETLK, "posix.dat", 30, 10, F_UNLCK, 0, 0, 0, 0) ||
	    !getlk(x, F_GETLK, "posix.dat", 40, 10, F_WRLCK, 40, 10, parent, parent) ||
	    !getlk(x, F_GETLK, "posix.dat", 100, 10, F_WRLCK, 100, 10, child, child) ||
	    !getlk(x, F_GETLK, "posix.dat", 110, 10, F_UNLCK, 0, 0, 0, 0) ||
	    !getlk(x, F_GETLK, "posix.dat", 1000, 1, F_RDLCK, 1000, 0, parent, parent) ||
	    !getlk(x, F_GETLK, "posix.dat", 999, 1, F_UNLCK, 0, 0, 0, 0))
		return false;
	/* C's own description: a read lock there too (P's 1000..EOF hides
	 * who answers for 3000, so probe C's range through its pid list). */
	if (!getlk(x, F_GETLK, "posix.dat", 3000, 10, F_RDLCK, 1000, 0, parent, child) &&
	    !getlk(x, F_GETLK, "posix.dat", 3000, 10, F_RDLCK, 3000, 10, parent, child))
		return false;
	/* /proc/locks names PIDs as its /proc mount sees them, and shows only
	 * the locks of tasks visible there: the PIDs are compared only when
	 * that mount's view is ours. */
	n = (int)readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		return bad("readlink /proc/self: %s", strerror(errno));
	buf[n] = '\0';
	same_view = atoi(buf) == getpid();
	n = count_locks(ino_flock, "FLOCK", parent, &mine);
	if (n != 1 || (same_view && mine != 1))
		return bad("/proc/locks: flock.dat has %d FLOCK locks, %d of them P's (%d); want 1, 1",
			   n, mine, parent);
	n = count_locks(ino_shared, "FLOCK", parent, &mine);
	if (n != 2 || (same_view && mine != 1))
		return bad("/proc/locks: shared.dat has %d FLOCK locks, %d of them P's; want 2, 1", n,
			   mine);
	count_locks(ino_shared, "FLOCK", child, &mine);
	if (same_view && mine != 1)
		return bad("/proc/locks: shared.dat has %d FLOCK locks of C (%d); want 1", mine, child);
	n = count_locks(ino_ofd, "OFDLCK", -1, &mine);
	if (n != 1)
		return bad("/proc/locks: ofd.dat has %d OFD locks, want 1", n);
	n = count_locks(ino_posix, "POSIX", parent, &mine);
	if (n != 7 || (same_view && mine != 4))
		return bad("/proc/locks: posix.dat has %d POSIX locks, %d of P; want 7, 4", n, mine);
	return true;
}

/* In a fresh fork of P; the verdict comes back through a pipe. */
static bool run_probe(void)
{
	int p[2];
	ssize_t n;
	pid_t k;
	int st;

	if (pipe(p))
		return bad("pipe: %s", strerror(errno));
	k = fork();
	if (k < 0)
		return bad("fork: %s", strerror(errno));
	if (!k) {
		close(p[0]);
		if (probe())
			why[0] = '\0';
		n = write(p[1], why, strlen(why) + 1);
		_exit(n > 0 ? 0 : 1);
	}
	close(p[1]);
	why[0] = '\0';
	n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	waitpid(k, &st, 0);
	if (n <= 0)
		return bad("the probe said nothing");
	why[n] = '\0';
	return !why[0];
}

int main(int argc, char **argv)
{
	int a, a2, s, o, x, x2, sync[2];
	unsigned long n = 0;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-flocks DIR\n");
		return 2;
	}
	dir = argv[1];
	snprintf(status_path, sizeof(status_path), "%s/status", dir);
	parent = getpid();
	a = open_in("flock.dat", &ino_flock);
	s = open_in("shared.dat", &ino_shared);
	o = open_in("ofd.dat", &ino_ofd);
	x = open_in("posix.dat", &ino_posix);
	a2 = dup(a);
	if (a < 0 || a2 < 0 || s < 0 || o < 0 || x < 0 || pipe(sync) ||
	    flock(a, LOCK_EX | LOCK_NB) || flock(s, LOCK_SH | LOCK_NB) ||
	    plock(o, F_OFD_SETLK, F_WRLCK, 0, 100) || plock(x, F_SETLK, F_WRLCK, 0, 10) ||
	    plock(x, F_SETLK, F_RDLCK, 20, 10) || plock(x, F_SETLK, F_WRLCK, 40, 10) ||
	    plock(x, F_SETLK, F_RDLCK, 1000, 0)) {
		put_status("FAIL setup: %s", strerror(errno));
		return 1;
	}
	child = fork();
	if (child < 0) {
		put_status("FAIL fork: %s", strerror(errno));
		return 1;
	}
	if (!child) {
		/* C: a shared lock of its own, POSIX locks through the inherited
		 * description and through one of its own. */
		int s2 = open_in("shared.dat", NULL);

		x2 = open_in("posix.dat", NULL);
		c = s2 >= 0 && x2 >= 0 && !flock(s2, LOCK_SH | LOCK_NB) &&
		    !plock(x, F_SETLK, F_RDLCK, 20, 10) && !plock(x, F_SETLK, F_WRLCK, 100, 10) &&
		    !plock(x2, F_SETLK, F_RDLCK, 3000, 10) ? 'y' : 'n';
		if (write(sync[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(sync[0], &c, 1) != 1 || c != 'y') {
		put_status("FAIL the child could not take its locks");
		kill(child, SIGKILL);
		return 1;
	}
	close(sync[0]);
	close(sync[1]);
	for (;; n++) {
		if (!run_probe()) {
			put_status("FAIL %s", why);
			for (;;)
				pause();
		}
		put_status("ok %lu", n);
		usleep(100000);
	}
}
