/* minicr-test-tree: a process tree for the integration tests.
 *
 *   minicr-test-tree [--ready FILE] [--fork-storm | --small]
 *
 * Default mode builds this tree (comm names as shown; 22 tasks):
 *
 *   tree-root        setsid(): session 1, group 1
 *     sleep-a
 *     sleep-b
 *       sleep-b1
 *     sess2-leader   setsid(): session 2
 *       s2-orphan-pg   in the group of a leader that has exited and been
 *         s2-orphan-kid  reaped (the group has no leader process any more)
 *       s2-pg2         own group
 *         s2-pg2-a
 *         s2-pg2-b
 *       zombie-exit7   zombie, exited with status 7, never reaped
 *     sess3-leader   setsid(): session 3
 *       s3-stopped     stopped by SIGSTOP (state T)
 *       s3-threads     4 threads in all (leader + 3 pthreads)
 *       s3-pg          own group
 *         s3-pg-kid
 *           zombie-sigterm zombie, killed by SIGTERM, never reaped
 *       s3-sleeper
 *     root-pg        own group in session 1
 *       root-pg-a
 *       root-pg-b
 *     sleep-c
 *
 * Every other task sleeps in pause(). Each task reports its PID on a pipe
 * once it is in place (a parent reports its zombie and stopped children once
 * waitid(WNOWAIT) has seen them exit or stop); the root waits for all the
 * reports, then until no reported task is still running on a CPU, and only
 * then prints its PID and creates FILE (written as FILE.tmp and renamed, so
 * it appears complete). Tasks are created in order, one after the other, so
 * in a fresh PID namespace siblings' PIDs ascend in creation order.
 *
 * --small: tree-root, ref-sleeper, ref-zombie (exit 7), ref-parent with
 * ref-kid (5 tasks), for the reference image set.
 *
 * --fork-storm: tree-root with storm-fork1, storm-fork2 (fork, exit, reap
 * in a loop), storm-threads (pthread_create/join in a loop), storm-mixed
 * (both at once, from two threads) and storm-sleep with storm-sleep-kid.
 * FILE is created once every storm task is looping.
 *
 * The root stops waiting and exits 1 if the tree is not complete in 30 s.
 * Nothing in the tree ever exits on its own: kill it with SIGKILL.
 *
 * File descriptors: the tree keeps only 0, 1 and 2 (anything else the
 * caller leaked to us is closed first); the pipes used while building the
 * tree are closed before it reports ready.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUILD_TIMEOUT_MS 30000
#define MAX_TASKS 64

static int report_fd = -1;      /* write end of the report pipe */
static int report_rfd = -1;     /* its read end, the root's only */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fprintf(stderr, "minicr-test-tree[%d]: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	_exit(1);
}

static void report(pid_t pid)
{
	ssize_t n;

	do
		n = write(report_fd, &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(pid))
		die("report %d", pid);
}

static void done_reporting(void)
{
	close(report_fd);
	report_fd = -1;
}

static __attribute__((noreturn)) void sleep_forever(void)
{
	for (;;)
		pause();
}

/* Report ourselves, drop the pipe and sleep. */
static __attribute__((noreturn)) void ready_and_sleep(void)
{
	report(getpid());
	done_reporting();
	sleep_forever();
}

/* Fork a child named name that runs fn (which never returns). */
static pid_t spawn(const char *name, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork %s", name);
	if (pid == 0) {
		if (report_rfd >= 0) {
			close(report_rfd);
			report_rfd = -1;
		}
		errno = 0;
		if (prctl(PR_SET_NAME, name, 0, 0, 0))
			die("PR_SET_NAME %s", name);
		fn();
		_exit(1);
	}
	return pid;
}

static void wait_exited_nowait(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		if (errno != EINTR)
			die("waitid exited %d", pid);
}

static void wait_stopped_nowait(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT))
		if (errno != EINTR)
			die("waitid stopped %d", pid);
}

/* ---- the default tree ---- */

static void t_sleeper(void) { ready_and_sleep(); }

static void t_zombie_exit7(void) { done_reporting(); _exit(7); }

static void t_zombie_sigterm(void)
{
	done_reporting();
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
	_exit(99);      /* not reached */
}

static void t_stopped(void)
{
	done_reporting();
	raise(SIGSTOP);
	/* Only reached if someone sends SIGCONT. */
	sleep_forever();
}

static void t_parent_of_one(const char *name)
{
	spawn(name, t_sleeper);
	ready_and_sleep();
}

static void t_sleep_b(void) { t_parent_of_one("sleep-b1"); }
static void t_s2_orphan_pg(void) { t_parent_of_one("s2-orphan-kid"); }

static void t_own_group_two_kids(const char *a, const char *b)
{
	if (setpgid(0, 0))
		die("setpgid");
	spawn(a, t_sleeper);
	spawn(b, t_sleeper);
	ready_and_sleep();
}

static void t_s2_pg2(void) { t_own_group_two_kids("s2-pg2-a", "s2-pg2-b"); }
static void t_root_pg(void) { t_own_group_two_kids("root-pg-a", "root-pg-b"); }

/* The group leader that exits: joins its own group, then waits for EOF on
 * the go pipe (its parent closes it once the member has joined). */
static int go_pipe[2] = { -1, -1 };

static void t_exiting_leader(void)
{
	char c;

	done_reporting();
	close(go_pipe[1]);
	if (setpgid(0, 0))
		die("setpgid");
	while (read(go_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static pid_t exiting_leader;

static void t_orphan_member(void)
{
	close(go_pipe[0]);
	close(go_pipe[1]);
	if (setpgid(0, exiting_leader))
		die("setpgid member");
	t_s2_orphan_pg();
}

static void t_sess2_leader(void)
{
	pid_t m, z;

	if (setsid() < 0)
		die("setsid");
	if (pipe(go_pipe))
		die("pipe");
	exiting_leader = spawn("s2-grp-leader", t_exiting_leader);
	close(go_pipe[0]);
	if (setpgid(exiting_leader, exiting_leader) && errno != EACCES)
		die("setpgid leader");
	m = spawn("s2-orphan-pg", t_orphan_member);
	/* Either this or the member's own call puts it in the group first. */
	if (setpgid(m, exiting_leader) && errno != EACCES)
		die("setpgid member from parent");
	close(go_pipe[1]);
	if (waitpid(exiting_leader, NULL, 0) != exiting_leader)
		die("reap group leader");

	spawn("s2-pg2", t_s2_pg2);
	z = spawn("zombie-exit7", t_zombie_exit7);
	wait_exited_nowait(z);
	report(z);
	ready_and_sleep();
}

static void t_s3_pg_kid(void)
{
	pid_t z = spawn("zombie-sigterm", t_zombie_sigterm);

	wait_exited_nowait(z);
	report(z);
	ready_and_sleep();
}

static void t_s3_pg(void)
{
	if (setpgid(0, 0))
		die("setpgid");
	spawn("s3-pg-kid", t_s3_pg_kid);
	ready_and_sleep();
}

#define NR_EXTRA_THREADS 3
static pthread_barrier_t thread_barrier;

static void *thread_sleep(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&thread_barrier);
	sleep_forever();
}

static void t_threads(void)
{
	pthread_t th;
	int i, err;

	if (pthread_barrier_init(&thread_barrier, NULL, NR_EXTRA_THREADS + 1))
		die("pthread_barrier_init");
	for (i = 0; i < NR_EXTRA_THREADS; i++) {
		err = pthread_create(&th, NULL, thread_sleep, NULL);
		if (err) {
			errno = err;
			die("pthread_create");
		}
	}
	pthread_barrier_wait(&thread_barrier);
	ready_and_sleep();
}

static void t_sess3_leader(void)
{
	pid_t s;

	if (setsid() < 0)
		die("setsid");
	s = spawn("s3-stopped", t_stopped);
	wait_stopped_nowait(s);
	report(s);
	spawn("s3-threads", t_threads);
	spawn("s3-pg", t_s3_pg);
	spawn("s3-sleeper", t_sleeper);
	ready_and_sleep();
}

/* Tasks in the default tree other than the root. */
#define FULL_TREE_REPORTS 21

static void build_full_tree(void)
{
	spawn("sleep-a", t_sleeper);
	spawn("sleep-b", t_sleep_b);
	spawn("sess2-leader", t_sess2_leader);
	spawn("sess3-leader", t_sess3_leader);
	spawn("root-pg", t_root_pg);
	spawn("sleep-c", t_sleeper);
}

/* ---- --small ---- */

static void t_ref_parent(void) { t_parent_of_one("ref-kid"); }

#define SMALL_TREE_REPORTS 4

static void build_small_tree(void)
{
	pid_t z;

	spawn("ref-sleeper", t_sleeper);
	z = spawn("ref-zombie", t_zombie_exit7);
	wait_exited_nowait(z);
	report(z);
	spawn("ref-parent", t_ref_parent);
}

/* ---- --fork-storm ---- */

static __attribute__((noreturn)) void fork_loop(void)
{
	for (;;) {
		pid_t c = fork();

		if (c == 0)
			_exit(0);
		if (c > 0)
			while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
				;
	}
}

static void *nop_thread(void *arg) { return arg; }

static __attribute__((noreturn)) void thread_loop(void)
{
	for (;;) {
		pthread_t th;

		if (pthread_create(&th, NULL, nop_thread, NULL) == 0)
			pthread_join(th, NULL);
	}
}

static void *thread_loop_fn(void *arg)
{
	(void)arg;
	thread_loop();
}

static void t_storm_fork(void) { report(getpid()); done_reporting(); fork_loop(); }
static void t_storm_threads(void) { report(getpid()); done_reporting(); thread_loop(); }

static void t_storm_mixed(void)
{
	pthread_t th;
	int err;

	report(getpid());
	done_reporting();
	err = pthread_create(&th, NULL, thread_loop_fn, NULL);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	fork_loop();
}

static void t_storm_sleep(void) { t_parent_of_one("storm-sleep-kid"); }

#define STORM_TREE_REPORTS 6

static void build_storm_tree(void)
{
	spawn("storm-fork1", t_storm_fork);
	spawn("storm-fork2", t_storm_fork);
	spawn("storm-threads", t_storm_threads);
	spawn("storm-mixed", t_storm_mixed);
	spawn("storm-sleep", t_storm_sleep);
}

/* ---- the root ---- */

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Collect nr PIDs from the report pipe; 0 or -1 on timeout / early EOF. */
static int collect_reports(int fd, pid_t *pids, int nr, const struct timespec *deadline)
{
	size_t got = 0, want = nr * sizeof(pid_t);
	char *buf = (char *)pids;

	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = ms_left(deadline);
		ssize_t n;
		int r;

		if (left <= 0) {
			fprintf(stderr, "minicr-test-tree: timed out: %zu of %d tasks reported\n",
				got / sizeof(pid_t), nr);
			return -1;
		}
		r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll");
		if (r == 0)
			continue;
		n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read reports");
		if (n == 0) {
			fprintf(stderr, "minicr-test-tree: a task died while the tree was built: "
				"%zu of %d tasks reported\n", got / sizeof(pid_t), nr);
			return -1;
		}
		got += n;
	}
	return 0;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return '?';
	return p[2];
}

/* Wait until every reported task has settled: asleep, stopped or dead.
 * The tasks get there on their own right after reporting; this is what
 * makes the tree's states deterministic for the tests. */
static int wait_settled(const pid_t *pids, int nr, const struct timespec *deadline)
{
	for (;;) {
		int i, busy = -1;

		for (i = 0; i < nr; i++) {
			char s = proc_state(pids[i]);

			if (s != 'S' && s != 'T' && s != 'Z') {
				busy = i;
				break;
			}
		}
		if (busy < 0)
			return 0;
		if (ms_left(deadline) <= 0) {
			fprintf(stderr, "minicr-test-tree: task %d does not settle (state %c)\n",
				pids[busy], proc_state(pids[busy]));
			return -1;
		}
		sched_yield();
		usleep(1000);
	}
}

static void write_ready(const char *file, pid_t root)
{
	char tmp[PATH_MAX], line[32];
	int fd, len;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die("%s", file);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s", tmp);
	len = snprintf(line, sizeof(line), "%d\n", root);
	if (write(fd, line, len) != len || close(fd))
		die("write %s", tmp);
	if (rename(tmp, file))
		die("rename %s to %s", tmp, file);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: minicr-test-tree [--ready FILE] [--fork-storm | --small]\n");
}

int main(int argc, char **argv)
{
	enum { FULL, SMALL, STORM } mode = FULL;
	const char *ready = NULL;
	pid_t pids[MAX_TASKS];
	struct timespec deadline;
	int fds[2], nr, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready") && i + 1 < argc) {
			ready = argv[++i];
		} else if (!strcmp(argv[i], "--fork-storm")) {
			mode = STORM;
		} else if (!strcmp(argv[i], "--small")) {
			mode = SMALL;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += BUILD_TIMEOUT_MS / 1000;

	/* Only stdin, stdout and stderr: no descriptor leaked by the caller. */
	if (close_range(3, ~0U, 0))
		die("close_range");

	/* Zombies must stay zombies: no auto-reaping inherited from the caller. */
	signal(SIGCHLD, SIG_DFL);
	errno = 0;
	if (prctl(PR_SET_NAME, "tree-root", 0, 0, 0))
		die("PR_SET_NAME");
	/* The root leads its own session (session 1 of the tree). A process
	 * group leader cannot call setsid(), so fork first if we are one. */
	if (getpgid(0) == getpid()) {
		pid_t c = fork();

		if (c < 0)
			die("fork");
		if (c > 0)
			_exit(0);   /* the child is the root; it prints its PID */
	}
	if (setsid() < 0)
		die("setsid");
	if (pipe(fds))
		die("pipe");
	report_fd = fds[1];
	report_rfd = fds[0];

	switch (mode) {
	case FULL:  nr = FULL_TREE_REPORTS;  build_full_tree(); break;
	case SMALL: nr = SMALL_TREE_REPORTS; build_small_tree(); break;
	default:    nr = STORM_TREE_REPORTS; build_storm_tree(); break;
	}
	done_reporting();
	if (collect_reports(fds[0], pids, nr, &deadline))
		return 1;
	close(fds[0]);
	if (mode != STORM && wait_settled(pids, nr, &deadline))
		return 1;

	printf("%d\n", getpid());
	fflush(stdout);
	if (ready)
		write_ready(ready, getpid());
	sleep_forever();
}
