/* The pure parts of the state restorer (rst_core_util.c): the sigaction
 * table, recorded siginfo, rseq critical sections, /proc status hex
 * fields, capability names. Files: test_files.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rst_core_util.h"

static void test_rlimit_names(void **state)
{
	(void)state;
	assert_string_equal(rst_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
	assert_string_equal(rst_rlimit_name(RLIMIT_CPU), "RLIMIT_CPU");
	assert_string_equal(rst_rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
	for (unsigned int r = 0; r < RLIM_NLIMITS; r++)
		assert_non_null(rst_rlimit_name(r));
	assert_null(rst_rlimit_name(RLIM_NLIMITS));
	assert_null(rst_rlimit_name(1000));
}

static void test_regs(void **state)
{
	UserRegsEntry e = USER_REGS_ENTRY__INIT;
	struct user_regs_struct r;

	(void)state;
	e.r15 = 1; e.bp = 2; e.ax = 3; e.orig_ax = 4; e.ip = 5; e.cs = 0x33; e.flags = 0x246;
	e.sp = 6; e.ss = 0x2b; e.fs_base = 7; e.gs_base = 8; e.di = 9; e.r10 = 10; e.gs = 11;
	rst_regs_from_entry(&e, &r);
	assert_int_equal(r.r15, 1);
	assert_int_equal(r.rbp, 2);
	assert_int_equal(r.rax, 3);
	assert_int_equal(r.orig_rax, 4);
	assert_int_equal(r.rip, 5);
	assert_int_equal(r.cs, 0x33);
	assert_int_equal(r.eflags, 0x246);
	assert_int_equal(r.rsp, 6);
	assert_int_equal(r.ss, 0x2b);
	assert_int_equal(r.fs_base, 7);
	assert_int_equal(r.gs_base, 8);
	assert_int_equal(r.rdi, 9);
	assert_int_equal(r.r10, 10);
	assert_int_equal(r.gs, 11);
	assert_int_equal(r.rbx, 0);
}

static void test_sigaction_table(void **state)
{
	SigactionEntry usr1 = SIGACTION_ENTRY__INIT, term = SIGACTION_ENTRY__INIT;
	SigactionEntry *list[2] = { &usr1, &term };
	struct rst_ksigaction act[RST_NSIG + 1];
	CoreEntry ce = CORE_ENTRY__INIT;
	char why[96];

	(void)state;
	usr1.sig = SIGUSR1;
	usr1.handler = 0x401000;
	usr1.flags = 0x14000004;
	usr1.has_restorer = 1;
	usr1.restorer = 0x402000;
	usr1.mask = 1ULL << (SIGUSR2 - 1);
	term.sig = SIGTERM;
	term.handler = (uint64_t)(uintptr_t)SIG_IGN;
	ce.n_sigactions = 2;
	ce.sigactions = list;
	assert_int_equal(rst_sigaction_table(&ce, act, why, sizeof(why)), 0);
	assert_int_equal(act[SIGUSR1].handler, 0x401000);
	assert_int_equal(act[SIGUSR1].flags, 0x14000004);
	assert_int_equal(act[SIGUSR1].restorer, 0x402000);
	assert_int_equal(act[SIGUSR1].mask, 1ULL << (SIGUSR2 - 1));
	assert_int_equal(act[SIGTERM].handler, (uint64_t)(uintptr_t)SIG_IGN);
	/* Everything not recorded is SIG_DFL. */
	assert_int_equal(act[SIGCHLD].handler, (uint64_t)(uintptr_t)SIG_DFL);
	assert_int_equal(act[64].handler, (uint64_t)(uintptr_t)SIG_DFL);
	assert_int_equal(act[64].flags, 0);

	term.sig = SIGUSR1;
	assert_int_equal(rst_sigaction_table(&ce, act, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "signal 10 has two sigactions");
	term.sig = SIGKILL;
	assert_int_equal(rst_sigaction_table(&ce, act, why, sizeof(why)), -EINVAL);
	term.sig = 0;
	assert_int_equal(rst_sigaction_table(&ce, act, why, sizeof(why)), -EINVAL);
	term.sig = 65;
	assert_int_equal(rst_sigaction_table(&ce, act, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "sigaction of signal 65 cannot be set");
}

static void test_siginfo(void **state)
{
	uint8_t buf[RST_SIGINFO_SIZE] = { 0 };
	ProtobufCBinaryData b = { sizeof(buf), buf };
	int32_t signo = 35;
	char why[96];

	(void)state;
	memcpy(buf, &signo, sizeof(signo));
	assert_int_equal(rst_siginfo_signo(&b, why, sizeof(why)), 35);
	signo = SIGKILL;
	memcpy(buf, &signo, sizeof(signo));
	assert_int_equal(rst_siginfo_signo(&b, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "pending SIGKILL cannot be requeued");
	signo = SIGSTOP;
	memcpy(buf, &signo, sizeof(signo));
	assert_int_equal(rst_siginfo_signo(&b, why, sizeof(why)), -EINVAL);
	signo = 65;
	memcpy(buf, &signo, sizeof(signo));
	assert_int_equal(rst_siginfo_signo(&b, why, sizeof(why)), -EINVAL);
	signo = SIGCHLD;
	memcpy(buf, &signo, sizeof(signo));
	b.len = 64;
	assert_int_equal(rst_siginfo_signo(&b, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "pending siginfo of 64 bytes, expected 128");
}

static void test_rseq_cs(void **state)
{
	struct rst_rseq_cs cs = { 0, 0, 0x1000, 0x20, 0x2000 };

	(void)state;
	assert_false(rst_rseq_in_cs(0xfff, &cs));
	assert_true(rst_rseq_in_cs(0x1000, &cs));
	assert_true(rst_rseq_in_cs(0x101f, &cs));
	/* The post-commit instruction itself is outside. */
	assert_false(rst_rseq_in_cs(0x1020, &cs));
	assert_false(rst_rseq_in_cs(0, &cs));
	cs.post_commit_offset = 0;
	assert_false(rst_rseq_in_cs(0x1000, &cs));
}

static void test_status_hex(void **state)
{
	static const char st[] =
		"Name:\tvictim\n"
		"CapInh:\t0000000000000000\n"
		"CapPrm:\t000001fffeffffff\n"
		"CapBnd:\t000001ffffffffff\n"
		"CapAmb:\tzz\n";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(rst_status_hex(st, "CapPrm:", &v), 0);
	assert_int_equal(v, 0x1fffeffffffULL);
	assert_int_equal(rst_status_hex(st, "CapBnd:", &v), 0);
	assert_int_equal(v, 0x1ffffffffffULL);
	assert_int_equal(rst_status_hex(st, "CapInh:", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rst_status_hex(st, "CapEff:", &v), -ENOENT);
	assert_int_equal(rst_status_hex(st, "CapAmb:", &v), -EINVAL);
	/* Only at the start of a line. */
	assert_int_equal(rst_status_hex("Name:\tCapPrm: 1\n", "CapPrm:", &v), -ENOENT);
}

static void test_cap_names(void **state)
{
	char buf[256];

	(void)state;
	rst_cap_names(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	rst_cap_names(1ULL << 24, buf, sizeof(buf));
	assert_string_equal(buf, "cap_sys_resource");
	rst_cap_names(1ULL | 1ULL << 21 | 1ULL << 50, buf, sizeof(buf));
	assert_string_equal(buf, "cap_chown,cap_sys_admin,50");
	/* Truncated, still terminated. */
	rst_cap_names(~0ULL, buf, 16);
	assert_int_equal(strlen(buf), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rlimit_names),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_sigaction_table),
		cmocka_unit_test(test_siginfo),
		cmocka_unit_test(test_rseq_cs),
		cmocka_unit_test(test_status_hex),
		cmocka_unit_test(test_cap_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
