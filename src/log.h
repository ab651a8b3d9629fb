/* Logging. pr_err() is for failures and always shown; pr_warn() too;
 * pr_info()/pr_debug() are shown at verbosity 1 and 2 (-v, -vv). Functions
 * report errors as -errno and log once, where the context (PID, file,
 * offset) is known.
 *
 * Without a log file every message goes to stderr prefixed with the program
 * name. With one (log_open_file(), `-o FILE`) every message goes there as
 * "(SS.UUUUUU) PID: text": seconds since log_init() and the task being
 * handled (log_set_task()), if any; errors and warnings also go to stderr,
 * so a failure is seen without opening the file. The file is O_APPEND and
 * each line is one write(), so the tasks restore forks (which inherit the
 * logger) add whole lines to it, in the order they log them.
 *
 * The logger is process-wide by nature: its state is one struct in log.c. */
#ifndef MINICR_LOG_H
#define MINICR_LOG_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

void log_init(const char *progname, int verbosity);
/* Send every message to path (created 0600, truncated). -errno, logged. */
int log_open_file(const char *path);
int log_verbosity(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The task the following messages are about (its recorded PID); 0 for
 * none. Returns the previous one, for LOG_TASK_SCOPE. */
pid_t log_set_task(pid_t pid);

static inline void log_task_restore_(pid_t *prev)
{
	log_set_task(*prev);
}

/* Messages until the end of the enclosing block are about task pid. */
#define LOG_TASK_SCOPE(pid) \
	pid_t log_prev_task_ __attribute__((cleanup(log_task_restore_), unused)) = \
		log_set_task(pid)

/* A progress line (src/progress.h) is on stderr, not ended: the next
 * message to stderr starts on a line of its own. */
void log_progress_line(bool shown);

/* Pure: one file line, "(SS.UUUUUU) PID: text\n" (no PID part if task is
 * 0), truncated to fit len (then still ending in "\n"). Returns its
 * length. */
size_t log_format_line(char *buf, size_t len, uint64_t elapsed_us, pid_t task,
		       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#define LOG_ERR   -1
#define LOG_WARN  0
#define LOG_INFO  1
#define LOG_DEBUG 2

#define pr_err(fmt, ...)   log_msg(LOG_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_msg(LOG_WARN, "warning: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_msg(LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_msg(LOG_DEBUG, fmt, ##__VA_ARGS__)

/* Text for a negative errno return value. */
static inline const char *errstr(int neg_errno) { return strerror(-neg_errno); }

#endif
