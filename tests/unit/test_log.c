/* The log file's line format (src/log.h) and the progress line's text and
 * rate limit (src/progress.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "progress.h"

__attribute__((format(printf, 5, 6)))
static size_t fmt_line(char *buf, size_t len, uint64_t us, pid_t task, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_format_line(buf, len, us, task, fmt, ap);
	va_end(ap);
	return n;
}

static void test_line(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(fmt_line(buf, sizeof(buf), 12345, 0, "frozen %d tasks", 3), 27);
	assert_string_equal(buf, "(00.012345) frozen 3 tasks\n");
	fmt_line(buf, sizeof(buf), 83 * 1000000ULL + 7, 4242, "step %d", 5);
	assert_string_equal(buf, "(83.000007) 4242: step 5\n");
	/* Past 99 s the seconds just grow. */
	fmt_line(buf, sizeof(buf), 123456789012ULL, 1, "x");
	assert_string_equal(buf, "(123456.789012) 1: x\n");
}

static void test_line_truncated(void **state)
{
	char buf[20];
	size_t n;

	(void)state;
	/* Cut, but still one line. */
	n = fmt_line(buf, sizeof(buf), 0, 77, "%s", "a message far too long for the buffer");
	assert_int_equal(n, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), n);
	assert_string_equal(buf, "(00.000000) 77: a \n");
	assert_int_equal(fmt_line(buf, 1, 0, 0, "x"), 0);
}

static void test_progress_text(void **state)
{
	struct progress p = { .kind = PROGRESS_DUMP, .tasks = 3, .bytes = 48ULL << 20,
			      .bytes_start_us = 1000000 };
	char buf[128];

	(void)state;
	progress_format(buf, sizeof(buf), &p, 1500000);
	assert_string_equal(buf, "dump: 3 tasks frozen, 48.0 MiB written, 96.0 MiB/s");
	/* No rate before any page is written, nor within the same us. */
	p.bytes_start_us = 0;
	progress_format(buf, sizeof(buf), &p, 1500000);
	assert_string_equal(buf, "dump: 3 tasks frozen, 48.0 MiB written, 0.0 MiB/s");
	p.tasks = 1;
	progress_format(buf, sizeof(buf), &p, 1500000);
	assert_string_equal(buf, "dump: 1 task frozen, 48.0 MiB written, 0.0 MiB/s");
	p = (struct progress){ .kind = PROGRESS_RESTORE, .tasks = 2, .total = 5,
			       .bytes = 3 << 19 };
	assert_int_equal(progress_format(buf, sizeof(buf), &p, 0), 36);
	assert_string_equal(buf, "restore: 2/5 tasks, 1.5 MiB restored");
	assert_int_equal(progress_format(buf, 8, &p, 0), 7);
	assert_string_equal(buf, "restore");
}

static void test_progress_due(void **state)
{
	struct progress p = { 0 };

	(void)state;
	assert_true(progress_due(&p, 5));          /* never drawn */
	p.last_us = 1000000;
	assert_false(progress_due(&p, 1000000));
	assert_false(progress_due(&p, 1000000 + PROGRESS_PERIOD_US - 1));
	assert_true(progress_due(&p, 1000000 + PROGRESS_PERIOD_US));
}

static void test_progress_off(void **state)
{
	struct progress p;

	(void)state;
	/* Off or absent: nothing counted, nothing drawn. */
	progress_init(&p, false, PROGRESS_DUMP);
	progress_task(&p);
	progress_bytes(&p, 4096);
	progress_finish(&p);
	assert_int_equal(p.tasks, 0);
	assert_int_equal(p.bytes, 0);
	progress_task(NULL);
	progress_bytes(NULL, 1);
	progress_set_total(NULL, 1);
	progress_finish(NULL);
}

static void test_task_scope(void **state)
{
	(void)state;
	assert_int_equal(log_set_task(10), 0);
	{
		LOG_TASK_SCOPE(20);
		assert_int_equal(log_set_task(20), 20);
	}
	/* Back to the outer task when the block ends. */
	assert_int_equal(log_set_task(0), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_truncated),
		cmocka_unit_test(test_progress_text),
		cmocka_unit_test(test_progress_due),
		cmocka_unit_test(test_progress_off),
		cmocka_unit_test(test_task_scope),
	};

	log_init("test-log", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
