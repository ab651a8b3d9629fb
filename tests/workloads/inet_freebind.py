#!/usr/bin/python3
# Sockets bound with IP_FREEBIND / IPV6_FREEBIND to addresses no interface
# has (tests/cr/scenarios/inet-freebind.sh): a TCP listener on 10.99.99.99
# and a UDP socket on fd00::99. DIR/ready once bound; on DIR/verify the
# names and the option go to DIR/result.
import os
import socket
import sys
import time

IP_FREEBIND, IPV6_FREEBIND = 15, 78
d = sys.argv[1]
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
t.bind(("10.99.99.99", 4321))
t.listen()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
u.bind(("fd00::99", 4322))
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = "tcp %s:%d freebind %d\nudp6 %s:%d freebind %d\n" % (
    t.getsockname() + (t.getsockopt(socket.IPPROTO_IP, IP_FREEBIND),)
    + u.getsockname()[:2] + (u.getsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND),))
with open(d + "/.result", "w") as f:
    f.write(res)
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
