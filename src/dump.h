/* Dump: freeze the tree rooted at opts->pid, record it into opts->dir, then
 * kill it (or with leave_running, let it go on untouched). On any failure the
 * tree is released exactly as it was and nothing under dir looks complete
 * (inventory.img is written last). Returns 0 or -errno; errors are logged. */
#ifndef MINICR_DUMP_H
#define MINICR_DUMP_H

#include <stdbool.h>
#include <sys/types.h>

struct dump_opts {
	pid_t pid;
	const char *dir;
	bool leave_running;
	bool force;         /* allow a non-empty dir */
	bool shell_job;     /* record fds on the controlling terminal (files_tty.h) */
};

int cr_dump(const struct dump_opts *opts);

#endif
