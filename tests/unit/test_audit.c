/* The dump's audit (src/audit.h): which namespace differences are
 * refused; the refusal counter (src/refuse.h); exit_signal of
 * /proc/PID/stat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "proc_parse.h"
#include "refuse.h"

static void test_ns_same(void **state)
{
	(void)state;
	for (size_t i = 0; i < audit_nr_ns; i++)
		assert_true(audit_ns_ok(audit_ns_names[i], "x:[1]", "x:[1]", "x:[1]", false));
}

static void test_ns_other(void **state)
{
	(void)state;
	/* Another namespace than minicr's is refused, whatever the root has... */
	assert_false(audit_ns_ok("net", "net:[2]", "net:[1]", "net:[2]", true));
	assert_false(audit_ns_ok("uts", "uts:[2]", "uts:[1]", "uts:[2]", false));
	assert_false(audit_ns_ok("user", "user:[2]", "user:[1]", "user:[1]", true));
	/* ...but a PID namespace init's tree may have the mount namespace of
	 * its root (restore --pidns makes one with a fresh /proc)... */
	assert_true(audit_ns_ok("mnt", "mnt:[2]", "mnt:[1]", "mnt:[2]", true));
	/* ...only the root's, and only then. */
	assert_false(audit_ns_ok("mnt", "mnt:[3]", "mnt:[1]", "mnt:[2]", true));
	assert_false(audit_ns_ok("mnt", "mnt:[2]", "mnt:[1]", "mnt:[2]", false));
}

static void test_refuse_counts(void **state)
{
	struct refusals r = { 0 };

	(void)state;
	refuse(&r, "task %d: %s", 12, "a test refusal");
	refuse_counted(&r);
	assert_int_equal(r.nr, 2);
}

static void test_exit_signal(void **state)
{
	struct proc_stat st;
	char buf[1024];

	(void)state;
	/* Fields 3..52 of a task whose exit signal (field 38) is 10. */
	strcpy(buf, "42 (a b) S");
	for (int f = 4; f <= 52; f++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %d", f == 38 ? 10 : f);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_int_equal(st.exit_signal, 10);
	assert_int_equal(st.ppid, 4);
}

static void test_numa_maps(void **state)
{
	unsigned long long addr;
	char pol[16];

	(void)state;
	assert_int_equal(audit_numa_maps_parse("", &addr, pol, sizeof(pol)), 0);
	assert_int_equal(audit_numa_maps_parse(
		"564f6a53a000 default file=/usr/bin/head mapped=2 N0=2 kernelpagesize_kB=4\n"
		"7ffd1000 default stack anon=3 dirty=3 N0=3 kernelpagesize_kB=4\n",
		&addr, pol, sizeof(pol)), 0);
	assert_int_equal(audit_numa_maps_parse(
		"1000 default anon=1\n7f0000000000 interleave:0-1 anon=4 N0=2 N1=2\n",
		&addr, pol, sizeof(pol)), 1);
	assert_true(addr == 0x7f0000000000ULL);
	assert_string_equal(pol, "interleave:0-1");
	/* truncated to the buffer */
	assert_int_equal(audit_numa_maps_parse("2000 bind=static:0,1,2,3,4,5,6,7,8,9 anon=1\n",
					       &addr, pol, 8), 1);
	assert_string_equal(pol, "bind=st");
	assert_int_equal(audit_numa_maps_parse("zz default\n", &addr, pol, sizeof(pol)), -EINVAL);
	assert_int_equal(audit_numa_maps_parse("1000 \n", &addr, pol, sizeof(pol)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_same),
		cmocka_unit_test(test_ns_other),
		cmocka_unit_test(test_refuse_counts),
		cmocka_unit_test(test_exit_signal),
		cmocka_unit_test(test_numa_maps),
	};

	log_init("test-audit", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
