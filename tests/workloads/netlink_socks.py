#!/usr/bin/python3
# Netlink sockets (tests/cr/scenarios/netlink.sh): an rtnetlink monitor
# bound with group IPV4_IFADDR (links come and go on their own; addresses
# do not), group 33 joined by
# NETLINK_ADD_MEMBERSHIP, NETLINK_PKTINFO and a 1 MiB SO_RCVBUF; an unbound
# rtnetlink request socket; a generic netlink socket bound to a chosen port
# id. DIR/ready once set up; on DIR/verify DIR/result says whether names,
# groups and options are the same, whether a request is answered and (with
# --event) whether an address added in the task's network namespace reaches
# the monitor.
import os
import socket
import struct
import sys
import time

SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_PKTINFO, NETLINK_LIST_MEMBERSHIPS = 270, 1, 3, 9
d = sys.argv[1]
event = "--event" in sys.argv[2:]
mon = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
mon.bind((0, 0x10))
mon.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 33)
mon.setsockopt(SOL_NETLINK, NETLINK_PKTINFO, 1)
mon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
req = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
gen = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
gen.bind((os.getpid() + 100000, 0))


def state():
    return (mon.getsockname(), gen.getsockname(), req.getsockname(),
            mon.getsockopt(SOL_NETLINK, NETLINK_PKTINFO),
            mon.getsockopt(SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, 8),
            mon.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


before = state()
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = ["state %s" % ("same" if state() == before else "CHANGED %r -> %r" % (before, state()))]
# RTM_GETLINK dump request on the unbound socket (autobinds it now)
req.settimeout(5)
req.send(struct.pack("=LHHLL", 32, 18, 0x301, 1, 0) + struct.pack("=BxHiII", 0, 0, 0, 0, 0))
try:
    res.append("answer %s" % ("yes" if len(req.recv(65536)) > 16 else "short"))
except OSError as x:
    res.append("answer %s" % x)
if event:
    os.system("ip addr add 10.231.0.99/32 dev lo >/dev/null 2>&1")
    mon.settimeout(5)
    try:
        res.append("event RTM %d" % struct.unpack("=LHH", mon.recv(65536)[:8])[1])
    except OSError as x:
        res.append("event %s" % x)
    os.system("ip addr del 10.231.0.99/32 dev lo >/dev/null 2>&1")
with open(d + "/.result", "w") as f:
    f.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
