/* bench/refs.h - raw references (our own code, no library). */
#ifndef HCM_BENCH_REFS_H
#define HCM_BENCH_REFS_H

#include "bench.h"

/* Bytes of the data mapping each reference needs. */
size_t bench_ref_mailbox_bytes(size_t size);
size_t bench_ref_ring_bytes(size_t size, uint32_t slots);

int bench_ref_floor(bench_env *e); /* cache-line ping-pong, spin with pause */
int bench_ref_futex(bench_env *e); /* futex ping-pong, sleep at once, always wake */
int bench_ref_uds(bench_env *e);   /* socketpair SOCK_SEQPACKET ping-pong */
int bench_ref_ring(bench_env *e);  /* SPSC ring stream, spin */

#endif /* HCM_BENCH_REFS_H */
