/* topic/ring.h - the topic ring protocol over a mapped segment.
 *
 * Writers serialise on the segment's write lock (wlock), a spin-then-yield
 * lock whose word names the holding thread; a waiter that finds the holder
 * dead takes the lock over, so a publisher killed mid-write never blocks the
 * others. Under the lock a writer fills slot write_seq % N as a seqlock
 * section (slot seq odd while writing, even when done), then advances
 * write_seq. Readers never lock and never write on their fast path.
 *
 * Memory-order pairs (labels used in ring.c):
 *   (L1) lock CAS acquire        <- (L2) unlock store release
 *   (W1) release fence after the odd seq store
 *                                <- (R3) acquire fence before the seq re-check
 *   (W2) even seq store release  <- (R1) seq load acquire
 *   (W3) write_seq store release <- (R4) write_seq load acquire
 *   (W5) seq_cst fence, then waiters load
 *                                <- (S5) waiters increment, seq_cst fence, ready check
 */
#ifndef HCM_TOPIC_RING_H
#define HCM_TOPIC_RING_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/topic.h"
#include "segment/segment.h"

#define HCM_RING_SEQ_MAX HCM_SEG_SEQ_MAX

/* Takes the write lock within timeout_ns. HCM_OK, or HCM_EBUSY (a live
 * holder kept it, or this very thread holds it). Sets *stolen when it took
 * the lock over from a dead holder. */
int hcm__ring_lock(hcm_seg *seg, int64_t timeout_ns, const char *topic);
void hcm__ring_unlock(hcm_seg *seg);

/* Under the lock: opens the seqlock section of the next slot and returns its
 * payload; *seqp receives the sequence number. */
void *hcm__ring_begin(hcm_seg *seg, uint64_t *seqp);

/* Under the lock: closes the section with `len` bytes stamped with `ts_ns`
 * (CLOCK_MONOTONIC, read by the caller before the section so that the clock
 * read is not on the reader's critical path) and advances write_seq. */
void hcm__ring_commit(hcm_seg *seg, uint64_t seq, uint64_t len, int64_t ts_ns);

/* After unlock: wakes sleeping readers, if any (no syscall otherwise). */
void hcm__ring_wake(hcm_seg *seg);

/* Reader state kept by a subscriber. */
typedef struct hcm_ring_cursor {
    uint64_t next;         /* next sequence number take() delivers */
    uint64_t pending_lost; /* lost samples not yet reported in an info */
    uint64_t total_lost;
} hcm_ring_cursor;

/* In-order read. copy: buf/cap receive the payload; view (buf == NULL and
 * viewp != NULL): *viewp points into the slot and *view_seqp receives the
 * slot's seq word for hcm__ring_view_valid(). */
int hcm__ring_take(const hcm_seg *seg, hcm_ring_cursor *cur, void *buf, size_t cap,
                   hcm_sample_info *info, const void **viewp, uint64_t *view_seqp);

/* Newest sample. Does not count losses; moves cur->next past the sample. */
int hcm__ring_latest(const hcm_seg *seg, hcm_ring_cursor *cur, void *buf, size_t cap,
                     hcm_sample_info *info);

/* 1 if take() has something at cur->next (or the ring moved past it). */
int hcm__ring_ready(const hcm_seg *seg, const hcm_ring_cursor *cur);

/* 1 if the slot of `seq` still holds the seq word seen when the view began. */
int hcm__ring_view_valid(const hcm_seg *seg, uint64_t seq, uint64_t seq_word);

#endif
