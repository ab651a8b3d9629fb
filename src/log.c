#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_prog = "minicr";
static int log_level;

void log_init(const char *progname, int verbosity)
{
	log_prog = progname;
	log_level = verbosity;
}

int log_verbosity(void)
{
	return log_level;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	errno = saved;
}
