/* Planning the creation of a process tree: who forks whom, in which order,
 * and who calls setsid()/setpgid() when, so that every task ends up with
 * its recorded PID, parent, process group and session. Pure: no system
 * calls, so the unit tests drive it on synthetic trees.
 *
 * The plan is one global sequence of steps; restore.c runs them strictly in
 * that order, each step inside the task (node) that is its actor. Nodes are
 * the tasks of the tree (same index as the input) followed by helpers: a
 * helper takes the PID of a session or group leader that is gone, creates
 * the session (and forks its members) or the group (so a member can join),
 * then exits and is reaped by its parent. Members a helper (or a zombie that
 * led a session) forked are reparented to their recorded parent, which is a
 * child subreaper while the tree is built. A group leader that moved to
 * another group creates its old group first and leaves once every member
 * joined. plan_check() replays a plan under
 * the kernel's rules and compares the outcome with the input. */
#ifndef MINICR_RST_PLAN_H
#define MINICR_RST_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A pgid or sid value meaning "outside the tree": the root's own session or
 * group when it leads neither. The root inherits minicr's. */
#define PLAN_OUTER 0

struct plan_task {
	pid_t pid, ppid, pgid, sid;   /* IDs in the namespace restored into */
	bool zombie;
};

enum plan_op {
	PLAN_FORK,       /* actor forks node arg */
	PLAN_SETSID,     /* actor: setsid() */
	PLAN_SETPGID,    /* actor: setpgid(0, arg); arg PLAN_OUTER: minicr's group */
	PLAN_SUBREAPER,  /* actor: PR_SET_CHILD_SUBREAPER 1 (members will be orphaned to it) */
	PLAN_EXIT,       /* helper actor: _exit(0) */
	PLAN_REAP,       /* actor: waitpid() its exited helper child, node arg */
	PLAN_DIE,        /* zombie actor: exit with its recorded status, never reaped */
	PLAN_FINISH,     /* task actor: threads, checks; it is ready afterwards. After
	                  * its zombie children died, which it waits for (not reaping) */
};

enum plan_helper {
	PLAN_NOT_HELPER,
	PLAN_SESSION_HELPER,
	PLAN_GROUP_HELPER,
};

struct plan_node {
	pid_t pid;
	int task;               /* index in the input; -1 for a helper */
	int forker;             /* node that forks it; -1 for the root */
	int parent;             /* its parent once the tree is built; -1 for the root */
	enum plan_helper helper;
	bool subreaper;         /* made a child subreaper while the tree is built */
	bool zombie;
	pid_t pgid, sid;        /* wanted, PLAN_OUTER mapped */
};

struct plan_step {
	enum plan_op op;
	int actor;              /* node index */
	int arg;                /* node index (FORK, REAP) or pgid (SETPGID) */
};

struct plan {
	struct plan_node *nodes;
	size_t nr_nodes, nr_tasks;   /* nodes[0..nr_tasks) are the input tasks */
	struct plan_step *steps;
	size_t nr_steps;
	char err[256];               /* why plan_build() failed */
};

/* tasks[0] is the root; parents come before their children. Returns 0, or
 * -EINVAL with p->err saying which task cannot be placed and why. */
int plan_build(struct plan *p, const struct plan_task *tasks, size_t nr);
void plan_free(struct plan *p);

/* Replay p under the kernel's rules for fork, setsid, setpgid, exit,
 * reparenting and wait, and compare the result with tasks. 0 or -EINVAL with
 * err set. */
int plan_check(const struct plan *p, const struct plan_task *tasks, size_t nr,
	       char *err, size_t errlen);

/* "fork", "setsid", ... for logs. */
const char *plan_op_name(enum plan_op op);

#endif
