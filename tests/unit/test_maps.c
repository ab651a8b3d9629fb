/* smaps parser and VMA classification on crafted text: paths with spaces
 * and "(deleted)", the kernel's special mappings, VmFlags, shared anonymous
 * memory, malformed lines; and the pagemap page filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm.pb-c.h"
#include "proc_maps.h"

/* The body every smaps entry carries; fields in the kernel's order. */
#define BODY(anon, swap, flags)                                  \
	"Size:                  8 kB\n"                          \
	"KernelPageSize:        4 kB\n"                          \
	"MMUPageSize:           4 kB\n"                          \
	"Rss:                   8 kB\n"                          \
	"Pss:                   8 kB\n"                          \
	"Anonymous:          " anon " kB\n"                      \
	"AnonHugePages:         0 kB\n"                          \
	"Swap:               " swap " kB\n"                      \
	"SwapPss:               0 kB\n"                          \
	"Locked:                0 kB\n"                          \
	"THPeligible:           0\n"                             \
	"VmFlags: " flags " \n"

static const char smaps[] =
	"55d0c1c2e000-55d0c1c30000 r--p 00000000 fd:01 1311  /usr/bin/cat\n"
	BODY("0", "0", "rd mr mw me sd")
	"55d0c1c30000-55d0c1c31000 rw-p 00002000 fd:01 1311  /usr/bin/cat\n"
	BODY("4", "0", "rd wr mr mw me ac sd")
	"55d0c2000000-55d0c2021000 rw-p 00000000 00:00 0     [heap]\n"
	BODY("132", "0", "rd wr mr mw me ac sd")
	"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
	BODY("0", "4", "rd wr mr mw me nr dc hg dd wf sd")
	"7f0000001000-7f0000002000 ---p 00000000 00:00 0 \n"
	BODY("0", "0", "mr mw me sd")
	"7f0000002000-7f0000004000 rw-s 00000000 00:01 4242  /dev/zero (deleted)\n"
	BODY("0", "0", "rd wr sh mr mw me ms sd")
	"7f0000004000-7f0000005000 rw-s 00001000 00:01 98307 /SYSV0000abcd (deleted)\n"
	BODY("0", "0", "rd wr sh mr mw me ms sd")
	"7f0000005000-7f0000006000 r--p 00000000 fd:01 77    /tmp/my file (deleted)\n"
	BODY("0", "0", "rd mr mw me sd")
	"7f0000006000-7f0000007000 rw-s 00000000 fd:01 78    /data/with  two  spaces \n"
	BODY("0", "0", "rd wr sh mr mw me ms sd")
	"7f0000007000-7f0000008000 r--s 00000000 fd:01 79    /data/line\\012break\n"
	BODY("0", "0", "rd mr me ms sd")
	"7f0000008000-7f000000c000 r--p 00000000 00:00 0     [vvar]\n"
	BODY("0", "0", "rd mr pf io de dd")
	"7f000000c000-7f000000e000 r--p 00000000 00:00 0     [vvar_vclock]\n"
	BODY("0", "0", "rd mr pf io de dd")
	"7f000000e000-7f0000010000 r-xp 00000000 00:00 0     [vdso]\n"
	BODY("0", "0", "rd ex mr mw me de")
	"7f0000010000-7f0000011000 rw-p 00000000 00:05 6     /dev/zero\n"
	BODY("4", "0", "rd wr mr mw me sd")
	"7f0000011000-7f0000012000 rw-p 00000000 00:00 0     [anon:glibc: malloc]\n"
	BODY("4", "0", "rd wr mr mw me sd mg nh")
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0     [stack]\n"
	BODY("8", "0", "rd wr mr mw me gd ac")
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n"
	BODY("0", "0", "ex");

enum {
	I_CAT_RO, I_CAT_RW, I_HEAP, I_ANON, I_GUARD, I_SHM, I_SYSV, I_DELETED,
	I_SPACES, I_NEWLINE, I_VVAR, I_VCLOCK, I_VDSO, I_DEVZERO, I_NAMED,
	I_STACK, I_VSYSCALL, I_NR
};

static struct vma_list parse_all(void)
{
	struct vma_list l;
	size_t line = 0;
	const char *why;

	assert_int_equal(smaps_parse(smaps, &l, &line), 0);
	assert_int_equal(l.nr, I_NR);
	for (size_t i = 0; i < l.nr; i++) {
		int ret = vma_classify(&l.v[i], &why);

		if (ret)
			fail_msg("vma %zu: %s", i, why);
	}
	return l;
}

static void test_header_fields(void **state)
{
	struct vma_list l = parse_all();
	const struct vma *v;

	(void)state;
	v = &l.v[I_CAT_RW];
	assert_int_equal(v->start, 0x55d0c1c30000ULL);
	assert_int_equal(v->end, 0x55d0c1c31000ULL);
	assert_string_equal(v->perms, "rw-p");
	assert_int_equal(v->pgoff, 0x2000);
	assert_int_equal(v->dev_major, 0xfd);
	assert_int_equal(v->dev_minor, 1);
	assert_int_equal(v->ino, 1311);
	assert_string_equal(v->path, "/usr/bin/cat");
	assert_int_equal(v->anon_kb, 4);
	assert_int_equal(v->kernel_page_kb, 4);
	assert_null(l.v[I_ANON].path);
	assert_int_equal(l.v[I_ANON].swap_kb, 4);
	assert_int_equal(l.v[I_VSYSCALL].start, 0xffffffffff600000ULL);
	vma_list_free(&l);
}

static void test_paths(void **state)
{
	struct vma_list l = parse_all();

	(void)state;
	assert_string_equal(l.v[I_DELETED].path, "/tmp/my file (deleted)");
	/* Trailing spaces belong to the name; the padding does not. */
	assert_string_equal(l.v[I_SPACES].path, "/data/with  two  spaces ");
	assert_string_equal(l.v[I_NEWLINE].path, "/data/line\nbreak");
	assert_string_equal(l.v[I_NAMED].path, "[anon:glibc: malloc]");
	vma_list_free(&l);
}

static void test_kinds(void **state)
{
	struct vma_list l = parse_all();
	static const int want[I_NR] = {
		[I_CAT_RO] = VMA_KIND__VMA_FILE_PRIVATE,
		[I_CAT_RW] = VMA_KIND__VMA_FILE_PRIVATE,
		[I_HEAP] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_ANON] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_GUARD] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_SHM] = VMA_KIND__VMA_ANON_SHARED,
		[I_SYSV] = VMA_KIND__VMA_ANON_SHARED,
		[I_DELETED] = VMA_KIND__VMA_FILE_PRIVATE,
		[I_SPACES] = VMA_KIND__VMA_FILE_SHARED,
		[I_NEWLINE] = VMA_KIND__VMA_FILE_SHARED,
		[I_VVAR] = VMA_KIND__VMA_VVAR,
		[I_VCLOCK] = VMA_KIND__VMA_VVAR_VCLOCK,
		[I_VDSO] = VMA_KIND__VMA_VDSO,
		[I_DEVZERO] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_NAMED] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_STACK] = VMA_KIND__VMA_ANON_PRIVATE,
		[I_VSYSCALL] = VMA_KIND__VMA_VSYSCALL,
	};

	(void)state;
	for (int i = 0; i < I_NR; i++)
		if (l.v[i].kind != want[i])
			fail_msg("vma %d (%s): kind %d, want %d", i,
				 l.v[i].path ? l.v[i].path : "anon", l.v[i].kind, want[i]);
	/* The shmid of a shared anonymous object is its inode. */
	assert_int_equal(l.v[I_SHM].ino, 4242);
	assert_int_equal(l.v[I_SYSV].ino, 98307);
	assert_int_equal(l.v[I_SYSV].pgoff, 0x1000);
	vma_list_free(&l);
}

static void test_prot_flags_madv(void **state)
{
	struct vma_list l = parse_all();

	(void)state;
	assert_int_equal(l.v[I_GUARD].prot, 0);
	assert_int_equal(l.v[I_GUARD].flags, MAP_PRIVATE | MAP_ANONYMOUS);
	assert_int_equal(l.v[I_CAT_RO].prot, PROT_READ);
	assert_int_equal(l.v[I_CAT_RO].flags, MAP_PRIVATE);
	assert_int_equal(l.v[I_VDSO].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(l.v[I_VSYSCALL].prot, PROT_EXEC);
	assert_int_equal(l.v[I_SHM].flags, MAP_SHARED | MAP_ANONYMOUS);
	assert_int_equal(l.v[I_SPACES].flags, MAP_SHARED);
	assert_int_equal(l.v[I_STACK].flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
	assert_int_equal(l.v[I_ANON].flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	assert_int_equal(l.v[I_ANON].madv, 1u << MADV_DONTFORK | 1u << MADV_HUGEPAGE |
				    1u << MADV_DONTDUMP | 1u << MADV_WIPEONFORK);
	assert_int_equal(l.v[I_NAMED].madv, 1u << MADV_MERGEABLE | 1u << MADV_NOHUGEPAGE);
	/* Kernel-set flags of special mappings (de, dd, io, pf) are not kept. */
	assert_int_equal(l.v[I_VVAR].madv, 0);
	assert_int_equal(l.v[I_HEAP].madv, 0);
	vma_list_free(&l);
}

static void test_private_and_pages(void **state)
{
	struct vma_list l = parse_all();
	const char *why;

	(void)state;
	assert_true(vma_is_private(&l.v[I_HEAP]));
	assert_true(vma_is_private(&l.v[I_CAT_RO]));
	assert_false(vma_is_private(&l.v[I_SHM]));
	assert_false(vma_is_private(&l.v[I_VDSO]));
	assert_false(vma_is_private(&l.v[I_SPACES]));
	/* Pagemap is read only where Anonymous or Swap is non-zero. */
	assert_false(vma_may_have_pages(&l.v[I_CAT_RO]));
	assert_true(vma_may_have_pages(&l.v[I_CAT_RW]));
	assert_true(vma_may_have_pages(&l.v[I_ANON]));     /* swap only */
	assert_false(vma_may_have_pages(&l.v[I_GUARD]));
	assert_false(vma_may_have_pages(&l.v[I_SHM]));
	vma_list_free(&l);
	/* No anonymous pages, but maybe guard markers to record. */
	assert_int_equal(smaps_parse("7f00-7f01000 rw-p 00000000 00:00 0\n" BODY("0", "0", "rd wr gu"),
				     &l, NULL), 0);
	assert_int_equal(vma_classify(&l.v[0], &why), 0);
	assert_true(vma_may_have_pages(&l.v[0]));
	vma_list_free(&l);
}

static void test_vmflags(void **state)
{
	(void)state;
	assert_int_equal(smaps_parse_vmflags(" rd wr ex sh gd "), VMF_RD | VMF_WR | VMF_EX | VMF_SH | VMF_GD);
	assert_int_equal(smaps_parse_vmflags(""), 0);
	assert_int_equal(smaps_parse_vmflags("rd wr mr mw me gu ac \n"), VMF_RD | VMF_WR | VMF_MW | VMF_GU);
	/* Unknown and malformed mnemonics are flagged, never dropped. */
	assert_int_equal(smaps_parse_vmflags("zz lo"), VMF_LO | VMF_UNKNOWN);
	assert_int_equal(smaps_parse_vmflags("rdx"), VMF_UNKNOWN);
	assert_int_equal(smaps_parse_vmflags("lo r"), VMF_LO | VMF_UNKNOWN);
	assert_int_equal(smaps_parse_vmflags("??"), VMF_UNKNOWN);
	/* Mirrors of restored state give no bit. */
	assert_int_equal(smaps_parse_vmflags("mr me ms ac sd"), 0);
	assert_int_equal(smaps_parse_vmflags("sl um uw ui ht sf mm ar dp"),
			 VMF_SL | VMF_UF | VMF_HT | VMF_SF | VMF_MM | VMF_AR | VMF_DP);
}

/* classify_vmflags(perms path, flags): vma_classify() of one VMA whose
 * VmFlags are flags; the VMA for more checks in *out (freed by caller). */
static int classify_vmflags(const char *hdr, const char *flags, struct vma_list *l, const char **why)
{
	char text[512];

	snprintf(text, sizeof(text), "%s\nVmFlags: %s\n", hdr, flags);
	assert_int_equal(smaps_parse(text, l, NULL), 0);
	assert_int_equal(l->nr, 1);
	*why = NULL;
	return vma_classify(&l->v[0], why);
}

static void test_vmflags_audit(void **state)
{
	static const char anon[] = "7f00-7f01000 rw-p 00000000 00:00 0";
	static const struct {
		const char *hdr, *flags, *why_has;
	} refused[] = {
		{ anon, "rd wr mr mw me ac um", "userfaultfd" },
		{ anon, "rd wr mr mw me ac uw", "userfaultfd" },
		{ anon, "rd wr mr mw me ac ui", "userfaultfd" },
		{ anon, "rd wr mr mw me ac dp", "DROPPABLE" },
		{ anon, "rd wr mr mw me ac xx", "does not know" },
		{ anon, "rd wr mr mw me ac ss", "shadow stack" },
		{ "7f00-7f01000 rw-s 00000000 00:05 9 /dev/fb0", "rd wr sh mr mw me ms mm", "mixed" },
		{ "7f00-7f01000 rw-s 00000000 fd:01 9 /mnt/pmem/f", "rd wr sh mr mw me ms sf", "MAP_SYNC" },
		{ "7f00-7f01000 rw-s 00000000 00:10 9 /[aio] (deleted)", "rd wr sh mr mw me ms de", "de" },
		{ "7f00-7f01000 r--s 00000000 00:01 77 /memfd:ro (deleted)", "rd sh mr me ms", "without mw" },
		{ "7f00-7f01000 r-xp 00000000 00:00 0 [vdso]", "rd ex mr mw me de sl", "sealed vDSO" },
	};
	struct vma_list l;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (classify_vmflags(refused[i].hdr, refused[i].flags, &l, &why) != -ENOTSUP)
			fail_msg("accepted: %s / %s", refused[i].hdr, refused[i].flags);
		assert_non_null(why);
		if (!strstr(why, refused[i].why_has))
			fail_msg("%s: reason '%s' lacks '%s'", refused[i].flags, why, refused[i].why_has);
		vma_list_free(&l);
	}
	/* Restorable: lock state, seal, maywrite; MAP_LOCKED no longer used. */
	assert_int_equal(classify_vmflags(anon, "rd wr mr mw me ac lo sl sd", &l, &why), 0);
	assert_int_equal(l.v[0].mlock, VMA_MLOCK_ALL);
	assert_true(l.v[0].sealed);
	assert_int_equal(l.v[0].flags & MAP_LOCKED, 0);
	vma_list_free(&l);
	assert_int_equal(classify_vmflags(anon, "rd wr mr mw me ac lo lf", &l, &why), 0);
	assert_int_equal(l.v[0].mlock, VMA_MLOCK_ONFAULT);
	assert_false(l.v[0].sealed);
	vma_list_free(&l);
	assert_int_equal(classify_vmflags("7f00-7f01000 r--s 00000000 fd:01 9 /data/f",
					  "rd sh mr mw me ms", &l, &why), 0);
	assert_true(l.v[0].maywrite);
	vma_list_free(&l);
	assert_int_equal(classify_vmflags("7f00-7f01000 r--s 00000000 fd:01 9 /data/f",
					  "rd sh mr me ms", &l, &why), 0);
	assert_false(l.v[0].maywrite);
	vma_list_free(&l);
	/* mw of a private file mapping says nothing about the fd. */
	assert_int_equal(classify_vmflags("7f00-7f01000 r--p 00000000 fd:01 9 /data/f",
					  "rd mr mw me", &l, &why), 0);
	assert_false(l.v[0].maywrite);
	vma_list_free(&l);
	/* The kernel's own flags on its special mappings. */
	assert_int_equal(classify_vmflags("7f00-7f01000 r--p 00000000 00:00 0 [vvar]",
					  "rd mr pf io de dd", &l, &why), 0);
	vma_list_free(&l);
}

static void classify_one(const char *text, int want_ret, int want_kind)
{
	struct vma_list l;
	const char *why = NULL;

	assert_int_equal(smaps_parse(text, &l, NULL), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(vma_classify(&l.v[0], &why), want_ret);
	if (want_ret)
		assert_non_null(why);
	else
		assert_int_equal(l.v[0].kind, want_kind);
	vma_list_free(&l);
}

static void test_refused(void **state)
{
	(void)state;
	classify_one("7f00-7f01000 rw-s 00000000 00:0e 1 anon_inode:[io_uring]\n" BODY("0", "0", "rd wr sh"),
		     -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-s 00000000 00:05 1 /dev/mem\n" BODY("0", "0", "rd wr sh io pf"),
		     -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-p 00000000 00:00 0 [uprobes]\n" BODY("0", "0", "rd"),
		     -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-p 00000000 00:00 0 \n" BODY("0", "0", "rd wr ss"),
		     -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-s 00000000 00:00 0 \n" BODY("0", "0", "rd wr sh"),
		     -ENOTSUP, 0);
	classify_one("7f00000-7f200000 rw-s 00000000 00:10 1 /anon_hugepage (deleted)\n"
		     "KernelPageSize:     2048 kB\nVmFlags: rd wr sh ht\n", -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-p 00000000 00:00 0 \n" BODY("4", "0", "rd wr") "ProtectionKey:         3\n",
		     -ENOTSUP, 0);
	classify_one("7f00-7f01000 rw-p 00000000 00:00 0 \n" "ProtectionKey:         0\n" BODY("4", "0", "rd wr"),
		     0, VMA_KIND__VMA_ANON_PRIVATE);
	/* The same names with maps-only text (no body) still classify. */
	classify_one("7f00-7f01000 rw-s 00000000 00:01 9 /dev/zero (deleted)\n", 0,
		     VMA_KIND__VMA_ANON_SHARED);
	classify_one("7f00-7f01000 rw-s 00000000 00:01 9 [anon_shmem:buf]\n", 0,
		     VMA_KIND__VMA_ANON_SHARED);
	classify_one("7f00-7f01000 rw-s 00000000 00:01 77 /memfd:pool (deleted)\n", 0,
		     VMA_KIND__VMA_ANON_SHARED);
	classify_one("7f00-7f01000 rw-p 00000000 00:01 77 /memfd:pool (deleted)\n", -ENOTSUP, 0);
	/* A memfd still linked somewhere is not: it has no " (deleted)". */
	classify_one("7f00-7f01000 rw-s 00000000 00:01 77 /memfd:pool\n", 0,
		     VMA_KIND__VMA_FILE_SHARED);
	/* A regular file that happens to be called like the shmem file. */
	classify_one("7f00-7f01000 rw-s 00000000 fd:01 9 /dev/zero (deleted)\n", 0,
		     VMA_KIND__VMA_FILE_SHARED);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"7f00-7e00 rw-p 00000000 00:00 0\n",             /* start >= end */
		"7f00-7f01 rw-q 00000000 00:00 0\n",             /* perms */
		"7f00-7f01 rw-p 00000000 00:00\n",               /* no inode */
		"7f00-7f01 rw-p 0000000g 00:00 0\n",             /* offset */
		"7f00-7f01 rw-p 00000000 00-00 0\n",             /* device */
		"7f00-7f01 rw-p 00000000 00:00 0x\n",            /* inode */
		"Rss: 4 kB\n",                                   /* body before header */
		"7f00-7f02 rw-p 00000000 00:00 0\n7f01-7f03 rw-p 00000000 00:00 0\n", /* overlap */
		"ffffffffffffffffff-1 rw-p 0 0:0 0\n",           /* overflow */
	};
	struct vma_list l;
	size_t line;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = 0;
		if (smaps_parse(bad[i], &l, &line) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(line >= 1);
		assert_null(l.v);
	}
	line = 0;
	assert_int_equal(smaps_parse("7f00-7f01 rw-p 00000000 00:00 0\nbogus\n7f01-7f00 r--p 0 0:0 0\n",
				     &l, &line), -EINVAL);
	assert_int_equal(line, 3);
	/* Empty input is an empty list. */
	assert_int_equal(smaps_parse("", &l, NULL), 0);
	assert_int_equal(l.nr, 0);
	vma_list_free(&l);
}

static void test_pme(void **state)
{
	const uint64_t zero = 0x1234;

	(void)state;
	assert_false(pme_wanted(0, zero));                                   /* untouched */
	assert_true(pme_wanted(PME_PRESENT | 0x5000, zero));                 /* anon page */
	assert_true(pme_wanted(PME_SWAP | 0x1234, zero));                    /* swap offset, not a PFN */
	assert_false(pme_wanted(PME_PRESENT | zero, zero));                  /* zero page */
	assert_true(pme_wanted(PME_PRESENT | zero, 0));                      /* zero page unknown */
	assert_false(pme_wanted(PME_PRESENT | PME_FILE | 0x5000, zero));     /* file page / huge zero */
	assert_false(pme_wanted(PME_SWAP | PME_FILE, zero));                 /* file page migrating */
	assert_false(pme_wanted(PME_SWAP | PME_GUARD, zero));                /* guard marker */
	assert_true(pme_wanted(PME_PRESENT | (1ULL << 56) | (1ULL << 55) | 7, zero)); /* exclusive, soft-dirty */
}

static void test_pme_cow(void **state)
{
	const uint64_t zero = 0x1234, pfn = 0x5000, excl = 1ULL << 56;

	(void)state;
	assert_true(pme_cow_shared(PME_PRESENT | pfn, PME_PRESENT | pfn, zero));
	/* Another frame: copied on write since the fork. */
	assert_false(pme_cow_shared(PME_PRESENT | excl | pfn, PME_PRESENT | excl | 0x5001, zero));
	/* PFNs hidden (no CAP_SYS_ADMIN): nothing can be told. */
	assert_false(pme_cow_shared(PME_PRESENT, PME_PRESENT, zero));
	/* Swapped, absent, the zero page, a file page: not a shared anonymous page. */
	assert_false(pme_cow_shared(PME_SWAP | pfn, PME_SWAP | pfn, zero));
	assert_false(pme_cow_shared(0, PME_PRESENT | pfn, zero));
	assert_false(pme_cow_shared(PME_PRESENT | pfn, 0, zero));
	assert_false(pme_cow_shared(PME_PRESENT | zero, PME_PRESENT | zero, zero));
	assert_false(pme_cow_shared(PME_PRESENT | PME_FILE | pfn, PME_PRESENT | PME_FILE | pfn, zero));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_prot_flags_madv),
		cmocka_unit_test(test_private_and_pages),
		cmocka_unit_test(test_vmflags),
		cmocka_unit_test(test_vmflags_audit),
		cmocka_unit_test(test_pme_cow),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_pme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
