#!/usr/bin/python3
# minicr-test a pipe reopened through /proc (tests/cr/scenarios/pipe-reopen.sh):
# a pipe whose read end is opened again through /proc/self/fd with
# O_NONBLOCK and whose write end is opened again the same way: four open
# file descriptions of one pipe, one byte queued. DIR/ready once set up; on
# DIR/verify DIR/result gets one line per check.
import ctypes
import fcntl
import os
import sys
import time

KCMP_FILE = 0
SYS_kcmp = 312   # x86_64

d = sys.argv[1]
r, w = os.pipe()
r2 = os.open("/proc/self/fd/%d" % r, os.O_RDONLY | os.O_NONBLOCK)
w2 = os.open("/proc/self/fd/%d" % w, os.O_WRONLY)
os.write(w, b"q")
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
libc = ctypes.CDLL(None, use_errno=True)
pid = os.getpid()
res = []
for name, fd in (("r", r), ("r2", r2), ("w", w), ("w2", w2)):
    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
    res.append("%s %s%s" % (name, "rd" if fl & os.O_ACCMODE == os.O_RDONLY else "wr",
                            " nonblock" if fl & os.O_NONBLOCK else ""))
ino = {os.fstat(fd).st_ino for fd in (r, r2, w, w2)}
res.append("one pipe" if len(ino) == 1 else "inodes %s" % ino)
same = [libc.syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b)
        for a, b in ((r, r2), (w, w2), (r, w), (r2, w2))]
res.append("distinct descriptions" if all(x != 0 for x in same) else "kcmp %s" % same)
os.write(w, b"1")
os.write(w2, b"2")
res.append("reads %r %r %r" % (os.read(r, 1), os.read(r2, 1), os.read(r, 1)))
try:
    res.append("empty r2 reads %r" % os.read(r2, 1))
except BlockingIOError:
    res.append("empty r2 would block")
with open(d + "/.result", "w") as f:
    f.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
