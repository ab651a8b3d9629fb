/* Execution state of a frozen task for core-<pid>.img: per thread its
 * registers, FPU/xstate, signal mask, private pending signals, sigaltstack,
 * rseq, tid address, robust list and creds; per task its sigactions, shared
 * pending signals, umask, rlimits, cwd, root and prctl state.
 *
 * dump_core_fill() needs every thread of the task in a ptrace stop (seize.c)
 * and runs remote system calls in each thread for what only the task can
 * report; every thread is put back exactly as it was, also on failure, so a
 * --leave-running dump leaves the task untouched. Registers are recorded
 * raw: an interrupted system call still shows -ERESTART* in ax. The blocked
 * mask is read before the remote calls (which block every signal); pending
 * signals are peeked, never dequeued. Recorded always: sigaltstack (also
 * when SS_DISABLE), tid address, robust list, creds; rseq only when one is
 * registered; sigactions only when not SIG_DFL; stop_signal only for a
 * group-stopped task. Zombies get nothing.
 *
 * Last, timers_dump() (timers.h) records the timers and takes their
 * queued signals out of the pending lists.
 *
 * creds_parse() is the pure part: the creds lines of /proc/PID/status. */
#ifndef MINICR_DUMP_CORE_H
#define MINICR_DUMP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "pstree.h"

/* Uid:, Gid:, Groups:, Cap*: and NoNewPrivs: of /proc/PID/task/TID/status. */
struct proc_creds {
	uint32_t uid[4], gid[4];     /* real, effective, saved, filesystem */
	uint32_t *groups;            /* malloc'd */
	size_t nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int has_cap_amb;             /* CapAmb: appeared in Linux 4.3 */
	int no_new_privs;
	int has_no_new_privs;
};

/* -EINVAL if Uid:, Gid: or one of CapInh/CapPrm/CapEff/CapBnd is missing or
 * malformed. Free c->groups with proc_creds_free(). */
int proc_creds_parse(const char *buf, struct proc_creds *c);
void proc_creds_free(struct proc_creds *c);

struct refusals;

/* Fill ce's execution-state fields (threads onward) for the frozen,
 * non-zombie task t; state it cannot record is refused in r (src/refuse.h)
 * and collecting goes on. Free what it allocated with dump_core_free(),
 * also after a failure. */
int dump_core_fill(const struct pstree_task *t, CoreEntry *ce, struct refusals *r);
void dump_core_free(CoreEntry *ce);

/* Every queued siginfo (128 bytes each) of the thread's private queue, or
 * with shared the task's shared queue, left in place; *out is malloc'd. */
int peek_siginfo(pid_t pid, pid_t tid, bool shared, ProtobufCBinaryData **out, size_t *nr);

struct remote;
/* A remote call that writes its result into r's scratch memory; reads back
 * len bytes into res. Logged as "task P thread T: remote <what>: <error>". */
int remote_get(struct remote *r, const char *what, long nr, unsigned long a1,
	       unsigned long a2, unsigned long a3, unsigned long a4, void *res, size_t len);

#endif
