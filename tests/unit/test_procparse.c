/* /proc parsers on crafted text: comm with spaces and parentheses, short and
 * garbage lines, NSpid levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "proc_parse.h"
#include "util.h"

#define STAT_TAIL \
	"S 1 42 42 34816 42 4194560 106 0 0 0 0 0 0 0 20 0 1 0 123456 8110080 " \
	"420 18446744073709551615 94000000000000 94000000100000 140730000000000 0 0 " \
	"0 65536 3670020 1266777851 1 0 0 17 1 0 0 0 0 0 94000000200000 " \
	"94000000300000 94000000400000 140730000001000 140730000001100 " \
	"140730000001100 140730000001200 %d\n"

static void fmt_stat(char *buf, size_t size, const char *head, int exit_code)
{
	int n = snprintf(buf, size, "%s ", head);

	snprintf(buf + n, size - n, STAT_TAIL, exit_code);
}

static void test_stat_plain(void **state)
{
	struct proc_stat st;
	char buf[1024];

	(void)state;
	fmt_stat(buf, sizeof(buf), "4242 (sleep)", 0);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_int_equal(st.pid, 4242);
	assert_string_equal(st.comm, "sleep");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.pgid, 42);
	assert_int_equal(st.sid, 42);
	assert_int_equal(st.tty_nr, 34816);
	assert_int_equal(st.num_threads, 1);
	assert_int_equal(st.start_time, 123456);
	assert_int_equal(st.start_code, 94000000000000UL);
	assert_int_equal(st.start_data, 94000000200000UL);
	assert_int_equal(st.start_brk, 94000000400000UL);
	assert_int_equal(st.env_end, 140730000001200UL);
	assert_int_equal(st.exit_code, 0);
}

static void test_stat_nasty_comm(void **state)
{
	struct proc_stat st;
	char buf[1024];

	(void)state;
	fmt_stat(buf, sizeof(buf), "7 (a) b (c) ) d)", 9 << 8);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_string_equal(st.comm, "a) b (c) ) d");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_true(WIFEXITED(st.exit_code));
	assert_int_equal(WEXITSTATUS(st.exit_code), 9);

	fmt_stat(buf, sizeof(buf), "8 ( )", SIGKILL);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_string_equal(st.comm, " ");
	assert_true(WIFSIGNALED(st.exit_code));
	assert_int_equal(WTERMSIG(st.exit_code), SIGKILL);
}

static void test_stat_garbage(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_stat_parse("", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("12 sleep S 1 2 3", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("12 (sleep) S 1 2 3", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("x (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("12 (sleep)S 1 2", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("12 )sleep( S 1 2", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("12 (sleep) S 1 2 abc 4", &st), -EINVAL);
}

static void test_stat_self(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_stat_read(getpid(), 0, &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.pgid, getpgrp());
}

static void test_status(void **state)
{
	static const char text[] =
		"Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t310\nNgid:\t0\n"
		"Pid:\t310\nPPid:\t300\nTracerPid:\t0\n"
		"NStgid:\t310\t12\t1\nNSpid:\t310\t12\t1\nNSpgid:\t305\t7\t1\nNSsid:\t300\t1\t1\n"
		"SigQ:\t0/63471\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n"
		"SigBlk:\t0000000000010000\nSigIgn:\t0000000000380004\nSigCgt:\t000000004b817efb\n";
	struct proc_status st;

	(void)state;
	assert_int_equal(proc_status_parse(text, &st), 0);
	assert_int_equal(st.pid, 310);
	assert_int_equal(st.ppid, 300);
	assert_int_equal(st.umask, 022);
	assert_int_equal(st.has_umask, 1);
	assert_int_equal(st.ns_pid_nr, 3);
	assert_int_equal(st.ns_pid[0], 310);
	assert_int_equal(st.ns_pid[2], 1);
	assert_int_equal(st.ns_pgid[1], 7);
	assert_int_equal(st.ns_sid_nr, 3);
	assert_int_equal(st.ns_sid[0], 300);
	assert_int_equal(st.shd_pnd, 0x100);
	assert_int_equal(st.sig_blk, 0x10000);
	assert_int_equal(st.sig_cgt, 0x4b817efbULL);
}

static void test_status_bad(void **state)
{
	struct proc_status st;

	(void)state;
	assert_int_equal(proc_status_parse("Name:\tx\n", &st), -EINVAL);
	assert_int_equal(proc_status_parse("Pid:\t5\nNSpid:\t\n", &st), -EINVAL);
	assert_int_equal(proc_status_parse("Pid:\t5\nNSpid:\t5 x\n", &st), -EINVAL);
	assert_int_equal(proc_status_parse("Pid:\t5\nNSpid:\t5\nSigBlk:\tzz\n", &st), -EINVAL);
}

static void test_pid_list(void **state)
{
	pid_t *p = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(parse_pid_list("", &p, &n), 0);
	assert_int_equal(n, 0);
	free(p);
	assert_int_equal(parse_pid_list("12 345 6 \n", &p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[1], 345);
	free(p);
	assert_int_equal(parse_pid_list("12 x", &p, &n), -EINVAL);
	assert_int_equal(parse_pid_list("12 -3", &p, &n), -EINVAL);
	assert_int_equal(parse_pid_list("99999999999", &p, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_plain),
		cmocka_unit_test(test_stat_nasty_comm),
		cmocka_unit_test(test_stat_garbage),
		cmocka_unit_test(test_stat_self),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_bad),
		cmocka_unit_test(test_pid_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
