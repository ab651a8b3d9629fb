#include "fault.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static bool parsed;
static char want[64];
static long want_nr = 1;
static long seen;

/* MINICR_FAULT is read once; "" or unset disables every fault point. */
static void parse(void)
{
	const char *s = getenv("MINICR_FAULT");
	const char *colon;
	char *end;
	size_t len;

	parsed = true;
	if (!s || !*s)
		return;
	colon = strchr(s, ':');
	len = colon ? (size_t)(colon - s) : strlen(s);
	if (colon) {
		want_nr = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || want_nr < 1) {
			pr_warn("MINICR_FAULT=%s: the count after ':' must be a number >= 1; ignored", s);
			return;
		}
	}
	if (!len || len >= sizeof(want)) {
		pr_warn("MINICR_FAULT=%s: no stage name; ignored", s);
		return;
	}
	memcpy(want, s, len);
	want[len] = '\0';
}

void fault_point(const char *stage)
{
	char msg[160];
	int n;

	if (!parsed)
		parse();
	if (!want[0] || strcmp(stage, want) || ++seen != want_nr)
		return;
	/* write(2), not stdio: nothing may be left buffered, and the message
	 * must be out before the signal. */
	n = snprintf(msg, sizeof(msg), "minicr: MINICR_FAULT: killed at %s (%ld)\n", stage, seen);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
	kill(getpid(), SIGKILL);
	_exit(137);   /* not reached: SIGKILL cannot be blocked */
}
