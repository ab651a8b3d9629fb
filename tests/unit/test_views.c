/* The pure parts of minicr-decode's views (tools/views.h): O_* names of
 * fdinfo flags (the kernel's O_LARGEFILE, multi-bit O_SYNC, leftover bits),
 * protections, and how many pages of pagemap runs fall in a VMA (runs
 * straddling its ends, out of order, past the end of the address space). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "views.h"

static void test_open_flags(void **state)
{
	char buf[256];

	(void)state;
	views_open_flags(0, false, buf, sizeof(buf));
	assert_string_equal(buf, "O_RDONLY");
	views_open_flags(0100000 | O_WRONLY | O_APPEND, false, buf, sizeof(buf));
	assert_string_equal(buf, "O_WRONLY|O_APPEND|O_LARGEFILE");
	views_open_flags(O_RDWR | O_NONBLOCK, true, buf, sizeof(buf));
	assert_string_equal(buf, "O_RDWR|O_NONBLOCK|O_CLOEXEC");
	/* O_SYNC holds the O_DSYNC bit: named once. */
	views_open_flags(O_WRONLY | O_SYNC, false, buf, sizeof(buf));
	assert_string_equal(buf, "O_WRONLY|O_SYNC");
	views_open_flags(O_WRONLY | O_DSYNC, false, buf, sizeof(buf));
	assert_string_equal(buf, "O_WRONLY|O_DSYNC");
	views_open_flags(O_RDONLY | 0x80000000u, false, buf, sizeof(buf));
	assert_string_equal(buf, "O_RDONLY|0x80000000");
	/* Every name at once still fits, and a short buffer stays a string. */
	views_open_flags(0xffffffffu, true, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf) - 1);
	views_open_flags(O_RDWR | O_APPEND, false, buf, 8);
	assert_string_equal(buf, "O_RDWR");
}

static void test_prot(void **state)
{
	char buf[4];

	(void)state;
	views_prot(PROT_READ | PROT_EXEC, buf);
	assert_string_equal(buf, "r-x");
	views_prot(PROT_NONE, buf);
	assert_string_equal(buf, "---");
	views_prot(PROT_READ | PROT_WRITE | PROT_EXEC, buf);
	assert_string_equal(buf, "rwx");
}

static void test_run_pages(void **state)
{
	const uint64_t P = VIEWS_PAGE_SIZE;
	PagemapEntry r[4] = { PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT,
			      PAGEMAP_ENTRY__INIT };
	PagemapEntry *runs[4] = { &r[0], &r[1], &r[2], &r[3] };

	(void)state;
	/* Out of order: 20..29 straddles the VMA's end, 5..9 its start. */
	r[0].vaddr = 20 * P, r[0].nr_pages = 10;
	r[1].vaddr = 5 * P, r[1].nr_pages = 5;
	r[2].vaddr = 12 * P, r[2].nr_pages = 2;
	r[3].vaddr = UINT64_MAX - 3 * P + 1, r[3].nr_pages = 100;      /* wraps */
	assert_int_equal(views_run_pages(runs, 3, 8 * P, 24 * P), 2 + 2 + 4);
	assert_int_equal(views_run_pages(runs, 3, 0, 5 * P), 0);
	assert_int_equal(views_run_pages(runs, 3, 30 * P, 40 * P), 0);
	assert_int_equal(views_run_pages(runs, 3, 0, UINT64_MAX), 17);
	assert_int_equal(views_run_pages(runs, 4, UINT64_MAX - 4 * P + 1, UINT64_MAX), 2);
	assert_int_equal(views_run_pages(runs, 0, 0, UINT64_MAX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_prot),
		cmocka_unit_test(test_run_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
