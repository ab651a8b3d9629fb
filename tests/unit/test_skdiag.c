/* unix_diag answers built with libnl's nlmsg API and decoded by
 * sk_diag_unix_parse(): every attribute, abstract names, listeners' pending
 * connections, missing optional attributes, and malformed messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "sk_diag.h"

static struct nl_msg *new_answer(uint32_t ino, uint8_t type, uint8_t state)
{
	struct unix_diag_msg m = {
		.udiag_family = AF_UNIX,
		.udiag_type = type,
		.udiag_state = state,
		.udiag_ino = ino,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI);

	assert_non_null(msg);
	assert_int_equal(nlmsg_append(msg, &m, sizeof(m), NLMSG_ALIGNTO), 0);
	return msg;
}

static void test_connected_stream(void **state)
{
	struct unix_diag_rqlen rq = { .udiag_rqueue = 1000, .udiag_wqueue = 768 };
	struct nl_msg *msg = new_answer(4242, SOCK_STREAM, 1);
	struct unix_diag_info ui;
	const char *why = NULL;

	(void)state;
	assert_int_equal(nla_put_u32(msg, UNIX_DIAG_PEER, 4243), 0);
	assert_int_equal(nla_put(msg, UNIX_DIAG_RQLEN, sizeof(rq), &rq), 0);
	assert_int_equal(nla_put_u8(msg, UNIX_DIAG_SHUTDOWN, 2), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), 0);
	assert_int_equal(ui.ino, 4242);
	assert_int_equal(ui.type, SOCK_STREAM);
	assert_int_equal(ui.state, 1);
	assert_int_equal(ui.peer, 4243);
	assert_true(ui.has_rqlen);
	assert_int_equal(ui.rqueue, 1000);
	assert_int_equal(ui.wqueue, 768);
	assert_true(ui.has_shutdown);
	assert_int_equal(ui.shutdown, 2);
	assert_int_equal(ui.name_len, 0);
	assert_false(ui.has_vfs);
	assert_int_equal(ui.nr_icons, 0);
	assert_null(ui.icons);
	sk_diag_unix_info_free(&ui);
	nlmsg_free(msg);
}

static void test_listener_path(void **state)
{
	/* A path name comes with its terminating NUL (the bound length). */
	static const char path[] = "/run/x.sock";
	struct unix_diag_vfs vfs = { .udiag_vfs_ino = 77, .udiag_vfs_dev = 0x803 };
	struct unix_diag_rqlen rq = { .udiag_rqueue = 3, .udiag_wqueue = 128 };
	uint32_t icons[3] = { 9001, 9002, 9003 };
	struct nl_msg *msg = new_answer(500, SOCK_SEQPACKET, 10);
	struct unix_diag_info ui;
	const char *why = NULL;

	(void)state;
	assert_int_equal(nla_put(msg, UNIX_DIAG_NAME, sizeof(path), path), 0);
	assert_int_equal(nla_put(msg, UNIX_DIAG_VFS, sizeof(vfs), &vfs), 0);
	assert_int_equal(nla_put(msg, UNIX_DIAG_ICONS, sizeof(icons), icons), 0);
	assert_int_equal(nla_put(msg, UNIX_DIAG_RQLEN, sizeof(rq), &rq), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), 0);
	assert_int_equal(ui.type, SOCK_SEQPACKET);
	assert_int_equal(ui.state, 10);
	assert_int_equal(ui.name_len, sizeof(path));
	assert_memory_equal(ui.name, path, sizeof(path));
	assert_true(ui.has_vfs);
	assert_int_equal(ui.vfs_ino, 77);
	assert_int_equal(ui.vfs_dev, 0x803);
	assert_int_equal(ui.nr_icons, 3);
	assert_memory_equal(ui.icons, icons, sizeof(icons));
	assert_int_equal(ui.rqueue, 3);
	assert_int_equal(ui.peer, 0);
	sk_diag_unix_info_free(&ui);
	nlmsg_free(msg);
}

static void test_abstract_name(void **state)
{
	static const char name[] = "\0abstract\0x";  /* NULs are part of it */
	struct nl_msg *msg = new_answer(1, SOCK_DGRAM, 7);
	struct unix_diag_info ui;
	const char *why = NULL;

	(void)state;
	assert_int_equal(nla_put(msg, UNIX_DIAG_NAME, sizeof(name) - 1, name), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), 0);
	assert_int_equal(ui.name_len, sizeof(name) - 1);
	assert_memory_equal(ui.name, name, sizeof(name) - 1);
	assert_false(ui.has_rqlen);
	assert_false(ui.has_shutdown);
	nlmsg_free(msg);
}

static void test_empty_icons(void **state)
{
	struct nl_msg *msg = new_answer(2, SOCK_STREAM, 10);
	struct unix_diag_info ui;
	const char *why = NULL;

	(void)state;
	assert_int_equal(nla_put(msg, UNIX_DIAG_ICONS, 0, NULL), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), 0);
	assert_int_equal(ui.nr_icons, 0);
	assert_null(ui.icons);
	nlmsg_free(msg);
}

static void test_bad_messages(void **state)
{
	char name[SK_UNIX_NAME_MAX + 1];
	uint8_t odd[6] = { 0 };
	uint16_t short_rq = 1;
	struct unix_diag_info ui;
	const char *why = NULL;
	struct nl_msg *msg;

	(void)state;
	/* name longer than sun_path */
	memset(name, 'a', sizeof(name));
	msg = new_answer(3, SOCK_STREAM, 7);
	assert_int_equal(nla_put(msg, UNIX_DIAG_NAME, sizeof(name), name), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), -EINVAL);
	assert_non_null(why);
	nlmsg_free(msg);

	/* pending connections not a multiple of 4 bytes */
	msg = new_answer(3, SOCK_STREAM, 10);
	assert_int_equal(nla_put(msg, UNIX_DIAG_ICONS, sizeof(odd), odd), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), -EINVAL);
	nlmsg_free(msg);

	/* queue lengths shorter than struct unix_diag_rqlen */
	msg = new_answer(3, SOCK_STREAM, 1);
	assert_int_equal(nla_put(msg, UNIX_DIAG_RQLEN, sizeof(short_rq), &short_rq), 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), -EINVAL);
	nlmsg_free(msg);

	/* another family */
	{
		struct unix_diag_msg m = { .udiag_family = AF_INET, .udiag_ino = 5 };

		msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, 0);
		assert_int_equal(nlmsg_append(msg, &m, sizeof(m), NLMSG_ALIGNTO), 0);
		assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), -EINVAL);
		nlmsg_free(msg);
	}

	/* no room for the family header */
	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, 0);
	assert_int_equal(sk_diag_unix_parse(nlmsg_hdr(msg), &ui, &why), -EINVAL);
	nlmsg_free(msg);
}

static void test_table_find(void **state)
{
	struct unix_diag_table t = { 0 };
	uint32_t inos[] = { 30, 10, 20 };

	(void)state;
	assert_null(sk_diag_unix_find(&t, 10));
	t.e = calloc(3, sizeof(*t.e));
	assert_non_null(t.e);
	t.nr = t.cap = 3;
	for (size_t i = 0; i < 3; i++)
		t.e[i].ino = inos[i];
	sk_diag_unix_sort(&t);
	assert_int_equal(sk_diag_unix_find(&t, 20)->ino, 20);
	assert_int_equal(sk_diag_unix_find(&t, 30)->ino, 30);
	assert_null(sk_diag_unix_find(&t, 25));
	sk_diag_unix_free(&t);
	assert_int_equal(t.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connected_stream),
		cmocka_unit_test(test_listener_path),
		cmocka_unit_test(test_abstract_name),
		cmocka_unit_test(test_empty_icons),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_table_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
