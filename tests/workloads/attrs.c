/* minicr-test-attrs DIR [--deadline]: scheduling and other per-task
 * attributes, each checked by the thread or task that owns it
 * (tests/cr/scenarios/task-attrs.sh).
 *
 *   main   (leader) nice 2, KEEPCAPS locked; for the process: oom_score_adj 500,
 *          loginuid 1234, coredump_filter 0x3f, THP disabled, membarrier
 *          PRIVATE_EXPEDITED and GLOBAL_EXPEDITED registrations
 *   batch  SCHED_BATCH nice 5, pinned to CPU 1, timer slack 123456 ns,
 *          I/O priority best-effort 7, SECBIT_NO_SETUID_FIXUP, no_new_privs
 *          (in this thread only)
 *   idle   SCHED_IDLE, pinned to CPU 0, timer slack 200000 ns, I/O class
 *          idle, MCE kill early, SECBIT_NO_CAP_AMBIENT_RAISE locked
 *   fifo   nice 3 then SCHED_FIFO priority 5 with SCHED_FLAG_RESET_ON_FORK,
 *          I/O priority realtime 4, PR_TSC_SIGSEGV (so it never reads the
 *          clock: it only sleeps)
 *   grp    a child in a session of its own: autogroup nice 5, not dumpable,
 *          KSM merge-any, MDWE, coredump_filter 0x23, oom_score_adj 300
 *   dl     with --deadline: a SCHED_DEADLINE thread, which the dump refuses
 *
 * Each records what it set (read back through the same interfaces) and
 * writes DIR/ready.NAME. Whenever DIR/verify holds a new number N it
 * compares and writes DIR/result.NAME "N OK" or "N FAIL what ...". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif
#define GET_REGISTRATIONS (1 << 9)

struct kattr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

/* What one thread sees of itself. */
struct tview {
	uint32_t policy, priority;
	uint64_t flags;
	int32_t nice;
	cpu_set_t cpus;
	long slack, ioprio, secbits, mce, nnp;
	int tsc;
};

/* What the task sees of itself (grp adds its own). */
struct pview {
	long oom, loginuid, filter, thp, membarrier, autogroup, dumpable, merge, mdwe;
};

static const char *dir;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long read_long(const char *path, int base)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	long v = -999999;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, base);
	if (fd >= 0)
		close(fd);
	return v;
}

static long autogroup_nice(void)
{
	char buf[128] = { 0 };
	int fd = open("/proc/self/autogroup", O_RDONLY), nice = -999;
	long id;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		sscanf(buf, "/autogroup-%ld nice %d", &id, &nice);
	if (fd >= 0)
		close(fd);
	return nice;
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("write %s: %m", path);
	close(fd);
}

static void put_file(const char *name, const char *s)
{
	char path[4096], tmp[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	write_str(tmp, s);
	if (rename(tmp, path))
		die("rename %s: %m", tmp);
}

static void set_sched(uint32_t policy, int nice, uint32_t prio, uint64_t flags)
{
	struct kattr k = { .size = sizeof(k), .policy = policy, .nice = nice,
			   .priority = prio, .flags = flags };

	if (syscall(SYS_sched_setattr, 0, &k, 0))
		die("sched_setattr(policy %u): %m", policy);
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		die("sched_setaffinity(%d): %m", cpu);
}

static void tview_get(struct tview *v)
{
	struct kattr k = { 0 };

	memset(v, 0, sizeof(*v));
	syscall(SYS_sched_getattr, 0, &k, sizeof(k), 0);
	v->policy = k.policy;
	v->priority = k.priority;
	v->flags = k.flags;
	v->nice = getpriority(PRIO_PROCESS, 0);   /* sched_getattr has none for RT */
	sched_getaffinity(0, sizeof(v->cpus), &v->cpus);
	v->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	v->ioprio = syscall(SYS_ioprio_get, 1, 0);
	v->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	v->mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	v->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	prctl(PR_GET_TSC, &v->tsc, 0, 0, 0);
}

static void pview_get(struct pview *v)
{
	v->oom = read_long("/proc/self/oom_score_adj", 10);
	v->loginuid = read_long("/proc/self/loginuid", 10);
	v->filter = read_long("/proc/self/coredump_filter", 16);
	v->thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	v->membarrier = syscall(SYS_membarrier, GET_REGISTRATIONS, 0, 0);
	v->autogroup = autogroup_nice();
	v->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	v->merge = prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
	v->mdwe = prctl(PR_GET_MDWE, 0, 0, 0, 0);
}

#define CMP(field, fmt)                                                                 \
	do {                                                                            \
		if (now.field != rec->field)                                            \
			off += snprintf(out + off, len - off, " " #field " " fmt " (was " fmt ")", \
					now.field, rec->field);                         \
	} while (0)

static size_t tview_cmp(const struct tview *rec, char *out, size_t len)
{
	struct tview now;
	size_t off = 0;

	tview_get(&now);
	CMP(policy, "%u");
	CMP(priority, "%u");
	CMP(flags, "0x%" PRIx64);
	CMP(nice, "%d");
	CMP(slack, "%ld");
	CMP(ioprio, "0x%lx");
	CMP(secbits, "0x%lx");
	CMP(mce, "%ld");
	CMP(nnp, "%ld");
	CMP(tsc, "%d");
	if (!CPU_EQUAL(&now.cpus, &rec->cpus))
		off += snprintf(out + off, len - off, " affinity (%d CPUs, was %d)",
				CPU_COUNT(&now.cpus), CPU_COUNT(&rec->cpus));
	return off;
}

static size_t pview_cmp(const struct pview *rec, char *out, size_t len)
{
	struct pview now;
	size_t off = 0;

	pview_get(&now);
	CMP(oom, "%ld");
	CMP(loginuid, "%ld");
	CMP(filter, "0x%lx");
	CMP(thp, "%ld");
	CMP(membarrier, "0x%lx");
	CMP(autogroup, "%ld");
	CMP(dumpable, "%ld");
	CMP(merge, "%ld");
	CMP(mdwe, "%ld");
	return off;
}

/* Sleeps only (no clock reads: the fifo thread has PR_TSC_SIGSEGV). */
static void serve(const char *name, const struct tview *t, const struct pview *p)
{
	char path[4096], res[1024], fname[64];
	long done = 0, gen;
	size_t off;

	snprintf(fname, sizeof(fname), "ready.%s", name);
	put_file(fname, "ready\n");
	snprintf(path, sizeof(path), "%s/verify", dir);
	for (;;) {
		usleep(20000);
		gen = read_long(path, 10);
		if (gen <= done)
			continue;
		off = snprintf(res, sizeof(res), "%ld %s", gen, name);
		size_t bad = tview_cmp(t, res + off + 5, sizeof(res) - off - 5);
		if (p)
			bad += pview_cmp(p, res + off + 5 + bad, sizeof(res) - off - 5 - bad);
		memcpy(res + off, bad ? " FAIL" : " OK  ", 5);
		snprintf(res + off + 5 + bad, sizeof(res) - off - 5 - bad, "\n");
		snprintf(fname, sizeof(fname), "result.%s", name);
		put_file(fname, res);
		done = gen;
	}
}

static void *batch(void *arg)
{
	struct tview t;

	(void)arg;
	set_sched(SCHED_BATCH, 5, 0, 0);
	pin(1);
	prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0);
	if (syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 7))
		die("ioprio_set: %m");
	if (prctl(PR_SET_SECUREBITS, 1 << 2, 0, 0, 0))
		die("PR_SET_SECUREBITS: %m");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS: %m");
	tview_get(&t);
	serve("batch", &t, NULL);
	return NULL;
}

static void *idle(void *arg)
{
	struct tview t;

	(void)arg;
	set_sched(SCHED_IDLE, 0, 0, 0);
	pin(0);
	prctl(PR_SET_TIMERSLACK, 200000, 0, 0, 0);
	if (syscall(SYS_ioprio_set, 1, 0, 3 << 13))
		die("ioprio_set: %m");
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		die("PR_MCE_KILL: %m");
	if (prctl(PR_SET_SECUREBITS, 0xc0, 0, 0, 0))
		die("PR_SET_SECUREBITS(NO_CAP_AMBIENT_RAISE, locked): %m");
	tview_get(&t);
	serve("idle", &t, NULL);
	return NULL;
}

static void *fifo(void *arg)
{
	struct tview t;

	(void)arg;
	set_sched(SCHED_OTHER, 3, 0, 0);
	set_sched(SCHED_FIFO, 0, 5, 1 /* SCHED_FLAG_RESET_ON_FORK */);
	if (syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 4))
		die("ioprio_set: %m");
	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0))
		die("PR_SET_TSC: %m");
	tview_get(&t);
	serve("fifo", &t, NULL);
	return NULL;
}

static void *deadline(void *arg)
{
	struct kattr k = { .size = sizeof(k), .policy = 6, .runtime = 1000000,
			   .deadline = 10000000, .period = 100000000 };

	(void)arg;
	if (syscall(SYS_sched_setattr, 0, &k, 0))
		die("sched_setattr(SCHED_DEADLINE): %m");
	put_file("ready.dl", "ready\n");
	for (;;)
		pause();
	return NULL;
}

static void grp(void)
{
	struct tview t;
	struct pview p;

	if (setsid() < 0)
		die("setsid: %m");
	write_str("/proc/self/autogroup", "5");
	write_str("/proc/self/coredump_filter", "0x23");
	write_str("/proc/self/oom_score_adj", "300");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) ||
	    prctl(PR_SET_MDWE, 1, 0, 0, 0))
		die("prctl (dumpable, memory merge, mdwe): %m");
	tview_get(&t);
	pview_get(&p);
	serve("grp", &t, &p);
}

int main(int argc, char **argv)
{
	void *(*fns[])(void *) = { batch, idle, fifo, deadline };
	size_t nr = argc > 2 && !strcmp(argv[2], "--deadline") ? 4 : 3;
	struct tview t;
	struct pview p;
	pthread_t th;

	if (argc < 2)
		die("usage: minicr-test-attrs DIR [--deadline]");
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST)
		die("mkdir %s: %m", dir);
	write_str("/proc/self/oom_score_adj", "500");
	write_str("/proc/self/loginuid", "1234");
	write_str("/proc/self/coredump_filter", "0x3f");
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("PR_SET_THP_DISABLE: %m");
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0))
		die("membarrier register: %m");
	if (fork() == 0) {
		grp();
		_exit(1);
	}
	for (size_t i = 0; i < nr; i++)
		if (pthread_create(&th, NULL, fns[i], NULL))
			die("pthread_create");
	set_sched(SCHED_OTHER, 2, 0, 0);
	/* KEEP_CAPS and its lock: the lock is set after the creds. */
	if (prctl(PR_SET_SECUREBITS, 0x30, 0, 0, 0))
		die("PR_SET_SECUREBITS(KEEP_CAPS | KEEP_CAPS_LOCKED): %m");
	tview_get(&t);
	pview_get(&p);
	serve("main", &t, &p);
	return 0;
}
