#include "sockopts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef SO_TXREHASH
#define SO_TXREHASH 74
#endif
#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_RCVPRIORITY
#define SO_RCVPRIORITY 82
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#ifndef IPV6_FLOWINFO_SEND
#define IPV6_FLOWINFO_SEND 33
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif

#define SOCK_SNDBUF_LOCK 1
#define SOCK_RCVBUF_LOCK 2
#define SOF_TIMESTAMPING_OPT_ID   (1 << 7)
#define SOF_TIMESTAMPING_BIND_PHC (1 << 15)

#define I(lvl, opt, fld) { lvl, opt, #opt, fld, SOCKOPT_INT, 0, false, 0 }

/* Order is restore order: a filter before its lock, buffers before
 * SO_BUF_LOCK and SO_RCVLOWAT (TCP caps the low mark by the buffer). */
static const struct sockopt_desc table[] = {
	{ SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", "bind_device", SOCKOPT_STR, 0, false, 0 },
	{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", "sndbuf", SOCKOPT_BUF, 0, false, SOCK_SNDBUF_LOCK },
	{ SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", "rcvbuf", SOCKOPT_BUF, 0, false, SOCK_RCVBUF_LOCK },
	I(SOL_SOCKET, SO_BUF_LOCK, "buf_lock"),
	I(SOL_SOCKET, SO_KEEPALIVE, "keepalive"),
	{ SOL_SOCKET, SO_LINGER, "SO_LINGER", "linger", SOCKOPT_LINGER, 0, false, 0 },
	I(SOL_SOCKET, SO_PRIORITY, "priority"),
	I(SOL_SOCKET, SO_MARK, "mark"),
	I(SOL_SOCKET, SO_RCVLOWAT, "rcvlowat"),
	{ SOL_SOCKET, SO_RCVTIMEO_OLD, "SO_RCVTIMEO", "rcvtimeo_us", SOCKOPT_TIMEVAL, 0, false, 0 },
	{ SOL_SOCKET, SO_SNDTIMEO_OLD, "SO_SNDTIMEO", "sndtimeo_us", SOCKOPT_TIMEVAL, 0, false, 0 },
	I(SOL_SOCKET, SO_OOBINLINE, "oobinline"),
	I(SOL_SOCKET, SO_PASSCRED, "passcred"),
	I(SOL_SOCKET, SO_PASSSEC, "passsec"),
	I(SOL_SOCKET, SO_TIMESTAMP_OLD, "timestamp"),
	I(SOL_SOCKET, SO_TIMESTAMPNS_OLD, "timestampns"),
	I(SOL_SOCKET, SO_TIMESTAMP_NEW, "timestamp_new"),
	I(SOL_SOCKET, SO_TIMESTAMPNS_NEW, "timestampns_new"),
	/* OPT_ID numbers sent packets from a key getsockopt() does not
	 * show; BIND_PHC names a clock it does not show either. */
	{ SOL_SOCKET, SO_TIMESTAMPING_OLD, "SO_TIMESTAMPING", "timestamping", SOCKOPT_INT,
	  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_BIND_PHC, false, 0 },
	I(SOL_SOCKET, SO_BROADCAST, "broadcast"),
	I(SOL_SOCKET, SO_DONTROUTE, "dontroute"),
	I(SOL_SOCKET, SO_NO_CHECK, "no_check"),
	I(SOL_SOCKET, SO_INCOMING_CPU, "incoming_cpu"),
	I(SOL_SOCKET, SO_RXQ_OVFL, "rxq_ovfl"),
	I(SOL_SOCKET, SO_WIFI_STATUS, "wifi_status"),
	I(SOL_SOCKET, SO_NOFCS, "nofcs"),
	I(SOL_SOCKET, SO_SELECT_ERR_QUEUE, "select_err_queue"),
	I(SOL_SOCKET, SO_BUSY_POLL, "busy_poll"),
	I(SOL_SOCKET, SO_PREFER_BUSY_POLL, "prefer_busy_poll"),
	I(SOL_SOCKET, SO_ZEROCOPY, "zerocopy"),
	I(SOL_SOCKET, SO_TXREHASH, "txrehash"),
	I(SOL_SOCKET, SO_RCVMARK, "rcvmark"),
	I(SOL_SOCKET, SO_PASSPIDFD, "passpidfd"),
	I(SOL_SOCKET, SO_RCVPRIORITY, "rcvpriority"),
	I(SOL_SOCKET, SO_PASSRIGHTS, "passrights"),
	{ SOL_SOCKET, SO_GET_FILTER, "SO_ATTACH_FILTER", "filter", SOCKOPT_FILTER, 0, false, 0 },
	I(SOL_SOCKET, SO_LOCK_FILTER, "lock_filter"),
	I(SOL_SOCKET, SO_PEEK_OFF, "peek_off"),

	I(IPPROTO_TCP, TCP_NODELAY, "tcp_nodelay"),
	I(IPPROTO_TCP, TCP_CORK, "tcp_cork"),
	I(IPPROTO_TCP, TCP_KEEPIDLE, "tcp_keepidle"),
	I(IPPROTO_TCP, TCP_KEEPINTVL, "tcp_keepintvl"),
	I(IPPROTO_TCP, TCP_KEEPCNT, "tcp_keepcnt"),
	I(IPPROTO_TCP, TCP_USER_TIMEOUT, "tcp_user_timeout"),
	I(IPPROTO_TCP, TCP_MAXSEG, "tcp_maxseg"),
	I(IPPROTO_TCP, TCP_DEFER_ACCEPT, "tcp_defer_accept"),
	I(IPPROTO_TCP, TCP_QUICKACK, "tcp_quickack"),
	I(IPPROTO_TCP, TCP_NOTSENT_LOWAT, "tcp_notsent_lowat"),
	{ IPPROTO_TCP, TCP_CONGESTION, "TCP_CONGESTION", "tcp_congestion", SOCKOPT_STR, 0, false, 0 },
	I(IPPROTO_TCP, TCP_FASTOPEN, "tcp_fastopen"),
	I(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, "tcp_fastopen_connect"),
	I(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, "tcp_fastopen_no_cookie"),
	I(IPPROTO_TCP, TCP_SYNCNT, "tcp_syncnt"),
	I(IPPROTO_TCP, TCP_LINGER2, "tcp_linger2"),
	I(IPPROTO_TCP, TCP_WINDOW_CLAMP, "tcp_window_clamp"),
	I(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, "tcp_thin_linear_timeouts"),
	I(IPPROTO_TCP, TCP_SAVE_SYN, "tcp_save_syn"),
	I(IPPROTO_TCP, TCP_INQ, "tcp_inq"),
	I(IPPROTO_TCP, TCP_TX_DELAY, "tcp_tx_delay"),
	/* A ULP (kTLS, ...) carries state of its own. */
	{ IPPROTO_TCP, TCP_ULP, "TCP_ULP", "tcp_ulp", SOCKOPT_STR, 0, true, 0 },
	/* TCP-AO keys cannot be read back (no field: refused when set). */
	{ IPPROTO_TCP, TCP_AO_INFO, "TCP_AO_INFO", NULL, SOCKOPT_BYTES, 0, true, 0 },
	/* Without a key of its own a socket reads the namespace's: recorded
	 * only when it differs. */
	{ IPPROTO_TCP, TCP_FASTOPEN_KEY, "TCP_FASTOPEN_KEY", "tcp_fastopen_key", SOCKOPT_BYTES,
	  0, false, 0 },

	I(IPPROTO_IP, IP_TOS, "ip_tos"),
	I(IPPROTO_IP, IP_TTL, "ip_ttl"),
	I(IPPROTO_IP, IP_FREEBIND, "ip_freebind"),
	I(IPPROTO_IP, IP_TRANSPARENT, "ip_transparent"),
	I(IPPROTO_IP, IP_PKTINFO, "ip_pktinfo"),
	I(IPPROTO_IP, IP_RECVTOS, "ip_recvtos"),
	I(IPPROTO_IP, IP_RECVTTL, "ip_recvttl"),
	I(IPPROTO_IP, IP_RECVOPTS, "ip_recvopts"),
	I(IPPROTO_IP, IP_RETOPTS, "ip_retopts"),
	I(IPPROTO_IP, IP_RECVERR, "ip_recverr"),
	I(IPPROTO_IP, IP_RECVORIGDSTADDR, "ip_recvorigdstaddr"),
	I(IPPROTO_IP, IP_MTU_DISCOVER, "ip_mtu_discover"),
	I(IPPROTO_IP, IP_MULTICAST_TTL, "ip_multicast_ttl"),
	I(IPPROTO_IP, IP_MULTICAST_LOOP, "ip_multicast_loop"),
	I(IPPROTO_IP, IP_MULTICAST_IF, "ip_multicast_if"),
	I(IPPROTO_IP, IP_MULTICAST_ALL, "ip_multicast_all"),
	I(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "ip_bind_address_no_port"),
	I(IPPROTO_IP, IP_RECVFRAGSIZE, "ip_recvfragsize"),
	I(IPPROTO_IP, IP_CHECKSUM, "ip_checksum"),
	I(IPPROTO_IP, IP_NODEFRAG, "ip_nodefrag"),
	I(IPPROTO_IP, IP_MINTTL, "ip_minttl"),
	I(IPPROTO_IP, IP_PASSSEC, "ip_passsec"),
	I(IPPROTO_IP, IP_RECVERR_RFC4884, "ip_recverr_rfc4884"),
	I(IPPROTO_IP, IP_LOCAL_PORT_RANGE, "ip_local_port_range"),
	{ IPPROTO_IP, IP_OPTIONS, "IP_OPTIONS", "ip_options", SOCKOPT_BYTES, 0, false, 0 },
	I(IPPROTO_IP, IP_UNICAST_IF, "ip_unicast_if"),

	I(IPPROTO_IPV6, IPV6_TCLASS, "ipv6_tclass"),
	I(IPPROTO_IPV6, IPV6_UNICAST_HOPS, "ipv6_unicast_hops"),
	I(IPPROTO_IPV6, IPV6_RECVPKTINFO, "ipv6_recvpktinfo"),
	I(IPPROTO_IPV6, IPV6_RECVTCLASS, "ipv6_recvtclass"),
	I(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, "ipv6_recvhoplimit"),
	I(IPPROTO_IPV6, IPV6_RECVERR, "ipv6_recverr"),
	I(IPPROTO_IPV6, IPV6_MTU_DISCOVER, "ipv6_mtu_discover"),
	I(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "ipv6_multicast_hops"),
	I(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "ipv6_multicast_loop"),
	I(IPPROTO_IPV6, IPV6_MULTICAST_IF, "ipv6_multicast_if"),
	I(IPPROTO_IPV6, IPV6_MULTICAST_ALL, "ipv6_multicast_all"),
	I(IPPROTO_IPV6, IPV6_FREEBIND, "ipv6_freebind"),
	I(IPPROTO_IPV6, IPV6_TRANSPARENT, "ipv6_transparent"),
	I(IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, "ipv6_recvorigdstaddr"),
	I(IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, "ipv6_autoflowlabel"),
	I(IPPROTO_IPV6, IPV6_DONTFRAG, "ipv6_dontfrag"),
	I(IPPROTO_IPV6, IPV6_MINHOPCOUNT, "ipv6_minhopcount"),
	I(IPPROTO_IPV6, IPV6_RECVFRAGSIZE, "ipv6_recvfragsize"),
	I(IPPROTO_IPV6, IPV6_RECVERR_RFC4884, "ipv6_recverr_rfc4884"),
	I(IPPROTO_IPV6, IPV6_UNICAST_IF, "ipv6_unicast_if"),
	I(IPPROTO_IPV6, IPV6_RECVPATHMTU, "ipv6_recvpathmtu"),
	I(IPPROTO_IPV6, IPV6_RECVRTHDR, "ipv6_recvrthdr"),
	I(IPPROTO_IPV6, IPV6_RECVHOPOPTS, "ipv6_recvhopopts"),
	I(IPPROTO_IPV6, IPV6_RECVDSTOPTS, "ipv6_recvdstopts"),
	I(IPPROTO_IPV6, IPV6_FLOWINFO, "ipv6_flowinfo"),
	I(IPPROTO_IPV6, IPV6_FLOWINFO_SEND, "ipv6_flowinfo_send"),
	I(IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, "ipv6_addr_preferences"),
	I(IPPROTO_IPV6, IPV6_2292PKTINFO, "ipv6_2292pktinfo"),
	I(IPPROTO_IPV6, IPV6_2292HOPLIMIT, "ipv6_2292hoplimit"),
	I(IPPROTO_IPV6, IPV6_2292HOPOPTS, "ipv6_2292hopopts"),
	I(IPPROTO_IPV6, IPV6_2292DSTOPTS, "ipv6_2292dstopts"),
	I(IPPROTO_IPV6, IPV6_2292RTHDR, "ipv6_2292rthdr"),
	I(IPPROTO_IPV6, IPV6_ROUTER_ALERT_ISOLATE, "ipv6_router_alert_isolate"),
	{ IPPROTO_IPV6, IPV6_HOPOPTS, "IPV6_HOPOPTS", "ipv6_hopopts", SOCKOPT_BYTES, 0, false, 0 },
	{ IPPROTO_IPV6, IPV6_RTHDRDSTOPTS, "IPV6_RTHDRDSTOPTS", "ipv6_rthdrdstopts", SOCKOPT_BYTES,
	  0, false, 0 },
	{ IPPROTO_IPV6, IPV6_RTHDR, "IPV6_RTHDR", "ipv6_rthdr", SOCKOPT_BYTES, 0, false, 0 },
	{ IPPROTO_IPV6, IPV6_DSTOPTS, "IPV6_DSTOPTS", "ipv6_dstopts", SOCKOPT_BYTES, 0, false, 0 },
};

const struct sockopt_desc *sockopts_table(size_t *nr)
{
	*nr = ARRAY_SIZE(table);
	return table;
}

/* ---- pure ---- */

static int val_int(const struct sockopt_val *v)
{
	int i = 0;

	memcpy(&i, v->data, v->len < sizeof(i) ? v->len : sizeof(i));
	return i;
}

bool sockopt_val_eq(const struct sockopt_val *a, const struct sockopt_val *b)
{
	if (a->err || b->err)
		return a->err == b->err;
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

int sockopt_decide(const struct sockopt_desc *d, const struct sockopt_val *cur,
		   const struct sockopt_val *dflt, int buf_lock, char *why, size_t len)
{
	if (cur->err && dflt->err)
		return 0;       /* not an option of this kind of socket */
	if (cur->err) {
		if (d->type == SOCKOPT_FILTER && cur->err == -EACCES)
			snprintf(why, len, "an eBPF socket filter (SO_ATTACH_BPF) is attached; "
				 "only classic filters can be read back");
		else
			snprintf(why, len, "getsockopt(%s) fails on it (%s) but not on a new socket",
				 d->name, errstr(cur->err));
		return -EOPNOTSUPP;
	}
	if (d->type == SOCKOPT_BUF)
		return !!(buf_lock & d->lock_bit);
	if (sockopt_val_eq(cur, dflt))
		return 0;
	if (d->refuse && d->type == SOCKOPT_STR) {
		snprintf(why, len, "%s is set (%.*s)", d->name, (int)cur->len, (const char *)cur->data);
		return -EOPNOTSUPP;
	}
	if (d->refuse) {
		snprintf(why, len, "%s is set", d->name);
		return -EOPNOTSUPP;
	}
	if (d->refuse_bits && ((uint32_t)val_int(cur) & d->refuse_bits)) {
		snprintf(why, len, "%s has flags 0x%x, which keep state getsockopt() does not show",
			 d->name, (uint32_t)val_int(cur) & d->refuse_bits);
		return -EOPNOTSUPP;
	}
	return 1;
}

static const ProtobufCFieldDescriptor *field_of(const struct sockopt_desc *d)
{
	if (!d->field)
		return NULL;
	return protobuf_c_message_descriptor_get_field_by_name(&sk_opts__descriptor, d->field);
}

#define MEMBER(o, f, T) ((T *)((char *)(o) + (f)->offset))
#define HAS(o, f) ((protobuf_c_boolean *)((char *)(o) + (f)->quantifier_offset))

int sockopt_record(SkOpts *o, const struct sockopt_desc *d, const struct sockopt_val *v)
{
	const ProtobufCFieldDescriptor *f = field_of(d);
	const struct linger *l = (const void *)v->data;
	const struct timeval *tv = (const void *)v->data;
	ProtobufCBinaryData *b;
	SkLinger *sl;
	char *s;

	if (!f)
		return -EINVAL;
	switch (d->type) {
	case SOCKOPT_INT:
	case SOCKOPT_BUF:
		if (f->type != PROTOBUF_C_TYPE_INT32)
			return -EINVAL;
		*MEMBER(o, f, int32_t) = val_int(v);
		*HAS(o, f) = 1;
		return 0;
	case SOCKOPT_TIMEVAL:
		if (f->type != PROTOBUF_C_TYPE_INT64 || v->len != sizeof(*tv))
			return -EINVAL;
		*MEMBER(o, f, int64_t) = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
		*HAS(o, f) = 1;
		return 0;
	case SOCKOPT_LINGER:
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || v->len != sizeof(*l))
			return -EINVAL;
		sl = malloc(sizeof(*sl));
		if (!sl)
			return -ENOMEM;
		sk_linger__init(sl);
		sl->onoff = !!l->l_onoff;
		sl->secs = l->l_linger;
		*MEMBER(o, f, SkLinger *) = sl;
		return 0;
	case SOCKOPT_STR:
		if (f->type != PROTOBUF_C_TYPE_STRING)
			return -EINVAL;
		s = strndup((const char *)v->data, v->len);
		if (!s)
			return -ENOMEM;
		*MEMBER(o, f, char *) = s;
		return 0;
	case SOCKOPT_BYTES:
	case SOCKOPT_FILTER:
		if (f->type != PROTOBUF_C_TYPE_BYTES)
			return -EINVAL;
		b = MEMBER(o, f, ProtobufCBinaryData);
		b->data = malloc(v->len ? v->len : 1);
		if (!b->data)
			return -ENOMEM;
		memcpy(b->data, v->data, v->len);
		b->len = v->len;
		*HAS(o, f) = 1;
		return 0;
	}
	return -EINVAL;
}

int sockopt_recorded(const SkOpts *o, const struct sockopt_desc *d, struct sockopt_val *v)
{
	const ProtobufCFieldDescriptor *f = field_of(d);
	struct linger l;
	struct timeval tv;
	const ProtobufCBinaryData *b;
	const SkLinger *sl;
	const char *s;
	int i;

	v->err = 0;
	if (!o || !f)
		return -ENOENT;
	switch (d->type) {
	case SOCKOPT_INT:
	case SOCKOPT_BUF:
		if (f->type != PROTOBUF_C_TYPE_INT32 || !*HAS(o, f))
			return -ENOENT;
		i = *MEMBER(o, f, const int32_t);
		memcpy(v->data, &i, sizeof(i));
		v->len = sizeof(i);
		return 0;
	case SOCKOPT_TIMEVAL:
		if (f->type != PROTOBUF_C_TYPE_INT64 || !*HAS(o, f))
			return -ENOENT;
		tv.tv_sec = *MEMBER(o, f, const int64_t) / 1000000;
		tv.tv_usec = *MEMBER(o, f, const int64_t) % 1000000;
		memcpy(v->data, &tv, sizeof(tv));
		v->len = sizeof(tv);
		return 0;
	case SOCKOPT_LINGER:
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || !(sl = *MEMBER(o, f, SkLinger *const)))
			return -ENOENT;
		l.l_onoff = sl->onoff;
		l.l_linger = sl->secs;
		memcpy(v->data, &l, sizeof(l));
		v->len = sizeof(l);
		return 0;
	case SOCKOPT_STR:
		if (f->type != PROTOBUF_C_TYPE_STRING || !(s = *MEMBER(o, f, char *const)))
			return -ENOENT;
		v->len = strnlen(s, sizeof(v->data));
		memcpy(v->data, s, v->len);
		return 0;
	case SOCKOPT_BYTES:
	case SOCKOPT_FILTER:
		b = MEMBER(o, f, const ProtobufCBinaryData);
		if (f->type != PROTOBUF_C_TYPE_BYTES || !*HAS(o, f) || b->len > sizeof(v->data))
			return -ENOENT;
		memcpy(v->data, b->data, b->len);
		v->len = b->len;
		return 0;
	}
	return -ENOENT;
}

/* ---- kernel ---- */

static void get_opt(int fd, const struct sockopt_desc *d, struct sockopt_val *v)
{
	socklen_t len;

	v->err = 0;
	switch (d->type) {
	case SOCKOPT_TIMEVAL:
		len = sizeof(struct timeval);
		break;
	case SOCKOPT_LINGER:
		len = sizeof(struct linger);
		break;
	case SOCKOPT_STR:
		len = 64;
		break;
	case SOCKOPT_BYTES:
		len = 2048;     /* an IPv6 extension header: 8 * 256 at most */
		break;
	case SOCKOPT_FILTER:
		/* optlen counts struct sock_filter blocks here; 0 asks how many. */
		len = 0;
		if (getsockopt(fd, d->level, d->optname, NULL, &len) < 0) {
			v->err = -errno;
			return;
		}
		if (len > SOCKOPT_MAX / sizeof(struct sock_filter)) {
			v->err = -E2BIG;
			return;
		}
		if (len && getsockopt(fd, d->level, d->optname, v->data, &len) < 0) {
			v->err = -errno;
			return;
		}
		v->len = len * sizeof(struct sock_filter);
		return;
	default:
		len = sizeof(int);
		break;
	}
	memset(v->data, 0, len);
	if (getsockopt(fd, d->level, d->optname, v->data, &len) < 0) {
		v->err = -errno;
		return;
	}
	if (d->type == SOCKOPT_STR)
		len = strnlen((const char *)v->data, len);
	else if (d->type != SOCKOPT_BYTES && len < sizeof(int))
		len = sizeof(int);      /* some report a byte; zero-extended */
	v->len = len;
}

static int set_raw(int fd, int level, int optname, const void *p, socklen_t len)
{
	return setsockopt(fd, level, optname, p, len) < 0 ? -errno : 0;
}

static int set_opt(int fd, const struct sockopt_desc *d, const struct sockopt_val *v)
{
	struct sock_fprog prog;
	struct linger l;
	int i = val_int(v), ret;

	switch (d->type) {
	case SOCKOPT_BUF:
		/* The kernel doubles what is set (and FORCE skips the
		 * [rw]mem_max cap the task may have been allowed past). */
		i /= 2;
		return set_raw(fd, d->level, d->optname == SO_SNDBUF ? SO_SNDBUFFORCE :
			       SO_RCVBUFFORCE, &i, sizeof(i));
	case SOCKOPT_LINGER:
		/* Turning it off keeps l_linger: set it while on first. */
		memcpy(&l, v->data, sizeof(l));
		if (!l.l_onoff && l.l_linger) {
			l.l_onoff = 1;
			ret = set_raw(fd, d->level, d->optname, &l, sizeof(l));
			if (ret)
				return ret;
			l.l_onoff = 0;
		}
		return set_raw(fd, d->level, d->optname, &l, sizeof(l));
	case SOCKOPT_FILTER:
		if (!v->len)
			return set_raw(fd, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0);
		prog.len = v->len / sizeof(struct sock_filter);
		prog.filter = (struct sock_filter *)v->data;
		return set_raw(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	case SOCKOPT_INT:
		return set_raw(fd, d->level, d->optname, &i, sizeof(i));
	default:
		return set_raw(fd, d->level, d->optname, v->data, v->len);
	}
}

struct vals {
	struct sockopt_val cur, dflt, want;
};

static int fresh_socket(int family, int type, int protocol, const char *what)
{
	int fd = socket(family, type | SOCK_CLOEXEC, protocol), ret;

	if (fd < 0) {
		ret = -errno;
		pr_err("%s: a socket to compare options with: %s", what, errstr(ret));
		return ret;
	}
	return fd;
}

/* What restore brings option d to: recorded, or the fresh socket's; 0 if
 * it leaves it alone (an unset buffer size, an option of another kind of
 * socket). */
static bool wanted(const SkOpts *opts, const struct sockopt_desc *d, int fresh,
		   struct sockopt_val *want)
{
	if (!sockopt_recorded(opts, d, want))
		return true;
	if (d->type == SOCKOPT_BUF)
		return false;
	get_opt(fresh, d, want);
	return !want->err;
}

int sockopts_restore(int fd, int family, int type, int protocol, const SkOpts *opts,
		     const char *what)
{
	_cleanup_close_ int fresh = fresh_socket(family, type, protocol, what);
	_cleanup_free_ struct vals *v = malloc(sizeof(*v));
	const char *step = "setsockopt";
	size_t i;
	int ret = 0;

	if (fresh < 0)
		return fresh;
	if (!v)
		return -ENOMEM;
	/* Again while something changed: setting one option may change
	 * another set before it (IP_TOS sets SO_PRIORITY). */
	for (int pass = 0, changed = 1; changed && pass < 3; pass++) {
		changed = 0;
		for (i = 0; i < ARRAY_SIZE(table); i++) {
			if (!wanted(opts, &table[i], fresh, &v->want))
				continue;
			get_opt(fd, &table[i], &v->cur);
			if (sockopt_val_eq(&v->cur, &v->want))
				continue;
			ret = set_opt(fd, &table[i], &v->want);
			if (ret)
				goto err;
			changed = 1;
		}
	}
	/* Read all back: one option may change another (a buffer size sets
	 * SO_BUF_LOCK, a low mark may grow the buffer). */
	step = "reading it back";
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		if (!wanted(opts, &table[i], fresh, &v->want))
			continue;
		get_opt(fd, &table[i], &v->cur);
		if (!sockopt_val_eq(&v->cur, &v->want)) {
			ret = v->cur.err ? v->cur.err : -EIO;
			goto err;
		}
	}
	return 0;
err:
	if (ret == -EIO)
		pr_err("%s: %s set to %d (%u bytes) reads back %d (%u bytes)", what,
		       table[i].name, val_int(&v->want), v->want.len, val_int(&v->cur), v->cur.len);
	else
		pr_err("%s: %s %d (%u bytes): %s: %s", what, table[i].name, val_int(&v->want),
		       v->want.len, step, errstr(ret));
	return ret;
}

int sockopts_mcast_parse(const char *buf, int family, struct sockopt_mcast **groups,
			 size_t *nr)
{
	unsigned int ifindex = 0;
	size_t n = 0;
	struct sockopt_mcast *g = NULL, *ng;

	for (const char *line = buf, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
		struct sockopt_mcast m = { .family = family };
		unsigned int idx, a4;
		char dev[32], hex[33];

		nl = strchr(line, '\n');
		if (family == AF_INET && line[0] != '\t') {
			/* "1\tlo        :     1      V3": groups of ifindex 1 follow */
			if (sscanf(line, "%u %31s", &idx, dev) == 2)
				ifindex = idx;
			continue;
		}
		if (family == AF_INET) {
			/* "\t\t\t\t010000E0     1 0:00000000\t\t0": the __be32 in hex */
			if (!ifindex || sscanf(line, " %8x", &a4) != 1)
				continue;
			m.ifindex = ifindex;
			memcpy(m.addr, &a4, 4);
		} else {
			/* "1    lo              ff020000000000000000000000000001     1 ..." */
			if (sscanf(line, "%u %31s %32[0-9a-f]", &idx, dev, hex) != 3 ||
			    strlen(hex) != 32)
				continue;
			m.ifindex = idx;
			for (int k = 0; k < 16; k++) {
				unsigned int byte;

				if (sscanf(hex + 2 * k, "%2x", &byte) != 1)
					break;
				m.addr[k] = byte;
			}
		}
		ng = realloc(g, (n + 1) * sizeof(*g));
		if (!ng) {
			free(g);
			return -ENOMEM;
		}
		g = ng;
		g[n++] = m;
	}
	*groups = g;
	*nr = n;
	return 0;
}

/* Multicast groups the socket joined: /proc/net/igmp* list the groups of
 * every device, MCAST_MSFILTER says whether this socket is among their
 * members (EADDRNOTAVAIL if not). An IPv6 socket may have joined IPv4
 * groups too. */
static int check_mcast(int fd, int family, const char *what)
{
	static const char *const path[2] = { "/proc/net/igmp", "/proc/net/igmp6" };
	_cleanup_free_ struct sockopt_mcast *g = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len, nr = 0, i = 0;
	int f, ret = 0;

	for (f = 0; f < (family == AF_INET6 ? 2 : family == AF_INET ? 1 : 0) && !ret; f++) {
		free(buf);
		free(g);
		buf = NULL;
		g = NULL;
		ret = read_file(path[f], 1 << 20, &buf, &len);
		if (ret == -ENOENT) {       /* no multicast in this kernel */
			ret = 0;
			continue;
		}
		if (!ret)
			ret = sockopts_mcast_parse(buf, f ? AF_INET6 : AF_INET, &g, &nr);
		for (i = 0; !ret && i < nr; i++) {
			struct group_filter gf = { .gf_interface = g[i].ifindex };
			struct sockaddr_in *sin = (struct sockaddr_in *)&gf.gf_group;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&gf.gf_group;
			socklen_t glen = GROUP_FILTER_SIZE(0);

			if (f) {
				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_addr, g[i].addr, 16);
			} else {
				sin->sin_family = AF_INET;
				memcpy(&sin->sin_addr, g[i].addr, 4);
			}
			if (!getsockopt(fd, f ? IPPROTO_IPV6 : IPPROTO_IP, MCAST_MSFILTER, &gf, &glen))
				ret = -EOPNOTSUPP;
		}
	}
	if (ret == -EOPNOTSUPP) {
		char a[INET6_ADDRSTRLEN];

		i--;
		inet_ntop(g[i].family, g[i].addr, a, sizeof(a));
		pr_err("%s: it is a member of multicast group %s (interface %u); minicr cannot "
		       "restore multicast memberships", what, a, g[i].ifindex);
	} else if (ret) {
		pr_err("%s: reading the multicast groups (%s): %s", what, path[f - 1], errstr(ret));
	}
	return ret;
}

int sockopts_dump(int fd, int family, int type, int protocol, const char *what, SkOpts **out)
{
	static const struct sockopt_desc lock = I(SOL_SOCKET, SO_BUF_LOCK, "buf_lock");
	_cleanup_close_ int fresh = fresh_socket(family, type, protocol, what);
	_cleanup_close_ int trial = -1;
	_cleanup_free_ struct vals *v = malloc(sizeof(*v));
	SkOpts *o = malloc(sizeof(*o));
	size_t n = 0;
	char why[160];
	int ret, buf_lock;

	*out = NULL;
	if (o)
		sk_opts__init(o);
	ret = fresh < 0 ? fresh : !v || !o ? -ENOMEM : 0;
	if (ret)
		goto out;
	get_opt(fd, &lock, &v->cur);
	buf_lock = v->cur.err ? 0 : val_int(&v->cur);
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		get_opt(fd, &table[i], &v->cur);
		get_opt(fresh, &table[i], &v->dflt);
		ret = sockopt_decide(&table[i], &v->cur, &v->dflt, buf_lock, why, sizeof(why));
		if (ret < 0) {
			pr_err("%s: %s; minicr cannot restore it", what, why);
			goto out;
		}
		if (!ret)
			continue;
		ret = sockopt_record(o, &table[i], &v->cur);
		if (ret)
			goto out;
		n++;
	}
	ret = check_mcast(fd, family, what);
	if (ret || !n)
		goto out;
	/* Set it all on a new socket now: what would not read back the same
	 * refuses the dump rather than the restore (sockopts_restore logs
	 * which option). */
	trial = fresh_socket(family, type, protocol, what);
	ret = trial < 0 ? trial : sockopts_restore(trial, family, type, protocol, o, what);
	if (ret) {
		pr_err("%s: its options cannot be set again the same way; refusing the dump",
		       what);
		ret = -EOPNOTSUPP;
		goto out;
	}
	*out = o;
	o = NULL;
out:
	if (o)
		sk_opts__free_unpacked(o, NULL);
	return ret;
}
