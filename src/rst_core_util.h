/* Pure helpers of the state restorer (rst_core.c, rst_sig.c):
 * they make no system call, so tests/unit/test_rstcore.c drives them
 * directly. Each either fills a result or explains in why (a short phrase
 * for an error message) what is wrong with the recorded state. */
#ifndef MINICR_RST_CORE_UTIL_H
#define MINICR_RST_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/user.h>

#include "core.pb-c.h"

/* Highest signal number of x86_64 Linux; signals are 1.._NSIG_MAX. */
#define RST_NSIG 64
/* Size of a user siginfo_t, as PTRACE_PEEKSIGINFO reports it. */
#define RST_SIGINFO_SIZE 128

/* "RLIMIT_NOFILE", or NULL for an unknown resource. */
const char *rst_rlimit_name(unsigned int res);

void rst_regs_from_entry(const UserRegsEntry *e, struct user_regs_struct *r);

/* x86_64 kernel struct sigaction (rt_sigaction's 8-byte sigsetsize). */
struct rst_ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The action of every signal 1..RST_NSIG (act[0] unused): the recorded one,
 * SIG_DFL for signals absent from ce->sigactions. -EINVAL with why filled
 * for a signal out of range, SIGKILL/SIGSTOP or a signal recorded twice. */
int rst_sigaction_table(const CoreEntry *ce, struct rst_ksigaction act[RST_NSIG + 1],
			char *why, size_t len);

/* The signal number of a recorded siginfo, or -EINVAL with why filled if
 * the blob has the wrong size or names a signal that cannot be requeued
 * (out of range, SIGKILL, SIGSTOP). */
int rst_siginfo_signo(const ProtobufCBinaryData *b, char *why, size_t len);

/* struct rseq_cs of the rseq ABI (linux/rseq.h). */
struct rst_rseq_cs {
	uint32_t version;
	uint32_t flags;
	uint64_t start_ip;
	uint64_t post_commit_offset;
	uint64_t abort_ip;
};

/* Was a thread stopped at ip inside the critical section cs? Such a thread
 * must resume at cs->abort_ip, as the kernel would have made it. */
bool rst_rseq_in_cs(uint64_t ip, const struct rst_rseq_cs *cs);

/* The hexadecimal value of the line "key\t<hex>" of a /proc status file
 * (key includes the colon: "CapBnd:"). -ENOENT if absent, -EINVAL if
 * malformed. */
int rst_status_hex(const char *status, const char *key, uint64_t *v);

/* "cap_chown,cap_sys_resource,41" for the bits of mask, into buf. */
void rst_cap_names(uint64_t mask, char *buf, size_t len);

#endif
