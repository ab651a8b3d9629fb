/* The pure part of task_attrs.c: scheduling defaults, CPU lists and masks,
 * /proc/PID/autogroup, which speculation-control values are recorded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>

#include "task_attrs.h"

static void test_sched_default(void **state)
{
	struct attrs_sched s = { .policy = SCHED_OTHER };

	(void)state;
	assert_true(attrs_sched_is_default(&s));
	s.has_util = true;
	s.util_max = 1024;
	assert_true(attrs_sched_is_default(&s));
	s.util_min = 100;
	assert_false(attrs_sched_util_is_default(&s));
	assert_false(attrs_sched_is_default(&s));
	s = (struct attrs_sched){ .policy = SCHED_OTHER, .nice = -1 };
	assert_false(attrs_sched_is_default(&s));
	s = (struct attrs_sched){ .policy = SCHED_OTHER, .flags = 1 /* RESET_ON_FORK */ };
	assert_false(attrs_sched_is_default(&s));
	s = (struct attrs_sched){ .policy = SCHED_BATCH };
	assert_false(attrs_sched_is_default(&s));
	/* RT threads get uclamp 1024-1024 by default. */
	s = (struct attrs_sched){ .policy = SCHED_FIFO, .rt_priority = 5, .has_util = true,
				  .util_min = 1024, .util_max = 1024 };
	assert_true(attrs_sched_util_is_default(&s));
	assert_false(attrs_sched_is_default(&s));
	s.util_min = 0;
	assert_false(attrs_sched_util_is_default(&s));
	assert_true(attrs_policy_is_rt(SCHED_RR));
	assert_false(attrs_policy_is_rt(SCHED_IDLE));
}

static void test_cpulist(void **state)
{
	uint8_t m[4], online[2];
	char buf[64];

	(void)state;
	assert_int_equal(attrs_cpulist_parse("0-1\n", online, sizeof(online)), 0);
	assert_int_equal(online[0], 3);
	assert_int_equal(online[1], 0);
	assert_int_equal(attrs_cpulist_parse("0,2-4,9\n", m, sizeof(m)), 0);
	assert_int_equal(m[0], 0x1d);
	assert_int_equal(m[1], 0x02);
	attrs_cpulist_format(m, sizeof(m), buf, sizeof(buf));
	assert_string_equal(buf, "0,2-4,9");
	memset(m, 0, sizeof(m));
	attrs_cpulist_format(m, sizeof(m), buf, sizeof(buf));
	assert_string_equal(buf, "(none)");
	m[0] = 0xff;
	attrs_cpulist_format(m, 1, buf, sizeof(buf));
	assert_string_equal(buf, "0-7");
	assert_int_equal(attrs_cpulist_parse("", m, sizeof(m)), 0);
	assert_int_equal(m[0], 0);
	assert_int_equal(attrs_cpulist_parse("3-1", m, sizeof(m)), -EINVAL);
	assert_int_equal(attrs_cpulist_parse("x", m, sizeof(m)), -EINVAL);
	assert_int_equal(attrs_cpulist_parse("0 1", m, sizeof(m)), -EINVAL);
	assert_int_equal(attrs_cpulist_parse("32", m, sizeof(m)), -EINVAL);
	assert_int_equal(attrs_cpulist_parse("31", m, sizeof(m)), 0);
}

static void test_masks(void **state)
{
	uint8_t online[16] = { 0x03 }, one = 0x02, all = 0xff, big[2] = { 0x01, 0x01 };
	uint8_t same[1] = { 0x03 };

	(void)state;
	assert_true(attrs_mask_subset(&one, 1, online, sizeof(online)));
	assert_false(attrs_mask_subset(&all, 1, online, sizeof(online)));
	assert_false(attrs_mask_subset(big, 2, online, 1));
	assert_true(attrs_mask_equal(same, 1, online, sizeof(online)));
	assert_false(attrs_mask_equal(&one, 1, online, sizeof(online)));
}

static void test_autogroup(void **state)
{
	long id;
	int nice;

	(void)state;
	assert_int_equal(attrs_autogroup_parse("/autogroup-123 nice 5\n", &id, &nice), 0);
	assert_int_equal(id, 123);
	assert_int_equal(nice, 5);
	assert_int_equal(attrs_autogroup_parse("/autogroup-7 nice -20\n", &id, &nice), 0);
	assert_int_equal(nice, -20);
	assert_int_equal(attrs_autogroup_parse("", &id, &nice), 0);
	assert_int_equal(id, 0);
	assert_int_equal(nice, 0);
	assert_int_equal(attrs_autogroup_parse("/autogroup-7 nice", &id, &nice), -EINVAL);
	assert_int_equal(attrs_autogroup_parse("/autogroup-7 nice 1 x\n", &id, &nice), -EINVAL);
	assert_int_equal(attrs_autogroup_parse("garbage\n", &id, &nice), -EINVAL);
}

static void test_spec(void **state)
{
	(void)state;
	assert_false(attrs_spec_recordable(PR_SPEC_PRCTL | PR_SPEC_ENABLE));
	assert_true(attrs_spec_recordable(PR_SPEC_PRCTL | PR_SPEC_DISABLE));
	assert_true(attrs_spec_recordable(PR_SPEC_PRCTL | PR_SPEC_FORCE_DISABLE));
	/* Not under per-task control: nothing to restore. */
	assert_false(attrs_spec_recordable(PR_SPEC_ENABLE));
	assert_false(attrs_spec_recordable(PR_SPEC_FORCE_DISABLE));
	assert_false(attrs_spec_recordable(PR_SPEC_NOT_AFFECTED));
	assert_false(attrs_spec_recordable(-EINVAL));
}

static void test_secbits(void **state)
{
	uint32_t early, late;

	(void)state;
	/* KEEP_CAPS (0x10) with NO_SETUID_FIXUP (0x4): all before the creds. */
	attrs_secbits_split(0x14, true, &early, &late);
	assert_int_equal(early, 0x14);
	assert_int_equal(late, 0);
	/* KEEP_CAPS_LOCKED (0x20) after them. */
	attrs_secbits_split(0x30, false, &early, &late);
	assert_int_equal(early, 0x10);
	assert_int_equal(late, 0x20);
	/* NO_CAP_AMBIENT_RAISE and its lock: late only with an ambient set. */
	attrs_secbits_split(0xc0, false, &early, &late);
	assert_int_equal(early, 0xc0);
	assert_int_equal(late, 0);
	attrs_secbits_split(0xc1, true, &early, &late);
	assert_int_equal(early, 0x01);
	assert_int_equal(late, 0xc0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_default),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_autogroup),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_secbits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
