/* TCP and UDP sockets (IPv4 and IPv6) of minicr's network namespace, from
 * NETLINK_SOCK_DIAG inet_diag (inet_diag_req_v2, every state), through
 * sk_diag_dump() of src/sk_diag.h (libnl-3).
 *
 * What the kernel lists: listening and connected sockets, UDP sockets that
 * are bound, and (Linux 6.5+, state SK_INET_BOUND_INACTIVE) TCP sockets that
 * are bound but neither listening nor connected. An unbound socket is in no
 * table and is not listed.
 *
 * sk_inet_diag_parse() decodes one answer and is pure (unit-tested on
 * crafted messages). */
#ifndef MINICR_SK_INET_DIAG_H
#define MINICR_SK_INET_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* include/net/tcp_states.h: a TCP socket bound but not listening or
 * connected, as inet_diag reports it (not in older uapi headers). */
#define SK_INET_BOUND_INACTIVE 13

struct inet_diag_info {
	uint32_t ino;
	uint8_t family;             /* AF_INET, AF_INET6 */
	uint8_t protocol;           /* IPPROTO_TCP, IPPROTO_UDP (from the request) */
	uint8_t state;              /* TCP_* */
	uint8_t src[16], dst[16];   /* network order; 4 bytes used for AF_INET */
	uint16_t sport, dport;      /* host order */
	uint32_t ifindex;           /* bound device, 0 if none */
	/* Listener: connections waiting in the accept queue, and the backlog. */
	uint32_t rqueue, wqueue;
	bool md5;                   /* TCP_MD5SIG keys (INET_DIAG_MD5SIG) */
};

int sk_inet_diag_parse(const struct nlmsghdr *nlh, uint8_t protocol, struct inet_diag_info *ii,
		       const char **why);

struct inet_diag_table {
	struct inet_diag_info *e;   /* sorted by ino */
	size_t nr, cap;
};

/* Every TCP and UDP socket, IPv4 and IPv6. */
int sk_inet_diag_collect(struct inet_diag_table *t);
const struct inet_diag_info *sk_inet_diag_find(const struct inet_diag_table *t, uint32_t ino);
void sk_inet_diag_free(struct inet_diag_table *t);

/* "1.2.3.4:80" or "[::1]:80" */
void sk_inet_diag_addr_str(int family, const uint8_t *addr, uint16_t port, char *buf,
			   size_t len);
/* "LISTEN", "ESTABLISHED", ... */
const char *sk_inet_state_name(unsigned int state);

#endif
