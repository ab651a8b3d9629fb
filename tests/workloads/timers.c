/* minicr-test-timers DIR [--refuse]: POSIX timers and itimers that check
 * themselves across a dump and restore (tests/cr/scenarios/timers.sh).
 *
 * It creates, with raw system calls so IDs are the kernel's:
 *   A  MONOTONIC, SIGEV_SIGNAL SIGRTMIN+1, value 1000, every 200 ms
 *   -  a timer deleted at once: an ID gap
 *   B  REALTIME, SIGEV_SIGNAL SIGRTMIN+2, one-shot in 1000 s
 *   C  BOOTTIME, SIGEV_NONE, every 1 s
 *   D  MONOTONIC, SIGEV_THREAD_ID to the spinning thread, SIGRTMIN+3, every 200 ms
 *   E  the process CPU clock (clock_getcpuclockid(getpid())), one-shot in 1000 s
 *   F  the spinning thread's CPU clock, created by it, SIGEV_THREAD_ID to
 *      itself, SIGRTMIN+5, every 100 ms of its CPU time
 *   G  MONOTONIC, SIGRTMIN+6 (blocked everywhere), one-shot: stays pending
 *   H  MONOTONIC, SIGRTMIN+7 (blocked everywhere), every 50 ms: pending
 *   I  MONOTONIC, SIGEV_THREAD_ID to the spinning thread, SIGRTMIN+9
 *      (blocked), one-shot: pending in that thread (checked by it)
 * and ITIMER_REAL every 80 ms, ITIMER_VIRTUAL and ITIMER_PROF every 100 ms
 * (driven by the spinning thread). Handlers check si_code, si_timerid,
 * si_value and the receiving thread, and count. It writes DIR/ready once
 * every signal source has fired; when DIR/verify appears it checks the
 * timers and counts for 1.5 s and writes DIR/result, "OK ..." or "FAIL ...".
 * With --refuse=KIND it also makes a timer minicr must refuse to dump: on
 * a child's CPU clock, with overruns at its last delivery, periodic on the
 * process CPU clock with its signal pending, disarmed on the CPU clock of
 * the main thread (the task has two). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { TA, TB, TC, TD, TE, TF, TG, TH, TI, NT };
enum { S_A, S_D, S_F, S_ALRM, S_VT, S_PROF, NS };

static int ids[NT], gap_id, last_id;
static volatile pid_t spin_tid;
static volatile long counts[NS];
static volatile int bad, spin_check, spin_done;
static char spin_why[200];
static char bad_msg[256];
static const char *dir;

static void set_bad(const char *fmt, ...)
{
	va_list ap;

	if (bad)
		return;
	va_start(ap, fmt);
	vsnprintf(bad_msg, sizeof(bad_msg), fmt, ap);
	va_end(ap);
	bad = 1;
}

static int k_timer_create(clockid_t clk, int notify, int signo, long value, pid_t tid)
{
	struct sigevent sev;
	int id = -1;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = notify;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_ptr = (void *)value;
	sev._sigev_un._tid = tid;
	if (syscall(SYS_timer_create, clk, &sev, &id)) {
		perror("timer_create");
		exit(1);
	}
	return id;
}

static void k_timer_set(int id, long value_ms, long interval_ms)
{
	struct itimerspec its = {
		.it_value = { value_ms / 1000, (value_ms % 1000) * 1000000 },
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000 },
	};

	if (syscall(SYS_timer_settime, id, 0, &its, NULL)) {
		perror("timer_settime");
		exit(1);
	}
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	int t = sig == SIGRTMIN + 1 ? TA : sig == SIGRTMIN + 3 ? TD : TF;
	long want = 1000 + t;

	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != ids[t] ||
	    (long)si->si_value.sival_ptr != want)
		set_bad("signal %d: si_code %d timerid %d value %ld, want SI_TIMER %d %ld", sig,
			si->si_code, si->si_timerid, (long)si->si_value.sival_ptr, ids[t], want);
	if ((t == TD || t == TF) && syscall(SYS_gettid) != spin_tid)
		set_bad("signal %d of thread timer %d reached thread %ld", sig, ids[t],
			(long)syscall(SYS_gettid));
	counts[t == TA ? S_A : t == TD ? S_D : S_F]++;
}

static void on_itimer(int sig)
{
	counts[sig == SIGALRM ? S_ALRM : sig == SIGVTALRM ? S_VT : S_PROF]++;
}

static int take_pending(int t, int sig, char *why, size_t len);

static void *spin(void *arg)
{
	(void)arg;
	spin_tid = syscall(SYS_gettid);
	ids[TF] = k_timer_create(CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID, SIGRTMIN + 5,
				 1000 + TF, spin_tid);
	k_timer_set(ids[TF], 100, 100);
	for (;;) {
		/* Timer I's signal is in this thread's own queue. */
		if (spin_check && !spin_done) {
			if (take_pending(TI, SIGRTMIN + 9, spin_why, sizeof(spin_why)))
				spin_done = 2;
			else
				spin_done = 1;
		}
	}
	return NULL;
}

static int exists(const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void put(const char *name, const char *text)
{
	char p[4096], tmp[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, p)) {
		perror(p);
		exit(1);
	}
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* value within (0, max_ms], interval exactly iv_ms. */
static int check_time(int t, long max_ms, long iv_ms, char *why, size_t len)
{
	struct itimerspec its;

	if (syscall(SYS_timer_gettime, ids[t], &its)) {
		snprintf(why, len, "timer_gettime(%d): %s", ids[t], strerror(errno));
		return -1;
	}
	if (ns(its.it_value) <= 0 || ns(its.it_value) > max_ms * 1000000 ||
	    ns(its.it_interval) != iv_ms * 1000000) {
		snprintf(why, len, "timer %d: value %lld ns interval %lld ns, want (0, %ld ms] / %ld ms",
			 ids[t], (long long)ns(its.it_value), (long long)ns(its.it_interval),
			 max_ms, iv_ms);
		return -1;
	}
	return 0;
}

/* The pending timer signal of t: exactly one queued, with its siginfo. */
static int take_pending(int t, int sig, char *why, size_t len)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &zero) != sig) {
		snprintf(why, len, "timer %d: its signal %d is not pending", ids[t], sig);
		return -1;
	}
	if (si.si_code != SI_TIMER || si.si_timerid != ids[t] ||
	    (long)si.si_value.sival_ptr != 1000 + t) {
		snprintf(why, len, "timer %d: pending signal has si_code %d timerid %d value %ld",
			 ids[t], si.si_code, si.si_timerid, (long)si.si_value.sival_ptr);
		return -1;
	}
	if (sigtimedwait(&set, &si, &zero) == sig) {
		snprintf(why, len, "timer %d: its signal %d was queued twice", ids[t], sig);
		return -1;
	}
	return 0;
}

static int verify(char *why, size_t len)
{
	static const char *names[NS] = { "A", "D", "F", "SIGALRM", "SIGVTALRM", "SIGPROF" };
	struct itimerspec its;
	struct itimerval iv;
	long before[NS];
	int id;

	if (check_time(TA, 200, 200, why, len) || check_time(TB, 1000000, 0, why, len) ||
	    check_time(TC, 1000, 1000, why, len) || check_time(TD, 200, 200, why, len) ||
	    check_time(TE, 1000000, 0, why, len) || check_time(TF, 100, 100, why, len) ||
	    check_time(TH, 50, 50, why, len))
		return -1;
	syscall(SYS_timer_gettime, ids[TB], &its);
	if (its.it_value.tv_sec < 900) {
		{
			snprintf(why, len, "timer B has %ld s left", (long)its.it_value.tv_sec);
			return -1;
		}
	}
	syscall(SYS_timer_gettime, ids[TG], &its);
	if (ns(its.it_value) || ns(its.it_interval)) {
		snprintf(why, len, "expired one-shot timer G is armed again");
		return -1;
	}
	if (syscall(SYS_timer_gettime, gap_id, &its) == 0 || errno != EINVAL) {
		snprintf(why, len, "deleted timer ID %d: timer_gettime gives %s", gap_id,
			 strerror(errno));
		return -1;
	}
	if (take_pending(TG, SIGRTMIN + 6, why, len) || take_pending(TH, SIGRTMIN + 7, why, len))
		return -1;
	spin_check = 1;
	while (!spin_done)
		msleep(1);
	if (spin_done == 2) {
		snprintf(why, len, "spinning thread: %s", spin_why);
		return -1;
	}
	getitimer(ITIMER_REAL, &iv);
	if (iv.it_interval.tv_usec != 80000 || iv.it_value.tv_usec > 80000 ||
	    (!iv.it_value.tv_usec && !iv.it_value.tv_sec)) {
		snprintf(why, len, "ITIMER_REAL %ld us every %ld us", (long)iv.it_value.tv_usec,
			 (long)iv.it_interval.tv_usec);
		return -1;
	}
	for (int w = ITIMER_VIRTUAL; w <= ITIMER_PROF; w++) {
		getitimer(w, &iv);
		if (iv.it_interval.tv_usec != 100000) {
			snprintf(why, len, "itimer %d every %ld us", w, (long)iv.it_interval.tv_usec);
			return -1;
		}
	}
	/* A new timer gets an ID past every existing one, as before the dump. */
	id = k_timer_create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
	syscall(SYS_timer_delete, id);
	if (id != last_id + 1) {
		snprintf(why, len, "a new timer got ID %d, not %d", id, last_id + 1);
		return -1;
	}
	for (int s = 0; s < NS; s++)
		before[s] = counts[s];
	msleep(1500);
	for (int s = 0; s < NS; s++) {
		/* CPU time comes slowly on a loaded machine. */
		long want = s == S_A || s == S_D || s == S_ALRM ? 3 : 1;

		if (counts[s] - before[s] < want) {
			snprintf(why, len, "%s fired %ld times in 1.5 s", names[s],
				 counts[s] - before[s]);
			return -1;
		}
	}
	if (take_pending(TH, SIGRTMIN + 7, why, len))
		return -1;
	return 0;
}

/* A timer minicr must refuse to dump; returns its ID. */
static int refusable(const char *what)
{
	struct timespec zero = { 0, 0 };
	clockid_t cpu;
	sigset_t set;
	pid_t kid;
	int id;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 8);
	if (!strcmp(what, "--refuse=cpu-of-child")) {
		kid = fork();
		if (kid == 0) {
			for (;;)
				pause();
		}
		clock_getcpuclockid(kid, &cpu);
		return k_timer_create(cpu, SIGEV_NONE, 0, 0, 0);
	}
	if (!strcmp(what, "--refuse=overrun")) {
		/* Delivered after 5 periods blocked: overrun 4 or so, and
		 * the next signal stays pending, so no delivery resets it. */
		id = k_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 8, 0, 0);
		k_timer_set(id, 10, 10);
		msleep(55);
		sigtimedwait(&set, NULL, &zero);
		return id;
	}
	if (!strcmp(what, "--refuse=cpu-pending")) {
		/* The spinning thread makes it expire; its signal is blocked. */
		id = k_timer_create(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGRTMIN + 8, 0, 0);
		k_timer_set(id, 10, 1000000);
		while (sigpending(&set), !sigismember(&set, SIGRTMIN + 8))
			msleep(5);
		return id;
	}
	if (!strcmp(what, "--refuse=thread-clock-disarmed"))
		return k_timer_create(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 0);
	fprintf(stderr, "unknown %s\n", what);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct itimerval iv;
	pthread_t th;
	sigset_t block;
	clockid_t cpu;
	char why[300];

	if (argc < 2) {
		fprintf(stderr, "usage: minicr-test-timers DIR [--refuse=cpu-of-child|overrun|"
			"cpu-pending|thread-clock-disarmed]\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigaction(SIGRTMIN + 3, &sa, NULL);
	sigaction(SIGRTMIN + 5, &sa, NULL);
	sa.sa_handler = on_itimer;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 6);
	sigaddset(&block, SIGRTMIN + 7);
	sigaddset(&block, SIGRTMIN + 8);   /* of --refuse timers */
	sigaddset(&block, SIGRTMIN + 9);
	sigprocmask(SIG_BLOCK, &block, NULL);

	ids[TA] = k_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 1000 + TA, 0);
	gap_id = k_timer_create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
	syscall(SYS_timer_delete, gap_id);
	ids[TB] = k_timer_create(CLOCK_REALTIME, SIGEV_SIGNAL, SIGRTMIN + 2, 1000 + TB, 0);
	ids[TC] = k_timer_create(CLOCK_BOOTTIME, SIGEV_NONE, 0, 1000 + TC, 0);
	if (pthread_create(&th, NULL, spin, NULL))
		return 1;
	while (!spin_tid || !ids[TF])
		msleep(1);
	ids[TD] = k_timer_create(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN + 3, 1000 + TD, spin_tid);
	clock_getcpuclockid(getpid(), &cpu);
	ids[TE] = k_timer_create(cpu, SIGEV_SIGNAL, SIGRTMIN + 4, 1000 + TE, 0);
	ids[TG] = k_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 6, 1000 + TG, 0);
	ids[TH] = k_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 7, 1000 + TH, 0);
	ids[TI] = k_timer_create(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN + 9, 1000 + TI, spin_tid);
	k_timer_set(ids[TA], 200, 200);
	k_timer_set(ids[TB], 1000000, 0);
	k_timer_set(ids[TC], 1000, 1000);
	k_timer_set(ids[TD], 200, 200);
	k_timer_set(ids[TE], 1000000, 0);
	k_timer_set(ids[TG], 10, 0);
	k_timer_set(ids[TH], 50, 50);
	k_timer_set(ids[TI], 10, 0);
	iv = (struct itimerval){ { 0, 80000 }, { 0, 80000 } };
	setitimer(ITIMER_REAL, &iv, NULL);
	iv = (struct itimerval){ { 0, 100000 }, { 0, 100000 } };
	setitimer(ITIMER_VIRTUAL, &iv, NULL);
	setitimer(ITIMER_PROF, &iv, NULL);
	last_id = ids[TI];
	if (argc > 2)
		last_id = refusable(argv[2]);

	for (;;) {
		int all = 1;

		for (int s = 0; s < NS; s++)
			all &= counts[s] > 0;
		if (all)
			break;
		msleep(10);
	}
	put("ready", "ready\n");
	for (;;) {
		msleep(20);
		if (bad) {
			snprintf(why, sizeof(why), "FAIL %s\n", bad_msg);
			put("result", why);
			continue;
		}
		if (!exists("verify") || exists("result"))
			continue;
		if (verify(why, sizeof(why)) || bad) {
			char out[400];

			snprintf(out, sizeof(out), "FAIL %s\n", bad ? bad_msg : why);
			put("result", out);
		} else {
			put("result", "OK timers and itimers go on\n");
		}
	}
}
