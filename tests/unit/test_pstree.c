/* pstree_collect() on a simulated process table whose unfrozen tasks fork,
 * spawn threads and exit while the tree is being collected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pstree.h"

#define MAXP 64

struct sim {
	pid_t parent[MAXP];      /* 0: no such task */
	int threads[MAXP];
	bool frozen[MAXP], zombie[MAXP];
	pid_t next_pid;
	int freezes;
	/* Events: when the n-th freeze happens, run this. */
	void (*on_freeze)(struct sim *s, pid_t pid);
	pid_t dup_child;         /* report this pid as a child of every task */
};

static pid_t sim_fork(struct sim *s, pid_t parent)
{
	pid_t p = s->next_pid++;

	s->parent[p] = parent;
	s->threads[p] = 1;
	return p;
}

static int sim_freeze(void *ctx, pid_t pid, struct pstree_frozen *out)
{
	struct sim *s = ctx;

	memset(out, 0, sizeof(*out));
	if (s->on_freeze)
		s->on_freeze(s, pid);
	s->freezes++;
	if (!s->parent[pid])
		return -ESRCH;
	s->frozen[pid] = true;
	out->zombie = s->zombie[pid];
	out->nr_tids = s->threads[pid];
	out->tids = calloc(out->nr_tids, sizeof(pid_t));
	for (size_t i = 0; i < out->nr_tids; i++)
		out->tids[i] = pid * 100 + i;
	out->tids[0] = pid;
	out->state = out->zombie ? 'Z' : 'S';
	return 0;
}

static int sim_children(void *ctx, const struct pstree_task *t, pid_t **kids, size_t *nr)
{
	struct sim *s = ctx;

	*kids = calloc(MAXP, sizeof(pid_t));
	*nr = 0;
	for (pid_t p = 1; p < MAXP; p++)
		if (s->parent[p] == t->pid || (s->dup_child == p && t->pid != s->parent[p]))
			(*kids)[(*nr)++] = p;
	return 0;
}

static const struct pstree_ops sim_ops = { sim_freeze, sim_children };

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->next_pid = 2;
	s->parent[1] = -1;  /* the root; its parent is outside */
	s->threads[1] = 1;
}

static void assert_tree_matches(const struct pstree *t, const struct sim *s)
{
	size_t alive = 0;

	for (pid_t p = 1; p < MAXP; p++) {
		struct pstree_task *k;

		if (!s->parent[p])
			continue;
		alive++;
		k = pstree_find(t, p);
		assert_non_null(k);
		assert_true(k->frozen);
		assert_int_equal(k->nr_tids, s->threads[p]);
		if (p != 1)
			assert_int_equal(k->parent->pid, s->parent[p]);
	}
	assert_int_equal(t->nr_tasks, alive);
	/* Parents come before their children. */
	for (size_t i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i]->parent)
			for (size_t j = i; j < t->nr_tasks; j++)
				assert_ptr_not_equal(t->tasks[j], t->tasks[i]->parent);
}

static void test_static_tree(void **state)
{
	struct pstree t;
	struct sim s;

	(void)state;
	sim_init(&s);
	for (int i = 0; i < 3; i++) {
		pid_t c = sim_fork(&s, 1);

		for (int j = 0; j < 3; j++)
			sim_fork(&s, sim_fork(&s, c));
	}
	s.threads[5] = 4;
	s.zombie[6] = true;
	assert_int_equal(pstree_collect(&t, 1, &sim_ops, &s), 0);
	assert_tree_matches(&t, &s);
	assert_true(pstree_find(&t, 6)->zombie);
	assert_int_equal(pstree_depth(pstree_find(&t, 1)), 0);
	assert_int_equal(pstree_depth(pstree_find(&t, 4)), 3);
	pstree_free(&t);
}

/* Every unfrozen task forks a child each time anything is frozen, until 40
 * tasks exist: collection must still end with all of them. */
static void fork_storm(struct sim *s, pid_t pid)
{
	(void)pid;
	for (pid_t p = 1; p < MAXP && s->next_pid < 40; p++)
		if (s->parent[p] && !s->frozen[p] && p != 1)
			sim_fork(s, p);
	if (s->next_pid < 40)
		sim_fork(s, 1 + (s->freezes % 3));
}

static void test_fork_storm(void **state)
{
	struct pstree t;
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_fork(&s, 1);
	sim_fork(&s, 1);
	s.on_freeze = fork_storm;
	assert_int_equal(pstree_collect(&t, 1, &sim_ops, &s), 0);
	assert_true(s.next_pid >= 40);
	assert_tree_matches(&t, &s);
	pstree_free(&t);
}

/* A child exits (and is auto-reaped) before it can be frozen. */
static void exit_early(struct sim *s, pid_t pid)
{
	if (pid == 3)
		s->parent[3] = 0;
}

static void test_exit_before_freeze(void **state)
{
	struct pstree t;
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_fork(&s, 1);        /* 2 */
	sim_fork(&s, 1);        /* 3: exits */
	sim_fork(&s, 2);        /* 4 */
	s.on_freeze = exit_early;
	assert_int_equal(pstree_collect(&t, 1, &sim_ops, &s), 0);
	assert_null(pstree_find(&t, 3));
	assert_int_equal(pstree_find(&t, 1)->nr_children, 1);
	assert_tree_matches(&t, &s);
	pstree_free(&t);
}

static void root_gone(struct sim *s, pid_t pid)
{
	s->parent[pid] = 0;
}

static void test_root_gone(void **state)
{
	struct pstree t;
	struct sim s;

	(void)state;
	sim_init(&s);
	s.on_freeze = root_gone;
	assert_int_equal(pstree_collect(&t, 1, &sim_ops, &s), -ESRCH);
	pstree_free(&t);
}

static void test_child_of_two_parents(void **state)
{
	struct pstree t;
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_fork(&s, 1);
	sim_fork(&s, 2);
	s.dup_child = 3;
	assert_int_equal(pstree_collect(&t, 1, &sim_ops, &s), -EINVAL);
	pstree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_tree),
		cmocka_unit_test(test_fork_storm),
		cmocka_unit_test(test_exit_before_freeze),
		cmocka_unit_test(test_root_gone),
		cmocka_unit_test(test_child_of_two_parents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
