#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Longer messages are cut; a line must stay one write(). */
#define LOG_LINE_MAX 4096

static struct logger {
	const char *prog;
	int level;
	int fd;                 /* the log file, -1 for none */
	uint64_t start_us;
	pid_t task;
	bool progress_shown;
} logger = { .prog = "minicr", .fd = -1 };

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

void log_init(const char *progname, int verbosity)
{
	logger.prog = progname;
	logger.level = verbosity;
	if (!logger.start_us)
		logger.start_us = mono_us();
}

int log_open_file(const char *path)
{
	int fd, ret;

	/* Restored tasks inherit it and close it with every other fd of
	 * minicr's (files.c), before their own are installed. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot open log file %s: %s", path, errstr(ret));
		return ret;
	}
	if (logger.fd >= 0)
		close(logger.fd);
	logger.fd = fd;
	return 0;
}

int log_verbosity(void)
{
	return logger.level;
}

pid_t log_set_task(pid_t pid)
{
	pid_t prev = logger.task;

	logger.task = pid;
	return prev;
}

void log_progress_line(bool shown)
{
	logger.progress_shown = shown;
}

static size_t clamp(int n, size_t len)
{
	if (n < 0)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t log_format_line(char *buf, size_t len, uint64_t elapsed_us, pid_t task,
		       const char *fmt, va_list ap)
{
	size_t n;

	if (len < 2)
		return 0;
	n = clamp(snprintf(buf, len, "(%02llu.%06llu) ",
			   (unsigned long long)(elapsed_us / 1000000),
			   (unsigned long long)(elapsed_us % 1000000)), len);
	if (task)
		n += clamp(snprintf(buf + n, len - n, "%d: ", task), len - n);
	n += clamp(vsnprintf(buf + n, len - n, fmt, ap), len - n);
	if (n == len - 1)
		n--;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* Short writes to a file or terminal only come with errors, which a
 * logger has nowhere to report. */
static void put(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= w;
	}
}

__attribute__((format(printf, 1, 0))) static void to_stderr(const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t n = 0;

	if (logger.progress_shown) {
		buf[n++] = '\n';
		logger.progress_shown = false;
	}
	n += clamp(snprintf(buf + n, sizeof(buf) - n, "%s: ", logger.prog), sizeof(buf) - n);
	n += clamp(vsnprintf(buf + n, sizeof(buf) - n, fmt, ap), sizeof(buf) - n);
	if (n == sizeof(buf) - 1)
		n--;
	buf[n++] = '\n';
	put(STDERR_FILENO, buf, n);
}

void log_msg(int level, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	size_t n;

	if (level > logger.level)
		return;
	if (logger.fd >= 0) {
		va_start(ap, fmt);
		n = log_format_line(buf, sizeof(buf), mono_us() - logger.start_us, logger.task,
				    fmt, ap);
		va_end(ap);
		put(logger.fd, buf, n);
	}
	if (logger.fd < 0 || level <= LOG_WARN) {
		va_start(ap, fmt);
		to_stderr(fmt, ap);
		va_end(ap);
	}
	errno = saved;
}
