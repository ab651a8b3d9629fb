#!/usr/bin/python3
# Unix sockets whose socket file was unlinked after bind
# (tests/cr/scenarios/unix-unlinked.sh):
#   unix_unlinked.py DIR   a stream listener bound to DIR/listen.sock and a
#                          datagram socket bound to DIR/dgram.sock, both
#                          files unlinked; DIR/ready, then on DIR/verify one
#                          line per check in DIR/result.
import os
import socket
import sys
import time

d = os.path.abspath(sys.argv[1])
lp, dp = d + "/listen.sock", d + "/dgram.sock"
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(lp)
ls.listen(4)
os.unlink(lp)
ds = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ds.bind(dp)
os.unlink(dp)
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = []
res.append("files %s %s" % (os.path.lexists(lp), os.path.lexists(dp)))
res.append("names %s %s" % (ls.getsockname() == lp, ds.getsockname() == dp))
res.append("listening %d" % ls.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    c.connect(lp)
    res.append("connect ok")
except FileNotFoundError:
    res.append("connect ENOENT")
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    c.sendto(b"x", dp)
    res.append("sendto ok")
except FileNotFoundError:
    res.append("sendto ENOENT")
with open(d + "/.result", "w") as out:
    out.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
