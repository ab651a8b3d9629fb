/* The pure parts of src/cgroup.c: /proc/PID/cgroup and mountinfo parsing,
 * cgroup path arithmetic (common ancestor, --cgroup-root mapping), the
 * table of recorded settings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

static void test_proc_parse(void **state)
{
	struct cg_member *m = NULL;
	size_t nr = 0;

	(void)state;
	assert_int_equal(cg_proc_parse("9:name=systemd:/\n4:memory:/a/b c\n1:cpu,cpuacct:/x\n"
				       "0::/sys/t:1\n", &m, &nr), 0);
	assert_int_equal(nr, 4);
	assert_string_equal(m[0].controllers, "name=systemd");
	assert_string_equal(m[0].path, "/");
	assert_string_equal(m[1].controllers, "memory");
	assert_string_equal(m[1].path, "/a/b c");
	assert_string_equal(m[2].controllers, "cpu,cpuacct");
	assert_string_equal(m[3].controllers, "");
	assert_string_equal(m[3].path, "/sys/t:1");   /* a ':' in a path is kept */
	cg_members_free(m, nr);

	assert_int_equal(cg_proc_parse("", &m, &nr), 0);
	assert_int_equal(nr, 0);
	cg_members_free(m, nr);
	assert_int_equal(cg_proc_parse("0::/a", &m, &nr), 0);   /* no final newline */
	assert_int_equal(nr, 1);
	cg_members_free(m, nr);
	assert_int_equal(cg_proc_parse("0::relative\n", &m, &nr), -EINVAL);
	assert_int_equal(cg_proc_parse("0:/a\n", &m, &nr), -EINVAL);
	assert_int_equal(cg_proc_parse("garbage\n", &m, &nr), -EINVAL);
}

static const char mountinfo[] =
	"22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	"30 22 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
	"31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
	"32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
	"33 30 0:29 /sub /mnt/pids-sub rw - cgroup cgroup rw,pids\n"
	"34 30 0:29 / /mnt/my\\040pids rw - cgroup cgroup rw,pids\n"
	"35 30 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
	"36 30 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n";

static void test_mount_find(void **state)
{
	char *dir = NULL;

	(void)state;
	assert_int_equal(cg_mount_find(mountinfo, "", &dir), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
	free(dir);
	assert_int_equal(cg_mount_find(mountinfo, "cpu,cpuacct", &dir), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/cpu,cpuacct");
	free(dir);
	/* Only a mount of the hierarchy's root; escapes undone. */
	assert_int_equal(cg_mount_find(mountinfo, "pids", &dir), 0);
	assert_string_equal(dir, "/mnt/my pids");
	free(dir);
	assert_int_equal(cg_mount_find(mountinfo, "name=systemd", &dir), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/systemd");
	free(dir);
	/* "cpu" is not the cpuset hierarchy. */
	assert_int_equal(cg_mount_find(mountinfo, "cpuset", &dir), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/cpuset");
	free(dir);
	assert_int_equal(cg_mount_find(mountinfo, "memory", &dir), -ENOENT);
	assert_int_equal(cg_mount_find("31 30 0:27 / /x rw - tmpfs t rw\n", "", &dir), -ENOENT);
}

static void check_ancestor(const char *a, const char *b, const char *want)
{
	char *r = cg_path_ancestor(a, b);

	assert_non_null(r);
	assert_string_equal(r, want);
	free(r);
}

static void test_ancestor(void **state)
{
	(void)state;
	check_ancestor("/a/b", "/a/c", "/a");
	check_ancestor("/a/b", "/a/b", "/a/b");
	check_ancestor("/a", "/a/b/c", "/a");
	check_ancestor("/a/b/c", "/a", "/a");
	check_ancestor("/ab", "/a", "/");      /* not a prefix by characters */
	check_ancestor("/a/bc", "/a/b", "/a");
	check_ancestor("/", "/a", "/");
	check_ancestor("/x", "/y", "/");
}

static void check_map(const char *path, const char *base, const char *root, const char *want)
{
	char *r = cg_path_map(path, base, root);

	if (!want) {
		assert_null(r);
		return;
	}
	assert_non_null(r);
	assert_string_equal(r, want);
	free(r);
}

static void test_map(void **state)
{
	(void)state;
	check_map("/t/A", "/t/A", "/new", "/new");
	check_map("/t/A/B", "/t/A", "/new", "/new/B");
	check_map("/t/A/B", "/t/A", "/", "/B");
	check_map("/", "/", "/new", "/new");
	check_map("/x/y", "/", "/new", "/new/x/y");
	check_map("/t/AB", "/t/A", "/new", NULL);
	check_map("/u", "/t", "/new", NULL);
	assert_true(cg_path_under("/a/b", "/a"));
	assert_true(cg_path_under("/a", "/a"));
	assert_true(cg_path_under("/a", "/"));
	assert_false(cg_path_under("/ab", "/a"));
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(cg_path_valid("/"));
	assert_true(cg_path_valid("/a"));
	assert_true(cg_path_valid("/a/b.c/..d"));
	assert_false(cg_path_valid("a"));
	assert_false(cg_path_valid(""));
	assert_false(cg_path_valid("/a/"));
	assert_false(cg_path_valid("//a"));
	assert_false(cg_path_valid("/a/../b"));
	assert_false(cg_path_valid("/a/."));
}

static void test_props(void **state)
{
	int i;

	(void)state;
	i = cg_prop_index(true, "pids.max");
	assert_true(i >= 0);
	assert_string_equal(cg_prop_default(true, i), "max");
	i = cg_prop_index(true, "hugetlb.2MB.max");
	assert_true(i >= 0);
	assert_string_equal(cg_prop_default(true, i), "max");
	assert_int_equal(cg_prop_index(true, "pids.current"), -1);
	assert_false(cg_file_compared(true, "pids.max"));
	assert_false(cg_file_compared(true, "cgroup.procs"));
	assert_false(cg_file_compared(true, "memory.pressure"));
	assert_false(cg_file_compared(false, "memory.failcnt"));
	assert_false(cg_file_compared(false, "memory.kmem.max_usage_in_bytes"));
	assert_true(cg_file_compared(false, "memory.swappiness"));
	assert_true(cg_file_compared(true, "io.max"));
	assert_true(cg_value_same("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3",
				  "oom_kill_disable 0\nunder_oom 0\noom_kill 0"));
	assert_false(cg_value_same("memory.oom_control", "oom_kill_disable 1\nunder_oom 0",
				   "oom_kill_disable 0\nunder_oom 0"));
	assert_false(cg_value_same("memory.swappiness", "30", "60"));
	assert_int_equal(cg_prop_index(true, "memory.limit_in_bytes"), -1);
	/* subtree_control is written before any controller's file. */
	assert_true(cg_prop_index(true, "cgroup.subtree_control") < cg_prop_index(true, "cpu.max"));
	i = cg_prop_index(false, "cpu.shares");
	assert_true(i >= 0);
	assert_string_equal(cg_prop_default(false, i), "1024");
	/* A period before its quota; cpuset has no default. */
	assert_true(cg_prop_index(false, "cpu.cfs_period_us") < cg_prop_index(false, "cpu.cfs_quota_us"));
	assert_null(cg_prop_default(false, cg_prop_index(false, "cpuset.cpus")));
	assert_true(cg_prop_index(false, "memory.limit_in_bytes") <
		    cg_prop_index(false, "memory.memsw.limit_in_bytes"));
	assert_int_equal(cg_prop_index(false, "memory.max"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_parse),
		cmocka_unit_test(test_mount_find),
		cmocka_unit_test(test_ancestor),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_props),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
