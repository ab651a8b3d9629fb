/* minicr restore: recreate the process tree recorded in an images
 * directory and let it run.
 *
 * The images are checked first (complete set, version, same arch and
 * kernel, every core image readable, every PID free, or a new PID namespace
 * with --pidns=auto); nothing is created if
 * that fails. The tree is then built top-down by minicr's own code running
 * in each new task, along a plan from rst_plan.c; every task is seized and
 * its state restored by the state restorers (src/rst_state.h); then all are
 * detached. Any failure kills and reaps every task created so far. A tree
 * restored into a new PID namespace also gets a new mount namespace with
 * that namespace's /proc mounted (mounts from minicr's still propagate in).
 *
 * cr_restore() returns 0 once the tree runs, or -errno (logged). Without
 * detach it then waits for the root and sets *status to what a shell would
 * report (exit code, or 128+signal). */
#ifndef MINICR_RESTORE_H
#define MINICR_RESTORE_H

#include <stdbool.h>

#include "rst_fork.h"

struct restore_opts {
	const char *dir;
	bool detach;              /* return once the tree runs; print the root PID */
	const char *pidfile;      /* write the root PID there */
	bool pidns;               /* into a new PID namespace (also if the root was an init) */
	bool pidns_auto;          /* into a new PID namespace only if a PID is taken here */
	enum rst_pid_method method;
	const char *const *inherit_fds;   /* --inherit-fd "fd[N]:KEY" (files.h) */
	size_t nr_inherit_fds;
	bool shell_job;           /* terminal fds onto minicr's stdin terminal (files_tty.h) */
	const char *cgroup_root;  /* the tree's cgroups go below this one (cgroup.h) */
	bool progress;            /* a progress line on stderr (progress.h) */
	bool stream;              /* the images come on stdin (src/stream.h); dir names it */
};

int cr_restore(const struct restore_opts *opts, int *status);

#endif
