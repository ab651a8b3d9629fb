#include "rst_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the kernel's rules, simulated ----
 *
 * Both the planner (to pick only steps the kernel will accept) and
 * plan_check() (to validate a finished plan) drive this model. */

struct sim_node {
	bool created, dead, reaped, finished, subreaper;
	int parent;             /* node; -1 minicr (root), -2 someone outside */
	pid_t pgid, sid;
};

struct sim {
	const struct plan *p;
	struct sim_node *n;     /* p->nr_nodes entries (grown by the planner) */
	char *err;
	size_t errlen;
};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *plan_op_name(enum plan_op op)
{
	static const char *const names[] = {
		[PLAN_FORK] = "fork", [PLAN_SETSID] = "setsid", [PLAN_SETPGID] = "setpgid",
		[PLAN_SUBREAPER] = "subreaper", [PLAN_EXIT] = "exit", [PLAN_REAP] = "reap",
		[PLAN_DIE] = "die", [PLAN_FINISH] = "finish",
	};

	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

static bool sim_alive(const struct sim *s, int i)
{
	return s->n[i].created && !s->n[i].dead;
}

/* A PID number stays allocated while a task has it as PID, PGID or SID. */
static bool sim_pid_in_use(const struct sim *s, pid_t pid)
{
	for (size_t i = 0; i < s->p->nr_nodes; i++) {
		const struct sim_node *n = &s->n[i];

		if (!n->created || n->reaped)
			continue;
		if (s->p->nodes[i].pid == pid || n->pgid == pid || n->sid == pid)
			return true;
	}
	return false;
}

/* setpgid() finds a group by any task still attached to it (zombies too). */
static bool sim_group_exists(const struct sim *s, pid_t pgid, pid_t sid)
{
	if (pgid == PLAN_OUTER)
		return sid == PLAN_OUTER;
	for (size_t i = 0; i < s->p->nr_nodes; i++)
		if (s->n[i].created && !s->n[i].reaped && s->n[i].pgid == pgid)
			return s->n[i].sid == sid;
	return false;
}

/* Orphans go to the nearest living child-subreaper ancestor, else to init
 * (outside the tree). */
static void sim_reparent(struct sim *s, int dying)
{
	int reaper = s->n[dying].parent;

	while (reaper >= 0 && !(s->n[reaper].subreaper && sim_alive(s, reaper)))
		reaper = s->n[reaper].parent;
	if (reaper < 0)
		reaper = -2;
	for (size_t i = 0; i < s->p->nr_nodes; i++)
		if (s->n[i].created && !s->n[i].reaped && s->n[i].parent == dying)
			s->n[i].parent = reaper;
}

static int sim_apply(struct sim *s, const struct plan_step *st)
{
	const struct plan_node *nodes = s->p->nodes;
	int a = st->actor;
	struct sim_node *an;
	pid_t apid;

	if (a < 0 || (size_t)a >= s->p->nr_nodes)
		return fail(s->err, s->errlen, "step %s: no node %d", plan_op_name(st->op), a);
	an = &s->n[a];
	apid = nodes[a].pid;
	if (!sim_alive(s, a))
		return fail(s->err, s->errlen, "%s by %d: it does not exist (anymore)",
			    plan_op_name(st->op), apid);
	switch (st->op) {
	case PLAN_FORK: {
		struct sim_node *c;

		if (st->arg < 0 || (size_t)st->arg >= s->p->nr_nodes)
			return fail(s->err, s->errlen, "fork by %d: no node %d", apid, st->arg);
		c = &s->n[st->arg];
		if (c->created)
			return fail(s->err, s->errlen, "fork of %d by %d: created twice",
				    nodes[st->arg].pid, apid);
		if (sim_pid_in_use(s, nodes[st->arg].pid))
			return fail(s->err, s->errlen, "fork of %d by %d: PID %d is still in use",
				    nodes[st->arg].pid, apid, nodes[st->arg].pid);
		c->created = true;
		c->parent = a;
		c->pgid = an->pgid;
		c->sid = an->sid;
		return 0;
	}
	case PLAN_SETSID:
		for (size_t i = 0; i < s->p->nr_nodes; i++)
			if (s->n[i].created && !s->n[i].reaped && s->n[i].pgid == apid)
				return fail(s->err, s->errlen,
					    "setsid by %d: process group %d exists (EPERM)", apid, apid);
		an->sid = an->pgid = apid;
		return 0;
	case PLAN_SETPGID:
		if (an->sid == apid)
			return fail(s->err, s->errlen, "setpgid by %d: it leads a session (EPERM)", apid);
		if (st->arg != apid && !sim_group_exists(s, st->arg, an->sid))
			return fail(s->err, s->errlen,
				    "setpgid(%d) by %d: no such group in session %d (EPERM)",
				    st->arg, apid, an->sid);
		an->pgid = st->arg;
		return 0;
	case PLAN_SUBREAPER:
		an->subreaper = true;
		return 0;
	case PLAN_EXIT:
	case PLAN_DIE:
		if ((st->op == PLAN_EXIT) != (nodes[a].helper != PLAN_NOT_HELPER) ||
		    (st->op == PLAN_DIE && !nodes[a].zombie))
			return fail(s->err, s->errlen, "%s by %d: wrong kind of task",
				    plan_op_name(st->op), apid);
		an->dead = true;
		sim_reparent(s, a);
		return 0;
	case PLAN_REAP:
		if (st->arg < 0 || (size_t)st->arg >= s->p->nr_nodes ||
		    s->n[st->arg].parent != a || !s->n[st->arg].dead || s->n[st->arg].reaped)
			return fail(s->err, s->errlen, "reap by %d: no exited child %d (ECHILD)",
				    apid, st->arg >= 0 && (size_t)st->arg < s->p->nr_nodes ?
				    nodes[st->arg].pid : -1);
		if (nodes[st->arg].helper == PLAN_NOT_HELPER)
			return fail(s->err, s->errlen, "reap by %d: %d is a task of the tree",
				    apid, nodes[st->arg].pid);
		s->n[st->arg].reaped = true;
		return 0;
	case PLAN_FINISH:
		if (nodes[a].helper != PLAN_NOT_HELPER || nodes[a].zombie)
			return fail(s->err, s->errlen, "finish by %d: not a live task", apid);
		for (size_t i = 0; i < s->p->nr_nodes; i++)
			if (nodes[i].zombie && s->n[i].created && s->n[i].parent == a &&
			    !s->n[i].dead)
				return fail(s->err, s->errlen, "finish by %d: its zombie child %d "
					    "has not died yet", apid, nodes[i].pid);
		an->finished = true;
		return 0;
	}
	return fail(s->err, s->errlen, "unknown step %d", st->op);
}

static void sim_start(struct sim *s)
{
	/* The root is forked by minicr: minicr's session and group. */
	s->n[0].created = true;
	s->n[0].parent = -1;
	s->n[0].pgid = s->n[0].sid = PLAN_OUTER;
}

/* ---- checks on the input ---- */

static int task_index(const struct plan_task *t, size_t nr, pid_t pid)
{
	for (size_t i = 0; i < nr; i++)
		if (t[i].pid == pid)
			return i;
	return -1;
}

/* Wanted pgid/sid with the root's outside session and group mapped to
 * PLAN_OUTER. */
static void map_outer(const struct plan_task *t, size_t nr, pid_t *pgid, pid_t *sid)
{
	pid_t rsid = t[0].sid != t[0].pid ? t[0].sid : -1;
	pid_t rpgid = t[0].pgid != t[0].pid ? t[0].pgid : -1;

	for (size_t i = 0; i < nr; i++) {
		sid[i] = t[i].sid == rsid ? PLAN_OUTER : t[i].sid;
		pgid[i] = t[i].pgid == rpgid ? PLAN_OUTER : t[i].pgid;
	}
}

static int check_input(const struct plan_task *t, size_t nr, char *err, size_t len)
{
	if (!nr)
		return fail(err, len, "empty tree");
	if (t[0].zombie)
		return fail(err, len, "the root %d is a zombie", t[0].pid);
	for (size_t i = 0; i < nr; i++) {
		int p;

		if (t[i].pid <= 0)
			return fail(err, len, "task %zu has an invalid PID %d", i, t[i].pid);
		if (task_index(t, nr, t[i].pid) != (int)i)
			return fail(err, len, "PID %d appears twice", t[i].pid);
		if (t[i].sid == t[i].pid && t[i].pgid != t[i].pid)
			return fail(err, len, "task %d leads session %d but is in group %d",
				    t[i].pid, t[i].sid, t[i].pgid);
		if (i == 0)
			continue;
		p = task_index(t, nr, t[i].ppid);
		if (p < 0 || p >= (int)i)
			return fail(err, len, "task %d: parent %d is not listed before it",
				    t[i].pid, t[i].ppid);
		if (t[p].zombie)
			return fail(err, len, "task %d: its parent %d is a zombie", t[i].pid, t[p].pid);
	}
	for (size_t i = 0; i < nr; i++) {
		/* A group whose leader moved to another group is created by
		 * that leader, which leaves once the members are in. */
		int k = task_index(t, nr, t[i].sid);

		if (k >= 0 && t[k].sid != t[k].pid)
			return fail(err, len, "task %d is in session %d but task %d is in session %d",
				    t[i].pid, t[i].sid, t[k].pid, t[k].sid);
	}
	return 0;
}

/* ---- the planner ---- */

/* I_MKGROUP: a leader that moved on creates its old group first. */
enum intent_kind { I_FORK, I_SETSID, I_MKGROUP, I_PGID, I_SUBREAPER, I_REAP, I_END };

struct intent {
	enum intent_kind kind;
	int arg;
};

struct prog {
	struct intent *it;
	size_t nr, cap, pc;
};

/* Children a task forks before its setsid() (pre) and after it (post). */
struct forks {
	int *v;
	size_t nr, cap;
};

struct planner {
	struct plan *p;
	struct sim sim;
	struct prog *prog;
	size_t cap_nodes, cap_steps;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 8;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	memset((char *)n + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = n;
	*cap = ncap;
	return 0;
}

static int forks_add(struct forks *f, int node)
{
	if (grow((void **)&f->v, &f->cap, f->nr + 1, sizeof(*f->v)))
		return -ENOMEM;
	f->v[f->nr++] = node;
	return 0;
}

/* nodes, sim.n and prog are indexed alike and grow together. */
static int add_node(struct planner *pl, const struct plan_node *node)
{
	struct plan *p = pl->p;

	if (p->nr_nodes == pl->cap_nodes) {
		size_t cap = pl->cap_nodes ? pl->cap_nodes * 2 : 16;
		struct plan_node *nn = realloc(p->nodes, cap * sizeof(*nn));
		struct sim_node *sn;
		struct prog *np;

		if (!nn)
			return -ENOMEM;
		p->nodes = nn;
		sn = realloc(pl->sim.n, cap * sizeof(*sn));
		if (!sn)
			return -ENOMEM;
		pl->sim.n = sn;
		np = realloc(pl->prog, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		pl->prog = np;
		pl->cap_nodes = cap;
	}
	p->nodes[p->nr_nodes] = *node;
	memset(&pl->sim.n[p->nr_nodes], 0, sizeof(*pl->sim.n));
	memset(&pl->prog[p->nr_nodes], 0, sizeof(*pl->prog));
	return p->nr_nodes++;
}

static int add_intent(struct planner *pl, int node, enum intent_kind kind, int arg)
{
	struct prog *pr = &pl->prog[node];

	if (grow((void **)&pr->it, &pr->cap, pr->nr + 1, sizeof(*pr->it)))
		return -ENOMEM;
	pr->it[pr->nr++] = (struct intent){ kind, arg };
	return 0;
}

static int emit(struct planner *pl, enum plan_op op, int actor, int arg)
{
	struct plan *p = pl->p;
	struct plan_step st = { op, actor, arg };
	int ret;

	ret = sim_apply(&pl->sim, &st);
	if (ret)
		return ret;
	if (grow((void **)&p->steps, &pl->cap_steps, p->nr_steps + 1, sizeof(*p->steps)))
		return -ENOMEM;
	p->steps[p->nr_steps++] = st;
	return 0;
}

static int find_node(const struct plan *p, pid_t pid)
{
	for (size_t i = 0; i < p->nr_nodes; i++)
		if (p->nodes[i].pid == pid)
			return i;
	return -1;
}

/* Is node a forked (directly or not) by node anc? */
static bool forked_below(const struct plan *p, int a, int anc)
{
	while (a >= 0) {
		a = p->nodes[a].forker;
		if (a == anc)
			return true;
	}
	return false;
}

/* The session a task inherits when forked ("IS"), and the decision who
 * forks it. Leaders call setsid() after forking the children that must stay
 * in the session they inherited. */
static int place_tasks(struct planner *pl, size_t nr,
		       pid_t *is, struct forks *pre, struct forks *post)
{
	struct plan *p = pl->p;
	int ret;

	is[0] = PLAN_OUTER;
	for (size_t i = 1; i < nr; i++) {
		struct plan_node *n = &p->nodes[i];
		int par = n->parent;
		const struct plan_node *pn = &p->nodes[par];
		bool par_leader = pn->sid == pn->pid;
		int forker = par;
		bool early = false;

		if (n->sid == n->pid) {
			/* A leader inherits its parent's old session only if one of
			 * its own children needs that session. */
			early = false;
			if (par_leader) {
				for (size_t j = i + 1; j < nr; j++)
					if (p->nodes[j].parent == (int)i && p->nodes[j].sid != n->sid &&
					    p->nodes[j].sid == is[par])
						early = true;
			}
			is[i] = early ? is[par] : pn->sid;
		} else if (n->sid == pn->sid) {
			is[i] = n->sid;
		} else if (par_leader && n->sid == is[par]) {
			early = true;
			is[i] = n->sid;
		} else {
			/* Someone with the session's PID must fork it: a zombie
			 * sibling that led the session, or a helper. */
			pid_t s = n->sid;
			int k;

			if (s == PLAN_OUTER)
				return fail(p->err, sizeof(p->err),
					    "task %d is in the session outside the tree but its parent "
					    "%d is not: cannot recreate", n->pid, pn->pid);
			k = find_node(p, s);
			if (k >= 0 && (size_t)k < nr) {
				if (!p->nodes[k].zombie || p->nodes[k].parent != par)
					return fail(p->err, sizeof(p->err),
						    "task %d is in session %d, which is not the session of "
						    "its parent %d and whose leader %d is a live task "
						    "elsewhere in the tree: cannot recreate",
						    n->pid, s, pn->pid, s);
			} else if (k >= 0) {
				/* Orphans all go to the helper's one parent. */
				if (p->nodes[k].forker != par)
					return fail(p->err, sizeof(p->err),
						    "session %d has no leader and its members have "
						    "different parents (%d and %d, parent of %d): "
						    "cannot recreate", s,
						    p->nodes[p->nodes[k].forker].pid, pn->pid, n->pid);
			} else {
				struct plan_node h = {
					.pid = s, .task = -1, .forker = par, .parent = par,
					.helper = PLAN_SESSION_HELPER, .pgid = s, .sid = s,
				};

				k = add_node(pl, &h);
				if (k < 0)
					return k;
				n = &p->nodes[i];
				ret = add_intent(pl, k, I_SETSID, 0);
				if (ret)
					return ret;
				ret = forks_add(&post[par], k);
				if (ret)
					return ret;
			}
			p->nodes[par].subreaper = true;
			forker = k;
			is[i] = s;
			/* A zombie forks its members after its own setsid(). */
			if ((size_t)k < nr)
				ret = forks_add(&post[k], i);
			else
				ret = add_intent(pl, k, I_FORK, i);
			if (ret)
				return ret;
		}
		n->forker = forker;
		if (forker == par) {
			ret = forks_add(early ? &pre[par] : &post[par], i);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Is some other task of the tree in the group of task i's PID? */
static bool leads_group(const struct plan *p, size_t nr, size_t i)
{
	for (size_t j = 0; j < nr; j++)
		if (j != i && p->nodes[j].pgid == p->nodes[i].pid)
			return true;
	return false;
}

static int build_programs(struct planner *pl, size_t nr, const struct forks *pre,
			  const struct forks *post)
{
	struct plan *p = pl->p;
	size_t nr_nodes = p->nr_nodes;   /* session helpers exist already */
	int ret = 0;

	for (size_t i = 0; i < nr && !ret; i++) {
		const struct plan_node *n = &p->nodes[i];
		bool leader = n->sid == n->pid;
		bool late = false;
		int g = find_node(p, n->pgid);

		for (size_t j = 0; j < pre[i].nr && !ret; j++)
			ret = add_intent(pl, i, I_FORK, pre[i].v[j]);
		if (leader && !ret)
			ret = add_intent(pl, i, I_SETSID, 0);
		/* A group led by a task this one forks can only be joined
		 * once that task exists. */
		if (!leader && g >= 0 && g != (int)i && forked_below(p, g, i))
			late = true;
		/* A leader that moved on: its group first, its own last. */
		if (!leader && n->pgid != n->pid && leads_group(p, nr, i)) {
			late = true;
			if (!ret)
				ret = add_intent(pl, i, I_MKGROUP, 0);
		}
		if (!leader && !late && !ret)
			ret = add_intent(pl, i, I_PGID, 0);
		if (n->subreaper && !ret)
			ret = add_intent(pl, i, I_SUBREAPER, 0);
		for (size_t j = 0; j < post[i].nr && !ret; j++)
			ret = add_intent(pl, i, I_FORK, post[i].v[j]);
		if (late && !ret)
			ret = add_intent(pl, i, I_PGID, 0);
		for (size_t j = nr; j < nr_nodes && !ret; j++)
			if (p->nodes[j].forker == (int)i)
				ret = add_intent(pl, i, I_REAP, j);
		if (!ret)
			ret = add_intent(pl, i, I_END, 0);
	}
	for (size_t i = nr; i < nr_nodes && !ret; i++)
		ret = add_intent(pl, i, I_END, 0);
	return ret;
}

/* Does any node still have to create group pgid (its leader, not yet a
 * member of it)? */
static int pending_leader(const struct planner *pl, pid_t pgid)
{
	const struct plan *p = pl->p;
	int k = find_node(p, pgid);

	if (k < 0)
		return -1;
	if (pl->sim.n[k].reaped || pl->sim.n[k].dead)
		return -1;
	return k;
}

/* A member of a group whose leader is gone: fork a helper with the
 * leader's PID that creates the group, join it, let the helper go. */
static int group_helper(struct planner *pl, int actor, pid_t g)
{
	struct plan_node h = {
		.pid = g, .task = -1, .forker = actor, .parent = actor,
		.helper = PLAN_GROUP_HELPER, .pgid = g,
		.sid = pl->p->nodes[actor].sid,
	};
	int k, ret;

	k = add_node(pl, &h);
	if (k < 0)
		return k;
	/* It never runs a program of its own: all its steps are here. */
	pl->prog[k].pc = 0;
	ret = emit(pl, PLAN_FORK, actor, k);
	if (!ret)
		ret = emit(pl, PLAN_SETPGID, k, g);
	if (!ret)
		ret = emit(pl, PLAN_SETPGID, actor, g);
	if (!ret)
		ret = emit(pl, PLAN_EXIT, k, 0);
	if (!ret)
		ret = emit(pl, PLAN_REAP, actor, k);
	return ret;
}

/* 1: the intent was carried out, 0: blocked for now, <0: error. */
static int try_intent(struct planner *pl, int i, const struct intent *in, const char **why)
{
	struct plan *p = pl->p;
	const struct plan_node *n = &p->nodes[i];
	const struct sim_node *sn = &pl->sim.n[i];
	int ret;

	switch (in->kind) {
	case I_FORK:
		ret = emit(pl, PLAN_FORK, i, in->arg);
		return ret ? ret : 1;
	case I_SETSID:
		ret = emit(pl, PLAN_SETSID, i, 0);
		return ret ? ret : 1;
	case I_SUBREAPER:
		ret = emit(pl, PLAN_SUBREAPER, i, 0);
		return ret ? ret : 1;
	case I_MKGROUP:
		ret = emit(pl, PLAN_SETPGID, i, n->pid);
		return ret ? ret : 1;
	case I_PGID: {
		pid_t g = n->pgid;
		int k;

		if (sn->pgid == g)
			return 1;
		/* The group it created lives on only through its members. */
		for (size_t j = 0; j < p->nr_tasks && n->pgid != n->pid; j++) {
			if ((int)j != i && p->nodes[j].pgid == n->pid &&
			    (!pl->sim.n[j].created || pl->sim.n[j].pgid != n->pid)) {
				*why = "the members of the group it leaves have not joined yet";
				return 0;
			}
		}
		if (g == n->pid || sim_group_exists(&pl->sim, g, sn->sid)) {
			ret = emit(pl, PLAN_SETPGID, i, g);
			return ret ? ret : 1;
		}
		if (g == PLAN_OUTER)
			return fail(p->err, sizeof(p->err),
				    "task %d: its group is minicr's but its session is not", n->pid);
		k = pending_leader(pl, g);
		if (k >= 0) {
			*why = "its group leader has not created the group yet";
			return 0;
		}
		ret = group_helper(pl, i, g);
		return ret ? ret : 1;
	}
	case I_REAP:
		if (!pl->sim.n[in->arg].dead) {
			*why = "its helper has not exited yet";
			return 0;
		}
		ret = emit(pl, PLAN_REAP, i, in->arg);
		return ret ? ret : 1;
	case I_END:
		if (n->helper != PLAN_NOT_HELPER) {
			ret = emit(pl, PLAN_EXIT, i, 0);
		} else if (n->zombie) {
			ret = emit(pl, PLAN_DIE, i, 0);
		} else {
			/* Members a helper or zombie forked are its children only
			 * once that one has died; it stops being a subreaper then. */
			for (size_t j = 0; j < p->nr_nodes; j++) {
				int f = p->nodes[j].forker;

				if (p->nodes[j].parent != (int)i || f == (int)i || f < 0)
					continue;
				if (!pl->sim.n[j].created || !pl->sim.n[f].dead) {
					*why = "a member of a session it adopts is not reparented yet";
					return 0;
				}
			}
			/* It waits (without reaping) for its zombie children to
			 * have died, so they must die first. */
			for (size_t j = 0; j < p->nr_nodes; j++) {
				if (p->nodes[j].parent == (int)i && p->nodes[j].zombie &&
				    !pl->sim.n[j].dead) {
					*why = "a zombie child has not died yet";
					return 0;
				}
			}
			ret = emit(pl, PLAN_FINISH, i, 0);
		}
		return ret ? ret : 1;
	}
	return -EINVAL;
}

static int schedule(struct planner *pl)
{
	struct plan *p = pl->p;
	const char *why = NULL;
	int blocked = -1;

	for (;;) {
		bool progress = false, left = false;

		for (size_t i = 0; i < p->nr_nodes; i++) {
			struct prog *pr = &pl->prog[i];

			while (pl->sim.n[i].created && pr->pc < pr->nr) {
				int ret = try_intent(pl, i, &pr->it[pr->pc], &why);

				if (ret < 0)
					return ret;
				if (!ret) {
					blocked = i;
					break;
				}
				pr->pc++;
				progress = true;
			}
			if (pr->pc < pr->nr)
				left = true;
		}
		if (!left)
			return 0;
		if (!progress) {
			if (blocked < 0)
				return fail(p->err, sizeof(p->err), "no task can be created (cycle)");
			return fail(p->err, sizeof(p->err),
				    "cannot order the creation: task %d (group %d, session %d) "
				    "waits forever: %s", p->nodes[blocked].pid,
				    p->nodes[blocked].pgid, p->nodes[blocked].sid, why);
		}
	}
}

int plan_build(struct plan *p, const struct plan_task *t, size_t nr)
{
	struct planner pl = { .p = p };
	pid_t *pgid = NULL, *sid = NULL, *is = NULL;
	struct forks *pre = NULL, *post = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	pl.sim.p = p;
	pl.sim.err = p->err;
	pl.sim.errlen = sizeof(p->err);
	ret = check_input(t, nr, p->err, sizeof(p->err));
	if (ret)
		return ret;
	ret = -ENOMEM;
	pgid = calloc(nr, sizeof(*pgid));
	sid = calloc(nr, sizeof(*sid));
	is = calloc(nr, sizeof(*is));
	pre = calloc(nr, sizeof(*pre));
	post = calloc(nr, sizeof(*post));
	if (!pgid || !sid || !is || !pre || !post)
		goto out;
	map_outer(t, nr, pgid, sid);
	for (size_t i = 0; i < nr; i++) {
		struct plan_node n = {
			.pid = t[i].pid, .task = i, .forker = -1,
			.parent = i ? task_index(t, nr, t[i].ppid) : -1,
			.zombie = t[i].zombie, .pgid = pgid[i], .sid = sid[i],
		};

		/* 0 (outside the PID namespace) only makes sense as the
		 * root's own session or group. */
		if ((sid[i] == PLAN_OUTER) != (t[i].sid == t[0].sid && t[0].sid != t[0].pid) ||
		    (pgid[i] == PLAN_OUTER) != (t[i].pgid == t[0].pgid && t[0].pgid != t[0].pid)) {
			ret = fail(p->err, sizeof(p->err), "task %d: group %d / session %d are "
				   "outside the tree but not the root's", t[i].pid, t[i].pgid, t[i].sid);
			goto out;
		}
		ret = add_node(&pl, &n);
		if (ret < 0)
			goto out;
	}
	p->nr_tasks = nr;
	sim_start(&pl.sim);
	ret = place_tasks(&pl, nr, is, pre, post);
	if (!ret)
		ret = build_programs(&pl, nr, pre, post);
	if (!ret)
		ret = schedule(&pl);
out:
	if (ret == -ENOMEM)
		snprintf(p->err, sizeof(p->err), "out of memory");
	for (size_t i = 0; pl.prog && i < p->nr_nodes; i++)
		free(pl.prog[i].it);
	free(pl.prog);
	free(pl.sim.n);
	for (size_t i = 0; i < nr; i++) {
		if (pre)
			free(pre[i].v);
		if (post)
			free(post[i].v);
	}
	free(pre);
	free(post);
	free(pgid);
	free(sid);
	free(is);
	if (ret) {
		char err[sizeof(p->err)];

		memcpy(err, p->err, sizeof(err));
		plan_free(p);
		memcpy(p->err, err, sizeof(err));
	}
	return ret;
}

void plan_free(struct plan *p)
{
	free(p->nodes);
	free(p->steps);
	memset(p, 0, sizeof(*p));
}

int plan_check(const struct plan *p, const struct plan_task *t, size_t nr,
	       char *err, size_t errlen)
{
	struct sim s = { .p = p, .err = err, .errlen = errlen };
	pid_t *pgid = NULL, *sid = NULL;
	int ret = -ENOMEM;

	if (p->nr_tasks != nr || p->nr_nodes < nr)
		return fail(err, errlen, "plan has %zu tasks, the tree %zu", p->nr_tasks, nr);
	s.n = calloc(p->nr_nodes, sizeof(*s.n));
	pgid = calloc(nr, sizeof(*pgid));
	sid = calloc(nr, sizeof(*sid));
	if (!s.n || !pgid || !sid) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	map_outer(t, nr, pgid, sid);
	sim_start(&s);
	for (size_t i = 0; i < p->nr_steps; i++) {
		ret = sim_apply(&s, &p->steps[i]);
		if (ret)
			goto out;
	}
	ret = -EINVAL;
	for (size_t i = 0; i < nr; i++) {
		const struct sim_node *n = &s.n[i];
		int want_parent = i ? task_index(t, nr, t[i].ppid) : -1;

		if (p->nodes[i].pid != t[i].pid) {
			fail(err, errlen, "node %zu has PID %d, task %d", i, p->nodes[i].pid, t[i].pid);
			goto out;
		}
		if (!n->created) {
			fail(err, errlen, "task %d is never created", t[i].pid);
			goto out;
		}
		if (t[i].zombie ? !n->dead || n->reaped : n->dead || !n->finished) {
			fail(err, errlen, "task %d ends %s", t[i].pid,
			     n->reaped ? "reaped" : n->dead ? "dead" : "alive but not finished");
			goto out;
		}
		if (n->parent != want_parent) {
			fail(err, errlen, "task %d ends with parent %d instead of %d", t[i].pid,
			     n->parent >= 0 ? p->nodes[n->parent].pid : n->parent, t[i].ppid);
			goto out;
		}
		if (n->pgid != pgid[i] || n->sid != sid[i]) {
			fail(err, errlen, "task %d ends in group %d session %d instead of %d/%d",
			     t[i].pid, n->pgid, n->sid, pgid[i], sid[i]);
			goto out;
		}
	}
	for (size_t i = nr; i < p->nr_nodes; i++) {
		if (!s.n[i].reaped) {
			fail(err, errlen, "helper %d is left behind", p->nodes[i].pid);
			goto out;
		}
	}
	ret = 0;
out:
	free(s.n);
	free(pgid);
	free(sid);
	return ret;
}
