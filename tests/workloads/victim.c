/* minicr-test-victim: self-verifying workloads for the restore tests
 * (tests/integration/restore-*.sh).
 *
 *   minicr-test-victim --scenario NAME --dir DIR
 *   minicr-test-victim --now          print CLOCK_MONOTONIC in seconds
 *
 * The root calls setsid(), builds the scenario, records in its own memory
 * (and each task in its own) everything it will check, and creates
 * DIR/up.PID per live task. Once every task is up (and the scenario's
 * pre-dump condition holds, e.g. the sleepers are inside nanosleep), the
 * root writes DIR/ready (written as a temporary file and renamed): one line
 * per live task, "PID COMM". Zombies are not in it.
 *
 * Then every task polls (20 ms nanosleeps, EINTR retried) for DIR/verify,
 * whose content is "GEN T_RESTORE [T_RESTORED]": a generation number chosen
 * by the test and the CLOCK_MONOTONIC times (seconds) taken just before
 * `minicr restore` ran and just after it returned.
 * On seeing it each task checks its own state and writes DIR/result.PID:
 * "OK PID COMM [info]" or "FAIL PID COMM: what; what...". Afterwards every
 * task sleeps forever; the test kills the tree with SIGKILL.
 *
 * Between `ready` and `verify` no task holds a descriptor other than 0, 1
 * and 2 (anything inherited is closed at start): minicr dumps only regular
 * files, and the tasks only call access() while they wait.
 *
 * Scenarios (every live task also checks its pid, ppid, pgid, sid and comm):
 *   tree      depth 3, fanout 3 (40 tasks); each task checks the children
 *             /proc lists for it
 *   sessions  root is a child subreaper; a group whose leader exited (two
 *             members left), a session whose leader exited (its two kids,
 *             one in the dead leader's group, one in its own group with a
 *             child), a live second session with two kids, a group in the
 *             root's session
 *   zombies   two zombie children (exit 7, killed by SIGTERM); after
 *             restore the root reaps them with waitpid and checks the status;
 *             and a child stopped by SIGSTOP: still stopped after restore,
 *             it goes on when the root sends SIGCONT
 *   threads   4 threads (leader + 3): each checks gettid(), its name, its
 *             TLS value and its blocked mask; all 4 counters keep rising;
 *             /proc/self/task lists exactly the recorded TIDs
 *   memory    256 MiB of patterned anonymous memory with a 16 MiB untouched
 *             hole (checksum), a MAP_PRIVATE file mapping with modified
 *             pages, MAP_SHARED anonymous memory shared with a child (the
 *             child writes after restore, the parent must see it, and back),
 *             a PROT_READ region, a PROT_NONE region, a PROT_NONE region
 *             with data, a heap grown by 8 MiB (brk and contents)
 *   signals   handlers (SA_SIGINFO|SA_ONSTACK...), an ignored signal, a
 *             blocked mask, a sigaltstack; pending: SIGUSR2 (thread),
 *             SIGRTMIN+2 value 777 (thread), SIGRTMIN+1 queued twice
 *             (values 4242 then 4343, process-wide); after unblocking every
 *             handler must run once per signal, on the alternate stack, with
 *             the right si_code, si_pid and si_value
 *   sleep     a task in nanosleep() (relative, retried with the remaining
 *             time on EINTR) and one in clock_nanosleep(TIMER_ABSTIME),
 *             both 3 s from ready; each must wake not before its deadline
 *             and at most 1 s after max(deadline, T_RESTORED), and go on
 *   attrs     cwd (a directory with a space in DIR), umask, rlimits,
 *             environment (getenv and /proc/self/environ), cmdline, comm,
 *             for the root and a child with different values (the child
 *             also has a parent-death signal)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_S 30
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static const char *g_dir;
static char g_fail[8192];
static size_t g_faillen;
static char g_info[1024];
static size_t g_infolen;

struct verify {
	long gen;
	double t_restore;      /* CLOCK_MONOTONIC just before minicr restore ran */
	double t_restored;     /* ... and once it had returned */
};

/* ---------------------------------------------------------------- utils */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "minicr-test-victim[%d]: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g_faillen >= sizeof(g_fail) - 64)
		return;
	if (g_faillen)
		g_faillen += snprintf(g_fail + g_faillen, sizeof(g_fail) - g_faillen, "; ");
	va_start(ap, fmt);
	n = vsnprintf(g_fail + g_faillen, sizeof(g_fail) - g_faillen, fmt, ap);
	va_end(ap);
	if (n > 0)
		g_faillen += n;
	if (g_faillen >= sizeof(g_fail))
		g_faillen = sizeof(g_fail) - 1;
}

static void infof(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void infof(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g_infolen >= sizeof(g_info) - 16)
		return;
	if (g_infolen)
		g_info[g_infolen++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(g_info + g_infolen, sizeof(g_info) - g_infolen, fmt, ap);
	va_end(ap);
	if (n > 0)
		g_infolen += n;
	if (g_infolen >= sizeof(g_info))
		g_infolen = sizeof(g_info) - 1;
}

#define CHECK(cond, ...) do { if (!(cond)) failf(__VA_ARGS__); } while (0)

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec ts_of(double s)
{
	struct timespec ts;

	if (s < 0)
		s = 0;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

/* Sleep ms milliseconds like a careful program: EINTR (a dump, a restore,
 * a signal) is retried with what remains until the deadline. */
static void msleep(long ms)
{
	double end = mono() + ms / 1000.0, left;
	struct timespec ts;

	while ((left = end - mono()) > 0) {
		ts = ts_of(left);
		if (nanosleep(&ts, NULL) == 0)
			break;
		if (errno != EINTR)
			die("nanosleep: %m");
	}
}

static void set_comm(const char *comm)
{
	prctl(PR_SET_NAME, comm, 0, 0, 0);
}

static void get_comm(char buf[16])
{
	memset(buf, 0, 16);
	prctl(PR_GET_NAME, buf, 0, 0, 0);
}

/* Write DIR/name atomically (name.tmp, then rename). */
static void put_file(const char *name, const char *content)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(content), off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", g_dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open %s: %m", tmp);
	while (off < len) {
		n = write(fd, content + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s: %m", tmp);
		}
		off += n;
	}
	close(fd);
	if (rename(tmp, path))
		die("rename %s: %m", tmp);
}

/* Read a whole (small) file; returns its length or -1. */
static ssize_t read_whole(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (off < size - 1) {
		n = read(fd, buf + off, size - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = 0;
	return off;
}

static bool verify_seen(struct verify *v)
{
	char path[PATH_MAX], buf[128];

	snprintf(path, sizeof(path), "%s/verify", g_dir);
	if (access(path, F_OK))
		return false;
	if (read_whole(path, buf, sizeof(buf)) <= 0)
		return false;
	switch (sscanf(buf, "%ld %lf %lf", &v->gen, &v->t_restore, &v->t_restored)) {
	case 2:
		v->t_restored = v->t_restore;
		return true;
	case 3:
		return true;
	default:
		return false;
	}
}

/* Poll for DIR/verify every 20 ms, calling tick (if any) each time. */
static void wait_verify(struct verify *v, void (*tick)(void))
{
	for (;;) {
		if (tick)
			tick();
		if (verify_seen(v))
			return;
		msleep(20);
	}
}

static void mark_up(void)
{
	char name[64];

	snprintf(name, sizeof(name), "up.%d", getpid());
	put_file(name, "");
}

static void report(void)
{
	char name[64], comm[16];
	static char out[sizeof(g_fail) + sizeof(g_info) + 128];

	get_comm(comm);
	if (g_faillen)
		snprintf(out, sizeof(out), "FAIL %d %s: %s\n", getpid(), comm, g_fail);
	else
		snprintf(out, sizeof(out), "OK %d %s%s%s\n", getpid(), comm,
			 g_infolen ? " " : "", g_info);
	snprintf(name, sizeof(name), "result.%d", getpid());
	put_file(name, out);
}

static void __attribute__((noreturn)) idle_forever(void)
{
	for (;;)
		msleep(1000);
}

/* ------------------------------------------------------- per-task record */

struct ids {
	pid_t pid, ppid, pgid, sid;
	char comm[16];
};
static struct ids g_ids;

/* /proc/self/maps as "start-end perms path" lines; [heap] is left out (its
 * end moves with malloc; the memory scenario checks the heap itself) */
static char g_maps[32768];

static void maps_norm(char *out, size_t size)
{
	static char raw[65536];
	char *line, *save = NULL;
	size_t n = 0;

	out[0] = 0;
	if (read_whole("/proc/self/maps", raw, sizeof(raw)) <= 0)
		return;
	for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long a, e;
		char perms[5];
		int off = 0;

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &a, &e, perms, &off) < 3)
			continue;
		const char *path = off ? line + off : "";

		if (!strcmp(path, "[heap]"))
			continue;
		if (n < size)
			n += snprintf(out + n, size - n, "%lx-%lx %s %s\n", a, e, perms, path);
	}
}

/* lines of a that b lacks, reported as "WHAT: line" (at most 3) */
static int maps_missing(const char *a, const char *b, const char *what)
{
	const char *l = a, *nl;
	int found = 0;

	for (; *l; l = nl + 1) {
		size_t len;
		const char *p;
		bool in = false;

		nl = strchr(l, '\n');
		if (!nl)
			break;
		len = nl - l + 1;
		for (p = b; *p; ) {
			const char *pn = strchr(p, '\n');

			if (!pn)
				break;
			if ((size_t)(pn - p + 1) == len && !memcmp(p, l, len)) {
				in = true;
				break;
			}
			p = pn + 1;
		}
		if (!in && found++ < 3)
			failf("maps %s: %.*s", what, (int)len - 1, l);
	}
	return found;
}

static void record_ids(void)
{
	g_ids.pid = getpid();
	g_ids.ppid = getppid();
	g_ids.pgid = getpgrp();
	g_ids.sid = getsid(0);
	get_comm(g_ids.comm);
	maps_norm(g_maps, sizeof(g_maps));
}

static void check_ids(void)
{
	static char maps[sizeof(g_maps)];
	char comm[16], path[64], buf[64];

	/* descriptors: exactly 0, 1 and 2 as at dump time (none of minicr's
	 * leaked into the restored task) */
	{
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		char extra[128] = "";
		size_t el = 0;
		int seen = 0;

		if (d) {
			while ((de = readdir(d))) {
				int fd = atoi(de->d_name);

				if (de->d_name[0] == '.' || fd == dirfd(d))
					continue;
				if (fd <= 2)
					seen |= 1 << fd;
				else if (el < sizeof(extra) - 12)
					el += snprintf(extra + el, sizeof(extra) - el, " %d", fd);
			}
			closedir(d);
			CHECK(seen == 7 && !el, "open fds: 0-2 mask %d, extra:%s", seen, el ? extra : " none");
		}
	}
	/* the same mappings as before the dump: none lost, none left over by
	 * the restorer */
	maps_norm(maps, sizeof(maps));
	maps_missing(g_maps, maps, "lost");
	maps_missing(maps, g_maps, "new");

	CHECK(getpid() == g_ids.pid, "getpid() %d, recorded %d", getpid(), g_ids.pid);
	CHECK(syscall(SYS_gettid) == g_ids.pid, "gettid() %ld in the leader, want %d",
	      syscall(SYS_gettid), g_ids.pid);
	CHECK(getppid() == g_ids.ppid, "getppid() %d, recorded %d", getppid(), g_ids.ppid);
	CHECK(getpgrp() == g_ids.pgid, "getpgrp() %d, recorded %d", getpgrp(), g_ids.pgid);
	CHECK(getsid(0) == g_ids.sid, "getsid() %d, recorded %d", getsid(0), g_ids.sid);
	get_comm(comm);
	CHECK(!strcmp(comm, g_ids.comm), "comm '%s', recorded '%s'", comm, g_ids.comm);
	snprintf(path, sizeof(path), "/proc/%d/comm", getpid());
	if (read_whole(path, buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = 0;
		CHECK(!strcmp(buf, g_ids.comm), "/proc/PID/comm '%s', recorded '%s'", buf, g_ids.comm);
	}
}

/* The common life of a task: record, report up, wait for verify, check,
 * write the result, sleep forever. */
static void __attribute__((noreturn)) task_loop(void (*check)(struct verify *),
						 void (*tick)(void))
{
	struct verify v;

	record_ids();
	mark_up();
	wait_verify(&v, tick);
	check_ids();
	if (check)
		check(&v);
	report();
	idle_forever();
}

/* fork a task named comm running body (which must not return). */
static pid_t fork_task(const char *comm, void (*body)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %m");
	if (pid == 0) {
		set_comm(comm);
		g_faillen = g_infolen = 0;
		body();
		_exit(99);
	}
	return pid;
}

/* Read a /proc/self/status field ("SigBlk:" etc.) into buf. */
static bool status_field(const char *path, const char *key, char *out, size_t size)
{
	static char buf[8192];
	char *p;
	size_t klen = strlen(key);

	if (read_whole(path, buf, sizeof(buf)) <= 0)
		return false;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, klen)) {
			p += klen;
			while (*p == ' ' || *p == '\t')
				p++;
			snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ tree */

static pid_t tree_kids[3];
static int tree_nkids;

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void tree_check(struct verify *v)
{
	char path[64], buf[512], *s, *e;
	pid_t got[16], want[3];
	int n = 0, i;
	bool same;

	(void)v;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	if (read_whole(path, buf, sizeof(buf)) < 0) {
		failf("cannot read %s", path);
		return;
	}
	for (s = buf; n < 16; s = e) {
		long p = strtol(s, &e, 10);

		if (e == s)
			break;
		got[n++] = p;
	}
	memcpy(want, tree_kids, sizeof(want));
	qsort(got, n, sizeof(pid_t), cmp_pid);
	qsort(want, tree_nkids, sizeof(pid_t), cmp_pid);
	same = n == tree_nkids;
	for (i = 0; same && i < n; i++)
		same = got[i] == want[i];
	CHECK(same, "children '%.*s', recorded %d children", (int)strcspn(buf, "\n"), buf,
	      tree_nkids);
	infof("children=%d", n);
}

static int tree_level;

static void tree_body(void);

static void tree_build(void)
{
	char comm[16];
	int i;

	tree_nkids = 0;
	if (tree_level >= 3)
		return;
	for (i = 0; i < 3; i++) {
		snprintf(comm, sizeof(comm), "tree-%d-%d", (tree_level + 1) & 7, i & 7);
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %m");
		if (pid == 0) {
			set_comm(comm);
			tree_level++;
			tree_body();
		}
		tree_kids[tree_nkids++] = pid;
	}
}

static void tree_body(void)
{
	tree_build();
	task_loop(tree_check, NULL);
}

static int scen_tree(void)
{
	tree_level = 0;
	tree_build();
	return 40;
}

/* -------------------------------------------------------------- sessions */

static void plain_body(void)
{
	task_loop(NULL, NULL);
}

/* A kid of a session leader that exits: wait until we are reparented. */
static void orphan_wait(void)
{
	pid_t p0 = getppid();
	double end = mono() + 10;

	while (getppid() == p0 && mono() < end)
		msleep(5);
	if (getppid() == p0)
		die("parent %d did not exit", p0);
}

static void sess_kid1_body(void)
{
	orphan_wait();
	task_loop(NULL, NULL);
}

static void sess_kid2_body(void)
{
	setpgid(0, 0);
	fork_task("sess-kid2a", plain_body);
	orphan_wait();
	task_loop(NULL, NULL);
}

static void sess_leader_body(void)
{
	pid_t k1, k2;

	if (setsid() < 0)
		die("setsid: %m");
	k1 = fork_task("sess-kid1", sess_kid1_body);
	k2 = fork_task("sess-kid2", sess_kid2_body);
	setpgid(k2, k2);
	(void)k1;
	/* the kids must be in place (sess-kid2a forked) before we go */
	msleep(100);
	_exit(0);
}

static void pgkid_body(void)
{
	setpgid(0, 0);
	task_loop(NULL, NULL);
}

static void sess2_leader_body(void)
{
	pid_t k;

	if (setsid() < 0)
		die("setsid: %m");
	fork_task("sess2-kid", plain_body);
	k = fork_task("sess2-pgkid", pgkid_body);
	setpgid(k, k);
	task_loop(NULL, NULL);
}

static void rootpg_body(void)
{
	pid_t k;

	setpgid(0, 0);
	k = fork_task("rootpg-kid", plain_body);
	(void)k;
	task_loop(NULL, NULL);
}

static void grp_leader_body(void)
{
	setpgid(0, 0);
	for (;;)
		pause();
}

static pid_t g_grp_leader;

static void grp_member_body(void)
{
	setpgid(0, g_grp_leader);
	/* wait until the leader is gone (our parent kills and reaps it) */
	while (kill(g_grp_leader, 0) == 0)
		msleep(5);
	task_loop(NULL, NULL);
}

static void sessions_root_check(struct verify *v)
{
	int r = -1;

	(void)v;
	prctl(PR_GET_CHILD_SUBREAPER, &r, 0, 0, 0);
	CHECK(r == 1, "PR_GET_CHILD_SUBREAPER %d, want 1", r);
}

static int scen_sessions(void)
{
	pid_t m1, m2, sl, rp;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("PR_SET_CHILD_SUBREAPER: %m");
	/* a group whose leader exits, two members left */
	g_grp_leader = fork_task("grp-leader", grp_leader_body);
	setpgid(g_grp_leader, g_grp_leader);
	m1 = fork_task("grp-member1", grp_member_body);
	setpgid(m1, g_grp_leader);
	m2 = fork_task("grp-member2", grp_member_body);
	setpgid(m2, g_grp_leader);
	msleep(50);
	kill(g_grp_leader, SIGKILL);
	if (waitpid(g_grp_leader, NULL, 0) != g_grp_leader)
		die("waitpid grp-leader: %m");
	/* a session whose leader exits; its kids come to us (subreaper) */
	sl = fork_task("sess-leader", sess_leader_body);
	if (waitpid(sl, NULL, 0) != sl)
		die("waitpid sess-leader: %m");
	/* a live second session */
	fork_task("sess2-leader", sess2_leader_body);
	/* a group in the root's session */
	rp = fork_task("rootpg-leader", rootpg_body);
	setpgid(rp, rp);
	return 11;  /* root, m1, m2, kid1, kid2, kid2a, s2, s2-kid, s2-pgkid, rp, rp-kid */
}

/* --------------------------------------------------------------- zombies */

static pid_t z_exit7, z_term, z_stopped;

static void z7_body(void)
{
	_exit(7);
}

static void zterm_body(void)
{
	for (;;)
		pause();
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_whole(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void zombies_check(struct verify *v)
{
	int st;
	pid_t r;

	(void)v;
	CHECK(proc_state(z_exit7) == 'Z', "zombie %d: state '%c', want Z", z_exit7,
	      proc_state(z_exit7));
	CHECK(proc_state(z_term) == 'Z', "zombie %d: state '%c', want Z", z_term,
	      proc_state(z_term));
	r = waitpid(z_exit7, &st, WNOHANG);
	if (r != z_exit7)
		failf("waitpid(%d, WNOHANG) = %d (%m), want the exited zombie", z_exit7, r);
	else
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7,
		      "zombie %d: status 0x%x, want exit code 7", z_exit7, st);
	r = waitpid(z_term, &st, WNOHANG);
	if (r != z_term)
		failf("waitpid(%d, WNOHANG) = %d (%m), want the killed zombie", z_term, r);
	else
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && !WCOREDUMP(st),
		      "zombie %d: status 0x%x, want killed by SIGTERM (0x%x)", z_term, st,
		      SIGTERM);
	r = waitpid(-1, &st, WNOHANG | __WALL);
	CHECK(r == 0, "waitpid(-1) after reaping: %d (%m), want 0 (only the stopped kid left)", r);
	CHECK(proc_state(z_exit7) == 0, "zombie %d still in /proc after reaping", z_exit7);
	CHECK(proc_state(z_term) == 0, "zombie %d still in /proc after reaping", z_term);
	infof("reaped %d (exit 7) and %d (SIGTERM)", z_exit7, z_term);
	/* the stopped kid: still stopped after restore, goes on with SIGCONT
	 * (then verifies itself) */
	char s0 = proc_state(z_stopped);
	double end;

	CHECK(s0 == 'T', "stopped kid %d: state '%c' after restore, want T", z_stopped, s0);
	kill(z_stopped, SIGCONT);
	end = mono() + 5;
	while (proc_state(z_stopped) == 'T' && mono() < end)
		msleep(5);
	CHECK(proc_state(z_stopped) != 'T', "stopped kid %d does not go on after SIGCONT", z_stopped);
}

static void stopped_body(void)
{
	struct verify v;

	record_ids();
	mark_up();
	raise(SIGSTOP);
	wait_verify(&v, NULL);
	check_ids();
	report();
	idle_forever();
}

static int scen_zombies(void)
{
	siginfo_t si;

	z_exit7 = fork_task("zombie-exit7", z7_body);
	z_term = fork_task("zombie-term", zterm_body);
	for (int i = 0; i < 1000; i++) {   /* let it take its name first */
		char path[64], comm[32] = "";

		snprintf(path, sizeof(path), "/proc/%d/comm", z_term);
		read_whole(path, comm, sizeof(comm));
		if (!strcmp(comm, "zombie-term\n"))
			break;
		msleep(2);
	}
	kill(z_term, SIGTERM);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z_exit7, &si, WEXITED | WNOWAIT))
		die("waitid: %m");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z_term, &si, WEXITED | WNOWAIT))
		die("waitid: %m");
	z_stopped = fork_task("stopped-kid", stopped_body);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z_stopped, &si, WSTOPPED | WNOWAIT))
		die("waitid: %m");
	return 2;
}

/* --------------------------------------------------------------- threads */

#define NTHREADS 4   /* leader included */

static __thread long t_tls = -1;

struct thr {
	pthread_t th;
	int idx;
	pid_t tid;
	char name[16];
	sigset_t mask;
	_Atomic unsigned long counter;
	_Atomic int verify_gen;     /* set by the leader */
	_Atomic int done_gen;       /* set by the thread once checked */
	char fail[512];
};
static struct thr g_thr[NTHREADS];
static _Atomic int g_thr_up;

static void thr_selfcheck(struct thr *t)
{
	char name[16];
	sigset_t cur;
	int s, n = 0;

	t->fail[0] = 0;
	if (syscall(SYS_gettid) != t->tid)
		n += snprintf(t->fail + n, sizeof(t->fail) - n, "thread %d: gettid() %ld, recorded %d; ",
			      t->idx, syscall(SYS_gettid), t->tid);
	get_comm(name);
	if (strcmp(name, t->name))
		n += snprintf(t->fail + n, sizeof(t->fail) - n, "thread %d: name '%s', want '%s'; ",
			      t->idx, name, t->name);
	if (t_tls != 1000 + t->idx)
		n += snprintf(t->fail + n, sizeof(t->fail) - n, "thread %d: TLS %ld, want %d; ",
			      t->idx, t_tls, 1000 + t->idx);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	for (s = 1; s < NSIG; s++)
		if (sigismember(&cur, s) != sigismember(&t->mask, s) && s != SIGKILL && s != SIGSTOP &&
		    n < (int)sizeof(t->fail) - 80) {
			n += snprintf(t->fail + n, sizeof(t->fail) - n,
				      "thread %d: signal %d %sblocked; ", t->idx, s,
				      sigismember(&cur, s) ? "" : "not ");
			break;
		}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	sigset_t m;

	t->tid = syscall(SYS_gettid);
	t_tls = 1000 + t->idx;
	snprintf(t->name, sizeof(t->name), "vthr-%d", t->idx);
	set_comm(t->name);
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 3 + t->idx);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &t->mask);
	g_thr_up++;
	for (;;) {
		int g = t->verify_gen;

		t->counter++;
		if (g && t->done_gen != g) {
			thr_selfcheck(t);
			t->done_gen = g;
		}
		msleep(3);
	}
	return NULL;
}

static void threads_tick(void)
{
	g_thr[0].counter++;
}

static void threads_check(struct verify *v)
{
	unsigned long c0[NTHREADS], c1[NTHREADS];
	pid_t want[NTHREADS], got[64];
	int i, n = 0;
	DIR *d;
	struct dirent *de;
	double end;

	/* the leader's own part */
	g_thr[0].verify_gen = (int)v->gen;
	thr_selfcheck(&g_thr[0]);
	g_thr[0].done_gen = (int)v->gen;
	for (i = 1; i < NTHREADS; i++)
		g_thr[i].verify_gen = (int)v->gen;
	end = mono() + 5;
	for (i = 1; i < NTHREADS; i++)
		while (g_thr[i].done_gen != v->gen && mono() < end)
			msleep(5);
	for (i = 0; i < NTHREADS; i++) {
		if (g_thr[i].done_gen != v->gen)
			failf("thread %d (tid %d) did not check itself within 5 s", i, g_thr[i].tid);
		else if (g_thr[i].fail[0])
			failf("%s", g_thr[i].fail);
	}
	/* counters keep rising */
	for (i = 0; i < NTHREADS; i++)
		c0[i] = g_thr[i].counter;
	msleep(200);
	threads_tick();
	for (i = 0; i < NTHREADS; i++) {
		c1[i] = g_thr[i].counter;
		CHECK(c1[i] > c0[i], "thread %d counter stuck at %lu", i, c1[i]);
	}
	/* /proc/self/task: exactly the recorded TIDs */
	d = opendir("/proc/self/task");
	if (!d) {
		failf("opendir /proc/self/task: %m");
		return;
	}
	while ((de = readdir(d)) && n < 64)
		if (de->d_name[0] != '.')
			got[n++] = atoi(de->d_name);
	closedir(d);
	for (i = 0; i < NTHREADS; i++)
		want[i] = g_thr[i].tid;
	qsort(got, n, sizeof(pid_t), cmp_pid);
	qsort(want, NTHREADS, sizeof(pid_t), cmp_pid);
	if (n != NTHREADS || memcmp(got, want, sizeof(want)))
		failf("/proc/self/task has %d threads, not the recorded %d,%d,%d,%d", n, want[0],
		      want[1], want[2], want[3]);
	infof("tids=%d,%d,%d,%d counters=%lu,%lu,%lu,%lu", g_thr[0].tid, g_thr[1].tid,
	      g_thr[2].tid, g_thr[3].tid, c1[0], c1[1], c1[2], c1[3]);
}

static int scen_threads(void)
{
	sigset_t m;
	int i;
	double end;

	g_thr[0].idx = 0;
	g_thr[0].tid = getpid();
	t_tls = 1000;
	snprintf(g_thr[0].name, sizeof(g_thr[0].name), "v-threads");
	set_comm(g_thr[0].name);
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 3);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &g_thr[0].mask);
	for (i = 1; i < NTHREADS; i++) {
		g_thr[i].idx = i;
		if (pthread_create(&g_thr[i].th, NULL, thr_main, &g_thr[i]))
			die("pthread_create");
	}
	end = mono() + 10;
	while (g_thr_up < NTHREADS - 1 && mono() < end)
		msleep(5);
	if (g_thr_up < NTHREADS - 1)
		die("threads did not start");
	return 1;
}

/* ---------------------------------------------------------------- memory */

#define BIG_SIZE (256UL << 20)
#define HOLE_OFF (100UL << 20)
#define HOLE_LEN (16UL << 20)
#define FMAP_SIZE (1UL << 20)
#define SHM_SIZE (1UL << 20)
#define SMALL_SIZE (64UL << 10)
#define HEAP_GROW (8UL << 20)
#define PG 4096UL

static uint64_t *g_big;
static uint64_t g_big_sum;
static unsigned char *g_fmap;
static uint64_t *g_shm;
static unsigned char *g_ro, *g_none, *g_none_data;
static unsigned char *g_heap, *g_brk;
static unsigned long g_start_brk;
static pid_t g_mem_child;
static const unsigned fmap_dirty[] = { 0, 5, 100, 255 };

static uint64_t pat(uint64_t i, uint64_t seed)
{
	return (i + seed) * 0x9E3779B97F4A7C15ULL;
}

static uint64_t big_sum(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i, n = BIG_SIZE / 8;

	for (i = 0; i < n; i++)
		h = (h ^ g_big[i]) * 0x100000001b3ULL;
	return h;
}

/* perms of the mapping that contains addr, from /proc/self/maps */
static bool map_of(const void *addr, unsigned long *start, unsigned long *end, char perms[5],
		   char *path, size_t psize)
{
	static char buf[1 << 16];
	char *line, *save = NULL;
	unsigned long a = (unsigned long)addr;

	if (read_whole("/proc/self/maps", buf, sizeof(buf)) <= 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;
		char p[5];
		int off = 0;

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &s, &e, p, &off) < 3)
			continue;
		if (a >= s && a < e) {
			*start = s;
			*end = e;
			memcpy(perms, p, 5);
			snprintf(path, psize, "%s", off ? line + off : "");
			return true;
		}
	}
	return false;
}

static void check_map(const char *what, const void *addr, size_t len, const char *perms,
		      const char *path_end)
{
	unsigned long s, e;
	char p[5], path[PATH_MAX];

	if (!map_of(addr, &s, &e, p, path, sizeof(path))) {
		failf("%s: no mapping at %p", what, addr);
		return;
	}
	CHECK(s <= (unsigned long)addr && e >= (unsigned long)addr + len,
	      "%s: mapping %lx-%lx does not cover %p+%zu", what, s, e, addr, len);
	CHECK(!strcmp(p, perms), "%s: perms %s, want %s", what, p, perms);
	if (path_end) {
		size_t pl = strlen(path), el = strlen(path_end);

		CHECK(pl >= el && !strcmp(path + pl - el, path_end), "%s: maps path '%s', want *%s",
		      what, path, path_end);
	}
}

static bool fmap_is_dirty(unsigned pg)
{
	size_t i;

	for (i = 0; i < sizeof(fmap_dirty) / sizeof(fmap_dirty[0]); i++)
		if (fmap_dirty[i] == pg)
			return true;
	return false;
}

/* shared page layout (u64 index): [0..1023] parent's pattern, [1024..2047]
 * child's pattern, [4096] child -> parent gen, [4097] parent -> child gen */
#define SHM_CHILD_OFF 1024
#define SHM_C2P 4096
#define SHM_P2C 4097

static void shm_check_patterns(void)
{
	size_t i;

	for (i = 0; i < 1024; i++)
		if (g_shm[i] != pat(i, 77)) {
			failf("MAP_SHARED: parent's word %zu is %" PRIx64, i, g_shm[i]);
			break;
		}
	for (i = 0; i < 1024; i++)
		if (g_shm[SHM_CHILD_OFF + i] != pat(i, 88)) {
			failf("MAP_SHARED: child's word %zu is %" PRIx64, i, g_shm[SHM_CHILD_OFF + i]);
			break;
		}
}

static void mem_child_check(struct verify *v)
{
	_Atomic uint64_t *c2p = (_Atomic uint64_t *)&g_shm[SHM_C2P];
	_Atomic uint64_t *p2c = (_Atomic uint64_t *)&g_shm[SHM_P2C];
	uint64_t want = 0xC0DE000000000000ULL | (uint64_t)v->gen;
	double end;

	shm_check_patterns();
	*c2p = want;
	end = mono() + 10;
	while (*p2c != (want ^ 0xFF) && mono() < end)
		msleep(5);
	CHECK(*p2c == (want ^ 0xFF), "MAP_SHARED: parent's post-restore write not seen (%" PRIx64 ")",
	      (uint64_t)*p2c);
}

static void mem_child_body(void)
{
	size_t i;

	for (i = 0; i < 1024; i++)
		g_shm[SHM_CHILD_OFF + i] = pat(i, 88);
	task_loop(mem_child_check, NULL);
}

static unsigned long stat_field(int field)
{
	char buf[2048], *p;
	int f;

	if (read_whole("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2;   /* field 3 */
	for (f = 3; f < field && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoul(p, NULL, 10) : 0;
}

static void memory_check(struct verify *v)
{
	_Atomic uint64_t *c2p = (_Atomic uint64_t *)&g_shm[SHM_C2P];
	_Atomic uint64_t *p2c = (_Atomic uint64_t *)&g_shm[SHM_P2C];
	uint64_t want = 0xC0DE000000000000ULL | (uint64_t)v->gen, sum;
	size_t i;
	unsigned pg;
	double t, end;

	/* 256 MiB */
	t = mono();
	sum = big_sum();
	CHECK(sum == g_big_sum, "256 MiB checksum %" PRIx64 ", recorded %" PRIx64, sum, g_big_sum);
	for (i = HOLE_OFF / 8; i < (HOLE_OFF + HOLE_LEN) / 8; i += PG / 8)
		if (g_big[i]) {
			failf("untouched hole: word %zu is %" PRIx64, i, g_big[i]);
			break;
		}
	check_map("256 MiB anonymous", g_big, BIG_SIZE, "rw-p", NULL);
	infof("checksum %.3fs", mono() - t);
	/* MAP_PRIVATE file mapping with modified pages */
	for (pg = 0; pg < FMAP_SIZE / PG; pg++) {
		unsigned char want_b = fmap_is_dirty(pg) ? (unsigned char)(0xA0 + pg) : (unsigned char)pg;

		for (i = 0; i < PG; i += 512)
			if (g_fmap[pg * PG + i] != want_b) {
				failf("MAP_PRIVATE file page %u byte %zu: 0x%02x, want 0x%02x (%s)", pg, i,
				      g_fmap[pg * PG + i], want_b,
				      fmap_is_dirty(pg) ? "modified page" : "file content");
				pg = FMAP_SIZE;
				break;
			}
	}
	check_map("MAP_PRIVATE file", g_fmap, FMAP_SIZE, "rw-p", "/mapped.dat");
	{	/* the private changes did not reach the file */
		char path[PATH_MAX];
		static unsigned char fbuf[FMAP_SIZE];
		int fd;

		snprintf(path, sizeof(path), "%s/mapped.dat", g_dir);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || pread(fd, fbuf, FMAP_SIZE, 0) != (ssize_t)FMAP_SIZE)
			failf("cannot read %s", path);
		else
			for (i = 0; i < FMAP_SIZE; i += 512)
				if (fbuf[i] != (unsigned char)(i / PG)) {
					failf("mapped.dat byte %zu on disk is 0x%02x: private changes written back",
					      i, fbuf[i]);
					break;
				}
		if (fd >= 0)
			close(fd);
	}
	/* MAP_SHARED with the child, both ways */
	check_map("MAP_SHARED anonymous", g_shm, SHM_SIZE, "rw-s", NULL);
	shm_check_patterns();
	end = mono() + 10;
	while (*c2p != want && mono() < end)
		msleep(5);
	CHECK(*c2p == want, "MAP_SHARED: the child's post-restore write is not seen (%" PRIx64
	      ", want %" PRIx64 ")", (uint64_t)*c2p, want);
	*p2c = want ^ 0xFF;
	/* PROT_READ */
	check_map("PROT_READ", g_ro, SMALL_SIZE, "r--p", NULL);
	for (i = 0; i < SMALL_SIZE; i++)
		if (g_ro[i] != (unsigned char)(i * 7)) {
			failf("PROT_READ byte %zu is 0x%02x", i, g_ro[i]);
			break;
		}
	/* PROT_NONE (empty, and with data) */
	check_map("PROT_NONE", g_none, SMALL_SIZE, "---p", NULL);
	check_map("PROT_NONE with data", g_none_data, SMALL_SIZE, "---p", NULL);
	if (mprotect(g_none_data, SMALL_SIZE, PROT_READ))
		failf("mprotect PROT_READ: %m");
	else
		for (i = 0; i < SMALL_SIZE; i++)
			if (g_none_data[i] != (unsigned char)(i * 13 + 1)) {
				failf("PROT_NONE data byte %zu is 0x%02x", i, g_none_data[i]);
				break;
			}
	mprotect(g_none_data, SMALL_SIZE, PROT_NONE);
	/* heap grown by 8 MiB */
	CHECK(sbrk(0) == g_brk, "brk %p, recorded %p", sbrk(0), (void *)g_brk);
	CHECK(stat_field(47) == g_start_brk, "start_brk %lx, recorded %lx", stat_field(47),
	      g_start_brk);
	for (i = 0; i < HEAP_GROW; i += 64)
		if (g_heap[i] != (unsigned char)(i / 64 * 3)) {
			failf("heap byte %zu is 0x%02x", i, g_heap[i]);
			break;
		}
	if (sbrk(1 << 20) != g_brk)
		failf("sbrk(+1 MiB) did not extend from the recorded brk");
	else {
		memset(g_brk, 0x5a, 1 << 20);
		sbrk(-(1 << 20));
	}
	CHECK(sbrk(0) == g_brk, "brk %p after grow+shrink, want %p", sbrk(0), (void *)g_brk);
}

static int scen_memory(void)
{
	char path[PATH_MAX];
	unsigned char *page;
	size_t i;
	unsigned pg;
	int fd;

	/* MAP_SHARED anonymous, shared with the child */
	g_shm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_shm == MAP_FAILED)
		die("mmap shared: %m");
	for (i = 0; i < 1024; i++)
		g_shm[i] = pat(i, 77);
	g_mem_child = fork_task("mem-child", mem_child_body);

	/* 256 MiB patterned, with an untouched hole */
	g_big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_big == MAP_FAILED)
		die("mmap 256 MiB: %m");
	for (i = 0; i < BIG_SIZE / 8; i++) {
		if (i == HOLE_OFF / 8)
			i = (HOLE_OFF + HOLE_LEN) / 8;
		g_big[i] = pat(i, 1);
	}
	g_big_sum = big_sum();

	/* MAP_PRIVATE file mapping, some pages modified */
	snprintf(path, sizeof(path), "%s/mapped.dat", g_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open %s: %m", path);
	page = malloc(PG);
	for (pg = 0; pg < FMAP_SIZE / PG; pg++) {
		memset(page, pg & 0xff, PG);
		if (write(fd, page, PG) != (ssize_t)PG)
			die("write %s: %m", path);
	}
	free(page);
	g_fmap = mmap(NULL, FMAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (g_fmap == MAP_FAILED)
		die("mmap %s: %m", path);
	close(fd);
	for (pg = 0; pg < FMAP_SIZE / PG; pg++)   /* read every page in */
		(void)*(volatile unsigned char *)(g_fmap + pg * PG);
	for (i = 0; i < sizeof(fmap_dirty) / sizeof(fmap_dirty[0]); i++)
		memset(g_fmap + fmap_dirty[i] * PG, 0xA0 + fmap_dirty[i], PG);

	/* PROT_READ with data; PROT_NONE empty; PROT_NONE with data */
	g_ro = mmap(NULL, SMALL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_none = mmap(NULL, SMALL_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_none_data = mmap(NULL, SMALL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_ro == MAP_FAILED || g_none == MAP_FAILED || g_none_data == MAP_FAILED)
		die("mmap small: %m");
	for (i = 0; i < SMALL_SIZE; i++) {
		g_ro[i] = (unsigned char)(i * 7);
		g_none_data[i] = (unsigned char)(i * 13 + 1);
	}
	if (mprotect(g_ro, SMALL_SIZE, PROT_READ) || mprotect(g_none_data, SMALL_SIZE, PROT_NONE))
		die("mprotect: %m");

	/* heap grown by 8 MiB */
	g_start_brk = stat_field(47);
	g_heap = sbrk(HEAP_GROW);
	if (g_heap == (void *)-1)
		die("sbrk: %m");
	for (i = 0; i < HEAP_GROW; i += 64)
		g_heap[i] = (unsigned char)(i / 64 * 3);
	g_brk = sbrk(0);
	return 2;
}

/* --------------------------------------------------------------- signals */

#define ALTSTACK_SIZE (64 << 10)
static unsigned char g_altstack[ALTSTACK_SIZE] __attribute__((aligned(4096)));

struct siglog {
	int signo, code;
	pid_t pid;
	long value;
	bool on_alt;
};
static struct siglog g_siglog[16];
static _Atomic int g_nsig;
static sigset_t g_sig_blocked;
static char g_shdpnd[32], g_sigpnd[32];

static void handler(int sig, siginfo_t *si, void *uc)
{
	unsigned char local;
	int n = g_nsig;

	(void)uc;
	if (n < 16) {
		g_siglog[n].signo = sig;
		g_siglog[n].code = si->si_code;
		g_siglog[n].pid = si->si_pid;
		g_siglog[n].value = si->si_value.sival_int;
		g_siglog[n].on_alt = &local >= g_altstack && &local < g_altstack + ALTSTACK_SIZE;
		g_nsig = n + 1;
	}
}

struct sigwant {
	int sig;
	void *handler;
	int flags;
	int mask_sig;   /* a signal in sa_mask, or 0 */
};
static struct sigwant g_sigwant[4];
static void sig_setup(void)
{
	struct sigaction sa;
	int i;

	g_sigwant[0] = (struct sigwant){ SIGUSR1, (void *)handler, SA_SIGINFO | SA_ONSTACK | SA_RESTART, SIGUSR2 };
	g_sigwant[1] = (struct sigwant){ SIGUSR2, (void *)handler, SA_SIGINFO | SA_ONSTACK, SIGHUP };
	g_sigwant[2] = (struct sigwant){ SIGRTMIN + 1, (void *)handler, SA_SIGINFO | SA_ONSTACK, 0 };
	g_sigwant[3] = (struct sigwant){ SIGRTMIN + 2, (void *)handler, SA_SIGINFO | SA_ONSTACK | SA_NODEFER, SIGRTMIN + 5 };
	for (i = 0; i < 4; i++) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = handler;
		sa.sa_flags = g_sigwant[i].flags;
		sigemptyset(&sa.sa_mask);
		if (g_sigwant[i].mask_sig)
			sigaddset(&sa.sa_mask, g_sigwant[i].mask_sig);
		if (sigaction(g_sigwant[i].sig, &sa, NULL))
			die("sigaction: %m");
	}
	signal(SIGTERM, SIG_IGN);
}

static void signals_check(struct verify *v)
{
	struct sigaction sa;
	sigset_t cur, pend, unb;
	stack_t ss;
	char buf[32];
	int i, s, n, rt1 = 0, rt1_vals[2] = { 0 };
	bool seen_usr2 = false, seen_rt2 = false;
	double end;

	(void)v;
	/* dispositions */
	for (i = 0; i < 4; i++) {
		struct sigwant *w = &g_sigwant[i];

		sigaction(w->sig, NULL, &sa);
		CHECK((void *)sa.sa_sigaction == w->handler, "signal %d: handler %p, want %p", w->sig,
		      (void *)sa.sa_sigaction, w->handler);
		CHECK((sa.sa_flags & ~SA_RESTORER) == w->flags, "signal %d: flags 0x%x, want 0x%x",
		      w->sig, sa.sa_flags & ~SA_RESTORER, w->flags);
		for (s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP &&
			    sigismember(&sa.sa_mask, s) != (s == w->mask_sig)) {
				failf("signal %d: sa_mask has signal %d %s", w->sig, s,
				      sigismember(&sa.sa_mask, s) ? "set" : "missing");
				break;
			}
	}
	sigaction(SIGTERM, NULL, &sa);
	CHECK(sa.sa_handler == SIG_IGN, "SIGTERM is not ignored");
	sigaction(SIGINT, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "SIGINT is not SIG_DFL");
	/* blocked mask */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (s = 1; s < NSIG; s++)
		if (sigismember(&cur, s) != sigismember(&g_sig_blocked, s)) {
			failf("blocked mask: signal %d %s", s, sigismember(&cur, s) ? "blocked" : "not blocked");
			break;
		}
	/* sigaltstack */
	memset(&ss, 0, sizeof(ss));
	sigaltstack(NULL, &ss);
	CHECK(ss.ss_sp == g_altstack && ss.ss_size == ALTSTACK_SIZE && ss.ss_flags == 0,
	      "sigaltstack %p/%zu/flags %d, want %p/%d/0", ss.ss_sp, ss.ss_size, ss.ss_flags,
	      (void *)g_altstack, ALTSTACK_SIZE);
	/* pending: as /proc showed before the dump, and by sigpending() */
	if (status_field("/proc/self/status", "ShdPnd:", buf, sizeof(buf)))
		CHECK(!strcmp(buf, g_shdpnd), "ShdPnd %s, recorded %s", buf, g_shdpnd);
	if (status_field("/proc/self/status", "SigPnd:", buf, sizeof(buf)))
		CHECK(!strcmp(buf, g_sigpnd), "SigPnd %s, recorded %s", buf, g_sigpnd);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2) && sigismember(&pend, SIGRTMIN + 1) &&
	      sigismember(&pend, SIGRTMIN + 2), "sigpending lacks SIGUSR2/SIGRTMIN+1/SIGRTMIN+2");
	CHECK(g_nsig == 0, "%d handlers ran before unblocking", g_nsig);
	/* unblock: every pending signal must be delivered */
	sigemptyset(&unb);
	sigaddset(&unb, SIGUSR2);
	sigaddset(&unb, SIGRTMIN + 1);
	sigaddset(&unb, SIGRTMIN + 2);
	sigprocmask(SIG_UNBLOCK, &unb, NULL);
	end = mono() + 2;
	while (g_nsig < 4 && mono() < end)
		msleep(5);
	n = g_nsig;
	for (i = 0; i < n && i < 16; i++) {
		struct siglog *l = &g_siglog[i];

		CHECK(l->on_alt, "signal %d: handler not on the alternate stack", l->signo);
		CHECK(l->pid == getpid(), "signal %d: si_pid %d, want %d", l->signo, l->pid, getpid());
		if (l->signo == SIGUSR2) {
			CHECK(!seen_usr2, "SIGUSR2 delivered twice");
			seen_usr2 = true;
			CHECK(l->code == SI_TKILL, "SIGUSR2: si_code %d, want SI_TKILL", l->code);
		} else if (l->signo == SIGRTMIN + 2) {
			CHECK(!seen_rt2, "SIGRTMIN+2 delivered twice");
			seen_rt2 = true;
			CHECK(l->code == SI_QUEUE && l->value == 777,
			      "SIGRTMIN+2: si_code %d value %ld, want SI_QUEUE 777", l->code, l->value);
		} else if (l->signo == SIGRTMIN + 1) {
			CHECK(l->code == SI_QUEUE, "SIGRTMIN+1: si_code %d, want SI_QUEUE", l->code);
			if (rt1 < 2)
				rt1_vals[rt1] = l->value;
			rt1++;
		} else {
			failf("unexpected signal %d", l->signo);
		}
	}
	CHECK(seen_usr2, "pending SIGUSR2 not delivered");
	CHECK(seen_rt2, "pending SIGRTMIN+2 (value 777) not delivered");
	CHECK(rt1 == 2 && rt1_vals[0] == 4242 && rt1_vals[1] == 4343,
	      "SIGRTMIN+1: %d delivered (values %d, %d), want 2: 4242 then 4343", rt1, rt1_vals[0],
	      rt1_vals[1]);
	sigpending(&pend);
	CHECK(sigisemptyset(&pend), "signals still pending after delivery");
	infof("delivered=%d", n);
	/* back to the recorded mask for the next generation's sake */
	sigprocmask(SIG_SETMASK, &g_sig_blocked, NULL);
}

static int scen_signals(void)
{
	stack_t ss;
	sigset_t m;
	union sigval sv;

	sig_setup();
	ss.ss_sp = g_altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		die("sigaltstack: %m");
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 1);
	sigaddset(&m, SIGRTMIN + 2);
	sigaddset(&m, SIGQUIT);
	sigaddset(&m, SIGRTMAX);
	if (sigprocmask(SIG_SETMASK, &m, NULL))
		die("sigprocmask: %m");
	sigprocmask(SIG_SETMASK, NULL, &g_sig_blocked);
	raise(SIGUSR2);                                     /* thread-private, SI_TKILL */
	sv.sival_int = 777;
	if (pthread_sigqueue(pthread_self(), SIGRTMIN + 2, sv))   /* thread-private */
		die("pthread_sigqueue");
	sv.sival_int = 4242;
	if (sigqueue(getpid(), SIGRTMIN + 1, sv))           /* process-wide */
		die("sigqueue: %m");
	sv.sival_int = 4343;
	if (sigqueue(getpid(), SIGRTMIN + 1, sv))
		die("sigqueue: %m");
	if (!status_field("/proc/self/status", "ShdPnd:", g_shdpnd, sizeof(g_shdpnd)) ||
	    !status_field("/proc/self/status", "SigPnd:", g_sigpnd, sizeof(g_sigpnd)))
		die("cannot read /proc/self/status");
	return 1;
}

/* ----------------------------------------------------------------- sleep */

#define SLEEP_S 3.0

struct sleeper {
	double deadline, woke;
	int eintr;
	unsigned long ticks;
};
static struct sleeper g_sl;

static void sleep_tick(void)
{
	g_sl.ticks++;
}

static void sleep_check(struct verify *v)
{
	double late_limit = (g_sl.deadline > v->t_restored ? g_sl.deadline : v->t_restored) + 1.0;
	unsigned long t0 = g_sl.ticks;

	CHECK(g_sl.woke > 0, "never woke");
	CHECK(g_sl.woke >= g_sl.deadline, "woke %.3f s before the deadline",
	      g_sl.deadline - g_sl.woke);
	CHECK(g_sl.woke <= late_limit, "woke %.3f s after max(deadline, end of restore)",
	      g_sl.woke - late_limit + 1.0);
	msleep(100);
	sleep_tick();
	CHECK(g_sl.ticks > t0 && t0 > 0, "does not go on after waking");
	infof("woke %+.3fs vs deadline, %+.3fs vs end of restore, EINTR %d",
	      g_sl.woke - g_sl.deadline, g_sl.woke - v->t_restored, g_sl.eintr);
}

static void rel_sleeper_body(void)
{
	struct timespec ts = ts_of(SLEEP_S), rem;
	struct verify v;

	record_ids();
	g_sl.deadline = mono() + SLEEP_S;
	mark_up();
	while (nanosleep(&ts, &rem)) {
		if (errno != EINTR)
			die("nanosleep: %m");
		g_sl.eintr++;
		ts = ts_of(g_sl.deadline - mono());   /* what remains */
	}
	g_sl.woke = mono();
	wait_verify(&v, sleep_tick);
	check_ids();
	sleep_check(&v);
	report();
	idle_forever();
}

static void abs_sleeper_body(void)
{
	struct timespec ts;
	struct verify v;
	int r;

	record_ids();
	g_sl.deadline = mono() + SLEEP_S;
	ts = ts_of(g_sl.deadline);
	mark_up();
	while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))) {
		if (r != EINTR)
			die("clock_nanosleep: %s", strerror(r));
		g_sl.eintr++;
	}
	g_sl.woke = mono();
	wait_verify(&v, sleep_tick);
	check_ids();
	sleep_check(&v);
	report();
	idle_forever();
}

static pid_t g_sleepers[2];

/* before ready: both sleepers are inside their sleep */
static bool sleep_preready(void)
{
	char path[64], buf[256];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/syscall", g_sleepers[i]);
		if (read_whole(path, buf, sizeof(buf)) <= 0)
			return false;
		if (strncmp(buf, "230 ", 4) && strncmp(buf, "35 ", 3))
			return false;
	}
	return true;
}

static int scen_sleep(void)
{
	g_sleepers[0] = fork_task("rel-sleeper", rel_sleeper_body);
	g_sleepers[1] = fork_task("abs-sleeper", abs_sleeper_body);
	return 3;
}

/* ----------------------------------------------------------------- attrs */

struct attrs {
	char cwd[PATH_MAX];
	mode_t umask;
	struct rlimit rl[RLIM_NLIMITS];
	char environ[4096];
	ssize_t environ_len;
	char cmdline[4096];
	ssize_t cmdline_len;
	char env_var[256];
	int pdeathsig;
};
static struct attrs g_attrs;

static const char *rl_name(int r)
{
	static const char *n[] = { "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC",
				   "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE",
				   "NICE", "RTPRIO", "RTTIME" };

	return r < 16 ? n[r] : "?";
}

static void attrs_record(void)
{
	mode_t m = umask(0);
	int r;

	umask(m);
	g_attrs.umask = m;
	if (!getcwd(g_attrs.cwd, sizeof(g_attrs.cwd)))
		die("getcwd: %m");
	for (r = 0; r < RLIM_NLIMITS; r++)
		getrlimit(r, &g_attrs.rl[r]);
	g_attrs.environ_len = read_whole("/proc/self/environ", g_attrs.environ, sizeof(g_attrs.environ));
	g_attrs.cmdline_len = read_whole("/proc/self/cmdline", g_attrs.cmdline, sizeof(g_attrs.cmdline));
	snprintf(g_attrs.env_var, sizeof(g_attrs.env_var), "%s", getenv("VICTIM_RUNTIME") ?: "");
	prctl(PR_GET_PDEATHSIG, &g_attrs.pdeathsig, 0, 0, 0);
}

static void attrs_check(struct verify *v)
{
	char cwd[PATH_MAX], buf[4096];
	struct rlimit rl;
	mode_t m;
	ssize_t n;
	int r, sig = -1;

	(void)v;
	if (!getcwd(cwd, sizeof(cwd)))
		failf("getcwd: %m");
	else
		CHECK(!strcmp(cwd, g_attrs.cwd), "cwd '%s', recorded '%s'", cwd, g_attrs.cwd);
	m = umask(0);
	umask(m);
	CHECK(m == g_attrs.umask, "umask %04o, recorded %04o", m, g_attrs.umask);
	for (r = 0; r < RLIM_NLIMITS; r++) {
		getrlimit(r, &rl);
		CHECK(rl.rlim_cur == g_attrs.rl[r].rlim_cur && rl.rlim_max == g_attrs.rl[r].rlim_max,
		      "RLIMIT_%s %llu/%llu, recorded %llu/%llu", rl_name(r),
		      (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
		      (unsigned long long)g_attrs.rl[r].rlim_cur,
		      (unsigned long long)g_attrs.rl[r].rlim_max);
	}
	n = read_whole("/proc/self/environ", buf, sizeof(buf));
	CHECK(n == g_attrs.environ_len && !memcmp(buf, g_attrs.environ, n),
	      "/proc/self/environ differs (%zd bytes, recorded %zd)", n, g_attrs.environ_len);
	n = read_whole("/proc/self/cmdline", buf, sizeof(buf));
	CHECK(n == g_attrs.cmdline_len && !memcmp(buf, g_attrs.cmdline, n),
	      "/proc/self/cmdline differs (%zd bytes, recorded %zd)", n, g_attrs.cmdline_len);
	CHECK(!strcmp(getenv("VICTIM_RUNTIME") ?: "", g_attrs.env_var),
	      "getenv(VICTIM_RUNTIME) '%s', recorded '%s'", getenv("VICTIM_RUNTIME") ?: "",
	      g_attrs.env_var);
	CHECK(getenv("MINICR_VICTIM_ENV") && !strcmp(getenv("MINICR_VICTIM_ENV"), "hello world=1"),
	      "getenv(MINICR_VICTIM_ENV) is '%s'", getenv("MINICR_VICTIM_ENV") ?: "(unset)");
	prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	CHECK(sig == g_attrs.pdeathsig, "pdeathsig %d, recorded %d", sig, g_attrs.pdeathsig);
	infof("cwd=%s umask=%04o nofile=%llu", cwd, m, (unsigned long long)g_attrs.rl[RLIMIT_NOFILE].rlim_cur);
}

static void set_rl(int r, rlim_t cur, rlim_t max)
{
	struct rlimit rl = { cur, max };

	if (setrlimit(r, &rl))
		die("setrlimit %s: %m", rl_name(r));
}

static void attrs_child_body(void)
{
	if (chdir("/"))
		die("chdir /: %m");
	umask(0077);
	set_rl(RLIMIT_NOFILE, 200, 300);
	set_rl(RLIMIT_CORE, 0, 0);
	set_rl(RLIMIT_NPROC, 5000, 6000);
	setenv("VICTIM_RUNTIME", "child value", 1);
	prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
	attrs_record();
	task_loop(attrs_check, NULL);
}

static int scen_attrs(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cwd dir", g_dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %m", path);
	umask(0027);
	set_rl(RLIMIT_NOFILE, 300, 4000);
	set_rl(RLIMIT_CORE, 1 << 20, RLIM_INFINITY);
	set_rl(RLIMIT_MSGQUEUE, 12345, 23456);
	set_rl(RLIMIT_CPU, 3600, 7200);
	set_rl(RLIMIT_STACK, 4 << 20, RLIM_INFINITY);
	setenv("VICTIM_RUNTIME", "set at run time, with spaces", 1);
	fork_task("attrs-child", attrs_child_body);
	if (chdir(path))
		die("chdir %s: %m", path);
	attrs_record();
	return 2;
}

/* ------------------------------------------------------------------ main */

struct scenario {
	const char *name;
	const char *comm;           /* the root's */
	int (*setup)(void);         /* returns the number of live tasks (root included) */
	void (*root_check)(struct verify *);
	void (*root_tick)(void);
	bool (*preready)(void);
};

static const struct scenario scenarios[] = {
	{ "tree", "tree-root", scen_tree, tree_check, NULL, NULL },
	{ "sessions", "sess-root", scen_sessions, sessions_root_check, NULL, NULL },
	{ "zombies", "zombies-root", scen_zombies, zombies_check, NULL, NULL },
	{ "threads", "v-threads", scen_threads, threads_check, threads_tick, NULL },
	{ "memory", "mem-root", scen_memory, memory_check, NULL, NULL },
	{ "signals", "sig-root", scen_signals, signals_check, NULL, NULL },
	{ "sleep", "sleep-root", scen_sleep, NULL, NULL, sleep_preready },
	{ "attrs", "attrs-root", scen_attrs, attrs_check, NULL, NULL },
};

/* Root: wait for DIR/up.* to count n, for the scenario's condition and
 * for no task to be running on a CPU; then write DIR/ready. */
static void write_ready(const struct scenario *sc, int n)
{
	static char out[16384];
	pid_t pids[256];
	int got = 0, i, len = 0;
	double end = mono() + READY_TIMEOUT_S;
	DIR *d;
	struct dirent *de;

	for (;;) {
		got = 0;
		d = opendir(g_dir);
		if (!d)
			die("opendir %s: %m", g_dir);
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "up.", 3) && got < 256)
				pids[got++] = atoi(de->d_name + 3);
		closedir(d);
		if (got >= n && (!sc->preready || sc->preready()))
			break;
		if (mono() > end)
			die("scenario %s: %d of %d tasks up after %d s", sc->name, got, n, READY_TIMEOUT_S);
		msleep(10);
	}
	if (got != n)
		die("scenario %s: %d tasks up, expected %d", sc->name, got, n);
	qsort(pids, got, sizeof(pid_t), cmp_pid);
	/* nobody on a CPU (bounded) */
	for (int tries = 0; tries < 100; tries++) {
		bool running = false;

		for (i = 0; i < got; i++)
			if (pids[i] != getpid() && proc_state(pids[i]) == 'R')
				running = true;
		if (!running)
			break;
		msleep(10);
	}
	for (i = 0; i < got; i++) {
		char path[64], comm[64] = "";

		snprintf(path, sizeof(path), "/proc/%d/comm", pids[i]);
		read_whole(path, comm, sizeof(comm));
		comm[strcspn(comm, "\n")] = 0;
		len += snprintf(out + len, sizeof(out) - len, "%d %s\n", pids[i], comm);
	}
	put_file("ready", out);
}

int main(int argc, char **argv)
{
	const struct scenario *sc = NULL;
	const char *name = NULL;
	struct verify v;
	size_t i;
	int n;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--now")) {
			printf("%.6f\n", mono());
			return 0;
		} else if (!strcmp(argv[a], "--scenario") && a + 1 < argc) {
			name = argv[++a];
		} else if (!strcmp(argv[a], "--dir") && a + 1 < argc) {
			g_dir = argv[++a];
		} else {
			fprintf(stderr, "usage: minicr-test-victim --scenario NAME --dir DIR | --now\n");
			return 2;
		}
	}
	if (!name || !g_dir) {
		fprintf(stderr, "usage: minicr-test-victim --scenario NAME --dir DIR | --now\n");
		return 2;
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			sc = &scenarios[i];
	if (!sc)
		die("unknown scenario '%s'", name);
	if (g_dir[0] != '/')
		die("--dir must be absolute");
	close_range(3, ~0U, 0);
	if (setsid() < 0)
		die("setsid: %m");
	set_comm(sc->comm);
	n = sc->setup();
	record_ids();
	mark_up();
	write_ready(sc, n);
	wait_verify(&v, sc->root_tick);
	check_ids();
	if (sc->root_check)
		sc->root_check(&v);
	report();
	idle_forever();
}
