/* topic/ring.c - see ring.h for the protocol and its memory-order pairs. */
#include <sched.h>
#include <time.h>

#include "common/error_internal.h"
#include "segment/owner.h"
#include "sync/sync.h"
#include "topic/ring.h"

static hcm_seg_slot *slot_of(const hcm_seg *seg, uint64_t seq)
{
    return (hcm_seg_slot *)hcm__seg_slot(seg, seq);
}

static unsigned char *payload_of(hcm_seg_slot *s)
{
    return (unsigned char *)s + HCM_SEG_SLOT_HEADER;
}

/* A dead holder may have committed its slot but not advanced write_seq:
 * finish its publish so that sample keeps its sequence number and is not
 * silently replaced by ours. */
static void complete_dead_writer(hcm_seg *seg)
{
    hcm_seg_header *h = seg->hdr;
    uint64_t t = atomic_load_explicit(&h->write_seq, memory_order_relaxed);
    hcm_seg_slot *s;
    if (t >= HCM_RING_SEQ_MAX)
        return;
    s = slot_of(seg, t);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) == 2 * t + 2)
        /* (W3) as in commit */
        atomic_store_explicit(&h->write_seq, t + 1, memory_order_release);
}

int hcm__ring_lock(hcm_seg *seg, int64_t timeout_ns, const char *topic)
{
    _Atomic uint64_t *w = &seg->hdr->wlock;
    uint64_t me = hcm__self_thread_id();
    uint64_t holder = 0;
    int64_t start = 0;

    /* (L1) acquire: the previous holder's slot and write_seq stores,
     * released by (L2), are visible to us. */
    if (atomic_compare_exchange_strong_explicit(w, &holder, me, memory_order_acquire,
                                                memory_order_relaxed))
        return HCM_OK;

    for (unsigned iter = 1;; iter++) {
        holder = atomic_load_explicit(w, memory_order_relaxed); /* re-read, CAS decides */
        if (holder == 0) {
            if (atomic_compare_exchange_weak_explicit(w, &holder, me, memory_order_acquire,
                                                      memory_order_relaxed))
                return HCM_OK;
            continue;
        }
        if (holder == me)
            return hcm__fail(HCM_EBUSY,
                             "topic '%s': this thread already holds the write lock (a loan "
                             "is outstanding on another publisher handle)",
                             topic);
        if (iter < 128) {
            hcm__cpu_relax();
            continue;
        }
        if (start == 0)
            start = hcm__now_ns();
        if (iter % 32 == 0 && !hcm__id_alive(holder)) {
            /* (L1) acquire, as above: the dead holder's stores are ours to see. */
            if (atomic_compare_exchange_strong_explicit(w, &holder, me, memory_order_acquire,
                                                        memory_order_relaxed)) {
                /* relaxed: a statistic read by tools */
                atomic_fetch_add_explicit(&seg->hdr->lock_steals, 1, memory_order_relaxed);
                complete_dead_writer(seg);
                return HCM_OK;
            }
            continue;
        }
        if (timeout_ns >= 0 && hcm__now_ns() - start > timeout_ns)
            return hcm__fail(HCM_EBUSY,
                             "topic '%s': write lock held by live thread %u for more than "
                             "%lld ms",
                             topic, hcm__id_pid(holder), (long long)(timeout_ns / 1000000));
        if (iter < 1024) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}

void hcm__ring_unlock(hcm_seg *seg)
{
    /* (L2) release: our slot and write_seq stores happen before the next
     * holder's (L1). */
    atomic_store_explicit(&seg->hdr->wlock, 0, memory_order_release);
}

void *hcm__ring_begin(hcm_seg *seg, uint64_t *seqp)
{
    /* relaxed: only lock holders store write_seq, and (L1) ordered us after
     * the previous one. */
    uint64_t t = atomic_load_explicit(&seg->hdr->write_seq, memory_order_relaxed);
    hcm_seg_slot *s;
    if (t >= HCM_RING_SEQ_MAX) /* a corrupted counter: restart the numbering */
        t = 0;
    s = slot_of(seg, t);
    /* relaxed store of the odd word, then (W1) release fence: a reader that
     * sees any payload byte we write after the fence also sees the odd word
     * (or later) at its (R3) re-check, and discards its copy. */
    atomic_store_explicit(&s->seq, 2 * t + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    *seqp = t;
    return payload_of(s);
}

void hcm__ring_commit(hcm_seg *seg, uint64_t seq, uint64_t len, int64_t now)
{
    hcm_seg_header *h = seg->hdr;
    hcm_seg_slot *s = slot_of(seg, seq);
    /* relaxed: inside the section; published by (W2). */
    atomic_store_explicit(&s->len, len, memory_order_relaxed);
    atomic_store_explicit(&s->timestamp_ns, now, memory_order_relaxed);
    /* (W2) release: payload, len and timestamp before the even word; pairs
     * with (R1) in readers. */
    atomic_store_explicit(&s->seq, 2 * seq + 2, memory_order_release);
    /* (W3) release: the committed slot before the new write_seq; pairs with
     * (R4) in latest() and in take()'s overrun path. */
    atomic_store_explicit(&h->write_seq, seq + 1, memory_order_release);
    /* relaxed: a statistic read by tools */
    atomic_store_explicit(&h->last_publish_ns, now, memory_order_relaxed);
}

void hcm__ring_wake(hcm_seg *seg)
{
    hcm_seg_header *h = seg->hdr;
    /* (W5) seq_cst fence: orders our (W2)/(W3) stores before the waiters
     * load. With (S5) in the sleeper, either it sees our sample before
     * sleeping or we see its waiters increment and wake it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&h->waiters, memory_order_relaxed) != 0) {
        /* release: the bump is what a sleeper's futex compare sees change */
        atomic_fetch_add_explicit(&h->futex, 1, memory_order_release);
        hcm__futex_wake_all(&h->futex);
    }
}

/* Copies (or views) the slot of `seq` whose seq word was `v`. Returns HCM_OK,
 * HCM_EAGAIN (changed under us: caller retries), HCM_EMSGSIZE, HCM_ECORRUPT. */
static int read_slot(const hcm_seg *seg, uint64_t seq, uint64_t v, void *buf, size_t cap,
                     hcm_sample_info *info, const void **viewp)
{
    hcm_seg_slot *s = slot_of(seg, seq);
    /* relaxed: inside the section; validated by the re-check below */
    uint64_t len = atomic_load_explicit(&s->len, memory_order_relaxed);
    int64_t ts = atomic_load_explicit(&s->timestamp_ns, memory_order_relaxed);
    int bad_len = len > seg->max_payload;
    if (!bad_len && buf != NULL && len <= cap)
        hcm__racy_copy(buf, payload_of(s), (size_t)len);
    /* (R3) acquire fence: pairs with (W1); then re-check the word. */
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) != v)
        return HCM_EAGAIN;
    info->seq = seq;
    info->timestamp_ns = ts;
    info->len = len;
    if (bad_len)
        return hcm__fail(HCM_ECORRUPT, "slot of sample %llu claims %llu bytes; max payload is %llu",
                         (unsigned long long)seq, (unsigned long long)len,
                         (unsigned long long)seg->max_payload);
    if (buf == NULL && viewp != NULL) {
        *viewp = payload_of(s);
        return HCM_OK;
    }
    if (len > cap)
        return hcm__fail(HCM_EMSGSIZE, "sample %llu has %llu bytes; buffer holds %zu",
                         (unsigned long long)seq, (unsigned long long)len, cap);
    return HCM_OK;
}

#define READ_TRIES 64

int hcm__ring_take(const hcm_seg *seg, hcm_ring_cursor *cur, void *buf, size_t cap,
                   hcm_sample_info *info, const void **viewp, uint64_t *view_seqp)
{
    for (int tries = 0; tries < READ_TRIES; tries++) {
        uint64_t c = cur->next;
        hcm_seg_slot *s = slot_of(seg, c);
        /* (R1) acquire: pairs with (W2); the slot's contents are visible. */
        uint64_t v = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (v == 2 * c + 2) {
            int rc = read_slot(seg, c, v, buf, cap, info, viewp);
            if (rc == HCM_EAGAIN)
                continue; /* overwritten while copying: the next round counts it lost */
            if (rc == HCM_EMSGSIZE || rc == HCM_ECORRUPT)
                return rc;
            info->lost = cur->pending_lost;
            cur->pending_lost = 0;
            cur->next = c + 1;
            if (view_seqp)
                *view_seqp = v;
            return HCM_OK;
        }
        if (v < 2 * c + 2)
            return HCM_EAGAIN; /* not written yet, or being written */
        /* The slot moved past c: we were lapped. Skip to the oldest sample
         * the ring still holds, w - N; if a writer is rewriting its slot
         * right now, the next round sees that and moves on by one.
         * (R4) acquire: pairs with (W3). */
        uint64_t w = atomic_load_explicit(&seg->hdr->write_seq, memory_order_acquire);
        if (w >= HCM_RING_SEQ_MAX)
            return hcm__fail(HCM_ECORRUPT, "write sequence %llu out of range",
                             (unsigned long long)w);
        uint64_t oldest = w >= seg->slot_count ? w - seg->slot_count : 0;
        uint64_t nc = oldest > c ? oldest : c + 1;
        cur->pending_lost += nc - c;
        cur->total_lost += nc - c;
        cur->next = nc;
    }
    return HCM_EAGAIN;
}

int hcm__ring_latest(const hcm_seg *seg, hcm_ring_cursor *cur, void *buf, size_t cap,
                     hcm_sample_info *info)
{
    for (int tries = 0; tries < READ_TRIES; tries++) {
        /* (R4) acquire: pairs with (W3); the slot of w-1 is committed. */
        uint64_t w = atomic_load_explicit(&seg->hdr->write_seq, memory_order_acquire);
        if (w == 0)
            return HCM_EAGAIN;
        if (w >= HCM_RING_SEQ_MAX)
            return hcm__fail(HCM_ECORRUPT, "write sequence %llu out of range",
                             (unsigned long long)w);
        uint64_t s = w - 1;
        /* (R1) acquire: pairs with (W2) */
        uint64_t v = atomic_load_explicit(&slot_of(seg, s)->seq, memory_order_acquire);
        if (v != 2 * s + 2) {
            hcm__cpu_relax(); /* lapped by a fast writer, or N = 1 under rewrite */
            continue;
        }
        int rc = read_slot(seg, s, v, buf, cap, info, NULL);
        if (rc == HCM_EAGAIN)
            continue;
        if (rc != HCM_OK)
            return rc;
        info->lost = 0;
        if (s + 1 > cur->next)
            cur->next = s + 1;
        return HCM_OK;
    }
    return HCM_EAGAIN;
}

int hcm__ring_ready(const hcm_seg *seg, const hcm_ring_cursor *cur)
{
    uint64_t c = cur->next;
    /* acquire: pairs with (W2), like (R1) */
    uint64_t v = atomic_load_explicit(&slot_of(seg, c)->seq, memory_order_acquire);
    return v >= 2 * c + 2;
}

int hcm__ring_view_valid(const hcm_seg *seg, uint64_t seq, uint64_t seq_word)
{
    /* (R3) as in read_slot: everything read through the view before this
     * point is covered by the re-check. */
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&slot_of(seg, seq)->seq, memory_order_relaxed) == seq_word;
}
