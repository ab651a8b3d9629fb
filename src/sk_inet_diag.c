#include "sk_inet_diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "log.h"
#include "sk_diag.h"

int sk_inet_diag_parse(const struct nlmsghdr *nlh, uint8_t protocol, struct inet_diag_info *ii,
		       const char **why)
{
	const struct inet_diag_msg *m;
	struct nlattr *a;
	int rem;

	memset(ii, 0, sizeof(*ii));
	if (!nlmsg_valid_hdr(nlh, sizeof(*m))) {
		*why = "inet_diag answer shorter than struct inet_diag_msg";
		return -EINVAL;
	}
	m = nlmsg_data(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6) {
		*why = "inet_diag answer for a family other than AF_INET/AF_INET6";
		return -EINVAL;
	}
	ii->ino = m->idiag_inode;
	ii->family = m->idiag_family;
	ii->protocol = protocol;
	ii->state = m->idiag_state;
	memcpy(ii->src, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(ii->dst, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	ii->sport = ntohs(m->id.idiag_sport);
	ii->dport = ntohs(m->id.idiag_dport);
	ii->ifindex = m->id.idiag_if;
	ii->rqueue = m->idiag_rqueue;
	ii->wqueue = m->idiag_wqueue;
	/* Sent to a CAP_NET_ADMIN requester only: no getsockopt() reads it. */
	nlmsg_for_each_attr(a, nlh, sizeof(*m), rem)
		if (nla_type(a) == INET_DIAG_MD5SIG)
			ii->md5 = true;
	return 0;
}

struct collect_ctx {
	struct inet_diag_table *t;
	uint8_t protocol;
};

static int inet_cb(struct nlmsghdr *nlh, void *arg)
{
	struct collect_ctx *c = arg;
	struct inet_diag_table *t = c->t;
	const char *why = NULL;
	int ret;

	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct inet_diag_info *ne = realloc(t->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		t->e = ne;
		t->cap = cap;
	}
	ret = sk_inet_diag_parse(nlh, c->protocol, &t->e[t->nr], &why);
	if (ret) {
		pr_err("inet_diag: %s", why);
		return ret;
	}
	/* Time-wait and request minisocks have no inode: no fd holds them. */
	if (t->e[t->nr].ino)
		t->nr++;
	return 0;
}

static int cmp_ino(const void *a, const void *b)
{
	const struct inet_diag_info *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

int sk_inet_diag_collect(struct inet_diag_table *t)
{
	static const struct { uint8_t family, protocol; const char *what; } q[] = {
		{ AF_INET, IPPROTO_TCP, "TCP/IPv4 sockets" },
		{ AF_INET6, IPPROTO_TCP, "TCP/IPv6 sockets" },
		{ AF_INET, IPPROTO_UDP, "UDP/IPv4 sockets" },
		{ AF_INET6, IPPROTO_UDP, "UDP/IPv6 sockets" },
	};
	int ret = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && !ret; i++) {
		struct inet_diag_req_v2 req = {
			.sdiag_family = q[i].family,
			.sdiag_protocol = q[i].protocol,
			.idiag_states = ~0U,
			/* TCP's MD5 keys come only with its tcp_info */
			.idiag_ext = q[i].protocol == IPPROTO_TCP ? 1 << (INET_DIAG_INFO - 1) : 0,
		};
		struct collect_ctx c = { t, q[i].protocol };

		ret = sk_diag_dump(q[i].what, &req, sizeof(req), inet_cb, &c);   /* logs */
	}
	if (ret) {
		sk_inet_diag_free(t);
		return ret;
	}
	if (t->nr)
		qsort(t->e, t->nr, sizeof(*t->e), cmp_ino);
	return 0;
}

const struct inet_diag_info *sk_inet_diag_find(const struct inet_diag_table *t, uint32_t ino)
{
	struct inet_diag_info key = { .ino = ino };

	if (!t->nr)
		return NULL;
	return bsearch(&key, t->e, t->nr, sizeof(*t->e), cmp_ino);
}

void sk_inet_diag_free(struct inet_diag_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

void sk_inet_diag_addr_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

const char *sk_inet_state_name(unsigned int state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
		[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
		[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
		[13] = "BOUND_INACTIVE",
	};

	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "?";
}
