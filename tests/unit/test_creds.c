/* The pure parts of the execution-state dump: the creds lines of
 * /proc/PID/status (proc_creds_parse). fdinfo and file kinds: test_files.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump_core.h"

/* A real status file of a root task (6.x kernel), trimmed. */
static const char status_root[] =
	"Name:\tvictim\n"
	"Umask:\t0027\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4\n"
	"Pid:\t4\n"
	"Uid:\t0\t1\t2\t3\n"
	"Gid:\t10\t11\t12\t4294967294\n"
	"FDSize:\t64\n"
	"Groups:\t1 2 3 \n"
	"NStgid:\t4\n"
	"CapInh:\t0000000000000000\n"
	"CapPrm:\t000001ffffffffff\n"
	"CapEff:\t000001fffffffffe\n"
	"CapBnd:\t000001ffffffffff\n"
	"CapAmb:\t0000000000000001\n"
	"NoNewPrivs:\t1\n"
	"Seccomp:\t0\n";

static void test_creds_full(void **state)
{
	struct proc_creds c;

	(void)state;
	assert_int_equal(proc_creds_parse(status_root, &c), 0);
	assert_int_equal(c.uid[0], 0);
	assert_int_equal(c.uid[1], 1);
	assert_int_equal(c.uid[2], 2);
	assert_int_equal(c.uid[3], 3);
	assert_int_equal(c.gid[0], 10);
	assert_int_equal(c.gid[3], 4294967294u);
	assert_int_equal(c.nr_groups, 3);
	assert_int_equal(c.groups[0], 1);
	assert_int_equal(c.groups[2], 3);
	assert_true(c.cap_inh == 0);
	assert_true(c.cap_prm == 0x1ffffffffffULL);
	assert_true(c.cap_eff == 0x1fffffffffeULL);
	assert_true(c.cap_bnd == 0x1ffffffffffULL);
	assert_true(c.has_cap_amb);
	assert_true(c.cap_amb == 1);
	assert_true(c.has_no_new_privs);
	assert_int_equal(c.no_new_privs, 1);
	proc_creds_free(&c);
	assert_null(c.groups);
}

static void test_creds_no_groups_old_kernel(void **state)
{
	/* No supplementary groups (an empty Groups: line, with or without the
	 * tab), and a kernel without CapAmb:/NoNewPrivs:. */
	static const char *const bufs[] = {
		"Uid:\t5\t5\t5\t5\nGid:\t6\t6\t6\t6\nGroups:\t\n"
		"CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t3f\n",
		"Uid:\t5\t5\t5\t5\nGid:\t6\t6\t6\t6\nGroups:\n"
		"CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t3f",
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct proc_creds c;

		assert_int_equal(proc_creds_parse(bufs[i], &c), 0);
		assert_int_equal(c.uid[3], 5);
		assert_int_equal(c.gid[0], 6);
		assert_int_equal(c.nr_groups, 0);
		assert_false(c.has_cap_amb);
		assert_false(c.has_no_new_privs);
		assert_true(c.cap_bnd == 0x3f);
		proc_creds_free(&c);
	}
}

static void test_creds_many_groups(void **state)
{
	char *buf = malloc(65536 * 11 + 256), *p;
	struct proc_creds c;

	(void)state;
	assert_non_null(buf);
	p = buf + sprintf(buf, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t");
	for (unsigned g = 0; g < 65536; g++)
		p += sprintf(p, "%u ", 4000000000u + g);
	sprintf(p, "\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n");
	assert_int_equal(proc_creds_parse(buf, &c), 0);
	assert_int_equal(c.nr_groups, 65536);
	assert_int_equal(c.groups[65535], 4000065535u);
	proc_creds_free(&c);
	free(buf);
}

static void test_creds_malformed(void **state)
{
	static const char *const bad[] = {
		/* Uid: with 3 values */
		"Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* Gid: missing */
		"Uid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* CapBnd: missing */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\n",
		/* not hex */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\tzz\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* uid out of range, negative */
		"Uid:\t0\t4294967296\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		"Uid:\t0\t-1\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* a group that is not a number */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t1 x\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* two Groups: lines */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t1\nGroups:\t2\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		/* NoNewPrivs: not 0/1 */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNoNewPrivs:\t2\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proc_creds c;

		assert_int_equal(proc_creds_parse(bad[i], &c), -EINVAL);
		assert_null(c.groups);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creds_full),
		cmocka_unit_test(test_creds_no_groups_old_kernel),
		cmocka_unit_test(test_creds_many_groups),
		cmocka_unit_test(test_creds_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
