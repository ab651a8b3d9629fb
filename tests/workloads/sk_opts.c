/* minicr-test-skopts DIR [CASE]: sockets with socket options set away from
 * their defaults, for tests/cr/scenarios/sk-opts*.sh.
 *
 * Without CASE: a TCP listener, a UDP socket and an IPv6 UDP socket bound
 * to the loopback (port 0: no clash with other tests), an unbound TCP
 * socket, a unix stream pair and an unbound unix datagram socket, each
 * with its own set of options (SOL_SOCKET, TCP, IP, IPv6, a classic BPF
 * filter). It then reads back every option of a fixed list on every
 * socket (and its address), writes DIR/ready, and, each time DIR/verify
 * appears, reads them all again and writes DIR/result: "OK N values" or
 * "FAIL" lines naming socket, option, before and after.
 *
 * CASE makes state minicr must refuse: "ebpf" (an eBPF socket filter),
 * "udp-queued" (a datagram waiting on a UDP socket), "mcast" (a multicast
 * group joined), "tcp-md5" (a TCP listener with an MD5 signature key),
 * "unix-pending-data" (a unix connection not yet accepted
 * that already carries data). DIR/ready then; it just sleeps. */
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

#define NSK 7

static const char *sk_name[NSK] = {
	"tcp-listener", "udp4", "udp6", "tcp-unbound", "unix-stream-a", "unix-stream-b",
	"unix-dgram",
};
static int sk[NSK];

static const struct { int level, opt; const char *name; } opts[] = {
#define O(l, o) { l, o, #o }
	O(SOL_SOCKET, SO_KEEPALIVE), O(SOL_SOCKET, SO_LINGER), O(SOL_SOCKET, SO_BINDTODEVICE),
	O(SOL_SOCKET, SO_BUF_LOCK), O(SOL_SOCKET, SO_SNDBUF), O(SOL_SOCKET, SO_RCVBUF),
	O(SOL_SOCKET, SO_PRIORITY), O(SOL_SOCKET, SO_MARK), O(SOL_SOCKET, SO_RCVLOWAT),
	O(SOL_SOCKET, SO_RCVTIMEO_OLD), O(SOL_SOCKET, SO_SNDTIMEO_OLD),
	O(SOL_SOCKET, SO_OOBINLINE), O(SOL_SOCKET, SO_PASSCRED), O(SOL_SOCKET, SO_PASSSEC),
	O(SOL_SOCKET, SO_TIMESTAMP_OLD), O(SOL_SOCKET, SO_TIMESTAMPNS_OLD),
	O(SOL_SOCKET, SO_TIMESTAMPING_OLD), O(SOL_SOCKET, SO_BROADCAST),
	O(SOL_SOCKET, SO_DONTROUTE), O(SOL_SOCKET, SO_NO_CHECK), O(SOL_SOCKET, SO_INCOMING_CPU),
	O(SOL_SOCKET, SO_LOCK_FILTER), O(SOL_SOCKET, SO_REUSEADDR),
	O(IPPROTO_TCP, TCP_NODELAY), O(IPPROTO_TCP, TCP_CORK), O(IPPROTO_TCP, TCP_KEEPIDLE),
	O(IPPROTO_TCP, TCP_KEEPINTVL), O(IPPROTO_TCP, TCP_KEEPCNT),
	O(IPPROTO_TCP, TCP_USER_TIMEOUT), O(IPPROTO_TCP, TCP_MAXSEG),
	O(IPPROTO_TCP, TCP_DEFER_ACCEPT), O(IPPROTO_TCP, TCP_QUICKACK),
	O(IPPROTO_TCP, TCP_NOTSENT_LOWAT), O(IPPROTO_TCP, TCP_CONGESTION),
	O(IPPROTO_TCP, TCP_FASTOPEN), O(IPPROTO_TCP, TCP_SYNCNT), O(IPPROTO_TCP, TCP_LINGER2),
	O(IPPROTO_TCP, TCP_WINDOW_CLAMP),
	O(IPPROTO_IP, IP_TOS), O(IPPROTO_IP, IP_TTL), O(IPPROTO_IP, IP_FREEBIND),
	O(IPPROTO_IP, IP_TRANSPARENT), O(IPPROTO_IP, IP_PKTINFO), O(IPPROTO_IP, IP_RECVTOS),
	O(IPPROTO_IP, IP_RECVTTL), O(IPPROTO_IP, IP_MTU_DISCOVER),
	O(IPPROTO_IP, IP_MULTICAST_TTL), O(IPPROTO_IP, IP_MULTICAST_LOOP),
	O(IPPROTO_IP, IP_MULTICAST_IF), O(IPPROTO_IP, IP_UNICAST_IF),
	O(IPPROTO_IPV6, IPV6_TCLASS), O(IPPROTO_IPV6, IPV6_UNICAST_HOPS),
	O(IPPROTO_IPV6, IPV6_RECVPKTINFO), O(IPPROTO_IPV6, IPV6_V6ONLY),
	O(IPPROTO_IPV6, IPV6_MULTICAST_HOPS), O(IPPROTO_IPV6, IPV6_RECVHOPOPTS),
	O(IPPROTO_IPV6, IPV6_HOPOPTS), O(IPPROTO_IPV6, IPV6_ADDR_PREFERENCES),
	O(SOL_SOCKET, SO_PEEK_OFF),
#undef O
};
#define NOPT (sizeof(opts) / sizeof(opts[0]))

/* One read of an option (or the address / the filter): err or bytes. */
struct val {
	int err;
	socklen_t len;
	unsigned char b[512];
};
static struct val before[NSK][NOPT + 2];

static void die(const char *what)
{
	fprintf(stderr, "minicr-test-skopts: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void seti(int fd, int level, int opt, int v, const char *what)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0)
		die(what);
}

static void set_raw(int fd, int level, int opt, const void *p, socklen_t len, const char *what)
{
	if (setsockopt(fd, level, opt, p, len) < 0)
		die(what);
}

static void read_all(int i, struct val *v)
{
	for (size_t o = 0; o < NOPT + 2; o++) {
		struct val *x = &v[o];
		int ret;

		memset(x, 0, sizeof(*x));
		x->len = sizeof(x->b);
		if (o == NOPT) {
			ret = getsockname(sk[i], (struct sockaddr *)x->b, &x->len);
		} else if (o == NOPT + 1) {
			x->len = sizeof(x->b) / sizeof(struct sock_filter);
			ret = getsockopt(sk[i], SOL_SOCKET, SO_GET_FILTER, x->b, &x->len);
		} else {
			if (opts[o].level == SOL_SOCKET && (opts[o].opt == SO_SNDBUF ||
							    opts[o].opt == SO_RCVBUF))
				x->len = sizeof(int);
			ret = getsockopt(sk[i], opts[o].level, opts[o].opt, x->b, &x->len);
		}
		x->err = ret < 0 ? errno : 0;
	}
}

static void filter(int fd)
{
	/* accept every packet, whole: ret #0xffff ... via a jump, so it is
	 * not the trivial one-instruction program */
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog p = { .len = 4, .filter = code };

	set_raw(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p), "SO_ATTACH_FILTER");
}

static void timeo(int fd, int opt, long sec, long usec)
{
	struct timeval tv = { sec, usec };

	set_raw(fd, SOL_SOCKET, opt, &tv, sizeof(tv), "SO_*TIMEO");
}

static void bind_lo(int fd, int family)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4)) :
	    bind(fd, (struct sockaddr *)&a6, sizeof(a6)))
		die("bind");
}

static void make_all(void)
{
	struct linger l = { 1, 7 };
	int sv[2];

	sk[0] = socket(AF_INET, SOCK_STREAM, 0);
	seti(sk[0], SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	set_raw(sk[0], SOL_SOCKET, SO_BINDTODEVICE, "lo", 2, "SO_BINDTODEVICE");
	seti(sk[0], SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	set_raw(sk[0], SOL_SOCKET, SO_LINGER, &l, sizeof(l), "SO_LINGER");
	seti(sk[0], SOL_SOCKET, SO_RCVBUF, 65536, "SO_RCVBUF");
	seti(sk[0], SOL_SOCKET, SO_SNDBUF, 50000, "SO_SNDBUF");
	seti(sk[0], SOL_SOCKET, SO_MARK, 42, "SO_MARK");
	seti(sk[0], SOL_SOCKET, SO_RCVLOWAT, 10, "SO_RCVLOWAT");
	timeo(sk[0], SO_RCVTIMEO_OLD, 1, 500000);
	timeo(sk[0], SO_SNDTIMEO_OLD, 2, 250000);
	seti(sk[0], SOL_SOCKET, SO_OOBINLINE, 1, "SO_OOBINLINE");
	seti(sk[0], SOL_SOCKET, SO_TIMESTAMPNS_OLD, 1, "SO_TIMESTAMPNS");
	seti(sk[0], IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	seti(sk[0], IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK");
	seti(sk[0], IPPROTO_TCP, TCP_KEEPIDLE, 100, "TCP_KEEPIDLE");
	seti(sk[0], IPPROTO_TCP, TCP_KEEPINTVL, 20, "TCP_KEEPINTVL");
	seti(sk[0], IPPROTO_TCP, TCP_KEEPCNT, 4, "TCP_KEEPCNT");
	seti(sk[0], IPPROTO_TCP, TCP_USER_TIMEOUT, 5000, "TCP_USER_TIMEOUT");
	seti(sk[0], IPPROTO_TCP, TCP_MAXSEG, 1000, "TCP_MAXSEG");
	seti(sk[0], IPPROTO_TCP, TCP_DEFER_ACCEPT, 5, "TCP_DEFER_ACCEPT");
	seti(sk[0], IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384, "TCP_NOTSENT_LOWAT");
	set_raw(sk[0], IPPROTO_TCP, TCP_CONGESTION, "reno", 4, "TCP_CONGESTION");
	seti(sk[0], IPPROTO_TCP, TCP_FASTOPEN, 5, "TCP_FASTOPEN");
	seti(sk[0], IPPROTO_TCP, TCP_SYNCNT, 3, "TCP_SYNCNT");
	seti(sk[0], IPPROTO_TCP, TCP_LINGER2, 30, "TCP_LINGER2");
	seti(sk[0], IPPROTO_TCP, TCP_WINDOW_CLAMP, 20000, "TCP_WINDOW_CLAMP");
	seti(sk[0], IPPROTO_IP, IP_TOS, 0x10, "IP_TOS");
	/* after IP_TOS, which sets the priority from the TOS */
	seti(sk[0], SOL_SOCKET, SO_PRIORITY, 5, "SO_PRIORITY");
	seti(sk[0], IPPROTO_IP, IP_TTL, 33, "IP_TTL");
	seti(sk[0], IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND");
	seti(sk[0], IPPROTO_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT");
	filter(sk[0]);
	seti(sk[0], SOL_SOCKET, SO_LOCK_FILTER, 1, "SO_LOCK_FILTER");
	bind_lo(sk[0], AF_INET);
	if (listen(sk[0], 7) < 0)
		die("listen");

	sk[1] = socket(AF_INET, SOCK_DGRAM, 0);
	seti(sk[1], SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
	seti(sk[1], SOL_SOCKET, SO_DONTROUTE, 1, "SO_DONTROUTE");
	seti(sk[1], SOL_SOCKET, SO_NO_CHECK, 1, "SO_NO_CHECK");
	seti(sk[1], SOL_SOCKET, SO_INCOMING_CPU, 1, "SO_INCOMING_CPU");
	seti(sk[1], SOL_SOCKET, SO_TIMESTAMP_OLD, 1, "SO_TIMESTAMP");
	seti(sk[1], SOL_SOCKET, SO_TIMESTAMPING_OLD, 0x58 /* RX_SW|SOFTWARE|... */,
	     "SO_TIMESTAMPING");
	seti(sk[1], IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
	seti(sk[1], IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS");
	seti(sk[1], IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
	seti(sk[1], IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO, "IP_MTU_DISCOVER");
	seti(sk[1], IPPROTO_IP, IP_MULTICAST_TTL, 5, "IP_MULTICAST_TTL");
	seti(sk[1], IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
	{
		struct in_addr lo = { htonl(INADDR_LOOPBACK) };

		set_raw(sk[1], IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo), "IP_MULTICAST_IF");
	}
	seti(sk[1], IPPROTO_IP, IP_UNICAST_IF, (int)htonl(1), "IP_UNICAST_IF");
	timeo(sk[1], SO_RCVTIMEO_OLD, 0, 300000);
	bind_lo(sk[1], AF_INET);

	sk[2] = socket(AF_INET6, SOCK_DGRAM, 0);
	seti(sk[2], IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
	seti(sk[2], IPPROTO_IPV6, IPV6_TCLASS, 0x20, "IPV6_TCLASS");
	seti(sk[2], IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7, "IPV6_UNICAST_HOPS");
	seti(sk[2], IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
	seti(sk[2], IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 9, "IPV6_MULTICAST_HOPS");
	seti(sk[2], IPPROTO_IPV6, IPV6_RECVHOPOPTS, 1, "IPV6_RECVHOPOPTS");
	seti(sk[2], IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, 2 /* IPV6_PREFER_SRC_PUBLIC */,
	     "IPV6_ADDR_PREFERENCES");
	{
		/* a sticky hop-by-hop header: next header, length 0, PadN of 4 */
		static const unsigned char hop[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

		set_raw(sk[2], IPPROTO_IPV6, IPV6_HOPOPTS, hop, sizeof(hop), "IPV6_HOPOPTS");
	}
	seti(sk[2], SOL_SOCKET, SO_PEEK_OFF, 0, "SO_PEEK_OFF");
	bind_lo(sk[2], AF_INET6);

	sk[3] = socket(AF_INET, SOCK_STREAM, 0);
	set_raw(sk[3], SOL_SOCKET, SO_BINDTODEVICE, "lo", 2, "SO_BINDTODEVICE");
	seti(sk[3], SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	l.l_onoff = 1;
	l.l_linger = 9;
	set_raw(sk[3], SOL_SOCKET, SO_LINGER, &l, sizeof(l), "SO_LINGER");
	l.l_onoff = 0;      /* off again: the kernel keeps l_linger 9 */
	set_raw(sk[3], SOL_SOCKET, SO_LINGER, &l, sizeof(l), "SO_LINGER");
	seti(sk[3], IPPROTO_TCP, TCP_QUICKACK, 0, "TCP_QUICKACK");
	seti(sk[3], IPPROTO_TCP, TCP_USER_TIMEOUT, 1234, "TCP_USER_TIMEOUT");
	seti(sk[3], SOL_SOCKET, SO_BUF_LOCK, 2, "SO_BUF_LOCK");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	sk[4] = sv[0];
	sk[5] = sv[1];
	seti(sk[4], SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED");
	seti(sk[4], SOL_SOCKET, SO_SNDBUF, 30000, "SO_SNDBUF");
	timeo(sk[4], SO_RCVTIMEO_OLD, 4, 0);
	seti(sk[5], SOL_SOCKET, SO_PASSSEC, 1, "SO_PASSSEC");
	seti(sk[5], SOL_SOCKET, SO_RCVLOWAT, 3, "SO_RCVLOWAT");

	sk[6] = socket(AF_UNIX, SOCK_DGRAM, 0);
	seti(sk[6], SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED");
	seti(sk[6], SOL_SOCKET, SO_RCVBUF, 40000, "SO_RCVBUF");
	timeo(sk[6], SO_SNDTIMEO_OLD, 0, 700000);
	seti(sk[6], SOL_SOCKET, SO_MARK, 7, "SO_MARK");
	seti(sk[6], SOL_SOCKET, SO_PRIORITY, 3, "SO_PRIORITY");
	filter(sk[6]);
}

static void ready(const char *dir)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/ready", dir);
	f = fopen(p, "w");
	if (!f)
		die(p);
	fprintf(f, "%d\n", getpid());
	fclose(f);
}

static int bpf_filter_fd(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0xffff },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0)
		die("BPF_PROG_LOAD");
	return fd;
}

/* The state of CASE; its fds stay open for the dump to see. */
static void make_refused(const char *c)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	if (!strcmp(c, "ebpf")) {
		int prog = bpf_filter_fd();

		seti(fd, SOL_SOCKET, SO_ATTACH_BPF, prog, "SO_ATTACH_BPF");
		close(prog);    /* the socket holds it */
	} else if (!strcmp(c, "udp-queued")) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		bind_lo(fd, AF_INET);
		if (getsockname(fd, (struct sockaddr *)&a, &len) < 0 ||
		    sendto(fd, "hello", 5, 0, (struct sockaddr *)&a, len) != 5)
			die("sending to itself");
	} else if (!strcmp(c, "tcp-md5")) {
		struct tcp_md5sig k = { .tcpm_keylen = 6 };
		struct sockaddr_in *peer = (struct sockaddr_in *)&k.tcpm_addr;

		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		peer->sin_family = AF_INET;
		peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		memcpy(k.tcpm_key, "secret", 6);
		set_raw(fd, IPPROTO_TCP, TCP_MD5SIG, &k, sizeof(k), "TCP_MD5SIG");
		bind_lo(fd, AF_INET);
		if (listen(fd, 1) < 0)
			die("listen");
	} else if (!strcmp(c, "mcast")) {
		struct ip_mreqn m = { .imr_multiaddr.s_addr = inet_addr("239.7.7.7"),
				      .imr_ifindex = 1 };

		set_raw(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m), "IP_ADD_MEMBERSHIP");
	} else if (!strcmp(c, "unix-pending-data")) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_STREAM, 0), cl = socket(AF_UNIX, SOCK_STREAM, 0);
		socklen_t len;

		/* an abstract name unique to this process */
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		      snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "minicr-skopts-%d", getpid());
		if (bind(l, (struct sockaddr *)&a, len) < 0 || listen(l, 4) < 0 ||
		    connect(cl, (struct sockaddr *)&a, len) < 0 || write(cl, "data", 4) != 4)
			die("pending unix connection with data");
	} else {
		fprintf(stderr, "minicr-test-skopts: unknown case %s\n", c);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static struct val now[NOPT + 2];
	char verify[4096], result[4096], tmp[4200];
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	if (argc < 2) {
		fprintf(stderr, "usage: minicr-test-skopts DIR [CASE]\n");
		return 2;
	}
	if (argc > 2) {
		make_refused(argv[2]);
		ready(argv[1]);
		for (;;)
			pause();
	}
	make_all();
	for (int i = 0; i < NSK; i++)
		read_all(i, before[i]);
	ready(argv[1]);
	snprintf(verify, sizeof(verify), "%s/verify", argv[1]);
	snprintf(result, sizeof(result), "%s/result", argv[1]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", result);
	for (;;) {
		unsigned int same = 0, bad = 0;
		FILE *f;

		nanosleep(&ts, NULL);
		if (access(verify, F_OK) || !access(result, F_OK))
			continue;
		f = fopen(tmp, "w");
		if (!f)
			die(tmp);
		for (int i = 0; i < NSK; i++) {
			read_all(i, now);
			for (size_t o = 0; o < NOPT + 2; o++) {
				const struct val *a = &before[i][o], *b = &now[o];
				const char *n = o == NOPT ? "address" : o == NOPT + 1 ? "filter" :
						opts[o].name;
				int ia = 0, ib = 0;

				if (a->err == b->err && a->len == b->len &&
				    !memcmp(a->b, b->b, a->len)) {
					same++;
					continue;
				}
				memcpy(&ia, a->b, a->len < 4 ? a->len : 4);
				memcpy(&ib, b->b, b->len < 4 ? b->len : 4);
				fprintf(f, "FAIL %s %s: before err %d len %u int %d, after err %d "
					"len %u int %d\n", sk_name[i], n, a->err, a->len, ia, b->err,
					b->len, ib);
				bad++;
			}
		}
		if (!bad)
			fprintf(f, "OK %u values the same on %d sockets\n", same, NSK);
		fclose(f);
		rename(tmp, result);
	}
}
