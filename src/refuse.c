#include "refuse.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void refuse(struct refusals *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_err("refused: %s", line);
	r->nr++;
}
