/* The pure parts of the execution-state and files dump: the creds lines of
 * /proc/PID/status (proc_creds_parse), /proc/PID/fdinfo/N (fdinfo_parse)
 * and the kind of an open file (fd_classify). */
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
#include "dump_files.h"

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

static void test_fdinfo(void **state)
{
	struct fdinfo fi;

	(void)state;
	assert_int_equal(fdinfo_parse("pos:\t7\nflags:\t02102002\nmnt_id:\t30\nino:\t123\n", &fi), 0);
	assert_true(fi.pos == 7);
	/* The kernel's O_LARGEFILE (0100000); glibc defines it as 0 on x86_64. */
	assert_int_equal(fi.flags, O_CLOEXEC | 0100000 | O_APPEND | O_RDWR);
	assert_int_equal(fdinfo_parse("flags:\t00\npos:\t18446744073709551615", &fi), 0);
	assert_true(fi.pos == UINT64_MAX);
	assert_int_equal(fi.flags, 0);
	/* A later "pos:"-like key inside another line does not count. */
	assert_int_equal(fdinfo_parse("flags:\t0\nlock:\tpos: 3\n", &fi), -EINVAL);
	assert_int_equal(fdinfo_parse("pos:\t1\n", &fi), -EINVAL);
	assert_int_equal(fdinfo_parse("pos:\t1\nflags:\t9\n", &fi), -EINVAL);     /* not octal */
	assert_int_equal(fdinfo_parse("pos:\t-1\nflags:\t0\n", &fi), -EINVAL);
	assert_int_equal(fdinfo_parse("pos:\t1x\nflags:\t0\n", &fi), -EINVAL);
	assert_int_equal(fdinfo_parse("pos:\t1\nflags:\t77777777777\n", &fi), -EINVAL);
}

static void test_fd_classify(void **state)
{
	const char *what = NULL;
	FdKind k;

	(void)state;
	assert_int_equal(fd_classify(S_IFREG | 0644, 1, "/tmp/a", &k, &what), 0);
	assert_int_equal(k, FD_KIND__FD_REG);
	assert_int_equal(fd_classify(S_IFDIR | 0755, 2, "/tmp", &k, &what), 0);
	assert_int_equal(k, FD_KIND__FD_DIR);
	assert_int_equal(fd_classify(S_IFCHR | 0666, 1, "/dev/null", &k, &what), 0);
	assert_int_equal(k, FD_KIND__FD_CHR);
	assert_int_equal(fd_classify(S_IFCHR | 0620, 1, "/dev/pts/0", &k, &what), 0);
	assert_int_equal(k, FD_KIND__FD_CHR);

	assert_int_equal(fd_classify(S_IFIFO | 0600, 1, "pipe:[123]", &k, &what), -EOPNOTSUPP);
	assert_string_equal(what, "a pipe");
	assert_int_equal(fd_classify(S_IFIFO | 0600, 1, "/tmp/fifo", &k, &what), -EOPNOTSUPP);
	assert_string_equal(what, "a FIFO");
	assert_int_equal(fd_classify(S_IFSOCK | 0777, 1, "socket:[9]", &k, &what), -EOPNOTSUPP);
	assert_string_equal(what, "a socket");
	/* Anon inodes and pidfds look like regular files on recent kernels. */
	assert_int_equal(fd_classify(S_IFREG | 0600, 1, "anon_inode:[eventfd]", &k, &what),
			 -EOPNOTSUPP);
	assert_string_equal(what, "an anon_inode file");
	assert_int_equal(fd_classify(S_IFREG | 0600, 1, "anon_inode:[pidfd]", &k, &what),
			 -EOPNOTSUPP);
	assert_int_equal(fd_classify(0444, 1, "net:[4026531840]", &k, &what), -EOPNOTSUPP);
	assert_string_equal(what, "a special file");
	assert_int_equal(fd_classify(S_IFREG | 0600, 0, "/tmp/x (deleted)", &k, &what),
			 -EOPNOTSUPP);
	assert_string_equal(what, "a deleted file");
	assert_int_equal(fd_classify(S_IFREG | 0777, 0, "/memfd:m (deleted)", &k, &what),
			 -EOPNOTSUPP);
	assert_int_equal(fd_classify(S_IFDIR | 0755, 0, "/tmp/gone (deleted)", &k, &what),
			 -EOPNOTSUPP);
	assert_string_equal(what, "a deleted directory");
	assert_int_equal(fd_classify(S_IFBLK | 0660, 1, "/dev/sda", &k, &what), -EOPNOTSUPP);
	assert_string_equal(what, "a block device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creds_full),
		cmocka_unit_test(test_creds_no_groups_old_kernel),
		cmocka_unit_test(test_creds_many_groups),
		cmocka_unit_test(test_creds_malformed),
		cmocka_unit_test(test_fdinfo),
		cmocka_unit_test(test_fd_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
