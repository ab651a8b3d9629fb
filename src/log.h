/* Logging: every message goes to stderr prefixed with the program name.
 * pr_err() is for failures and always shown; pr_info()/pr_debug() are shown
 * at verbosity 1 and 2 (-v, -vv). Functions report errors as -errno and log
 * once, where the context (PID, file, offset) is known. */
#ifndef MINICR_LOG_H
#define MINICR_LOG_H

#include <errno.h>
#include <string.h>

void log_init(const char *progname, int verbosity);
int log_verbosity(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
