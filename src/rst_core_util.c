#include "rst_core_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>

#include "util.h"

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",       [RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

const char *rst_rlimit_name(unsigned int res)
{
	return res < ARRAY_SIZE(rlimit_names) ? rlimit_names[res] : NULL;
}

void rst_regs_from_entry(const UserRegsEntry *e, struct user_regs_struct *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = e->r15; r->r14 = e->r14; r->r13 = e->r13; r->r12 = e->r12;
	r->rbp = e->bp;  r->rbx = e->bx;  r->r11 = e->r11; r->r10 = e->r10;
	r->r9 = e->r9;   r->r8 = e->r8;   r->rax = e->ax;  r->rcx = e->cx;
	r->rdx = e->dx;  r->rsi = e->si;  r->rdi = e->di;  r->orig_rax = e->orig_ax;
	r->rip = e->ip;  r->cs = e->cs;   r->eflags = e->flags; r->rsp = e->sp;
	r->ss = e->ss;   r->fs_base = e->fs_base; r->gs_base = e->gs_base;
	r->ds = e->ds;   r->es = e->es;   r->fs = e->fs;   r->gs = e->gs;
}

int rst_sigaction_table(const CoreEntry *ce, struct rst_ksigaction act[RST_NSIG + 1],
			char *why, size_t len)
{
	bool seen[RST_NSIG + 1] = { false };

	for (int sig = 0; sig <= RST_NSIG; sig++) {
		memset(&act[sig], 0, sizeof(act[sig]));
		act[sig].handler = (uint64_t)(uintptr_t)SIG_DFL;
	}
	for (size_t i = 0; i < ce->n_sigactions; i++) {
		const SigactionEntry *e = ce->sigactions[i];

		if (e->sig < 1 || e->sig > RST_NSIG || e->sig == SIGKILL || e->sig == SIGSTOP) {
			snprintf(why, len, "sigaction of signal %u cannot be set", e->sig);
			return -EINVAL;
		}
		if (seen[e->sig]) {
			snprintf(why, len, "signal %u has two sigactions", e->sig);
			return -EINVAL;
		}
		seen[e->sig] = true;
		act[e->sig].handler = e->handler;
		act[e->sig].flags = e->flags;
		act[e->sig].restorer = e->has_restorer ? e->restorer : 0;
		act[e->sig].mask = e->mask;
	}
	return 0;
}

int rst_siginfo_signo(const ProtobufCBinaryData *b, char *why, size_t len)
{
	int32_t signo;

	if (b->len != RST_SIGINFO_SIZE) {
		snprintf(why, len, "pending siginfo of %zu bytes, expected %d", b->len,
			 RST_SIGINFO_SIZE);
		return -EINVAL;
	}
	memcpy(&signo, b->data, sizeof(signo));   /* si_signo comes first */
	if (signo < 1 || signo > RST_NSIG) {
		snprintf(why, len, "pending signal %d is out of range", signo);
		return -EINVAL;
	}
	/* Neither can be blocked: queueing one would kill or stop the task
	 * in the middle of its restore. */
	if (signo == SIGKILL || signo == SIGSTOP) {
		snprintf(why, len, "pending %s cannot be requeued", signo == SIGKILL ? "SIGKILL" : "SIGSTOP");
		return -EINVAL;
	}
	return signo;
}

bool rst_rseq_in_cs(uint64_t ip, const struct rst_rseq_cs *cs)
{
	/* Unsigned: an ip below start_ip wraps to a large offset. */
	return ip - cs->start_ip < cs->post_commit_offset;
}

int rst_status_hex(const char *status, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *p = status;

	while (p && *p) {
		if (!strncmp(p, key, klen)) {
			unsigned long long x;
			char *end;

			p += klen;
			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			x = strtoull(p, &end, 16);
			if (errno || end == p || (*end && *end != '\n'))
				return -EINVAL;
			*v = x;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
	"cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
	"cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
	"cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
	"cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
	"cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
	"cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
};

void rst_cap_names(uint64_t mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int c = 0; c < 64 && off < len; c++) {
		int n;

		if (!(mask & (1ULL << c)))
			continue;
		if (c < ARRAY_SIZE(cap_names))
			n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", cap_names[c]);
		else
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", c);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
