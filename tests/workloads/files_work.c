/* minicr-test-files: self-verifying workloads of the files tests
 * (tests/integration/files-*.sh).
 *
 *   minicr-test-files --mode MODE --dir DIR [--lines N]
 *
 * Writes DIR/ready once set up (its PID inside), then, depending on MODE:
 *   share  parent and child write lines alternately (turns in MAP_SHARED
 *          memory) to DIR/append.log (O_APPEND) and DIR/plain.log (plain
 *          offset, inherited across fork; the parent also writes through a
 *          dup of it) until N lines; the parent then checks that both files
 *          hold exactly lines 0..N-1, each once, writers alternating.
 *   ghost  a 1 MiB file unlinked while open (position 12345, a dup shares
 *          it), an O_TMPFILE file, a sealed memfd; on DIR/verify it checks
 *          content, size, position, unlinked state, memfd name and seals.
 *   lock   flock(LOCK_EX) on DIR/flock.dat, a POSIX write lock on bytes
 *          10..19 of DIR/posix.dat; on DIR/verify it checks that another
 *          open file description cannot take the flock and that a child
 *          sees its POSIX lock (F_GETLK names this PID).
 *   stdin  reads lines from fd 0 and appends each to DIR/got; ends at EOF.
 *   fdtable  a child made by clone(CLONE_FILES) shares the parent's fd
 *          table; on DIR/verify the child opens DIR/child.dat, which the
 *          parent must see at that fd, then the parent closes one of its
 *          fds, which the child must see closed; a POSIX lock the parent
 *          took before the clone must be seen by another process.
 *   fdtable-lock  the same child takes a POSIX lock of its own on the
 *          shared table and sleeps (a dump must refuse it).
 *   clonefiles-sibling  a forked child makes, by clone(CLONE_FILES |
 *          CLONE_PARENT), a sibling sharing its fd table (not its parent's);
 *          all sleep (a dump must refuse them).
 *   lease  holds a read lease on DIR/lease.dat being broken by a child's
 *          open for writing and sleeps (a dump must
 *          refuse it).
 * The result goes to DIR/result ("OK ..." or "FAIL ..."); exit status 0 on
 * OK. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static char resbuf[4096];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void put_file(const char *name, const char *text)
{
	char p[4096], tmp[4200];
	FILE *f;

	path_of(p, sizeof(p), name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "w");
	if (!f)
		exit(3);
	fputs(text, f);
	fclose(f);
	rename(tmp, p);
}

static int finish(bool ok, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(resbuf, sizeof(resbuf), "%s %d ", ok ? "OK" : "FAIL", getpid());
	va_start(ap, fmt);
	vsnprintf(resbuf + n, sizeof(resbuf) - n, fmt, ap);
	va_end(ap);
	strncat(resbuf, "\n", sizeof(resbuf) - strlen(resbuf) - 1);
	put_file("result", resbuf);
	return ok ? 0 : 1;
}

static void ready(void)
{
	char b[32];

	snprintf(b, sizeof(b), "%d\n", getpid());
	put_file("ready", b);
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void wait_verify(void)
{
	char p[4096];

	path_of(p, sizeof(p), "verify");
	while (access(p, F_OK))
		msleep(10);
}

/* ---- share ---- */

struct turns {
	volatile int turn;      /* 0 parent, 1 child */
	volatile int seq;
};

static int write_line(int fd, int seq, char who)
{
	char b[16];
	int n = snprintf(b, sizeof(b), "%06d %c\n", seq, who);

	return write(fd, b, n) == n ? 0 : -1;
}

static int check_log(const char *name, int lines, char *why, size_t len)
{
	char p[4096], want[16], got[64];
	int i = 0;
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "r");
	if (!f) {
		snprintf(why, len, "%s: %s", name, strerror(errno));
		return -1;
	}
	while (fgets(got, sizeof(got), f)) {
		snprintf(want, sizeof(want), "%06d %c\n", i, i % 2 ? 'C' : 'P');
		if (strcmp(got, want)) {
			snprintf(why, len, "%s line %d is '%.*s', expected '%.*s'", name, i + 1,
				 (int)strcspn(got, "\n"), got, (int)strcspn(want, "\n"), want);
			fclose(f);
			return -1;
		}
		i++;
	}
	fclose(f);
	if (i != lines) {
		snprintf(why, len, "%s has %d lines, expected %d", name, i, lines);
		return -1;
	}
	return 0;
}

static int mode_share(int lines)
{
	struct turns *t = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);
	char pa[4096], pb[4096], why[512];
	int fa, fb, fc, st;
	bool is_child, said_ready = false;
	pid_t kid;

	if (t == MAP_FAILED)
		return finish(false, "mmap: %s", strerror(errno));
	path_of(pa, sizeof(pa), "append.log");
	path_of(pb, sizeof(pb), "plain.log");
	fa = open(pa, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	fb = open(pb, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fc = dup(fb);
	if (fa < 0 || fb < 0 || fc < 0)
		return finish(false, "open: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		return finish(false, "fork: %s", strerror(errno));
	is_child = kid == 0;
	for (;;) {
		while (t->turn != (is_child ? 1 : 0))
			msleep(1);
		if (t->seq >= lines) {
			t->turn = !t->turn;
			break;
		}
		/* The parent alternates between the two fds of plain.log: both
		 * share its offset with the child's. */
		if (write_line(fa, t->seq, is_child ? 'C' : 'P') ||
		    write_line(is_child || t->seq % 4 ? fb : fc, t->seq, is_child ? 'C' : 'P')) {
			if (is_child)
				_exit(2);
			return finish(false, "write: %s", strerror(errno));
		}
		t->seq++;
		if (!is_child && !said_ready && t->seq >= 100) {
			ready();
			said_ready = true;
		}
		t->turn = !t->turn;
		msleep(2);
	}
	if (is_child)
		_exit(0);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		return finish(false, "child %d ended badly (status 0x%x)", kid, st);
	if (check_log("append.log", lines, why, sizeof(why)) ||
	    check_log("plain.log", lines, why, sizeof(why)))
		return finish(false, "%s", why);
	return finish(true, "share: %d lines in append.log and plain.log, in order, alternating",
		      lines);
}

/* ---- ghost ---- */

#define GHOST_SIZE (1 << 20)
#define MEMFD_SIZE (64 << 10)

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 2654435761u + seed) >> 7);
}

static int fill(int fd, size_t size, unsigned seed)
{
	static unsigned char buf[65536];

	for (size_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i, seed);
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			return -1;
	}
	return 0;
}

static int check_content(int fd, size_t size, unsigned seed, const char *what, char *why,
			 size_t len)
{
	static unsigned char buf[65536];
	struct stat st;

	if (fstat(fd, &st) || (size_t)st.st_size != size) {
		snprintf(why, len, "%s: size %lld, expected %zu", what, (long long)st.st_size, size);
		return -1;
	}
	if (st.st_nlink) {
		snprintf(why, len, "%s: has %lu links, expected 0 (unlinked)", what,
			 (unsigned long)st.st_nlink);
		return -1;
	}
	for (size_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		if (pread(fd, buf, n, off) != (ssize_t)n) {
			snprintf(why, len, "%s: pread at %zu: %s", what, off, strerror(errno));
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (buf[i] != pattern(off + i, seed)) {
				snprintf(why, len, "%s: byte %zu is 0x%02x, expected 0x%02x", what,
					 off + i, buf[i], pattern(off + i, seed));
				return -1;
			}
		}
	}
	return 0;
}

static int mode_ghost(void)
{
	char p[4096], why[512], link[256], lp[64];
	int fg, fg2, fo, ft, fm, fw, fr, seals;
	unsigned char c = 0;
	ssize_t n;

	path_of(p, sizeof(p), "ghost.dat");
	fg = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	/* A second open file description of the same inode, read-only. */
	fo = open(p, O_RDONLY);
	if (fg < 0 || fo < 0 || fill(fg, GHOST_SIZE, 1) || unlink(p) ||
	    lseek(fg, 12345, SEEK_SET) != 12345 || lseek(fo, 777, SEEK_SET) != 777)
		return finish(false, "ghost file: %s", strerror(errno));
	fg2 = dup(fg);
	path_of(p, sizeof(p), "wo.dat");
	fw = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0640);
	if (fw < 0 || fill(fw, 5000, 4) || unlink(p))
		return finish(false, "write-only deleted file: %s", strerror(errno));
	ft = open(dir, O_RDWR | O_TMPFILE, 0600);
	if (ft < 0 || fill(ft, 4000, 2))
		return finish(false, "O_TMPFILE file: %s", strerror(errno));
	fm = memfd_create("minicr-test", MFD_ALLOW_SEALING);
	if (fm < 0 || fill(fm, MEMFD_SIZE, 3) ||
	    fcntl(fm, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return finish(false, "memfd: %s", strerror(errno));
	ready();
	wait_verify();

	if (check_content(fg, GHOST_SIZE, 1, "deleted file", why, sizeof(why)) ||
	    check_content(ft, 4000, 2, "O_TMPFILE file", why, sizeof(why)) ||
	    check_content(fm, MEMFD_SIZE, 3, "memfd", why, sizeof(why)))
		return finish(false, "%s", why);
	/* The write-only one: flags kept, content read through a reopen. */
	if (fcntl(fw, F_GETFL) != (O_WRONLY | O_APPEND | 0100000))
		return finish(false, "write-only deleted file: flags 0%o", fcntl(fw, F_GETFL));
	snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fw);
	fr = open(lp, O_RDONLY);
	if (fr < 0)
		return finish(false, "write-only deleted file: reopen: %s", strerror(errno));
	if (check_content(fr, 5000, 4, "write-only deleted file", why, sizeof(why)))
		return finish(false, "%s", why);
	if (lseek(fg, 0, SEEK_CUR) != 12345 || lseek(fg2, 100, SEEK_SET) != 100 ||
	    lseek(fg, 0, SEEK_CUR) != 100)
		return finish(false, "deleted file: position not 12345 or not shared with its dup");
	/* The second open: its own position, the same file. */
	if (lseek(fo, 0, SEEK_CUR) != 777 || (fcntl(fo, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return finish(false, "second open of the deleted file: position or mode lost");
	if (pwrite(fg, "\xab", 1, 5) != 1 || pread(fo, &c, 1, 5) != 1 || c != 0xab)
		return finish(false, "second open of the deleted file is another file now");
	if ((fcntl(fg, F_GETFL) & O_ACCMODE) != O_RDWR)
		return finish(false, "deleted file: not O_RDWR");
	seals = fcntl(fm, F_GET_SEALS);
	if (seals != (F_SEAL_SHRINK | F_SEAL_GROW))
		return finish(false, "memfd: seals 0x%x, expected 0x%x", seals,
			      F_SEAL_SHRINK | F_SEAL_GROW);
	if (ftruncate(fm, 10) == 0 || errno != EPERM)
		return finish(false, "memfd: ftruncate to 10 was not refused by its seal");
	snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fm);
	n = readlink(lp, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "/memfd:minicr-test (deleted)"))
		return finish(false, "memfd: link is '%s'", link);
	return finish(true, "ghost: deleted file (1 MiB, pos 12345, shared, a second open of it), write-only "
		      "deleted file, O_TMPFILE file, sealed memfd intact");
}

/* ---- lock ---- */

static int mode_lock(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };
	char pf[4096], pp[4096];
	int ff, fp, other, pfd[2], st;
	pid_t kid;

	path_of(pf, sizeof(pf), "flock.dat");
	path_of(pp, sizeof(pp), "posix.dat");
	ff = open(pf, O_RDWR | O_CREAT, 0644);
	fp = open(pp, O_RDWR | O_CREAT, 0644);
	if (ff < 0 || fp < 0 || flock(ff, LOCK_EX | LOCK_NB) || fcntl(fp, F_SETLK, &fl))
		return finish(false, "taking the locks: %s", strerror(errno));
	ready();
	wait_verify();

	other = open(pf, O_RDWR);
	if (other < 0)
		return finish(false, "reopen flock.dat: %s", strerror(errno));
	if (flock(other, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return finish(false, "another open file description took flock.dat's lock");
	close(other);
	if (flock(ff, LOCK_EX | LOCK_NB))
		return finish(false, "the owner's fd cannot take its own flock: %s", strerror(errno));
	/* A child (another process) must see the POSIX lock as ours. */
	if (pipe(pfd))
		return finish(false, "pipe: %s", strerror(errno));
	kid = fork();
	if (kid == 0) {
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0,
				   .l_len = 0 };
		int c = open(pp, O_RDWR);

		if (c < 0 || fcntl(c, F_GETLK, &q))
			_exit(2);
		if (write(pfd[1], &q, sizeof(q)) != sizeof(q))
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &fl, sizeof(fl)) != sizeof(fl) || waitpid(kid, &st, 0) != kid)
		return finish(false, "child checking the POSIX lock failed");
	if (fl.l_type != F_WRLCK || fl.l_pid != getpid() || fl.l_start != 10 || fl.l_len != 10)
		return finish(false, "POSIX lock seen by a child: type %d pid %d start %lld len %lld",
			      fl.l_type, fl.l_pid, (long long)fl.l_start, (long long)fl.l_len);
	return finish(true, "lock: flock held (another open file cannot take it), POSIX lock "
		      "10+10 owned by this PID");
}

/* ---- stdin ---- */

static int mode_stdin(void)
{
	char p[4096], line[512];
	FILE *out;
	int n = 0;

	path_of(p, sizeof(p), "got");
	out = fopen(p, "a");
	if (!out)
		return finish(false, "%s: %s", p, strerror(errno));
	setvbuf(out, NULL, _IONBF, 0);
	ready();
	while (fgets(line, sizeof(line), stdin)) {
		fputs(line, out);
		n++;
	}
	fclose(out);
	return finish(true, "stdin: %d lines until EOF", n);
}

/* ---- refused ---- */

static int sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* The child shares the fd table of its parent's child, not its parent's:
 * made with CLONE_FILES | CLONE_PARENT by a forked child. */
static int sibling_maker(void *arg)
{
	static char stack[64 << 10];

	(void)arg;
	if (clone(sleeper, stack + sizeof(stack), CLONE_FILES | CLONE_PARENT | SIGCHLD, NULL) < 0)
		_exit(1);
	for (;;)
		pause();
	return 0;
}

static int mode_clonefiles_sibling(void)
{
	static char stack[64 << 10];
	pid_t kid = fork();

	if (kid < 0)
		return finish(false, "fork: %s", strerror(errno));
	if (kid == 0)
		sibling_maker(stack);
	/* Wait for the grandchild-made sibling: a third child of ours. */
	for (int i = 0; i < 500; i++) {
		char p[64], *line = NULL;
		size_t n = 0;
		FILE *f;
		int nr = 0;

		snprintf(p, sizeof(p), "/proc/%d/task/%d/children", getpid(), getpid());
		f = fopen(p, "r");
		if (f) {
			if (getline(&line, &n, f) > 0)
				for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n"))
					nr++;
			fclose(f);
		}
		free(line);
		if (nr >= 2) {
			ready();
			for (;;)
				pause();
		}
		msleep(10);
	}
	return finish(false, "the CLONE_PARENT sibling did not appear");
}

/* ---- fdtable ---- */

/* A parent and the child it made with clone(CLONE_FILES), both through
 * restore: what one opens or closes the other sees. */
struct fdt {
	volatile int stage;
	volatile int kid_fd;
	volatile int kid_ok;
	char why[512];
};

static bool wait_stage(struct fdt *sh, int stage)
{
	for (int i = 0; i < 2000 && sh->stage < stage; i++)
		msleep(10);
	return sh->stage >= stage;
}

static int fdt_keep = -1, fdt_close = -1;

/* Does a forked process see our write lock on keep.dat 0+10? */
static bool posix_lock_seen(void)
{
	int status;
	pid_t h = fork();

	if (h == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10 };
		char p[4096];
		int fd;

		path_of(p, sizeof(p), "keep.dat");
		fd = open(p, O_RDWR);
		_exit(fd >= 0 && !fcntl(fd, F_GETLK, &fl) && fl.l_type == F_WRLCK &&
		      fl.l_pid == getppid() ? 0 : 1);
	}
	return h > 0 && waitpid(h, &status, 0) == h && WIFEXITED(status) && !WEXITSTATUS(status);
}

/* The child of mode fdtable-lock: a POSIX lock of its own on the shared
 * table, which a dump must refuse. */
static int fdt_locker(void *arg)
{
	(void)arg;
	if (fcntl(fdt_keep, F_SETLK, &(struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET,
						      .l_start = 0, .l_len = 10 }))
		_exit(1);
	put_file("locked", "1\n");
	for (;;)
		pause();
	return 0;
}

static int mode_fdtable_lock(void)
{
	static char stack[64 << 10];
	char p[4096];

	path_of(p, sizeof(p), "keep.dat");
	fdt_keep = open(p, O_RDWR | O_CREAT, 0644);
	if (fdt_keep < 0)
		return finish(false, "open %s: %s", p, strerror(errno));
	if (clone(fdt_locker, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL) < 0)
		return finish(false, "clone(CLONE_FILES): %s", strerror(errno));
	path_of(p, sizeof(p), "locked");
	while (access(p, F_OK))
		msleep(10);
	ready();
	for (;;)
		pause();
}

static int fdt_child(void *arg)
{
	struct fdt *sh = arg;
	char p[4096];
	int fd;

	wait_verify();
	if (fcntl(fdt_keep, F_GETFD) < 0) {
		snprintf(sh->why, sizeof(sh->why), "child: fd %d (keep.dat) is closed", fdt_keep);
		goto out;
	}
	path_of(p, sizeof(p), "child.dat");
	fd = open(p, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		snprintf(sh->why, sizeof(sh->why), "child: open child.dat: %s", strerror(errno));
		goto out;
	}
	sh->kid_fd = fd;
	sh->stage = 1;
	if (!wait_stage(sh, 2)) {
		snprintf(sh->why, sizeof(sh->why), "child: the parent never closed its fd");
		goto out;
	}
	if (fcntl(fdt_close, F_GETFD) >= 0 || errno != EBADF) {
		snprintf(sh->why, sizeof(sh->why),
			 "child: fd %d the parent closed is still open here", fdt_close);
		goto out;
	}
	sh->kid_ok = 1;
out:
	sh->stage = 3;
	_exit(0);
}

static int mode_fdtable(void)
{
	static char stack[64 << 10];
	struct fdt *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct stat a, b;
	char p[4096];
	int status;
	pid_t kid;

	if (sh == MAP_FAILED)
		return finish(false, "mmap: %s", strerror(errno));
	path_of(p, sizeof(p), "keep.dat");
	fdt_keep = open(p, O_RDWR | O_CREAT, 0644);
	path_of(p, sizeof(p), "close.dat");
	fdt_close = open(p, O_RDWR | O_CREAT, 0644);
	if (fdt_keep < 0 || fdt_close < 0)
		return finish(false, "open: %s", strerror(errno));
	/* Taken by the table's first task: restored in it. */
	if (fcntl(fdt_keep, F_SETLK, &(struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET,
						      .l_start = 0, .l_len = 10 }))
		return finish(false, "POSIX lock on keep.dat: %s", strerror(errno));
	kid = clone(fdt_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, sh);
	if (kid < 0)
		return finish(false, "clone(CLONE_FILES): %s", strerror(errno));
	ready();
	wait_verify();
	if (!wait_stage(sh, 1)) {
		kill(kid, SIGKILL);
		return finish(false, "the child never opened its file (%s)", sh->why);
	}
	if (sh->stage >= 3) {
		waitpid(kid, NULL, 0);
		return finish(false, "%s", sh->why);
	}
	path_of(p, sizeof(p), "child.dat");
	if (fcntl(sh->kid_fd, F_GETFD) < 0 || fstat(sh->kid_fd, &a) || stat(p, &b) ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		return finish(false, "fd %d the child opened is not child.dat here", sh->kid_fd);
	}
	if (close(fdt_close)) {
		kill(kid, SIGKILL);
		return finish(false, "close(%d): %s", fdt_close, strerror(errno));
	}
	sh->stage = 2;
	if (!wait_stage(sh, 3) || waitpid(kid, &status, 0) != kid) {
		kill(kid, SIGKILL);
		return finish(false, "the child did not finish");
	}
	if (!sh->kid_ok)
		return finish(false, "%s", sh->why);
	if (!posix_lock_seen())
		return finish(false, "another process does not see this PID's lock on keep.dat 0+10");
	return finish(true, "fdtable (POSIX lock 0+10 on keep.dat kept): the child's new fd %d is open in the parent, the parent's "
		      "closed fd %d is closed in the child", sh->kid_fd, fdt_close);
}

static int mode_lease(void)
{
	char p[4096];
	int fd;

	path_of(p, sizeof(p), "lease.dat");
	close(open(p, O_WRONLY | O_CREAT, 0644));
	fd = open(p, O_RDONLY);
	if (fd < 0 || fcntl(fd, F_SETLEASE, F_RDLCK))
		return finish(false, "read lease on %s: %s", p, strerror(errno));
	/* A child opening the file for writing waits (lease-break-time)
	 * while the lease is being broken: the state a dump must refuse. */
	signal(SIGIO, SIG_IGN);
	if (!fork()) {
		open(p, O_WRONLY);
		_exit(0);
	}
	while (fcntl(fd, F_GETLEASE) == F_RDLCK)
		usleep(10000);
	ready();
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ "lines", required_argument, NULL, 'n' },
		{ 0 }
	};
	const char *mode = NULL;
	int c, lines = 2000;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': lines = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!mode || !dir) {
		fprintf(stderr, "usage: minicr-test-files --mode share|ghost|lock|stdin|fdtable|"
			"fdtable-lock|clonefiles-sibling|lease --dir DIR [--lines N]\n");
		return 2;
	}
	if (!strcmp(mode, "share"))
		return mode_share(lines);
	if (!strcmp(mode, "ghost"))
		return mode_ghost();
	if (!strcmp(mode, "lock"))
		return mode_lock();
	if (!strcmp(mode, "stdin"))
		return mode_stdin();
	if (!strcmp(mode, "clonefiles-sibling"))
		return mode_clonefiles_sibling();
	if (!strcmp(mode, "fdtable"))
		return mode_fdtable();
	if (!strcmp(mode, "fdtable-lock"))
		return mode_fdtable_lock();
	if (!strcmp(mode, "lease"))
		return mode_lease();
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
