/* The status protocol of the self-checking workloads minicr-test-fattrs
 * and minicr-test-flocks (tests/cr/lib/fattrs.sh reads it): DIR/status
 * holds one line, "ok N" or "FAIL what", replaced atomically (rename) so a
 * reader never sees half of it. Header-only: each workload is one file. */
#ifndef MINICR_TEST_SELFCHECK_H
#define MINICR_TEST_SELFCHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static char status_path[4096];   /* DIR/status, set by main() */
static char why[400];            /* what the last failed check found */

static void __attribute__((format(printf, 1, 2))) put_status(const char *fmt, ...)
{
	char buf[512], tmp[4200];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(tmp, sizeof(tmp), "%s.tmp", status_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", buf);
	fclose(f);
	rename(tmp, status_path);
}

/* Fill why; false, for "return bad(...)" in a check. */
static bool __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

#endif
