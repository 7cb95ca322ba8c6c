/* hcm/error.h - error codes and diagnostics.
 *
 * Every hcm function that can fail returns an int: HCM_OK (0) or one of the
 * positive codes below. "Nothing yet" (HCM_EAGAIN) and "timed out"
 * (HCM_ETIMEDOUT) are ordinary results, not failures.
 *
 * hcm_strerror() gives a fixed string for a code. hcm_errmsg() gives the
 * detail of the last failure on the calling thread, for example
 *   "open /dev/shm/hcm.0.t.imu: permission denied (owner uid 0, mode 0600)".
 * The library never prints, never exits and never aborts on a caller's mistake.
 */
#ifndef HCM_ERROR_H
#define HCM_ERROR_H

#include "hcm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hcm_err {
    HCM_OK = 0,
    HCM_EINVAL = 1,     /* invalid argument (NULL, out of range, misuse) */
    HCM_ENAME = 2,      /* invalid topic or domain name (empty, too long, bad character) */
    HCM_ENOMEM = 3,     /* out of memory, or the segment does not fit in /dev/shm */
    HCM_ENOENT = 4,     /* no such topic or service */
    HCM_EAGAIN = 5,     /* nothing new yet; try again (not a failure) */
    HCM_ETIMEDOUT = 6,  /* the timeout passed before anything arrived */
    HCM_EINTR = 7,      /* a wait was interrupted by a signal */
    HCM_ETYPE = 8,      /* the topic's type differs from the one asked for */
    HCM_EMSGSIZE = 9,   /* payload larger than the topic's maximum, or buffer too small */
    HCM_ECORRUPT = 10,  /* the segment is not a valid hcm segment (bad magic, sizes, ...) */
    HCM_EPERM = 11,     /* permission denied, or the segment belongs to another user */
    HCM_EBUSY = 12,     /* resource busy (publisher table full, write lock held too long) */
    HCM_ESTALE = 13,    /* the newest sample is older than the subscriber's expiry */
    HCM_EOVERRUN = 14,  /* a viewed sample was overwritten while it was being read */
    HCM_ESYS = 15,      /* an operating-system call failed; hcm_errno() has errno */
    HCM_EDEAD = 16,     /* the peer process died (or closed) */
    HCM_EREMOTE = 17,   /* the server failed the call; hcm_errmsg() has its message */
    HCM_ECANCELED = 18, /* the goal was cancelled before it could be accepted */
    HCM_ERR_COUNT_      /* not an error: number of codes */
} hcm_err;

/* A fixed English sentence for code `err` (never NULL; unknown codes give
 * "unknown error"). Thread-safe. */
HCM_API const char *hcm_strerror(int err);

/* The detail message of the last failing hcm call on this thread (never
 * NULL; "" if none). Valid until the next hcm call on the same thread. */
HCM_API const char *hcm_errmsg(void);

/* The errno value behind the last HCM_ESYS (or 0) on this thread. */
HCM_API int hcm_errno(void);

#ifdef __cplusplus
}
#endif
#endif /* HCM_ERROR_H */
