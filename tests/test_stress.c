/* test_stress.c - many processes on one topic: several publishers, readers
 * that check every byte, publishers killed with SIGKILL mid-write. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_WRITERS 64

static hcm_publisher *open_pub(const char *topic, uint32_t slots, uint64_t max_payload)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, slots, max_payload);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    return pub;
}

/* What an in-order reader checks about each sample it takes. */
typedef struct reader_state {
    int64_t prev_seq;                 /* -1 before the first sample */
    uint64_t received, lost;
    int64_t last_counter[MAX_WRITERS + 1]; /* per writer id, -1 = none yet */
} reader_state;

static void reader_init(reader_state *r)
{
    r->prev_seq = -1;
    r->received = 0;
    r->lost = 0;
    for (size_t i = 0; i <= MAX_WRITERS; i++)
        r->last_counter[i] = -1;
}

/* Checks one taken sample; returns its writer id. */
static uint32_t reader_check(reader_state *r, const uint8_t *buf, const hcm_sample_info *info,
                             size_t want_len)
{
    uint32_t id = 0;
    uint64_t counter = 0;
    if (info->len != want_len)
        FAIL("sample seq %llu has len %llu, want %zu", (unsigned long long)info->seq,
             (unsigned long long)info->len, want_len);
    if (!harness_payload_check(buf, want_len, &id, &counter))
        FAIL("torn or garbage sample at seq %llu", (unsigned long long)info->seq);
    if (id > MAX_WRITERS)
        FAIL("writer id %u out of range", id);
    if ((int64_t)info->seq <= r->prev_seq)
        FAIL("seq went from %lld to %llu (duplicate or reorder)", (long long)r->prev_seq,
             (unsigned long long)info->seq);
    if ((int64_t)info->seq != r->prev_seq + 1 + (int64_t)info->lost)
        FAIL("seq %llu after %lld with lost %llu: gap not accounted", (unsigned long long)info->seq,
             (long long)r->prev_seq, (unsigned long long)info->lost);
    if ((int64_t)counter <= r->last_counter[id])
        FAIL("writer %u: counter %llu after %lld (duplicate or reorder)", id,
             (unsigned long long)counter, (long long)r->last_counter[id]);
    r->last_counter[id] = (int64_t)counter;
    r->prev_seq = (int64_t)info->seq;
    r->received++;
    r->lost += info->lost;
    return id;
}

/* Takes the next sample, waiting; fails after deadline_ns (monotonic). */
static void take_next(hcm_subscriber *sub, uint8_t *buf, size_t cap, hcm_sample_info *info,
                      int64_t deadline_ns)
{
    for (;;) {
        int rc = hcm_subscriber_take(sub, buf, cap, info);
        if (rc == HCM_OK)
            return;
        if (rc != HCM_EAGAIN)
            CHECK_OK(rc);
        if (harness_now_ns() > deadline_ns)
            FAIL("no sample before the deadline");
        rc = hcm_subscriber_wait(sub, 200000000ll);
        if (rc != HCM_OK && rc != HCM_ETIMEDOUT && rc != HCM_EINTR)
            CHECK_OK(rc);
    }
}

/* ---- 4 publishers x 100 000, 2 subscribers ------------------------------- */

TEST(four_publisher_processes_and_two_subscriber_processes_see_no_torn_or_duplicate_sample)
{
    enum { WRITERS = 4, READERS = 2, PER_WRITER = 100000, LEN = 64 };
    const uint64_t total = (uint64_t)WRITERS * PER_WRITER;
    hcm_publisher *creator = open_pub("storm", 64, LEN);
    hcm_publisher_close(creator);

    harness_gate ready, go;
    harness_gate_init(&ready);
    harness_gate_init(&go);
    pid_t readers[READERS], writers[WRITERS];
    for (int r = 0; r < READERS; r++) {
        readers[r] = harness_fork();
        if (readers[r] == 0) {
            hcm_subscriber_attr a;
            hcm_subscriber_attr_init(&a);
            a.spin_ns = r == 0 ? HCM_DEFAULT_SPIN_NS : 0;
            hcm_subscriber *sub = NULL;
            CHECK_OK(hcm_subscriber_open(&sub, "storm", &a));
            harness_gate_pass(&ready, 1);
            reader_state st;
            reader_init(&st);
            uint8_t buf[LEN];
            hcm_sample_info info;
            int64_t deadline = harness_now_ns() + 45000000000ll;
            while (st.prev_seq != (int64_t)total - 1) {
                take_next(sub, buf, sizeof buf, &info, deadline);
                reader_check(&st, buf, &info, LEN);
            }
            CHECK_EQ_U64(st.received + st.lost, total);
            CHECK_EQ_U64(hcm_subscriber_lost(sub), st.lost);
            harness_log("reader %d: received %llu, lost %llu", r,
                        (unsigned long long)st.received, (unsigned long long)st.lost);
            hcm_subscriber_close(sub);
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        writers[w] = harness_fork();
        if (writers[w] == 0) {
            hcm_publisher *pub = open_pub("storm", 64, LEN);
            harness_gate_wait(&go, 30000);
            uint8_t buf[LEN];
            for (uint64_t c = 0; c < PER_WRITER; c++) {
                harness_payload_fill(buf, LEN, (uint32_t)w, c);
                CHECK_OK(hcm_publish(pub, buf, LEN));
            }
            hcm_publisher_close(pub);
            _exit(0);
        }
    }
    for (int r = 0; r < READERS; r++)
        harness_gate_wait(&ready, 20000);
    for (int w = 0; w < WRITERS; w++)
        harness_gate_pass(&go, 1);
    for (int w = 0; w < WRITERS; w++)
        harness_check_child(__FILE__, __LINE__, writers[w], 50000);
    for (int r = 0; r < READERS; r++)
        harness_check_child(__FILE__, __LINE__, readers[r], 50000);
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, "storm", &ti));
    CHECK_EQ_U64(ti.publish_count, total);
    CHECK_EQ(ti.publishers, 0);
    CHECK_EQ_U64(ti.lock_steals, 0);
    CHECK_OK(hcm_topic_unlink(NULL, "storm"));
    harness_gate_close(&ready);
    harness_gate_close(&go);
}

/* ---- kill -9 ------------------------------------------------------------- */

#define KILL_LEN 1024
#define SENTINEL_ID MAX_WRITERS

/* Publishes forever, alternating publish() and loan/fill/commit (the fill
 * then happens under the write lock, so kills land inside the write). */
static void publish_forever(uint32_t id)
{
    hcm_publisher *pub = open_pub("victim", 16, KILL_LEN);
    uint8_t buf[KILL_LEN];
    for (uint64_t c = 0;; c++) {
        int rc;
        if (c % 2 == 0) {
            harness_payload_fill(buf, KILL_LEN, id, c);
            rc = hcm_publish(pub, buf, KILL_LEN);
        } else {
            void *slot = NULL;
            rc = hcm_publisher_loan(pub, KILL_LEN, &slot);
            if (rc == HCM_OK) {
                harness_payload_fill(slot, KILL_LEN, id, c);
                rc = hcm_publisher_commit(pub, slot);
            }
        }
        if (rc != HCM_OK) {
            harness_log("publisher %u: %s: %s", id, harness_errname(rc), hcm_errmsg());
            _exit(2);
        }
    }
}

TEST(publishers_killed_mid_write_never_block_others_nor_tear_samples)
{
    enum { KILLS = 20, READERS = 2 };
    /* created by a process that then exits: at the end no owner may be alive */
    pid_t creator = harness_fork();
    if (creator == 0) {
        hcm_publisher_close(open_pub("victim", 16, KILL_LEN));
        _exit(0);
    }
    CHECK_CHILD_OK(creator);

    harness_gate ready;
    harness_gate_init(&ready);
    pid_t readers[READERS];
    for (int r = 0; r < READERS; r++) {
        readers[r] = harness_fork();
        if (readers[r] == 0) {
            hcm_subscriber *sub = NULL;
            CHECK_OK(hcm_subscriber_open(&sub, "victim", NULL));
            harness_gate_pass(&ready, 1);
            reader_state st;
            reader_init(&st);
            static uint8_t buf[KILL_LEN];
            hcm_sample_info info;
            int64_t deadline = harness_now_ns() + 45000000000ll;
            for (;;) {
                take_next(sub, buf, sizeof buf, &info, deadline);
                if (reader_check(&st, buf, &info, KILL_LEN) == SENTINEL_ID)
                    break;
            }
            harness_log("reader %d: received %llu, lost %llu, last seq %lld", r,
                        (unsigned long long)st.received, (unsigned long long)st.lost,
                        (long long)st.prev_seq);
            CHECK_EQ_U64(st.received + st.lost, (uint64_t)st.prev_seq + 1);
            hcm_subscriber_close(sub);
            _exit(0);
        }
    }
    for (int r = 0; r < READERS; r++)
        harness_gate_wait(&ready, 20000);

    uint64_t count = 0;
    for (uint32_t k = 0; k < KILLS; k++) {
        pid_t pid = harness_fork();
        if (pid == 0)
            publish_forever(k);
        /* let it publish a while: a pseudo-random number of samples */
        uint64_t target = count + 100 + harness_mix64(k) % 4000;
        int64_t deadline = harness_now_ns() + 20000000000ll;
        for (;;) {
            hcm_topic_info ti;
            CHECK_OK(hcm_topic_stat(NULL, "victim", &ti));
            count = ti.publish_count;
            if (count >= target)
                break;
            int code = harness_try_wait_child(pid);
            if (code >= 0)
                FAIL("publisher %u exited with %d before it was killed", k, code);
            if (harness_now_ns() > deadline)
                FAIL("publisher %u is stuck: publish_count %llu, want %llu (blocked?)", k,
                     (unsigned long long)count, (unsigned long long)target);
            usleep(200);
        }
        kill(pid, SIGKILL);
        int code = harness_wait_child(pid, 10000);
        if (code != 128 + SIGKILL)
            FAIL("publisher %u ended with %d, not by SIGKILL", k, code);
    }

    /* a last, clean publisher: it must get the lock and finish */
    pid_t last = harness_fork();
    if (last == 0) {
        hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 16, KILL_LEN);
        hcm_publisher *pub = NULL;
        CHECK_OK(hcm_publisher_open(&pub, "victim", &a));
        uint8_t buf[KILL_LEN];
        for (uint64_t c = 0; c < 100; c++) {
            harness_payload_fill(buf, KILL_LEN, KILLS, c);
            CHECK_OK(hcm_publish(pub, buf, KILL_LEN));
        }
        harness_payload_fill(buf, KILL_LEN, SENTINEL_ID, 0);
        CHECK_OK(hcm_publish(pub, buf, KILL_LEN));
        hcm_publisher_close(pub);
        _exit(0);
    }
    CHECK_CHILD_OK(last);
    for (int r = 0; r < READERS; r++)
        harness_check_child(__FILE__, __LINE__, readers[r], 45000);

    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, "victim", &ti));
    harness_log("after %d kills: publish_count %llu, lock_steals %llu, owners %u alive %u", KILLS,
                (unsigned long long)ti.publish_count, (unsigned long long)ti.lock_steals,
                ti.owners, ti.owners_alive);
    CHECK_EQ(ti.publishers, 0);
    CHECK_EQ(ti.owners_alive, 0);
    CHECK(ti.lock_steals <= KILLS);
    CHECK_OK(hcm_topic_unlink(NULL, "victim"));
    harness_gate_close(&ready);
}

/* ---- torn reads under a fast publisher ------------------------------------ */

enum read_mode { READ_LATEST, READ_TAKE, READ_VIEW };

#define BIG 65536
#define FAST_SAMPLES 20000

/* A child publishes FAST_SAMPLES samples of random length (up to 64 KiB) into
 * a ring of 2 slots as fast as it can; the parent reads until it has the
 * last one, checking every byte of everything it is handed. */
static void read_against_fast_publisher(enum read_mode mode)
{
    static uint8_t buf[BIG];
    hcm_publisher *creator = open_pub("fast", 2, BIG);
    hcm_publisher_close(creator);
    hcm_subscriber_attr sa;
    hcm_subscriber_attr_init(&sa);
    sa.expiry_ns = 0;
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "fast", &sa));

    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("fast", 2, BIG);
        for (uint64_t c = 0; c < FAST_SAMPLES; c++) {
            size_t len = HARNESS_PAYLOAD_MIN +
                         (size_t)(harness_mix64(c) % (BIG - HARNESS_PAYLOAD_MIN + 1));
            harness_payload_fill(buf, len, 1, c);
            CHECK_OK(hcm_publish(pub, buf, len));
        }
        hcm_publisher_close(pub);
        _exit(0);
    }

    uint64_t ok = 0, overruns = 0, reads = 0;
    int64_t prev_seq = -1;
    int64_t deadline = harness_now_ns() + 45000000000ll;
    while (prev_seq != FAST_SAMPLES - 1) {
        if (harness_now_ns() > deadline)
            FAIL("the last sample did not arrive; last seq %lld", (long long)prev_seq);
        hcm_sample_info info;
        int rc;
        reads++;
        if (mode == READ_VIEW) {
            const void *data = NULL;
            rc = hcm_subscriber_view(sub, &data, &info);
            if (rc == HCM_OK) {
                CHECK(info.len <= BIG);
                memcpy(buf, data, (size_t)info.len);
                int rel = hcm_subscriber_release(sub);
                if (rel == HCM_EOVERRUN) {
                    overruns++;
                    prev_seq = (int64_t)info.seq; /* consumed, but unusable */
                    continue;
                }
                CHECK_OK(rel);
            }
        } else if (mode == READ_TAKE) {
            rc = hcm_subscriber_take(sub, buf, sizeof buf, &info);
        } else {
            rc = hcm_subscriber_latest(sub, buf, sizeof buf, &info);
        }
        if (rc == HCM_EAGAIN) {
            /* ahead of the publisher: sleep instead of starving it of a core */
            rc = hcm_subscriber_wait(sub, 100000000ll);
            if (rc != HCM_OK && rc != HCM_ETIMEDOUT)
                CHECK_OK(rc);
            continue;
        }
        CHECK_OK(rc);
        if (!harness_payload_check(buf, (size_t)info.len, NULL, NULL))
            FAIL("torn sample: seq %llu len %llu (mode %d)", (unsigned long long)info.seq,
                 (unsigned long long)info.len, (int)mode);
        uint64_t counter = 0;
        harness_payload_check(buf, (size_t)info.len, NULL, &counter);
        CHECK_EQ_U64(counter, info.seq); /* one publisher: counter == seq */
        if (mode == READ_LATEST)
            CHECK((int64_t)info.seq >= prev_seq);
        else
            CHECK((int64_t)info.seq > prev_seq);
        prev_seq = (int64_t)info.seq;
        ok++;
    }
    CHECK_CHILD_OK(pid);
    harness_log("mode %d: %llu reads, %llu intact, %llu overruns, lost %llu", (int)mode,
                (unsigned long long)reads, (unsigned long long)ok, (unsigned long long)overruns,
                (unsigned long long)hcm_subscriber_lost(sub));
    CHECK(ok >= 1);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "fast"));
}

TEST(latest_never_returns_a_torn_sample_while_a_process_publishes_fast)
{
    read_against_fast_publisher(READ_LATEST);
}

TEST(take_never_returns_a_torn_sample_while_a_process_publishes_fast)
{
    read_against_fast_publisher(READ_TAKE);
}

TEST(view_released_ok_is_never_torn_while_a_process_publishes_fast)
{
    read_against_fast_publisher(READ_VIEW);
}
