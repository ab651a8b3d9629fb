/* fdinfo parsers of anonymous-inode files (src/fdinfo_misc.h) on text in
 * the kernel's formats, and on broken text; the inet_diag answer decoder
 * (src/sk_inet_diag.h) on crafted messages; the terminal helpers of
 * src/files_tty.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netlink/msg.h>

#include <sys/sysmacros.h>

#include "fdinfo_misc.h"
#include "files_tty.h"
#include "sk_inet_diag.h"

#define HEAD "pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\n"

static void test_eventfd(void **state)
{
	uint64_t c;
	int sem;

	(void)state;
	assert_int_equal(fdinfo_eventfd(HEAD "eventfd-count:                5\n"
					"eventfd-id: 1\neventfd-semaphore: 1\n", &c, &sem), 0);
	assert_int_equal(c, 5);
	assert_int_equal(sem, 1);
	/* hex, and no semaphore line on older kernels */
	assert_int_equal(fdinfo_eventfd(HEAD "eventfd-count: fffffffffffffffe\n", &c, &sem), 0);
	assert_true(c == 0xfffffffffffffffeULL);
	assert_int_equal(sem, -1);
	assert_int_equal(fdinfo_eventfd(HEAD, &c, &sem), -EINVAL);
	assert_int_equal(fdinfo_eventfd(HEAD "eventfd-count: zz\n", &c, &sem), -EINVAL);
	assert_int_equal(fdinfo_eventfd(HEAD "eventfd-count: 1\neventfd-semaphore: 2\n", &c, &sem),
			 -EINVAL);
}

static void test_signalfd(void **state)
{
	uint64_t m;

	(void)state;
	assert_int_equal(fdinfo_signalfd(HEAD "sigmask:\t0000000000004200\n", &m), 0);
	assert_true(m == 0x4200);
	assert_int_equal(fdinfo_signalfd(HEAD "sigmask:\t\n", &m), -EINVAL);
	assert_int_equal(fdinfo_signalfd(HEAD, &m), -EINVAL);
}

static void test_timerfd(void **state)
{
	struct fdinfo_timerfd t;

	(void)state;
	assert_int_equal(fdinfo_timerfd(HEAD "clockid: 1\nticks: 3\nsettime flags: 01\n"
					"it_value: (0, 99999)\nit_interval: (2, 100000000)\n", &t), 0);
	assert_int_equal(t.clockid, 1);
	assert_int_equal(t.ticks, 3);
	assert_int_equal(t.settime_flags, 1);
	assert_int_equal(t.value_sec, 0);
	assert_int_equal(t.value_nsec, 99999);
	assert_int_equal(t.interval_sec, 2);
	assert_int_equal(t.interval_nsec, 100000000);
	/* settime flags are octal: 03 = ABSTIME | CANCEL_ON_SET */
	assert_int_equal(fdinfo_timerfd(HEAD "clockid: 0\nticks: 0\nsettime flags: 03\n"
					"it_value: (5, 0)\nit_interval: (0, 0)\n", &t), 0);
	assert_int_equal(t.settime_flags, 3);
	assert_int_equal(fdinfo_timerfd(HEAD "clockid: 0\nticks: 0\nsettime flags: 00\n"
					"it_value: (5, 0)\n", &t), -EINVAL);
	assert_int_equal(fdinfo_timerfd(HEAD "clockid: 0\nticks: 0\nsettime flags: 00\n"
					"it_value: (5, 1000000000)\nit_interval: (0, 0)\n", &t),
			 -EINVAL);
	assert_int_equal(fdinfo_timerfd(HEAD "clockid: 0\nticks: -1\nsettime flags: 00\n"
					"it_value: (5, 0)\nit_interval: (0, 0)\n", &t), -EINVAL);
}

static void test_epoll(void **state)
{
	struct fdinfo_tfd *t = NULL;
	size_t nr = 9;

	(void)state;
	assert_int_equal(fdinfo_epoll(HEAD, &t, &nr), 0);
	assert_null(t);
	assert_int_equal(nr, 0);
	assert_int_equal(fdinfo_epoll(HEAD
		"tfd:        3 events: 80000019 data:                3  pos:0 ino:40e sdev:10\n"
		"tfd:       12 events:       1 data: ffffffffffffffff  pos:0 ino:1 sdev:800001\n",
		&t, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(t[0].tfd, 3);
	assert_true(t[0].events == 0x80000019u);
	assert_int_equal(t[0].data, 3);
	assert_int_equal(t[0].ino, 0x40e);
	assert_int_equal(t[0].sdev, 0x10);
	assert_int_equal(t[1].tfd, 12);
	assert_true(t[1].data == ~0ULL);
	assert_int_equal(t[1].sdev, 0x800001);
	free(t);
	t = NULL;
	assert_int_equal(fdinfo_epoll(HEAD "tfd: 3 events: 1\n", &t, &nr), -EINVAL);
	assert_null(t);
	assert_int_equal(fdinfo_epoll(HEAD "tfd: -3 events: 1 data: 0  pos:0 ino:1 sdev:1\n",
				      &t, &nr), -EINVAL);
}

/* An inet_diag answer as the kernel builds it: struct inet_diag_msg. */
static void test_inet_diag(void **state)
{
	struct inet_diag_msg m = {
		.idiag_family = AF_INET6, .idiag_state = 10, .idiag_inode = 4242,
		.idiag_rqueue = 0, .idiag_wqueue = 128,
	};
	struct inet_diag_info ii;
	const char *why = NULL;
	struct nl_msg *msg;
	char buf[80];

	(void)state;
	m.id.idiag_sport = htons(8080);
	m.id.idiag_src[3] = htonl(1);
	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI);
	assert_non_null(msg);
	assert_int_equal(nlmsg_append(msg, &m, sizeof(m), NLMSG_ALIGNTO), 0);
	assert_int_equal(sk_inet_diag_parse(nlmsg_hdr(msg), IPPROTO_TCP, &ii, &why), 0);
	assert_int_equal(ii.ino, 4242);
	assert_int_equal(ii.state, 10);
	assert_int_equal(ii.sport, 8080);
	assert_int_equal(ii.wqueue, 128);
	assert_int_equal(ii.protocol, IPPROTO_TCP);
	sk_inet_diag_addr_str(ii.family, ii.src, ii.sport, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:8080");
	assert_string_equal(sk_inet_state_name(ii.state), "LISTEN");
	nlmsg_free(msg);

	/* truncated, and a foreign family */
	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, 0);
	assert_int_equal(nlmsg_append(msg, &m, 8, NLMSG_ALIGNTO), 0);
	assert_int_equal(sk_inet_diag_parse(nlmsg_hdr(msg), IPPROTO_TCP, &ii, &why), -EINVAL);
	assert_non_null(why);
	nlmsg_free(msg);
	m.idiag_family = AF_UNIX;
	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, 0);
	assert_int_equal(nlmsg_append(msg, &m, sizeof(m), NLMSG_ALIGNTO), 0);
	assert_int_equal(sk_inet_diag_parse(nlmsg_hdr(msg), IPPROTO_TCP, &ii, &why), -EINVAL);
	nlmsg_free(msg);
}

/* Terminal helpers of files_tty.c: which devices are terminals, the
 * controlling terminal and foreground group from /proc/PID/stat. */
static void test_tty(void **state)
{
	int nr, tpgid;

	(void)state;
	assert_true(files_tty_rdev(makedev(136, 3)));      /* /dev/pts/3 */
	assert_true(files_tty_rdev(makedev(5, 0)));        /* /dev/tty */
	assert_true(files_tty_rdev(makedev(5, 2)));        /* /dev/ptmx */
	assert_true(files_tty_rdev(makedev(4, 1)));        /* /dev/tty1 */
	assert_false(files_tty_rdev(makedev(1, 3)));       /* /dev/null */
	assert_false(files_tty_rdev(makedev(5, 3)));
	assert_false(files_tty_rdev(makedev(10, 200)));    /* /dev/net/tun */

	/* comm with spaces and a parenthesis; tty_nr 34819 = pts/3 */
	assert_int_equal(files_tty_stat_parse("42 (a) b) S 1 42 7 34819 42 4194560 0 0\n",
					      &nr, &tpgid), 0);
	assert_int_equal(nr, 34819);
	assert_int_equal(tpgid, 42);
	assert_true(files_tty_is_nr(makedev(136, 3), nr));
	assert_false(files_tty_is_nr(makedev(136, 4), nr));
	/* minor above 255: bits 20-31 of tty_nr */
	assert_true(files_tty_is_nr(makedev(136, 300),
				    (136 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12)));
	assert_false(files_tty_is_nr(makedev(136, 3), 0));     /* no terminal */
	assert_int_equal(files_tty_stat_parse("42 (a) S 1 42\n", &nr, &tpgid), -EINVAL);
	assert_int_equal(files_tty_stat_parse("garbage", &nr, &tpgid), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eventfd),
		cmocka_unit_test(test_signalfd),
		cmocka_unit_test(test_timerfd),
		cmocka_unit_test(test_epoll),
		cmocka_unit_test(test_inet_diag),
		cmocka_unit_test(test_tty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
