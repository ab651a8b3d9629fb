/* POSIX timers (timer_create) and itimers (setitimer, alarm) of a task:
 * recorded in core-<pid>.img (PosixTimerEntry, ItimerEntry), recreated in
 * the restored task by remote system calls.
 *
 * Contract:
 * - Dump (timers_dump(), every thread frozen, after dump_core_fill() has
 *   peeked the pending signals): /proc/PID/timers gives each timer's ID,
 *   clock, notification and signal value; a remote timer_gettime() in the
 *   task its time left and interval, timer_getoverrun() its overrun. A
 *   timer's queued signal (SI_TIMER, si_tid = its ID) is taken out of the
 *   recorded pending lists and marked on the timer: restore makes the timer
 *   itself queue it, so the kernel's one-signal-per-timer accounting holds.
 *   Refused (-EOPNOTSUPP, naming task, timer and why): a clock other than
 *   the task's own (CPU clock of another process or thread), dynamic
 *   (fd) clocks, an overrun count of the last expiration that is not 0, a
 *   periodic CPU-time timer whose signal is pending and blocked (pending
 *   and deliverable, it stays a plain pending signal and the timer is
 *   re-armed for a full period), a timer set again while its signal was
 *   pending, a disarmed timer with an interval, a per-thread CPU clock
 *   whose thread cannot be told (multi-threaded task, timer disarmed).
 *   getitimer() of ITIMER_REAL/VIRTUAL/PROF, recorded when armed.
 * - Restore (timers_rst_thread(), per thread after its pending signals,
 *   the leader last): each timer is created with its recorded ID
 *   (prctl(PR_TIMER_CREATE_RESTORE_IDS)), in the thread whose CPU clock it
 *   counts or else in the leader, and armed with the time it had left,
 *   counted from the restore (the time the tree spent dumped does not
 *   count; an absolute timer is re-armed relative). A timer whose signal
 *   was pending is armed in the past so the kernel queues it at once (a
 *   periodic one keeps its phase). Then the kernel's ID counter is moved
 *   past the highest ID, and the itimers are set.
 *
 * The pure parts (parsing /proc/PID/timers, classifying a clock id) are
 * unit-tested in tests/unit/test_timers.c. */
#ifndef MINICR_TIMERS_H
#define MINICR_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "pstree.h"

/* One entry of /proc/PID/timers. */
struct proc_timer {
	int id;
	int signo;
	uint64_t sival;
	int notify;          /* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD (| SIGEV_THREAD_ID) */
	pid_t notify_pid;    /* the process, or the thread with SIGEV_THREAD_ID */
	int clock;
};

/* Parse the whole file; *out is malloc'd (NULL when there are none).
 * -EINVAL on a malformed or incomplete entry. */
int proc_timers_parse(const char *buf, struct proc_timer **out, size_t *nr);

enum timer_clock_kind {
	TCLK_HRTIMER,        /* REALTIME, MONOTONIC, BOOTTIME, TAI, *_ALARM */
	TCLK_CPU_PROCESS,    /* the CPU time of the task itself */
	TCLK_CPU_THREAD,     /* the CPU time of the thread that created it */
	TCLK_CPU_PID,        /* the CPU time of process/thread *pid (encoded) */
	TCLK_UNSUPPORTED,
};

/* What a clockid names; for TCLK_CPU_PID the encoded pid and whether it is
 * a thread. */
enum timer_clock_kind timer_clock_kind(int clock, pid_t *pid, bool *perthread);

/* The timer ID of a queued siginfo_t (128 bytes) sent by a timer, or -1. */
int timer_siginfo_id(const uint8_t *si, size_t len);

/* Fill ce->posix_timers and ce->itimers of the frozen, non-zombie task t;
 * sys_ip is a syscall instruction in it. Takes the timers' signals out of
 * ce's pending lists. Free with timers_free(), also after a failure. */
int timers_dump(const struct pstree_task *t, unsigned long sys_ip, CoreEntry *ce);
void timers_free(CoreEntry *ce);

/* 0 if the kernel creates timers with a given ID (Linux 6.17+), which
 * restore needs for any task with a POSIX timer; else -errno. */
int timers_check(void);

struct rst_call;
/* In thread te of the task being restored (c borrows it; the leader,
 * ce->threads[0], last), after its pending signals: create the timers this
 * thread must create; in the leader also the rest, then the itimers. */
int timers_rst_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te);

#endif
