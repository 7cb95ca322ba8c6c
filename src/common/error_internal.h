/* common/error_internal.h - setting the thread-local error detail. */
#ifndef HCM_COMMON_ERROR_INTERNAL_H
#define HCM_COMMON_ERROR_INTERNAL_H

#include "hcm/error.h"

/* Records `detail` (printf format) as this thread's hcm_errmsg() and returns
 * `code`, so a failure path reads `return hcm__fail(HCM_EINVAL, "...", ...);`. */
int hcm__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same for a failed system call: records errno `err` (hcm_errno()) and appends
 * strerror(err) to the detail. Maps ENOMEM/ENOSPC to HCM_ENOMEM, EACCES/EPERM
 * to HCM_EPERM, ENOENT to HCM_ENOENT, everything else to HCM_ESYS. */
int hcm__fail_sys(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the detail (called at the start of public calls that may fail). */
void hcm__clear_error(void);

#endif
