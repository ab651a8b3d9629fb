/* Creating a task or a thread with a chosen PID/TID, in the caller's PID
 * namespace (or, for a task, as PID 1 of a new one).
 *
 * clone3: set_tid names the ID for the innermost namespace level only
 * (set_tid_size 1); outer levels are left to the kernel. ns_last_pid: the
 * namespace's ns_last_pid is locked (flock), set to ID-1, and the result is
 * checked: a task or thread that got another ID is an error (-EEXIST), as is
 * a taken ID. A thread made here runs nothing but a pause() loop written in
 * assembly (it has no TLS of its own, so no C code), on a small stack of its
 * own; the caller must have every signal blocked. rst_mem/rst_core later
 * give it its recorded state. */
#ifndef MINICR_RST_FORK_H
#define MINICR_RST_FORK_H

#include <stdbool.h>
#include <sys/types.h>

enum rst_pid_method {
	RST_PID_CLONE3,
	RST_PID_NS_LAST_PID,
};

int rst_pid_method_parse(const char *s, enum rst_pid_method *m);
const char *rst_pid_method_name(enum rst_pid_method m);
/* Does this kernel have clone3() (with set_tid: Linux >= 5.5)? */
bool rst_have_clone3(void);

/* Like fork(): 0 in the child, the child's PID in the parent, -errno in the
 * parent on failure (logged). new_pidns: the child is PID 1 of a new PID
 * namespace (pid must be 1). share_files: clone(CLONE_FILES), the child
 * shares the caller's fd table (what either closes, the other loses). */
pid_t rst_fork_task(enum rst_pid_method m, pid_t pid, bool new_pidns, bool share_files);
/* Create a pause()ing thread of the caller with TID tid. tid or -errno. */
pid_t rst_fork_thread(enum rst_pid_method m, pid_t tid);

#endif
