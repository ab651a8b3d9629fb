#include "kcmp.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

struct kcmp_ctx {
	int type;
	int err;
};

/* -1, 0, 1 as for qsort; a failure is kept in c->err. */
static int kcmp_order(struct kcmp_ctx *c, pid_t a, pid_t b)
{
	long r;

	if (a == b)
		return 0;
	r = syscall(SYS_kcmp, a, b, c->type, 0, 0);
	if (r < 0) {
		if (!c->err) {
			c->err = -errno;
			pr_err("kcmp(type %d) of tasks %d and %d: %s", c->type, a, b,
			       errstr(c->err));
		}
		return 0;
	}
	/* 0 equal, 1 less, 2 greater */
	return r == 0 ? 0 : r == 1 ? -1 : 1;
}

static int cmp_pid_object(const void *a, const void *b, void *ctx)
{
	return kcmp_order(ctx, *(const pid_t *)a, *(const pid_t *)b);
}

int kcmp_sort(pid_t *pids, size_t n, int type)
{
	struct kcmp_ctx c = { type, 0 };

	qsort_r(pids, n, sizeof(*pids), cmp_pid_object, &c);
	return c.err;
}

int kcmp_same(pid_t a, pid_t b, int type)
{
	struct kcmp_ctx c = { type, 0 };
	int r = kcmp_order(&c, a, b);

	return c.err ? c.err : r == 0;
}
