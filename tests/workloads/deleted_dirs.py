#!/usr/bin/python3
# A cwd that is a removed directory (tests/cr/scenarios/deleted-dirs.sh):
#   deleted_dirs.py DIR   makes DIR/gone (mode 0750), enters it and removes
#                         it; DIR/ready, then on DIR/verify one line per
#                         check in DIR/result.
import os
import stat
import sys
import time

d = os.path.abspath(sys.argv[1])
os.mkdir(d + "/gone")
os.chmod(d + "/gone", 0o750)
os.chdir(d + "/gone")
os.rmdir(d + "/gone")
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
res.append("cwd dir %s nlink %d mode %o" % (stat.S_ISDIR(st.st_mode), st.st_nlink,
                                          stat.S_IMODE(st.st_mode)))
res.append("link %s" % os.readlink("/proc/self/cwd").endswith(" (deleted)"))
try:
    open("x", "w")
    res.append("create ok")
except FileNotFoundError:
    res.append("create ENOENT")
with open(d + "/.result", "w") as out:
    out.write("\n".join(res) + "\n")
os.rename(d + "/.result", d + "/result")
time.sleep(1000)
