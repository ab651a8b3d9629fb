#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

void progress_init(struct progress *p, bool on, enum progress_kind kind)
{
	*p = (struct progress){ .on = on, .kind = kind, .start_us = mono_us(),
				.tty = isatty(STDERR_FILENO) };
}

void progress_set_total(struct progress *p, size_t total)
{
	if (p)
		p->total = total;
}

static double mib(uint64_t bytes)
{
	return bytes / (1024.0 * 1024.0);
}

size_t progress_format(char *buf, size_t len, const struct progress *p, uint64_t now_us)
{
	uint64_t span = p->bytes_start_us && now_us > p->bytes_start_us ?
			now_us - p->bytes_start_us : 0;
	int n;

	if (p->kind == PROGRESS_DUMP)
		n = snprintf(buf, len, "dump: %zu task%s frozen, %.1f MiB written, %.1f MiB/s",
			     p->tasks, p->tasks == 1 ? "" : "s", mib(p->bytes),
			     span ? mib(p->bytes) * 1e6 / span : 0.0);
	else
		n = snprintf(buf, len, "restore: %zu/%zu tasks, %.1f MiB restored", p->tasks,
			     p->total, mib(p->bytes));
	if (n < 0 || !len)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

bool progress_due(const struct progress *p, uint64_t now_us)
{
	return !p->last_us || now_us - p->last_us >= PROGRESS_PERIOD_US;
}

/* A redrawn line can be shorter than the one before (a rate drops a
 * digit): on a terminal its tail is erased; in a file each line stays,
 * after a "\r". */
static void draw(struct progress *p, uint64_t now, const char *end)
{
	char buf[256];
	size_t n;
	int saved = errno;

	buf[0] = '\r';
	n = 1 + progress_format(buf + 1, sizeof(buf) - 1, p, now);
	n += snprintf(buf + n, sizeof(buf) - n, "%s%s", p->tty ? "\033[K" : "", end);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* Nothing to do about a failed write of a progress line. */
	if (write(STDERR_FILENO, buf, n) < 0)
		errno = saved;
	p->last_us = now;
	log_progress_line(!*end);
	errno = saved;
}

static void tick(struct progress *p)
{
	uint64_t now = mono_us();

	if (progress_due(p, now))
		draw(p, now, "");
}

void progress_task(struct progress *p)
{
	if (!p || !p->on)
		return;
	p->tasks++;
	tick(p);
}

void progress_bytes(struct progress *p, uint64_t n)
{
	if (!p || !p->on)
		return;
	if (!p->bytes_start_us)
		p->bytes_start_us = mono_us();
	p->bytes += n;
	tick(p);
}

void progress_finish(struct progress *p)
{
	if (!p || !p->on)
		return;
	draw(p, mono_us(), "\n");
	p->on = false;
}
