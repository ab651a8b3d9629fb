/* minicr-test-seccomp DIR: a tree confined by seccomp that checks itself
 * every 50 ms (tests/cr/scenarios/seccomp.sh):
 *
 *   sc-main    no_new_privs; F1 (mkdir -> EACCES), F2 (uname -> EPERM); threads sc-t1, sc-t2; then F3 (sysinfo
 *              -> E2BIG) with TSYNC, so the three threads share F1..F3;
 *   sc-t1      adds F4 (times -> EXDEV) of its own;
 *   sc-child   forked after F2, adds F5 (getrusage -> ENOTBLK);
 *   sc-killer  forked first: its filter kills the process on every system
 *              call minicr's dump makes remotely (mmap, munmap,
 *              rt_sigaction, sigaltstack, prctl, prlimit64), with
 *              SECCOMP_FILTER_FLAG_LOG;
 *   sc-strict  forked first, in strict mode: echoes each byte + 1 from a
 *              pipe to another; sc-main pings it every round.
 *
 * Each thread or task writes "round N ok" into DIR/NAME, or "FAIL ..." for
 * good once a check fails: the filtered calls fail with their errno, the
 * others work, /proc/thread-self/status shows the mode and filter count.
 *
 * Once DIR/tsync exists (created after a restore): sc-main's TSYNC must
 * fail naming sc-t1 (whose F4 is not on sc-main's chain), then sc-t1's
 * TSYNC of F6 (getsid -> EDOM) must succeed, which needs the three threads
 * to share F1..F3 as filter objects; every thread then has F1..F4 and F6.
 * Result in DIR/tsync.out. Then DIR/strict-kill makes sc-main ask sc-strict
 * for getpid(), which strict mode answers with SIGKILL: DIR/strict.out.
 *
 * minicr-test-seccomp --notify DIR: one task whose filter returns
 * SECCOMP_RET_USER_NOTIF (listener fd closed); --partial DIR: threads sc-t1
 * and sc-t2 share a filter sc-main lacks (sc-t1 installed it, then created
 * sc-t2). Both sleep, counting rounds into DIR/main: minicr must refuse. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { F1, F2, F3, F4, F5, F6, NR_F };
static const struct {
	long nr;
	int err;
} filt[NR_F] = {
	[F1] = { SYS_mkdir, EACCES }, [F2] = { SYS_uname, EPERM },
	[F3] = { SYS_sysinfo, E2BIG }, [F4] = { SYS_times, EXDEV },
	[F5] = { SYS_getrusage, ENOTBLK }, [F6] = { SYS_getsid, EDOM },
};

static const char *dir;

/* Asks sc-strict for a getpid(); pings are 1 to 200. */
#define STRICT_KILL 255

/* Under the read lock while checking; sc-t1's TSYNC changes every
 * thread's filters under the write lock. */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static volatile unsigned main_mask, t1_mask, t2_mask;
static volatile int main_nr, t1_nr, t2_nr;
static volatile int stage;      /* startup handshake */
static volatile pid_t t1_tid;
static int req_wr = -1, ans_rd = -1;
static pid_t strict_pid;

static long sc(unsigned flags, struct sock_filter *f, unsigned short n)
{
	struct sock_fprog fp = { .len = n, .filter = f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
}

/* F_i: nr -> errno, everything else allowed. */
static long install(int i, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, filt[i].nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | filt[i].err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	return sc(flags, f, sizeof(f) / sizeof(f[0]));
}

static void die(const char *what)
{
	fprintf(stderr, "minicr-test-seccomp: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Replaced by rename, so that a reader never sees it half written. */
static void put(const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)syscall(SYS_gettid));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		/* A short write shows as a malformed line to the test. */
		ssize_t n = write(fd, text, strlen(text));

		(void)n;
		close(fd);
		rename(tmp, path);
	}
}

static int exists(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int status_field(const char *st, const char *key)
{
	const char *p = strstr(st, key);

	return p ? atoi(p + strlen(key)) : -1;
}

/* One syscall of filter i: its result, -errno on failure. */
static long try(int i, const char *name)
{
	char path[4096];
	struct utsname u;
	struct sysinfo si;
	struct tms tm;
	struct rusage ru;
	long r = 0;

	switch (i) {
	case F1:
		snprintf(path, sizeof(path), "%s/mk-%s", dir, name);
		r = syscall(SYS_mkdir, path, 0700);
		if (r == 0)
			rmdir(path);
		break;
	case F2: r = syscall(SYS_uname, &u); break;
	case F3: r = syscall(SYS_sysinfo, &si); break;
	case F4: r = syscall(SYS_times, &tm); break;
	case F5: r = syscall(SYS_getrusage, RUSAGE_SELF, &ru); break;
	case F6: r = syscall(SYS_getsid, 0); break;
	}
	return r < 0 ? -errno : r;
}

/* NULL if this thread has exactly the filters of mask (nr of them in
 * /proc), else what is wrong (in buf). */
static const char *check(const char *name, unsigned mask, int nr, char *buf, size_t len)
{
	char st[4096];
	int fd, mode, n;
	ssize_t got;

	fd = open("/proc/thread-self/status", O_RDONLY);
	got = fd < 0 ? -1 : read(fd, st, sizeof(st) - 1);
	if (fd >= 0)
		close(fd);
	if (got <= 0) {
		snprintf(buf, len, "cannot read /proc/thread-self/status");
		return buf;
	}
	st[got] = 0;
	mode = status_field(st, "Seccomp:\t");
	n = status_field(st, "Seccomp_filters:\t");
	if (mode != 2 || n != nr) {
		snprintf(buf, len, "Seccomp: %d Seccomp_filters: %d, want 2 and %d", mode, n, nr);
		return buf;
	}
	for (int i = 0; i < NR_F; i++) {
		long r = try(i, name);

		if ((mask & (1u << i)) && r != -filt[i].err) {
			snprintf(buf, len, "filter F%d: syscall %ld returned %ld, want -%d", i + 1,
				 filt[i].nr, r, filt[i].err);
			return buf;
		}
		if (!(mask & (1u << i)) && r < 0) {
			snprintf(buf, len, "unfiltered syscall %ld failed: %ld", filt[i].nr, r);
			return buf;
		}
	}
	return NULL;
}

static void nap(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Check, report, forever (or until *stop). */
static void report(const char *name, const char *err, unsigned long round, int *failed)
{
	char line[512];

	if (*failed)
		return;
	if (err) {
		snprintf(line, sizeof(line), "FAIL %s: round %lu: %s\n", name, round, err);
		*failed = 1;
	} else {
		snprintf(line, sizeof(line), "round %lu ok\n", round);
	}
	put(name, line);
}

static const char *ping_strict(char *buf, size_t len)
{
	static unsigned char b;
	unsigned char a;

	b = b == 200 ? 1 : b + 1;
	if (write(req_wr, &b, 1) != 1 || read(ans_rd, &a, 1) != 1 || a != b + 1) {
		snprintf(buf, len, "sc-strict does not answer its pipe");
		return buf;
	}
	return NULL;
}

static void tsync_test(void)
{
	char out[256];
	long r;

	pthread_rwlock_wrlock(&lock);
	r = install(F6, SECCOMP_FILTER_FLAG_TSYNC);
	if (r != t1_tid) {
		snprintf(out, sizeof(out), "FAIL: sc-main's TSYNC returned %ld, want sc-t1's TID %d\n",
			 r, t1_tid);
		put("tsync.out", out);
		stage = 12;   /* once */
		pthread_rwlock_unlock(&lock);
		return;
	}
	stage = 10;   /* sc-t1's turn */
	pthread_rwlock_unlock(&lock);
}

static void *t_main(void *arg)
{
	int t1 = arg != NULL, failed = 0;
	const char *name = t1 ? "sc-t1" : "sc-t2";
	char buf[256];

	prctl(PR_SET_NAME, name);
	if (t1)
		t1_tid = syscall(SYS_gettid);
	__sync_fetch_and_add(&stage, 1);
	while (stage < 3)
		nap();
	if (t1) {
		if (install(F4, 0))
			die("F4");
		t1_mask |= 1u << F4;
		t1_nr++;
		stage = 4;
	}
	while (stage < 4)
		nap();
	for (unsigned long round = 1;; round++) {
		const char *err;

		if (t1 && stage == 10) {
			long r;

			pthread_rwlock_wrlock(&lock);
			r = install(F6, SECCOMP_FILTER_FLAG_TSYNC);
			if (r == 0) {
				unsigned all = t1_mask | (1u << F6);

				main_mask = t1_mask = t2_mask = all;
				main_nr = t1_nr = t2_nr = t1_nr + 1;
				put("tsync.out", "ok\n");
			} else {
				snprintf(buf, sizeof(buf),
					 "FAIL: sc-t1's TSYNC returned %ld (a thread's filters are "
					 "not shared)\n", r);
				put("tsync.out", buf);
			}
			stage = 11;
			pthread_rwlock_unlock(&lock);
		}
		pthread_rwlock_rdlock(&lock);
		err = check(name, t1 ? t1_mask : t2_mask, t1 ? t1_nr : t2_nr, buf, sizeof(buf));
		pthread_rwlock_unlock(&lock);
		report(name, err, round, &failed);
		nap();
	}
	return NULL;
}

static void strict_body(int req_rd, int ans_wr)
{
	unsigned char b;

	prctl(PR_SET_NAME, "sc-strict");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL))
		die("strict mode");
	for (;;) {
		if (read(req_rd, &b, 1) != 1)
			syscall(SYS_exit, 1);
		if (b == STRICT_KILL)
			syscall(SYS_getpid);   /* strict mode: SIGKILL */
		b++;
		if (write(ans_wr, &b, 1) != 1)
			syscall(SYS_exit, 1);
	}
}

static void killer_body(void)
{
	static const long deadly[] = {
		SYS_mmap, SYS_munmap, SYS_rt_sigaction, SYS_sigaltstack, SYS_prctl, SYS_prlimit64,
	};
	struct sock_filter f[4 + 2 * 6];
	unsigned n = 0;
	char buf[256];
	int failed = 0;

	prctl(PR_SET_NAME, "sc-killer");
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < 6; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, deadly[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* LOG: the flag must come back; only a kill, which is logged anyway,
	 * would show it, so it adds nothing to the kernel log. */
	if (sc(SECCOMP_FILTER_FLAG_LOG, f, n))
		die("killer filter");
	for (unsigned long round = 1;; round++) {
		report("sc-killer", check("sc-killer", 0, 1, buf, sizeof(buf)), round, &failed);
		nap();
	}
}

static void child_body(void)
{
	char buf[256];
	int failed = 0;

	prctl(PR_SET_NAME, "sc-child");
	if (install(F5, 0))
		die("F5");
	for (unsigned long round = 1;; round++) {
		unsigned mask = 1u << F1 | 1u << F2 | 1u << F5;

		report("sc-child", check("sc-child", mask, 3, buf, sizeof(buf)), round, &failed);
		nap();
	}
}

/* sc-strict is killed by its getpid(): that is strict mode. */
static void strict_kill_test(void)
{
	char out[128];
	unsigned char k = STRICT_KILL;
	int st = 0;

	if (write(req_wr, &k, 1) != 1 || waitpid(strict_pid, &st, 0) != strict_pid)
		snprintf(out, sizeof(out), "FAIL: cannot reap sc-strict: %s\n", strerror(errno));
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		snprintf(out, sizeof(out), "ok\n");
	else
		snprintf(out, sizeof(out), "FAIL: sc-strict ended with status 0x%x\n", st);
	put("strict.out", out);
	strict_pid = 0;
}

static void sleep_rounds(void)
{
	char line[64];

	for (unsigned long round = 1;; round++) {
		snprintf(line, sizeof(line), "round %lu ok\n", round);
		put("main", line);
		nap();
	}
}

static void *partial_thread(void *arg)
{
	pthread_t t;

	if (arg) {   /* sc-t1: a filter, then sc-t2 inherits it */
		prctl(PR_SET_NAME, "sc-t1");
		if (install(F2, 0))
			die("F2");
		pthread_create(&t, NULL, partial_thread, NULL);
	} else {
		prctl(PR_SET_NAME, "sc-t2");
	}
	for (;;)
		pause();
	return NULL;
}

static int refusal_workload(const char *mode)
{
	if (!strcmp(mode, "--notify")) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		long fd = sc(SECCOMP_FILTER_FLAG_NEW_LISTENER, f, 4);

		if (fd < 0)
			die("listener filter");
		close(fd);
	} else if (!strcmp(mode, "--partial")) {
		pthread_t t;

		pthread_create(&t, NULL, partial_thread, (void *)1);
	} else {
		fprintf(stderr, "usage: minicr-test-seccomp [--notify|--partial] DIR\n");
		return 2;
	}
	sleep_rounds();
	return 0;
}

int main(int argc, char **argv)
{
	int req[2], ans[2], failed = 0;
	pthread_t t1, t2;
	char buf[256];
	pid_t pid;

	if (argc == 3) {
		dir = argv[2];
		return refusal_workload(argv[1]);
	}
	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-seccomp [--notify|--partial] DIR\n");
		return 2;
	}
	dir = argv[1];
	prctl(PR_SET_NAME, "sc-main");
	if (pipe(req) || pipe(ans))
		die("pipe");
	strict_pid = fork();
	if (strict_pid < 0)
		die("fork");
	if (!strict_pid) {
		close(req[1]);
		close(ans[0]);
		strict_body(req[0], ans[1]);
	}
	close(req[0]);
	close(ans[1]);
	req_wr = req[1];
	ans_rd = ans[0];
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		killer_body();

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("no_new_privs");
	if (install(F1, 0) || install(F2, 0))
		die("F1, F2");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		child_body();
	main_mask = t1_mask = t2_mask = 1u << F1 | 1u << F2 | 1u << F3;
	main_nr = t1_nr = t2_nr = 3;
	if (pthread_create(&t1, NULL, t_main, (void *)1) ||
	    pthread_create(&t2, NULL, t_main, NULL))
		die("pthread_create");
	while (stage < 2)
		nap();
	if (install(F3, SECCOMP_FILTER_FLAG_TSYNC))
		die("F3 with TSYNC");
	stage = 3;
	while (stage < 4)
		nap();
	for (unsigned long round = 1;; round++) {
		const char *err;

		if (stage == 4 && exists("tsync"))
			tsync_test();
		if (strict_pid && exists("strict-kill"))
			strict_kill_test();
		pthread_rwlock_rdlock(&lock);
		err = check("sc-main", main_mask, main_nr, buf, sizeof(buf));
		pthread_rwlock_unlock(&lock);
		if (!err && strict_pid)
			err = ping_strict(buf, sizeof(buf));
		report("sc-main", err, round, &failed);
		nap();
	}
}
