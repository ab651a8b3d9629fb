#!/usr/bin/python3
# A cwd that is a removed directory (tests/cr/scenarios/deleted-dirs.sh):
#   deleted_dirs.py DIR   makes DIR/gone (mode 0750, owner 1234:2345), enters
#                         it and removes it; holds DIR/gonefd (mode 0710,
#                         owner 4321:5432) open
#                         O_RDONLY|O_DIRECTORY and removes it; DIR/ready
#   deleted_dirs.py DIR --same   its cwd and an fd on one removed directory
#                         (the dump refuses it); DIR/ready.
#   deleted_dirs.py DIR --fork   it and a child share one removed cwd (the
#                         dump refuses it); DIR/ready., then on DIR/verify one line per
#                         check in DIR/result.
import os
import stat
import sys
import time

d = os.path.abspath(sys.argv[1])
if len(sys.argv) > 2 and sys.argv[2] == "--fork":
    os.mkdir(d + "/shared")
    os.chdir(d + "/shared")
    os.rmdir(d + "/shared")
    if os.fork():
        open(d + "/ready", "w").close()
    time.sleep(1000)
if len(sys.argv) > 2 and sys.argv[2] == "--same":
    os.mkdir(d + "/both")
    os.chdir(d + "/both")
    keep = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    os.rmdir(d + "/both")
    open(d + "/ready", "w").close()
    time.sleep(1000)
os.mkdir(d + "/gone")
os.chown(d + "/gone", 1234, 2345)
os.chmod(d + "/gone", 0o750)
os.chdir(d + "/gone")
os.rmdir(d + "/gone")
os.mkdir(d + "/gonefd")
os.chown(d + "/gonefd", 4321, 5432)
os.chmod(d + "/gonefd", 0o710)
fd = os.open(d + "/gonefd", os.O_RDONLY | os.O_DIRECTORY)
os.rmdir(d + "/gonefd")
open(d + "/ready", "w").close()
while not os.path.exists(d + "/verify"):
    time.sleep(0.05)
res = []
try:
    os.getcwd()
    res.append("getcwd ok")
except FileNotFoundError:
    res.append("getcwd ENOENT")
st = os.stat(".")
res.append("cwd dir %s nlink %d mode %o owner %d:%d" % (
    stat.S_ISDIR(st.st_mode), st.st_nlink, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
res.append("link %s" % os.readlink("/proc/self/cwd").endswith("/gone (deleted)"))
try:
    open("x", "w")
    res.append("create ok")
except FileNotFoundError:
    res.append("create ENOENT")
st = os.fstat(fd)
res.append("fd dir %s nlink %d mode %o owner %d:%d" % (
    stat.S_ISDIR(st.st_mode), st.st_nlink, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
res.append("fd link %s" % os.readlink("/proc/self/fd/%d" % fd).endswith("/gonefd (deleted)"))
try:
    os.close(os.open("y", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
    res.append("fd create ok")
except FileNotFoundError:
    res.append("fd create ENOENT")
with open(d + "/.result", "w") as out:
    out.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
