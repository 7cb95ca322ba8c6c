/* bench/bench.h - the benchmark harness shared by every measurement.
 *
 * One measurement = one pair of fresh processes from fork(): A (the pinger,
 * or the producer of a stream) and B (the echoer, or the consumer). They
 * share two MAP_SHARED mappings made by the parent before the fork:
 *
 * - the control page (bench_ctl): start barrier, placement probe line,
 *   stop flag and the credit line of the hcm stream, and the result that
 *   the measuring child hands back. No payload ever travels through it;
 * - for the raw references only, a data mapping (the cache line, futex
 *   word or SPSC ring under test). hcm rows use hcm topics instead.
 *
 * The parent never runs a data path: it forks, waits under alarm(), kills
 * both children when one fails or the time is up, unlinks the hcm topics
 * and prints. Each child also has its own alarm() and dies with the parent
 * (PR_SET_PDEATHSIG), so nothing can hang or outlive the run.
 */
#ifndef HCM_BENCH_H
#define HCM_BENCH_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_LINE 64
#define BENCH_STOP UINT64_MAX /* counter value that ends a ping-pong */

enum bench_mode { BENCH_PINNED, BENCH_UNPINNED, BENCH_SAMECORE };
enum bench_kind { BENCH_LAT, BENCH_TPUT };

/* What the measuring child reports (latencies are one-way, = RTT/2). */
typedef struct bench_result {
    int ok;
    double p50_ns;
    double p99_ns;
    uint64_t samples;
    double msgs_per_s;
    double bytes_per_s;
    uint64_t lost;
    double probe_ns; /* one-way cache-line ping-pong right before the run; 0 if not pinned */
    int probe_tries; /* probes run (> 1: the first ones found a far placement) */
    double probe_after_ns; /* the same probe right after the run (placement may move) */
} bench_result;

typedef struct bench_ctl {
    alignas(BENCH_LINE) _Atomic uint32_t arrive; /* barrier: arrivals so far */
    _Atomic uint32_t failed;                      /* first failing child sets it */
    alignas(BENCH_LINE) _Atomic uint64_t probe;   /* placement probe line */
    _Atomic uint32_t probe_again;                  /* A's verdict: probe once more */
    alignas(BENCH_LINE) _Atomic uint64_t consumed;/* hcm stream: samples taken (consumer) */
    alignas(BENCH_LINE) _Atomic uint32_t stop;    /* stream: consumer says "done" */
    alignas(BENCH_LINE) bench_result res;
    char err[512];
} bench_ctl;

/* Parameters of one measurement. */
typedef struct bench_params {
    size_t size;         /* payload bytes */
    enum bench_mode mode;
    int64_t warm_ns;     /* warm-up before the window */
    int64_t window_ns;   /* measured window */
    uint32_t slots;      /* ring / topic slots for streams */
    int variant;         /* transport-specific (see refs.c / ours.c) */
#define BENCH_CLOCK_EVERY_MSG 1 /* stream references: the consumer reads the clock per message */
} bench_params;

/* What a child role gets. */
typedef struct bench_env {
    bench_ctl *ctl;
    const bench_params *p;
    void *shared;        /* data mapping of a raw reference (NULL for hcm) */
    size_t shared_len;
    int fd;              /* this side's socket (UDS reference), else -1 */
    int role;            /* 0 = A, 1 = B */
} bench_env;

typedef int (*bench_role_fn)(bench_env *e);

/* ---- helpers (harness.c) ---- */

static inline int64_t bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void bench_relax(void)
{
    __builtin_ia32_pause();
}

/* Records the first failure (message kept in ctl->err) and returns -1. */
int bench_fail(bench_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Both children call it with the same n (1, 2, 3, ...): returns 0 when both
 * have arrived at step n, -1 if the peer failed or 10 s passed. Waits with
 * sched_yield so it works with both children on one CPU. */
int bench_barrier(bench_env *e, uint32_t n);

/* Pinned runs: placement probe. A and B ping-pong one cache line for 5 ms
 * (batch mean, no per-sample clock); A records the one-way ns. When it is
 * "far" (>= BENCH_NEAR_NS) both sleep 100 ms and probe again, at most
 * BENCH_PROBE_TRIES times in all, so that pinned rows are measured in the
 * near placement when the host allows it; the last probe is reported. */
#define BENCH_NEAR_NS 100.0
#define BENCH_PROBE_TRIES 4
void bench_placement(bench_env *e);

/* One more probe after the run (A records probe_after_ns), so that a pair
 * is compared only when the placement held through both measurements. */
void bench_placement_after(bench_env *e);

/* Fills *samples (capacity `cap`) while the latency window runs: the
 * array is allocated once per process by this helper. */
uint32_t *bench_samples(size_t *capp);

/* A private payload buffer of `size` bytes (at least 8), 64-byte aligned,
 * filled with a pattern so every page is touched before the window. */
unsigned char *bench_payload_alloc(size_t size);

/* One-way p50/p99 from `n` round-trip samples (reorders them). */
void bench_percentiles(uint32_t *rtt, size_t n, double *p50, double *p99);

#endif /* HCM_BENCH_H */
