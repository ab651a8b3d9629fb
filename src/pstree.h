/* The process tree being dumped, and the pure logic that collects it.
 *
 * pstree_collect() grows the tree from its root through an ops table: the
 * dumper's ops freeze tasks with ptrace and read /proc, the unit tests' ops
 * simulate a tree that forks and spawns threads while it is collected. A
 * task's children are read only after all its threads are frozen, so they
 * cannot change under us; passes repeat until one finds nothing new. */
#ifndef MINICR_PSTREE_H
#define MINICR_PSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pstree_task {
	pid_t pid;
	pid_t *tids;            /* thread IDs, leader first */
	size_t nr_tids;
	bool frozen;            /* every thread in tids is frozen */
	bool zombie;            /* cannot be frozen: recorded from /proc */
	bool stopped;           /* was in group stop when frozen */
	int stop_signal;        /* the signal of that group stop, 0 if unknown */
	char state;             /* /proc state letter just before freezing */
	struct pstree_task *parent;
	struct pstree_task **children;
	size_t nr_children, cap_children;
	void *priv;             /* per-task data of the user of the tree */
};

struct pstree {
	struct pstree_task **tasks;  /* parents before children (BFS order) */
	size_t nr_tasks, cap_tasks;
};

/* Result of freezing one task. */
struct pstree_frozen {
	pid_t *tids;            /* malloc'd, leader first */
	size_t nr_tids;
	bool zombie;
	bool stopped;
	int stop_signal;
	char state;
};

struct pstree_ops {
	/* Freeze every thread of pid (retrying until no new thread appears).
	 * -ESRCH: the task is gone. */
	int (*freeze)(void *ctx, pid_t pid, struct pstree_frozen *out);
	/* Children of a frozen task: the union over its threads. */
	int (*children)(void *ctx, const struct pstree_task *t, pid_t **kids, size_t *nr);
};

int pstree_collect(struct pstree *tree, pid_t root, const struct pstree_ops *ops, void *ctx);
struct pstree_task *pstree_find(const struct pstree *tree, pid_t pid);
/* Depth of a task: the root is 0. */
int pstree_depth(const struct pstree_task *t);
/* Free the tree (not the priv data). */
void pstree_free(struct pstree *tree);

#endif
