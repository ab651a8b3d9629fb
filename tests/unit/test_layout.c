/* rst_layout: the pure decisions of memory restore (src/rst_layout.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm.pb-c.h"
#include "rst_layout.h"

#define PG LAY_PAGE_SIZE
#define MB (1ULL << 20)

/* ---- lay_maps_parse ---- */

static void test_maps_parse(void **state)
{
	const char *text =
		"55d0c0a00000-55d0c0a02000 r--p 00000000 fe:00 332383                     /usr/bin/sleep\n"
		"55d0c0a02000-55d0c0a06000 r-xp 00002000 fe:00 332383                     /usr/bin/my file (deleted)\n"
		"55d0c1f4f000-55d0c1f70000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f0000000000-7f0000008000 rw-s 00000000 00:01 5                          /dev/zero (deleted)\n"
		"7f0000010000-7f0000011000 ---p 00000000 00:00 0 \n"
		"7ffcb4ff0000-7ffcb5011000 rw-p 00000000 00:00 0                          [stack]\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
	struct lay_map *m = NULL;
	size_t nr = 0, line = 0;

	(void)state;
	assert_int_equal(lay_maps_parse(text, &m, &nr, &line), 0);
	assert_int_equal(nr, 7);
	assert_int_equal(m[0].start, 0x55d0c0a00000ULL);
	assert_int_equal(m[0].end, 0x55d0c0a02000ULL);
	assert_int_equal(m[0].prot, PROT_READ);
	assert_false(m[0].shared);
	assert_int_equal(m[0].dev_major, 0xfe);
	assert_int_equal(m[0].dev_minor, 0);
	assert_int_equal(m[0].ino, 332383);
	assert_string_equal(m[0].name, "/usr/bin/sleep");
	assert_int_equal(m[1].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(m[1].pgoff, 0x2000);
	assert_string_equal(m[1].name, "/usr/bin/my file (deleted)");
	assert_string_equal(m[2].name, "[heap]");
	assert_true(m[3].shared);
	assert_int_equal(m[3].prot, PROT_READ | PROT_WRITE);
	assert_int_equal(m[4].prot, 0);
	assert_string_equal(m[4].name, "");
	assert_int_equal(m[6].start, 0xffffffffff600000ULL);
	lay_maps_free(m, nr);
}

static void test_maps_parse_bad(void **state)
{
	struct lay_map *m = NULL;
	size_t nr = 0, line = 0;

	(void)state;
	assert_int_equal(lay_maps_parse("1000-2000 r--p 0 00:00 0\nxyz\n", &m, &nr, &line), -EINVAL);
	assert_int_equal(line, 2);
	assert_int_equal(lay_maps_parse("2000-1000 r--p 0 00:00 0\n", &m, &nr, &line), -EINVAL);
	assert_int_equal(line, 1);
	assert_int_equal(lay_maps_parse("1000-2000 rq-p 0 00:00 0\n", &m, &nr, &line), -EINVAL);
	assert_int_equal(lay_maps_parse("", &m, &nr, &line), 0);
	assert_int_equal(nr, 0);
	lay_maps_free(m, nr);
}

/* ---- lay_vmas_check ---- */

static void test_vmas_check(void **state)
{
	struct lay_vma ok[] = {
		{ .start = 0x400000, .end = 0x401000, .kind = VMA_KIND__VMA_FILE_PRIVATE },
		{ .start = 0x401000, .end = 0x500000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0x7ffffffde000, .end = LAY_TASK_SIZE, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0xffffffffff600000ULL, .end = 0xffffffffff601000ULL,
		  .kind = VMA_KIND__VMA_VSYSCALL },
	};
	struct lay_vma v[2];
	const char *why = NULL;
	size_t bad = 99;

	(void)state;
	assert_int_equal(lay_vmas_check(ok, 4, &bad, &why), 0);
	assert_int_equal(lay_vmas_check(ok, 0, &bad, &why), 0);

	v[0] = (struct lay_vma){ .start = 0x1000, .end = 0x3000, .kind = VMA_KIND__VMA_ANON_PRIVATE };
	v[1] = (struct lay_vma){ .start = 0x2000, .end = 0x4000, .kind = VMA_KIND__VMA_ANON_PRIVATE };
	assert_int_equal(lay_vmas_check(v, 2, &bad, &why), -EINVAL);
	assert_int_equal(bad, 1);
	v[1].start = 0x3000;
	v[1].end = 0x3800;
	assert_int_equal(lay_vmas_check(v, 2, &bad, &why), -EINVAL);
	assert_int_equal(bad, 1);
	v[1].end = 0x3000;
	assert_int_equal(lay_vmas_check(v, 2, &bad, &why), -EINVAL);
	v[1].end = LAY_TASK_SIZE + PG;
	assert_int_equal(lay_vmas_check(v, 2, &bad, &why), -EINVAL);
	v[1].kind = VMA_KIND__VMA_VSYSCALL;
	v[1].start = 0x3000;
	v[1].end = 0x4000;
	assert_int_equal(lay_vmas_check(v, 2, &bad, &why), -EINVAL);   /* vsyscall too low */
	assert_non_null(why);
}

/* ---- lay_pick_tramp ---- */

static void test_tramp_empty(void **state)
{
	uint64_t a = 0;

	(void)state;
	assert_int_equal(lay_pick_tramp(NULL, 0, 0x10000, LAY_TASK_SIZE, 2 * PG, &a), 0);
	assert_int_equal(a, 0x10000);
	/* lo is rounded up to a page */
	assert_int_equal(lay_pick_tramp(NULL, 0, 0x10001, LAY_TASK_SIZE, 2 * PG, &a), 0);
	assert_int_equal(a, 0x11000);
}

static void test_tramp_gaps(void **state)
{
	/* Unsorted, overlapping, the first gap too small once guarded. */
	struct lay_range busy[] = {
		{ 0x10000000, 0x20000000 },
		{ 0x10000 + MB + 0x1000, 0x400000 },     /* leaves no guarded room below */
		{ 0x18000000, 0x18001000 },
		{ 0x20000000 + 2 * MB + 0x2000, 0x30000000 },
	};
	uint64_t a = 0;

	(void)state;
	assert_int_equal(lay_pick_tramp(busy, 4, 0x10000, LAY_TASK_SIZE, 2 * PG, &a), 0);
	/* 0x400000 + guard fits below 0x10000000 - guard */
	assert_int_equal(a, 0x400000 + MB);
	/* Busy ranges that fill everything up to hi. */
	{
		struct lay_range all[] = { { 0x10000, 0x7000000 } };

		assert_int_equal(lay_pick_tramp(all, 1, 0x10000, 0x7000000 + MB + PG, 2 * PG, &a),
				 -ENOSPC);
		assert_int_equal(lay_pick_tramp(all, 1, 0x10000, 0x7000000 + MB + 2 * PG, 2 * PG, &a),
				 0);
		assert_int_equal(a, 0x7000000 + MB);
	}
}

static void test_tramp_guard_between(void **state)
{
	/* A gap exactly len + 2 guards wide is taken; one page less is not. */
	uint64_t len = 2 * PG, a = 0;
	struct lay_range busy[] = {
		{ 0x10000, 0x100000 },
		{ 0x100000 + 2 * MB + len, 0x200000000ULL },
	};

	(void)state;
	assert_int_equal(lay_pick_tramp(busy, 2, 0x10000, LAY_TASK_SIZE, len, &a), 0);
	assert_int_equal(a, 0x100000 + MB);
	busy[1].start -= PG;
	assert_int_equal(lay_pick_tramp(busy, 2, 0x10000, LAY_TASK_SIZE, len, &a), 0);
	assert_int_equal(a, 0x200000000ULL + MB);
}

/* ---- vDSO ---- */

static struct lay_vdso vdso_at(uint64_t base, uint64_t vvar, uint64_t vclock, uint64_t text)
{
	struct lay_vdso v = { 0 };

	v.present[LAY_VVAR] = v.present[LAY_VVAR_VCLOCK] = v.present[LAY_VDSO] = true;
	v.r[LAY_VVAR] = (struct lay_range){ base, base + vvar };
	v.r[LAY_VVAR_VCLOCK] = (struct lay_range){ base + vvar, base + vvar + vclock };
	v.r[LAY_VDSO] = (struct lay_range){ base + vvar + vclock, base + vvar + vclock + text };
	return v;
}

static void test_vdso_check(void **state)
{
	struct lay_vdso self = vdso_at(0x7f25a985c000ULL, 4 * PG, 2 * PG, 2 * PG);
	struct lay_vdso rec = vdso_at(0x7ffd12340000ULL, 4 * PG, 2 * PG, 2 * PG);
	struct lay_vdso none = { 0 };
	const char *why = NULL;
	uint64_t base = 1;

	(void)state;
	assert_int_equal(lay_vdso_check(&rec, &self, &base, &why), 0);
	assert_int_equal(base, 0x7ffd12340000ULL);
	/* No vDSO recorded: nothing to map. */
	assert_int_equal(lay_vdso_check(&none, &self, &base, &why), 0);
	assert_int_equal(base, 0);
	/* Another size (an older kernel's single [vvar] of 4 pages + text). */
	rec = vdso_at(0x7ffd12340000ULL, 3 * PG, 2 * PG, 2 * PG);
	assert_int_equal(lay_vdso_check(&rec, &self, &base, &why), -EINVAL);
	/* No [vvar_vclock] recorded. */
	rec = vdso_at(0x7ffd12340000ULL, 4 * PG, 2 * PG, 2 * PG);
	rec.present[LAY_VVAR_VCLOCK] = false;
	assert_int_equal(lay_vdso_check(&rec, &self, &base, &why), -EINVAL);
	/* Same sizes, other order: the text below the data. */
	rec = vdso_at(0x7ffd12340000ULL, 4 * PG, 2 * PG, 2 * PG);
	rec.r[LAY_VDSO] = (struct lay_range){ 0x7ffd12340000ULL - 2 * PG, 0x7ffd12340000ULL };
	assert_int_equal(lay_vdso_check(&rec, &self, &base, &why), -EINVAL);
	assert_non_null(why);
	/* A kernel without a vDSO cannot recreate a recorded one. */
	rec = vdso_at(0x7ffd12340000ULL, 4 * PG, 2 * PG, 2 * PG);
	assert_int_equal(lay_vdso_check(&rec, &none, &base, &why), -EINVAL);
}

static void test_vdso_from_maps(void **state)
{
	const char *text =
		"7f25a985c000-7f25a9860000 r--p 00000000 00:00 0                          [vvar]\n"
		"7f25a9860000-7f25a9862000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
		"7f25a9862000-7f25a9864000 r-xp 00000000 00:00 0                          [vdso]\n";
	struct lay_map *m = NULL;
	struct lay_vdso v;
	size_t nr = 0, line;

	(void)state;
	assert_int_equal(lay_maps_parse(text, &m, &nr, &line), 0);
	assert_int_equal(lay_vdso_from_maps(m, nr, &v), 0);
	assert_true(v.present[LAY_VVAR] && v.present[LAY_VVAR_VCLOCK] && v.present[LAY_VDSO]);
	assert_int_equal(v.r[LAY_VDSO].start, 0x7f25a9862000ULL);
	free(m[0].name);
	m[0].name = strdup("[vdso]");
	assert_int_equal(lay_vdso_from_maps(m, nr, &v), -EINVAL);
	lay_maps_free(m, nr);
}

/* ---- lay_runs_assign ---- */

static void test_runs_assign(void **state)
{
	struct lay_vma v[] = {
		{ .start = 0x1000, .end = 0x3000, .kind = VMA_KIND__VMA_FILE_PRIVATE },
		{ .start = 0x3000, .end = 0x8000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0x8000, .end = 0x9000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0xa000, .end = 0xc000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0xc000, .end = 0xd000, .kind = VMA_KIND__VMA_FILE_SHARED },
	};
	struct lay_run runs[] = {
		{ 0x2000, 2 },          /* spans VMAs 0 and 1 */
		{ 0x5000, 1 },
		{ 0x6000, 1 },          /* two runs in VMA 1 */
		{ 0xb000, 1 },
	};
	const char *why = NULL;
	uint64_t total = 0;
	size_t bad = 99;

	(void)state;
	assert_int_equal(lay_runs_assign(v, 5, runs, 4, &total, &bad, &why), 0);
	assert_int_equal(total, 5);
	assert_true(v[0].has_pages);
	assert_true(v[1].has_pages);
	assert_false(v[2].has_pages);
	assert_true(v[3].has_pages);
	assert_false(v[4].has_pages);
}

static void test_runs_bad(void **state)
{
	struct lay_vma v[] = {
		{ .start = 0x1000, .end = 0x3000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0x4000, .end = 0x5000, .kind = VMA_KIND__VMA_ANON_PRIVATE },
		{ .start = 0x5000, .end = 0x6000, .kind = VMA_KIND__VMA_ANON_SHARED },
		{ .start = 0x6000, .end = 0x7000, .kind = VMA_KIND__VMA_VDSO },
	};
	struct lay_run hole[] = { { 0x2000, 3 } };          /* crosses 0x3000-0x4000 */
	struct lay_run outside[] = { { 0x8000, 1 } };
	struct lay_run shared[] = { { 0x5000, 1 } };
	struct lay_run vdso[] = { { 0x6000, 1 } };
	struct lay_run unaligned[] = { { 0x1800, 1 } };
	struct lay_run empty[] = { { 0x1000, 0 } };
	struct lay_run order[] = { { 0x2000, 1 }, { 0x1000, 1 } };
	struct lay_run overlap[] = { { 0x1000, 2 }, { 0x2000, 1 } };
	struct lay_run huge[] = { { 0x1000, UINT64_MAX / 2 } };
	const char *why = NULL;
	uint64_t total;
	size_t bad = 99;

	(void)state;
	assert_int_equal(lay_runs_assign(v, 4, hole, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(bad, 0);
	assert_int_equal(lay_runs_assign(v, 4, outside, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, shared, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, vdso, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, unaligned, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, empty, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, order, 2, &total, &bad, &why), -EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(lay_runs_assign(v, 4, overlap, 2, &total, &bad, &why), -EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(lay_runs_assign(v, 4, huge, 1, &total, &bad, &why), -EINVAL);
	assert_int_equal(lay_runs_assign(v, 4, NULL, 0, &total, &bad, &why), 0);
	assert_int_equal(total, 0);
}

/* ---- lay_mmap_args ---- */

static void test_mmap_args(void **state)
{
	struct lay_vma v = { .start = 0x1000, .end = 0x2000, .kind = VMA_KIND__VMA_ANON_PRIVATE,
			     .prot = PROT_READ, .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN };
	const char *why = NULL;
	uint32_t prot, flags;

	(void)state;
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), 0);
	assert_int_equal(prot, PROT_READ);
	assert_int_equal(flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE);
	v.has_pages = true;
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), 0);
	assert_int_equal(prot, PROT_READ | PROT_WRITE);

	/* File private: no MAP_ANONYMOUS; the type may be left out. */
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_FILE_PRIVATE, .prot = PROT_READ | PROT_EXEC,
			      .flags = MAP_NORESERVE };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), 0);
	assert_int_equal(flags, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED_NOREPLACE);
	assert_int_equal(prot, PROT_READ | PROT_EXEC);

	/* Shared anonymous memory is a memfd: MAP_SHARED without MAP_ANONYMOUS. */
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_ANON_SHARED, .prot = PROT_READ | PROT_WRITE,
			      .flags = MAP_SHARED | MAP_ANONYMOUS | MAP_LOCKED };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), 0);
	assert_int_equal(flags, MAP_SHARED | MAP_LOCKED | MAP_FIXED_NOREPLACE);

	v = (struct lay_vma){ .kind = VMA_KIND__VMA_FILE_SHARED, .flags = MAP_PRIVATE };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -EINVAL);
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_FILE_SHARED, .flags = MAP_SHARED | MAP_ANONYMOUS };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -EINVAL);
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_FILE_PRIVATE, .flags = MAP_GROWSDOWN };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -ENOTSUP);
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_ANON_PRIVATE, .flags = MAP_HUGETLB };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -ENOTSUP);
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_ANON_PRIVATE, .prot = 0x8 /* PROT_SEM */ };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -ENOTSUP);
	v = (struct lay_vma){ .kind = VMA_KIND__VMA_VDSO };
	assert_int_equal(lay_mmap_args(&v, &prot, &flags, &why), -ENOTSUP);
	assert_non_null(why);
}

/* ---- lay_guards_check ---- */

static void test_guards(void **state)
{
	struct lay_vma v = { .start = 0x10000, .end = 0x20000, .kind = VMA_KIND__VMA_ANON_PRIVATE };
	uint64_t ok[] = { 0x10000, 0x11000, 0x15000, 0x20000 };
	uint64_t odd[] = { 0x10000 };
	uint64_t outside[] = { 0xf000, 0x11000 };
	uint64_t past[] = { 0x1f000, 0x21000 };
	uint64_t order[] = { 0x15000, 0x16000, 0x12000, 0x13000 };
	uint64_t empty[] = { 0x12000, 0x12000 };
	uint64_t unaligned[] = { 0x12000, 0x12800 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(lay_guards_check(&v, NULL, 0, &why), 0);
	assert_int_equal(lay_guards_check(&v, ok, 4, &why), 0);
	assert_int_equal(lay_guards_check(&v, odd, 1, &why), -EINVAL);
	assert_int_equal(lay_guards_check(&v, outside, 2, &why), -EINVAL);
	assert_int_equal(lay_guards_check(&v, past, 2, &why), -EINVAL);
	assert_int_equal(lay_guards_check(&v, order, 4, &why), -EINVAL);
	assert_int_equal(lay_guards_check(&v, empty, 2, &why), -EINVAL);
	assert_int_equal(lay_guards_check(&v, unaligned, 2, &why), -EINVAL);
	v.kind = VMA_KIND__VMA_FILE_PRIVATE;
	assert_int_equal(lay_guards_check(&v, ok, 4, &why), 0);
	v.kind = VMA_KIND__VMA_FILE_SHARED;
	assert_int_equal(lay_guards_check(&v, ok, 4, &why), -EINVAL);
	assert_non_null(why);
}

/* ---- lay_maps_compare ---- */

static struct lay_map *parse(const char *text, size_t *nr)
{
	struct lay_map *m = NULL;
	size_t line;

	assert_int_equal(lay_maps_parse(text, &m, nr, &line), 0);
	return m;
}

static const char *rec_text =
	"400000-401000 r--p 00000000 fe:00 77                                 /bin/x\n"
	"401000-403000 r-xp 00001000 fe:00 77                                 /bin/x\n"
	"600000-621000 rw-p 00000000 00:00 0                                  [heap]\n"
	"621000-622000 rw-p 00000000 00:00 0 \n"
	"7f0000000000-7f0000008000 rw-s 00002000 00:01 5                      /dev/zero (deleted)\n"
	"7f25a985c000-7f25a9860000 r--p 00000000 00:00 0                      [vvar]\n"
	"7ffcb4ff0000-7ffcb5011000 rw-p 00000000 00:00 0                      [stack]\n";

static int compare(const char *got_text, uint64_t *addr, const char **why,
		   struct lay_range skip)
{
	size_t ne, ng, ie, ig;
	struct lay_map *e = parse(rec_text, &ne), *g = parse(got_text, &ng);
	int ret;

	e[4].any_ident = true;
	ret = lay_maps_compare(e, ne, g, ng, skip, addr, &ie, &ig, why);
	lay_maps_free(e, ne);
	lay_maps_free(g, ng);
	return ret;
}

static void test_compare(void **state)
{
	struct lay_range none = { 0, 0 }, tramp = { 0x110000, 0x112000 };
	uint64_t addr = 0;
	const char *why = NULL;

	(void)state;
	/* Merged anonymous VMAs (heap + its neighbour), the memfd in place of
	 * /dev/zero, the trampoline and [vsyscall]: all equal. */
	assert_int_equal(compare(
		"110000-112000 rwxp 00000000 00:00 0\n"
		"400000-401000 r--p 00000000 fe:00 77                                 /bin/x\n"
		"401000-403000 r-xp 00001000 fe:00 77                                 /bin/x\n"
		"600000-622000 rw-p 00000000 00:00 0                                  [heap]\n"
		"7f0000000000-7f0000008000 rw-s 00002000 00:01 9                      /memfd:m (deleted)\n"
		"7f25a985c000-7f25a9860000 r--p 00000000 00:00 0                      [vvar]\n"
		"7ffcb4ff0000-7ffcb5011000 rw-p 00000000 00:00 0                      [stack]\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0              [vsyscall]\n",
		&addr, &why, tramp), 0);
	/* Without the skip range the trampoline is an unexpected mapping. */
	assert_int_equal(compare(
		"110000-112000 rwxp 00000000 00:00 0\n", &addr, &why, none), -EINVAL);
	assert_int_equal(addr, 0x110000);
	/* A file split differently but with consistent offsets is fine. */
	assert_int_equal(compare(
		"400000-402000 r--p 00000000 fe:00 77                                 /bin/x\n",
		&addr, &why, none), -EINVAL);
	assert_int_equal(addr, 0x401000);       /* prot differs from there */
	/* Missing stack. */
	assert_int_equal(compare(
		"400000-401000 r--p 00000000 fe:00 77                                 /bin/x\n"
		"401000-403000 r-xp 00001000 fe:00 77                                 /bin/x\n"
		"600000-622000 rw-p 00000000 00:00 0                                  [heap]\n"
		"7f0000000000-7f0000008000 rw-s 00002000 00:01 9                      /memfd:m (deleted)\n"
		"7f25a985c000-7f25a9860000 r--p 00000000 00:00 0                      [vvar]\n",
		&addr, &why, none), -EINVAL);
	assert_int_equal(addr, 0x7ffcb4ff0000ULL);
	assert_string_equal(why, "recorded mapping missing");
	/* Wrong file offset, wrong inode, wrong name of an equal-bounds
	 * anonymous VMA, shared vs private. */
	assert_int_equal(compare(
		"400000-401000 r--p 00001000 fe:00 77                                 /bin/x\n",
		&addr, &why, none), -EINVAL);
	assert_string_equal(why, "file offset differs");
	assert_int_equal(compare(
		"400000-401000 r--p 00000000 fe:00 78                                 /bin/x\n",
		&addr, &why, none), -EINVAL);
	assert_int_equal(compare(
		"400000-401000 r--p 00000000 fe:00 77                                 /bin/x\n"
		"401000-403000 r-xp 00001000 fe:00 77                                 /bin/x\n"
		"600000-621000 rw-p 00000000 00:00 0                                  [anon:x]\n",
		&addr, &why, none), -EINVAL);
	assert_string_equal(why, "name differs");
	assert_int_equal(compare(
		"400000-401000 r--s 00000000 fe:00 77                                 /bin/x\n",
		&addr, &why, none), -EINVAL);
	/* The shared object at another offset. */
	assert_int_equal(compare(
		"400000-401000 r--p 00000000 fe:00 77                                 /bin/x\n"
		"401000-403000 r-xp 00001000 fe:00 77                                 /bin/x\n"
		"600000-622000 rw-p 00000000 00:00 0                                  [heap]\n"
		"7f0000000000-7f0000008000 rw-s 00000000 00:01 9                      /memfd:m (deleted)\n",
		&addr, &why, none), -EINVAL);
	assert_int_equal(addr, 0x7f0000000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_parse),
		cmocka_unit_test(test_maps_parse_bad),
		cmocka_unit_test(test_vmas_check),
		cmocka_unit_test(test_tramp_empty),
		cmocka_unit_test(test_tramp_gaps),
		cmocka_unit_test(test_tramp_guard_between),
		cmocka_unit_test(test_vdso_check),
		cmocka_unit_test(test_vdso_from_maps),
		cmocka_unit_test(test_runs_assign),
		cmocka_unit_test(test_runs_bad),
		cmocka_unit_test(test_mmap_args),
		cmocka_unit_test(test_guards),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
