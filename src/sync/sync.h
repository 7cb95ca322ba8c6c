/* sync/sync.h - clocks, CPU pause, futex wait/wake, seqlock payload copies. */
#ifndef HCM_SYNC_SYNC_H
#define HCM_SYNC_SYNC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns (vDSO: no system call). */
static inline int64_t hcm__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static inline int64_t hcm__realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static inline void hcm__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Sleeps while *word == expected, until woken, until the absolute
 * CLOCK_MONOTONIC deadline (ns; < 0 = none), or until a signal.
 * Returns 0 (woken or value changed), ETIMEDOUT or EINTR. Shared futex: the
 * word lives in a MAP_SHARED mapping. */
int hcm__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns);

/* Wakes every sleeper on *word. */
void hcm__futex_wake_all(_Atomic uint32_t *word);

/* Payload copies inside a seqlock read or write section. A reader may copy
 * bytes a writer is changing; the seqlock check afterwards throws such a copy
 * away. Under ThreadSanitizer the copy is done with relaxed atomic loads and
 * stores, which is what the C11 model needs for that race to be defined (and
 * what TSan checks); otherwise memcpy, which compiles to the same or better
 * machine code on every target we build for. */
#if defined(HCM_TSAN)
static inline void hcm__racy_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++)
        __atomic_store_n(d + i, __atomic_load_n(s + i, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}
#else
static inline void hcm__racy_copy(void *dst, const void *src, size_t n)
{
    if (n != 0) /* the API allows NULL with length 0; memcpy does not */
        memcpy(dst, src, n);
}
#endif

/* memcpy that accepts NULL pointers with n == 0 (as the API does). */
static inline void hcm__copy(void *dst, const void *src, size_t n)
{
    if (n != 0)
        memcpy(dst, src, n);
}

#endif
