/* Freezing with ptrace: every thread is PTRACE_SEIZE'd and PTRACE_INTERRUPT'ed,
 * which stops it without a signal the program could see; a task found in
 * group stop is noted as stopped. Zombies cannot be seized and are reported
 * as such. seize_release() lets the whole tree go, either running exactly as
 * before (detach; group-stopped tasks stay stopped) or killed. If minicr dies
 * the kernel detaches every tracee, so the tree is never left frozen. */
#ifndef MINICR_SEIZE_H
#define MINICR_SEIZE_H

#include "pstree.h"

/* The ops minicr dump uses for pstree_collect(). */
extern const struct pstree_ops seize_ops;

enum seize_release_mode {
	SEIZE_RESUME,   /* detach: the tree goes on as it was */
	SEIZE_KILL,     /* SIGKILL every task and wait until it is gone */
};

void seize_release(struct pstree *tree, enum seize_release_mode mode);

/* Refuse roots minicr must not freeze: minicr or one of its ancestors
 * (freezing those would freeze minicr itself), and PID 1 if the tree is
 * to be killed after the dump (kill_after). */
int seize_check_root(pid_t root, bool kill_after);

#endif
