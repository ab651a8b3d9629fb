#include "pstree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct pstree_task *pstree_find(const struct pstree *tree, pid_t pid)
{
	for (size_t i = 0; i < tree->nr_tasks; i++)
		if (tree->tasks[i]->pid == pid)
			return tree->tasks[i];
	return NULL;
}

int pstree_depth(const struct pstree_task *t)
{
	int d = 0;

	while ((t = t->parent))
		d++;
	return d;
}

static int grow(void **arr, size_t *cap, size_t nr, size_t elem)
{
	void *n;

	if (nr < *cap)
		return 0;
	n = realloc(*arr, (*cap ? *cap * 2 : 8) * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = *cap ? *cap * 2 : 8;
	return 0;
}

static struct pstree_task *add_task(struct pstree *tree, pid_t pid, struct pstree_task *parent)
{
	struct pstree_task *t;

	if (grow((void **)&tree->tasks, &tree->cap_tasks, tree->nr_tasks, sizeof(t)))
		return NULL;
	if (parent && grow((void **)&parent->children, &parent->cap_children,
			   parent->nr_children, sizeof(t)))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pid = pid;
	t->parent = parent;
	tree->tasks[tree->nr_tasks++] = t;
	if (parent)
		parent->children[parent->nr_children++] = t;
	return t;
}

/* Drop a task that vanished before it could be frozen. It was never frozen,
 * so it has no children in the tree. */
static void drop_task(struct pstree *tree, size_t idx)
{
	struct pstree_task *t = tree->tasks[idx], *p = t->parent;

	if (p) {
		for (size_t i = 0; i < p->nr_children; i++) {
			if (p->children[i] == t) {
				memmove(&p->children[i], &p->children[i + 1],
					(p->nr_children - i - 1) * sizeof(t));
				p->nr_children--;
				break;
			}
		}
	}
	memmove(&tree->tasks[idx], &tree->tasks[idx + 1], (tree->nr_tasks - idx - 1) * sizeof(t));
	tree->nr_tasks--;
	free(t->tids);
	free(t->children);
	free(t);
}

static int freeze_one(struct pstree *tree, size_t idx, const struct pstree_ops *ops, void *ctx)
{
	struct pstree_task *t = tree->tasks[idx];
	struct pstree_frozen fz = { 0 };
	int ret;

	ret = ops->freeze(ctx, t->pid, &fz);
	if (ret == -ESRCH && idx > 0) {
		pr_debug("task %d exited before it could be frozen", t->pid);
		drop_task(tree, idx);
		return 1;
	}
	if (ret)
		return ret;
	t->tids = fz.tids;
	t->nr_tids = fz.nr_tids;
	t->zombie = fz.zombie;
	t->stopped = fz.stopped;
	t->stop_signal = fz.stop_signal;
	t->state = fz.state;
	t->frozen = true;
	return 0;
}

/* Add children of t not yet in the tree. Returns how many were added. */
static int add_children(struct pstree *tree, struct pstree_task *t,
			const struct pstree_ops *ops, void *ctx)
{
	_cleanup_free_ pid_t *kids = NULL;
	size_t nr = 0;
	int ret, added = 0;

	if (t->zombie)
		return 0;
	ret = ops->children(ctx, t, &kids, &nr);
	if (ret)
		return ret;
	for (size_t i = 0; i < nr; i++) {
		struct pstree_task *k = pstree_find(tree, kids[i]);

		if (k) {
			if (k->parent != t) {
				pr_err("task %d is listed as a child of both %d and %d",
				       kids[i], k->parent ? k->parent->pid : 0, t->pid);
				return -EINVAL;
			}
			continue;
		}
		if (!add_task(tree, kids[i], t))
			return -ENOMEM;
		added++;
	}
	return added;
}

int pstree_collect(struct pstree *tree, pid_t root, const struct pstree_ops *ops, void *ctx)
{
	bool changed;
	int ret;

	memset(tree, 0, sizeof(*tree));
	if (!add_task(tree, root, NULL))
		return -ENOMEM;
	do {
		changed = false;
		for (size_t i = 0; i < tree->nr_tasks; i++) {
			if (!tree->tasks[i]->frozen) {
				ret = freeze_one(tree, i, ops, ctx);
				if (ret < 0)
					return ret;
				changed = true;
				if (ret == 1) {
					i--;
					continue;
				}
			}
			ret = add_children(tree, tree->tasks[i], ops, ctx);
			if (ret < 0)
				return ret;
			if (ret > 0)
				changed = true;
		}
	} while (changed);
	return 0;
}

void pstree_free(struct pstree *tree)
{
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		free(tree->tasks[i]->tids);
		free(tree->tasks[i]->children);
		free(tree->tasks[i]);
	}
	free(tree->tasks);
	memset(tree, 0, sizeof(*tree));
}
