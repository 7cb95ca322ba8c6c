/* bench/bench_loops.h - the measuring loops, shared by the references and
 * by hcm so that both run exactly the same code around their transport.
 *
 * Each transport supplies send/recv (latency) or produce/consume (stream)
 * as static functions; the loops below are always inlined into a wrapper
 * per transport, so the calls are direct and usually inlined too.
 *
 * Latency: A sends counter i, B echoes it, A receives it back; one RTT
 * sample per round trip with one clock read per sample (the end of one
 * round trip is the start of the next). Warm-up: >= warm_ns and >= 100
 * round trips. Then counter BENCH_STOP ends the echoer.
 *
 * Stream: A produces counters 0, 1, 2, ... as fast as the transport lets it;
 * B consumes and checks each one (duplication and reordering fail the run;
 * gaps are counted as lost and reported), times the window after its warm-up, then raises ctl->stop,
 * which the producer polls while it waits for space and every 256 messages.
 */
#ifndef HCM_BENCH_LOOPS_H
#define HCM_BENCH_LOOPS_H

#include "bench.h"

#define BENCH_INLINE static inline __attribute__((always_inline))

typedef int (*bench_send_fn)(void *t, uint64_t counter);
typedef int (*bench_recv_fn)(void *t, uint64_t *counter);
/* produce: 0 sent, 1 stopped (ctl->stop seen while waiting), -1 error */
typedef int (*bench_produce_fn)(void *t, uint64_t counter);
typedef int (*bench_consume_fn)(void *t, uint64_t *counter);

BENCH_INLINE int bench_ping(bench_env *e, void *t, bench_send_fn send, bench_recv_fn recv)
{
    size_t cap = 0;
    uint32_t *rtt = bench_samples(&cap);
    if (!rtt)
        return bench_fail(e, "out of memory for samples");
    uint64_t i = 0, r = 0;
    int64_t start = bench_now();
    for (;;) {
        if (send(t, i) || recv(t, &r))
            return -1;
        if (r != i)
            return bench_fail(e, "warm-up: echo %llu, expected %llu", (unsigned long long)r,
                              (unsigned long long)i);
        i++;
        if (i >= 100 && bench_now() - start >= e->p->warm_ns)
            break;
    }
    size_t n = 0;
    int64_t t0 = bench_now(), begin = t0;
    while (n < cap) {
        if (send(t, i) || recv(t, &r))
            return -1;
        int64_t t1 = bench_now();
        rtt[n++] = (uint32_t)(t1 - t0);
        if (r != i)
            return bench_fail(e, "echo %llu, expected %llu", (unsigned long long)r,
                              (unsigned long long)i);
        i++;
        if (t1 - begin >= e->p->window_ns)
            break;
        t0 = t1;
    }
    if (send(t, BENCH_STOP) || recv(t, &r))
        return -1;
    if (r != BENCH_STOP)
        return bench_fail(e, "stop echo %llu", (unsigned long long)r);
    bench_percentiles(rtt, n, &e->ctl->res.p50_ns, &e->ctl->res.p99_ns);
    e->ctl->res.samples = n;
    return 0;
}

/* One-way by timestamps, paced as a ping-pong: A sends counter i, B answers
 * with the CLOCK_MONOTONIC value it read right before its send (BENCH_STOP
 * echoed as such), A reads the clock right after recv() returns: one sample
 * = receive time - stamp (the B -> A hop only). Same warm-up, window and
 * stop as bench_ping; B runs bench_echo with a send() that stamps. Samples
 * are stored doubled so bench_percentiles (which halves) gives the one-way.
 * Both processes read the same system-wide clock (TSC); a sample below
 * -1 us fails the run, small negative ones (skew) count as 0. */
BENCH_INLINE int bench_ping_stamped(bench_env *e, void *t, bench_send_fn send,
                                    bench_recv_fn recv)
{
    size_t cap = 0;
    uint32_t *ow = bench_samples(&cap);
    if (!ow)
        return bench_fail(e, "out of memory for samples");
    uint64_t i = 0, r = 0;
    int64_t start = bench_now();
    for (;;) {
        if (send(t, i) || recv(t, &r))
            return -1;
        i++;
        if (i >= 100 && bench_now() - start >= e->p->warm_ns)
            break;
    }
    size_t n = 0;
    int64_t begin = bench_now();
    while (n < cap) {
        if (send(t, i) || recv(t, &r))
            return -1;
        int64_t t1 = bench_now(), d = t1 - (int64_t)r;
        if (r == BENCH_STOP || d < -1000 || d > 1000000000)
            return bench_fail(e, "stamp %lld ns away from the receive time", (long long)d);
        ow[n++] = (uint32_t)(2 * (d < 0 ? 0 : d));
        i++;
        if (t1 - begin >= e->p->window_ns)
            break;
    }
    if (send(t, BENCH_STOP) || recv(t, &r))
        return -1;
    if (r != BENCH_STOP)
        return bench_fail(e, "stop echo %llu", (unsigned long long)r);
    bench_percentiles(ow, n, &e->ctl->res.p50_ns, &e->ctl->res.p99_ns);
    e->ctl->res.samples = n;
    return 0;
}

BENCH_INLINE int bench_echo(bench_env *e, void *t, bench_send_fn send, bench_recv_fn recv)
{
    (void)e;
    uint64_t r = 0;
    do {
        if (recv(t, &r) || send(t, r))
            return -1;
    } while (r != BENCH_STOP);
    return 0;
}

BENCH_INLINE int bench_produce(bench_env *e, void *t, bench_produce_fn produce)
{
    for (uint64_t i = 0;; i++) {
        if ((i & 255) == 0 &&
            atomic_load_explicit(&e->ctl->stop, memory_order_relaxed)) /* a flag, no data */
            return 0;
        int rc = produce(t, i);
        if (rc)
            return rc > 0 ? 0 : -1;
    }
}

BENCH_INLINE int bench_consume(bench_env *e, void *t, bench_consume_fn consume)
{
    /* clock reads: 1 per 256 small messages, unless asked for one per message */
    const uint64_t every =
        e->p->size >= 4096 || e->p->variant == BENCH_CLOCK_EVERY_MSG ? 1 : 256;
    uint64_t expect = 0, r = 0, first = 0, gaps = 0, gaps0 = 0;
    int64_t t0 = bench_now(), t1 = t0;
    int warm = 1;
    for (;;) {
        if (consume(t, &r))
            return -1;
        if (r < expect)
            return bench_fail(e, "stream: got %llu after %llu", (unsigned long long)r,
                              (unsigned long long)expect - 1);
        gaps += r - expect; /* lost: counted and reported; the parent judges */
        expect = r + 1;
        if (expect % every)
            continue;
        t1 = bench_now();
        if (warm) {
            if (expect >= 100 && t1 - t0 >= e->p->warm_ns) {
                warm = 0;
                first = expect;
                gaps0 = gaps;
                t0 = t1;
            }
        } else if (t1 - t0 >= e->p->window_ns) {
            break;
        }
    }
    atomic_store_explicit(&e->ctl->stop, 1, memory_order_relaxed); /* a flag, no data */
    uint64_t got = (expect - first) - (gaps - gaps0);
    e->ctl->res.samples = got;
    e->ctl->res.lost = gaps;
    e->ctl->res.msgs_per_s = (double)got / ((double)(t1 - t0) * 1e-9);
    e->ctl->res.bytes_per_s = e->ctl->res.msgs_per_s * (double)e->p->size;
    return 0;
}

#endif /* HCM_BENCH_LOOPS_H */
