/* The pure parts of the files framework (files.h): fdinfo, what an
 * unsupported fd is, grouping fds into open file descriptions (with a
 * synthetic kcmp), --inherit-fd specs, and the checks of files reopened by
 * path (files_reg.c). */
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
#include <sys/sysmacros.h>

#include "files.h"

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


static void test_files_what(void **state)
{
	(void)state;
	assert_string_equal(files_what(S_IFREG | 0644, 1, "/tmp/a"), "a regular file");
	assert_string_equal(files_what(S_IFCHR | 0666, 1, "/dev/null"), "a character device");
	assert_string_equal(files_what(S_IFIFO | 0600, 1, "pipe:[123]"), "a pipe");
	assert_string_equal(files_what(S_IFIFO | 0600, 1, "/tmp/fifo"), "a FIFO");
	assert_string_equal(files_what(S_IFSOCK | 0777, 1, "socket:[9]"), "a socket");
	/* Anon inodes and pidfds look like regular files on recent kernels. */
	assert_string_equal(files_what(S_IFREG | 0600, 1, "anon_inode:[eventfd]"),
			    "an anon_inode file");
	assert_string_equal(files_what(0444, 1, "net:[4026531840]"), "a special file");
	assert_string_equal(files_what(S_IFREG | 0600, 0, "/tmp/x (deleted)"), "a deleted file");
	assert_string_equal(files_what(S_IFDIR | 0755, 0, "/tmp/gone (deleted)"),
			    "a deleted directory");
	assert_string_equal(files_what(S_IFBLK | 0660, 1, "/dev/sda"), "a block device");
}

static FileEntry reg_entry(void)
{
	FileEntry e = FILE_ENTRY__INIT;

	e.id = 7;
	e.kind = FD_KIND__FD_REG;
	e.path = "/tmp/data";
	e.flags = O_RDWR | O_APPEND;
	e.has_dev = e.has_ino = e.has_size = e.has_mode = e.has_rdev = 1;
	e.dev = makedev(8, 1);
	e.ino = 1234;
	e.size = 12;
	e.mode = S_IFREG | 0644;
	return e;
}

static struct stat reg_stat(void)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0600;   /* other permission bits: still the same file */
	st.st_dev = makedev(8, 1);
	st.st_ino = 1234;
	st.st_size = 12;
	return st;
}

static void test_reg_check_regular(void **state)
{
	FileEntry e = reg_entry();
	struct stat st = reg_stat();
	char why[160];

	(void)state;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), 0);

	st.st_size = 17;
	e.flags = O_RDWR;   /* an O_APPEND file may grow: test_reg_check_append_and_host */
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "has changed: size 17, was 12");

	st = reg_stat();
	st.st_ino = 99;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "is another file now"));
	assert_non_null(strstr(why, "ino 99"));

	st = reg_stat();
	st.st_mode = S_IFIFO | 0644;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "is now a FIFO, was a regular file");

	/* Without dev/ino in the image only kind and size count. */
	st = reg_stat();
	st.st_ino = 99;
	e.has_dev = e.has_ino = 0;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), 0);
}

static void test_reg_check_devices_and_dirs(void **state)
{
	FileEntry e = FILE_ENTRY__INIT;
	struct stat st;
	char why[160];

	(void)state;
	e.kind = FD_KIND__FD_CHR;
	e.path = "/dev/null";
	e.has_rdev = e.has_mode = 1;
	e.rdev = makedev(1, 3);
	e.mode = S_IFCHR | 0666;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFCHR | 0666;
	st.st_rdev = makedev(1, 3);
	st.st_size = 0;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), 0);
	st.st_rdev = makedev(1, 5);
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "is device 1:5 now, was 1:3");
	st.st_mode = S_IFBLK | 0660;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "is now a block device, was a character device");

	/* A directory's size is not its identity. */
	e.kind = FD_KIND__FD_DIR;
	e.mode = S_IFDIR | 0755;
	e.has_size = 1;
	e.size = 4096;
	st.st_mode = S_IFDIR | 0755;
	st.st_size = 8192;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), 0);

	/* Kind and mode that disagree: a broken image. */
	e.mode = S_IFREG | 0644;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -EINVAL);
	e.has_mode = 0;
	e.kind = 42;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -EINVAL);
}

static void test_reg_open_flags(void **state)
{
	FileEntry e = reg_entry();
	char why[160];
	int f;

	(void)state;
	e.flags = O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_LARGEFILE;
	assert_int_equal(files_reg_open_flags(&e, &f, why, sizeof(why)), 0);
	assert_int_equal(f, O_WRONLY | O_APPEND | O_LARGEFILE | O_NOCTTY);

	/* A linked O_TMPFILE file reopens as a plain file. */
	e.flags = O_RDWR | O_TMPFILE;
	assert_int_equal(files_reg_open_flags(&e, &f, why, sizeof(why)), 0);
	assert_int_equal(f, O_RDWR | O_NOCTTY);

	/* O_DIRECTORY stays for a directory. */
	e.kind = FD_KIND__FD_DIR;
	e.flags = O_RDONLY | O_DIRECTORY;
	assert_int_equal(files_reg_open_flags(&e, &f, why, sizeof(why)), 0);
	assert_int_equal(f, O_RDONLY | O_DIRECTORY | O_NOCTTY);

	/* open() ignores O_ASYNC: F_SETFL sets it once the owner is set. */
	e.flags = O_RDONLY | O_ASYNC;
	assert_int_equal(files_reg_open_flags(&e, &f, why, sizeof(why)), 0);
	assert_int_equal(f, O_RDONLY | O_NOCTTY);
}

static void test_extents_check(void **state)
{
	FileExtent a = FILE_EXTENT__INIT, b = FILE_EXTENT__INIT;
	FileExtent *e[] = { &a, &b };
	char why[160];
	uint64_t data = 99;

	(void)state;
	/* No extents: all hole. */
	assert_int_equal(files_extents_check(e, 0, 1 << 30, &data, why, sizeof(why)), 0);
	assert_int_equal(data, 0);
	/* 4 KiB at the start and 4 KiB at the end of 1 GiB. */
	a.offset = 0, a.len = 4096;
	b.offset = (1 << 30) - 4096, b.len = 4096;
	assert_int_equal(files_extents_check(e, 2, 1 << 30, &data, why, sizeof(why)), 0);
	assert_int_equal(data, 8192);
	/* Beyond the size, even by wrapping around. */
	assert_int_equal(files_extents_check(e, 2, (1 << 30) - 1, &data, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "extent 1"));
	b.len = UINT64_MAX;
	assert_int_equal(files_extents_check(e, 2, 1 << 30, &data, why, sizeof(why)), -EINVAL);
	/* Overlapping, out of order, empty. */
	b.offset = 100, b.len = 10;
	assert_int_equal(files_extents_check(e, 2, 1 << 30, &data, why, sizeof(why)), -EINVAL);
	b.offset = 4096, b.len = 0;
	assert_int_equal(files_extents_check(e, 2, 1 << 30, &data, why, sizeof(why)), -EINVAL);
	/* Adjacent is fine. */
	b.len = 1;
	assert_int_equal(files_extents_check(e, 2, 1 << 30, &data, why, sizeof(why)), 0);
	assert_int_equal(data, 4097);
}

/* Synthetic kcmp: items share a file when their "file" numbers match. */
struct fake_kcmp {
	const int *file;
	int calls;
	int fail_at;        /* fail the n-th call (1-based), 0: never */
};

static int fake_same(void *ctx, size_t i, size_t j)
{
	struct fake_kcmp *k = ctx;

	if (++k->calls == k->fail_at)
		return -EPERM;
	return k->file[i] == k->file[j] ? 0 : 1;
}

static void test_group(void **state)
{
	/* Items 0, 2, 5 share file A (a dup and a fork); 1 and 4 have the same
	 * key as A but are separate opens of the same file (same pos, flags);
	 * 3 is another file; 6 has A's inode but another position. */
	struct files_group_key keys[7] = {
		{ 1, 10, 0, 2 }, { 1, 10, 0, 2 }, { 1, 10, 0, 2 }, { 1, 11, 0, 2 },
		{ 1, 10, 0, 2 }, { 1, 10, 0, 2 }, { 1, 10, 5, 2 },
	};
	const int file[7] = { 100, 101, 100, 102, 103, 100, 104 };
	struct fake_kcmp k = { .file = file };
	uint32_t g[7];
	size_t n;

	(void)state;
	assert_int_equal(files_group(keys, 7, fake_same, &k, g, &n), 0);
	assert_int_equal(n, 5);
	/* numbered by first appearance */
	assert_int_equal(g[0], 0);
	assert_int_equal(g[1], 1);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], 2);
	assert_int_equal(g[4], 3);
	assert_int_equal(g[5], 0);
	assert_int_equal(g[6], 4);
	/* kcmp only among equal keys: items 0,1,2,4,5 (each against the
	 * representatives so far: 1 vs 0; 2 vs 0; 4 vs 0,1; 5 vs 0). */
	assert_int_equal(k.calls, 5);

	/* A kcmp failure is returned. */
	k.calls = 0;
	k.fail_at = 2;
	assert_int_equal(files_group(keys, 7, fake_same, &k, g, &n), -EPERM);

	assert_int_equal(files_group(keys, 0, fake_same, &k, g, &n), 0);
	assert_int_equal(n, 0);
}

static void test_inherit_parse(void **state)
{
	const char *key;
	int fd;

	(void)state;
	assert_int_equal(files_inherit_parse("fd[3]:pipe:[12345]", &fd, &key), 0);
	assert_int_equal(fd, 3);
	assert_string_equal(key, "pipe:[12345]");
	assert_int_equal(files_inherit_parse("fd[0]:x", &fd, &key), 0);
	assert_int_equal(fd, 0);
	assert_int_equal(files_inherit_parse("fd[3]:", &fd, &key), -EINVAL);
	assert_int_equal(files_inherit_parse("fd[]:x", &fd, &key), -EINVAL);
	assert_int_equal(files_inherit_parse("fd[-1]:x", &fd, &key), -EINVAL);
	assert_int_equal(files_inherit_parse("fd3:x", &fd, &key), -EINVAL);
	assert_int_equal(files_inherit_parse("fd[3]x", &fd, &key), -EINVAL);
	assert_int_equal(files_inherit_parse("fd[99999999999]:x", &fd, &key), -EINVAL);
}

static void test_reg_check_append_and_host(void **state)
{
	FileEntry e = reg_entry();
	struct stat st = reg_stat();
	char why[160];

	(void)state;
	/* O_APPEND: growth is fine, shrinking is not. */
	st.st_size = 100;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), 0);
	st.st_size = 3;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "may only grow"));
	/* Without O_APPEND any size change is refused. */
	e.flags = O_RDWR;
	st.st_size = 100;
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
	/* Another boot: inode numbers are not compared. */
	st = reg_stat();
	st.st_ino = 99;
	st.st_dev = makedev(0, 44);
	assert_int_equal(files_reg_check(&e, &st, false, why, sizeof(why)), 0);
	assert_int_equal(files_reg_check(&e, &st, true, why, sizeof(why)), -ESTALE);
}

static void test_lock_parse(void **state)
{
	struct files_lock l;

	(void)state;
	assert_int_equal(files_lock_parse("\t1: POSIX  ADVISORY  WRITE 42 00:2f:77 10 19\n", &l), 0);
	assert_int_equal(l.kind, FILE_LOCK_KIND__LOCK_POSIX);
	assert_true(l.write);
	assert_false(l.waiter);
	assert_int_equal(l.pid, 42);
	assert_true(l.start == 10 && l.len == 10);
	assert_int_equal(files_lock_parse("\t2: FLOCK  ADVISORY  READ  7 fd:01:123 0 EOF", &l), 0);
	assert_int_equal(l.kind, FILE_LOCK_KIND__LOCK_FLOCK);
	assert_false(l.write);
	assert_true(l.start == 0 && l.len == 0);
	assert_int_equal(files_lock_parse("\t3: OFDLCK ADVISORY  WRITE -1 00:2f:77 100 EOF", &l), 0);
	assert_int_equal(l.kind, FILE_LOCK_KIND__LOCK_OFD);
	assert_int_equal(l.pid, -1);
	assert_true(l.start == 100 && l.len == 0);
	/* A blocked waiter. */
	assert_int_equal(files_lock_parse("\t4: -> FLOCK  ADVISORY  WRITE 8 00:2f:77 0 EOF", &l), 0);
	assert_true(l.waiter);
	assert_int_equal(l.kind, FILE_LOCK_KIND__LOCK_FLOCK);
	/* Leases are named, not restored. */
	assert_int_equal(files_lock_parse("\t5: LEASE  ACTIVE    READ  9 00:2f:77 0 EOF", &l), 0);
	assert_int_equal(l.kind, 0);
	assert_string_equal(l.name, "LEASE");
	/* Malformed. */
	assert_int_equal(files_lock_parse("\t1: POSIX  ADVISORY  WRITE 42 00:2f:77 10", &l), -EINVAL);
	assert_int_equal(files_lock_parse("\t1: POSIX  ADVISORY  WRITE 42 00:2f:77 19 10", &l), -EINVAL);
	assert_int_equal(files_lock_parse("\t1: POSIX  ADVISORY  BOTH 42 00:2f:77 10 19", &l), -EINVAL);
	assert_int_equal(files_lock_parse("POSIX  ADVISORY  WRITE 42 00:2f:77 10 19", &l), -EINVAL);
	assert_int_equal(files_lock_parse("", &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdinfo),
		cmocka_unit_test(test_files_what),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_inherit_parse),
		cmocka_unit_test(test_lock_parse),
		cmocka_unit_test(test_reg_check_regular),
		cmocka_unit_test(test_reg_check_devices_and_dirs),
		cmocka_unit_test(test_reg_open_flags),
		cmocka_unit_test(test_extents_check),
		cmocka_unit_test(test_reg_check_append_and_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
