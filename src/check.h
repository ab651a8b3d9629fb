/* minicr check: probe the kernel features minicr relies on, print one line
 * per feature, and return -ENOTSUP naming what is missing (0 if all there). */
#ifndef MINICR_CHECK_H
#define MINICR_CHECK_H

int cr_check(void);

#endif
