#!/usr/bin/python3
# minicr-test unix sockets that are not connected (tests/cr/scenarios/
# unix-unconnected.sh): an unconnected stream and seqpacket socket, a stream
# socket bound but not listening, an unbound datagram socket, and a
# socketpair whose one end is shut down for writing. DIR/ready once set up;
# on DIR/verify each is checked and DIR/result gets one line per check.
import os
import socket
import sys
import time

d = sys.argv[1]
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
nb = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
nb.bind(d + "/bound.sock")
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c, e = socket.socketpair()
c.shutdown(socket.SHUT_WR)
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = []
for name, sk, typ in (("stream", a, socket.SOCK_STREAM), ("seqpacket", s, socket.SOCK_SEQPACKET),
                      ("bound", nb, socket.SOCK_STREAM), ("dgram", b, socket.SOCK_DGRAM)):
    res.append("%s type %s" % (name, "ok" if sk.type == typ else "BAD %d" % sk.type))
res.append("bound name %s" % nb.getsockname())
e.setblocking(False)
try:
    res.append("shut-down peer reads %r" % e.recv(10))
except OSError as x:
    res.append("shut-down peer reads %s" % type(x).__name__)
for name, sk in (("stream", a), ("seqpacket", s)):
    try:
        sk.connect(d + "/listener." + name)
        res.append("%s connects ok" % name)
    except OSError as x:
        res.append("%s connects %s" % (name, x))
try:
    c.send(b"x")
    res.append("shut-down end sends ok")
except OSError as x:
    res.append("shut-down end sends %s" % type(x).__name__)
with open(d + "/.result", "w") as f:
    f.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
