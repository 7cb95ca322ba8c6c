/* common/error.c - error strings and the thread-local detail message. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error_internal.h"

static _Thread_local char errmsg_buf[512];
static _Thread_local int errno_last;

static const char *const messages[HCM_ERR_COUNT_] = {
    [HCM_OK] = "success",
    [HCM_EINVAL] = "invalid argument",
    [HCM_ENAME] = "invalid name",
    [HCM_ENOMEM] = "out of memory",
    [HCM_ENOENT] = "no such topic or service",
    [HCM_EAGAIN] = "nothing available yet",
    [HCM_ETIMEDOUT] = "timed out",
    [HCM_EINTR] = "interrupted by a signal",
    [HCM_ETYPE] = "type mismatch",
    [HCM_EMSGSIZE] = "message size out of bounds",
    [HCM_ECORRUPT] = "corrupted or foreign segment",
    [HCM_EPERM] = "permission denied",
    [HCM_EBUSY] = "resource busy",
    [HCM_ESTALE] = "sample older than the expiry",
    [HCM_EOVERRUN] = "sample overwritten while being read",
    [HCM_ESYS] = "system call failed",
    [HCM_EDEAD] = "peer process died",
    [HCM_EREMOTE] = "the server failed the call",
    [HCM_ECANCELED] = "the goal was canceled",
};

const char *hcm_strerror(int err)
{
    if (err < 0 || err >= HCM_ERR_COUNT_ || messages[err] == NULL)
        return "unknown error";
    return messages[err];
}

const char *hcm_errmsg(void)
{
    return errmsg_buf;
}

int hcm_errno(void)
{
    return errno_last;
}

void hcm__clear_error(void)
{
    errmsg_buf[0] = '\0';
    errno_last = 0;
}

int hcm__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg_buf, sizeof errmsg_buf, fmt, ap);
    va_end(ap);
    errno_last = 0;
    return code;
}

int hcm__fail_sys(int err, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    vsnprintf(errmsg_buf, sizeof errmsg_buf, fmt, ap);
    va_end(ap);
    n = strlen(errmsg_buf);
    snprintf(errmsg_buf + n, sizeof errmsg_buf - n, ": %s", strerror(err));
    errno_last = err;
    switch (err) {
    case ENOMEM:
    case ENOSPC:
    case EFBIG:
        return HCM_ENOMEM;
    case EACCES:
    case EPERM:
        return HCM_EPERM;
    case ENOENT:
        return HCM_ENOENT;
    case ENAMETOOLONG:
        return HCM_ENAME;
    default:
        return HCM_ESYS;
    }
}
