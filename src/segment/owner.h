/* segment/owner.h - process and thread identities stored in segments, and
 * whether they are still alive.
 *
 * An identity is (pid << 32) | start, where start is the low 32 bits of the
 * task's start time in clock ticks since boot (field 22 of /proc/<pid>/stat),
 * forced non-zero. 0 means "nobody". A recycled pid has another start time,
 * so it does not pass for the dead process. */
#ifndef HCM_SEGMENT_OWNER_H
#define HCM_SEGMENT_OWNER_H

#include <stdint.h>

/* This process (thread group leader). Cached; refreshed after fork. */
uint64_t hcm__self_process_id(void);

/* This thread (tid and the thread's start time). Cached per thread. */
uint64_t hcm__self_thread_id(void);

/* 1 if the task named by `id` still runs (or if that cannot be told: a
 * process we may not signal counts as alive), 0 if it is gone. A system call
 * or two: slow path only. */
int hcm__id_alive(uint64_t id);

static inline uint32_t hcm__id_pid(uint64_t id)
{
    return (uint32_t)(id >> 32);
}

#endif
