/* The dump's audit of kernel state that no collector records: it refuses
 * (src/refuse.h) what a restore would silently change.
 *
 *   namespaces  every live task must be in minicr's network, UTS, IPC,
 *               user, cgroup and time namespaces (restore creates tasks in
 *               its own); its mount namespace too, except that a tree whose
 *               root is the init of its own PID namespace may have one
 *               mount namespace of its own (restore --pidns makes a copy of
 *               minicr's with a fresh /proc), shared by all its tasks
 *   exit signal a task whose parent gets another signal than SIGCHLD at
 *               its exit (clone(2) exit_signal): restore forks with SIGCHLD
 *   mempolicy   a NUMA memory policy (set_mempolicy(2) for the task, or
 *               mbind(2) for a range): /proc/PID/numa_maps shows the policy
 *               in force for every VMA; anything but "default" is refused
 *   sharing     two tasks (not threads) sharing an address space
 *               (clone(CLONE_VM), a vfork child before exec) or fs_struct
 *               (clone(CLONE_FS): cwd, root and umask): restore gives each
 *               task its own
 *
 * The tree must be frozen. Returns 0 or -errno for a failure to look (logged);
 * what it refuses is counted in r. */
#ifndef MINICR_AUDIT_H
#define MINICR_AUDIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "pstree.h"
#include "refuse.h"

int audit_tree(const struct pstree *tree, bool root_is_ns_init, struct refusals *r);

/* ---- pure (tests/unit/test_audit.c) ---- */

/* Namespace kinds audit_tree() compares, as named in /proc/PID/ns. */
extern const char *const audit_ns_names[];
extern const size_t audit_nr_ns;

/* Is a task's namespace of kind name acceptable? task, self and root are
 * the /proc/PID/ns/NAME link texts ("net:[4026531840]") of the task,
 * minicr and the tree's root. */
bool audit_ns_ok(const char *name, const char *task, const char *self, const char *root,
		 bool root_is_ns_init);

/* The first VMA of a /proc/PID/numa_maps text whose policy (second
 * field) is not "default": 1 with *addr and policy (NUL-terminated,
 * truncated to len) filled, 0 if there is none, -EINVAL if malformed. */
int audit_numa_maps_parse(const char *buf, unsigned long long *addr, char *policy, size_t len);

#endif
