/* bench/ours.h - hcm measured with the same loops as the references. */
#ifndef HCM_BENCH_OURS_H
#define HCM_BENCH_OURS_H

#include "bench.h"

/* bench_params.variant of a ping-pong */
enum { BENCH_OURS_POLL = 1, BENCH_OURS_BLOCK, BENCH_OURS_FUTEX, BENCH_OURS_LOAN };

int bench_ours_pingpong(bench_env *e); /* topics "ping" and "pong" */
int bench_ours_stream(bench_env *e);   /* topic "stream", lossless by credit */

#endif /* HCM_BENCH_OURS_H */
