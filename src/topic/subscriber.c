/* topic/subscriber.c - attaching to a topic, reading and waiting. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error_internal.h"
#include "common/type_internal.h"
#include "segment/segment.h"
#include "sync/sync.h"
#include "topic/ring.h"

struct hcm_subscriber {
    hcm_seg seg;            /* seg.hdr == NULL: not attached (yet) */
    hcm_seg_name name;
    hcm_type type;          /* kind NONE: any */
    int64_t expiry_ns;
    int64_t spin_ns;
    hcm_ring_cursor cur;
    int attached_once;      /* a later attach starts at sequence 0 */
    int64_t next_attach_ns; /* not attached: no attempt before this time */
    int64_t attach_backoff_ns;
    int view_active;
    uint64_t view_seq;
    uint64_t view_word;
    int reader;             /* our line in the segment's readers table, -1 none */
};

void hcm_subscriber_attr_init(hcm_subscriber_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->type.kind = HCM_TYPE_NONE;
    attr->expiry_ns = HCM_DEFAULT_EXPIRY_NS;
    attr->spin_ns = HCM_DEFAULT_SPIN_NS;
    attr->domain = NULL;
}

/* Publishes how far this subscriber has read, for tools (hcm top). Two
 * relaxed stores to a line only this subscriber writes: no contention. */
static void note_read(hcm_subscriber *sub)
{
    if (sub->reader >= 0) {
        hcm_seg_reader *r = &sub->seg.hdr->readers[sub->reader];
        /* relaxed: statistics, read by tools only (see hcm_seg_reader) */
        atomic_store_explicit(&r->next_seq, sub->cur.next, memory_order_relaxed);
        atomic_store_explicit(&r->lost, sub->cur.total_lost, memory_order_relaxed);
    }
}

/* Attaches if not attached. HCM_OK attached, HCM_EAGAIN no topic yet, or an
 * error (type mismatch, permission, corruption). */
static int attach(hcm_subscriber *sub)
{
    int rc = hcm__seg_open(&sub->seg, &sub->name, 1);
    if (rc == HCM_ENOENT)
        return HCM_EAGAIN;
    if (rc != HCM_OK)
        return rc;
    /* A retired segment whose name is not removed yet (the unlinker stores
     * RETIRED, then unlinks): its samples were read before we detached, so
     * attaching would deliver them again. Not there yet: retry later.
     * acquire: pairs with (R1) release in hcm__file_retire. */
    if (atomic_load_explicit(&sub->seg.hdr->state, memory_order_acquire) != HCM_SEG_STATE_LIVE) {
        hcm__seg_close(&sub->seg);
        return HCM_EAGAIN;
    }
    if (!hcm__type_accepts(&sub->type, &sub->seg.type)) {
        char have[160], want[160];
        hcm_type_format(&sub->seg.type, have, sizeof have);
        hcm_type_format(&sub->type, want, sizeof want);
        hcm__seg_close(&sub->seg);
        return hcm__fail(HCM_ETYPE, "topic '%s' has type %s; this subscriber expects %s",
                         sub->name.topic, have, want);
    }
    sub->cur.pending_lost = 0; /* total_lost carries over a re-attach */
    if (!sub->attached_once) {
        /* Deliver what is published from now on. acquire: pairs with (W3). */
        sub->cur.next = atomic_load_explicit(&sub->seg.hdr->write_seq, memory_order_acquire);
        if (sub->cur.next >= HCM_RING_SEQ_MAX)
            sub->cur.next = 0;
    } else {
        sub->cur.next = 0; /* a new segment: all of it is new to us */
    }
    sub->attached_once = 1;
    sub->reader = hcm__seg_reader_claim(&sub->seg, sub->cur.next, sub->cur.total_lost);
    return HCM_OK;
}

static int retired(const hcm_subscriber *sub)
{
    /* acquire: pairs with (R1) release in hcm__seg_retire */
    return atomic_load_explicit(&sub->seg.hdr->state, memory_order_acquire) != HCM_SEG_STATE_LIVE;
}

static void detach(hcm_subscriber *sub)
{
    hcm__seg_reader_release(&sub->seg, sub->reader);
    sub->reader = -1;
    hcm__seg_close(&sub->seg);
    sub->attached_once = 1;
    sub->view_active = 0;
}

/* Attached and current: re-attaches after the segment was retired. One
 * load of a read-mostly line when nothing changed: no system call.
 * With `drain`, a retired segment that still holds samples this subscriber
 * has not taken stays attached until they are read, so unlinking a topic
 * never drops samples silently. */
#define ATTACH_BACKOFF_MIN_NS 1000
#define ATTACH_BACKOFF_MAX_NS 1000000

static int ensure(hcm_subscriber *sub, int drain)
{
    int64_t now;
    int rc;
    if (sub->seg.hdr != NULL) {
        if (!retired(sub))
            return HCM_OK;
        if (drain && hcm__ring_ready(&sub->seg, &sub->cur))
            return HCM_OK;
        detach(sub);
    }
    /* No topic yet. Trying costs a failing open() (~2-4 us); a caller
     * polling in a tight loop would pay it every call. So the attempts back
     * off from 1 us to 1 ms between tries: a topic that appears is found at
     * the next call after a short quiet spell, and at most 1 ms late. */
    now = hcm__now_ns();
    if (now < sub->next_attach_ns)
        return HCM_EAGAIN;
    rc = attach(sub);
    if (rc == HCM_EAGAIN) {
        sub->attach_backoff_ns = sub->attach_backoff_ns == 0 ? ATTACH_BACKOFF_MIN_NS
                                 : sub->attach_backoff_ns >= ATTACH_BACKOFF_MAX_NS / 2
                                     ? ATTACH_BACKOFF_MAX_NS
                                     : sub->attach_backoff_ns * 2;
        sub->next_attach_ns = now + sub->attach_backoff_ns;
    } else {
        sub->attach_backoff_ns = 0;
        sub->next_attach_ns = 0;
    }
    return rc;
}

int hcm_subscriber_open(hcm_subscriber **subp, const char *topic, const hcm_subscriber_attr *attr)
{
    hcm_subscriber_attr defaults;
    hcm_subscriber *sub;
    int rc;

    hcm__clear_error();
    if (subp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_open: subp is NULL");
    *subp = NULL;
    if (attr == NULL) {
        hcm_subscriber_attr_init(&defaults);
        attr = &defaults;
    }
    if (!hcm__type_optional_valid(&attr->type))
        return hcm__fail(HCM_EINVAL, "invalid type descriptor (kind %u)", attr->type.kind);
    if (attr->expiry_ns < 0)
        return hcm__fail(HCM_EINVAL, "expiry %lld ns is negative (0 = never expires)",
                         (long long)attr->expiry_ns);
    sub = calloc(1, sizeof *sub);
    if (sub == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    rc = hcm__name_make(&sub->name, attr->domain, 't', topic);
    if (rc != HCM_OK) {
        free(sub);
        return rc;
    }
    sub->type = attr->type;
    sub->expiry_ns = attr->expiry_ns;
    sub->spin_ns = attr->spin_ns;
    sub->reader = -1;
    rc = attach(sub);
    if (rc == HCM_EAGAIN) {
        sub->attached_once = 1; /* the topic appears later: take from its start */
        hcm__clear_error();
        rc = HCM_OK;
    }
    if (rc != HCM_OK) {
        free(sub);
        return rc;
    }
    *subp = sub;
    return HCM_OK;
}

void hcm_subscriber_close(hcm_subscriber *sub)
{
    if (sub == NULL)
        return;
    hcm__seg_reader_release(&sub->seg, sub->reader);
    hcm__seg_close(&sub->seg);
    free(sub);
}

static int read_common(hcm_subscriber *sub, const char *what, int drain)
{
    if (sub == NULL)
        return hcm__fail(HCM_EINVAL, "%s: NULL subscriber", what);
    sub->view_active = 0;
    return ensure(sub, drain);
}

/* take()/view() on a segment that was retired while we drained it: once it
 * has nothing left, move to the new segment and try there. */
static int take_any(hcm_subscriber *sub, void *buf, size_t cap, hcm_sample_info *info,
                    const void **viewp, uint64_t *view_wordp)
{
    int rc = hcm__ring_take(&sub->seg, &sub->cur, buf, cap, info, viewp, view_wordp);
    if (rc == HCM_EAGAIN && retired(sub)) {
        detach(sub);
        rc = attach(sub);
        if (rc == HCM_OK)
            rc = hcm__ring_take(&sub->seg, &sub->cur, buf, cap, info, viewp, view_wordp);
    }
    return rc;
}

int hcm_subscriber_latest(hcm_subscriber *sub, void *buf, size_t cap, hcm_sample_info *infop)
{
    hcm_sample_info info;
    int rc;
    if (buf == NULL && cap != 0)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_latest: NULL buffer");
    if ((rc = read_common(sub, "hcm_subscriber_latest", 0)) != HCM_OK)
        return rc;
    memset(&info, 0, sizeof info);
    rc = hcm__ring_latest(&sub->seg, &sub->cur, buf, cap, &info);
    if (rc == HCM_OK)
        note_read(sub);
    if (infop)
        *infop = info;
    if (rc == HCM_OK && sub->expiry_ns > 0 && hcm__now_ns() - info.timestamp_ns >= sub->expiry_ns)
        rc = HCM_ESTALE;
    return rc;
}

int hcm_subscriber_take(hcm_subscriber *sub, void *buf, size_t cap, hcm_sample_info *infop)
{
    hcm_sample_info info;
    int rc;
    if (buf == NULL && cap != 0)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_take: NULL buffer");
    if ((rc = read_common(sub, "hcm_subscriber_take", 1)) != HCM_OK)
        return rc;
    memset(&info, 0, sizeof info);
    /* buf may be NULL with cap 0 (zero-length samples); pass a dummy so the
     * ring copies rather than views. */
    rc = take_any(sub, buf != NULL ? buf : (void *)&info, cap, &info, NULL, NULL);
    if (rc == HCM_OK)
        note_read(sub);
    if (infop)
        *infop = info;
    return rc;
}

int hcm_subscriber_view(hcm_subscriber *sub, const void **datap, hcm_sample_info *infop)
{
    hcm_sample_info info;
    int rc;
    if (datap == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_view: datap is NULL");
    if ((rc = read_common(sub, "hcm_subscriber_view", 1)) != HCM_OK)
        return rc;
    memset(&info, 0, sizeof info);
    rc = take_any(sub, NULL, 0, &info, datap, &sub->view_word);
    if (rc == HCM_OK) {
        note_read(sub);
        sub->view_active = 1;
        sub->view_seq = info.seq;
    }
    if (infop)
        *infop = info;
    return rc;
}

int hcm_subscriber_release(hcm_subscriber *sub)
{
    if (sub == NULL || !sub->view_active || sub->seg.hdr == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_release: no view is outstanding");
    sub->view_active = 0;
    if (!hcm__ring_view_valid(&sub->seg, sub->view_seq, sub->view_word))
        return hcm__fail(HCM_EOVERRUN,
                         "topic '%s': sample %llu was overwritten while it was viewed",
                         sub->name.topic, (unsigned long long)sub->view_seq);
    return HCM_OK;
}

int hcm_subscriber_check(hcm_subscriber *sub)
{
    if (sub == NULL || !sub->view_active || sub->seg.hdr == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_check: no view is outstanding");
    if (!hcm__ring_view_valid(&sub->seg, sub->view_seq, sub->view_word))
        return hcm__fail(HCM_EOVERRUN,
                         "topic '%s': sample %llu was overwritten while it was viewed",
                         sub->name.topic, (unsigned long long)sub->view_seq);
    return HCM_OK;
}

static int sleep_until(int64_t deadline_ns, int64_t max_ns)
{
    int64_t now = hcm__now_ns();
    int64_t d = max_ns;
    struct timespec ts;
    if (deadline_ns >= 0 && deadline_ns - now < d)
        d = deadline_ns - now;
    if (d <= 0)
        return HCM_OK;
    ts.tv_sec = (time_t)(d / 1000000000ll);
    ts.tv_nsec = (long)(d % 1000000000ll);
    if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
        return HCM_EINTR;
    return HCM_OK;
}

static int past(int64_t deadline_ns)
{
    return deadline_ns >= 0 && hcm__now_ns() >= deadline_ns;
}

/* Spins for up to spin_ns (or the deadline): pause for the first
 * microsecond, then sched_yield, so that on a shared core the peer gets the
 * CPU. spin_ns < 0 (polling mode) pauses until the deadline and never yields.
 * 1 if ready or retired, 0 if the budget ran out. */
#define PAUSE_PHASE_NS 1000

static int spin(hcm_subscriber *sub, int64_t deadline_ns)
{
    int64_t start = hcm__now_ns();
    int64_t budget = sub->spin_ns;
    int yielding = 0;
    for (unsigned i = 0;; i++) {
        if (hcm__ring_ready(&sub->seg, &sub->cur))
            return 1;
        if (yielding || (i & 15) == 0) {
            int64_t now = hcm__now_ns();
            if (retired(sub))
                return 1;
            if (deadline_ns >= 0 && now >= deadline_ns)
                return 0;
            if (budget >= 0 && now - start >= budget)
                return 0;
            if (budget >= 0 && now - start >= PAUSE_PHASE_NS)
                yielding = 1;
        }
        if (yielding)
            sched_yield();
        else
            hcm__cpu_relax();
    }
}

int hcm_subscriber_wait(hcm_subscriber *sub, int64_t timeout_ns)
{
    int64_t deadline;
    int rc;
    if (sub == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_wait: NULL subscriber");
    deadline = timeout_ns < 0 ? -1 : hcm__now_ns() + timeout_ns;
    for (;;) {
        rc = ensure(sub, 1);
        if (rc == HCM_EAGAIN) { /* no topic yet: poll for it */
            if (timeout_ns == 0 || past(deadline))
                return HCM_ETIMEDOUT;
            if ((rc = sleep_until(deadline, 1000000)) != HCM_OK)
                return rc;
            continue;
        }
        if (rc != HCM_OK)
            return rc;
        if (hcm__ring_ready(&sub->seg, &sub->cur))
            return HCM_OK;
        if (timeout_ns == 0 || past(deadline))
            return HCM_ETIMEDOUT;
        if (sub->spin_ns != 0 && spin(sub, deadline)) {
            if (retired(sub))
                continue;
            return HCM_OK;
        }
        if (sub->spin_ns < 0) /* polling mode spins to the deadline */
            return HCM_ETIMEDOUT;

        hcm_seg_header *h = sub->seg.hdr;
        /* acquire: a bump we read was made after the sample it announces */
        uint32_t word = atomic_load_explicit(&h->futex, memory_order_acquire);
        /* relaxed increment, then (S5) seq_cst fence: pairs with (W5) in the
         * publisher (see ring.h). */
        atomic_fetch_add_explicit(&h->waiters, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        int ready = hcm__ring_ready(&sub->seg, &sub->cur) || retired(sub);
        int w = ready ? 0 : hcm__futex_wait(&h->futex, word, deadline);
        /* relaxed: the count is only a hint for publishers */
        atomic_fetch_sub_explicit(&h->waiters, 1, memory_order_relaxed);
        if (retired(sub))
            continue;
        if (hcm__ring_ready(&sub->seg, &sub->cur))
            return HCM_OK;
        if (w == EINTR)
            return hcm__fail(HCM_EINTR, "wait on topic '%s' interrupted by a signal",
                             sub->name.topic);
        if (w == ETIMEDOUT || past(deadline))
            return HCM_ETIMEDOUT;
    }
}

uint64_t hcm_subscriber_lost(const hcm_subscriber *sub)
{
    return sub != NULL ? sub->cur.total_lost : 0;
}

int hcm_subscriber_type(hcm_subscriber *sub, hcm_type *typep)
{
    int rc;
    if (sub == NULL || typep == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_type: NULL argument");
    if ((rc = ensure(sub, 0)) != HCM_OK)
        return rc;
    *typep = sub->seg.type;
    return HCM_OK;
}

uint64_t hcm_subscriber_max_payload(hcm_subscriber *sub)
{
    if (sub == NULL || ensure(sub, 0) != HCM_OK)
        return 0;
    return sub->seg.max_payload;
}

int hcm_subscriber_pin(hcm_subscriber *sub, hcm_pin **pinp)
{
    if (sub == NULL || pinp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_subscriber_pin: NULL argument");
    *pinp = NULL;
    if (sub->seg.hdr == NULL)
        return HCM_EAGAIN;
    *pinp = (hcm_pin *)hcm__mapping_ref(&sub->seg);
    return HCM_OK;
}

void hcm_pin_release(hcm_pin *pin)
{
    hcm__mapping_unref((hcm_mapping *)pin);
}
