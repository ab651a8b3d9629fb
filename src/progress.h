/* One updating progress line on stderr for long dumps and restores:
 *
 *   dump: 12 tasks frozen, 340.5 MiB written, 812.3 MiB/s
 *   restore: 7/12 tasks, 120.0 MiB restored
 *
 * redrawn ("\r", and on a terminal erase to end of line) at most every PROGRESS_PERIOD_US as
 * the counters grow, and ended with a newline by progress_finish(). The
 * struct is made by cr_dump()/cr_restore() and passed down to where tasks
 * are frozen or restored and pages written; with it off (or a NULL
 * pointer) every call is a no-op, so stderr stays as without it. */
#ifndef MINICR_PROGRESS_H
#define MINICR_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_PERIOD_US (100 * 1000)

enum progress_kind {
	PROGRESS_DUMP,
	PROGRESS_RESTORE,
};

struct progress {
	bool on;
	bool tty;                   /* stderr is a terminal */
	enum progress_kind kind;
	size_t tasks;               /* frozen (dump) or restored (restore) */
	size_t total;               /* tasks to restore */
	uint64_t bytes;             /* of pages written (dump) or restored */
	uint64_t start_us, last_us; /* last_us: last redraw, 0 for none yet */
	uint64_t bytes_start_us;    /* first page written: the rate counts from there */
};

void progress_init(struct progress *p, bool on, enum progress_kind kind);
void progress_set_total(struct progress *p, size_t total);
void progress_task(struct progress *p);
void progress_bytes(struct progress *p, uint64_t n);
/* Draw the final numbers and end the line. */
void progress_finish(struct progress *p);

/* Pure: the line's text for p at now_us, without "\r" or newline. */
size_t progress_format(char *buf, size_t len, const struct progress *p, uint64_t now_us);
/* Pure: whether a redraw is due at now_us. */
bool progress_due(const struct progress *p, uint64_t now_us);

#endif
