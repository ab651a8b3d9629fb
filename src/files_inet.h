/* File kind of src/files.h for TCP and UDP sockets, IPv4 and IPv6
 * (files_inet.c): unbound, bound, listening (TCP) or connected (UDP).
 * State, addresses, ports and backlog come from inet_diag
 * (src/sk_inet_diag.h), options (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY)
 * from getsockopt() on minicr's copy of the socket. Restore creates the
 * socket in minicr, sets the options, binds it to the recorded address and
 * port, and listens with the recorded backlog (or connects a UDP socket).
 *
 * Refused at dump, naming task, fd and addresses: a TCP connection (any
 * state but LISTEN and CLOSE), a listener with connections waiting to be
 * accepted, and a bound or connected socket inet_diag does not list (one
 * of another network namespace). Data queued on a UDP socket is lost (with
 * a warning). */
#ifndef MINICR_FILES_INET_H
#define MINICR_FILES_INET_H

#include "files.h"

extern const struct file_ops files_inet_ops;

#endif
