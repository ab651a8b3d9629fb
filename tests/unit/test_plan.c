/* rst_plan: planning the creation of synthetic trees. Every plan built is
 * replayed by plan_check() under the kernel's rules (fork inherits group and
 * session, setsid/setpgid EPERM cases, PIDs held by groups and sessions,
 * orphans to the nearest subreaper) and must end in the recorded layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_plan.h"

#define T(p, pp, g, s) { .pid = p, .ppid = pp, .pgid = g, .sid = s }
#define Z(p, pp, g, s) { .pid = p, .ppid = pp, .pgid = g, .sid = s, .zombie = true }

static void build_ok(struct plan *p, const struct plan_task *t, size_t nr)
{
	char err[256] = "";
	int ret = plan_build(p, t, nr);

	if (ret)
		print_error("plan_build: %s\n", p->err);
	assert_int_equal(ret, 0);
	ret = plan_check(p, t, nr, err, sizeof(err));
	if (ret)
		print_error("plan_check: %s\n", err);
	assert_int_equal(ret, 0);
}

static size_t count_op(const struct plan *p, enum plan_op op, int actor)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nr_steps; i++)
		if (p->steps[i].op == op && (actor < 0 || p->steps[i].actor == actor))
			n++;
	return n;
}

static size_t nr_helpers(const struct plan *p, enum plan_helper kind)
{
	size_t n = 0;

	for (size_t i = p->nr_tasks; i < p->nr_nodes; i++)
		if (p->nodes[i].helper == kind)
			n++;
	return n;
}

static int node_of(const struct plan *p, pid_t pid)
{
	for (size_t i = 0; i < p->nr_nodes; i++)
		if (p->nodes[i].pid == pid)
			return i;
	return -1;
}

/* Index of the first step (op, actor). */
static int step_of(const struct plan *p, enum plan_op op, pid_t actor)
{
	int a = node_of(p, actor);

	for (size_t i = 0; i < p->nr_steps; i++)
		if (p->steps[i].op == op && p->steps[i].actor == a)
			return i;
	return -1;
}

static void print_plan(const struct plan *p)
{
	if (!getenv("PLAN_DEBUG"))
		return;
	for (size_t i = 0; i < p->nr_steps; i++) {
		const struct plan_step *s = &p->steps[i];

		printf("%3zu %-9s by %d arg %d\n", i, plan_op_name(s->op), p->nodes[s->actor].pid,
		       s->op == PLAN_FORK || s->op == PLAN_REAP ? p->nodes[s->arg].pid : s->arg);
	}
}

/* Depth 3, fanout 3, all in the session and group of the shell outside. */
static void test_fanout(void **state)
{
	struct plan_task t[40];
	size_t nr = 0;
	struct plan p;

	(void)state;
	t[nr++] = (struct plan_task)T(1000, 1, 900, 900);
	for (size_t i = 0; i < 3; i++) {
		pid_t a = 1100 + i;

		t[nr++] = (struct plan_task)T(a, 1000, 900, 900);
		for (size_t j = 0; j < 3; j++) {
			pid_t b = 1200 + i * 10 + j;

			t[nr++] = (struct plan_task)T(b, a, 900, 900);
			for (size_t k = 0; k < 3; k++)
				t[nr++] = (struct plan_task)T(1300 + i * 100 + j * 10 + k, b, 900, 900);
		}
	}
	assert_int_equal(nr, 40);
	build_ok(&p, t, nr);
	print_plan(&p);
	assert_int_equal(p.nr_nodes, 40);
	assert_int_equal(count_op(&p, PLAN_FORK, -1), 39);
	assert_int_equal(count_op(&p, PLAN_FINISH, -1), 40);
	assert_int_equal(count_op(&p, PLAN_SETSID, -1), 0);
	assert_int_equal(count_op(&p, PLAN_SETPGID, -1), 0);
	assert_int_equal(p.nr_steps, 79);
	/* Every task forks its children itself. */
	for (size_t i = 1; i < nr; i++)
		assert_int_equal(p.nodes[p.nodes[i].forker].pid, t[i].ppid);
	plan_free(&p);
}

/* A wide and deep tree (a fork storm's worth): the plan stays linear in
 * steps, every task forked by its parent. */
static void test_large(void **state)
{
	enum { N = 3000 };
	struct plan_task *t = calloc(N, sizeof(*t));
	struct plan p;

	(void)state;
	assert_non_null(t);
	t[0] = (struct plan_task)T(10000, 1, 10000, 10000);
	for (int i = 1; i < N; i++) {
		/* Half under the root, half a chain; every tenth leads a group. */
		pid_t ppid = i < N / 2 ? 10000 : 10000 + i - 1;
		pid_t pgid = i % 10 ? 10000 : 10000 + i;

		t[i] = (struct plan_task)T(10000 + i, ppid, pgid, 10000);
	}
	build_ok(&p, t, N);
	assert_int_equal(count_op(&p, PLAN_FORK, -1), N - 1);
	/* Leaders, plus chain members rejoining the root's group. */
	assert_true(count_op(&p, PLAN_SETPGID, -1) >= (N - 1) / 10);
	assert_int_equal(p.nr_nodes, N);
	plan_free(&p);
	free(t);
}

/* The root leads its session; groups with a live leader (joined by a
 * sibling), a dead leader (two members, one helper), a group led by the
 * member's own child, a leader whose child stays in the old session. */
static void test_groups(void **state)
{
	static const struct plan_task t[] = {
		T(10, 1, 10, 10),
		T(11, 10, 11, 10),      /* leads group 11 */
		T(12, 10, 11, 10),      /* joins 11 */
		T(13, 10, 50, 10),      /* group 50: its leader is gone */
		T(14, 11, 50, 10),      /* ... a second member, elsewhere */
		T(17, 11, 17, 17),      /* leads a new session */
		T(18, 17, 11, 10),      /* forked by 17 before its setsid */
		T(19, 10, 20, 10),      /* in the group of its own child */
		T(20, 19, 20, 10),
		T(21, 20, 20, 10),
	};
	struct plan p;
	size_t nr = sizeof(t) / sizeof(t[0]);

	(void)state;
	build_ok(&p, t, nr);
	print_plan(&p);
	assert_int_equal(nr_helpers(&p, PLAN_GROUP_HELPER), 1);
	assert_int_equal(nr_helpers(&p, PLAN_SESSION_HELPER), 0);
	/* The one helper for group 50 is reaped by the member that made it. */
	assert_int_equal(count_op(&p, PLAN_REAP, -1), 1);
	/* 18 is forked before 17 calls setsid(). */
	assert_true(step_of(&p, PLAN_FINISH, 18) > step_of(&p, PLAN_SETSID, 17));
	for (size_t i = 0; i < p.nr_steps; i++)
		if (p.steps[i].op == PLAN_FORK && p.nodes[p.steps[i].arg].pid == 18)
			assert_true((int)i < step_of(&p, PLAN_SETSID, 17));
	/* 19 joins group 20 only after 20 exists. */
	assert_true(step_of(&p, PLAN_SETPGID, 19) > step_of(&p, PLAN_SETPGID, 20));
	plan_free(&p);
}

/* Sessions whose leader exited: one helper creates session 60 and forks
 * both members (same parent), which end up the root's children; one member
 * is in a group whose leader is gone too. The root is not a leader. */
static void test_dead_session(void **state)
{
	static const struct plan_task t[] = {
		T(100, 1, 90, 90),      /* the shell's session and group */
		T(101, 100, 90, 90),
		T(102, 100, 60, 60),    /* session 60, group 60: leader 60 exited */
		T(103, 100, 61, 60),    /* session 60, group 61: leader gone too */
		T(104, 103, 61, 60),
		T(105, 101, 105, 105),
		T(106, 105, 107, 105),  /* group 107 of session 105: leader gone */
	};
	struct plan p;
	size_t nr = sizeof(t) / sizeof(t[0]);
	int root = 0, h;

	(void)state;
	build_ok(&p, t, nr);
	print_plan(&p);
	assert_int_equal(nr_helpers(&p, PLAN_SESSION_HELPER), 1);
	assert_int_equal(nr_helpers(&p, PLAN_GROUP_HELPER), 2);
	h = node_of(&p, 60);
	assert_true(h >= (int)nr);
	assert_int_equal(p.nodes[h].forker, root);
	assert_true(p.nodes[root].subreaper);
	assert_int_equal(p.nodes[node_of(&p, 102)].forker, h);
	assert_int_equal(p.nodes[node_of(&p, 103)].forker, h);
	/* The root reaps the session helper before it is ready. */
	assert_true(step_of(&p, PLAN_REAP, 100) < step_of(&p, PLAN_FINISH, 100));
	assert_true(step_of(&p, PLAN_EXIT, 60) < step_of(&p, PLAN_FINISH, 100));
	plan_free(&p);
}

/* Zombies: exited children never reaped, and a zombie that led a session
 * whose member lives on as its sibling (the zombie itself forks it). */
static void test_zombies(void **state)
{
	static const struct plan_task t[] = {
		T(200, 1, 200, 200),
		Z(201, 200, 200, 200),
		Z(202, 200, 200, 200),
		Z(203, 200, 203, 203),  /* led session 203 */
		T(204, 200, 203, 203),  /* its member, now a child of 200 */
		T(205, 204, 205, 203),
		Z(206, 205, 205, 203),
	};
	struct plan p;
	size_t nr = sizeof(t) / sizeof(t[0]);
	int z = 3;

	(void)state;
	build_ok(&p, t, nr);
	print_plan(&p);
	assert_int_equal(p.nr_nodes, nr);
	assert_int_equal(count_op(&p, PLAN_DIE, -1), 4);
	assert_int_equal(count_op(&p, PLAN_REAP, -1), 0);
	assert_int_equal(p.nodes[node_of(&p, 204)].forker, z);
	assert_true(p.nodes[0].subreaper);
	/* The member is forked before its session's leader dies. */
	assert_true(step_of(&p, PLAN_DIE, 203) > step_of(&p, PLAN_FORK, 203));
	plan_free(&p);
}

/* The layout of tests/workloads/tree.c (minicr-test-tree) as dumped in a
 * fresh PID namespace, parents before children. */
static void test_workload_tree(void **state)
{
	static const struct plan_task t[] = {
		T(3, 1, 3, 3),
		T(5, 3, 3, 3), T(6, 3, 3, 3), T(7, 3, 7, 7), T(8, 3, 8, 8), T(9, 3, 9, 3),
		T(11, 3, 3, 3),
		T(10, 6, 3, 3),
		T(17, 7, 15, 7), T(19, 7, 19, 7), Z(20, 7, 7, 7),
		T(14, 8, 8, 8), T(22, 8, 8, 8), T(23, 8, 23, 8), T(24, 8, 8, 8),
		T(12, 9, 9, 3), T(13, 9, 9, 3),
		T(18, 17, 15, 7),
		T(21, 19, 19, 7), T(25, 19, 19, 7),
		T(28, 23, 23, 8),
		Z(30, 28, 23, 8),
	};
	struct plan p;

	(void)state;
	build_ok(&p, t, sizeof(t) / sizeof(t[0]));
	print_plan(&p);
	assert_int_equal(nr_helpers(&p, PLAN_GROUP_HELPER), 1);
	assert_int_equal(nr_helpers(&p, PLAN_SESSION_HELPER), 0);
	plan_free(&p);
}

/* A group leader that moved on to another group: it creates its group,
 * its members join, then it leaves. */
static void test_moved_leader(void **state)
{
	static const struct plan_task t[] = {
		T(900, 1, 900, 900),
		T(901, 900, 905, 900),  /* created group 901, now in 905 */
		T(902, 900, 901, 900),
		T(905, 900, 905, 900),
		T(903, 901, 901, 900),
		Z(904, 901, 901, 900),
	};
	struct plan p;
	int create = -1, leave = -1, join = -1;

	(void)state;
	build_ok(&p, t, sizeof(t) / sizeof(t[0]));
	print_plan(&p);
	assert_int_equal(p.nr_nodes, 6);
	for (size_t i = 0; i < p.nr_steps; i++) {
		const struct plan_step *st = &p.steps[i];

		if (st->op != PLAN_SETPGID)
			continue;
		if (p.nodes[st->actor].pid == 901 && st->arg == 901)
			create = i;
		if (p.nodes[st->actor].pid == 901 && st->arg == 905)
			leave = i;
		if (p.nodes[st->actor].pid == 902)
			join = i;
	}
	assert_true(create >= 0 && create < join && join < leave);
	plan_free(&p);
}

/* A tree restored into a new PID namespace, as dumped: the init is PID 1
 * and its session and group (0) are outside the namespace. The session of
 * 2 lost its leader, whose PID a helper takes. */
static void test_pidns(void **state)
{
	static const struct plan_task t[] = {
		T(1, 0, 0, 0),
		T(3, 1, 2, 2),
		T(4, 1, 2, 2),
		Z(5, 1, 0, 0),
		T(6, 1, 6, 6),
		T(7, 6, 0, 0),          /* forked by 6 before its setsid() */
	};
	struct plan p;

	(void)state;
	build_ok(&p, t, sizeof(t) / sizeof(t[0]));
	print_plan(&p);
	assert_int_equal(nr_helpers(&p, PLAN_SESSION_HELPER), 1);
	assert_int_equal(p.nodes[node_of(&p, 2)].forker, 0);
	assert_true(p.nodes[0].subreaper);
	plan_free(&p);
}

static void build_fails(const struct plan_task *t, size_t nr, const char *needle)
{
	struct plan p;
	int ret = plan_build(&p, t, nr);

	if (!ret)
		print_plan(&p);
	assert_int_equal(ret, -EINVAL);
	if (!strstr(p.err, needle))
		print_error("error '%s' lacks '%s'\n", p.err, needle);
	assert_non_null(strstr(p.err, needle));
	assert_null(p.nodes);
	assert_null(p.steps);
}

static void test_impossible(void **state)
{
	/* 302 is in the session of 301, a live sibling: no ancestor of 302
	 * was ever in that session, no helper can take 301's PID. */
	static const struct plan_task sib[] = {
		T(300, 1, 300, 300),
		T(301, 300, 301, 301),
		T(302, 300, 301, 301),
	};
	/* Members of a leaderless session under different parents: the
	 * helper's orphans all go to one parent. */
	static const struct plan_task split[] = {
		T(400, 1, 400, 400),
		T(401, 400, 400, 400),
		T(402, 400, 70, 70),
		T(403, 401, 70, 70),
	};
	/* A session leader that is not its group's leader. */
	static const struct plan_task lead[] = {
		T(500, 1, 500, 500),
		T(501, 500, 500, 501),
	};
	/* A child listed before its parent. */
	static const struct plan_task order[] = {
		T(600, 1, 600, 600),
		T(601, 602, 600, 600),
		T(602, 600, 600, 600),
	};
	/* Group 0 (outside the namespace) that is not the root's. */
	static const struct plan_task outside[] = {
		T(1, 0, 1, 1),
		T(2, 1, 0, 0),
	};
	/* A zombie with children. */
	static const struct plan_task zpar[] = {
		T(700, 1, 700, 700),
		Z(701, 700, 700, 700),
		T(702, 701, 700, 700),
	};

	(void)state;
	build_fails(sib, 3, "whose leader 301 is a live task");
	build_fails(split, 4, "session 70 has no leader and its members have different parents");
	build_fails(lead, 2, "leads session 501 but is in group 500");
	build_fails(order, 3, "parent 602 is not listed before it");
	build_fails(zpar, 3, "its parent 701 is a zombie");
	build_fails(outside, 2, "task 2: group 0 / session 0 are outside the tree but not the root's");
}

/* plan_check() itself catches a broken plan. */
static void test_check_rejects(void **state)
{
	static const struct plan_task t[] = {
		T(800, 1, 800, 800),
		T(801, 800, 801, 800),
	};
	struct plan p;
	char err[256];

	(void)state;
	build_ok(&p, t, 2);
	/* Drop the setpgid: 801 ends in the wrong group. */
	for (size_t i = 0; i < p.nr_steps; i++) {
		if (p.steps[i].op == PLAN_SETPGID) {
			memmove(&p.steps[i], &p.steps[i + 1], (p.nr_steps - i - 1) * sizeof(p.steps[0]));
			p.nr_steps--;
			break;
		}
	}
	assert_int_equal(plan_check(&p, t, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "task 801 ends in group 800"));
	/* setsid by a group leader fails like in the kernel. */
	p.steps[0] = (struct plan_step){ PLAN_SETSID, 0, 0 };
	p.steps[1] = (struct plan_step){ PLAN_SETSID, 0, 0 };
	assert_int_equal(plan_check(&p, t, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "setsid by 800: process group 800 exists"));
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_dead_session),
		cmocka_unit_test(test_zombies),
		cmocka_unit_test(test_workload_tree),
		cmocka_unit_test(test_pidns),
		cmocka_unit_test(test_moved_leader),
		cmocka_unit_test(test_impossible),
		cmocka_unit_test(test_check_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
