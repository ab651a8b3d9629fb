/* The pure parts of src/timers.h: /proc/PID/timers in the kernel's format
 * (and broken), clock id classification, the timer ID of a siginfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timers.h"

/* As Linux 6.18 prints them: newest first, IDs with a gap. */
static const char TIMERS[] =
	"ID: 3\n"
	"signal: 10/000000001234abcd\n"
	"notify: signal/pid.11585\n"
	"ClockID: -92686\n"
	"ID: 2\n"
	"signal: 10/00007f0000001000\n"
	"notify: signal/tid.11590\n"
	"ClockID: -2\n"
	"ID: 1\n"
	"signal: 35/0000000000000000\n"
	"notify: none/pid.11585\n"
	"ClockID: 7\n"
	"ID: 0\n"
	"signal: 14/0000000000000000\n"
	"notify: signal/pid.11585\n"
	"ClockID: 1\n";

static void test_parse(void **state)
{
	struct proc_timer *t;
	size_t n;

	(void)state;
	assert_int_equal(proc_timers_parse(TIMERS, &t, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(t[0].id, 3);
	assert_int_equal(t[0].signo, 10);
	assert_true(t[0].sival == 0x1234abcd);
	assert_int_equal(t[0].notify, SIGEV_SIGNAL);
	assert_int_equal(t[0].notify_pid, 11585);
	assert_int_equal(t[0].clock, -92686);
	assert_int_equal(t[1].notify, SIGEV_SIGNAL | SIGEV_THREAD_ID);
	assert_int_equal(t[1].notify_pid, 11590);
	assert_true(t[1].sival == 0x7f0000001000ULL);
	assert_int_equal(t[2].notify, SIGEV_NONE);
	assert_int_equal(t[2].clock, CLOCK_BOOTTIME);
	assert_int_equal(t[3].id, 0);
	assert_int_equal(t[3].clock, CLOCK_MONOTONIC);
	free(t);

	/* no timers */
	t = (void *)1;
	assert_int_equal(proc_timers_parse("", &t, &n), 0);
	assert_int_equal(n, 0);
	assert_null(t);
}

static void test_parse_broken(void **state)
{
	static const char *bad[] = {
		"signal: 14/0\nID: 0\n",                                        /* before ID: */
		"ID: 0\nsignal: 14/0\nnotify: signal/pid.1\n",                  /* no ClockID: */
		("ID: 0\nsignal: 14/0\nClockID: 1\nID: 1\nsignal: 14/0\n"
		 "notify: signal/pid.1\nClockID: 1\n"),                          /* first lacks notify */
		"ID: x\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: -1\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 0\nsignal: 14/zz\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 0\nsignal: 14/0\nnotify: bell/pid.1\nClockID: 1\n",
		"ID: 0\nsignal: 14/0\nnotify: signal/grp.1\nClockID: 1\n",
		"ID: 0\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1x\n",
		"ID: 0\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1",      /* cut */
	};
	struct proc_timer *t;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = NULL;
		assert_int_equal(proc_timers_parse(bad[i], &t, &n), -EINVAL);
		assert_null(t);
	}
}

static void test_clock_kind(void **state)
{
	bool thr;
	pid_t pid;

	(void)state;
	assert_int_equal(timer_clock_kind(CLOCK_REALTIME, &pid, &thr), TCLK_HRTIMER);
	assert_int_equal(timer_clock_kind(CLOCK_MONOTONIC, &pid, &thr), TCLK_HRTIMER);
	assert_int_equal(timer_clock_kind(CLOCK_BOOTTIME, &pid, &thr), TCLK_HRTIMER);
	assert_int_equal(timer_clock_kind(CLOCK_TAI, &pid, &thr), TCLK_HRTIMER);
	assert_int_equal(timer_clock_kind(CLOCK_MONOTONIC_RAW, &pid, &thr), TCLK_UNSUPPORTED);
	assert_int_equal(timer_clock_kind(CLOCK_PROCESS_CPUTIME_ID, &pid, &thr), TCLK_CPU_PROCESS);
	assert_int_equal(timer_clock_kind(CLOCK_THREAD_CPUTIME_ID, &pid, &thr), TCLK_CPU_THREAD);
	assert_true(thr);
	/* glibc's encodings of the caller's own clocks */
	assert_int_equal(timer_clock_kind(-2, &pid, &thr), TCLK_CPU_THREAD);
	assert_int_equal(timer_clock_kind(-6, &pid, &thr), TCLK_CPU_PROCESS);
	assert_false(thr);
	/* clock_getcpuclockid(11585) and pthread_getcpuclockid of TID 11590 */
	assert_int_equal(timer_clock_kind(-92686, &pid, &thr), TCLK_CPU_PID);
	assert_int_equal(pid, 11585);
	assert_false(thr);
	assert_int_equal(timer_clock_kind(~11590 * 8 + 4 + 2, &pid, &thr), TCLK_CPU_PID);
	assert_int_equal(pid, 11590);
	assert_true(thr);
	/* a dynamic (fd) clock */
	assert_int_equal(timer_clock_kind(~3 * 8 + 3, &pid, &thr), TCLK_UNSUPPORTED);
}

static void test_siginfo_id(void **state)
{
	uint8_t si[128] = { 0 };
	int32_t v;

	(void)state;
	v = SIGALRM;
	memcpy(si, &v, 4);
	v = SI_TIMER;
	memcpy(si + 8, &v, 4);
	v = 7;
	memcpy(si + 16, &v, 4);
	assert_int_equal(timer_siginfo_id(si, sizeof(si)), 7);
	v = SI_QUEUE;
	memcpy(si + 8, &v, 4);
	assert_int_equal(timer_siginfo_id(si, sizeof(si)), -1);
	assert_int_equal(timer_siginfo_id(si, 16), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_broken),
		cmocka_unit_test(test_clock_kind),
		cmocka_unit_test(test_siginfo_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
