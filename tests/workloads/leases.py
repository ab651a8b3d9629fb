#!/usr/bin/python3
# minicr-test file leases (tests/cr/scenarios/files-leases.sh): a read lease
# on DIR/r.dat and a write lease on DIR/w.dat, F_SETSIG SIGRTMIN+2 on both.
# DIR/ready once set up; on DIR/verify it writes F_GETLEASE of both into
# DIR/armed, then reads the two lease-break signals (through a signalfd,
# for si_fd), gives each lease up and writes DIR/result.
import ctypes
import fcntl
import os
import signal
import struct
import sys
import time

F_SETLEASE, F_GETLEASE, F_SETSIG = 1024, 1025, 10
SIG = signal.SIGRTMIN + 2
NAMES = {fcntl.F_RDLCK: "F_RDLCK", fcntl.F_WRLCK: "F_WRLCK", fcntl.F_UNLCK: "F_UNLCK"}

d = sys.argv[1]
fds = {}
for name, typ in (("r", fcntl.F_RDLCK), ("w", fcntl.F_WRLCK)):
    p = "%s/%s.dat" % (d, name)
    open(p, "w").close()
    fd = os.open(p, os.O_RDONLY)
    fcntl.fcntl(fd, F_SETSIG, SIG)
    fcntl.fcntl(fd, F_SETLEASE, typ)
    fds[fd] = name
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
signal.pthread_sigmask(signal.SIG_BLOCK, [SIG])
libc = ctypes.CDLL(None, use_errno=True)
mask = ctypes.create_string_buffer(128)
mask[(SIG - 1) // 8] = 1 << ((SIG - 1) % 8)
sfd = libc.signalfd(-1, mask, 0)
res = ["%s fd %d %s" % (name, fd, NAMES.get(fcntl.fcntl(fd, F_GETLEASE), "?"))
       for fd, name in sorted(fds.items())]
with open(d + "/.armed", "w") as f:
    f.write("\n".join(res) + "\n")
os.rename(d + "/.armed", d + "/armed")
got = []
for _ in fds:
    buf = os.read(sfd, 128)
    signo, _err, _code, _pid, _uid, sifd = struct.unpack_from("IiiIIi", buf)
    got.append("signal %s si_fd %d (%s)" % ("SIGRTMIN+2" if signo == SIG else signo, sifd,
                                            fds.get(sifd, "?")))
    fcntl.fcntl(sifd, F_SETLEASE, fcntl.F_UNLCK)
res += sorted(got)
with open(d + "/.result", "w") as f:
    f.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
