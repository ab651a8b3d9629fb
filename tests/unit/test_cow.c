/* Which VMAs a restored task fills itself so that they are shared
 * copy-on-write with its forker or its children (rst_cow_decide). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/mman.h>

#include "mm.pb-c.h"
#include "rst_cow.h"

#define A 0x7f0000000000ULL
#define B 0x7f0000100000ULL
#define C 0x7f0000200000ULL

static VmaEntry vma(uint64_t start, uint64_t end, int kind, uint32_t flags, uint64_t *cow, size_t ncow)
{
	VmaEntry e = VMA_ENTRY__INIT;

	e.start = start;
	e.end = end;
	e.kind = kind;
	e.flags = flags;
	e.cow_parent = cow;
	e.n_cow_parent = ncow;
	return e;
}

static void test_decide(void **state)
{
	const uint32_t anon = MAP_PRIVATE | MAP_ANONYMOUS;
	uint64_t kid_cow[] = { A, A + 4096 }, own_cow[] = { B, B + 8192 };
	/* The parent: A plain, B plain (inherited, shared with its forker),
	 * a stack at C (MAP_GROWSDOWN: never). */
	VmaEntry p0 = vma(A, A + 0x10000, VMA_KIND__VMA_ANON_PRIVATE, anon, NULL, 0);
	VmaEntry p1 = vma(B, B + 0x10000, VMA_KIND__VMA_ANON_PRIVATE, anon, own_cow, 2);
	VmaEntry p2 = vma(C, C + 0x10000, VMA_KIND__VMA_ANON_PRIVATE, anon | MAP_GROWSDOWN, NULL, 0);
	VmaEntry *pv[] = { &p0, &p1, &p2 };
	MmEntry parent = MM_ENTRY__INIT;
	/* A child sharing A and the stack; one sharing nothing. */
	VmaEntry k0 = vma(A, A + 0x10000, VMA_KIND__VMA_ANON_PRIVATE, anon, kid_cow, 2);
	VmaEntry k1 = vma(C, C + 0x10000, VMA_KIND__VMA_ANON_PRIVATE, anon | MAP_GROWSDOWN, kid_cow, 2);
	VmaEntry *kv[] = { &k0, &k1 };
	MmEntry kid = MM_ENTRY__INIT, other = MM_ENTRY__INIT;
	const MmEntry *kids[] = { &kid, NULL, &other };
	struct rst_cow_slot forker = { .nr = 1 };
	uint8_t how[3];

	(void)state;
	parent.vmas = pv;
	parent.n_vmas = 3;
	kid.vmas = kv;
	kid.n_vmas = 2;
	forker.r[0].start = B;
	forker.r[0].end = B + 0x10000;
	rst_cow_decide(&parent, &forker, kids, 3, how);
	assert_int_equal(how[0], RST_COW_FRESH);
	assert_int_equal(how[1], RST_COW_INHERITED);
	assert_int_equal(how[2], RST_COW_NONE);
	/* Without the forker's VMA (or with other bounds), B is not taken. */
	forker.r[0].end = B + 0x8000;
	rst_cow_decide(&parent, &forker, kids, 3, how);
	assert_int_equal(how[1], RST_COW_NONE);
	rst_cow_decide(&parent, NULL, kids, 3, how);
	assert_int_equal(how[1], RST_COW_NONE);
	/* No child sharing A: left to the usual restore. */
	rst_cow_decide(&parent, NULL, kids + 1, 2, how);
	assert_int_equal(how[0], RST_COW_NONE);
	/* Guard ranges or a file mapping: never. */
	p0.n_guards = 2;
	rst_cow_decide(&parent, NULL, kids, 3, how);
	assert_int_equal(how[0], RST_COW_NONE);
	p0.n_guards = 0;
	p0.kind = VMA_KIND__VMA_FILE_PRIVATE;
	assert_false(rst_cow_eligible(&p0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
