/* The pure parts of seccomp (src/seccomp.h): the status lines, which
 * programs can be restored, the per-task filter table with its dedupe by
 * program + parent chain, the common prefix the threads share and the
 * partial sharing that dump refuses, the image checks of restore. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp.h"

static void test_status(void **state)
{
	uint32_t mode, nr;
	bool has_nr;

	(void)state;
	assert_int_equal(seccomp_status_parse("Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t3\n"
					      "Speculation_Store_Bypass:\tvulnerable\n",
					      &mode, &nr, &has_nr), 0);
	assert_int_equal(mode, 2);
	assert_int_equal(nr, 3);
	assert_true(has_nr);
	/* Before Linux 5.9: no count. */
	assert_int_equal(seccomp_status_parse("Seccomp:\t1\n", &mode, &nr, &has_nr), 0);
	assert_int_equal(mode, 1);
	assert_false(has_nr);
	/* No CONFIG_SECCOMP: no line, mode 0. */
	assert_int_equal(seccomp_status_parse("Name:\tx\n", &mode, &nr, &has_nr), 0);
	assert_int_equal(mode, 0);
	assert_int_equal(seccomp_status_parse("Seccomp:\tx\n", &mode, &nr, &has_nr), -EINVAL);
	assert_int_equal(seccomp_status_parse("Seccomp:\t2\nSeccomp_filters:\t-1\n", &mode, &nr,
					      &has_nr), -EINVAL);
}

static void test_refusal(void **state)
{
	struct sock_filter ok[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 83, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter notify[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_filter computed[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};

	(void)state;
	assert_null(seccomp_prog_refusal(ok, sizeof(ok)));
	assert_non_null(strstr(seccomp_prog_refusal(notify, sizeof(notify)), "USER_NOTIF"));
	assert_non_null(seccomp_prog_refusal(computed, sizeof(computed)));
	assert_non_null(seccomp_prog_refusal(ok, 0));
	assert_non_null(seccomp_prog_refusal(ok, 7));
}

/* A task of nthreads threads, for the table functions. */
static CoreEntry *task(size_t nthreads)
{
	CoreEntry *ce = calloc(1, sizeof(*ce));

	core_entry__init(ce);
	ce->threads = calloc(nthreads, sizeof(*ce->threads));
	for (size_t i = 0; i < nthreads; i++) {
		ThreadCoreEntry *te = calloc(1, sizeof(*te));

		thread_core_entry__init(te);
		te->tid = 100 + i;
		ce->threads[ce->n_threads++] = te;
	}
	return ce;
}

static void free_task(CoreEntry *ce)
{
	seccomp_dump_free(ce);
	for (size_t i = 0; i < ce->n_threads; i++)
		free(ce->threads[i]);
	free(ce->threads);
	free(ce);
}

/* Append program "p<c>" (one instruction, k = c) with flags to thread t. */
static void add(CoreEntry *ce, size_t t, uint32_t c, uint32_t flags)
{
	struct sock_filter f = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | c);
	ProtobufCBinaryData prog = { sizeof(f), malloc(sizeof(f)) };

	memcpy(prog.data, &f, sizeof(f));
	ce->threads[t]->has_seccomp_mode = 1;
	ce->threads[t]->seccomp_mode = SECCOMP_MODE_FILTER;
	assert_int_equal(seccomp_chain_add(ce, ce->threads[t], &prog, flags), 0);
	assert_null(prog.data);
}

static void assert_chain(const CoreEntry *ce, size_t t, size_t n, const uint32_t *want)
{
	assert_int_equal(ce->threads[t]->n_seccomp_chain, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ce->threads[t]->seccomp_chain[i], want[i]);
}

static void test_table_shared(void **state)
{
	CoreEntry *ce = task(3);
	size_t a, b, t;
	uint32_t idx;
	const char *why;

	(void)state;
	/* Three threads share 1, 2 (TSYNC); thread 1 adds 3 of its own. */
	for (size_t i = 0; i < 3; i++) {
		add(ce, i, 1, SECCOMP_FILTER_FLAG_LOG);
		add(ce, i, 2, 0);
	}
	add(ce, 1, 3, 0);
	assert_int_equal(ce->n_seccomp_filters, 3);
	assert_chain(ce, 0, 2, (uint32_t[]){ 0, 1 });
	assert_chain(ce, 1, 3, (uint32_t[]){ 0, 1, 2 });
	assert_chain(ce, 2, 2, (uint32_t[]){ 0, 1 });
	assert_true(ce->seccomp_filters[0]->has_flags);
	assert_int_equal(ce->seccomp_filters[0]->flags, SECCOMP_FILTER_FLAG_LOG);
	assert_false(ce->seccomp_filters[1]->has_flags);
	assert_int_equal(seccomp_common_prefix(ce), 2);
	assert_int_equal(seccomp_find_partial_share(ce, &a, &b, &idx), 0);
	assert_int_equal(seccomp_check_image(ce, &t, &why), 0);
	free_task(ce);
}

static void test_table_identity(void **state)
{
	CoreEntry *ce = task(2);

	(void)state;
	/* Same program on another parent chain, or with other flags: another
	 * filter. */
	add(ce, 0, 1, 0);
	add(ce, 0, 2, 0);
	add(ce, 1, 2, 0);
	add(ce, 1, 1, SECCOMP_FILTER_FLAG_LOG);
	assert_int_equal(ce->n_seccomp_filters, 4);
	assert_chain(ce, 0, 2, (uint32_t[]){ 0, 1 });
	assert_chain(ce, 1, 2, (uint32_t[]){ 2, 3 });
	assert_int_equal(seccomp_common_prefix(ce), 0);
	free_task(ce);
}

static void test_partial_share(void **state)
{
	CoreEntry *ce = task(3);
	size_t a, b;
	uint32_t idx;

	(void)state;
	/* Threads 1 and 2 share a filter thread 0 lacks. */
	add(ce, 1, 5, 0);
	add(ce, 2, 5, 0);
	assert_int_equal(seccomp_common_prefix(ce), 0);
	assert_int_equal(seccomp_find_partial_share(ce, &a, &b, &idx), -EOPNOTSUPP);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(idx, 0);
	free_task(ce);
}

static void test_check_image(void **state)
{
	CoreEntry *ce = task(2);
	size_t t;
	const char *why;

	(void)state;
	add(ce, 0, 1, 0);
	/* Strict mode: no chain; a thread without seccomp: nothing. */
	ce->threads[1]->has_seccomp_mode = 1;
	ce->threads[1]->seccomp_mode = SECCOMP_MODE_STRICT;
	assert_int_equal(seccomp_check_image(ce, &t, &why), 0);
	ce->threads[1]->seccomp_mode = 3;
	assert_int_equal(seccomp_check_image(ce, &t, &why), -EINVAL);
	assert_int_equal(t, 1);
	ce->threads[1]->seccomp_mode = SECCOMP_MODE_FILTER;   /* but no chain */
	assert_int_equal(seccomp_check_image(ce, &t, &why), -EINVAL);
	ce->threads[1]->has_seccomp_mode = 0;
	ce->threads[0]->seccomp_chain[0] = 7;                 /* outside the table */
	assert_int_equal(seccomp_check_image(ce, &t, &why), -EINVAL);
	assert_int_equal(t, 0);
	ce->threads[0]->seccomp_chain[0] = 0;
	ce->seccomp_filters[0]->has_flags = 1;
	ce->seccomp_filters[0]->flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	assert_int_equal(seccomp_check_image(ce, &t, &why), -EINVAL);
	free_task(ce);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_table_shared),
		cmocka_unit_test(test_table_identity),
		cmocka_unit_test(test_partial_share),
		cmocka_unit_test(test_check_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
