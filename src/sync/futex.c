/* sync/futex.c - shared futex wait/wake (Linux). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sync/sync.h"

int hcm__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns)
{
    struct timespec ts, *tsp = NULL;
    long rc;
    if (deadline_ns >= 0) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000ll);
        ts.tv_nsec = (long)(deadline_ns % 1000000000ll);
        tsp = &ts;
    }
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
     * spurious return does not stretch the total wait. Not FUTEX_PRIVATE:
     * the word is shared between processes. */
    rc = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET, expected, tsp, NULL,
                 FUTEX_BITSET_MATCH_ANY);
    if (rc == 0)
        return 0;
    if (errno == ETIMEDOUT)
        return ETIMEDOUT;
    if (errno == EINTR)
        return EINTR;
    return 0; /* EAGAIN: the value changed before we slept */
}

void hcm__futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
