# tests/cr/lib/cgroups.sh: the cgroups scenarios (cgroups*.sh). The
# workload minicr-test-cgroups (a root, a child with two threads, a zombie)
# is put into test cgroups made under a unique /$CG in every mounted
# hierarchy the test uses (cgroup v2, and v1 pids, memory and cpu when
# mounted): the root into /$CG/A, the child and the zombie-to-be into
# /$CG/A/B, with settings on A and B. After the dump the test removes its
# cgroups, so restore must make them again with their settings. The
# scenario sets CG_NEW_ROOT (a --cgroup-root given to restore, "" for none).
# Everything under /$CG is removed at the end, also after a failure.

WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-cgroups" "$S")
CG=minicr-test-$(od -An -N5 -tx1 /dev/urandom | tr -d " \n")
CG_NEW_ROOT=${CG_NEW_ROOT:-}

# Mount points of hierarchies (their root mounted), "MOUNT CONTROLLERS"
# with CONTROLLERS "" for v2.
cg_hierarchies() {
	awk '$5 == "/" || $4 != "/" { next }
	     { for (i = 7; $i != "-"; i++); }
	     $(i + 1) == "cgroup2" { print $5, ""; next }
	     $(i + 1) == "cgroup" { n = split($(i + 3), o, ","); c = "";
		for (j = 1; j <= n; j++) if (o[j] != "rw" && o[j] != "ro" && o[j] !~ /^(relatime|noatime|nosuid|nodev|noexec|clone_children|xattr)$/) c = c (c ? "," : "") o[j];
		print $5, c }' /proc/self/mountinfo
}

# The hierarchies the test puts the tree into: v2 and v1 pids/memory/cpu.
cg_used() {
	local m c
	while read -r m c; do
		case ",$c," in
		,,|*,pids,*|*,memory,*|*,cpu,*) echo "$m" ;;
		esac
	done < <(cg_hierarchies)
}
cg_is_used() { [[ " $(cg_used | tr '\n' ' ') " == *" $1 "* ]]; }

# set_cg MOUNT PATH FILE VALUE: write it and remember it for the check.
set_cg() {
	echo "$4" >"$1$2/$3" || return 1
	echo "$1 $2 $3 $(cat "$1$2/$3")" >>"$S/cg.settings"
}

cg_setup() {
	local m c
	: >"$S/cg.settings"
	for m in $(cg_used); do
		mkdir -p "$m/$CG/A/B" || return 1
		if [[ -e $m/cgroup.controllers ]]; then
			for c in pids memory cpu; do
				grep -qw "$c" "$m/cgroup.subtree_control" || continue
				echo "+$c" >"$m/$CG/cgroup.subtree_control" || return 1
				echo "+$c" >"$m/$CG/A/cgroup.subtree_control" || return 1
			done
		fi
		[[ -e $m/$CG/A/pids.max ]] && { set_cg "$m" "/$CG/A" pids.max 100 || return 1; }
		[[ -e $m/$CG/A/B/pids.max ]] && { set_cg "$m" "/$CG/A/B" pids.max 50 || return 1; }
		[[ -e $m/$CG/A/B/memory.max ]] && { set_cg "$m" "/$CG/A/B" memory.max 268435456 || return 1; }
		[[ -e $m/$CG/A/B/memory.limit_in_bytes ]] &&
			{ set_cg "$m" "/$CG/A/B" memory.limit_in_bytes 268435456 || return 1; }
		[[ -e $m/$CG/A/B/cpu.weight ]] && { set_cg "$m" "/$CG/A/B" cpu.weight 50 || return 1; }
		[[ -e $m/$CG/A/B/cpu.shares ]] && { set_cg "$m" "/$CG/A/B" cpu.shares 512 || return 1; }
	done
	[[ -s $S/cg.settings ]] || say "no cgroup setting can be made here: membership only"
}

# The PID (here) of the task that sees itself as NSPID.
outer_of() {
	local p
	for p in $(tree_pids "$ROOT"); do
		[[ "$(ns_pid "$p")" == "$1" ]] && { echo "$p"; return 0; }
	done
	return 1
}

cg_move() { # PID CGROUP-PATH
	local m
	for m in $(cg_used); do
		echo "$1" >"$m$2/cgroup.procs" || return 1
	done
}

# "NSPID STATE ID:CONTROLLERS:PATH" for every task of the tree, sorted.
cg_snapshot() {
	local p n st
	for p in $(tree_pids "$ROOT"); do
		n=$(ns_pid "$p") st=$(state_of "$p")
		sed "s|^|$n $st |" "/proc/$p/cgroup"
	done | sort
}

# What the snapshot must become with --cgroup-root R: in the hierarchies
# the test used, /$CG/A is replaced by R; in the others the tree stayed in
# one cgroup, its base, which becomes R. A zombie shows "/" for v1
# hierarchies whatever they were.
cg_expect() {
	local n st line id c p m used
	used=" $(for m in $(cg_used); do awk -v m="$m" '$1 == m { print $2 }' < <(cg_hierarchies); done | tr '\n' ' ') "
	while read -r n st line; do
		IFS=: read -r id c p <<<"$line"
		if [[ -n $CG_NEW_ROOT && ($st != Z || -z $c) ]]; then
			if [[ -z $c && $used == *"  "* ]] || [[ -n $c && $used == *" $c "* ]]; then
				p=${p/#\/$CG\/A/$CG_NEW_ROOT}
			else
				p=$CG_NEW_ROOT
			fi
		fi
		echo "$n $st $id:$c:$p"
	done <"$S/cg.before"
}

cg_remove() { # remove /$CG everywhere; its tasks are killed first
	local m pids tries
	for m in $(cg_hierarchies | awk '{ print $1 }'); do
		[[ -d $m/$CG ]] || continue
		pids=$(find "$m/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[[ -n $pids ]] && kill -9 $pids 2>/dev/null
		for tries in $(seq 50); do
			find "$m/$CG" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $m/$CG ]] || break
			sleep 0.1
		done
		[[ -d $m/$CG ]] && { echo "cannot remove $m/$CG" >&2; return 1; }
	done
	return 0
}
scenario_cleanup() { cg_remove; }

ready() { [[ -s $S/pids ]]; }

check_before() {
	local r c z zo
	read -r r c z <"$S/pids"
	cg_setup || { echo "cannot make the test cgroups under /$CG" >&2; return 1; }
	cg_move "$(outer_of "$r")" "/$CG/A" && cg_move "$(outer_of "$c")" "/$CG/A/B" &&
		zo=$(outer_of "$z") && cg_move "$zo" "/$CG/A/B" || return 1
	kill -USR1 "$zo"
	wait_until 5 eval '[[ "$(state_of '"$zo"')" == Z ]]' || { echo "no zombie" >&2; return 1; }
	cg_snapshot >"$S/cg.before"
	sed 's/^/    before: /' "$S/cg.before"
}

# The dumped tree is gone: remove its cgroups, restore must make them.
before_restore() {
	local m
	for m in $(cg_used); do
		[[ -d $m/$CG ]] || continue
		find "$m/$CG" -depth -mindepth 1 -type d -exec rmdir {} + || return 1
	done
}

check_after() {
	local m p f v got
	cg_expect >"$S/cg.expect"
	cg_snapshot >"$S/cg.after"
	diff -u "$S/cg.expect" "$S/cg.after" >&2 ||
		{ echo "the restored tree is not in its cgroups (diff expected/restored)" >&2; return 1; }
	while read -r m p f v; do
		[[ -n $CG_NEW_ROOT ]] && p=${p/#\/$CG\/A/$CG_NEW_ROOT}
		got=$(cat "$m$p/$f") || return 1
		[[ $got == "$v" ]] || { echo "$m$p/$f is '$got', recorded '$v'" >&2; return 1; }
	done <"$S/cg.settings"
	say "every task in its cgroups; $(wc -l <"$S/cg.settings") settings back"
}
