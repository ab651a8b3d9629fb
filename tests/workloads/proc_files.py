#!/usr/bin/python3
# /proc files a task holds open (tests/cr/scenarios/proc-files.sh):
#   proc_files.py DIR            its own /proc/self/stat (read 5 bytes in),
#                                a child's /proc/PID/status, a thread's
#                                /proc/thread-self/comm, the /proc/self/fd
#                                directory and /proc/meminfo; DIR/ready, then
#                                on DIR/verify one line per check in
#                                DIR/result.
#   proc_files.py DIR --of PID   holds /proc/PID/status open (PID outside the
#                                tree: the dump refuses it); DIR/ready.
import os
import sys
import time

d = sys.argv[1]
if len(sys.argv) > 3 and sys.argv[2] == "--of":
    keep = open("/proc/%s/status" % sys.argv[3])
    open(d + "/ready", "w").close()
    time.sleep(1000)
pid = os.fork()
if pid == 0:
    time.sleep(1000)
f = open("/proc/self/stat")
f.read(5)
g = open("/proc/%d/status" % pid)
t = os.open("/proc/thread-self/comm", os.O_RDONLY)
dd = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
m = open("/proc/meminfo")
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = ["position %d" % f.tell()]
f.seek(0)
res.append("own stat %s" % (f.read().split()[0] == str(os.getpid())))
g.seek(0)
res.append("child status %s" % ("Pid:\t%d\n" % pid in g.read()))
res.append("thread comm %r" % os.pread(t, 64, 0))
res.append("fd dir %s" % (len(os.listdir(dd)) > 3))
m.seek(0)
res.append("meminfo %s" % m.read().startswith("MemTotal"))
with open(d + "/.result", "w") as out:
    out.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
