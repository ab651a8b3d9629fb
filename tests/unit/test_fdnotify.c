/* The inotify, fanotify and pidfd fdinfo parsers and the mountinfo lookup
 * of src/fdinfo_notify.h, on text in the kernel's formats (as Linux 6.18
 * prints them) and on broken text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fdinfo_notify.h"

#define HEAD "pos:\t0\nflags:\t00\nmnt_id:\t17\nino:\t1038\n"

static void test_inotify(void **state)
{
	struct fdinfo_inotify_wd *w = NULL;
	size_t nr = 0;

	(void)state;
	/* The kernel lists watches newest first; they come back by wd. */
	assert_int_equal(fdinfo_inotify(HEAD
		"inotify wd:3 ino:a720c2 sdev:fe00000 mask:100 ignored_mask:0 fhandle-bytes:8 "
		"fhandle-type:1 f_handle:c220a700fe19087c\n"
		"inotify wd:1 ino:a720e2 sdev:fe00001 mask:4000002 ignored_mask:0 fhandle-bytes:8 "
		"fhandle-type:1 f_handle:e220a700f077644b\n", &w, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(w[0].wd, 1);
	assert_int_equal(w[0].mask, 0x4000002);
	assert_int_equal(w[0].sdev, 0xfe00001);
	assert_true(w[0].ino == 0xa720e2);
	assert_int_equal(w[0].fh.bytes, 8);
	assert_int_equal(w[0].fh.type, 1);
	assert_int_equal(w[0].fh.h[0], 0xe2);
	assert_int_equal(w[0].fh.h[7], 0x4b);
	assert_int_equal(w[1].wd, 3);
	free(w);
	/* No watches: no array. */
	w = (void *)1;
	assert_int_equal(fdinfo_inotify(HEAD, &w, &nr), 0);
	assert_int_equal(nr, 0);
	assert_null(w);
	/* No file handle (a filesystem that cannot encode one). */
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:1 ino:5 sdev:1 mask:2 ignored_mask:0\n",
					&w, &nr), 0);
	assert_int_equal(w[0].fh.bytes, 0);
	free(w);
	/* Broken: short handle, bad hex, wd 0, duplicate wd, missing mask. */
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:1 ino:5 sdev:1 mask:2 ignored_mask:0 "
					"fhandle-bytes:8 fhandle-type:1 f_handle:c220\n", &w, &nr),
			 -EINVAL);
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:1 ino:5 sdev:1 mask:2 ignored_mask:0 "
					"fhandle-bytes:2 fhandle-type:1 f_handle:zz00\n", &w, &nr),
			 -EINVAL);
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:0 ino:5 sdev:1 mask:2 ignored_mask:0\n",
					&w, &nr), -EINVAL);
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:2 ino:5 sdev:1 mask:2 ignored_mask:0\n"
					"inotify wd:2 ino:6 sdev:1 mask:2 ignored_mask:0\n", &w, &nr),
			 -EINVAL);
	assert_int_equal(fdinfo_inotify(HEAD "inotify wd:2 ino:5 sdev:1 ignored_mask:0\n", &w,
					&nr), -EINVAL);
}

static void test_fanotify(void **state)
{
	struct fdinfo_fan_mark *m = NULL;
	const char *unknown;
	uint32_t fl, ev;
	size_t nr;

	(void)state;
	assert_int_equal(fdinfo_fanotify(HEAD "fanotify flags:10 event-flags:8000\n"
		"fanotify mnt_id:1a mflags:0 mask:20 ignored_mask:0\n"
		"fanotify ino:a720e2 sdev:fe00000 mflags:1 mask:2 ignored_mask:8 fhandle-bytes:8 "
		"fhandle-type:1 f_handle:e220a700f077644b\n"
		"fanotify sdev:2c mflags:0 mask:1 ignored_mask:0\n",
		&fl, &ev, &m, &nr, &unknown), 0);
	assert_int_equal(fl, 0x10);
	assert_int_equal(ev, 0x8000);
	assert_int_equal(nr, 3);
	assert_int_equal(m[0].type, FDINFO_FAN_MOUNT);
	assert_int_equal(m[0].mnt_id, 26);
	assert_int_equal(m[0].mask, 0x20);
	assert_int_equal(m[1].type, FDINFO_FAN_INODE);
	assert_int_equal(m[1].mflags, 1);
	assert_int_equal(m[1].ignored_mask, 8);
	assert_int_equal(m[1].fh.bytes, 8);
	assert_int_equal(m[2].type, FDINFO_FAN_SB);
	assert_int_equal(m[2].sdev, 0x2c);
	free(m);
	/* A mark kind this minicr does not know is named. */
	assert_int_equal(fdinfo_fanotify(HEAD "fanotify flags:0 event-flags:0\n"
					 "fanotify mnt_ns:4 mflags:0 mask:1 ignored_mask:0\n",
					 &fl, &ev, &m, &nr, &unknown), -EOPNOTSUPP);
	assert_non_null(unknown);
	assert_int_equal(strncmp(unknown, "fanotify mnt_ns:4", 17), 0);
	/* No group line, or a broken mark. */
	assert_int_equal(fdinfo_fanotify(HEAD, &fl, &ev, &m, &nr, &unknown), -EINVAL);
	assert_int_equal(fdinfo_fanotify(HEAD "fanotify flags:0 event-flags:0\n"
					 "fanotify mnt_id:zz mflags:0 mask:1 ignored_mask:0\n",
					 &fl, &ev, &m, &nr, &unknown), -EINVAL);
}

static void test_pidfd(void **state)
{
	int pid;

	(void)state;
	assert_int_equal(fdinfo_pidfd(HEAD "Pid:\t23668\nNSpid:\t23668\t5\n", &pid), 0);
	assert_int_equal(pid, 23668);
	assert_int_equal(fdinfo_pidfd(HEAD "Pid:\t-1\nNSpid:\t-1\n", &pid), 0);
	assert_int_equal(pid, -1);
	assert_int_equal(fdinfo_pidfd(HEAD "Pid:\t0\n", &pid), 0);
	assert_int_equal(pid, 0);
	assert_int_equal(fdinfo_pidfd(HEAD, &pid), -EINVAL);
	assert_int_equal(fdinfo_pidfd(HEAD "Pid:\t12x\n", &pid), -EINVAL);
	assert_int_equal(fdinfo_pidfd(HEAD "Pid:\t-2\n", &pid), -EINVAL);
}

#define MI \
	"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" \
	"26 22 0:44 /sub /srv/bind rw shared:2 - tmpfs tmpfs rw\n" \
	"27 22 0:44 / /mnt/with\\040space rw shared:2 - tmpfs tmpfs rw\n" \
	"28 22 0:45 /x /only/bind rw - tmpfs tmpfs rw\n"

static void test_mountinfo(void **state)
{
	uint32_t dev = 0;
	char mp[64];

	(void)state;
	assert_int_equal(mountinfo_find(MI, false, 254ULL << 20, mp, sizeof(mp), NULL), 0);
	assert_string_equal(mp, "/");
	/* The filesystem's root mount is preferred to a bind mount of a
	 * subdirectory; escapes undone. */
	assert_int_equal(mountinfo_find(MI, false, 44, mp, sizeof(mp), NULL), 0);
	assert_string_equal(mp, "/mnt/with space");
	assert_int_equal(mountinfo_find(MI, false, 45, mp, sizeof(mp), NULL), 0);
	assert_string_equal(mp, "/only/bind");
	assert_int_equal(mountinfo_find(MI, true, 26, mp, sizeof(mp), &dev), 0);
	assert_string_equal(mp, "/srv/bind");
	assert_int_equal(dev, 44);
	assert_int_equal(mountinfo_find(MI, true, 99, mp, sizeof(mp), NULL), -ENOENT);
	assert_int_equal(mountinfo_find(MI, false, 46, mp, sizeof(mp), NULL), -ENOENT);
	assert_int_equal(mountinfo_find(MI, true, 27, mp, 4, NULL), -ENAMETOOLONG);
}

static void test_wds(void **state)
{
	int ok[] = { 1, 3, 70 }, dup[] = { 1, 1 }, zero[] = { 0 }, big[] = { 2, 100 };

	(void)state;
	assert_int_equal(inotify_wds_check(ok, 3, 100), 0);
	assert_int_equal(inotify_wds_check(ok, 0, 100), 0);
	assert_int_equal(inotify_wds_check(dup, 2, 100), -EINVAL);
	assert_int_equal(inotify_wds_check(zero, 1, 100), -EINVAL);
	assert_int_equal(inotify_wds_check(big, 2, 99), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inotify),
		cmocka_unit_test(test_fanotify),
		cmocka_unit_test(test_pidfd),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_wds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
