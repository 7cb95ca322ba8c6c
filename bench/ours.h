/* bench/ours.h - hcm measured with the same loops as the references. */
#ifndef HCM_BENCH_OURS_H
#define HCM_BENCH_OURS_H

#include "bench.h"

/* bench_params.variant of a ping-pong */
enum { BENCH_OURS_POLL = 1, BENCH_OURS_BLOCK, BENCH_OURS_FUTEX, BENCH_OURS_LOAN };

int bench_ours_pingpong(bench_env *e); /* topics "ping" and "pong" */
int bench_ours_stream(bench_env *e);   /* topic "stream", lossless by credit */

/* bench_params.variant of a service round trip (bench_ours_service): the
 * server runs a handler thread (hcm_server_start) or a take/reply loop on
 * its main thread; both sides wait with the default spin, or with
 * spin_ns = 0 (straight to the futex: "both sides sleep"). */
enum { BENCH_SVC_HANDLER = 0, BENCH_SVC_TAKEREPLY = 1, BENCH_SVC_SLEEP = 2 };
int bench_ours_service(bench_env *e);  /* service "svc": A calls, B serves */

#endif /* HCM_BENCH_OURS_H */
