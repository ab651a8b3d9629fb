/* The socket option table and the pure logic of src/sockopts.c: every row
 * maps to one SkOpts field of the right type, what is recorded (differs
 * from a fresh socket; buffers only when locked; refusals), and values
 * going into the image and back unchanged, also through protobuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockopts.h"

static const struct sockopt_desc *find(int level, int optname)
{
	size_t nr;
	const struct sockopt_desc *t = sockopts_table(&nr);

	for (size_t i = 0; i < nr; i++)
		if (t[i].level == level && t[i].optname == optname)
			return &t[i];
	fail_msg("option %d/%d not in the table", level, optname);
	return NULL;
}

static void set_int(struct sockopt_val *v, int i)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->data, &i, sizeof(i));
	v->len = sizeof(i);
}

static void test_table_fields(void **state)
{
	const ProtobufCMessageDescriptor *md = &sk_opts__descriptor;
	unsigned int used[256] = { 0 };
	size_t nr;
	const struct sockopt_desc *t = sockopts_table(&nr);

	(void)state;
	assert_true(nr > 50);
	for (size_t i = 0; i < nr; i++) {
		const ProtobufCFieldDescriptor *f;
		ProtobufCType want;

		if (!t[i].field) {
			if (!t[i].refuse)
				fail_msg("%s: no field, yet not refused", t[i].name);
			continue;
		}
		f = protobuf_c_message_descriptor_get_field_by_name(md, t[i].field);
		if (!f)
			fail_msg("%s: no SkOpts field %s", t[i].name, t[i].field);
		assert_int_equal(f->label, PROTOBUF_C_LABEL_OPTIONAL);
		switch (t[i].type) {
		case SOCKOPT_TIMEVAL: want = PROTOBUF_C_TYPE_INT64; break;
		case SOCKOPT_LINGER: want = PROTOBUF_C_TYPE_MESSAGE; break;
		case SOCKOPT_STR: want = PROTOBUF_C_TYPE_STRING; break;
		case SOCKOPT_BYTES:
		case SOCKOPT_FILTER: want = PROTOBUF_C_TYPE_BYTES; break;
		default: want = PROTOBUF_C_TYPE_INT32; break;
		}
		if (f->type != want)
			fail_msg("%s: field %s has protobuf type %d, want %d", t[i].name,
				 t[i].field, f->type, want);
		used[f - md->fields]++;
	}
	/* Each field is one option's: none unused, none shared. */
	for (unsigned int i = 0; i < md->n_fields; i++)
		if (used[i] != 1)
			fail_msg("SkOpts field %s is used by %u options", md->fields[i].name,
				 used[i]);
}

static void test_decide(void **state)
{
	const struct sockopt_desc *ka = find(SOL_SOCKET, SO_KEEPALIVE);
	const struct sockopt_desc *snd = find(SOL_SOCKET, SO_SNDBUF);
	const struct sockopt_desc *rcv = find(SOL_SOCKET, SO_RCVBUF);
	const struct sockopt_desc *ts = find(SOL_SOCKET, SO_TIMESTAMPING_OLD);
	const struct sockopt_desc *ulp = find(IPPROTO_TCP, TCP_ULP);
	const struct sockopt_desc *flt = find(SOL_SOCKET, SO_GET_FILTER);
	static struct sockopt_val cur, dflt;
	char why[160] = "";

	(void)state;
	set_int(&cur, 1);
	set_int(&dflt, 0);
	assert_int_equal(sockopt_decide(ka, &cur, &dflt, 0, why, sizeof(why)), 1);
	set_int(&cur, 0);
	assert_int_equal(sockopt_decide(ka, &cur, &dflt, 0, why, sizeof(why)), 0);
	/* an option this kind of socket does not have */
	cur.err = dflt.err = -ENOPROTOOPT;
	assert_int_equal(sockopt_decide(ka, &cur, &dflt, 0, why, sizeof(why)), 0);
	/* the task's socket cannot report it, a new one can */
	dflt.err = 0;
	assert_int_equal(sockopt_decide(ka, &cur, &dflt, 0, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "SO_KEEPALIVE"));
	cur.err = -EACCES;
	assert_int_equal(sockopt_decide(flt, &cur, &dflt, 0, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "eBPF"));

	/* buffers: by their lock bit, whatever the value */
	set_int(&cur, 212992);
	set_int(&dflt, 212992);
	assert_int_equal(sockopt_decide(snd, &cur, &dflt, 1, why, sizeof(why)), 1);
	assert_int_equal(sockopt_decide(rcv, &cur, &dflt, 1, why, sizeof(why)), 0);
	set_int(&cur, 4096);
	assert_int_equal(sockopt_decide(rcv, &cur, &dflt, 0, why, sizeof(why)), 0);
	assert_int_equal(sockopt_decide(rcv, &cur, &dflt, 3, why, sizeof(why)), 1);

	/* SO_TIMESTAMPING: plain flags yes, OPT_ID refused */
	set_int(&cur, 0x58);
	set_int(&dflt, 0);
	assert_int_equal(sockopt_decide(ts, &cur, &dflt, 0, why, sizeof(why)), 1);
	set_int(&cur, 0x58 | (1 << 7));
	assert_int_equal(sockopt_decide(ts, &cur, &dflt, 0, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "0x80"));

	/* a ULP: refused when set, nothing when not */
	memset(&cur, 0, sizeof(cur));
	memset(&dflt, 0, sizeof(dflt));
	assert_int_equal(sockopt_decide(ulp, &cur, &dflt, 0, why, sizeof(why)), 0);
	memcpy(cur.data, "tls", 3);
	cur.len = 3;
	assert_int_equal(sockopt_decide(ulp, &cur, &dflt, 0, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "TCP_ULP is set (tls)"));
}

/* v recorded into o, read back equal. */
static void round_trip(SkOpts *o, const struct sockopt_desc *d, const struct sockopt_val *v)
{
	static struct sockopt_val back;

	assert_int_equal(sockopt_recorded(o, d, &back), -ENOENT);
	assert_int_equal(sockopt_record(o, d, v), 0);
	assert_int_equal(sockopt_recorded(o, d, &back), 0);
	assert_true(sockopt_val_eq(v, &back));
}

static void test_record(void **state)
{
	static struct sockopt_val v;
	struct timeval tv = { 2, 250000 };
	struct linger l = { 0, 9 };
	static const uint8_t filter[16] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0xff, 0xff };
	SkOpts o = SK_OPTS__INIT, *back;
	uint8_t buf[256];
	size_t len;

	(void)state;
	set_int(&v, -1);
	round_trip(&o, find(IPPROTO_TCP, TCP_LINGER2), &v);
	assert_true(o.has_tcp_linger2);
	assert_int_equal(o.tcp_linger2, -1);
	memset(&v, 0, sizeof(v));
	memcpy(v.data, &tv, sizeof(tv));
	v.len = sizeof(tv);
	round_trip(&o, find(SOL_SOCKET, SO_SNDTIMEO_OLD), &v);
	assert_int_equal(o.sndtimeo_us, 2250000);
	memset(&v, 0, sizeof(v));
	memcpy(v.data, &l, sizeof(l));
	v.len = sizeof(l);
	round_trip(&o, find(SOL_SOCKET, SO_LINGER), &v);
	assert_false(o.linger->onoff);
	assert_int_equal(o.linger->secs, 9);
	memset(&v, 0, sizeof(v));
	memcpy(v.data, "reno", 4);
	v.len = 4;
	round_trip(&o, find(IPPROTO_TCP, TCP_CONGESTION), &v);
	assert_string_equal(o.tcp_congestion, "reno");
	memset(&v, 0, sizeof(v));
	memcpy(v.data, filter, sizeof(filter));
	v.len = sizeof(filter);
	round_trip(&o, find(SOL_SOCKET, SO_GET_FILTER), &v);
	assert_int_equal(o.filter.len, 16);

	/* through the image and back */
	len = sk_opts__get_packed_size(&o);
	assert_true(len <= sizeof(buf));
	sk_opts__pack(&o, buf);
	back = sk_opts__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_int_equal(back->tcp_linger2, -1);
	assert_int_equal(back->sndtimeo_us, 2250000);
	assert_int_equal(back->linger->secs, 9);
	assert_string_equal(back->tcp_congestion, "reno");
	assert_memory_equal(back->filter.data, filter, sizeof(filter));
	assert_false(back->has_keepalive);
	sk_opts__free_unpacked(back, NULL);
	free(o.linger);
	free(o.tcp_congestion);
	free(o.filter.data);
}

static void test_mcast_parse(void **state)
{
	static const char igmp[] =
		"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
		"1\tlo        :     2      V3\n"
		"\t\t\t\t070707EF     1 0:00000000\t\t0\n"
		"\t\t\t\t010000E0     1 0:00000000\t\t0\n"
		"4\teth0      :     1      V3\n"
		"\t\t\t\t010000E0     1 0:00000000\t\t0";      /* no final newline */
	static const char igmp6[] =
		"1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
		"3    eth0            ff0200000000000000000001ff4d1a2b     1 00000004 0\n"
		"garbage\n";
	static const uint8_t g239[4] = { 239, 7, 7, 7 }, all[4] = { 224, 0, 0, 1 };
	struct sockopt_mcast *g;
	size_t nr;

	(void)state;
	assert_int_equal(sockopts_mcast_parse(igmp, AF_INET, &g, &nr), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(g[0].family, AF_INET);
	assert_int_equal(g[0].ifindex, 1);
	assert_memory_equal(g[0].addr, g239, 4);
	assert_int_equal(g[1].ifindex, 1);
	assert_memory_equal(g[1].addr, all, 4);
	assert_int_equal(g[2].ifindex, 4);
	assert_memory_equal(g[2].addr, all, 4);
	free(g);

	assert_int_equal(sockopts_mcast_parse(igmp6, AF_INET6, &g, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(g[0].family, AF_INET6);
	assert_int_equal(g[0].ifindex, 1);
	assert_int_equal(g[0].addr[0], 0xff);
	assert_int_equal(g[0].addr[1], 0x02);
	assert_int_equal(g[0].addr[15], 0x01);
	assert_int_equal(g[1].ifindex, 3);
	assert_int_equal(g[1].addr[13], 0x4d);
	free(g);

	assert_int_equal(sockopts_mcast_parse("", AF_INET, &g, &nr), 0);
	assert_int_equal(nr, 0);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_fields),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_mcast_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
