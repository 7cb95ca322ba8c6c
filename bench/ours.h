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

/* bench_params.variant of an action row (bench_ours_action): what is timed
 * (low bits) | how the client side waits (BENCH_ACT_POLL / _WAIT / _SLEEP).
 *   ACCEPT  A sends a goal, B takes and accepts it (then finishes it); A
 *           waits for ACCEPTED: round trip send -> accepted (action "act");
 *   GOAL    A sends a goal, B takes, accepts, finishes; A's result()
 *           returns: round trip send -> result (action "act");
 *   RESULT  as GOAL, but B stamps the clock right before finish() and puts
 *           it in the result; A reads the clock when result() returns:
 *           one-way finish -> result() by timestamps (action "act");
 *   FB      feedback ping-pong: A serves a goal B sent (action "act_ab"),
 *           B one A sent ("act_ba"); each hop is one
 *           hcm_action_server_feedback() and the peer's wait + read:
 *           one-way = RTT/2, as the topic ping-pong;
 *   FBTS    the same ping-pong with a clock stamp as the feedback; A times
 *           B -> A hops: one-way = receive time - stamp. */
enum { BENCH_ACT_ACCEPT = 1, BENCH_ACT_GOAL, BENCH_ACT_RESULT, BENCH_ACT_FB, BENCH_ACT_FBTS };
#define BENCH_ACT_KIND(v) ((v) & 15)
/* client waits: spin on status()/feedback() with pause; the default
 * hcm_action_client_wait (spin 20 us, then futex); spin_ns = 0 (futex at once) */
enum { BENCH_ACT_POLL = 16, BENCH_ACT_WAIT = 32, BENCH_ACT_SLEEP = 48 };
#define BENCH_ACT_WAITS(v) ((v) & 48)
int bench_ours_action(bench_env *e);   /* actions "act", "act_ab", "act_ba" */

#endif /* HCM_BENCH_OURS_H */
