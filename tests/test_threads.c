/* test_threads.c - the ring and its seqlock driven from several threads of
 * one process (each thread with its own handle), so that ThreadSanitizer
 * sees every access. Iteration counts stay moderate: TSan is ~10x slower. */
/* ctest-labels: tsan */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LEN 64
#define SLOTS 64
#define WINDOW 32 /* flow control: a writer stays at most this far ahead */
#define MAX_THREADS 4

typedef struct shared {
    const char *topic;
    uint64_t per_writer;
    uint64_t total;
    int writers, readers;
    int flow_control;          /* writers wait for the slowest reader */
    int use_latest;            /* readers use latest() instead of take() */
    atomic_uint_fast64_t published;
    atomic_uint_fast64_t taken[MAX_THREADS];
    atomic_int writers_done;
    atomic_int readers_ready;
} shared;

typedef struct thread_arg {
    shared *sh;
    int index;
    hcm_subscriber *sub; /* readers: opened by the main thread before any publish */
} thread_arg;

static uint64_t slowest_reader(shared *sh)
{
    uint64_t min = UINT64_MAX;
    for (int r = 0; r < sh->readers; r++) {
        uint64_t t = atomic_load(&sh->taken[r]);
        if (t < min)
            min = t;
    }
    return min;
}

static void *writer_main(void *p)
{
    thread_arg *a = p;
    shared *sh = a->sh;
    hcm_publisher_attr attr = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, LEN);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, sh->topic, &attr));
    uint8_t buf[LEN];
    for (uint64_t c = 0; c < sh->per_writer; c++) {
        if (sh->flow_control) {
            /* With W writers each passing this check at most once before the
             * count moves, the ring never holds more than WINDOW + W unread
             * samples (< SLOTS): nothing may be lost. */
            int64_t deadline = harness_now_ns() + 30000000000ll;
            while (atomic_load(&sh->published) - slowest_reader(sh) >= WINDOW) {
                if (harness_now_ns() > deadline)
                    FAIL("writer %d: readers stopped taking", a->index);
                sched_yield();
            }
        }
        harness_payload_fill(buf, LEN, (uint32_t)a->index, c);
        CHECK_OK(hcm_publish(pub, buf, LEN));
        atomic_fetch_add(&sh->published, 1);
    }
    hcm_publisher_close(pub);
    atomic_fetch_add(&sh->writers_done, 1);
    return NULL;
}

static void *reader_main(void *p)
{
    thread_arg *a = p;
    shared *sh = a->sh;
    hcm_subscriber *sub = a->sub;
    uint8_t buf[LEN];
    hcm_sample_info info;
    int64_t prev_seq = -1;
    int64_t last_counter[MAX_THREADS];
    uint64_t lost = 0, received = 0;
    for (int i = 0; i < MAX_THREADS; i++)
        last_counter[i] = -1;
    int64_t deadline = harness_now_ns() + 50000000000ll;
    while (prev_seq != (int64_t)sh->total - 1) {
        int rc = sh->use_latest ? hcm_subscriber_latest(sub, buf, sizeof buf, &info)
                                : hcm_subscriber_take(sub, buf, sizeof buf, &info);
        if (rc == HCM_EAGAIN || (sh->use_latest && rc == HCM_OK && (int64_t)info.seq == prev_seq)) {
            if (harness_now_ns() > deadline)
                FAIL("reader %d: stuck after seq %lld", a->index, (long long)prev_seq);
            if (!sh->use_latest) {
                rc = hcm_subscriber_wait(sub, 100000000ll);
                if (rc != HCM_OK && rc != HCM_ETIMEDOUT)
                    CHECK_OK(rc);
            } else {
                sched_yield();
            }
            continue;
        }
        CHECK_OK(rc);
        uint32_t id = 0;
        uint64_t counter = 0;
        CHECK_EQ_U64(info.len, LEN);
        if (!harness_payload_check(buf, LEN, &id, &counter))
            FAIL("reader %d: torn sample at seq %llu", a->index, (unsigned long long)info.seq);
        CHECK(id < MAX_THREADS);
        if ((int64_t)info.seq <= prev_seq)
            FAIL("reader %d: seq %llu after %lld", a->index, (unsigned long long)info.seq,
                 (long long)prev_seq);
        if (!sh->use_latest) {
            if ((int64_t)info.seq != prev_seq + 1 + (int64_t)info.lost)
                FAIL("reader %d: seq %llu after %lld with lost %llu", a->index,
                     (unsigned long long)info.seq, (long long)prev_seq,
                     (unsigned long long)info.lost);
            if (sh->flow_control && info.lost != 0)
                FAIL("reader %d: lost %llu samples before seq %llu while keeping up", a->index,
                     (unsigned long long)info.lost, (unsigned long long)info.seq);
        }
        if ((int64_t)counter <= last_counter[id])
            FAIL("reader %d: writer %u counter %llu after %lld", a->index, id,
                 (unsigned long long)counter, (long long)last_counter[id]);
        last_counter[id] = (int64_t)counter;
        prev_seq = (int64_t)info.seq;
        lost += info.lost;
        received++;
        atomic_store(&sh->taken[a->index], received + lost);
    }
    if (!sh->use_latest) {
        CHECK_EQ_U64(received + lost, sh->total);
        CHECK_EQ_U64(hcm_subscriber_lost(sub), lost);
    }
    return NULL;
}

static void run(const char *topic, int writers, int readers, uint64_t per_writer,
                int flow_control, int use_latest)
{
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.topic = topic;
    sh.writers = writers;
    sh.readers = readers;
    sh.per_writer = per_writer;
    sh.total = per_writer * (uint64_t)writers;
    sh.flow_control = flow_control;
    sh.use_latest = use_latest;
    atomic_init(&sh.published, 0);
    atomic_init(&sh.writers_done, 0);
    for (int i = 0; i < MAX_THREADS; i++)
        atomic_init(&sh.taken[i], 0);

    /* create the topic and the readers' handles before any publish */
    hcm_publisher_attr attr = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, LEN);
    hcm_publisher *creator = NULL;
    CHECK_OK(hcm_publisher_open(&creator, topic, &attr));
    thread_arg args[2 * MAX_THREADS];
    pthread_t th[2 * MAX_THREADS];
    int n = 0;
    for (int r = 0; r < readers; r++, n++) {
        args[n].sh = &sh;
        args[n].index = r;
        args[n].sub = NULL;
        hcm_subscriber_attr sa;
        hcm_subscriber_attr_init(&sa);
        sa.expiry_ns = 0;
        CHECK_OK(hcm_subscriber_open(&args[n].sub, topic, &sa));
    }
    for (int w = 0; w < writers; w++, n++) {
        args[n].sh = &sh;
        args[n].index = w;
        args[n].sub = NULL;
    }
    for (int i = 0; i < n; i++)
        CHECK(pthread_create(&th[i], NULL, i < readers ? reader_main : writer_main, &args[i]) == 0);
    for (int i = 0; i < n; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    for (int r = 0; r < readers; r++)
        hcm_subscriber_close(args[r].sub);
    hcm_publisher_close(creator);
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, topic, &ti));
    CHECK_EQ_U64(ti.publish_count, sh.total);
    CHECK_OK(hcm_topic_unlink(NULL, topic));
}

TEST(one_writer_thread_and_two_reader_threads_take_every_sample_in_order)
{
    run("t1w2r", 1, 2, 20000, 1, 0);
}

TEST(two_writer_threads_and_one_reader_thread_take_every_sample_in_order)
{
    run("t2w1r", 2, 1, 10000, 1, 0);
}

TEST(reader_threads_falling_behind_count_every_lost_sample)
{
    run("tlossy", 1, 2, 20000, 0, 0);
}

TEST(two_writer_threads_racing_a_reader_thread_never_tear_a_sample)
{
    run("t2wlossy", 2, 1, 10000, 0, 0);
}

TEST(latest_from_reader_threads_is_never_torn_and_never_goes_back)
{
    run("tlatest", 1, 2, 20000, 0, 1);
}
