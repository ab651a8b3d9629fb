/* Refusals: what a dump finds that minicr would not restore exactly.
 *
 * The first rule of checkpoint/restore is "restore exactly, or refuse at
 * dump". Every collector that meets such state (a seccomp listener, a task
 * in another network namespace, an fd no kind takes...) calls refuse() with
 * one line naming the task, thread or fd and the state, and goes on
 * collecting, so that one dump reports all of them. cr_dump() writes no
 * image while the count is not zero; `minicr dump --dry-run` stops there.
 *
 * refuse() is the one place such a line is logged. A collector whose own
 * hook already logged its refusal (a file kind's dump() returning
 * -EOPNOTSUPP) counts it with refuse_counted(). */
#ifndef MINICR_REFUSE_H
#define MINICR_REFUSE_H

#include <stddef.h>

struct refusals {
	size_t nr;
};

void refuse(struct refusals *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void refuse_counted(struct refusals *r)
{
	r->nr++;
}

#endif
