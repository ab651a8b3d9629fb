/* Dump: freeze the tree rooted at opts->pid, record it into opts->dir, then
 * kill it (or with leave_running, let it go on untouched). On any failure the
 * tree is released exactly as it was and nothing under dir looks complete
 * (inventory.img is written last). Everything is collected and checked
 * before the first image is written; state minicr would not restore exactly
 * is refused (src/refuse.h), all of it listed, and then nothing is written.
 * With dry_run the dump stops after that check and lets the tree go on.
 * Returns 0 or -errno (-EOPNOTSUPP: refused); errors are logged. */
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
	bool dry_run;       /* freeze, collect, report every refusal, write nothing */
	bool progress;      /* a progress line on stderr (progress.h) */
	bool stream;        /* the set goes to stdout as one stream (src/stream.h), not dir */
};

int cr_dump(const struct dump_opts *opts);

#endif
