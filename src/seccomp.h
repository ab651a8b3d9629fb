/* Seccomp per thread: the mode (strict or filter) and, in filter mode, the
 * chain of classic BPF filters the thread runs, oldest first.
 *
 * Image (core.proto): CoreEntry.seccomp_filters is a table of the task's
 * distinct filters; ThreadCoreEntry.seccomp_mode and .seccomp_chain give
 * each thread's mode and its chain as indices into that table. Two threads
 * name the same index only for the same program with the same flags on
 * the same parent chain: the kernel exposes no filter identity, so that is
 * taken to be one shared filter object (installed by the thread before it
 * cloned the other, or synced with SECCOMP_FILTER_FLAG_TSYNC).
 *
 * Dump (seccomp_dump_thread, every thread frozen): mode and count from
 * /proc/PID/task/TID/status, each filter by PTRACE_SECCOMP_GET_FILTER, its
 * flags by PTRACE_GET_SECCOMP_METADATA. Refused (-EOPNOTSUPP, naming task,
 * thread and filter): a filter that cannot be read back or whose count
 * disagrees with the status, a program that may return
 * SECCOMP_RET_USER_NOTIF (its listener cannot be rebuilt), unknown flags,
 * and (seccomp_dump_task) filters shared by some threads but not by all:
 * restore can share a filter among all threads only (TSYNC), so a later
 * TSYNC by the program would fail where it had worked.
 *
 * Restore (remote seccomp(2) calls, with PTRACE_O_SUSPEND_SECCOMP set by
 * infect.c so the filters never apply to minicr's own remote calls):
 * rst_seccomp_task() installs the filters common to all threads once, from
 * the leader with TSYNC, before no_new_privs and the creds (installing
 * needs CAP_SYS_ADMIN or no_new_privs; TSYNC from a no_new_privs caller
 * would spread it to every thread); rst_seccomp_thread() installs each
 * thread's own further filters, or strict mode, before its creds. The
 * filters take effect when minicr detaches.
 *
 * Pure (unit tested): seccomp_status_parse, seccomp_prog_refusal,
 * seccomp_chain_add, seccomp_common_prefix, seccomp_find_partial_share,
 * seccomp_check_image. */
#ifndef MINICR_SECCOMP_H
#define MINICR_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "rst_core_int.h"

#define SECCOMP_INSN_SIZE 8   /* struct sock_filter */

/* Seccomp: and Seccomp_filters: of a status file. A missing Seccomp: line
 * (kernel without CONFIG_SECCOMP) is mode 0; *has_nr is false without a
 * Seccomp_filters: line (before Linux 5.9). -EINVAL if malformed. */
int seccomp_status_parse(const char *buf, uint32_t *mode, uint32_t *nr, bool *has_nr);

/* NULL if minicr can restore this program, else why not. */
const char *seccomp_prog_refusal(const void *prog, size_t len);

/* Append a filter, read from the thread after the ones already in te's
 * chain, to te's chain: an index another thread of ce already has at that
 * position after the same chain if it is the same program and flags, else
 * a new table entry, which takes prog->data (set to NULL on success; the
 * caller frees it otherwise). te may or may not be in ce->threads yet. */
int seccomp_chain_add(CoreEntry *ce, ThreadCoreEntry *te, ProtobufCBinaryData *prog,
		      uint32_t flags);

/* Number of leading indices all threads' chains have in common (0 if a
 * thread has none). */
size_t seccomp_common_prefix(const CoreEntry *ce);

/* -EOPNOTSUPP if threads *a and *b both have table index *idx beyond the
 * common prefix (shared by some threads but not all), else 0. */
int seccomp_find_partial_share(const CoreEntry *ce, size_t *a, size_t *b, uint32_t *idx);

/* -EINVAL (why in *why, thread index in *thread) for an image restore cannot
 * follow: unknown mode, a chain in strict mode or none in filter mode, an
 * index outside the table, an empty or misaligned program. */
int seccomp_check_image(const CoreEntry *ce, size_t *thread, const char **why);

/* Dump: record thread tid's seccomp state into te (and ce's table). */
int seccomp_dump_thread(pid_t pid, pid_t tid, CoreEntry *ce, ThreadCoreEntry *te);
/* Dump: after every thread is recorded; refuses partially shared filters. */
int seccomp_dump_task(pid_t pid, const CoreEntry *ce);
/* Free what seccomp_dump_* allocated in ce and its threads. */
void seccomp_dump_free(CoreEntry *ce);

/* Restore, leader: check the image, install the filters common to all
 * threads with TSYNC. */
int rst_seccomp_task(struct rst_call *leader, const CoreEntry *ce);
/* Restore, each thread: its own further filters, or strict mode. */
int rst_seccomp_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te);

#endif
