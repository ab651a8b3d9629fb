#include "dump.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cgroup.h"
#include "core.pb-c.h"
#include "dump_core.h"
#include "fault.h"
#include "files.h"
#include "files_tty.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "mem_dump.h"
#include "proc_parse.h"
#include "progress.h"
#include "pstree.h"
#include "pstree.pb-c.h"
#include "refuse.h"
#include "seize.h"
#include "stats.pb-c.h"
#include "stream.h"
#include "util.h"

/* What dump learns of one task from /proc once it is frozen. */
struct task_info {
	struct proc_stat stat;
	struct proc_status status;
	pid_t *ns_tids;
	unsigned int personality;
	bool has_personality;
	CoreEntry core;             /* filled by collect_core() */
	bool core_filled;
};

/* One dump, from the freeze to the release of the tree. */
struct dump_session {
	const struct dump_opts *o;
	struct pstree tree;
	struct refusals ref;
	struct files_dump *files;
	struct cg_dump *cg;         /* NULL if its collection was refused */
	int dirfd;                  /* -1 with --dry-run: nothing is written */
	struct img_out out;         /* on dirfd: every image written, for inventory.img */
	uint64_t seize_start, frozen_at;
	struct progress prog;
};

static int dir_is_empty(int dirfd)
{
	int fd = dup(dirfd), ret = 1;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = 0;
	closedir(d);
	return ret;
}

static int open_images_dir(const struct dump_opts *o)
{
	int fd, ret;

	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		pr_err("cannot create images directory %s: %s", o->dir, errstr(ret));
		return ret;
	}
	fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot open images directory %s: %s", o->dir, errstr(ret));
		return ret;
	}
	ret = dir_is_empty(fd);
	if (ret < 0) {
		pr_err("cannot read images directory %s: %s", o->dir, errstr(ret));
		goto err;
	}
	if (!ret && !o->force) {
		pr_err("images directory %s is not empty (use --force to overwrite)", o->dir);
		ret = -EEXIST;
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

/* --stream: the images go to what was stdout; fd 1 becomes /dev/null, so
 * that nothing else can ever land in the stream. */
static int take_stdout(int *stream_fd)
{
	int fd, null, ret = 0;

	fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0)
		ret = -errno;
	if (null >= 0)
		close(null);
	if (ret) {
		pr_err("cannot take stdout for the stream: %s", errstr(ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*stream_fd = fd;
	return 0;
}

static int read_personality(pid_t pid, unsigned int *pers)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	ret = read_file(path, 64, &buf, NULL);
	if (ret)
		return ret;
	*pers = strtoul(buf, NULL, 16);
	return 0;
}

static pid_t last_level(const pid_t *ids, int nr)
{
	return nr ? ids[nr - 1] : 0;
}

static int collect_task(struct pstree_task *t)
{
	struct task_info *ti;
	int ret;

	ti = calloc(1, sizeof(*ti));
	if (!ti)
		return -ENOMEM;
	t->priv = ti;
	ret = proc_stat_read(t->pid, 0, &ti->stat);
	if (!ret)
		ret = proc_status_read(t->pid, 0, &ti->status);
	if (ret) {
		pr_err("cannot read /proc of task %d: %s", t->pid, errstr(ret));
		return ret;
	}
	ti->ns_tids = calloc(t->nr_tids, sizeof(pid_t));
	if (!ti->ns_tids)
		return -ENOMEM;
	ti->ns_tids[0] = last_level(ti->status.ns_pid, ti->status.ns_pid_nr);
	for (size_t i = 1; i < t->nr_tids; i++) {
		struct proc_status ts;

		ret = proc_status_read(t->pid, t->tids[i], &ts);
		if (ret) {
			pr_err("cannot read /proc of task %d thread %d: %s",
			       t->pid, t->tids[i], errstr(ret));
			return ret;
		}
		ti->ns_tids[i] = last_level(ts.ns_pid, ts.ns_pid_nr);
	}
	if (!t->zombie) {
		ret = read_personality(t->pid, &ti->personality);
		if (ret) {
			pr_err("cannot read personality of task %d: %s", t->pid, errstr(ret));
			return ret;
		}
		ti->has_personality = true;
	}
	return 0;
}

static void free_task_info(struct pstree *tree)
{
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		struct task_info *ti = tree->tasks[i]->priv;

		if (ti) {
			free(ti->ns_tids);
			if (ti->core_filled)
				dump_core_free(&ti->core);
		}
		free(ti);
		tree->tasks[i]->priv = NULL;
	}
}

/* The parent's PID as the task itself sees it: 0 when the parent lives
 * outside the task's PID namespace. */
static pid_t ns_ppid_of(const struct pstree_task *t)
{
	const struct task_info *ti = t->priv;
	struct proc_status ps;

	if (t->parent) {
		const struct task_info *pi = t->parent->priv;

		if (pi->status.ns_pid_nr == ti->status.ns_pid_nr)
			return last_level(pi->status.ns_pid, pi->status.ns_pid_nr);
		return 0;
	}
	if (proc_status_read(ti->stat.ppid, 0, &ps) || ps.ns_pid_nr != ti->status.ns_pid_nr)
		return 0;
	return last_level(ps.ns_pid, ps.ns_pid_nr);
}

static TaskState task_state(const struct pstree_task *t)
{
	if (t->zombie)
		return TASK_STATE__TASK_ZOMBIE;
	if (t->stopped)
		return TASK_STATE__TASK_STOPPED;
	if (t->state == 'R')
		return TASK_STATE__TASK_RUNNING;
	return TASK_STATE__TASK_SLEEPING;
}

/* The task's CoreEntry, kept in its task_info until written: collected
 * with everything else before any image is written. */
static int collect_core(struct dump_session *s, const struct pstree_task *t)
{
	struct task_info *ti = t->priv;
	CoreEntry *ce = &ti->core;
	int status = ti->stat.exit_code;
	int ret;

	core_entry__init(ce);
	ti->core_filled = true;
	ce->pid = t->pid;
	ce->comm = (char *)ti->stat.comm;
	ce->state = task_state(t);
	if (t->zombie) {
		if (WIFSIGNALED(status)) {
			ce->has_exit_signal = 1;
			ce->exit_signal = WTERMSIG(status);
			ce->has_core_dumped = 1;
			ce->core_dumped = WCOREDUMP(status) ? 1 : 0;
		} else {
			ce->has_exit_code = 1;
			ce->exit_code = WEXITSTATUS(status);
		}
	}
	ce->has_personality = ti->has_personality;
	ce->personality = ti->personality;
	ce->has_start_time = 1;
	ce->start_time = ti->stat.start_time;
	if (!t->zombie && files_dump_shares_parent_table(s->files, t->pid)) {
		ce->has_fdtable_shared_with_parent = 1;
		ce->fdtable_shared_with_parent = 1;
	}
	ret = dump_core_fill(t, ce, &s->ref);
	if (s->cg)
		cgroup_dump_task(s->cg, t->pid, ce);
	return ret;
}

static int write_pstree(struct img_out *out, const struct pstree *tree)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(out, IMG_PSTREE, 0, &w);
	if (ret)
		return ret;
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];
		const struct task_info *ti = t->priv;
		PstreeEntry pe = PSTREE_ENTRY__INIT;

		pe.pid = t->pid;
		pe.ppid = ti->stat.ppid;
		pe.pgid = ti->stat.pgid;
		pe.sid = ti->stat.sid;
		pe.n_threads = t->nr_tids;
		pe.threads = (int32_t *)t->tids;
		pe.has_ns_pid = pe.has_ns_ppid = pe.has_ns_pgid = pe.has_ns_sid = 1;
		pe.ns_pid = last_level(ti->status.ns_pid, ti->status.ns_pid_nr);
		pe.ns_ppid = ns_ppid_of(t);
		pe.ns_pgid = last_level(ti->status.ns_pgid, ti->status.ns_pgid_nr);
		pe.ns_sid = last_level(ti->status.ns_sid, ti->status.ns_sid_nr);
		pe.n_ns_threads = t->nr_tids;
		pe.ns_threads = (int32_t *)ti->ns_tids;
		ret = img_writer_put(&w, &pe.base);
		if (ret) {
			img_writer_abort(&w);
			return ret;
		}
	}
	return img_writer_commit(&w);
}

static int write_inventory(struct img_out *out, const struct pstree *tree)
{
	InventoryEntry ie = INVENTORY_ENTRY__INIT;
	const struct pstree_task *root = tree->tasks[0];
	const struct task_info *ri = root->priv;
	_cleanup_free_ char *boot = NULL;
	struct utsname u;
	int ret;

	if (uname(&u) < 0)
		return -errno;
	ie.img_version = MINICR_IMG_VERSION;
	ie.minicr_version = (char *)MINICR_VERSION;
	ie.kernel_release = u.release;
	ie.arch = u.machine;
	ie.root_pid = root->pid;
	ie.root_is_ns_init = ri->status.ns_pid_nr > 1 &&
			     last_level(ri->status.ns_pid, ri->status.ns_pid_nr) == 1;
	ie.has_nr_tasks = 1;
	ie.nr_tasks = tree->nr_tasks;
	ie.has_dump_time = 1;
	ie.dump_time = time(NULL);
	/* Tells restore whether dev/ino numbers of files are comparable. */
	if (!read_file("/proc/sys/kernel/random/boot_id", 64, &boot, NULL)) {
		boot[strcspn(boot, "\n")] = '\0';
		ie.boot_id = boot;
	}
	/* Everything written before is listed: restore checks the whole set
	 * against it before it uses any of it. */
	ret = img_out_list(out, &ie);
	if (ret)
		return ret;
	ret = img_write_one(out, IMG_INVENTORY, 0, &ie.base);
	img_out_unlist(&ie);
	return ret;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* frozen_time ends here rather than at the release, which comes after
 * inventory.img, which must be the last image written. */
static int write_stats(struct img_out *out, const struct pstree *tree, const struct mem_dump_stats *ms,
		       uint64_t seize_start, uint64_t frozen_at)
{
	DumpStatsEntry se = DUMP_STATS_ENTRY__INIT;

	se.has_freezing_time = se.has_frozen_time = se.has_memdump_time = 1;
	se.has_memwrite_time = se.has_pages_scanned = se.has_pages_written = 1;
	se.has_tasks = se.has_threads = 1;
	se.freezing_time = frozen_at - seize_start;
	se.frozen_time = now_us() - frozen_at;
	se.memdump_time = ms->dump_us;
	se.memwrite_time = ms->write_us;
	se.pages_scanned = ms->pages_scanned;
	se.pages_written = ms->pages_written;
	se.tasks = tree->nr_tasks;
	for (size_t i = 0; i < tree->nr_tasks; i++)
		se.threads += tree->tasks[i]->nr_tids;
	return img_write_one(out, IMG_STATS_DUMP, 0, &se.base);
}

/* Everything the images will hold that is not read while writing them
 * (memory pages are), and every refusal: nothing is written yet. */
static int collect(struct dump_session *s)
{
	struct pstree *tree = &s->tree;
	const struct task_info *ri;
	bool ns_init;
	int ret = 0;

	for (size_t i = 0; i < tree->nr_tasks && !ret; i++) {
		LOG_TASK_SCOPE(tree->tasks[i]->pid);

		ret = collect_task(tree->tasks[i]);
	}
	if (!ret) {
		ret = cgroup_dump_collect(tree, &s->cg, &s->ref);
		/* Refused (logged): the rest is still collected and checked. */
		if (ret == -EOPNOTSUPP) {
			refuse_counted(&s->ref);
			ret = 0;
		}
	}
	if (!ret)
		ret = files_dump_collect(&s->files, tree, &s->ref);
	for (size_t i = 0; i < tree->nr_tasks && !ret; i++) {
		LOG_TASK_SCOPE(tree->tasks[i]->pid);

		ret = collect_core(s, tree->tasks[i]);
		if (!ret && !tree->tasks[i]->zombie)
			ret = mem_dump_check(tree->tasks[i]->pid, &s->ref);
	}
	if (ret)
		return ret;
	ri = tree->tasks[0]->priv;
	ns_init = ri->status.ns_pid_nr > 1 && last_level(ri->status.ns_pid, ri->status.ns_pid_nr) == 1;
	return audit_tree(tree, ns_init, &s->ref);
}

static int write_images(struct dump_session *s)
{
	struct pstree *tree = &s->tree;
	int dirfd = s->dirfd;
	struct mem_dump md;
	int ret;

	ret = s->out.stream_fd >= 0 ? stream_begin(&s->out) : 0;
	if (!ret)
		ret = mem_dump_init(&md, &s->out, &s->prog);
	if (ret)
		return ret;
	ret = s->cg ? cgroup_dump_write(s->cg, &s->out) : 0;
	if (!ret)
		ret = files_dump_write(s->files, &s->out);
	if (ret)
		goto out;
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];
		struct task_info *ti = t->priv;
		LOG_TASK_SCOPE(t->pid);

		ret = img_write_one(&s->out, IMG_CORE, t->pid, &ti->core.base);
		fault_point("after-core");
		if (!ret && !t->zombie)
			ret = mem_dump_task(&md, t->pid, t->tids[0],
					    t->parent && !t->parent->zombie ? t->parent->pid : 0);
		fault_point("after-mem");
		if (ret)
			goto out;
	}
	ret = write_pstree(&s->out, tree);
	if (!ret)
		ret = write_stats(&s->out, tree, &md.stats, s->seize_start, s->frozen_at);
	if (ret)
		goto out;
	/* Everything else is on disk before inventory.img says the set is
	 * complete. */
	if (fsync(dirfd) < 0) {
		ret = -errno;
		goto out;
	}
	fault_point("before-inventory");
	ret = write_inventory(&s->out, tree);
	if (!ret && fsync(dirfd) < 0)
		ret = -errno;
	/* Before the tree is killed: if the reader is gone, the dump fails
	 * and the tree goes on, rather than being lost. */
	if (!ret && s->out.stream_fd >= 0)
		ret = stream_end(&s->out);
out:
	if (ret) {
		mem_dump_remove(&md);
		files_dump_remove(s->files, dirfd);
	}
	mem_dump_fini(&md);
	return ret;
}

/* After a failed dump, remove what it wrote so the directory does not hold
 * a set that looks usable. */
static void remove_images(int dirfd, const struct pstree *tree)
{
	char name[NAME_MAX + 1];

	unlinkat(dirfd, "inventory.img", 0);
	unlinkat(dirfd, "pstree.img", 0);
	unlinkat(dirfd, "stats-dump.img", 0);
	unlinkat(dirfd, "cgroup.img", 0);
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		if (!img_file_name(IMG_CORE, tree->tasks[i]->pid, name, sizeof(name)))
			unlinkat(dirfd, name, 0);
	}
}

int cr_dump(const struct dump_opts *o)
{
	struct dump_session s = { .o = o, .dirfd = -1, .out = { .dirfd = -1, .stream_fd = -1 } };
	int ret;

	files_tty_set_shell_job(o->shell_job);
	ret = seize_check_root(o->pid, !o->leave_running && !o->dry_run);
	if (ret)
		return ret;
	if (!o->dry_run) {
		s.dirfd = o->stream ? img_staging_open() : open_images_dir(o);
		if (s.dirfd < 0)
			return s.dirfd;
		img_out_init(&s.out, s.dirfd);
		if (o->stream && (ret = take_stdout(&s.out.stream_fd))) {
			close(s.dirfd);
			return ret;
		}
	}

	pr_info("freezing the tree of %d", o->pid);
	progress_init(&s.prog, o->progress, PROGRESS_DUMP);
	s.seize_start = now_us();
	ret = pstree_collect(&s.tree, o->pid, &seize_ops, &s.prog);
	s.frozen_at = now_us();
	if (ret) {
		pr_err("cannot freeze the tree of %d: %s", o->pid, errstr(ret));
		goto fail;
	}
	pr_info("frozen %zu tasks", s.tree.nr_tasks);
	fault_point("after-freeze");

	ret = collect(&s);
	if (!ret && s.ref.nr) {
		pr_err("dump of %d refused: %zu thing%s above would not be restored exactly; "
		       "nothing written, the tree goes on running", o->pid, s.ref.nr,
		       s.ref.nr == 1 ? "" : "s");
		ret = -EOPNOTSUPP;
		goto fail;
	}
	if (!ret && o->dry_run) {
		printf("dry run: %zu tasks of the tree of %d would be dumped; nothing refused\n",
		       s.tree.nr_tasks, o->pid);
		goto fail;   /* not a failure: the tree goes on untouched all the same */
	}
	if (!ret)
		ret = write_images(&s);
	progress_finish(&s.prog);
	if (ret) {
		pr_err("dump of %d failed: %s; the tree goes on running", o->pid, errstr(ret));
		remove_images(s.dirfd, &s.tree);
		goto fail;
	}
	seize_release(&s.tree, o->leave_running ? SEIZE_RESUME : SEIZE_KILL);
	pr_info("dumped %zu tasks into %s%s", s.tree.nr_tasks, o->stream ? "the stream" : o->dir,
		o->leave_running ? "; the tree goes on running" : "; the tree was killed");
	goto out;
fail:
	progress_finish(&s.prog);
	seize_release(&s.tree, SEIZE_RESUME);
out:
	free_task_info(&s.tree);
	pstree_free(&s.tree);
	files_dump_free(s.files);
	cgroup_dump_free(s.cg);
	if (s.out.stream_fd >= 0)
		close(s.out.stream_fd);
	img_out_fini(&s.out);
	if (s.dirfd >= 0)
		close(s.dirfd);
	return ret;
}
