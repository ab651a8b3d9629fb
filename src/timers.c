/* POSIX timers and itimers: dump and restore (contract in timers.h). */
#include "timers.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dump_core.h"
#include "infect.h"
#include "log.h"
#include "proc_parse.h"
#include "rst_core_int.h"
#include "util.h"

/* Linux 6.17+: timer_create() takes the wanted ID from *timerid. */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS      77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF  0
#define PR_TIMER_CREATE_RESTORE_IDS_ON   1
#define PR_TIMER_CREATE_RESTORE_IDS_GET  2
#endif

#define NSEC_PER_SEC   1000000000ULL
#define SIGINFO_SIZE   128
#define TIMERS_SCRATCH 4096
/* Moving the kernel's ID counter past the highest restored ID costs two
 * remote calls per ID: beyond this it is left where it is. */
#define ID_COUNTER_MAX 4096

/* x86_64 layouts of the kernel's struct sigevent and struct itimerspec. */
struct k_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct k_itimerspec {
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

struct k_itimerval {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

/* ---- pure: /proc/PID/timers, clock ids, siginfo ---- */

static int parse_notify(const char *s, struct proc_timer *t)
{
	char how[16], whom[8];
	int pid;

	if (sscanf(s, "%15[a-z]/%7[a-z].%d", how, whom, &pid) != 3)
		return -EINVAL;
	if (!strcmp(how, "signal"))
		t->notify = SIGEV_SIGNAL;
	else if (!strcmp(how, "none"))
		t->notify = SIGEV_NONE;
	else if (!strcmp(how, "thread"))
		t->notify = SIGEV_THREAD;
	else
		return -EINVAL;
	if (!strcmp(whom, "tid"))
		t->notify |= SIGEV_THREAD_ID;
	else if (strcmp(whom, "pid"))
		return -EINVAL;
	t->notify_pid = pid;
	return 0;
}

/* Each entry is four lines, ID: first. */
int proc_timers_parse(const char *buf, struct proc_timer **out, size_t *nr)
{
	struct proc_timer *arr = NULL, *cur = NULL, *na;
	const char *line = buf;
	unsigned seen = 0;
	size_t n = 0;
	int ret = 0;

	while (line && *line && !ret) {
		const char *nl = strchr(line, '\n');
		unsigned long long v;
		char end;

		if (!strncmp(line, "ID:", 3)) {
			if (cur && seen != 15) {
				ret = -EINVAL;
				break;
			}
			na = realloc(arr, (n + 1) * sizeof(*arr));
			if (!na) {
				ret = -ENOMEM;
				break;
			}
			arr = na;
			cur = &arr[n++];
			memset(cur, 0, sizeof(*cur));
			seen = 1;
			if (sscanf(line + 3, " %d%c", &cur->id, &end) != 2 || end != '\n' ||
			    cur->id < 0)
				ret = -EINVAL;
		} else if (!cur) {
			ret = -EINVAL;
		} else if (!strncmp(line, "signal:", 7)) {
			seen |= 2;
			if (sscanf(line + 7, " %d/%llx%c", &cur->signo, &v, &end) != 3 ||
			    end != '\n')
				ret = -EINVAL;
			cur->sival = v;
		} else if (!strncmp(line, "notify:", 7)) {
			seen |= 4;
			ret = parse_notify(line + 7 + strspn(line + 7, " "), cur);
		} else if (!strncmp(line, "ClockID:", 8)) {
			seen |= 8;
			if (sscanf(line + 8, " %d%c", &cur->clock, &end) != 2 || end != '\n')
				ret = -EINVAL;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!ret && cur && seen != 15)
		ret = -EINVAL;
	if (ret) {
		free(arr);
		return ret;
	}
	*out = arr;
	*nr = n;
	return 0;
}

/* CPU clock ids are ~pid << 3 | per-thread bit 4 | type (PROF, VIRT, SCHED;
 * 3 is a dynamic clock behind an fd); pid 0 is the caller itself. */
enum timer_clock_kind timer_clock_kind(int clock, pid_t *pid, bool *perthread)
{
	*pid = 0;
	*perthread = false;
	switch (clock) {
	case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
		return TCLK_HRTIMER;
	case CLOCK_PROCESS_CPUTIME_ID:
		return TCLK_CPU_PROCESS;
	case CLOCK_THREAD_CPUTIME_ID:
		*perthread = true;
		return TCLK_CPU_THREAD;
	}
	if (clock >= 0 || (clock & 3) == 3)
		return TCLK_UNSUPPORTED;
	*pid = ~(clock >> 3);
	*perthread = clock & 4;
	if (!*pid)
		return *perthread ? TCLK_CPU_THREAD : TCLK_CPU_PROCESS;
	return TCLK_CPU_PID;
}

int timer_siginfo_id(const uint8_t *si, size_t len)
{
	int32_t code, tid;

	if (len < 24)
		return -1;
	memcpy(&code, si + 8, sizeof(code));
	memcpy(&tid, si + 16, sizeof(tid));   /* _sifields._timer.si_tid */
	return code == SI_TIMER && tid >= 0 ? tid : -1;
}

static uint64_t ts_ns(int64_t sec, int64_t nsec)
{
	return (uint64_t)sec * NSEC_PER_SEC + (uint64_t)nsec;
}

/* ---- dump ---- */

static ssize_t thread_index(const struct pstree_task *t, pid_t tid)
{
	for (size_t i = 0; i < t->nr_tids; i++)
		if (t->tids[i] == tid)
			return i;
	return -1;
}

/* The thread whose last-level NSpid (the ID the task itself uses) is nspid. */
static int thread_by_nspid(const struct pstree_task *t, pid_t nspid, pid_t *tid)
{
	for (size_t i = 0; i < t->nr_tids; i++) {
		struct proc_status st;
		int ret = proc_status_read(t->pid, t->tids[i], &st);

		if (ret) {
			pr_err("task %d thread %d: cannot read its status: %s", t->pid, t->tids[i],
			       errstr(ret));
			return ret;
		}
		if (st.ns_pid_nr && st.ns_pid[st.ns_pid_nr - 1] == nspid) {
			*tid = t->tids[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* What /proc/PID/timers says, checked: which thread the clock counts and
 * which thread the signal goes to. */
static int timer_from_proc(const struct pstree_task *t, const struct proc_timer *pt,
			   PosixTimerEntry *e)
{
	enum timer_clock_kind kind;
	bool perthread;
	pid_t pid, tid;
	int ret;

	posix_timer_entry__init(e);
	e->id = pt->id;
	e->clock = pt->clock;
	e->notify = pt->notify;
	e->signo = pt->signo;
	e->sival = pt->sival;
	switch (pt->notify) {
	case SIGEV_SIGNAL: case SIGEV_NONE:
		if (pt->notify_pid != t->pid) {
			pr_err("task %d: timer %d: notifies process %d, not the task: not supported",
			       t->pid, pt->id, pt->notify_pid);
			return -EOPNOTSUPP;
		}
		break;
	case SIGEV_SIGNAL | SIGEV_THREAD_ID:
		if (thread_index(t, pt->notify_pid) < 0) {
			pr_err("task %d: timer %d: signals thread %d, which is not one of the task's",
			       t->pid, pt->id, pt->notify_pid);
			return -EOPNOTSUPP;
		}
		e->has_notify_tid = 1;
		e->notify_tid = pt->notify_pid;
		break;
	default:
		pr_err("task %d: timer %d: notification %d: not supported", t->pid, pt->id,
		       pt->notify);
		return -EOPNOTSUPP;
	}

	kind = timer_clock_kind(pt->clock, &pid, &perthread);
	if (kind == TCLK_UNSUPPORTED) {
		pr_err("task %d: timer %d: clock %d: not supported (a dynamic clock?)", t->pid,
		       pt->id, pt->clock);
		return -EOPNOTSUPP;
	}
	if (kind == TCLK_CPU_THREAD && t->nr_tids == 1) {
		e->has_cpu_tid = 1;
		e->cpu_tid = t->pid;
	}
	if (kind != TCLK_CPU_PID)
		return 0;
	/* A CPU clock named by PID: only the task's own, or one of its
	 * threads (same IDs after restore). */
	ret = thread_by_nspid(t, pid, &tid);
	if (ret == -ENOENT || (!ret && !perthread && tid != t->pid)) {
		pr_err("task %d: timer %d: counts the CPU time of %s %d, outside the task: "
		       "not supported", t->pid, pt->id, perthread ? "thread" : "process", pid);
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	if (perthread) {
		e->has_cpu_tid = 1;
		e->cpu_tid = tid;
	}
	return 0;
}

static int timer_gettime_remote(struct remote *r, int id, struct k_itimerspec *its)
{
	char what[48];

	snprintf(what, sizeof(what), "timer_gettime(%d)", id);
	return remote_get(r, what, __NR_timer_gettime, id, r->scratch, 0, 0, its, sizeof(*its));
}

/* Time left, interval and overrun of every timer, and the itimers, asked
 * of the leader. */
static int remote_values(struct remote *r, CoreEntry *ce)
{
	struct k_itimerspec its;
	struct k_itimerval iv;
	char what[48];
	long ov;
	int ret;

	for (size_t i = 0; i < ce->n_posix_timers; i++) {
		PosixTimerEntry *e = ce->posix_timers[i];

		ret = timer_gettime_remote(r, e->id, &its);
		if (ret)
			return ret;
		e->value_ns = ts_ns(its.value_sec, its.value_nsec);
		e->interval_ns = ts_ns(its.interval_sec, its.interval_nsec);
		e->has_interval_ns = e->interval_ns != 0;
		ov = remote_syscall(r, __NR_timer_getoverrun, e->id, 0, 0, 0, 0, 0);
		if (ov < 0) {
			pr_err("task %d: remote timer_getoverrun(%d): %s", r->pid, e->id,
			       errstr((int)ov));
			return ov;
		}
		/* Only a delivery sets it, and timer_settime() clears it. */
		if (ov) {
			pr_err("task %d: timer %d: its last expiration had %ld overruns, which "
			       "cannot be set again", r->pid, e->id, ov);
			return -EOPNOTSUPP;
		}
	}
	for (unsigned which = ITIMER_REAL; which <= ITIMER_PROF; which++) {
		ItimerEntry *e;

		snprintf(what, sizeof(what), "getitimer(%u)", which);
		ret = remote_get(r, what, __NR_getitimer, which, r->scratch, 0, 0, &iv, sizeof(iv));
		if (ret)
			return ret;
		if (!iv.value_sec && !iv.value_usec && !iv.interval_sec && !iv.interval_usec)
			continue;   /* the kernel default */
		e = malloc(sizeof(*e));
		if (!e)
			return -ENOMEM;
		itimer_entry__init(e);
		e->which = which;
		e->value_us = (uint64_t)iv.value_sec * 1000000 + iv.value_usec;
		e->has_interval_us = 1;
		e->interval_us = (uint64_t)iv.interval_sec * 1000000 + iv.interval_usec;
		ce->itimers[ce->n_itimers++] = e;
	}
	return 0;
}

/* On the CPU clock of its creating thread, which is not known yet. */
static bool unbound_cpu_thread(const PosixTimerEntry *e)
{
	pid_t pid;
	bool pt;

	return !e->has_cpu_tid && timer_clock_kind(e->clock, &pid, &pt) == TCLK_CPU_THREAD;
}

/* A per-thread CPU clock of a multi-threaded task: the thread it counts is
 * not shown anywhere, but only that thread's clock moves while it runs
 * remote calls and the others stay frozen. */
static int probe_cpu_thread(const struct pstree_task *t, unsigned long sys_ip, CoreEntry *ce)
{
	struct k_itimerspec a, b;
	struct remote r;
	size_t todo = 0;
	int ret = 0, end;

	for (size_t k = 0; k < ce->n_posix_timers; k++) {
		PosixTimerEntry *e = ce->posix_timers[k];

		if (!unbound_cpu_thread(e))
			continue;
		if (!e->value_ns) {
			pr_err("task %d: timer %d: disarmed on the CPU clock of one of its %zu "
			       "threads, which cannot be told", t->pid, e->id, t->nr_tids);
			return -EOPNOTSUPP;
		}
		todo++;
	}
	for (size_t i = 0; i < t->nr_tids && todo && !ret; i++) {
		ret = remote_start(&r, t->pid, t->tids[i], sys_ip);
		if (ret)
			return ret;
		ret = remote_scratch(&r, TIMERS_SCRATCH);
		for (size_t k = 0; k < ce->n_posix_timers && !ret; k++) {
			PosixTimerEntry *e = ce->posix_timers[k];

			if (!unbound_cpu_thread(e))
				continue;
			ret = timer_gettime_remote(&r, e->id, &a);
			if (!ret)
				ret = timer_gettime_remote(&r, e->id, &b);
			if (!ret && memcmp(&a, &b, sizeof(a))) {
				e->has_cpu_tid = 1;
				e->cpu_tid = t->tids[i];
				todo--;
			}
		}
		end = remote_end(&r);
		if (!ret)
			ret = end;
	}
	for (size_t k = 0; k < ce->n_posix_timers && !ret; k++) {
		const PosixTimerEntry *e = ce->posix_timers[k];

		if (!unbound_cpu_thread(e))
			continue;
		/* The kernel reports 1 ns for a CPU timer that has expired but
		 * that the scheduler tick has not fired yet: no clock moves it. */
		if (e->value_ns == 1)
			pr_err("task %d: timer %d: on a thread CPU clock, due at the freeze (its "
			       "expiry waits for the thread's next tick), so which thread's clock "
			       "it is cannot be told: dump again", t->pid, e->id);
		else
			pr_err("task %d: timer %d: on a thread CPU clock that none of its threads "
			       "drives", t->pid, e->id);
		ret = -EOPNOTSUPP;
	}
	return ret;
}

static size_t nr_queued(const CoreEntry *ce)
{
	size_t n = ce->n_shared_pending;

	for (size_t i = 0; i < ce->n_threads; i++)
		n += ce->threads[i]->n_pending;
	return n;
}

static void free_blobs(ProtobufCBinaryData *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].data);
	free(b);
}

/* Peek every queue again, into ce. The task is frozen, so queues only grow:
 * a timer that expired since dump_core_fill() peeked shows up here. */
static int repeek(const struct pstree_task *t, CoreEntry *ce)
{
	ProtobufCBinaryData *b;
	size_t n;
	int ret;

	ret = peek_siginfo(t->pid, t->pid, true, &b, &n);
	if (ret)
		return ret;
	free_blobs(ce->shared_pending, ce->n_shared_pending);
	ce->shared_pending = b;
	ce->n_shared_pending = n;
	for (size_t i = 0; i < ce->n_threads; i++) {
		ThreadCoreEntry *te = ce->threads[i];

		ret = peek_siginfo(t->pid, t->tids[i], false, &b, &n);
		if (ret)
			return ret;
		free_blobs(te->pending, te->n_pending);
		te->pending = b;
		te->n_pending = n;
	}
	return 0;
}

static PosixTimerEntry *find_timer(const CoreEntry *ce, int id)
{
	for (size_t i = 0; i < ce->n_posix_timers; i++)
		if (ce->posix_timers[i]->id == id)
			return ce->posix_timers[i];
	return NULL;
}

/* Take each recorded timer's queued signal out of a pending list, to be
 * queued again by the timer itself. Except for a periodic CPU-time timer
 * (whose clock cannot be set back to expire it one period earlier) with
 * the signal deliverable (not in every receiver's blocked mask): its
 * signal stays a plain pending one, delivered before the clock that would
 * fire the timer again can move, and the timer is armed for a full period,
 * as its re-arming at delivery would (the phase lost is the CPU time since
 * it expired, below a scheduler tick, which is when CPU timers are seen
 * to expire). unblocked: the signals a receiver of this list takes. */
static void take_timer_signals(CoreEntry *ce, ProtobufCBinaryData *b, size_t *n,
			       uint64_t unblocked)
{
	size_t out = 0;

	for (size_t i = 0; i < *n; i++) {
		PosixTimerEntry *e = find_timer(ce, timer_siginfo_id(b[i].data, b[i].len));
		pid_t p;
		bool pt;

		if (e && !e->sig_pending && e->interval_ns && e->signo >= 1 && e->signo <= 64 &&
		    (unblocked & (1ULL << (e->signo - 1))) &&
		    timer_clock_kind(e->clock, &p, &pt) != TCLK_HRTIMER) {
			pr_debug("timer %d: periodic on a CPU clock, its signal %u pending: kept "
				 "as a plain pending signal, the timer re-armed for a period",
				 e->id, e->signo);
			e->value_ns = e->interval_ns;
			e = NULL;
		}
		if (e && !e->sig_pending) {
			e->has_sig_pending = e->sig_pending = 1;
			free(b[i].data);
			continue;
		}
		b[out++] = b[i];
	}
	*n = out;
}

static int check_pending(pid_t pid, const PosixTimerEntry *e)
{
	pid_t p;
	bool pt;

	if (!e->sig_pending && !e->value_ns && e->interval_ns) {
		/* timer_settime() with no time left drops the interval. */
		pr_err("task %d: timer %d: disarmed but with an interval of %" PRIu64 " ns: "
		       "cannot be set so", pid, e->id, e->interval_ns);
		return -EOPNOTSUPP;
	}
	if (e->sig_pending && (e->interval_ns ? e->value_ns > e->interval_ns : e->value_ns)) {
		/* Queued, then set again: the kernel may drop that signal. */
		pr_err("task %d: timer %d: set again while its signal was pending: not "
		       "supported", pid, e->id);
		return -EOPNOTSUPP;
	}
	if (!e->sig_pending || !e->interval_ns ||
	    timer_clock_kind(e->clock, &p, &pt) == TCLK_HRTIMER)
		return 0;
	/* Re-arming it in the past would restart its period at CPU time 0. */
	pr_err("task %d: timer %d: periodic on a CPU clock with its signal pending and "
	       "blocked: cannot be queued again with its period kept", pid, e->id);
	return -EOPNOTSUPP;
}

int timers_dump(const struct pstree_task *t, unsigned long sys_ip, CoreEntry *ce)
{
	_cleanup_free_ struct proc_timer *pt = NULL;
	_cleanup_free_ char *buf = NULL;
	uint64_t any_unblocked = 0;
	struct remote r;
	char path[64];
	size_t n = 0, queued;
	int ret, end;

	snprintf(path, sizeof(path), "/proc/%d/timers", t->pid);
	ret = read_file(path, 1 << 22, &buf, NULL);
	if (!ret)
		ret = proc_timers_parse(buf, &pt, &n);
	if (ret) {
		pr_err("task %d: cannot read its timers from %s: %s", t->pid, path, errstr(ret));
		return ret;
	}
	ce->itimers = calloc(3, sizeof(*ce->itimers));
	ce->posix_timers = calloc(n ? n : 1, sizeof(*ce->posix_timers));
	if (!ce->itimers || !ce->posix_timers)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		PosixTimerEntry *e = malloc(sizeof(*e));

		if (!e)
			return -ENOMEM;
		ce->posix_timers[ce->n_posix_timers++] = e;
		ret = timer_from_proc(t, &pt[i], e);
		if (ret)
			return ret;
	}

	/* A timer expiring between the values and the peek would be
	 * recorded both armed and pending: read until nothing new is queued. */
	queued = nr_queued(ce);
	for (int round = 0;; round++) {
		size_t now;

		for (size_t i = 0; i < ce->n_itimers; i++)
			free(ce->itimers[i]);
		ce->n_itimers = 0;
		ret = remote_start(&r, t->pid, t->pid, sys_ip);
		if (ret)
			return ret;
		ret = remote_scratch(&r, TIMERS_SCRATCH);
		if (!ret)
			ret = remote_values(&r, ce);
		end = remote_end(&r);
		if (!ret)
			ret = end;
		if (!ret)
			ret = repeek(t, ce);
		if (ret)
			return ret;
		now = nr_queued(ce);
		if (now == queued)
			break;
		if (round == 4) {
			pr_err("task %d: signals keep being queued while its timers are read", t->pid);
			return -EAGAIN;
		}
		queued = now;
	}
	if (t->nr_tids > 1) {
		ret = probe_cpu_thread(t, sys_ip, ce);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < ce->n_threads; i++)
		any_unblocked |= ~ce->threads[i]->blocked;
	take_timer_signals(ce, ce->shared_pending, &ce->n_shared_pending, any_unblocked);
	for (size_t i = 0; i < ce->n_threads; i++)
		take_timer_signals(ce, ce->threads[i]->pending, &ce->threads[i]->n_pending,
				   ~ce->threads[i]->blocked);
	for (size_t i = 0; i < ce->n_posix_timers; i++) {
		ret = check_pending(t->pid, ce->posix_timers[i]);
		if (ret)
			return ret;
	}
	if (ce->n_posix_timers || ce->n_itimers)
		pr_debug("task %d: %zu POSIX timers, %zu itimers", t->pid, ce->n_posix_timers,
			 ce->n_itimers);
	return 0;
}

void timers_free(CoreEntry *ce)
{
	for (size_t i = 0; i < ce->n_posix_timers; i++)
		free(ce->posix_timers[i]);
	free(ce->posix_timers);
	ce->posix_timers = NULL;
	ce->n_posix_timers = 0;
	for (size_t i = 0; i < ce->n_itimers; i++)
		free(ce->itimers[i]);
	free(ce->itimers);
	ce->itimers = NULL;
	ce->n_itimers = 0;
}

/* ---- restore ---- */

int timers_check(void)
{
	return prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) < 0 ?
	       -errno : 0;
}

static ssize_t image_thread(const CoreEntry *ce, pid_t tid)
{
	for (size_t i = 0; i < ce->n_threads; i++)
		if (ce->threads[i]->tid == tid)
			return i;
	return -1;
}

/* Which thread creates the timer: the one whose CPU clock it counts, or
 * the leader. */
static size_t creator(const CoreEntry *ce, const PosixTimerEntry *e)
{
	ssize_t i = e->has_cpu_tid ? image_thread(ce, e->cpu_tid) : 0;

	return i < 0 ? 0 : (size_t)i;
}

static int fill_sigevent(struct rst_call *c, const CoreEntry *ce, const PosixTimerEntry *e,
			 struct k_sigevent *sev)
{
	const PstreeEntry *pe = c->t->pe;
	ssize_t i;

	memset(sev, 0, sizeof(*sev));
	sev->value = e->sival;
	sev->signo = e->signo;
	sev->notify = e->notify;
	if (!e->has_notify_tid)
		return 0;
	/* The target as the task sees it: the recorded in-namespace TID. */
	i = image_thread(ce, e->notify_tid);
	if (i < 0 || (size_t)i >= pe->n_threads) {
		pr_err("task %d: timer %d: signals thread %d, which the image does not have",
		       c->t->pid, e->id, e->notify_tid);
		return -EINVAL;
	}
	sev->tid = pe->n_ns_threads == pe->n_threads ? pe->ns_threads[i] : pe->threads[i];
	return 0;
}

/* The thread (as minicr sees it) whose queue gets the timer's signal, and
 * whether it is the shared queue. */
static pid_t signal_queue(struct rst_call *c, const CoreEntry *ce, const PosixTimerEntry *e,
			  bool *shared)
{
	ssize_t i = e->has_notify_tid ? image_thread(ce, e->notify_tid) : -1;

	*shared = i < 0;
	return i < 0 || (size_t)i >= c->t->nr_tids ? c->tid : c->t->tids[i];
}

/* An expired timer's signal is queued by the timer interrupt, soon. */
static int wait_queued(struct rst_call *c, const CoreEntry *ce, const PosixTimerEntry *e)
{
	bool shared;
	pid_t tid = signal_queue(c, ce, e, &shared);

	for (int tries = 0; tries < 2000; tries++) {
		ProtobufCBinaryData *b;
		size_t n;
		bool found = false;
		int ret = peek_siginfo(c->t->pid, tid, shared, &b, &n);

		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++)
			found |= timer_siginfo_id(b[i].data, b[i].len) == e->id;
		free_blobs(b, n);
		if (found)
			return 0;
		usleep(1000);
	}
	pr_err("task %d: timer %d: armed to expire at once, its signal %u was not queued "
	       "within 2 s", c->t->pid, e->id, e->signo);
	return -ETIMEDOUT;
}

/* A pending signal is the timer's own queue entry: expire it now. A
 * periodic one is set one period before its next expiration, which its
 * re-arming at delivery then finds again. */
static int arm_pending(struct rst_call *c, const CoreEntry *ce, const PosixTimerEntry *e,
		       struct k_itimerspec *its)
{
	struct k_itimerspec now;   /* a struct timespec at its start */
	char what[96];
	int64_t abs_ns;
	long r;
	int ret;

	r = rst_call(c, "clock_gettime", __NR_clock_gettime, e->clock, rst_scratch(c, 256),
		     0, 0, 0, 0);
	if (r < 0)
		return r;
	ret = remote_read(c->t->pid, rst_scratch(c, 256), &now, 16);
	if (ret) {
		pr_err("task %d: timer %d: cannot read the clock: %s", c->t->pid, e->id,
		       errstr(ret));
		return ret;
	}
	abs_ns = (int64_t)ts_ns(now.interval_sec, now.interval_nsec);
	if (e->interval_ns)
		abs_ns += (int64_t)e->value_ns - (int64_t)e->interval_ns;
	if (abs_ns <= 0) {
		pr_err("task %d: timer %d: clock %d is at %" PRId64 " ns, too early to expire "
		       "the timer one period back", c->t->pid, e->id, e->clock, abs_ns);
		return -ERANGE;
	}
	its->value_sec = abs_ns / (int64_t)NSEC_PER_SEC;
	its->value_nsec = abs_ns % (int64_t)NSEC_PER_SEC;
	ret = rst_call_put(c, 128, its, sizeof(*its));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "timer_settime(%d, TIMER_ABSTIME, expired)", e->id);
	r = rst_call(c, what, __NR_timer_settime, e->id, TIMER_ABSTIME, rst_scratch(c, 128),
		     0, 0, 0);
	return r < 0 ? (int)r : wait_queued(c, ce, e);
}

static int create_timer(struct rst_call *c, const CoreEntry *ce, const PosixTimerEntry *e)
{
	struct k_itimerspec its = { 0 };
	struct k_sigevent sev;
	int32_t id = e->id;
	char what[96];
	long r;
	int ret;

	ret = fill_sigevent(c, ce, e, &sev);
	if (!ret)
		ret = rst_call_put(c, 0, &id, sizeof(id));
	if (!ret)
		ret = rst_call_put(c, 64, &sev, sizeof(sev));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "timer_create(clock %d, notify %u, signal %u, id %d)",
		 e->clock, e->notify, e->signo, e->id);
	r = rst_call(c, what, __NR_timer_create, e->clock, rst_scratch(c, 64), rst_scratch(c, 0),
		     0, 0, 0);
	if (r < 0)
		return r;
	ret = remote_read(c->t->pid, rst_scratch(c, 0), &id, sizeof(id));
	if (!ret && id != e->id) {
		pr_err("task %d: timer %d: was created with ID %d", c->t->pid, e->id, id);
		ret = -EINVAL;
	}
	if (ret)
		return ret;

	its.interval_sec = e->interval_ns / NSEC_PER_SEC;
	its.interval_nsec = e->interval_ns % NSEC_PER_SEC;
	if (e->sig_pending)
		return arm_pending(c, ce, e, &its);
	if (!e->value_ns)
		return 0;   /* created disarmed */
	its.value_sec = e->value_ns / NSEC_PER_SEC;
	its.value_nsec = e->value_ns % NSEC_PER_SEC;
	ret = rst_call_put(c, 128, &its, sizeof(its));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "timer_settime(%d, %" PRIu64 " ns, every %" PRIu64 " ns)",
		 e->id, e->value_ns, e->interval_ns);
	r = rst_call(c, what, __NR_timer_settime, e->id, 0, rst_scratch(c, 128), 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

/* Restored IDs leave the kernel's counter at 0, where the task's next
 * timer_create() would reuse a gap below them; at dump it was past them.
 * The counter skips taken IDs: taking and freeing every free ID up to the
 * last one below the highest makes the next new timer get highest + 1. */
static int move_id_counter(struct rst_call *c, const CoreEntry *ce)
{
	struct k_sigevent sev = { .notify = SIGEV_NONE };
	int32_t max = -1, last, id;
	long r;
	int ret;

	for (size_t i = 0; i < ce->n_posix_timers; i++)
		if (ce->posix_timers[i]->id > max)
			max = ce->posix_timers[i]->id;
	if (max < 0 || max >= ID_COUNTER_MAX)
		return 0;
	for (last = max - 1; last >= 0 && find_timer(ce, last); last--)
		;
	if (last < 0)
		return 0;   /* 0 to max all taken: the counter skips them */
	ret = rst_call_put(c, 64, &sev, sizeof(sev));
	if (ret)
		return ret;
	do {
		r = rst_call(c, "timer_create(to move the ID counter)", __NR_timer_create,
			     CLOCK_MONOTONIC, rst_scratch(c, 64), rst_scratch(c, 0), 0, 0, 0);
		if (r < 0)
			return r;
		ret = remote_read(c->t->pid, rst_scratch(c, 0), &id, sizeof(id));
		if (ret) {
			pr_err("task %d: cannot read a new timer's ID: %s", c->t->pid, errstr(ret));
			return ret;
		}
		r = rst_call(c, "timer_delete", __NR_timer_delete, id, 0, 0, 0, 0, 0);
		if (r < 0)
			return r;
	} while (id < last);
	return 0;
}

/* ITIMER_REAL with no time left but an interval has expired and is
 * re-armed when its SIGALRM is dequeued; setitimer() with no time left
 * would drop the interval: let it expire again, at once, and wait until it
 * has (its SIGALRM merges with the one restored as pending). */
static int expire_real(struct rst_call *c, const ItimerEntry *e)
{
	struct k_itimerval v;
	int ret;

	for (int tries = 0; tries < 1000; tries++) {
		ret = rst_call(c, "getitimer(ITIMER_REAL)", __NR_getitimer, ITIMER_REAL,
			       rst_scratch(c, 64), 0, 0, 0, 0);
		if (!ret)
			ret = remote_read(c->t->pid, rst_scratch(c, 64), &v, sizeof(v));
		if (ret)
			return ret;
		if (!v.value_sec && !v.value_usec)
			return 0;
		usleep(1000);
	}
	pr_err("task %d: ITIMER_REAL (every %" PRIu64 " us) set to expire at once did not "
	       "within 1 s", c->t->pid, e->interval_us);
	return -ETIMEDOUT;
}

static int restore_itimers(struct rst_call *c, const CoreEntry *ce)
{
	for (size_t i = 0; i < ce->n_itimers; i++) {
		const ItimerEntry *e = ce->itimers[i];
		bool expired = e->which == ITIMER_REAL && !e->value_us && e->interval_us;
		struct k_itimerval v = {
			.interval_sec = e->interval_us / 1000000,
			.interval_usec = e->interval_us % 1000000,
			.value_sec = e->value_us / 1000000,
			.value_usec = expired ? 1 : e->value_us % 1000000,
		};
		char what[96];
		long r;
		int ret = rst_call_put(c, 0, &v, sizeof(v));

		if (ret)
			return ret;
		snprintf(what, sizeof(what), "setitimer(%u, %" PRIu64 " us, every %" PRIu64 " us)",
			 e->which, e->value_us, e->interval_us);
		r = rst_call(c, what, __NR_setitimer, e->which, rst_scratch(c, 0), 0, 0, 0, 0);
		if (r < 0)
			return r;
		if (expired) {
			ret = expire_real(c, e);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int timers_rst_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te)
{
	size_t idx = 0;
	bool on = false;
	long r;
	int ret;

	while (idx < ce->n_threads && ce->threads[idx] != te)
		idx++;

	for (size_t i = 0; i < ce->n_posix_timers; i++) {
		const PosixTimerEntry *e = ce->posix_timers[i];

		if (creator(ce, e) != idx)
			continue;
		if (!on) {
			/* Per process: the leader, last, turns it off. */
			r = rst_call(c, "prctl(PR_TIMER_CREATE_RESTORE_IDS, ON)", __NR_prctl,
				     PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON,
				     0, 0, 0, 0);
			if (r < 0)
				return r;
			on = true;
		}
		ret = create_timer(c, ce, e);
		if (ret)
			return ret;
	}
	if (idx || !ce->n_posix_timers)
		return idx ? 0 : restore_itimers(c, ce);
	r = rst_call(c, "prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF)", __NR_prctl,
		     PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0);
	if (r < 0)
		return r;
	ret = move_id_counter(c, ce);
	if (!ret)
		ret = restore_itimers(c, ce);
	if (!ret)
		pr_debug("task %d: %zu POSIX timers, %zu itimers restored", c->t->pid,
			 ce->n_posix_timers, ce->n_itimers);
	return ret;
}
