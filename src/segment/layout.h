/* segment/layout.h - THE shared-memory layout of hcm. No other file defines
 * a byte of it.
 *
 * A topic segment is a file in /dev/shm named hcm.<domain>.t.<name> ('/' in
 * the name written as ':'; see segment/name.c). It is created under no name
 * (O_TMPFILE), sized with posix_fallocate, given its mode with fchmod, fully
 * initialised, and only then linked to its name: a process that can open the
 * name always sees a complete header. All integers are little-endian and
 * fixed-width; there are no pointers, only offsets; no pthread objects.
 *
 * Header (1792 bytes, then the slots):
 *
 * | offset | size | field            | written by            | read by            |
 * |--------|------|------------------|-----------------------|--------------------|
 * |      0 |    8 | magic            | creator, before link  | everyone at attach |
 * |      8 |    4 | version          | creator               | attach             |
 * |     12 |    4 | header_size      | creator               | attach             |
 * |     16 |    8 | total_size       | creator               | attach (== fstat)  |
 * |     24 |    4 | slot_count N     | creator               | attach             |
 * |     28 |    4 | slot_stride      | creator               | attach             |
 * |     32 |    8 | max_payload      | creator               | attach             |
 * |     40 |    8 | create_time_ns   | creator (REALTIME)    | tools              |
 * |     48 |    4 | seg_kind         | creator (1 = topic)   | attach             |
 * |     56 |    4 | state (atomic)   | unlinker: LIVE->RETIRED | every read (cheap) |
 * |     64 |  256 | type descriptor  | creator               | attach             |
 * |    320 |    8 | wlock (atomic)   | publishers (CAS)      | publishers         |
 * |    328 |    8 | write_seq (atomic)| lock holder          | latest(), take() on overrun |
 * |    336 |    8 | last_publish_ns  | lock holder           | tools              |
 * |    344 |    8 | lock_steals      | lock thief            | tools              |
 * |    384 |    4 | futex word       | publishers (bump)     | sleeping readers   |
 * |    388 |    4 | waiters          | sleeping readers      | publishers         |
 * |    448 |  256 | owners[16]       | publishers (CAS)      | liveness, tools    |
 * |    768 | 1024 | readers[16]      | subscribers (CAS, own line) | tools (lag, lost) |
 * |   1792 |  N*stride | slots       | lock holder           | subscribers        |
 *
 * Each region that different parties write sits on its own 64-byte line:
 * identity (0), type (64..319, immutable), writer line (320), wake line
 * (384), owners (448..703), and one line per reader (768 + 64 i). Slot i
 * starts at 1792 + i * slot_stride; stride is
 * a multiple of 64 and at least 32 + max_payload:
 *
 * | slot offset | size | field        |
 * |-------------|------|--------------|
 * |           0 |    8 | seq (atomic) | 0 never written; 2s+1 writing sample s; 2s+2 holds sample s |
 * |           8 |    8 | timestamp_ns | CLOCK_MONOTONIC publish time |
 * |          16 |    8 | len          | payload bytes (<= max_payload) |
 * |          24 |    8 | reserved     | |
 * |          32 |  len | payload      | 32-byte aligned |
 *
 * wlock and owners[].id hold a process identity: (pid << 32) | (start time in
 * clock ticks, low 32 bits, never 0); wlock uses the thread id and the
 * thread's start time. Liveness = kill(id, 0) succeeds and /proc/<id>/stat
 * shows the same start time, so a recycled pid does not pass for the dead one.
 *
 * What a crash leaves behind:
 * - before the link: nothing (an O_TMPFILE has no name; it vanishes).
 * - a publisher between taking wlock and releasing it: wlock names a dead
 *   thread, the slot it was writing has an odd seq (readers skip it: no torn
 *   sample is ever returned), write_seq was not advanced. The next publisher
 *   sees the dead holder, takes the lock over (lock_steals++) and rewrites
 *   the same sequence number into the same slot.
 * - a publisher between its slot commit and the write_seq store: the sample
 *   is committed in its slot; take() delivers it; the next lock holder
 *   re-publishes the same sequence number over it (harmless: readers either
 *   got the first copy or see the second).
 * - a sleeping reader: waiters stays too high; publishers then make one
 *   useless FUTEX_WAKE per publish (a cost, not a hang).
 * - all publishers: the segment stays with its last samples (by design, as
 *   the original: a restarted program or a late subscriber sees the last
 *   value). hcm_topic_reclaim()/`hcm clean` remove it.
 *
 * Everything read from a segment is untrusted: attach validates the header
 * against fstat and copies the geometry into the handle, which never reads
 * it again; per-read fields (seq, len, write_seq) are range-checked and every
 * loop that depends on them is bounded.
 */
#ifndef HCM_SEGMENT_LAYOUT_H
#define HCM_SEGMENT_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hcm/type.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hcm segments are little-endian; this target is not"
#endif
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

#define HCM_SEG_MAGIC 0x3143504f544d4348ull /* "HCMTOPC1" little-endian */
#define HCM_SEG_VERSION 2u /* 2: the readers table */
#define HCM_SEG_KIND_TOPIC 1u
#define HCM_SEG_STATE_LIVE 1u
#define HCM_SEG_STATE_RETIRED 2u
#define HCM_SEG_LINE 64u
#define HCM_SEG_OWNERS 16u
#define HCM_OWNER_OPEN 1u
#define HCM_OWNER_CLOSED 2u
#define HCM_SEG_READERS 16u

typedef struct hcm_seg_owner {
    _Atomic uint64_t id;    /* process identity, 0 = free */
    _Atomic uint32_t state; /* HCM_OWNER_OPEN / HCM_OWNER_CLOSED */
    uint32_t reserved;
} hcm_seg_owner;

/* One subscriber's line: who it is and how far it has read, for tools
 * (`hcm top` shows lag = write_seq - next_seq). Written only by its
 * subscriber, with relaxed stores: statistics, never used for delivery. A
 * subscriber that finds the table full reads normally, untracked. */
typedef struct hcm_seg_reader {
    _Atomic uint64_t id;       /* process identity, 0 = free */
    _Atomic uint64_t next_seq; /* next sequence number it will take */
    _Atomic uint64_t lost;     /* samples it lost since it opened */
    uint8_t pad[40];
} hcm_seg_reader;

typedef struct hcm_seg_header {
    /* line 0: identity, immutable after link (except state) */
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t total_size;
    uint32_t slot_count;
    uint32_t slot_stride;
    uint64_t max_payload;
    int64_t create_time_ns;
    uint32_t seg_kind;
    uint32_t reserved0;
    _Atomic uint32_t state;
    uint32_t reserved1;
    /* lines 1..4: type descriptor, immutable */
    hcm_type type;
    uint8_t type_pad[256 - sizeof(hcm_type)];
    /* line 5: written by the lock holder */
    _Atomic uint64_t wlock;
    _Atomic uint64_t write_seq;
    _Atomic int64_t last_publish_ns;
    _Atomic uint64_t lock_steals;
    uint8_t pad5[32];
    /* line 6: wake-up */
    _Atomic uint32_t futex;
    _Atomic uint32_t waiters;
    uint8_t pad6[56];
    /* lines 7..10: publisher owners */
    hcm_seg_owner owners[HCM_SEG_OWNERS];
    uint8_t pad_end[64];
    /* lines 12..27: subscribers */
    hcm_seg_reader readers[HCM_SEG_READERS];
} hcm_seg_header;

typedef struct hcm_seg_slot {
    _Atomic uint64_t seq;
    _Atomic int64_t timestamp_ns;
    _Atomic uint64_t len;
    uint64_t reserved;
    /* payload follows */
} hcm_seg_slot;

/* Largest sequence number a valid segment holds: 2^62 (at 10^9 samples per
 * second that is 146 years); beyond it seq arithmetic (2s+2) could wrap. */
#define HCM_SEG_SEQ_MAX (1ull << 62)

#define HCM_SEG_HEADER_SIZE 1792u
#define HCM_SEG_SLOT_HEADER 32u

_Static_assert(sizeof(hcm_type) == 224, "type descriptor is 224 bytes");
_Static_assert(offsetof(hcm_seg_header, magic) == 0, "layout");
_Static_assert(offsetof(hcm_seg_header, version) == 8, "layout");
_Static_assert(offsetof(hcm_seg_header, header_size) == 12, "layout");
_Static_assert(offsetof(hcm_seg_header, total_size) == 16, "layout");
_Static_assert(offsetof(hcm_seg_header, slot_count) == 24, "layout");
_Static_assert(offsetof(hcm_seg_header, slot_stride) == 28, "layout");
_Static_assert(offsetof(hcm_seg_header, max_payload) == 32, "layout");
_Static_assert(offsetof(hcm_seg_header, create_time_ns) == 40, "layout");
_Static_assert(offsetof(hcm_seg_header, seg_kind) == 48, "layout");
_Static_assert(offsetof(hcm_seg_header, state) == 56, "layout");
_Static_assert(offsetof(hcm_seg_header, type) == 64, "layout");
_Static_assert(offsetof(hcm_seg_header, wlock) == 320, "layout");
_Static_assert(offsetof(hcm_seg_header, write_seq) == 328, "layout");
_Static_assert(offsetof(hcm_seg_header, last_publish_ns) == 336, "layout");
_Static_assert(offsetof(hcm_seg_header, lock_steals) == 344, "layout");
_Static_assert(offsetof(hcm_seg_header, futex) == 384, "layout");
_Static_assert(offsetof(hcm_seg_header, waiters) == 388, "layout");
_Static_assert(offsetof(hcm_seg_header, owners) == 448, "layout");
_Static_assert(sizeof(hcm_seg_owner) == 16, "layout");
_Static_assert(offsetof(hcm_seg_header, readers) == 768, "layout");
_Static_assert(sizeof(hcm_seg_reader) == 64, "layout");
_Static_assert(sizeof(hcm_seg_header) == HCM_SEG_HEADER_SIZE, "layout");
_Static_assert(offsetof(hcm_seg_slot, seq) == 0, "layout");
_Static_assert(offsetof(hcm_seg_slot, timestamp_ns) == 8, "layout");
_Static_assert(offsetof(hcm_seg_slot, len) == 16, "layout");
_Static_assert(sizeof(hcm_seg_slot) == HCM_SEG_SLOT_HEADER, "layout");

/* ---- service segment: hcm.<domain>.s.<name> ---------------------------------
 *
 * | offset | size | field | written by | read by |
 * |--------|------|-------|------------|---------|
 * |      0 |    8 | magic "HCMSRVC1" | creator | attach |
 * |      8 |    4 | version | creator | attach |
 * |     12 |    4 | header size (640) | creator | attach |
 * |     16 |    8 | total size | creator | attach (== fstat) |
 * |     24 |    4 | slot count K (call slots) | creator | attach |
 * |     28 |    4 | slot stride | creator | attach |
 * |     32 |    8 | request max bytes | creator | attach |
 * |     40 |    8 | response max bytes | creator | attach |
 * |     48 |    8 | creation time (REALTIME ns) | creator | tools |
 * |     56 |    4 | segment kind (2 = service) | creator | attach |
 * |     60 |    4 | state LIVE/RETIRED (atomic) | replacer | every call |
 * |     64 |  256 | request type descriptor | creator | attach |
 * |    320 |  256 | response type descriptor | creator | attach |
 * |    576 |    8 | server: identity of the live server process, 0 = none (atomic) | server open/close | clients (liveness) |
 * |    584 |    4 | server generation (atomic) | server open | clients |
 * |    588 |    4 | request futex word (atomic) | clients (bump) | sleeping server threads |
 * |    592 |    4 | server waiters (atomic) | server threads | clients |
 * |    596 |    4 | free-slot futex word (atomic) | whoever frees a slot | clients waiting for a slot |
 * |    600 |    4 | free waiters (atomic) | clients | slot freers |
 * |    608 |    8 | next call id (atomic) | clients (fetch_add) | — |
 * |    616 |    8 | calls answered (atomic) | server | tools |
 * |    640 | round64(K) | pending hints: byte i = 1 when slot i holds a request (atomic) | clients set, server clears at take | server's scan |
 * | 640 + round64(K) | K * stride | call slots | | |
 *
 * Call slot (stride bytes, a multiple of 64):
 *
 * | offset | size | field | meaning |
 * |--------|------|-------|---------|
 * |      0 |    4 | state (atomic; the client's futex word) | FREE, CLAIMED, REQUESTED, PROCESSING, REPLYING, DONE, ABANDONED |
 * |      4 |    4 | waiting (atomic) | the client sleeps on state: the server must wake it |
 * |      8 |    8 | client identity (atomic) | process that claimed the slot |
 * |     16 |    8 | call id (atomic) | unique per service |
 * |     24 |    4 | status (atomic) | of a DONE call: HCM_OK, HCM_EREMOTE, HCM_EDEAD |
 * |     28 |    4 | generation (atomic) | server generation that took it |
 * |     32 |    8 | request length (atomic) | |
 * |     40 |    8 | response length (atomic) | |
 * |     48 |    8 | server identity (atomic) | process that took it |
 * |     56 |    8 | client handle token (atomic) | which client handle of that process |
 * |     64 |  256 | error message | of an HCM_EREMOTE call, NUL-terminated |
 * |    320 | round64(request max) | request | |
 * |    320 + round64(request max) | response max | response | |
 *
 * The pending hints let the server find requests by reading one line per 64
 * slots instead of every slot's state word (with large payloads the slots
 * are pages apart). A hint is advisory: the state CAS decides; a stale hint
 * costs one extra state load.
 *
 * Slot life: FREE -client CAS-> CLAIMED -client, request written-> REQUESTED
 * -server CAS-> PROCESSING -server CAS-> REPLYING -response written-> DONE
 * -client, read-> FREE. REPLYING makes the answer one writer's: a second
 * reply or fail finds the call no longer PROCESSING and writes nothing. A
 * client that gives up turns REQUESTED into FREE, or PROCESSING/REPLYING
 * into ABANDONED (the server's reply then frees it). A crash leaves a slot whose
 * client or server identity is dead; clients reclaim such slots when they
 * find none free, and a client waiting on a slot whose server died fails the
 * call with HCM_EDEAD and frees it.
 */
#define HCM_SVC_MAGIC 0x31435652534d4348ull /* "HCMSRVC1" little-endian */
/* The server word of a service or action segment that a reclaimer has
 * condemned (CAS from a dead or absent server): no server may claim it any
 * more; a server that finds it helps remove the name and creates a new
 * segment. Reads as a dead process (pid 0xffffffff) to everyone else. */
#define HCM_SERVER_RECLAIMED UINT64_MAX
#define HCM_SVC_VERSION 2u
#define HCM_SEG_KIND_SERVICE 2u
#define HCM_SVC_HEADER_SIZE 640u
#define HCM_SVC_SLOT_HEADER 320u
/* Offset of the first call slot of a service with `k` slots. */
#define HCM_SVC_SLOTS_OFFSET(k) (HCM_SVC_HEADER_SIZE + ((uint64_t)(k) + 63u) / 64u * 64u)
#define HCM_SVC_ERROR_MAX 256u

enum {
    HCM_SLOT_FREE = 0,
    HCM_SLOT_CLAIMED = 1,
    HCM_SLOT_REQUESTED = 2,
    HCM_SLOT_PROCESSING = 3,
    HCM_SLOT_DONE = 4,
    HCM_SLOT_ABANDONED = 5,
    HCM_SLOT_REPLYING = 6, /* the server is writing the answer */
};

typedef struct hcm_svc_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t total_size;
    uint32_t slot_count;
    uint32_t slot_stride;
    uint64_t request_max;
    uint64_t response_max;
    int64_t create_time_ns;
    uint32_t seg_kind;
    _Atomic uint32_t state;
    hcm_type request_type;
    uint8_t pad_req[256 - sizeof(hcm_type)];
    hcm_type response_type;
    uint8_t pad_resp[256 - sizeof(hcm_type)];
    _Atomic uint64_t server;
    _Atomic uint32_t server_gen;
    _Atomic uint32_t req_futex;
    _Atomic uint32_t server_waiters;
    _Atomic uint32_t free_futex;
    _Atomic uint32_t free_waiters;
    uint32_t reserved0;
    _Atomic uint64_t next_id;
    _Atomic uint64_t calls;
    uint8_t pad_end[16];
} hcm_svc_header;

typedef struct hcm_svc_slot {
    _Atomic uint32_t state;
    _Atomic uint32_t waiting;
    _Atomic uint64_t client;
    _Atomic uint64_t id;
    _Atomic uint32_t status;
    _Atomic uint32_t gen;
    _Atomic uint64_t req_len;
    _Atomic uint64_t resp_len;
    _Atomic uint64_t server;
    _Atomic uint64_t client_token;
    char error[HCM_SVC_ERROR_MAX];
    /* request, then response */
} hcm_svc_slot;

_Static_assert(offsetof(hcm_svc_header, state) == 60, "layout");
_Static_assert(offsetof(hcm_svc_header, request_type) == 64, "layout");
_Static_assert(offsetof(hcm_svc_header, response_type) == 320, "layout");
_Static_assert(offsetof(hcm_svc_header, server) == 576, "layout");
_Static_assert(offsetof(hcm_svc_header, server_gen) == 584, "layout");
_Static_assert(offsetof(hcm_svc_header, req_futex) == 588, "layout");
_Static_assert(offsetof(hcm_svc_header, server_waiters) == 592, "layout");
_Static_assert(offsetof(hcm_svc_header, free_futex) == 596, "layout");
_Static_assert(offsetof(hcm_svc_header, free_waiters) == 600, "layout");
_Static_assert(offsetof(hcm_svc_header, next_id) == 608, "layout");
_Static_assert(offsetof(hcm_svc_header, calls) == 616, "layout");
_Static_assert(sizeof(hcm_svc_header) == HCM_SVC_HEADER_SIZE, "layout");
_Static_assert(offsetof(hcm_svc_slot, waiting) == 4, "layout");
_Static_assert(offsetof(hcm_svc_slot, client) == 8, "layout");
_Static_assert(offsetof(hcm_svc_slot, id) == 16, "layout");
_Static_assert(offsetof(hcm_svc_slot, status) == 24, "layout");
_Static_assert(offsetof(hcm_svc_slot, gen) == 28, "layout");
_Static_assert(offsetof(hcm_svc_slot, req_len) == 32, "layout");
_Static_assert(offsetof(hcm_svc_slot, resp_len) == 40, "layout");
_Static_assert(offsetof(hcm_svc_slot, server) == 48, "layout");
_Static_assert(offsetof(hcm_svc_slot, client_token) == 56, "layout");
_Static_assert(offsetof(hcm_svc_slot, error) == 64, "layout");
_Static_assert(sizeof(hcm_svc_slot) == HCM_SVC_SLOT_HEADER, "layout");

/* ---- action segment: hcm.<domain>.a.<name> -----------------------------------
 *
 * | offset | size | field | written by | read by |
 * |--------|------|-------|------------|---------|
 * |      0 |    8 | magic "HCMACTN1" | creator | attach |
 * |      8 |    4 | version | creator | attach |
 * |     12 |    4 | header size (896) | creator | attach |
 * |     16 |    8 | total size | creator | attach (== fstat) |
 * |     24 |    4 | slot count K (goal slots) | creator | attach |
 * |     28 |    4 | slot stride | creator | attach |
 * |     32 |   24 | goal / feedback / result max bytes | creator | attach |
 * |     56 |    4 | segment kind (3 = action) | creator | attach |
 * |     60 |    4 | state LIVE/RETIRED (atomic) | replacer | every call |
 * |     64 |  768 | goal, feedback, result type descriptors (256 each) | creator | attach |
 * |    832 |    8 | server identity, 0 = none (atomic) | server | clients |
 * |    840 |    4 | server generation (atomic) | server | tools |
 * |    844 |    4 | goal futex word (atomic) | clients (bump) | sleeping server |
 * |    848 |    4 | server waiters (atomic) | server | clients |
 * |    852 |    4 | free-slot futex word (atomic) | slot freers | clients |
 * |    856 |    4 | free waiters (atomic) | clients | slot freers |
 * |    864 |    8 | next goal id (atomic) | clients | — |
 * |    872 |    8 | creation time (REALTIME ns) | creator | tools |
 * |    880 |    8 | retention of finished goals, ns | creator | clients |
 * |    896 | round64(K) | pending hints, one byte per slot (atomic) | clients / server | server |
 * | 896 + round64(K) | K * stride | goal slots | | |
 *
 * Goal slot (stride bytes):
 *
 * | offset | size | field | meaning |
 * |--------|------|-------|---------|
 * |      0 |    4 | status (atomic) | FREE, CLAIMED, PENDING, TAKEN, ACCEPTED, EXECUTING, CANCELING, SUCCEEDED, CANCELED, ABORTED, REJECTED |
 * |      4 |    4 | events (atomic; the client's futex word) | bumped on every status change and feedback |
 * |      8 |    8 | client identity (atomic) | |
 * |     16 |    8 | client handle token (atomic) | |
 * |     24 |    8 | goal id (atomic) | |
 * |     32 |    8 | server identity that took it (atomic) | |
 * |     40 |    4 | cancel requested (atomic) | |
 * |     44 |    4 | waiting (atomic) | the client sleeps on events |
 * |     48 |    8 | goal length (atomic) | |
 * |     56 |    8 | result length (atomic) | |
 * |     64 |    8 | feedback seq (atomic) | 2n+1 while writing feedback n, 2n+2 when done |
 * |     72 |    8 | feedback length (atomic) | |
 * |     80 |    8 | finish time, CLOCK_MONOTONIC ns (atomic) | for retention |
 * |     88 |    4 | collected (atomic) | the client read the result: first to reuse |
 * |     92 |    4 | orphaned (atomic) | ended ABORTED because its server died |
 * |    128 | ... | goal, feedback, result (each rounded to 64 but the last) | |
 */
#define HCM_ACT_MAGIC 0x314e5443414d4348ull /* "HCMACTN1" little-endian */
#define HCM_ACT_VERSION 1u
#define HCM_SEG_KIND_ACTION 3u
#define HCM_ACT_HEADER_SIZE 896u
#define HCM_ACT_SLOT_HEADER 128u
#define HCM_ACT_SLOTS_OFFSET(k) (HCM_ACT_HEADER_SIZE + ((uint64_t)(k) + 63u) / 64u * 64u)

enum {
    HCM_GSLOT_FREE = 0,
    /* 1..8: the public hcm_goal_status values */
    HCM_GSLOT_CLAIMED = 16,
    HCM_GSLOT_TAKEN = 17,
};

typedef struct hcm_act_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t total_size;
    uint32_t slot_count;
    uint32_t slot_stride;
    uint64_t goal_max;
    uint64_t feedback_max;
    uint64_t result_max;
    uint32_t seg_kind;
    _Atomic uint32_t state;
    hcm_type goal_type;
    uint8_t pad_goal[256 - sizeof(hcm_type)];
    hcm_type feedback_type;
    uint8_t pad_fb[256 - sizeof(hcm_type)];
    hcm_type result_type;
    uint8_t pad_result[256 - sizeof(hcm_type)];
    _Atomic uint64_t server;
    _Atomic uint32_t server_gen;
    _Atomic uint32_t goal_futex;
    _Atomic uint32_t server_waiters;
    _Atomic uint32_t free_futex;
    _Atomic uint32_t free_waiters;
    uint32_t reserved0;
    _Atomic uint64_t next_id;
    int64_t create_time_ns;
    int64_t retention_ns;
    uint8_t pad_end[8];
} hcm_act_header;

typedef struct hcm_act_slot {
    _Atomic uint32_t status;
    _Atomic uint32_t events;
    _Atomic uint64_t client;
    _Atomic uint64_t client_token;
    _Atomic uint64_t id;
    _Atomic uint64_t server;
    _Atomic uint32_t cancel_requested;
    _Atomic uint32_t waiting;
    _Atomic uint64_t goal_len;
    _Atomic uint64_t result_len;
    _Atomic uint64_t fb_seq;
    _Atomic uint64_t fb_len;
    _Atomic int64_t finish_ns;
    _Atomic uint32_t collected;
    _Atomic uint32_t orphaned;
    uint8_t reserved[32];
    /* goal, feedback, result */
} hcm_act_slot;

_Static_assert(offsetof(hcm_act_header, state) == 60, "layout");
_Static_assert(offsetof(hcm_act_header, goal_type) == 64, "layout");
_Static_assert(offsetof(hcm_act_header, feedback_type) == 320, "layout");
_Static_assert(offsetof(hcm_act_header, result_type) == 576, "layout");
_Static_assert(offsetof(hcm_act_header, server) == 832, "layout");
_Static_assert(offsetof(hcm_act_header, goal_futex) == 844, "layout");
_Static_assert(offsetof(hcm_act_header, free_waiters) == 856, "layout");
_Static_assert(offsetof(hcm_act_header, next_id) == 864, "layout");
_Static_assert(offsetof(hcm_act_header, retention_ns) == 880, "layout");
_Static_assert(sizeof(hcm_act_header) == HCM_ACT_HEADER_SIZE, "layout");
_Static_assert(offsetof(hcm_act_slot, events) == 4, "layout");
_Static_assert(offsetof(hcm_act_slot, cancel_requested) == 40, "layout");
_Static_assert(offsetof(hcm_act_slot, fb_seq) == 64, "layout");
_Static_assert(offsetof(hcm_act_slot, finish_ns) == 80, "layout");
_Static_assert(offsetof(hcm_act_slot, collected) == 88, "layout");
_Static_assert(offsetof(hcm_act_slot, orphaned) == 92, "layout");
_Static_assert(sizeof(hcm_act_slot) == HCM_ACT_SLOT_HEADER, "layout");

#endif /* HCM_SEGMENT_LAYOUT_H */
