/* Fault injection for tests: MINICR_FAULT=<stage>[:<n>] in minicr's
 * environment makes minicr SIGKILL itself the n-th time (default 1st) it
 * passes fault_point("<stage>"), as a crash or `kill -9` would.
 *
 * Stages: dump: after-freeze, after-core, after-mem, before-inventory;
 * restore: after-fork, after-seize, mid-mem, before-detach (after-core,
 * after-mem and mid-mem are passed once per task). Before dying it writes
 * "minicr: MINICR_FAULT: killed at <stage> (<n>)" to stderr, so a test can
 * tell a fault that fired from one whose stage was never reached. Without
 * MINICR_FAULT, fault_point() does nothing. A malformed MINICR_FAULT is
 * reported once and ignored. */
#ifndef MINICR_FAULT_H
#define MINICR_FAULT_H

void fault_point(const char *stage);

#endif
