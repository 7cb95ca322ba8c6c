/* bench/main.c - hcm_bench: hcm against references measured in the same run.
 *
 *   hcm_bench [--repeats N] [--quick] [--warm-ms MS] [--window-ms MS] [--only K1,K2,...]
 *
 * Every row is one measurement in two fresh processes (see harness.c); the
 * whole list runs once per repeat, so slow drift of the machine touches all
 * rows alike. The summary gives per-row medians over the repeats, each "ours"
 * row's ratio to its reference from the same run, and the goals as PASS/MISS.
 * Exit status: 0 when every measurement ran (a MISS is a result, not an
 * error), 1 when any failed, 2 on bad usage, 128+signal when interrupted.
 * See docs/performance.md; the service rows (svc*) in docs/performance-services.md;
 * the action rows (act*) in docs/performance-actions.md.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ours.h"
#include "refs.h"

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)

enum { SH_NONE, SH_MAILBOX, SH_RING };

typedef struct row {
    const char *key;
    const char *what;
    int ours;
    enum bench_kind kind;
    enum bench_mode mode;
    size_t size;
    bench_role_fn fn;
    int variant;
    uint32_t slots;
    int shared;
    int uds;
    const char *ref; /* the reference this row's ratio is taken to */
} row;

#define RING8_SLOTS 32768u /* 256 KiB of 8-byte slots */
#define RING1M_SLOTS 8u    /* the same slot count as the hcm 1 MiB stream */
#define STREAM8_SLOTS 1024u
#define STREAM1M_SLOTS 8u

/* clang-format off */
static const row g_rows[] = {
    /* 8 B, pinned: A on CPU 0, B on CPU 1 */
    {"floor-8B-pin",  "floor: cache-line spin",       0, BENCH_LAT, BENCH_PINNED,   8, bench_ref_floor, 0, 0, SH_MAILBOX, 0, NULL},
    {"poll-8B-pin",   "hcm polling (take spin)",      1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_pingpong, BENCH_OURS_POLL, 0, SH_NONE, 0, "floor-8B-pin"},
    {"futex-8B-pin",  "raw futex",                    0, BENCH_LAT, BENCH_PINNED,   8, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"block-8B-pin",  "hcm blocking (default wait)",  1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_pingpong, BENCH_OURS_BLOCK, 0, SH_NONE, 0, "futex-8B-pin"},
    {"sleep-8B-pin",  "hcm wait, spin_ns=0",          1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_pingpong, BENCH_OURS_FUTEX, 0, SH_NONE, 0, "futex-8B-pin"},
    {"uds-8B-pin",    "UDS seqpacket",                0, BENCH_LAT, BENCH_PINNED,   8, bench_ref_uds, 0, 0, SH_NONE, 1, "futex-8B-pin"},
    /* 8 B, unpinned */
    {"floor-8B-unp",  "floor: cache-line spin",       0, BENCH_LAT, BENCH_UNPINNED, 8, bench_ref_floor, 0, 0, SH_MAILBOX, 0, NULL},
    {"poll-8B-unp",   "hcm polling (take spin)",      1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_pingpong, BENCH_OURS_POLL, 0, SH_NONE, 0, "floor-8B-unp"},
    {"futex-8B-unp",  "raw futex",                    0, BENCH_LAT, BENCH_UNPINNED, 8, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"block-8B-unp",  "hcm blocking (default wait)",  1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_pingpong, BENCH_OURS_BLOCK, 0, SH_NONE, 0, "futex-8B-unp"},
    {"sleep-8B-unp",  "hcm wait, spin_ns=0",          1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_pingpong, BENCH_OURS_FUTEX, 0, SH_NONE, 0, "futex-8B-unp"},
    /* 8 B, both on CPU 1 (no spinning reference: a spinner takes a 4 ms slice per hop) */
    {"futex-8B-same", "raw futex",                    0, BENCH_LAT, BENCH_SAMECORE, 8, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"block-8B-same", "hcm blocking (default wait)",  1, BENCH_LAT, BENCH_SAMECORE, 8, bench_ours_pingpong, BENCH_OURS_BLOCK, 0, SH_NONE, 0, "futex-8B-same"},
    {"sleep-8B-same", "hcm wait, spin_ns=0",          1, BENCH_LAT, BENCH_SAMECORE, 8, bench_ours_pingpong, BENCH_OURS_FUTEX, 0, SH_NONE, 0, "futex-8B-same"},
    {"uds-8B-same",   "UDS seqpacket",                0, BENCH_LAT, BENCH_SAMECORE, 8, bench_ref_uds, 0, 0, SH_NONE, 1, "futex-8B-same"},
    /* 4 KiB, pinned */
    {"floor-4K-pin",  "floor: cache-line spin",       0, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ref_floor, 0, 0, SH_MAILBOX, 0, NULL},
    {"poll-4K-pin",   "hcm polling (take spin)",      1, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ours_pingpong, BENCH_OURS_POLL, 0, SH_NONE, 0, "floor-4K-pin"},
    {"futex-4K-pin",  "raw futex",                    0, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"block-4K-pin",  "hcm blocking (default wait)",  1, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ours_pingpong, BENCH_OURS_BLOCK, 0, SH_NONE, 0, "futex-4K-pin"},
    /* 1 MiB, pinned */
    {"floor-1M-pin",  "floor: cache-line spin",       0, BENCH_LAT, BENCH_PINNED,   MIB, bench_ref_floor, 0, 0, SH_MAILBOX, 0, NULL},
    {"poll-1M-pin",   "hcm polling (take spin)",      1, BENCH_LAT, BENCH_PINNED,   MIB, bench_ours_pingpong, BENCH_OURS_POLL, 0, SH_NONE, 0, "floor-1M-pin"},
    {"futex-1M-pin",  "raw futex",                    0, BENCH_LAT, BENCH_PINNED,   MIB, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"block-1M-pin",  "hcm blocking (default wait)",  1, BENCH_LAT, BENCH_PINNED,   MIB, bench_ours_pingpong, BENCH_OURS_BLOCK, 0, SH_NONE, 0, "futex-1M-pin"},
    {"loan-1M-pin",   "hcm loan/view (polling)",      1, BENCH_LAT, BENCH_PINNED,   MIB, bench_ours_pingpong, BENCH_OURS_LOAN, 0, SH_NONE, 0, "poll-8B-pin"},
    /* streams */
    {"ring-8B-pin",   "SPSC ring (spin)",             0, BENCH_TPUT, BENCH_PINNED,   8, bench_ref_ring, 0, RING8_SLOTS, SH_RING, 0, NULL},
    {"stream-8B-pin", "hcm stream (publish/take)",    1, BENCH_TPUT, BENCH_PINNED,   8, bench_ours_stream, 0, STREAM8_SLOTS, SH_NONE, 0, "ring-8B-pin"},
    {"ringclk-8B-pin", "SPSC ring, clock every msg",  0, BENCH_TPUT, BENCH_PINNED,   8, bench_ref_ring, BENCH_CLOCK_EVERY_MSG, RING8_SLOTS, SH_RING, 0, NULL},
    {"ring-8B-unp",   "SPSC ring (spin)",             0, BENCH_TPUT, BENCH_UNPINNED, 8, bench_ref_ring, 0, RING8_SLOTS, SH_RING, 0, NULL},
    {"stream-8B-unp", "hcm stream (publish/take)",    1, BENCH_TPUT, BENCH_UNPINNED, 8, bench_ours_stream, 0, STREAM8_SLOTS, SH_NONE, 0, "ring-8B-unp"},
    {"ring-1M-pin",   "SPSC ring (spin)",             0, BENCH_TPUT, BENCH_PINNED,   MIB, bench_ref_ring, 0, RING1M_SLOTS, SH_RING, 0, NULL},
    {"stream-1M-pin", "hcm stream (publish/take)",    1, BENCH_TPUT, BENCH_PINNED,   MIB, bench_ours_stream, 0, STREAM1M_SLOTS, SH_NONE, 0, "ring-1M-pin"},
    {"ring-1M-unp",   "SPSC ring (spin)",             0, BENCH_TPUT, BENCH_UNPINNED, MIB, bench_ref_ring, 0, RING1M_SLOTS, SH_RING, 0, NULL},
    {"stream-1M-unp", "hcm stream (publish/take)",    1, BENCH_TPUT, BENCH_UNPINNED, MIB, bench_ours_stream, 0, STREAM1M_SLOTS, SH_NONE, 0, "ring-1M-unp"},
    /* services: references the service rows need besides the ones above */
    {"floor-4K-unp",  "floor: cache-line spin",       0, BENCH_LAT, BENCH_UNPINNED, 4 * KIB, bench_ref_floor, 0, 0, SH_MAILBOX, 0, NULL},
    {"futex-4K-unp",  "raw futex",                    0, BENCH_LAT, BENCH_UNPINNED, 4 * KIB, bench_ref_futex, 0, 0, SH_MAILBOX, 0, NULL},
    {"uds-8B-unp",    "UDS seqpacket",                0, BENCH_LAT, BENCH_UNPINNED, 8, bench_ref_uds, 0, 0, SH_NONE, 1, "futex-8B-unp"},
    {"uds-4K-pin",    "UDS seqpacket",                0, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ref_uds, 0, 0, SH_NONE, 1, "futex-4K-pin"},
    {"uds-4K-unp",    "UDS seqpacket",                0, BENCH_LAT, BENCH_UNPINNED, 4 * KIB, bench_ref_uds, 0, 0, SH_NONE, 1, "futex-4K-unp"},
    /* service calls (hcm_client_call round trips; bench_ours_service in ours.c).
     * svc = default spin on both sides ("back to back"), compared with the
     * spin floor; svcsleep = spin_ns 0 on both sides, compared with the raw
     * futex; svctr = the server as a take/reply loop instead of a handler
     * thread. ref2 (UDS request/response) is measured alongside, for context. */
    {"svc-8B-pin",      "hcm call, handler thread",   1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_service, BENCH_SVC_HANDLER, 0, SH_NONE, 0, "floor-8B-pin"},
    {"svcsleep-8B-pin", "hcm call, spin_ns=0 both",   1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_service, BENCH_SVC_HANDLER | BENCH_SVC_SLEEP, 0, SH_NONE, 0, "futex-8B-pin"},
    {"svctr-8B-pin",    "hcm call, take/reply loop",  1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_service, BENCH_SVC_TAKEREPLY, 0, SH_NONE, 0, "floor-8B-pin"},
    {"svc-8B-unp",      "hcm call, handler thread",   1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_service, BENCH_SVC_HANDLER, 0, SH_NONE, 0, "floor-8B-unp"},
    {"svcsleep-8B-unp", "hcm call, spin_ns=0 both",   1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_service, BENCH_SVC_HANDLER | BENCH_SVC_SLEEP, 0, SH_NONE, 0, "futex-8B-unp"},
    {"svc-4K-pin",      "hcm call, handler thread",   1, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ours_service, BENCH_SVC_HANDLER, 0, SH_NONE, 0, "floor-4K-pin"},
    {"svcsleep-4K-pin", "hcm call, spin_ns=0 both",   1, BENCH_LAT, BENCH_PINNED,   4 * KIB, bench_ours_service, BENCH_SVC_HANDLER | BENCH_SVC_SLEEP, 0, SH_NONE, 0, "futex-4K-pin"},
    {"svc-4K-unp",      "hcm call, handler thread",   1, BENCH_LAT, BENCH_UNPINNED, 4 * KIB, bench_ours_service, BENCH_SVC_HANDLER, 0, SH_NONE, 0, "floor-4K-unp"},
    {"svcsleep-4K-unp", "hcm call, spin_ns=0 both",   1, BENCH_LAT, BENCH_UNPINNED, 4 * KIB, bench_ours_service, BENCH_SVC_HANDLER | BENCH_SVC_SLEEP, 0, SH_NONE, 0, "futex-4K-unp"},
    /* actions (bench_ours_action in ours.c; docs/performance-actions.md), 8 B
     * goal/feedback/result. acc = send -> ACCEPTED seen (round trip), goal =
     * send -> result() returns (round trip), res = finish -> result() returns
     * (one-way by clock stamps), fb = feedback ping-pong (one-way = RTT/2),
     * fbts = the same with stamps (one-way = receive - stamp). The reference
     * is the service call of the same waits (acc, goal, res: a call round
     * trip) or the topic ping-pong of the same waits (fb: a topic one-way). */
    {"actacc-8B-pin",       "action send->accepted",       1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actaccpoll-8B-pin",   "send->accepted, polling",     1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actaccsleep-8B-pin",  "send->accepted, spin_ns=0",   1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-pin"},
    {"actgoal-8B-pin",      "action send->result()",       1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actgoalpoll-8B-pin",  "send->result(), spin_ns=-1",  1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actgoalsleep-8B-pin", "send->result(), spin_ns=0",   1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-pin"},
    {"actres-8B-pin",       "finish->result(), stamps",    1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actrespoll-8B-pin",   "finish->result(), spin_ns=-1",1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-pin"},
    {"actressleep-8B-pin",  "finish->result(), spin_ns=0", 1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-pin"},
    {"actfbpoll-8B-pin",    "feedback, polling",           1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_POLL, 0, SH_NONE, 0, "poll-8B-pin"},
    {"actfbblock-8B-pin",   "feedback, default wait",      1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_WAIT, 0, SH_NONE, 0, "block-8B-pin"},
    {"actfbsleep-8B-pin",   "feedback, spin_ns=0",         1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "sleep-8B-pin"},
    {"actfbts-8B-pin",      "feedback polling, stamps",    1, BENCH_LAT, BENCH_PINNED,   8, bench_ours_action, BENCH_ACT_FBTS | BENCH_ACT_POLL, 0, SH_NONE, 0, "poll-8B-pin"},
    {"actacc-8B-unp",       "action send->accepted",       1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actaccpoll-8B-unp",   "send->accepted, polling",     1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actaccsleep-8B-unp",  "send->accepted, spin_ns=0",   1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_ACCEPT | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-unp"},
    {"actgoal-8B-unp",      "action send->result()",       1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actgoalpoll-8B-unp",  "send->result(), spin_ns=-1",  1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actgoalsleep-8B-unp", "send->result(), spin_ns=0",   1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_GOAL | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-unp"},
    {"actres-8B-unp",       "finish->result(), stamps",    1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_WAIT, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actrespoll-8B-unp",   "finish->result(), spin_ns=-1",1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_POLL, 0, SH_NONE, 0, "svc-8B-unp"},
    {"actressleep-8B-unp",  "finish->result(), spin_ns=0", 1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_RESULT | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "svcsleep-8B-unp"},
    {"actfbpoll-8B-unp",    "feedback, polling",           1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_POLL, 0, SH_NONE, 0, "poll-8B-unp"},
    {"actfbblock-8B-unp",   "feedback, default wait",      1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_WAIT, 0, SH_NONE, 0, "block-8B-unp"},
    {"actfbsleep-8B-unp",   "feedback, spin_ns=0",         1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_FB | BENCH_ACT_SLEEP, 0, SH_NONE, 0, "sleep-8B-unp"},
    {"actfbts-8B-unp",      "feedback polling, stamps",    1, BENCH_LAT, BENCH_UNPINNED, 8, bench_ours_action, BENCH_ACT_FBTS | BENCH_ACT_POLL, 0, SH_NONE, 0, "poll-8B-unp"},
};
/* clang-format on */
#define NROWS (sizeof g_rows / sizeof g_rows[0])

/* Service rows: reported as full round trips (RT = 2 x the one-way figure
 * the harness stores), each with a second reference (UDS request/response at
 * the same size and placement) that is run with it. */
static const struct {
    const char *key, *ref2;
} g_svc[] = {
    {"svc-8B-pin", "uds-8B-pin"},      {"svcsleep-8B-pin", "uds-8B-pin"},
    {"svctr-8B-pin", "uds-8B-pin"},    {"svc-8B-unp", "uds-8B-unp"},
    {"svcsleep-8B-unp", "uds-8B-unp"}, {"svc-4K-pin", "uds-4K-pin"},
    {"svcsleep-4K-pin", "uds-4K-pin"}, {"svc-4K-unp", "uds-4K-unp"},
    {"svcsleep-4K-unp", "uds-4K-unp"},
};
#define NSVC (sizeof g_svc / sizeof g_svc[0])

/* The g_svc entry of row r, or -1 (not a service row). */
static int svc_of(size_t r)
{
    for (size_t i = 0; i < NSVC; i++)
        if (strcmp(g_svc[i].key, g_rows[r].key) == 0)
            return (int)i;
    return -1;
}

static const char *svc_ref2(size_t r)
{
    int i = svc_of(r);
    return i < 0 ? NULL : g_svc[i].ref2;
}

/* Action rows: 1 if row r is one. */
static int act_of(size_t r)
{
    return g_rows[r].fn == bench_ours_action;
}

/* The factor from the stored figure (one-way = RTT/2 for ping-pongs, the
 * one-way for stamped rows) to the figure printed for row r in the actions
 * table: 2 for round trips (service calls, action send->accepted and
 * send->result), 1 for one-way figures. */
static double disp_k(size_t r)
{
    if (act_of(r)) {
        int k = BENCH_ACT_KIND(g_rows[r].variant);
        return k == BENCH_ACT_ACCEPT || k == BENCH_ACT_GOAL ? 2 : 1;
    }
    return svc_of(r) >= 0 ? 2 : 1;
}

static const char *disp_name(size_t r)
{
    if (act_of(r)) {
        int k = BENCH_ACT_KIND(g_rows[r].variant);
        return k == BENCH_ACT_ACCEPT || k == BENCH_ACT_GOAL ? "RT"
               : k == BENCH_ACT_FB                          ? "one-way (RTT/2)"
                                                            : "one-way (stamps)";
    }
    return svc_of(r) >= 0 ? "call RT" : "one-way (RTT/2)";
}

typedef struct goal {
    const char *row, *ref;
    int at_most; /* 1: ratio <= limit (latency); 0: ratio >= limit (throughput); -1: info only */
    double limit;
    const char *text;
} goal;

static const goal g_goals[] = {
    {"poll-8B-pin", "floor-8B-pin", 1, 2.0, "polling 8 B one-way p50 <= 2x floor (pinned)"},
    {"block-8B-pin", "futex-8B-pin", 1, 1.1,
     "blocking 8 B one-way p50 <= 1.1x raw futex cross-core (pinned)"},
    {"block-8B-same", "futex-8B-same", 1, 1.3,
     "blocking 8 B one-way p50 <= 1.3x raw futex on one core"},
    {"block-8B-same", "futex-8B-same", 1, 2.0,
     "same-core ping-pong with default waits <= 2x raw futex same-core"},
    {"stream-8B-pin", "ring-8B-pin", 0, 0.5, "8 B stream >= 0.5x SPSC ring msg/s (pinned)"},
    {"stream-1M-pin", "ring-1M-pin", 0, 0.8, "1 MiB copying stream >= 0.8x ring GB/s (pinned)"},
    {"loan-1M-pin", "poll-8B-pin", 1, 3.0, "1 MiB loan one-way p50 <= 3x the 8 B one-way (polling)"},
    /* not a goal: the same stream against a ring whose consumer reads the
     * clock on every message, as the anchor harness timed its receives */
    {"stream-8B-pin", "ringclk-8B-pin", -1, 0.5,
     "8 B stream vs SPSC ring with a clock read per message (anchor method)"},
    /* services (round trips; the ratio is the same as of the one-way halves) */
    {"svcsleep-8B-pin", "futex-8B-pin", 1, 1.2,
     "service call RT, both sides sleep (spin_ns 0), 8 B <= 1.2x raw futex RT (pinned)"},
    {"svcsleep-8B-unp", "futex-8B-unp", 1, 1.2,
     "service call RT, both sides sleep (spin_ns 0), 8 B <= 1.2x raw futex RT (unpinned)"},
    {"svcsleep-4K-pin", "futex-4K-pin", 1, 1.2,
     "service call RT, both sides sleep (spin_ns 0), 4 KiB <= 1.2x raw futex RT (pinned)"},
    {"svcsleep-4K-unp", "futex-4K-unp", 1, 1.2,
     "service call RT, both sides sleep (spin_ns 0), 4 KiB <= 1.2x raw futex RT (unpinned)"},
    {"svc-8B-pin", "floor-8B-pin", 1, 3.0,
     "service call RT back to back (default spin), 8 B <= 3x raw spin RT (pinned)"},
    {"svc-8B-unp", "floor-8B-unp", 1, 3.0,
     "service call RT back to back (default spin), 8 B <= 3x raw spin RT (unpinned)"},
    {"svc-4K-pin", "floor-4K-pin", 1, 3.0,
     "service call RT back to back (default spin), 4 KiB <= 3x raw spin RT (pinned)"},
    {"svc-4K-unp", "floor-4K-unp", 1, 3.0,
     "service call RT back to back (default spin), 4 KiB <= 3x raw spin RT (unpinned)"},
    /* not goals: context */
    {"svctr-8B-pin", "floor-8B-pin", -1, 0,
     "service call RT, take/reply server loop, vs raw spin RT (pinned)"},
    {"svc-8B-pin", "uds-8B-pin", -1, 0, "service call RT (default spin) vs UDS request/response (pinned)"},
    {"svcsleep-8B-pin", "uds-8B-pin", -1, 0,
     "service call RT (spin_ns 0) vs UDS request/response (pinned)"},
    /* actions (docs/performance-actions.md): the figures compared are the ones
     * the actions table prints (round trip or one-way, see disp_k) */
    {"actfbpoll-8B-pin", "poll-8B-pin", 1, 1.2,
     "action feedback one-way, polling, 8 B <= 1.2x topic one-way, polling (pinned)"},
    {"actfbblock-8B-pin", "block-8B-pin", 1, 1.2,
     "action feedback one-way, default wait, 8 B <= 1.2x topic one-way, default wait (pinned)"},
    {"actfbpoll-8B-unp", "poll-8B-unp", 1, 1.2,
     "action feedback one-way, polling, 8 B <= 1.2x topic one-way, polling (unpinned)"},
    {"actfbblock-8B-unp", "block-8B-unp", 1, 1.2,
     "action feedback one-way, default wait, 8 B <= 1.2x topic one-way, default wait (unpinned)"},
    /* not goals: context */
    {"actfbsleep-8B-pin", "sleep-8B-pin", -1, 0,
     "action feedback one-way, spin_ns 0 vs topic one-way, spin_ns 0 (pinned)"},
    {"actfbsleep-8B-unp", "sleep-8B-unp", -1, 0,
     "action feedback one-way, spin_ns 0 vs topic one-way, spin_ns 0 (unpinned)"},
    {"actfbts-8B-pin", "actfbpoll-8B-pin", -1, 0,
     "action feedback one-way by stamps vs by RTT/2, polling (pinned; the method cross-check)"},
    {"actfbts-8B-unp", "actfbpoll-8B-unp", -1, 0,
     "action feedback one-way by stamps vs by RTT/2, polling (unpinned)"},
    {"actacc-8B-pin", "svc-8B-pin", -1, 0,
     "action send->accepted RT vs service call RT, default waits (pinned)"},
    {"actacc-8B-unp", "svc-8B-unp", -1, 0,
     "action send->accepted RT vs service call RT, default waits (unpinned)"},
    {"actaccsleep-8B-pin", "svcsleep-8B-pin", -1, 0,
     "action send->accepted RT vs service call RT, spin_ns 0 (pinned)"},
    {"actaccsleep-8B-unp", "svcsleep-8B-unp", -1, 0,
     "action send->accepted RT vs service call RT, spin_ns 0 (unpinned)"},
    {"actgoal-8B-pin", "svc-8B-pin", -1, 0,
     "action send->result() RT vs service call RT, default waits (pinned)"},
    {"actgoal-8B-unp", "svc-8B-unp", -1, 0,
     "action send->result() RT vs service call RT, default waits (unpinned)"},
    {"actgoalsleep-8B-pin", "svcsleep-8B-pin", -1, 0,
     "action send->result() RT vs service call RT, spin_ns 0 (pinned)"},
    {"actgoalsleep-8B-unp", "svcsleep-8B-unp", -1, 0,
     "action send->result() RT vs service call RT, spin_ns 0 (unpinned)"},
    {"actaccpoll-8B-pin", "svc-8B-pin", -1, 0,
     "action send->accepted RT, client polls, vs service call RT, default waits (pinned)"},
    {"actaccpoll-8B-unp", "svc-8B-unp", -1, 0,
     "action send->accepted RT, client polls, vs service call RT, default waits (unpinned)"},
    {"actgoalpoll-8B-pin", "svc-8B-pin", -1, 0,
     "action send->result() RT, client spins (spin_ns -1), vs service call RT (pinned)"},
    {"actgoalpoll-8B-unp", "svc-8B-unp", -1, 0,
     "action send->result() RT, client spins (spin_ns -1), vs service call RT (unpinned)"},
    {"actrespoll-8B-pin", "svc-8B-pin", -1, 0,
     "action finish->result() one-way, client spins (spin_ns -1), vs service call RT (pinned)"},
    {"actrespoll-8B-unp", "svc-8B-unp", -1, 0,
     "action finish->result() one-way, client spins (spin_ns -1), vs service call RT (unpinned)"},
    {"actres-8B-pin", "svc-8B-pin", -1, 0,
     "action finish->result() one-way vs service call RT, default waits (pinned)"},
    {"actres-8B-unp", "svc-8B-unp", -1, 0,
     "action finish->result() one-way vs service call RT, default waits (unpinned)"},
    {"actressleep-8B-pin", "svcsleep-8B-pin", -1, 0,
     "action finish->result() one-way vs service call RT, spin_ns 0 (pinned)"},
    {"actressleep-8B-unp", "svcsleep-8B-unp", -1, 0,
     "action finish->result() one-way vs service call RT, spin_ns 0 (unpinned)"},
};
#define NGOALS (sizeof g_goals / sizeof g_goals[0])

static const char *mode_name(enum bench_mode m)
{
    return m == BENCH_PINNED ? "pinned" : m == BENCH_UNPINNED ? "unpinned" : "same-core";
}

static const char *size_name(size_t s)
{
    return s == 8 ? "8 B" : s == 4 * KIB ? "4 KiB" : s == MIB ? "1 MiB" : "?";
}

static int find_row(const char *key)
{
    for (size_t i = 0; i < NROWS; i++)
        if (key && strcmp(g_rows[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* ---- number formatting ---- */

static const char *fmt_us(char *b, size_t n, double ns)
{
    double us = ns / 1000.0;
    if (us < 1)
        snprintf(b, n, "%.3f", us);
    else if (us < 10)
        snprintf(b, n, "%.2f", us);
    else if (us < 100)
        snprintf(b, n, "%.1f", us);
    else
        snprintf(b, n, "%.0f", us);
    return b;
}

static const char *fmt_rate(char *b, size_t n, double r)
{
    if (r >= 1e6)
        snprintf(b, n, "%.2fM", r / 1e6);
    else if (r >= 1e3)
        snprintf(b, n, "%.1fk", r / 1e3);
    else
        snprintf(b, n, "%.0f", r);
    return b;
}

static const char *fmt_gbs(char *b, size_t n, double bytes_per_s)
{
    double g = bytes_per_s / 1e9;
    snprintf(b, n, g < 1 ? "%.3f" : "%.2f", g);
    return b;
}

/* ratios: 3 significant digits, so 0.0031x does not print as 0.00x */
static const char *fmt_x(char *b, size_t n, double r)
{
    snprintf(b, n, r >= 10 ? "%.1f" : r >= 0.1 ? "%.2f" : "%.2g", r);
    return b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat3 {
    int n;
    double med, min, max;
} stat3;

static stat3 stats(const double *v, int n)
{
    stat3 s = {0, 0, 0, 0};
    double tmp[64];
    int k = 0;
    for (int i = 0; i < n && k < 64; i++)
        if (v[i] >= 0)
            tmp[k++] = v[i];
    if (k == 0)
        return s;
    qsort(tmp, (size_t)k, sizeof tmp[0], cmp_double);
    s.n = k;
    s.med = k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2;
    s.min = tmp[0];
    s.max = tmp[k - 1];
    return s;
}

/* ---- results ---- */

#define MAXREP 64
static bench_result g_res[MAXREP][NROWS];
static int g_ran[NROWS];
static int g_nrep;

/* The value a row is compared on: p50 (latency) or msg/s (throughput); -1 if none. */
static double metric(int r, int rep)
{
    const bench_result *x = &g_res[rep][r];
    if (!x->ok)
        return -1;
    return g_rows[r].kind == BENCH_LAT ? x->p50_ns : x->msgs_per_s;
}

static stat3 row_stat(int r, int which)
{
    double v[MAXREP];
    for (int k = 0; k < g_nrep; k++) {
        const bench_result *x = &g_res[k][r];
        double m = -1;
        if (x->ok) {
            switch (which) {
            case 0: m = metric(r, k); break;
            case 1: m = x->p99_ns; break;
            case 2: m = x->probe_ns > 0 ? x->probe_ns : -1; break;
            case 3: m = x->bytes_per_s; break;
            case 4: m = (double)x->lost; break;
            }
        }
        v[k] = m;
    }
    return stats(v, g_nrep);
}

/* A row's ratio to its reference: the median over repeats of the paired
 * ratio (row / reference of the same repeat, measured seconds apart), with
 * the min-max of those ratios. Only pairs measured in the same placement
 * class count (both unpinned; both near before and after; or both not): a
 * near row against a far reference says more about the host than about hcm. If
 * no pair matches, all pairs are used and the ratio is flagged "mixed".
 * `which`: 0 = p50 or msg/s, 1 = p99. */
typedef struct rstat {
    double med, lo, hi;
    int used, pairs, mixed;
} rstat;

/* 0 unpinned, 1 near before and after the run, 2 otherwise */
static int placement(const bench_result *x)
{
    if (x->probe_ns <= 0)
        return 0;
    return x->probe_ns < BENCH_NEAR_NS && x->probe_after_ns < BENCH_NEAR_NS ? 1 : 2;
}

static int ratio(int r, int ref, int which, rstat *o)
{
    memset(o, 0, sizeof *o);
    if (r < 0 || ref < 0)
        return -1;
    double all[MAXREP], matched[MAXREP];
    for (int k = 0; k < g_nrep; k++) {
        const bench_result *x = &g_res[k][r], *y = &g_res[k][ref];
        double xa = which ? x->p99_ns : metric(r, k), ya = which ? y->p99_ns : metric(ref, k);
        all[k] = matched[k] = -1;
        if (!x->ok || !y->ok || ya <= 0)
            continue;
        o->pairs++;
        all[k] = xa / ya;
        if (placement(x) == placement(y)) {
            matched[k] = all[k];
            o->used++;
        }
    }
    stat3 s = stats(o->used ? matched : all, g_nrep);
    if (!s.n)
        return -1;
    if (!o->used) {
        o->mixed = 1;
        o->used = o->pairs;
    }
    o->med = s.med;
    o->lo = s.min;
    o->hi = s.max;
    return 0;
}

/* " (3 of 5 pairs)", " (mixed placement)" or "" */
static const char *pairs_note(char *b, size_t n, const rstat *o)
{
    if (o->mixed)
        snprintf(b, n, " (mixed placement)");
    else if (o->used < o->pairs)
        snprintf(b, n, " (%d of %d pairs)", o->used, o->pairs);
    else
        b[0] = 0;
    return b;
}

static const char *fmt_stat_us(char *b, size_t n, stat3 s, int spread)
{
    char x[32], y[32], z[32];
    if (!s.n)
        snprintf(b, n, "n/a");
    else if (spread && s.n > 1)
        snprintf(b, n, "%s [%s–%s]", fmt_us(x, sizeof x, s.med), fmt_us(y, sizeof y, s.min),
                 fmt_us(z, sizeof z, s.max));
    else
        snprintf(b, n, "%s", fmt_us(x, sizeof x, s.med));
    return b;
}

static void print_row_line(int rep, int r, const bench_result *x, const char *err)
{
    const row *w = &g_rows[r];
    char a[32], b[32], c[32];
    printf("[%d/%d] %-14s %-28s %-9s %-6s", rep + 1, g_nrep, w->key, w->what, mode_name(w->mode),
           size_name(w->size));
    if (!x->ok) {
        printf(" FAILED: %s\n", err);
        fflush(stdout);
        return;
    }
    if (x->probe_ns > 0)
        printf(" probe %4.0f%s/%4.0f ns", x->probe_ns,
               x->probe_tries > 1 ? (x->probe_ns >= BENCH_NEAR_NS ? "*" : "+") : " ",
               x->probe_after_ns);
    else
        printf("                    ");
    if (w->kind == BENCH_LAT && svc_of((size_t)r) >= 0)
        printf("  RT p50 %8s µs  RT p99 %8s µs  (%s calls)\n", fmt_us(a, sizeof a, 2 * x->p50_ns),
               fmt_us(b, sizeof b, 2 * x->p99_ns), fmt_rate(c, sizeof c, (double)x->samples));
    else if (act_of((size_t)r)) {
        double k = disp_k((size_t)r);
        printf("  %s p50 %8s µs  p99 %8s µs  (%s samples)\n", k == 2 ? "RT" : "1-way",
               fmt_us(a, sizeof a, k * x->p50_ns), fmt_us(b, sizeof b, k * x->p99_ns),
               fmt_rate(c, sizeof c, (double)x->samples));
    }
    else if (w->kind == BENCH_LAT)
        printf("  p50 %8s µs  p99 %8s µs  (%s round trips)\n", fmt_us(a, sizeof a, x->p50_ns),
               fmt_us(b, sizeof b, x->p99_ns), fmt_rate(c, sizeof c, (double)x->samples));
    else
        printf("  %9s msg/s  %7s GB/s  lost %llu\n", fmt_rate(a, sizeof a, x->msgs_per_s),
               fmt_gbs(b, sizeof b, x->bytes_per_s), (unsigned long long)x->lost);
    fflush(stdout);
}

static void print_summary(void)
{
    char a[128], b[128], c[128], d[128], e[64];
    printf("\n## Latency: one-way µs (RTT/2), median [min–max] over %d repeat%s\n\n", g_nrep,
           g_nrep == 1 ? "" : "s");
    printf("| row | what | mode | size | p50 | p99 | probe ns | ratio to | p50 ratio, median [min–max] of per-repeat ratios | p99 ratio |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t r = 0; r < NROWS; r++) {
        const row *w = &g_rows[r];
        if (!g_ran[r] || w->kind != BENCH_LAT || svc_of(r) >= 0 || act_of(r))
            continue;
        stat3 p50 = row_stat((int)r, 0), p99 = row_stat((int)r, 1), pr = row_stat((int)r, 2);
        printf("| %s | %s | %s | %s | %s | %s | ", w->key, w->what, mode_name(w->mode),
               size_name(w->size), fmt_stat_us(a, sizeof a, p50, 1),
               fmt_stat_us(b, sizeof b, p99, 1));
        if (pr.n)
            printf("%.0f [%.0f–%.0f] | ", pr.med, pr.min, pr.max);
        else
            printf(" | ");
        int ref = find_row(w->ref);
        rstat q, q99;
        if (ref >= 0 && g_ran[ref] && ratio((int)r, ref, 0, &q) == 0 &&
            ratio((int)r, ref, 1, &q99) == 0)
            printf("%s | %sx [%s–%s]%s | %sx |\n", w->ref, fmt_x(a, sizeof a, q.med),
                   fmt_x(b, sizeof b, q.lo), fmt_x(c, sizeof c, q.hi),
                   pairs_note(e, sizeof e, &q), fmt_x(d, sizeof d, q99.med));
        else
            printf("%s | | |\n", w->ref ? w->ref : "");
    }
    printf("\n## Throughput: one-way stream, median [min–max] over %d repeat%s\n\n", g_nrep,
           g_nrep == 1 ? "" : "s");
    printf("| row | what | mode | size | msg/s | GB/s | lost (max) | probe ns | ratio to | ratio, median [min–max] of per-repeat ratios |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t r = 0; r < NROWS; r++) {
        const row *w = &g_rows[r];
        if (!g_ran[r] || w->kind != BENCH_TPUT)
            continue;
        stat3 rate = row_stat((int)r, 0), gbs = row_stat((int)r, 3), lost = row_stat((int)r, 4),
              pr = row_stat((int)r, 2);
        if (!rate.n) {
            printf("| %s | %s | %s | %s | failed | | | | | |\n", w->key, w->what,
                   mode_name(w->mode), size_name(w->size));
            continue;
        }
        printf("| %s | %s | %s | %s | %s [%s–", w->key, w->what, mode_name(w->mode),
               size_name(w->size), fmt_rate(a, sizeof a, rate.med), fmt_rate(b, sizeof b, rate.min));
        printf("%s] | %s [%s–", fmt_rate(a, sizeof a, rate.max), fmt_gbs(b, sizeof b, gbs.med),
               fmt_gbs(c, sizeof c, gbs.min));
        printf("%s] | %.0f | ", fmt_gbs(d, sizeof d, gbs.max), lost.max);
        if (pr.n)
            printf("%.0f [%.0f–%.0f] | ", pr.med, pr.min, pr.max);
        else
            printf(" | ");
        int ref = find_row(w->ref);
        rstat q;
        if (ref >= 0 && g_ran[ref] && ratio((int)r, ref, 0, &q) == 0)
            printf("%s | %sx [%s–%s]%s |\n", w->ref, fmt_x(a, sizeof a, q.med),
                   fmt_x(b, sizeof b, q.lo), fmt_x(c, sizeof c, q.hi),
                   pairs_note(e, sizeof e, &q));
        else
            printf("%s | |\n", w->ref ? w->ref : "");
    }
}

/* Service rows with the references they are compared with, as full round
 * trips (2 x the one-way figures of the other table), grouped by size and
 * placement. */
static void print_services(void)
{
    static const size_t sizes[] = {8, 4 * KIB};
    static const enum bench_mode modes[] = {BENCH_PINNED, BENCH_UNPINNED};
    int any = 0;
    for (size_t r = 0; r < NROWS; r++)
        any |= g_ran[r] && svc_of(r) >= 0;
    if (!any)
        return;
    char a[128], b[128], c[128], d[128], e[64];
    printf("\n## Service calls: round trip µs (RT = full request/response), median [min–max] "
           "over %d repeat%s\n\n", g_nrep, g_nrep == 1 ? "" : "s");
    printf("| row | what | mode | size | RT p50 | RT p99 | probe ns | ratio to | p50 ratio, median "
           "[min–max] of per-repeat ratios | p99 ratio | vs UDS (p50) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
            int shown[NROWS] = {0};
            for (size_t r = 0; r < NROWS; r++) {
                const row *w = &g_rows[r];
                if (!g_ran[r] || svc_of(r) < 0 || w->size != sizes[si] || w->mode != modes[mi])
                    continue;
                shown[r] = 1;
                int x = find_row(w->ref), y = find_row(svc_ref2(r));
                if (x >= 0 && g_ran[x])
                    shown[x] = 1;
                if (y >= 0 && g_ran[y])
                    shown[y] = 1;
            }
            for (int pass = 0; pass < 2; pass++) /* references first, then hcm */
                for (size_t r = 0; r < NROWS; r++) {
                    const row *w = &g_rows[r];
                    if (!shown[r] || (pass == 0) != (svc_of(r) < 0))
                        continue;
                    stat3 p50 = row_stat((int)r, 0), p99 = row_stat((int)r, 1),
                          pr = row_stat((int)r, 2);
                    p50.med *= 2, p50.min *= 2, p50.max *= 2;
                    p99.med *= 2, p99.min *= 2, p99.max *= 2;
                    printf("| %s | %s | %s | %s | %s | %s | ", w->key, w->what, mode_name(w->mode),
                           size_name(w->size), fmt_stat_us(a, sizeof a, p50, 1),
                           fmt_stat_us(b, sizeof b, p99, 1));
                    if (pr.n)
                        printf("%.0f [%.0f–%.0f] | ", pr.med, pr.min, pr.max);
                    else
                        printf(" | ");
                    int ref = svc_of(r) >= 0 ? find_row(w->ref) : -1, ref2 = find_row(svc_ref2(r));
                    rstat q, q99, q2;
                    if (ref >= 0 && g_ran[ref] && ratio((int)r, ref, 0, &q) == 0 &&
                        ratio((int)r, ref, 1, &q99) == 0)
                        printf("%s | %sx [%s–%s]%s | %sx | ", w->ref, fmt_x(a, sizeof a, q.med),
                               fmt_x(b, sizeof b, q.lo), fmt_x(c, sizeof c, q.hi),
                               pairs_note(e, sizeof e, &q), fmt_x(d, sizeof d, q99.med));
                    else
                        printf(" | | | ");
                    if (ref2 >= 0 && g_ran[ref2] && ratio((int)r, ref2, 0, &q2) == 0)
                        printf("%sx |\n", fmt_x(a, sizeof a, q2.med));
                    else
                        printf(" |\n");
                }
        }
}

/* A row's ratio to its reference in the figures the actions table prints
 * (round trip or one-way: disp_k), which for a one-way row against a call
 * round trip is half the ratio of the stored figures. */
static int act_ratio(int r, int ref, int which, rstat *o)
{
    if (ratio(r, ref, which, o))
        return -1;
    double f = disp_k((size_t)r) / disp_k((size_t)ref);
    o->med *= f, o->lo *= f, o->hi *= f;
    return 0;
}

/* Action rows with the references they are compared with, by placement:
 * references first, then the action rows. */
static void print_actions(void)
{
    static const enum bench_mode modes[] = {BENCH_PINNED, BENCH_UNPINNED};
    int any = 0;
    for (size_t r = 0; r < NROWS; r++)
        any |= g_ran[r] && act_of(r);
    if (!any)
        return;
    char a[128], b[128], c[128], d[128], e[64];
    printf("\n## Actions: µs, median [min–max] over %d repeat%s (RT = round trip; one-way "
           "(RTT/2) = half a ping-pong round trip; one-way (stamps) = receive time - clock "
           "stamp in the payload)\n\n", g_nrep, g_nrep == 1 ? "" : "s");
    printf("| row | what | mode | figure | p50 | p99 | probe ns | ratio to | p50 ratio, median "
           "[min–max] of per-repeat ratios | p99 ratio |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        int shown[NROWS] = {0};
        for (size_t r = 0; r < NROWS; r++) {
            if (!g_ran[r] || !act_of(r) || g_rows[r].mode != modes[mi])
                continue;
            shown[r] = 1;
            int x = find_row(g_rows[r].ref);
            if (x >= 0 && g_ran[x])
                shown[x] = 1;
        }
        for (int pass = 0; pass < 2; pass++)
            for (size_t r = 0; r < NROWS; r++) {
                const row *w = &g_rows[r];
                if (!shown[r] || (pass == 0) != !act_of(r))
                    continue;
                double k = disp_k(r);
                stat3 p50 = row_stat((int)r, 0), p99 = row_stat((int)r, 1),
                      pr = row_stat((int)r, 2);
                p50.med *= k, p50.min *= k, p50.max *= k;
                p99.med *= k, p99.min *= k, p99.max *= k;
                printf("| %s | %s | %s | %s | %s | %s | ", w->key, w->what, mode_name(w->mode),
                       disp_name(r), fmt_stat_us(a, sizeof a, p50, 1),
                       fmt_stat_us(b, sizeof b, p99, 1));
                if (pr.n)
                    printf("%.0f [%.0f–%.0f] | ", pr.med, pr.min, pr.max);
                else
                    printf(" | ");
                int ref = act_of(r) ? find_row(w->ref) : -1;
                rstat q, q99;
                if (ref >= 0 && g_ran[ref] && act_ratio((int)r, ref, 0, &q) == 0 &&
                    act_ratio((int)r, ref, 1, &q99) == 0)
                    printf("%s (%s) | %sx [%s–%s]%s | %sx |\n", w->ref, disp_name((size_t)ref),
                           fmt_x(a, sizeof a, q.med), fmt_x(b, sizeof b, q.lo),
                           fmt_x(c, sizeof c, q.hi), pairs_note(e, sizeof e, &q),
                           fmt_x(d, sizeof d, q99.med));
                else
                    printf(" | | |\n");
            }
    }
}

static int print_goals(void)
{
    int miss = 0;
    char a[64], b[64], c[32], d[32], f[32], g[64];
    printf("\n## Goals (ratio = median of the per-repeat ratios of same-placement pairs; "
           "pinned = A on CPU 0, B on CPU 1)\n\n");
    for (size_t i = 0; i < NGOALS; i++) {
        const goal *gl = &g_goals[i];
        int r = find_row(gl->row), ref = find_row(gl->ref);
        rstat q;
        if (r < 0 || ref < 0 || !g_ran[r] || !g_ran[ref] || ratio(r, ref, 0, &q)) {
            printf("- n/a  %s (not measured)\n", gl->text);
            continue;
        }
        double m = q.med;
        stat3 x = row_stat(r, 0), y = row_stat(ref, 0);
        if (act_of((size_t)r)) { /* in the figures of the actions table */
            act_ratio(r, ref, 0, &q);
            m = q.med;
            double kx = disp_k((size_t)r), ky = disp_k((size_t)ref);
            int pass = gl->at_most ? m <= gl->limit : m >= gl->limit;
            if (gl->at_most >= 0)
                miss += !pass;
            printf("- %s %s: ratio %sx (", gl->at_most < 0 ? "info" : pass ? "PASS" : "MISS",
                   gl->text, fmt_x(c, sizeof c, m));
            if (gl->at_most >= 0)
                printf("limit %s%.1fx; ", gl->at_most ? "<= " : ">= ", gl->limit);
            printf("per-repeat %s–%s%s); medians %s µs %s vs %s µs %s\n",
                   fmt_x(d, sizeof d, q.lo), fmt_x(f, sizeof f, q.hi),
                   pairs_note(g, sizeof g, &q), fmt_us(a, sizeof a, kx * x.med),
                   disp_name((size_t)r), fmt_us(b, sizeof b, ky * y.med),
                   disp_name((size_t)ref));
            continue;
        }
        if (gl->at_most < 0 && g_rows[r].kind == BENCH_LAT) {
            double k = svc_of((size_t)r) >= 0 ? 2 : 1; /* service rows: full round trips */
            printf("- info %s: ratio %sx (per-repeat %s–%s%s); medians %s µs vs %s µs%s\n",
                   gl->text, fmt_x(c, sizeof c, m), fmt_x(d, sizeof d, q.lo),
                   fmt_x(f, sizeof f, q.hi), pairs_note(g, sizeof g, &q),
                   fmt_us(a, sizeof a, k * x.med), fmt_us(b, sizeof b, k * y.med),
                   k == 2 ? " (round trips)" : "");
            continue;
        }
        if (gl->at_most < 0) {
            printf("- info %s: %s / %s msg/s (medians); ratio %sx (per-repeat %s–%s)%s\n",
                   gl->text, fmt_rate(a, sizeof a, x.med), fmt_rate(b, sizeof b, y.med),
                   fmt_x(c, sizeof c, m), fmt_x(d, sizeof d, q.lo), fmt_x(f, sizeof f, q.hi),
                   pairs_note(g, sizeof g, &q));
            continue;
        }
        int pass = gl->at_most ? m <= gl->limit : m >= gl->limit;
        miss += !pass;
        if (g_rows[r].kind == BENCH_LAT && svc_of((size_t)r) >= 0)
            printf("- %s %s: ratio %sx (limit %s%.1fx; per-repeat %s–%s%s); medians %s µs vs "
                   "%s µs (round trips)\n",
                   pass ? "PASS" : "MISS", gl->text, fmt_x(c, sizeof c, m),
                   gl->at_most ? "<= " : ">= ", gl->limit, fmt_x(d, sizeof d, q.lo),
                   fmt_x(f, sizeof f, q.hi), pairs_note(g, sizeof g, &q),
                   fmt_us(a, sizeof a, 2 * x.med), fmt_us(b, sizeof b, 2 * y.med));
        else if (g_rows[r].kind == BENCH_LAT)
            printf("- %s %s: ratio %sx (limit %s%.1fx; per-repeat %s–%s%s); medians %s µs vs "
                   "%s µs\n",
                   pass ? "PASS" : "MISS", gl->text, fmt_x(c, sizeof c, m),
                   gl->at_most ? "<= " : ">= ", gl->limit, fmt_x(d, sizeof d, q.lo),
                   fmt_x(f, sizeof f, q.hi), pairs_note(g, sizeof g, &q),
                   fmt_us(a, sizeof a, x.med), fmt_us(b, sizeof b, y.med));
        else if (g_rows[r].size >= 4096)
            printf("- %s %s: ratio %sx (limit %s%.1fx; per-repeat %s–%s%s); medians %s vs %s "
                   "GB/s\n",
                   pass ? "PASS" : "MISS", gl->text, fmt_x(c, sizeof c, m),
                   gl->at_most ? "<= " : ">= ", gl->limit, fmt_x(d, sizeof d, q.lo),
                   fmt_x(f, sizeof f, q.hi), pairs_note(g, sizeof g, &q),
                   fmt_gbs(a, sizeof a, x.med * (double)g_rows[r].size),
                   fmt_gbs(b, sizeof b, y.med * (double)g_rows[r].size));
        else
            printf("- %s %s: ratio %sx (limit %s%.1fx; per-repeat %s–%s%s); medians %s vs %s "
                   "msg/s\n",
                   pass ? "PASS" : "MISS", gl->text, fmt_x(c, sizeof c, m),
                   gl->at_most ? "<= " : ">= ", gl->limit, fmt_x(d, sizeof d, q.lo),
                   fmt_x(f, sizeof f, q.hi), pairs_note(g, sizeof g, &q),
                   fmt_rate(a, sizeof a, x.med), fmt_rate(b, sizeof b, y.med));
    }
    for (size_t r = 0; r < NROWS; r++) {
        if (!g_ran[r] || g_rows[r].kind != BENCH_TPUT || !g_rows[r].ours)
            continue;
        stat3 lost = row_stat((int)r, 4);
        if (lost.n) {
            int pass = lost.max == 0;
            miss += !pass;
            printf("- %s %s lossless: lost %.0f (max over repeats; must be 0)\n",
                   pass ? "PASS" : "MISS", g_rows[r].key, lost.max);
        }
    }
    return miss;
}

/* Unlinks whatever the run left in its domain and reports it. */
static int leftovers(const char *domain)
{
    hcm_topic_info *infos = NULL;
    size_t n = 0;
    int left = 0;
    if (hcm_topic_list(domain, &infos, &n) == HCM_OK) {
        for (size_t i = 0; i < n; i++) {
            printf("leftover topic %s: unlinking\n", infos[i].name);
            (void)hcm_topic_unlink(domain, infos[i].name);
            left++;
        }
        hcm_topic_list_free(infos);
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "hcm.%s.", domain);
    DIR *d = opendir("/dev/shm");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
                printf("leftover /dev/shm/%s\n", de->d_name);
                left++;
            }
        closedir(d);
    }
    return left;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hcm_bench [--repeats N] [--quick] [--warm-ms MS] [--window-ms MS]\n"
               "                 [--only KEY,KEY,...] [--list]\n"
               "  --repeats N    repeats of the whole list (default 5, max %d)\n"
               "  --quick        1 repeat, 20 ms warm-up, 60 ms windows\n"
               "  --warm-ms MS   warm-up per measurement (default 50)\n"
               "  --window-ms MS measured window per measurement (default 250)\n"
               "  --only ...     run only rows whose key contains one of the strings\n"
               "                 (their references are added)\n"
               "  --list         list the rows and exit\n",
            MAXREP);
}

static int selected(const char *only, const char *key)
{
    if (!only)
        return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", only);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (*tok && strstr(key, tok))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int repeats = 5;
    int64_t warm_ms = 50, window_ms = 250;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            repeats = 1;
            warm_ms = 20;
            window_ms = 60;
        } else if (!strcmp(a, "--repeats") && v) {
            repeats = atoi(v);
            i++;
        } else if (!strcmp(a, "--warm-ms") && v) {
            warm_ms = atoll(v);
            i++;
        } else if (!strcmp(a, "--window-ms") && v) {
            window_ms = atoll(v);
            i++;
        } else if (!strcmp(a, "--only") && v) {
            only = v;
            i++;
        } else if (!strcmp(a, "--list")) {
            for (size_t r = 0; r < NROWS; r++)
                printf("%-14s %-28s %-9s %-6s %s\n", g_rows[r].key, g_rows[r].what,
                       mode_name(g_rows[r].mode), size_name(g_rows[r].size),
                       g_rows[r].ref ? g_rows[r].ref : "");
            return 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (repeats < 1 || repeats > MAXREP || warm_ms < 0 || window_ms < 1 || window_ms > 10000) {
        usage(stderr);
        return 2;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "hcm_bench: needs 2 CPUs (pinned runs use CPU 0 and CPU 1)\n");
        return 2;
    }
    for (size_t r = 0; r < NROWS; r++)
        if (selected(only, g_rows[r].key)) {
            g_ran[r] = 1;
            int ref = find_row(g_rows[r].ref), ref2 = find_row(svc_ref2(r));
            if (ref >= 0)
                g_ran[ref] = 1;
            if (ref2 >= 0)
                g_ran[ref2] = 1;
        }
    /* a goal needs its second operand too (loan -> poll-8B -> floor) */
    for (size_t r = 0; r < NROWS; r++)
        if (g_ran[r] && find_row(g_rows[r].ref) >= 0)
            g_ran[find_row(g_rows[r].ref)] = 1;
    g_nrep = repeats;

    char domain[32];
    snprintf(domain, sizeof domain, "bench%d", (int)getpid());
    setenv("HCM_DOMAIN", domain, 1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_install_signals();

    printf("# hcm_bench %s: %d repeat%s, warm-up %lld ms, window %lld ms, domain %s\n",
           HCM_VERSION_STRING, repeats, repeats == 1 ? "" : "s", (long long)warm_ms,
           (long long)window_ms, domain);
    printf("\n## Environment at start\n\n");
    double share0 = bench_env_record("start", stdout);
    if (share0 < 0.9)
        printf("WARNING: a CPU gave us only %.0f %% of its time: the machine is busy and the "
               "numbers below are not representative\n",
               share0 * 100);
    printf("\n## Runs (one line per measurement)\n\n"
           "probe = one-way cache-line ns right before / right after a pinned run;\n"
           "+ = near after re-probing, * = still far (>= %.0f ns) after %d probes 100 ms apart.\n"
           "A pinned pair is compared only if both runs were near before and after (or both not).\n\n",
           BENCH_NEAR_NS, BENCH_PROBE_TRIES);
    int64_t t_start = bench_now();
    int failures = 0, sig = 0;
    for (int rep = 0; rep < repeats && !sig; rep++) {
        for (size_t r = 0; r < NROWS && !sig; r++) {
            if (!g_ran[r])
                continue;
            const row *w = &g_rows[r];
            bench_case c;
            memset(&c, 0, sizeof c);
            c.fn = w->fn;
            c.p.size = w->size;
            c.p.mode = w->mode;
            c.p.warm_ns = warm_ms * 1000000;
            c.p.window_ns = window_ms * 1000000;
            c.p.slots = w->slots;
            c.p.variant = w->variant;
            c.shared_len = w->shared == SH_MAILBOX ? bench_ref_mailbox_bytes(w->size)
                           : w->shared == SH_RING  ? bench_ref_ring_bytes(w->size, w->slots)
                                                   : 0;
            c.uds = w->uds;
            c.hcm = w->ours;
            char err[600];
            if (bench_run(&c, domain, &g_res[rep][r], err, sizeof err))
                failures++;
            print_row_line(rep, (int)r, &g_res[rep][r], err);
            sig = bench_interrupted();
        }
    }
    double secs = (double)(bench_now() - t_start) * 1e-9;
    int left = leftovers(domain);
    if (sig) {
        printf("\ninterrupted by signal %d; %d leftover segment(s) removed\n", sig, left);
        return 128 + sig;
    }
    print_summary();
    print_services();
    print_actions();
    int miss = print_goals();
    printf("\n## Environment at end\n\n");
    double share1 = bench_env_record("end", stdout);
    if (share1 < 0.9)
        printf("WARNING: a CPU gave us only %.0f %% of its time at the end: the machine got "
               "busy during the run\n",
               share1 * 100);
    printf("\nmeasurements: %.0f s; failed measurements: %d; goals missed: %d; "
           "leftover segments: %d\n",
           secs, failures, miss, left);
    return failures || left ? 1 : 0;
}
