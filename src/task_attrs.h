/* Scheduling and other per-task and per-thread attributes: the
 * TaskAttrsEntry of core-<pid>.img and the ThreadAttrsEntry of each thread
 * (proto/core.proto).
 *
 * Per thread: scheduling policy, nice, RT priority, SCHED_FLAG_RESET_ON_FORK
 * and uclamp (sched_getattr), CPU affinity, timer slack, I/O priority,
 * PR_GET_TSC, speculation control (store bypass, indirect branch, L1D
 * flush), securebits (KEEPCAPS is one of them) and the MCE kill policy.
 * Per task: oom_score_adj, loginuid, coredump_filter, autogroup nice,
 * KSM merge-any, membarrier registrations, MDWE (THP disable and dumpable
 * are the mm's: mem_dump.c, rst_mem.c).
 *
 * A field is recorded only when it differs from the kernel default (named
 * in core.proto); restore sets the recorded value, or the default when
 * nothing is recorded and the created task inherited something else from
 * minicr, and reads back what it can to check it took.
 *
 * Refused at dump (one pr_err naming task and thread, -EOPNOTSUPP):
 * SCHED_DEADLINE; PR_SET_IO_FLUSHER (setting it needs CAP_SYS_RESOURCE);
 * SECBIT_KEEP_CAPS_LOCKED (or NO_CAP_AMBIENT_RAISE with an ambient set)
 * without CAP_SETPCAP in the effective set (they are set after the creds,
 * which needs that capability); a thread whose
 * loginuid is not its leader's. Restore fails, naming task, thread and
 * value: an affinity naming CPUs not online, an oom_score_adj below the
 * created task's oom_score_adj_min (lowering it needs CAP_SYS_RESOURCE),
 * an autogroup nice for a task left in minicr's autogroup.
 *
 * The audit sessionid is not restored: the kernel assigns a new one when
 * the loginuid is written, and none can be chosen.
 *
 * Restore order (rst_core.c): attrs_rst_task() in the leader before the
 * threads; per thread attrs_rst_thread() before the creds (loginuid needs
 * CAP_AUDIT_CONTROL, securebits CAP_SETPCAP; KEEPCAPS is then in place when
 * restore_creds() saves and restores it around the uid change) and
 * attrs_rst_thread_late() after them (the late securebits, then the
 * scheduling, affinity and I/O priority, set from minicr: an idle or
 * pinned thread makes no more remote calls); attrs_rst_task_late() in the
 * leader at the very end: MDWE (it would refuse executable mappings of the
 * restorer). */
#ifndef MINICR_TASK_ATTRS_H
#define MINICR_TASK_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.pb-c.h"
#include "infect.h"

struct rst_call;

/* ---- pure part (tests/unit/test_attrs.c) ---- */

#define ATTRS_TIMER_SLACK_DEFAULT 50000
#define ATTRS_COREDUMP_FILTER_DEFAULT 0x33
#define ATTRS_LOGINUID_UNSET 4294967295u

/* The fields of struct sched_attr (linux/sched/types.h) minicr keeps. */
struct attrs_sched {
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t rt_priority;
	uint32_t util_min, util_max;
	bool has_util;            /* the kernel reported uclamp */
};

/* Does s differ from a thread that never changed its scheduling? uclamp
 * counts only when not the policy's default (0-1024, RT 1024-1024). */
bool attrs_sched_is_default(const struct attrs_sched *s);
bool attrs_sched_util_is_default(const struct attrs_sched *s);
bool attrs_policy_is_rt(uint32_t policy);

/* "0-1,3" of the bits of mask (len bytes) into buf. */
void attrs_cpulist_format(const uint8_t *mask, size_t len, char *buf, size_t buflen);
/* A cpulist as in /sys/devices/system/cpu/online into mask (len bytes,
 * zeroed first). -EINVAL if malformed or naming a CPU beyond the mask. */
int attrs_cpulist_parse(const char *s, uint8_t *mask, size_t len);
/* Is every bit of a (alen bytes) also in b (blen bytes)? */
bool attrs_mask_subset(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Same bits set, whatever the lengths? */
bool attrs_mask_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* "/autogroup-123 nice 5\n" of /proc/PID/autogroup; "" (the kernel's
 * default autogroup) gives id 0, nice 0. */
int attrs_autogroup_parse(const char *s, long *id, int *nice);

/* A PR_GET_SPECULATION_CTRL result worth recording: per-task control
 * (PR_SPEC_PRCTL) and not simply enabled. */
bool attrs_spec_recordable(long v);

/* Securebits set before the creds (early) and after them (late): the lock
 * of KEEP_CAPS would stop restore_creds() from keeping the capabilities
 * across the uid change, and NO_CAP_AMBIENT_RAISE (with its lock) from
 * raising a recorded ambient set. Setting late bits needs CAP_SETPCAP in
 * the restored effective set. */
void attrs_secbits_split(uint32_t bits, bool has_ambient, uint32_t *early, uint32_t *late);

/* ---- dump: in a remote session of the frozen thread (dump_core.c) ---- */

/* Thread r->tid of task r->pid; te->creds is already filled. */
int attrs_dump_thread(struct remote *r, ThreadCoreEntry *te);
/* Task-wide attributes, in the leader's session. */
int attrs_dump_task(struct remote *r, CoreEntry *ce);
void attrs_free_thread(ThreadCoreEntry *te);
void attrs_free_task(CoreEntry *ce);

/* ---- restore (rst_core.c): see the order above ---- */

int attrs_rst_task(struct rst_call *c, const CoreEntry *ce);
int attrs_rst_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te);
int attrs_rst_thread_late(struct rst_call *c, const ThreadCoreEntry *te);
int attrs_rst_task_late(struct rst_call *c, const CoreEntry *ce);

#endif
