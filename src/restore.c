/* The restore engine. The controller (minicr's own process) checks the
 * images, plans the tree (rst_plan.c) and forks the root; from then on the
 * tree builds itself: every created task runs body(), which walks the one
 * global list of plan steps and, whenever the shared step counter reaches
 * one of its own, carries it out (fork a child with its PID, setsid,
 * setpgid, become a subreaper, reap a helper, exit, die as a zombie, or
 * finish: create its threads, check its IDs and join its cgroups, made
 * before the first fork by cgroup.c) and moves the counter on.
 * One step at a time keeps the order the plan was checked in, and keeps
 * ns_last_pid from racing with ourselves.
 *
 * Helpers are reaped by their parent's body (a PLAN_REAP step before its
 * PLAN_FINISH), after the members they forked have been reparented to that
 * parent: so no helper exists any more when the tree is seized, and no
 * remote wait4() inside a task is needed.
 *
 * Then the controller seizes every thread, runs the state restorers
 * (rst_state.h) task by task and detaches. Until the state restorers have
 * run, a task dies with its parent (PR_SET_PDEATHSIG) and leaves when the
 * controller's end of a pipe closes, and the controller is a child
 * subreaper: a dead minicr takes the whole tree with it, and a failed
 * restore can kill and reap every task it created. */
#include "restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "core.pb-c.h"
#include "fault.h"
#include "files.h"
#include "files_tty.h"
#include "image.h"
#include "infect.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "proc_parse.h"
#include "progress.h"
#include "pstree.pb-c.h"
#include "rst_cow.h"
#include "rst_plan.h"
#include "rst_state.h"
#include "stats.pb-c.h"
#include "stream.h"
#include "util.h"

/* How long one step of the build may take (a fork, a setsid: anything
 * longer means a task hangs), and the tree to die after a failure. */
#define STEP_TIMEOUT_MS   (10 * 1000)
#define KILL_TIMEOUT_MS   (10 * 1000)

/* What the task bodies and the controller share: MAP_SHARED memory set up
 * before the first fork. step is the index of the plan step whose turn it
 * is; its actor runs it, moves step on and wakes the next step's actor
 * through that node's own futex word (waking every task at every step
 * made building a tree quadratic). The controller waits on step. */
struct shared {
	int step;
	int failed;             /* a body failed at step fail_step */
	int fail_step;
	int wake[];             /* per node: bumped when it may have its turn */
};

/* Per plan node, what its body needs. */
struct node_info {
	const PstreeEntry *pe;      /* NULL for helpers */
	CoreEntry *core;            /* NULL for helpers */
	const int32_t *tids;        /* threads in the target namespace, leader first */
	size_t nr_tids;
	bool share_files;           /* forked with CLONE_FILES: its parent's fd table */
	bool shared_table;          /* its fd table is shared with another task */
};

struct rst_ctx {
	const struct restore_opts *o;
	int dirfd;
	bool pidns;
	InventoryEntry *inv;
	PstreeEntry **pe;
	size_t nr_pe;
	CoreEntry **core;
	struct plan plan;
	struct node_info *ni;
	struct shared *sh;
	size_t sh_len;
	struct rst_cow_slot *cow;   /* per node, MAP_SHARED (rst_cow.h) */
	size_t cow_len;
	int alive_rd, alive_wr;     /* the tasks see EOF/HUP on alive_rd once minicr is gone */
	pid_t outer_pgid, outer_sid, controller;
	pid_t root;                 /* as minicr sees it */
	struct rst_task *tasks;     /* per input task */
	long fault_step;            /* MINICR_FAULT_STEP: fail there on purpose (tests) */
	bool subreaper_set;
	RestoreStatsEntry stats;
	struct cg_rst *cg;          /* the tree's cgroups, made before the first fork */
	struct progress prog;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE: the word is in a MAP_SHARED page of many
	 * processes. */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* ---- reading and checking the images ---- */

static int open_images_dir(struct rst_ctx *c)
{
	int ret;

	c->dirfd = open(c->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		ret = -errno;
		pr_err("cannot open images directory %s: %s", c->o->dir, errstr(ret));
		return ret;
	}
	return 0;
}

/* The whole set, staged in a private tmpfs, is then read as a directory:
 * verified like one before anything is created. */
static int receive_stream(struct rst_ctx *c)
{
	c->dirfd = img_staging_open();
	if (c->dirfd < 0)
		return c->dirfd;
	return stream_receive(STDIN_FILENO, c->dirfd);   /* logs */
}

static void report_check(const struct img_check *ck, void *arg)
{
	const struct rst_ctx *c = arg;
	char what[160];

	if (ck->verdict == IMG_V_OK)
		return;
	img_check_describe(ck, what, sizeof(what));
	pr_err("%s/%s: %s", c->o->dir, ck->name, what);
}

/* Before anything is created: every file of the set is there, whole and
 * unchanged, and nothing restore would read is foreign to it. */
static int verify_set(struct rst_ctx *c)
{
	int ret;

	if (!c->inv->n_files) {
		pr_info("%s: inventory.img lists no checksums (written by an older minicr): "
			"the images are not verified", c->o->dir);
		return 0;
	}
	ret = img_verify_set(c->dirfd, c->inv, report_check, c);
	if (ret == -EBADMSG)
		pr_err("%s: the image set does not match inventory.img (above); nothing restored",
		       c->o->dir);
	return ret;
}

static int read_inventory(struct rst_ctx *c)
{
	struct utsname u;
	int ret;

	if (faccessat(c->dirfd, "inventory.img", F_OK, 0) < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			pr_err("%s: no inventory.img: the dump is incomplete (inventory.img is "
			       "written last)", c->o->dir);
		else
			pr_err("%s/inventory.img: %s", c->o->dir, errstr(ret));
		return ret;
	}
	ret = img_read_one(c->dirfd, IMG_INVENTORY, 0, (ProtobufCMessage **)&c->inv);
	if (ret)
		return ret;
	if (c->inv->img_version > MINICR_IMG_VERSION) {
		pr_err("%s: image format version %u is newer than this minicr's (%u); "
		       "use minicr %s or later", c->o->dir, c->inv->img_version,
		       MINICR_IMG_VERSION, c->inv->minicr_version);
		return -EPROTONOSUPPORT;
	}
	ret = verify_set(c);
	if (ret)
		return ret;
	if (uname(&u) < 0) {
		ret = -errno;
		pr_err("uname: %s", errstr(ret));
		return ret;
	}
	if (strcmp(c->inv->arch, u.machine)) {
		pr_err("%s: dumped on %s, this host is %s", c->o->dir, c->inv->arch, u.machine);
		return -EXDEV;
	}
	if (strcmp(c->inv->kernel_release, u.release)) {
		pr_err("%s: dumped on kernel %s, this host runs %s: restore needs the same "
		       "kernel", c->o->dir, c->inv->kernel_release, u.release);
		return -EXDEV;
	}
	return 0;
}

static int read_pstree(struct rst_ctx *c)
{
	struct img_reader r;
	ProtobufCMessage *m;
	size_t cap = 0;
	int ret;

	ret = img_reader_open(c->dirfd, "pstree.img", &img_types[IMG_PSTREE], &r);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&r, &m)) == 1) {
		PstreeEntry *pe = (PstreeEntry *)m;

		if (c->nr_pe == cap) {
			PstreeEntry **n = realloc(c->pe, (cap ? cap * 2 : 16) * sizeof(*n));

			if (!n) {
				protobuf_c_message_free_unpacked(m, NULL);
				ret = -ENOMEM;
				break;
			}
			c->pe = n;
			cap = cap ? cap * 2 : 16;
		}
		c->pe[c->nr_pe++] = pe;
		if (pe->n_threads < 1 || pe->threads[0] != pe->pid) {
			pr_err("pstree.img: task %d: its thread list does not start with it", pe->pid);
			ret = -EBADMSG;
			break;
		}
	}
	img_reader_close(&r);
	if (ret < 0)
		return ret;
	if (!c->nr_pe) {
		pr_err("pstree.img: no tasks");
		return -EBADMSG;
	}
	if (c->inv->has_nr_tasks && c->inv->nr_tasks != c->nr_pe) {
		pr_err("pstree.img has %zu tasks, inventory.img says %u", c->nr_pe,
		       c->inv->nr_tasks);
		return -EBADMSG;
	}
	if (c->pe[0]->pid != c->inv->root_pid) {
		pr_err("pstree.img starts with task %d, inventory.img names root %d",
		       c->pe[0]->pid, c->inv->root_pid);
		return -EBADMSG;
	}
	return 0;
}

static int read_cores(struct rst_ctx *c)
{
	int ret;

	c->core = calloc(c->nr_pe, sizeof(*c->core));
	if (!c->core)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_pe; i++) {
		/* img_read_one() names the file and the defect. */
		ret = img_read_one(c->dirfd, IMG_CORE, c->pe[i]->pid, (ProtobufCMessage **)&c->core[i]);
		if (ret)
			return ret;
		if (c->core[i]->pid != c->pe[i]->pid) {
			pr_err("core-%d.img is about task %d", c->pe[i]->pid, c->core[i]->pid);
			return -EBADMSG;
		}
		if (c->core[i]->state != TASK_STATE__TASK_ZOMBIE &&
		    c->core[i]->n_threads != c->pe[i]->n_threads) {
			pr_err("core-%d.img has %zu threads, pstree.img %zu", c->pe[i]->pid,
			       c->core[i]->n_threads, c->pe[i]->n_threads);
			return -EBADMSG;
		}
	}
	return 0;
}

/* A task that shared its parent's fd table (core fdtable_shared_with_parent)
 * gets it back by being forked with CLONE_FILES by that parent, so the plan
 * must have the recorded parent itself (not a helper) fork it. */
static int plan_fd_tables(struct rst_ctx *c)
{
	for (size_t i = 0; i < c->nr_pe; i++) {
		const struct plan_node *n = &c->plan.nodes[i];
		const CoreEntry *ce = c->core[i];
		int f = n->forker;

		if (!ce->has_fdtable_shared_with_parent || !ce->fdtable_shared_with_parent)
			continue;
		if (f < 0 || f != n->parent || c->plan.nodes[f].task < 0 ||
		    c->plan.nodes[f].zombie) {
			pr_err("task %d shared its parent's fd table, but the restore plan forks it "
			       "from %s %d instead of its parent: minicr cannot share the table "
			       "again", c->pe[i]->pid,
			       f < 0 ? "minicr" : c->plan.nodes[f].task < 0 ? "helper" : "task",
			       f < 0 ? 0 : c->plan.nodes[f].pid);
			return -EOPNOTSUPP;
		}
		c->ni[i].share_files = true;
		c->ni[i].shared_table = true;
		c->ni[f].shared_table = true;
	}
	return 0;
}

static int make_plan(struct rst_ctx *c)
{
	_cleanup_free_ struct plan_task *t = calloc(c->nr_pe, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	/* Checked here, not when reading: --pidns=auto decides on a new
	 * namespace only after a first plan. */
	for (size_t i = 0; c->pidns && i < c->nr_pe; i++) {
		if (!c->pe[i]->has_ns_pid || c->pe[i]->n_ns_threads != c->pe[i]->n_threads) {
			pr_err("pstree.img: task %d has no IDs in its PID namespace", c->pe[i]->pid);
			return -EBADMSG;
		}
	}
	if (c->pidns && c->pe[0]->ns_pid != 1) {
		pr_err("--pidns: the root %d was PID %d of its namespace, not 1; only a tree "
		       "whose root is its namespace's init can be restored into a new one",
		       c->pe[0]->pid, c->pe[0]->ns_pid);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->nr_pe; i++) {
		const PstreeEntry *pe = c->pe[i];

		/* One namespace level is all the images describe. */
		if (!c->pidns && pe->has_ns_pid && pe->ns_pid != pe->pid) {
			pr_err("task %d is PID %d in a PID namespace of its own: restore with "
			       "--pidns a tree whose root is that namespace's init, or dump "
			       "from inside that namespace", pe->pid, pe->ns_pid);
			return -EOPNOTSUPP;
		}
		if (c->pidns && i > 0 && pe->ns_ppid == 0) {
			pr_err("task %d (PID %d in its namespace) is in a PID namespace nested "
			       "below the root's: not supported", pe->pid, pe->ns_pid);
			return -EOPNOTSUPP;
		}
		if (c->pidns)
			t[i] = (struct plan_task){ pe->ns_pid, pe->ns_ppid, pe->ns_pgid, pe->ns_sid };
		else
			t[i] = (struct plan_task){ pe->pid, pe->ppid, pe->pgid, pe->sid };
		t[i].zombie = c->core[i]->state == TASK_STATE__TASK_ZOMBIE;
	}
	ret = plan_build(&c->plan, t, c->nr_pe);
	if (ret) {
		pr_err("cannot restore the tree of %d: %s", c->pe[0]->pid, c->plan.err);
		return ret;
	}
	c->ni = calloc(c->plan.nr_nodes, sizeof(*c->ni));
	if (!c->ni)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_pe; i++) {
		c->ni[i].pe = c->pe[i];
		c->ni[i].core = c->core[i];
		c->ni[i].tids = c->pidns ? c->pe[i]->ns_threads : c->pe[i]->threads;
		c->ni[i].nr_tids = c->pe[i]->n_threads;
	}
	ret = plan_fd_tables(c);
	if (ret)
		return ret;
	if (log_verbosity() >= LOG_DEBUG) {
		for (size_t i = 0; i < c->plan.nr_steps; i++) {
			const struct plan_step *s = &c->plan.steps[i];

			pr_debug("plan %zu: %s by %d%s%d", i, plan_op_name(s->op),
				 c->plan.nodes[s->actor].pid,
				 s->op == PLAN_FORK || s->op == PLAN_REAP ? " of " :
				 s->op == PLAN_SETPGID ? " to " : " ",
				 s->op == PLAN_FORK || s->op == PLAN_REAP ?
				 c->plan.nodes[s->arg].pid : s->arg);
		}
	}
	return 0;
}

/* Group and session of every process in minicr's namespace: a PID number
 * stays allocated while a group or session uses it, even with its leader
 * gone, and then /proc/PID does not exist. */
struct holder {
	pid_t pid, pgid, sid;
	char comm[PROC_COMM_LEN];
};

static int read_holders(struct holder **out, size_t *nr)
{
	struct holder *h = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct proc_stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || proc_stat_read(pid, 0, &st))
			continue;
		if (n == cap) {
			struct holder *nh = realloc(h, (cap ? cap * 2 : 64) * sizeof(*nh));

			if (!nh) {
				free(h);
				closedir(d);
				return -ENOMEM;
			}
			h = nh;
			cap = cap ? cap * 2 : 64;
		}
		h[n] = (struct holder){ .pid = pid, .pgid = st.pgid, .sid = st.sid };
		snprintf(h[n].comm, sizeof(h[n].comm), "%s", st.comm);
		n++;
	}
	closedir(d);
	*out = h;
	*nr = n;
	return 0;
}

/* Every PID and TID to create must be free in minicr's namespace (a new
 * namespace is empty). */
/* Every PID must be below pid_max (a new namespace inherits minicr's). */
static int check_pid_max(struct rst_ctx *c)
{
	_cleanup_free_ char *buf = NULL;
	long max;
	int ret;

	ret = read_file("/proc/sys/kernel/pid_max", 64, &buf, NULL);
	if (ret) {
		pr_err("cannot read /proc/sys/kernel/pid_max: %s", errstr(ret));
		return ret;
	}
	max = atol(buf);
	for (size_t i = 0; i < c->plan.nr_nodes; i++) {
		size_t nr = c->plan.nodes[i].task >= 0 ? c->ni[i].nr_tids : 1;

		for (size_t j = 0; j < nr; j++) {
			pid_t id = c->plan.nodes[i].task >= 0 ? c->ni[i].tids[j] : c->plan.nodes[i].pid;

			if (id >= max) {
				pr_err("PID %d is not below this host's pid_max (%ld)", id, max);
				ret = -ERANGE;
			}
		}
	}
	return ret;
}

/* report: log every taken PID; *first: the first one found (0: none). */
static int check_pids_free(struct rst_ctx *c, bool report, pid_t *first)
{
	_cleanup_free_ struct holder *h = NULL;
	size_t nr_h = 0;
	int ret;

	*first = 0;

	ret = check_pid_max(c);
	if (ret || c->pidns)
		return ret;
	ret = read_holders(&h, &nr_h);
	if (ret) {
		pr_err("cannot list the processes in /proc: %s", errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < c->plan.nr_nodes; i++) {
		const struct plan_node *n = &c->plan.nodes[i];
		size_t nr = n->task >= 0 ? c->ni[i].nr_tids : 1;

		for (size_t j = 0; j < nr; j++) {
			pid_t id = n->task >= 0 ? c->ni[i].tids[j] : n->pid;
			_cleanup_free_ char *comm = NULL;
			char what[96] = "";
			char path[64];

			if (n->task < 0)
				snprintf(what, sizeof(what), " (for a helper: the leader of that "
					 "session or group is gone)");
			else if (j)
				snprintf(what, sizeof(what), " (thread of task %d)", n->pid);
			snprintf(path, sizeof(path), "/proc/%d/comm", id);
			if (read_file(path, 256, &comm, NULL) == 0) {
				comm[strcspn(comm, "\n")] = 0;
				if (report)
					pr_err("PID %d%s is taken by '%s'", id, what, comm);
				if (!*first)
					*first = id;
				ret = -EBUSY;
				continue;
			}
			for (size_t k = 0; k < nr_h; k++) {
				if (h[k].pgid != id && h[k].sid != id)
					continue;
				if (report)
					pr_err("PID %d%s is taken: it is the %s of %d '%s'", id,
					       what, h[k].sid == id ? "session" : "process group",
					       h[k].pid, h[k].comm);
				if (!*first)
					*first = id;
				ret = -EBUSY;
				break;
			}
		}
	}
	return ret;
}

/* Where the tree goes: in minicr's PID namespace when its PIDs are free
 * there; else, with --pidns=auto, into a new one, where the tree has the
 * PIDs it saw. That needs a root that was PID 1 of its namespace: the
 * first task of a new namespace is its PID 1, whatever the tree recorded. */
static int choose_pid_namespace(struct rst_ctx *c)
{
	const PstreeEntry *root = c->pe[0];
	bool fits_new = root->has_ns_pid && root->ns_pid == 1;
	pid_t taken;
	int ret;

	ret = check_pids_free(c, !c->o->pidns_auto, &taken);
	if (ret != -EBUSY)
		return ret;
	if (!c->o->pidns_auto) {
		if (fits_new)
			pr_err("the root %d was the init of its PID namespace: restore with "
			       "--pidns=auto (or --pidns) to put the tree into a new PID "
			       "namespace, where it keeps its PIDs", root->pid);
		return ret;
	}
	if (!fits_new) {
		check_pids_free(c, true, &taken);
		pr_err("--pidns=auto: the root %d was PID %d of its PID namespace, not its "
		       "init; in a new namespace it would be PID 1, so the tree cannot keep "
		       "its PIDs there", root->pid, root->has_ns_pid ? root->ns_pid : root->pid);
		return ret;
	}
	log_msg(LOG_WARN, "PID %d is taken here: restoring into a new PID namespace "
		"(--pidns=auto)", taken);
	plan_free(&c->plan);
	free(c->ni);
	c->ni = NULL;
	c->pidns = true;
	ret = make_plan(c);
	if (!ret)
		ret = check_pids_free(c, true, &taken);
	return ret;
}

/* ---- the task bodies: minicr's code in every created task ---- */

static void __attribute__((noreturn)) body(struct rst_ctx *c, int node, size_t from);

static void __attribute__((noreturn)) body_fail(struct rst_ctx *c, size_t s)
{
	/* The first failure wins; the controller reports and cleans up. */
	if (__sync_bool_compare_and_swap(&c->sh->failed, 0, 1))
		c->sh->fail_step = s;
	/* Everybody leaves. */
	for (size_t i = 0; i < c->plan.nr_nodes; i++) {
		__atomic_add_fetch(&c->sh->wake[i], 1, __ATOMIC_SEQ_CST);
		futex(&c->sh->wake[i], FUTEX_WAKE, INT_MAX, NULL);
	}
	futex(&c->sh->step, FUTEX_WAKE, INT_MAX, NULL);
	_exit(1);
}

static void step_done(struct rst_ctx *c, size_t s)
{
	__atomic_store_n(&c->sh->step, (int)s + 1, __ATOMIC_SEQ_CST);
	if (s + 1 < c->plan.nr_steps) {
		int next = c->plan.steps[s + 1].actor;

		__atomic_add_fetch(&c->sh->wake[next], 1, __ATOMIC_SEQ_CST);
		futex(&c->sh->wake[next], FUTEX_WAKE, INT_MAX, NULL);
	}
	futex(&c->sh->step, FUTEX_WAKE, INT_MAX, NULL);
}

/* Wait for step s; leave if minicr is gone or another task failed. */
static void wait_turn(struct rst_ctx *c, int node, size_t s)
{
	static const struct timespec tick = { 0, 200 * 1000 * 1000 };

	for (;;) {
		/* Read the word before the step: a wake in between makes
		 * FUTEX_WAIT return at once. */
		int seen = __atomic_load_n(&c->sh->wake[node], __ATOMIC_SEQ_CST);
		struct pollfd pfd = { .fd = c->alive_rd, .events = POLLIN };

		if (c->sh->failed)
			_exit(1);
		if ((size_t)__atomic_load_n(&c->sh->step, __ATOMIC_SEQ_CST) == s)
			return;
		futex(&c->sh->wake[node], FUTEX_WAIT, seen, &tick);
		if (poll(&pfd, 1, 0) > 0)
			_exit(1);   /* the write end closed: minicr died */
	}
}

/* The ID a task sees for a wanted group or session: PLAN_OUTER is
 * minicr's, which a task in a new namespace sees as 0. */
static pid_t seen_id(const struct rst_ctx *c, pid_t id, pid_t outer)
{
	if (id != PLAN_OUTER)
		return id;
	return c->pidns ? 0 : outer;
}

static int body_finish(struct rst_ctx *c, int node)
{
	const struct plan_node *n = &c->plan.nodes[node];
	const struct node_info *ni = &c->ni[node];
	sigset_t chld;
	pid_t want;
	int ret;

	/* Its zombie children must have died (not reaped: the restored
	 * program's wait() must see them) before it is seized, and the
	 * SIGCHLDs they and any helper sent must not stay pending. */
	for (size_t i = 0; i < c->plan.nr_nodes; i++) {
		siginfo_t si;

		if (!c->plan.nodes[i].zombie || c->plan.nodes[i].parent != node)
			continue;
		if (waitid(P_PID, c->plan.nodes[i].pid, &si, WEXITED | WNOWAIT | __WALL) < 0) {
			ret = -errno;
			pr_err("task %d: waiting for its zombie child %d to die: %s", n->pid,
			       c->plan.nodes[i].pid, errstr(ret));
			return ret;
		}
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &(struct timespec){ 0, 0 }) == SIGCHLD)
		;
	/* Its adopted members are all in place: back to the recorded value
	 * (rst_core sets it again from the same image). */
	if (n->subreaper) {
		int v = ni->core->has_child_subreaper && ni->core->child_subreaper;

		if (prctl(PR_SET_CHILD_SUBREAPER, v, 0, 0, 0) < 0) {
			ret = -errno;
			pr_err("task %d: cannot set child subreaper to %d: %s", n->pid, v,
			       errstr(ret));
			return ret;
		}
	}
	/* Check from inside what the plan promised. */
	want = node ? c->plan.nodes[n->parent].pid : (c->pidns ? 0 : c->controller);
	if (getppid() != want || getpgrp() != seen_id(c, n->pgid, c->outer_pgid) ||
	    getsid(0) != seen_id(c, n->sid, c->outer_sid)) {
		pr_err("task %d ended up with parent %d, group %d, session %d instead of "
		       "%d, %d, %d", n->pid, getppid(), getpgrp(), getsid(0), want,
		       seen_id(c, n->pgid, c->outer_pgid), seen_id(c, n->sid, c->outer_sid));
		return -EPROTO;
	}
	for (size_t i = 1; i < ni->nr_tids; i++) {
		pid_t tid = rst_fork_thread(c->o->method, ni->tids[i]);

		if (tid < 0)
			return tid;   /* logged */
	}
	/* Whole process, threads included, before any recorded state. */
	ret = cgroup_rst_join(c->cg, n->pid, ni->core);
	if (ret)
		return ret;
	/* From here until minicr seizes it, it dies with its parent, so
	 * nothing outlives a dead minicr; minicr undoes this once seized. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != want) {
		pr_err("task %d: its parent is gone", n->pid);
		return -ESRCH;
	}
	/* In a shared fd table the others still poll it (a closed fd would
	 * look like a dead minicr); the files restore closes it there. */
	if (!ni->shared_table)
		close(c->alive_rd);
	return 0;
}

static void __attribute__((noreturn)) body_die(struct rst_ctx *c, int node)
{
	const CoreEntry *ce = c->ni[node].core;
	struct rlimit no_core = { 0, 0 };

	/* A zombie keeps its name in /proc; nothing else of it is restored. */
	prctl(PR_SET_NAME, ce->comm, 0, 0, 0);

	/* Killed by a signal: by that signal, without a core file. */
	if (ce->has_exit_signal && ce->exit_signal > 0 && ce->exit_signal < NSIG) {
		sigset_t one;

		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		setrlimit(RLIMIT_CORE, &no_core);
		signal(ce->exit_signal, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, ce->exit_signal);
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), ce->exit_signal);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		/* A signal whose default is to be ignored does not kill. */
		pr_warn("zombie %d: signal %d did not kill it; exiting with 128+%d instead",
			c->plan.nodes[node].pid, ce->exit_signal, ce->exit_signal);
		_exit(128 + ce->exit_signal);
	}
	_exit(ce->has_exit_code ? ce->exit_code : 0);
}

static int body_step(struct rst_ctx *c, int node, size_t s)
{
	const struct plan_step *st = &c->plan.steps[s];
	const struct plan_node *n = &c->plan.nodes[node];
	pid_t pid;
	int ret, status;

	pr_debug("step %zu: %s by %d", s, plan_op_name(st->op), n->pid);
	switch (st->op) {
	case PLAN_FORK:
		pid = rst_fork_task(c->o->method, c->plan.nodes[st->arg].pid, false,
				    c->ni[st->arg].share_files);
		if (pid < 0)
			return pid;   /* logged */
		if (pid == 0) {
			/* The new task: its own steps come after this one. */
			body(c, st->arg, s + 1);
		}
		return 0;
	case PLAN_SETSID:
		if (setsid() < 0) {
			ret = -errno;
			pr_err("task %d: setsid: %s", n->pid, errstr(ret));
			return ret;
		}
		return 0;
	case PLAN_SETPGID: {
		pid_t g = st->arg == PLAN_OUTER ? c->outer_pgid : st->arg;

		if (st->arg == PLAN_OUTER && c->pidns) {
			pr_err("task %d: cannot rejoin a process group outside the new PID namespace",
			       n->pid);
			return -EPERM;
		}
		if (setpgid(0, g) < 0) {
			ret = -errno;
			pr_err("task %d: setpgid(0, %d): %s", n->pid, g, errstr(ret));
			return ret;
		}
		return 0;
	}
	case PLAN_SUBREAPER:
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
			ret = -errno;
			pr_err("task %d: cannot become a child subreaper: %s", n->pid, errstr(ret));
			return ret;
		}
		return 0;
	case PLAN_REAP:
		pid = c->plan.nodes[st->arg].pid;
		if (waitpid(pid, &status, __WALL) != pid) {
			ret = -errno;
			pr_err("task %d: cannot reap its helper %d: %s", n->pid, pid, errstr(ret));
			return ret;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			pr_err("task %d: its helper %d failed (status 0x%x)", n->pid, pid, status);
			return -EPROTO;
		}
		return 0;
	case PLAN_EXIT:
		step_done(c, s);
		_exit(0);
	case PLAN_DIE:
		/* A zombie keeps the cgroup it exited in. */
		ret = cgroup_rst_join(c->cg, n->pid, c->ni[node].core);
		if (ret)
			return ret;
		step_done(c, s);
		body_die(c, node);
	case PLAN_FINISH:
		return body_finish(c, node);
	}
	return -EINVAL;
}

/* The init of a new PID namespace gives its tree a /proc of that
 * namespace (minicr's shows other PIDs), in a mount namespace of its own
 * that still receives mounts from minicr's but sends none back. */
static int mount_ns_proc(void)
{
	int ret;

	if (unshare(CLONE_NEWNS) < 0) {
		ret = -errno;
		pr_err("task 1: unshare(CLONE_NEWNS) for its /proc: %s", errstr(ret));
		return ret;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		ret = -errno;
		pr_err("task 1: making its mounts slaves of minicr's: %s", errstr(ret));
		return ret;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		ret = -errno;
		pr_err("task 1: cannot mount a /proc for its PID namespace: %s", errstr(ret));
		return ret;
	}
	return 0;
}

/* Before the task forks anything: fill what its children or it share
 * copy-on-write (rst_cow.h). The pages are shared with the children it
 * was recorded as the parent of, and taken from its forker only if that
 * is its recorded parent. */
static void cow_prepare(struct rst_ctx *c, int node)
{
	const struct plan_node *n = &c->plan.nodes[node];
	const PstreeEntry *pe = c->ni[node].pe;
	const struct rst_cow_slot *forker = NULL;
	_cleanup_free_ int *kids = NULL;
	size_t nr = 0;

	if (n->task < 0 || n->zombie || !pe || !c->cow)
		return;
	kids = calloc(c->plan.nr_nodes, sizeof(*kids));
	if (!kids)
		return;
	for (size_t k = 0; k < c->plan.nr_nodes; k++)
		if (c->plan.nodes[k].forker == node && c->plan.nodes[k].task >= 0 &&
		    !c->plan.nodes[k].zombie && c->ni[k].pe && c->ni[k].pe->ppid == pe->pid)
			kids[nr++] = c->ni[k].pe->pid;
	if (n->forker >= 0 && c->ni[n->forker].pe && c->ni[n->forker].pe->pid == pe->ppid)
		forker = &c->cow[n->forker];
	rst_cow_prepare(c->dirfd, pe->pid, forker, kids, nr, &c->cow[node]);
}

static void __attribute__((noreturn)) body(struct rst_ctx *c, int node, size_t from)
{
	/* A helper has no recorded task: its plan PID stands for it. */
	log_set_task(c->ni[node].pe ? c->ni[node].pe->pid : c->plan.nodes[node].pid);
	if (node == 0 && c->pidns && mount_ns_proc())
		body_fail(c, 0);
	cow_prepare(c, node);
	for (size_t s = from; s < c->plan.nr_steps; s++) {
		int ret;

		if (c->plan.steps[s].actor != node)
			continue;
		wait_turn(c, node, s);
		if ((long)s == c->fault_step) {
			pr_err("task %d: failing step %zu on purpose (MINICR_FAULT_STEP)",
			       c->plan.nodes[node].pid, s);
			body_fail(c, s);
		}
		ret = body_step(c, node, s);
		if (ret)
			body_fail(c, s);
		step_done(c, s);
		if (c->plan.steps[s].op == PLAN_FINISH)
			break;
	}
	/* Ready: nothing but a pause loop (every signal is blocked) until
	 * minicr seizes it and replaces all of this. */
	for (;;)
		syscall(SYS_pause);
}

/* ---- the controller ---- */

/* Kill every task created so far and reap it. minicr is a child subreaper
 * while it builds, so whatever is orphaned comes back to it. */
static void kill_all(void)
{
	uint64_t end = now_us() + KILL_TIMEOUT_MS * 1000ull;

	for (;;) {
		_cleanup_free_ pid_t *kids = NULL;
		pid_t *stack = NULL;
		size_t nr = 0, nst = 0, cap = 0;

		/* Reap what died (tracees that are not our children too). */
		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
		if (waitpid(-1, NULL, __WALL | WNOHANG) < 0 && errno == ECHILD)
			return;
		if (proc_children_read(getpid(), getpid(), &kids, &nr))
			nr = 0;
		/* Kill a task before reading its children: it forks no more. */
		for (size_t i = 0; i < nr; i++)
			pid_array_add(&stack, &nst, &cap, kids[i]);
		while (nst) {
			pid_t p = stack[--nst];
			_cleanup_free_ pid_t *sub = NULL;
			size_t ns = 0;

			kill(p, SIGKILL);
			if (!proc_children_read(p, p, &sub, &ns))
				for (size_t i = 0; i < ns; i++)
					pid_array_add(&stack, &nst, &cap, sub[i]);
		}
		free(stack);
		if (now_us() > end) {
			pr_err("tasks of the failed restore are still alive after %d s",
			       KILL_TIMEOUT_MS / 1000);
			return;
		}
		usleep(1000);
	}
}

static int build_tree(struct rst_ctx *c)
{
	uint64_t start = now_us(), end = 0;
	int last = -1;
	sigset_t all, old;
	int pfd[2], ret, status;
	pid_t root;

	c->sh_len = sizeof(*c->sh) + c->plan.nr_nodes * sizeof(c->sh->wake[0]);
	c->sh = mmap(NULL, c->sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->sh == MAP_FAILED) {
		ret = -errno;
		c->sh = NULL;
		pr_err("cannot map %zu bytes shared with the tasks: %s", c->sh_len, errstr(ret));
		return ret;
	}
	c->cow_len = c->plan.nr_nodes * sizeof(*c->cow);
	c->cow = mmap(NULL, c->cow_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->cow == MAP_FAILED) {
		/* Only sharing is lost. */
		pr_warn("cannot map %zu bytes for copy-on-write sharing: %s", c->cow_len,
			errstr(-errno));
		c->cow = NULL;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		pr_err("pipe: %s", errstr(ret));
		return ret;
	}
	c->alive_rd = pfd[0];
	c->alive_wr = pfd[1];
	c->controller = getpid();
	c->outer_pgid = getpgrp();
	c->outer_sid = getsid(0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		ret = -errno;
		pr_err("cannot become a child subreaper: %s", errstr(ret));
		return ret;
	}
	c->subreaper_set = true;
	/* The tasks start with every signal blocked: nothing reaches minicr's
	 * code in them; only SIGKILL does. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	root = rst_fork_task(c->o->method, c->plan.nodes[0].pid, c->pidns, false);
	if (root == 0) {
		close(c->alive_wr);
		body(c, 0, 0);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(c->alive_rd);
	c->alive_rd = -1;
	if (root < 0)
		return root;
	c->root = root;
	pr_info("created the root %d (PID %d%s), building %zu tasks in %zu steps",
		c->plan.nodes[0].pid, root, c->pidns ? " outside its namespace" : "",
		c->plan.nr_tasks, c->plan.nr_steps);

	for (;;) {
		static const struct timespec tick = { 0, 50 * 1000 * 1000 };
		int cur = __atomic_load_n(&c->sh->step, __ATOMIC_SEQ_CST);

		if (c->sh->failed) {
			const struct plan_step *s = &c->plan.steps[c->sh->fail_step];

			pr_err("restore failed at step %d (%s by %d); killing the partly built tree",
			       c->sh->fail_step, plan_op_name(s->op), c->plan.nodes[s->actor].pid);
			return -ECANCELED;
		}
		if ((size_t)cur == c->plan.nr_steps)
			break;
		if (cur != last) {
			last = cur;
			end = now_us() + STEP_TIMEOUT_MS * 1000ull;
		}
		if (waitpid(root, &status, WNOHANG | __WALL) == root) {
			pr_err("the root %d died while the tree was built (status 0x%x)",
			       c->plan.nodes[0].pid, status);
			c->root = 0;
			return -ECHILD;
		}
		if (now_us() > end) {
			const struct plan_step *s = &c->plan.steps[cur];

			pr_err("step %d (%s by %d) did not complete in %d s", cur,
			       plan_op_name(s->op), c->plan.nodes[s->actor].pid, STEP_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		futex(&c->sh->step, FUTEX_WAIT, cur, &tick);
	}
	c->stats.forking_time = now_us() - start;
	pr_info("built %zu tasks in %llu us", c->plan.nr_tasks,
		(unsigned long long)c->stats.forking_time);
	return 0;
}

/* The PIDs minicr sees for the tasks (out[i] for task i): the same, or in
 * a new namespace found by walking the tree under the root once and
 * reading the last level of each task's NSpid. */
static int find_outer(struct rst_ctx *c, pid_t *out)
{
	pid_t *stack = NULL;
	size_t nst = 0, cap = 0;
	int ret = 0;

	for (size_t i = 0; i < c->nr_pe; i++)
		out[i] = c->pidns ? 0 : c->plan.nodes[i].pid;
	if (!c->pidns)
		return 0;
	pid_array_add(&stack, &nst, &cap, c->root);
	while (nst) {
		pid_t p = stack[--nst];
		struct proc_status st;
		_cleanup_free_ pid_t *kids = NULL;
		size_t nk = 0;

		if (proc_status_read(p, 0, &st) == 0 && st.ns_pid_nr > 0)
			for (size_t i = 0; i < c->nr_pe; i++)
				if (c->plan.nodes[i].pid == st.ns_pid[st.ns_pid_nr - 1])
					out[i] = p;
		/* Only main threads fork in the bodies. */
		if (!proc_children_read(p, p, &kids, &nk))
			for (size_t i = 0; i < nk; i++)
				pid_array_add(&stack, &nst, &cap, kids[i]);
	}
	free(stack);
	for (size_t i = 0; i < c->nr_pe; i++) {
		if (!out[i] && !c->plan.nodes[i].zombie) {
			pr_err("cannot find task %d of the new PID namespace in /proc",
			       c->plan.nodes[i].pid);
			ret = -ESRCH;
		}
	}
	return ret;
}

static int find_outer_tids(struct rst_ctx *c, size_t task, struct rst_task *t)
{
	const struct node_info *ni = &c->ni[task];
	_cleanup_free_ pid_t *tids = NULL;
	size_t nr = 0;
	int ret;

	t->tids = calloc(ni->nr_tids, sizeof(pid_t));
	if (!t->tids)
		return -ENOMEM;
	t->nr_tids = ni->nr_tids;
	if (!c->pidns) {
		for (size_t i = 0; i < ni->nr_tids; i++)
			t->tids[i] = ni->tids[i];
		return 0;
	}
	ret = proc_threads_read(t->pid, &tids, &nr);
	if (ret) {
		pr_err("cannot list the threads of task %d: %s", t->pid, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < ni->nr_tids; i++) {
		t->tids[i] = 0;
		for (size_t j = 0; j < nr; j++) {
			struct proc_status st;

			if (proc_status_read(t->pid, tids[j], &st) == 0 && st.ns_pid_nr > 0 &&
			    st.ns_pid[st.ns_pid_nr - 1] == ni->tids[i])
				t->tids[i] = tids[j];
		}
		if (!t->tids[i]) {
			pr_err("task %d: cannot find its thread %d in /proc", t->pid, ni->tids[i]);
			return -ESRCH;
		}
	}
	return 0;
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT, then wait for the stop. */
static int seize_thread(pid_t pid, pid_t tid)
{
	int ret, status;

	/* EXITKILL: if minicr dies before it detaches, the kernel kills
	 * every task it traces; nothing half restored runs on. */
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_EXITKILL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		ret = -errno;
		pr_err("cannot seize task %d thread %d: %s", pid, tid, errstr(ret));
		return ret;
	}
	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0) {
			ret = -errno;
			if (ret == -EINTR)
				continue;
			pr_err("waiting for task %d thread %d to stop: %s", pid, tid, errstr(ret));
			return ret;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pr_err("task %d thread %d died while being seized (status 0x%x)",
			       pid, tid, status);
			return -ESRCH;
		}
		if (WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* Every signal is blocked in the bodies; pass on anything else. */
		if (ptrace(PTRACE_CONT, tid, NULL,
			   status >> 16 ? NULL : (void *)(long)WSTOPSIG(status)) < 0) {
			ret = -errno;
			pr_err("cannot continue task %d thread %d: %s", pid, tid, errstr(ret));
			return ret;
		}
	}
}

/* Undo the body's PR_SET_PDEATHSIG from inside the seized task, for
 * images that do not record one. */
static int disarm_pdeath(struct rst_task *t)
{
	struct remote r;
	long ret;

	ret = remote_start(&r, t->pid, t->pid, t->sys_ip);
	if (ret)
		return ret;
	ret = remote_syscall(&r, __NR_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0, 0);
	if (ret < 0)
		pr_err("task %d: prctl(PR_SET_PDEATHSIG, 0): %s", t->pid, errstr(ret));
	if (remote_end(&r) && !ret)
		ret = -EIO;
	return ret < 0 ? ret : 0;
}

static int seize_tree(struct rst_ctx *c)
{
	_cleanup_free_ pid_t *outer = calloc(c->nr_pe, sizeof(*outer));
	int ret;

	c->tasks = calloc(c->nr_pe, sizeof(*c->tasks));
	if (!c->tasks || !outer)
		return -ENOMEM;
	ret = find_outer(c, outer);
	if (ret)
		return ret;
	for (size_t i = 0; i < c->nr_pe; i++) {
		struct rst_task *t = &c->tasks[i];
		LOG_TASK_SCOPE(c->pe[i]->pid);

		t->pe = c->pe[i];
		t->cow = c->cow ? &c->cow[i] : NULL;
		t->pid = outer[i];      /* a zombie's too: a pidfd may name it */
		if (c->plan.nodes[i].zombie)
			continue;
		t->core = c->core[i];
		ret = find_outer_tids(c, i, t);
		if (ret)
			return ret;
		for (size_t j = 0; j < t->nr_tids; j++) {
			ret = seize_thread(t->pid, t->tids[j]);
			if (ret)
				return ret;
		}
		ret = remote_find_syscall(t->pid, &t->sys_ip);
		if (ret) {
			pr_err("task %d: no syscall instruction found: %s", t->pid, errstr(ret));
			return ret;
		}
		/* rst_core sets the recorded pdeath signal last; until then a
		 * dead minicr still takes the tree with it. */
		if (!t->core->has_pdeath_signal) {
			ret = disarm_pdeath(t);
			if (ret)
				return ret;
		}
		pr_debug("task %d: seized %zu threads, syscall at 0x%lx", t->pid, t->nr_tids,
			 t->sys_ip);
		c->stats.threads += t->nr_tids;
	}
	c->stats.tasks = c->nr_pe;
	return 0;
}

/* Hold the freshly built tree for inspection (tests): MINICR_RESTORE_HOLD
 * seconds, before the state restorers run. */
static void debug_hold(void)
{
	const char *s = getenv("MINICR_RESTORE_HOLD");

	if (s && atoi(s) > 0) {
		pr_info("holding the built tree for %d s (MINICR_RESTORE_HOLD)", atoi(s));
		sleep(atoi(s));
	}
}

/* remote_start() sets the tracing options to REMOTE_PTRACE_OPTIONS alone,
 * dropping PTRACE_O_EXITKILL: set it again after each state restorer. */
static int rearm_exitkill(const struct rst_task *t)
{
	for (size_t j = 0; j < t->nr_tids; j++) {
		if (ptrace(PTRACE_SETOPTIONS, t->tids[j], NULL,
			   (void *)(long)(REMOTE_PTRACE_OPTIONS | PTRACE_O_EXITKILL)) < 0) {
			int ret = -errno;

			pr_err("task %d thread %d: PTRACE_SETOPTIONS: %s", t->pid, t->tids[j],
			       errstr(ret));
			return ret;
		}
	}
	return 0;
}

static int restore_state(struct rst_ctx *c)
{
	int ret;

	for (size_t i = 0; i < c->nr_pe; i++) {
		struct rst_task *t = &c->tasks[i];
		LOG_TASK_SCOPE(t->pe->pid);
		uint64_t t0;

		/* A zombie is complete once the tree is built. */
		if (!t->core) {
			progress_task(&c->prog);
			continue;
		}
		t0 = now_us();
		ret = rst_mem_restore(c->dirfd, t, &c->prog);
		c->stats.memrestore_time += now_us() - t0;
		fault_point("mid-mem");
		if (!ret)
			ret = rearm_exitkill(t);
		if (!ret)
			ret = rst_core_restore(c->dirfd, t);
		if (!ret)
			ret = rearm_exitkill(t);
		if (!ret)
			ret = rst_mem_finish(t);
		if (!ret)
			ret = rearm_exitkill(t);
		if (ret) {
			pr_err("cannot restore the state of task %d (PID %d): %s",
			       t->pe->pid, t->pid, errstr(ret));
			return ret;
		}
		progress_task(&c->prog);
	}
	for (size_t i = 0; i < c->nr_pe; i++) {
		struct rst_task *t = &c->tasks[i];
		LOG_TASK_SCOPE(t->pe->pid);

		if (!t->core)
			continue;
		ret = rst_threads_resume(t);
		if (!ret)
			ret = rearm_exitkill(t);
		if (ret) {
			pr_err("cannot resume the threads of task %d (PID %d): %s",
			       t->pe->pid, t->pid, errstr(ret));
			return ret;
		}
	}
	return 0;
}

static int detach_tree(struct rst_ctx *c)
{
	int ret = 0;

	for (size_t i = 0; i < c->nr_pe; i++) {
		struct rst_task *t = &c->tasks[i];
		bool stopped = t->core && t->core->state == TASK_STATE__TASK_STOPPED;

		if (!t->core)
			continue;
		/* Non-leader threads first: a stopped leader's SIGSTOP then
		 * stops the whole group again. */
		for (size_t j = t->nr_tids; j-- > 0;) {
			void *sig = j == 0 && stopped ? (void *)(long)SIGSTOP : NULL;

			if (ptrace(PTRACE_DETACH, t->tids[j], NULL, sig) < 0) {
				ret = -errno;
				pr_err("cannot detach task %d thread %d: %s", t->pid, t->tids[j],
				       errstr(ret));
			}
		}
	}
	return ret;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char tmp[PATH_MAX], buf[32];
	int fd, ret, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", pid);
	ret = write_all(fd, buf, n);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		return 0;
	unlink(tmp);
err:
	pr_err("cannot write pidfile %s: %s", path, errstr(ret));
	return ret;
}

static void free_ctx(struct rst_ctx *c)
{
	if (c->tasks)
		for (size_t i = 0; i < c->nr_pe; i++)
			free(c->tasks[i].tids);
	free(c->tasks);
	if (c->sh)
		munmap(c->sh, c->sh_len);
	if (c->cow)
		munmap(c->cow, c->cow_len);
	if (c->alive_rd >= 0)
		close(c->alive_rd);
	if (c->alive_wr >= 0)
		close(c->alive_wr);
	free(c->ni);
	plan_free(&c->plan);
	for (size_t i = 0; c->core && i < c->nr_pe; i++)
		if (c->core[i])
			protobuf_c_message_free_unpacked(&c->core[i]->base, NULL);
	free(c->core);
	for (size_t i = 0; i < c->nr_pe; i++)
		protobuf_c_message_free_unpacked(&c->pe[i]->base, NULL);
	free(c->pe);
	if (c->inv)
		protobuf_c_message_free_unpacked(&c->inv->base, NULL);
	if (c->dirfd >= 0)
		close(c->dirfd);
}

static int wait_root(pid_t root, int *status)
{
	int st, ret;

	while (waitpid(root, &st, 0) < 0) {
		ret = -errno;
		if (ret == -EINTR)
			continue;
		pr_err("waiting for the restored root %d: %s", root, errstr(ret));
		return ret;
	}
	if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else
		*status = 128 + WTERMSIG(st);
	pr_info("the restored root %d %s %d", root, WIFEXITED(st) ? "exited with" :
		"was killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

int cr_restore(const struct restore_opts *o, int *status)
{
	struct rst_ctx c = { .o = o, .dirfd = -1, .alive_rd = -1, .alive_wr = -1,
			     .stats = RESTORE_STATS_ENTRY__INIT };
	uint64_t start = now_us();
	struct img_out stats_out;
	bool created = false, mem_used = false;
	pid_t root_pid;
	int ret;

	*status = 0;
	files_tty_set_shell_job(o->shell_job);
	c.fault_step = getenv("MINICR_FAULT_STEP") ? atol(getenv("MINICR_FAULT_STEP")) : -1;
	ret = o->stream ? receive_stream(&c) : open_images_dir(&c);
	if (ret)
		goto out;
	ret = read_inventory(&c);
	if (ret)
		goto out;
	c.pidns = o->pidns || c.inv->root_is_ns_init;
	if (c.pidns && !o->pidns)
		pr_info("the root was the init of its PID namespace: restoring into a new one");
	ret = read_pstree(&c);
	if (!ret)
		ret = read_cores(&c);
	if (!ret)
		ret = make_plan(&c);
	if (!ret)
		ret = choose_pid_namespace(&c);
	/* Before the tree is built: the tasks inherit minicr's pidfd. */
	if (!ret)
		ret = files_rst_init(c.dirfd, o->inherit_fds, o->nr_inherit_fds);
	if (!ret)
		ret = cgroup_rst_prepare(c.dirfd, o->cgroup_root, c.core, c.nr_pe, &c.cg);
	if (ret)
		goto out;

	created = true;
	ret = build_tree(&c);
	if (ret)
		goto out;
	fault_point("after-fork");
	debug_hold();
	ret = seize_tree(&c);
	if (ret)
		goto out;
	fault_point("after-seize");
	files_rst_set_tasks(c.tasks, c.nr_pe);
	mem_used = true;
	progress_init(&c.prog, o->progress, PROGRESS_RESTORE);
	progress_set_total(&c.prog, c.nr_pe);
	ret = restore_state(&c);
	progress_finish(&c.prog);
	if (ret)
		goto out;
	fault_point("before-detach");
	ret = detach_tree(&c);
	if (ret)
		goto out;
	/* The tree runs; orphans from now on go where they would have. */
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	c.subreaper_set = false;

	c.stats.restore_time = now_us() - start;
	c.stats.pages_restored = rst_mem_pages_restored();
	c.stats.has_forking_time = c.stats.has_restore_time = c.stats.has_memrestore_time = 1;
	c.stats.has_tasks = c.stats.has_threads = c.stats.has_pages_restored = 1;
	img_out_init(&stats_out, c.dirfd);
	if (img_write_one(&stats_out, IMG_STATS_RESTORE, 0, &c.stats.base))
		pr_warn("could not write stats-restore.img");   /* the tree runs: not fatal */
	img_out_fini(&stats_out);
	root_pid = c.root;
	pr_info("restored %zu tasks (%u threads) in %llu us; root is PID %d", c.nr_pe,
		c.stats.threads, (unsigned long long)c.stats.restore_time, root_pid);
	if (o->pidfile && write_pidfile(o->pidfile, root_pid))
		pr_warn("the tree runs anyway, root PID %d", root_pid);
	if (o->detach) {
		printf("%d\n", root_pid);
		fflush(stdout);
	} else {
		ret = wait_root(root_pid, status);
	}
out:
	if (ret && created) {
		kill_all();
		pr_err("restore from %s failed: every task created was killed", o->dir);
	}
	if (ret)
		cgroup_rst_undo(c.cg);
	cgroup_rst_free(c.cg);
	if (c.subreaper_set)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	if (mem_used)
		rst_mem_cleanup();
	files_rst_fini();
	free_ctx(&c);
	return ret;
}
