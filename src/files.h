/* Open files of a process tree: one FileEntry per open file description in
 * files.img, one FdEntry per fd in fds-<pid>.img (proto/files.proto).
 *
 * Dump (the tree is frozen):
 *   files_dump_collect()  reads every fd of every live task, gives each a
 *       kind from the kind table (files.c: first ops whose match() takes
 *       it), groups fds sharing one open file description (kcmp KCMP_FILE,
 *       called only among fds with equal dev, ino, pos and status flags),
 *       and calls the kind's dump() ONCE per open file description. It
 *       writes nothing: an fd no kind takes, or one a dump() refuses, is
 *       counted in the dump's refusals (src/refuse.h: logged, naming task,
 *       fd and kind) and collecting goes on; cr_dump() then writes nothing.
 *   files_dump_write()    files.img, every fds-<pid>.img, and the kinds'
 *       extra images (dump_data()).
 * Restore:
 *   files_rst_init()      in minicr before the tree is built: opens a pidfd
 *       of minicr itself, which every created task inherits (a task in a new
 *       PID namespace cannot name minicr by PID); reads files.img; resolves
 *       --inherit-fd; refuses an FD_EXTERNAL file nobody hands in, but an
 *       external pipe end (files_pipe_ext_ops).
 *   files_rst_task()      in a task, by remote calls in its leader: closes
 *       what it inherited from minicr, then for every FdEntry gets the file
 *       opened IN MINICR (the kind's open(), once per file, kept in the
 *       registry until files_rst_fini(); position and status flags set
 *       there, as they are shared) and pulls it in with
 *       pidfd_getfd(minicr, ctl_fd) + dup3(got, fd): the same open file
 *       description, so fds sharing one at dump share one again. Then the
 *       post_install() hooks and the task's POSIX locks. Once per fd table:
 *       rst_core.c skips a task that shares its parent's (CoreEntry
 *       fdtable_shared_with_parent; restore.c forked it with CLONE_FILES).
 *   files_rst_fini()      closes the registry.
 * Hooks return 0 or -errno and log their failures (pr_err naming the
 * PID/fd/file and errstr()). */
#ifndef MINICR_FILES_H
#define MINICR_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "files.pb-c.h"

struct pstree;
struct refusals;
struct rst_call;
struct files_dump;
struct files_rst;
struct img_out;

/* One fd of a frozen task, as the dump hooks see it. */
struct fd_dump_info {
	pid_t pid;
	int fd;
	const char *link;       /* /proc/PID/fd/N link text */
	struct stat st;         /* stat() of /proc/PID/fd/N (the open file) */
	const char *fdinfo;     /* /proc/PID/fdinfo/N text */
	uint64_t pos;           /* fdinfo pos: */
	uint32_t flags;         /* fdinfo flags:, O_CLOEXEC included */
	uint32_t file_id;       /* its FileEntry, once grouped */
	const struct file_ops *ops;
};

struct file_ops {
	FdKind kind;
	const char *name;       /* "regular file", "pipe": for messages */
	/* Does this kind take the fd? Only link, st and fdinfo are set. */
	bool (*match)(const struct fd_dump_info *fi);
	/* Once per open file description, fi being its first fd: fill fe's
	 * kind part (id, kind, flags without O_CLOEXEC, pos, path, dev, ino,
	 * size, mode, rdev are filled already; fe->path and every sub-message
	 * must be malloc'd: fe is freed with protobuf_c_message_free_unpacked).
	 * -EOPNOTSUPP (logged) refuses the file: collecting goes on so that
	 * the dump reports every refusal, then fails. Any other -errno (logged)
	 * ends the dump at once. May mark fe external with
	 * files_mark_external(). */
	int (*dump)(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe);
	/* Optional, in the write phase: extra images for fe (pipe data, ...). */
	int (*dump_data)(struct files_dump *d, struct img_out *out, const FileEntry *fe);
	/* Open fe in minicr: the fd (>= 0) or -errno (logged). */
	int (*open)(struct files_rst *r, const FileEntry *fe);
	/* Optional: once per open file description, in the first task that
	 * installs it, after all that task's fds are installed. task_fd is
	 * its number there, ctl_fd minicr's. */
	int (*post_install)(struct files_rst *r, struct rst_call *c, const FileEntry *fe,
			    int task_fd, int ctl_fd);
};

/* The kinds (files_reg.c, files_pipe.c, ...). */
extern const struct file_ops files_reg_ops, files_dir_ops, files_chr_ops;
extern const struct file_ops files_ghost_ops, files_memfd_ops;
extern const struct file_ops files_pipe_ops, files_fifo_ops, files_unix_ops;
extern const struct file_ops files_netlink_ops;
/* Restore only: an external pipe end no --inherit-fd hands in, opened as a
 * new pipe of its capacity and queued bytes, whose other end is closed. */
extern const struct file_ops files_pipe_ext_ops;

/* Most DATA (holes not counted) of a deleted file or memfd a dump saves,
 * and most data extents (files.img entries are at most 16 MiB). */
#define FILES_GHOST_MAX (64ULL << 20)
#define FILES_GHOST_EXTENTS_MAX 65536

/* ---- dump ---- */

int files_dump_collect(struct files_dump **d, const struct pstree *tree, struct refusals *r);
int files_dump_write(struct files_dump *d, struct img_out *out);
/* After a failed dump: unlink what files_dump_write() may have written. */
void files_dump_remove(struct files_dump *d, int dirfd);
void files_dump_free(struct files_dump *d);

/* For dump hooks: every fd collected (all tasks, in tree order, fds
 * ascending), e.g. to find the other end of a pipe inside the tree. */
size_t files_dump_nr_fds(const struct files_dump *d);
const struct fd_dump_info *files_dump_fd(const struct files_dump *d, size_t i);
/* Is pid one of the dumped tasks? */
bool files_dump_has_task(const struct files_dump *d, pid_t pid);
/* The whole dumped tree, zombies and threads included. */
const struct pstree *files_dump_tree(const struct files_dump *d);
/* Does live task pid share its parent's fd table (clone(CLONE_FILES))?
 * files_dump_collect() refuses every other sharing of a table. Such a
 * task's POSIX locks are the table's, recorded for its first task. */
bool files_dump_shares_parent_table(const struct files_dump *d, pid_t pid);
/* The first fd (in files_dump_fd order) of file id, NULL if none. */
const struct fd_dump_info *files_dump_first(const struct files_dump *d, uint32_t id);
/* An fd in minicr for fi's open file description (pidfd_getfd; the same
 * struct file: never read()/lseek() it, use pread). Kept until
 * files_dump_free(); do not close it. -errno logged. */
int files_dump_local_fd(struct files_dump *d, const struct fd_dump_info *fi);
/* For match() hooks, which have no files_dump: SO_DOMAIN of a socket fd
 * (AF_INET, AF_NETLINK, ...), read on a pidfd_getfd() copy; -1 if fi is
 * not a socket or cannot be read. */
int files_sock_domain(const struct fd_dump_info *fi);
/* Make fe external: restored from `--inherit-fd fd[N]:key`. why
 * completes "task P: fd N (key) is external: <why>" in the dump's
 * message. without: what restore does with no --inherit-fd for it ("gives
 * it a new pipe whose other end is closed"), NULL if it refuses. key is
 * copied. */
int files_mark_external(const struct fd_dump_info *fi, FileEntry *fe, const char *key,
			const char *why, const char *without);

/* ---- restore ---- */

/* specs: the --inherit-fd arguments, "fd[N]:KEY". */
int files_rst_init(int dirfd, const char *const *specs, size_t nr_specs);
int files_rst_task(struct rst_call *c, pid_t img_pid);
void files_rst_fini(void);

/* restore.c, once the tree is seized: its tasks (src/rst_state.h), kept
 * until files_rst_fini(), so open hooks can find a task by its PID at dump
 * and recorded F_SETOWN_EX owners map to the PIDs minicr sees. */
struct rst_task;
void files_rst_set_tasks(const struct rst_task *tasks, size_t nr);

/* For open hooks. */
int files_rst_dirfd(const struct files_rst *r);
/* The PID (thread: TID) as minicr sees it now of the task (zombies
 * included) or live thread whose PID (TID) was img at dump; 0 if none. */
pid_t files_rst_pid_now(const struct files_rst *r, pid_t img, bool thread);
/* mkdir (mode 0700) of a removed directory again: at path, or if that is
 * taken at "PATH.minicr-ghost-dir.MINICR-PID.TAG.N"; out gets the one made.
 * 0 or -errno (not logged). */
int files_remake_dir(const char *path, unsigned tag, char *out, size_t len);
/* The restored root as minicr sees it (0 before files_rst_set_tasks()). */
pid_t files_rst_root_pid(const struct files_rst *r);
/* Do the images come from this boot (inventory boot_id)? */
bool files_rst_same_host(const struct files_rst *r);
const FileEntry *files_rst_entry(const struct files_rst *r, uint32_t id);
/* Hand the registry an fd of minicr for file id (the other end of a pipe
 * made by the same pipe() call): it is used instead of calling id's
 * open(); position, status flags and locks are then set on it as on any
 * opened file. Takes ownership of fd, also on failure. */
int files_rst_stash(struct files_rst *r, uint32_t id, int fd);
/* minicr's fd for file id, opening it now if need be (a file reopened from
 * another one). Owned by the registry. -errno logged. */
int files_rst_open_id(struct files_rst *r, uint32_t id);

/* ---- pure (tests/unit/test_files.c) ---- */

/* The lines of /proc/PID/fdinfo/N every kind needs. */
struct fdinfo {
	uint64_t pos;
	uint32_t flags;     /* O_* as the kernel reports them, O_CLOEXEC included */
};

/* -EINVAL unless both pos: and flags: are present and well formed. */
int fdinfo_parse(const char *buf, struct fdinfo *fi);

/* "a pipe", "a socket", "an anon_inode file (anon_inode:[eventfd])"...:
 * what an fd no kind takes is, for the refusal message. */
const char *files_what(mode_t mode, nlink_t nlink, const char *link);

/* Grouping fds into open file descriptions. Candidates are items with
 * equal keys; same(ctx, i, j) says whether items i and j share one (0 yes,
 * 1 no, -errno: failure, returned). group[i] gets 0.. numbered in order
 * of first appearance; *nr_groups their number. */
struct files_group_key {
	uint64_t dev, ino, pos;
	uint32_t flags;     /* without O_CLOEXEC (per fd, not per file) */
};
int files_group(const struct files_group_key *keys, size_t n,
		int (*same)(void *ctx, size_t i, size_t j), void *ctx,
		uint32_t *group, size_t *nr_groups);

/* One "lock:" line of /proc/PID/fdinfo/N (the text after "lock:"), as
 * lock_get_status() prints it: "1: POSIX  ADVISORY  WRITE 42 00:2f:77 10 19".
 * kind is 0 for what minicr does not restore (leases, delegations, ...),
 * with name naming it. -EINVAL if malformed. */
struct files_lock {
	int kind;               /* FILE_LOCK_KIND__LOCK_FLOCK/POSIX/OFD, or 0 */
	char name[16];          /* "FLOCK", "LEASE", ... */
	bool waiter;            /* "->": blocked, waiting for the lock */
	bool write;
	int pid;
	uint64_t start, len;    /* len 0: to the end of the file */
};
int files_lock_parse(const char *line, struct files_lock *l);

/* "fd[N]:KEY" of --inherit-fd. -EINVAL if malformed. *key points into spec. */
int files_inherit_parse(const char *spec, int *fd, const char **key);

/* Regular files, directories, character devices (files_reg.c): is st
 * (stat of the recorded path, or of the opened file) the file fe
 * describes? same_host: dev/ino are compared only if the images come from
 * this boot. A file opened O_APPEND may have grown (a log file others
 * keep appending to); any other size change is refused. 0, or -ESTALE /
 * -EINVAL with why filled. */
int files_reg_check(const FileEntry *fe, const struct stat *st, bool same_host,
		    char *why, size_t len);
/* Flags to reopen fe with: recorded ones without creation bits, O_CLOEXEC
 * and a linked O_TMPFILE, plus O_NOCTTY, minus O_ASYNC (open() ignores it;
 * F_SETFL sets it, with the owner). */
int files_reg_open_flags(const FileEntry *fe, int *flags, char *why, size_t len);

/* Data extents of a deleted file or memfd of size bytes: ascending, not
 * empty, not overlapping, inside the size. *data gets their total length.
 * -EINVAL with why filled otherwise. */
int files_extents_check(FileExtent *const *e, size_t n, uint64_t size, uint64_t *data,
			char *why, size_t len);

#endif
