/* bench/ours.c - hcm under the same loops as the references.
 *
 * Ping-pong: topic "ping" A->B and topic "pong" B->A, max_payload = size,
 * default slots. Every sample is copied in (hcm_publish from a private
 * buffer) and out (hcm_subscriber_take into another), except the loan
 * variant. Receivers, by variant:
 *   poll   spin on hcm_subscriber_take() with `pause` between HCM_EAGAINs;
 *   block  hcm_subscriber_wait(sub, -1) with the default attr, then take();
 *   futex  the same with attr.spin_ns = 0 (straight to the futex: shows the
 *          cost of the library's sleep path, which `block` rarely reaches);
 *   loan   sender hcm_publisher_loan + writes the 8-byte counter only +
 *          hcm_publisher_commit; receiver spins on hcm_subscriber_view,
 *          reads the counter, hcm_subscriber_release (must say HCM_OK).
 *
 * Stream: topic "stream" with `slots` slots. The consumer spins on take()
 * and publishes how many samples it has taken in ctl->consumed (its own
 * line); the producer never runs more than slots-1 ahead of it (it re-reads
 * ctl->consumed only when its cached copy says it must wait), so the stream
 * is lossless by construction and any loss hcm reports is a bug. The
 * consumer checks every counter and reports hcm_subscriber_lost().
 */
#include "ours.h"

#include <stdlib.h>
#include <string.h>

#include "bench_loops.h"
#include "hcm/hcm.h"

typedef struct ours_side {
    bench_env *e;
    hcm_publisher *pub;
    hcm_subscriber *sub;
    size_t size;
    unsigned char *src, *dst;
    uint64_t lost;
    uint64_t consumed_cache; /* stream producer: last value read from ctl->consumed */
    uint64_t credit;         /* stream producer: slots - 1 */
} ours_side;

static int hfail(ours_side *s, const char *what, int rc)
{
    return bench_fail(s->e, "%s: %s (%s)", what, hcm_strerror(rc), hcm_errmsg());
}

static int open_pub(ours_side *s, const char *topic, uint32_t slots)
{
    hcm_publisher_attr a;
    hcm_publisher_attr_init(&a);
    a.max_payload = s->size;
    if (slots)
        a.buffer_num = slots;
    int rc = hcm_publisher_open(&s->pub, topic, &a);
    return rc ? hfail(s, "hcm_publisher_open", rc) : 0;
}

static int open_sub(ours_side *s, const char *topic, int variant)
{
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    if (variant == BENCH_OURS_FUTEX)
        a.spin_ns = 0;
    int rc = hcm_subscriber_open(&s->sub, topic, &a);
    return rc ? hfail(s, "hcm_subscriber_open", rc) : 0;
}

/* Publishers first (barrier), then subscribers (barrier): every subscriber
 * opens on an existing segment, before anything is published. */
static int ours_open(bench_env *e, ours_side *s, const char *pub, const char *sub, uint32_t slots)
{
    memset(s, 0, sizeof *s);
    s->e = e;
    s->size = e->p->size;
    s->dst = bench_payload_alloc(s->size);
    s->src = e->role ? s->dst : bench_payload_alloc(s->size); /* B echoes what it received */
    if (!s->src || !s->dst)
        return bench_fail(e, "out of memory");
    if (pub && open_pub(s, pub, slots))
        return -1;
    if (bench_barrier(e, 2))
        return -1;
    if (sub && open_sub(s, sub, e->p->variant))
        return -1;
    return bench_barrier(e, 3);
}

static void ours_close(ours_side *s)
{
    hcm_subscriber_close(s->sub);
    hcm_publisher_close(s->pub);
    if (s->src != s->dst)
        free(s->src);
    free(s->dst);
}

/* ---- ping-pong ------------------------------------------------------------ */

static int copy_send(void *t, uint64_t c)
{
    ours_side *s = t;
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_publish(s->pub, s->src, s->size);
    return rc ? hfail(s, "hcm_publish", rc) : 0;
}

static int got(ours_side *s, const hcm_sample_info *info, uint64_t *c)
{
    if (info->len != s->size)
        return bench_fail(s->e, "sample of %llu bytes, expected %zu",
                          (unsigned long long)info->len, s->size);
    s->lost += info->lost;
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

static int poll_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    hcm_sample_info info;
    int rc;
    while ((rc = hcm_subscriber_take(s->sub, s->dst, s->size, &info)) == HCM_EAGAIN)
        bench_relax();
    if (rc)
        return hfail(s, "hcm_subscriber_take", rc);
    return got(s, &info, c);
}

static int wait_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    hcm_sample_info info;
    for (;;) {
        int rc = hcm_subscriber_wait(s->sub, -1);
        if (rc == HCM_EINTR)
            continue;
        if (rc)
            return hfail(s, "hcm_subscriber_wait", rc);
        rc = hcm_subscriber_take(s->sub, s->dst, s->size, &info);
        if (rc == HCM_OK)
            return got(s, &info, c);
        if (rc != HCM_EAGAIN)
            return hfail(s, "hcm_subscriber_take", rc);
    }
}

static int loan_send(void *t, uint64_t c)
{
    ours_side *s = t;
    void *buf;
    int rc = hcm_publisher_loan(s->pub, s->size, &buf);
    if (rc)
        return hfail(s, "hcm_publisher_loan", rc);
    memcpy(buf, &c, sizeof c);
    rc = hcm_publisher_commit(s->pub, buf);
    return rc ? hfail(s, "hcm_publisher_commit", rc) : 0;
}

static int loan_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    const void *data;
    hcm_sample_info info;
    int rc;
    while ((rc = hcm_subscriber_view(s->sub, &data, &info)) == HCM_EAGAIN)
        bench_relax();
    if (rc)
        return hfail(s, "hcm_subscriber_view", rc);
    if (info.len != s->size)
        return bench_fail(s->e, "view of %llu bytes, expected %zu", (unsigned long long)info.len,
                          s->size);
    s->lost += info.lost;
    memcpy(c, data, sizeof *c);
    rc = hcm_subscriber_release(s->sub);
    return rc ? hfail(s, "hcm_subscriber_release", rc) : 0;
}

int bench_ours_pingpong(bench_env *e)
{
    ours_side s;
    int rc = e->role == 0 ? ours_open(e, &s, "ping", "pong", 0) : ours_open(e, &s, "pong", "ping", 0);
    if (rc == 0) {
        int v = e->p->variant;
        if (e->role == 0) {
            if (v == BENCH_OURS_POLL)
                rc = bench_ping(e, &s, copy_send, poll_recv);
            else if (v == BENCH_OURS_LOAN)
                rc = bench_ping(e, &s, loan_send, loan_recv);
            else
                rc = bench_ping(e, &s, copy_send, wait_recv);
        } else {
            if (v == BENCH_OURS_POLL)
                rc = bench_echo(e, &s, copy_send, poll_recv);
            else if (v == BENCH_OURS_LOAN)
                rc = bench_echo(e, &s, loan_send, loan_recv);
            else
                rc = bench_echo(e, &s, copy_send, wait_recv);
        }
    }
    if (rc == 0 && s.lost)
        rc = bench_fail(e, "ping-pong lost %llu samples", (unsigned long long)s.lost);
    ours_close(&s);
    return rc;
}

/* ---- stream ----------------------------------------------------------------- */

static int stream_produce(void *t, uint64_t c)
{
    ours_side *s = t;
    bench_ctl *ctl = s->e->ctl;
    if (c - s->consumed_cache >= s->credit) {
        /* (C2) acquire: the consumer is done with the slot we are about to
         * reuse; pairs with (C1) */
        while (c - (s->consumed_cache = atomic_load_explicit(&ctl->consumed,
                                                             memory_order_acquire)) >=
               s->credit) {
            if (atomic_load_explicit(&ctl->stop, memory_order_relaxed)) /* a flag, no data */
                return 1;
            bench_relax();
        }
    }
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_publish(s->pub, s->src, s->size);
    return rc ? hfail(s, "hcm_publish", rc) : 0;
}

static int stream_consume(void *t, uint64_t *c)
{
    ours_side *s = t;
    if (poll_recv(t, c))
        return -1;
    /* (C1) release: our copy-out is done; pairs with (C2) */
    atomic_store_explicit(&s->e->ctl->consumed,
                          atomic_load_explicit(&s->e->ctl->consumed, memory_order_relaxed) + 1,
                          memory_order_release); /* relaxed load: we are the only writer */
    return 0;
}

int bench_ours_stream(bench_env *e)
{
    ours_side s;
    int rc = e->role == 0 ? ours_open(e, &s, "stream", NULL, e->p->slots)
                          : ours_open(e, &s, NULL, "stream", 0);
    if (rc == 0) {
        s.credit = e->p->slots - 1;
        if (e->role == 0) {
            if (hcm_publisher_slots(s.pub) != e->p->slots)
                rc = bench_fail(e, "topic has %u slots, asked for %u", hcm_publisher_slots(s.pub),
                                e->p->slots);
            else
                rc = bench_produce(e, &s, stream_produce);
        } else {
            rc = bench_consume(e, &s, stream_consume);
            uint64_t total = hcm_subscriber_lost(s.sub);
            if (total > e->ctl->res.lost)
                e->ctl->res.lost = total;
            if (s.lost > e->ctl->res.lost)
                e->ctl->res.lost = s.lost;
        }
    }
    ours_close(&s);
    return rc;
}
