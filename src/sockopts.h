/* Socket options of TCP, UDP and unix sockets (proto/sk-opts.proto),
 * table-driven: one row per option names its level, optname, how to read
 * and set it, and the SkOpts field that records it.
 *
 * Dump: sockopts_dump() reads every option of the table on minicr's copy
 * of the socket and on a fresh socket of the same family, type and
 * protocol, and records those that differ (the rest are the kernel's
 * default). SO_SNDBUF/SO_RCVBUF are recorded only when their SO_BUF_LOCK
 * bit says the task set them (else the kernel sizes them). It then
 * restores the record on a second fresh socket and reads it back: an
 * option that would not come back the same refuses the dump. Refused too,
 * naming the option: an eBPF filter (SO_GET_FILTER cannot read it),
 * a ULP (TCP_ULP), TCP-AO keys, SO_TIMESTAMPING with OPT_ID or BIND_PHC (state
 * getsockopt does not show), membership of a multicast group, an option
 * the task's socket cannot report while a fresh one can.
 *
 * Restore: sockopts_restore() on the new socket, right after socket() and
 * before bind/listen/connect (SO_BINDTODEVICE, IP_FREEBIND/TRANSPARENT
 * matter to bind, TCP_FASTOPEN/DEFER_ACCEPT to listen): every option goes
 * to its recorded value or, if absent, to a fresh socket's, so what the
 * socket inherited (an accept()ed unix socket takes SO_PASSCRED from its
 * listener) is undone; then all are read back, any difference fails.
 *
 * Functions return 0 or -errno; the kernel-touching ones log naming
 * "what" (the task and fd, or the file). */
#ifndef MINICR_SOCKOPTS_H
#define MINICR_SOCKOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sk-opts.pb-c.h"

/* How an option is read, recorded and set. */
enum sockopt_type {
	SOCKOPT_INT,        /* int both ways; int32 field */
	SOCKOPT_BUF,        /* SO_SNDBUF/RCVBUF: set half with *BUFFORCE */
	SOCKOPT_TIMEVAL,    /* struct timeval; int64 field, microseconds */
	SOCKOPT_LINGER,     /* struct linger; SkLinger field */
	SOCKOPT_STR,        /* a name; string field */
	SOCKOPT_BYTES,      /* raw bytes both ways; bytes field */
	SOCKOPT_FILTER,     /* SO_GET_FILTER / SO_ATTACH_FILTER; bytes field */
};

struct sockopt_desc {
	int level, optname;
	const char *name;       /* "SO_KEEPALIVE": for messages */
	const char *field;      /* SkOpts field; NULL: never recorded (refused) */
	enum sockopt_type type;
	/* SOCKOPT_INT: bits of state getsockopt() does not show; refused. */
	uint32_t refuse_bits;
	/* Refused whenever not the default (no way to restore it). */
	bool refuse;
	/* SOCKOPT_BUF: its SO_BUF_LOCK bit. */
	int lock_bit;
};

const struct sockopt_desc *sockopts_table(size_t *nr);

/* An option value as getsockopt() gives it (len bytes). */
#define SOCKOPT_MAX (4096 * 8)  /* BPF_MAXINSNS sock_filters */
struct sockopt_val {
	int err;                /* getsockopt failed: -errno, no value */
	uint32_t len;
	uint8_t data[SOCKOPT_MAX];
};

/* ---- pure (tests/unit/test_sockopts.c) ---- */

/* Record the value? cur from the task's socket, dflt from a fresh one,
 * buf_lock the task's SO_BUF_LOCK bits. 1 yes, 0 no, -EOPNOTSUPP with
 * why filled when it cannot be restored. */
int sockopt_decide(const struct sockopt_desc *d, const struct sockopt_val *cur,
		   const struct sockopt_val *dflt, int buf_lock, char *why, size_t len);
bool sockopt_val_eq(const struct sockopt_val *a, const struct sockopt_val *b);
/* Value v into d's field of o (allocating what the field needs). */
int sockopt_record(SkOpts *o, const struct sockopt_desc *d, const struct sockopt_val *v);
/* d's field of o into v; 0 if present, -ENOENT if absent. */
int sockopt_recorded(const SkOpts *o, const struct sockopt_desc *d, struct sockopt_val *v);

/* A multicast group some device of the namespace joined. */
struct sockopt_mcast {
	int family;             /* AF_INET, AF_INET6 */
	unsigned int ifindex;
	uint8_t addr[16];       /* network order; 4 bytes for AF_INET */
};
/* The groups in the text of /proc/net/igmp (family AF_INET) or
 * /proc/net/igmp6 (AF_INET6); lines it does not know are skipped.
 * *groups is malloc'd (NULL if none). */
int sockopts_mcast_parse(const char *buf, int family, struct sockopt_mcast **groups,
			 size_t *nr);

/* ---- kernel ---- */

/* *out: NULL when every option is at its default; freed with the entry. */
int sockopts_dump(int fd, int family, int type, int protocol, const char *what, SkOpts **out);
int sockopts_restore(int fd, int family, int type, int protocol, const SkOpts *opts,
		     const char *what);

#endif
