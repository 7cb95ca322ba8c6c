/* test_pubsub.c - delivery, order, loss, latest(), wait() and joining, with
 * real processes wherever the behaviour crosses processes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static hcm_publisher *open_pub(const char *topic, hcm_type_kind kind, uint32_t slots,
                               uint64_t max_payload)
{
    hcm_publisher_attr a = harness_pub_attr(kind, slots, max_payload);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    CHECK(pub != NULL);
    return pub;
}

static hcm_subscriber *open_sub(const char *topic, int64_t expiry_ns)
{
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    a.expiry_ns = expiry_ns;
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, topic, &a));
    CHECK(sub != NULL);
    return sub;
}

static void publish_i64(hcm_publisher *pub, int64_t v)
{
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
}

static void publish_checked(hcm_publisher *pub, size_t len, uint32_t id, uint64_t counter)
{
    uint8_t buf[4096];
    CHECK(len <= sizeof buf);
    harness_payload_fill(buf, len, id, counter);
    CHECK_OK(hcm_publish(pub, buf, len));
}

/* Takes the next sample (waiting up to 10 s) and checks it is a valid
 * payload of writer `id` with counter `counter` at sequence `seq`. */
static void take_checked(hcm_subscriber *sub, uint32_t id, uint64_t counter, uint64_t seq)
{
    uint8_t buf[4096];
    hcm_sample_info info;
    int rc;
    while ((rc = hcm_subscriber_take(sub, buf, sizeof buf, &info)) == HCM_EAGAIN)
        CHECK_OK(hcm_subscriber_wait(sub, 10000000000ll));
    CHECK_OK(rc);
    CHECK_EQ_U64(info.seq, seq);
    CHECK_EQ_U64(info.lost, 0);
    uint32_t got_id;
    uint64_t got_counter;
    CHECK(harness_payload_check(buf, (size_t)info.len, &got_id, &got_counter));
    CHECK_EQ(got_id, id);
    CHECK_EQ_U64(got_counter, counter);
}

/* ---- delivery across processes ------------------------------------------- */

TEST(samples_published_by_a_child_reach_the_parent)
{
    harness_gate created, subscribed;
    harness_gate_init(&created);
    harness_gate_init(&subscribed);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("chat", HCM_TYPE_BYTES, 8, 256);
        harness_gate_pass(&created, 1);
        harness_gate_wait(&subscribed, 20000);
        for (uint64_t i = 0; i < 5; i++)
            publish_checked(pub, 64 + (size_t)i, 7, i);
        hcm_publisher_close(pub);
        _exit(0);
    }
    harness_gate_wait(&created, 20000);
    hcm_subscriber *sub = open_sub("chat", 0);
    harness_gate_pass(&subscribed, 1);
    for (uint64_t i = 0; i < 5; i++)
        take_checked(sub, 7, i, i);
    CHECK_CHILD_OK(pid);
    uint8_t buf[256];
    CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, NULL), HCM_EAGAIN);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "chat"));
    harness_gate_close(&created);
    harness_gate_close(&subscribed);
}

TEST(samples_published_by_the_parent_reach_a_child)
{
    harness_gate subscribed;
    harness_gate_init(&subscribed);
    hcm_publisher *pub = open_pub("chat", HCM_TYPE_BYTES, 8, 256);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_subscriber *sub = open_sub("chat", 0);
        harness_gate_pass(&subscribed, 1);
        for (uint64_t i = 0; i < 5; i++)
            take_checked(sub, 3, i, i);
        hcm_subscriber_close(sub);
        _exit(0);
    }
    harness_gate_wait(&subscribed, 20000);
    for (uint64_t i = 0; i < 5; i++)
        publish_checked(pub, 100 + (size_t)i, 3, i);
    CHECK_CHILD_OK(pid);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "chat"));
    harness_gate_close(&subscribed);
}

TEST(take_delivers_every_sample_in_order_while_the_reader_keeps_up)
{
    enum { TOTAL = 10000, BATCH = 40, SLOTS = 64 };
    harness_gate created, go, ack;
    harness_gate_init(&created);
    harness_gate_init(&go);
    harness_gate_init(&ack);
    pid_t pid = harness_fork();
    if (pid == 0) {
        /* The publisher never gets more than BATCH < SLOTS ahead of the reader. */
        hcm_publisher *pub = open_pub("order", HCM_TYPE_BYTES, SLOTS, 64);
        harness_gate_pass(&created, 1);
        harness_gate_wait(&go, 20000);
        uint64_t n = 0;
        for (int b = 0; b < TOTAL / BATCH; b++) {
            for (int i = 0; i < BATCH; i++, n++)
                publish_checked(pub, 64, 1, n);
            harness_gate_wait(&ack, 20000);
        }
        hcm_publisher_close(pub);
        _exit(0);
    }
    harness_gate_wait(&created, 20000);
    hcm_subscriber *sub = open_sub("order", 0);
    harness_gate_pass(&go, 1);
    for (uint64_t n = 0; n < TOTAL; n++) {
        take_checked(sub, 1, n, n);
        if ((n + 1) % BATCH == 0)
            harness_gate_pass(&ack, 1);
    }
    CHECK_EQ_U64(hcm_subscriber_lost(sub), 0);
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "order"));
    harness_gate_close(&created);
    harness_gate_close(&go);
    harness_gate_close(&ack);
}

TEST(take_after_overrun_returns_the_newest_samples_and_reports_the_lost_count)
{
    hcm_publisher *pub = open_pub("overrun", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("overrun", 0);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *p2 = open_pub("overrun", HCM_TYPE_INT64, 3, 0);
        for (int64_t v = 0; v < 10; v++)
            publish_i64(p2, 100 + v);
        hcm_publisher_close(p2);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 107);
    CHECK_EQ_U64(info.seq, 7);
    CHECK_EQ_U64(info.lost, 7);
    CHECK_EQ_U64(info.len, 8);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 108);
    CHECK_EQ_U64(info.seq, 8);
    CHECK_EQ_U64(info.lost, 0);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 109);
    CHECK_EQ_U64(info.seq, 9);
    CHECK_EQ_U64(info.lost, 0);
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, &info), HCM_EAGAIN);
    CHECK_EQ_U64(hcm_subscriber_lost(sub), 7);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "overrun"));
}

TEST(take_delivers_only_samples_published_after_the_subscriber_opened)
{
    hcm_publisher *pub = open_pub("late", HCM_TYPE_INT64, 8, 0);
    publish_i64(pub, 1);
    publish_i64(pub, 2);
    hcm_subscriber *sub = open_sub("late", 0);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, &info), HCM_EAGAIN);
    publish_i64(pub, 3);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 3);
    CHECK_EQ_U64(info.seq, 2);
    CHECK_EQ_U64(info.lost, 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "late"));
}

/* ---- latest() -------------------------------------------------------------- */

static void child_publishes_i64(const char *topic, const int64_t *vals, int n)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub(topic, HCM_TYPE_INT64, 3, 0);
        for (int i = 0; i < n; i++)
            publish_i64(pub, vals[i]);
        hcm_publisher_close(pub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(latest_returns_the_newest_sample)
{
    int64_t before = harness_now_ns();
    child_publishes_i64("temp", (const int64_t[]){11, 22, 33}, 3);
    hcm_subscriber *sub = open_sub("temp", 0);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 33);
    CHECK_EQ_U64(info.seq, 2);
    CHECK_EQ_U64(info.len, 8);
    CHECK(info.timestamp_ns >= before);
    CHECK(info.timestamp_ns <= harness_now_ns());
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "temp"));
}

TEST(latest_returns_the_same_sample_again_until_a_newer_one_arrives)
{
    hcm_publisher *pub = open_pub("temp", HCM_TYPE_INT64, 3, 0);
    publish_i64(pub, 5);
    hcm_subscriber *sub = open_sub("temp", 0);
    int64_t v1 = 0, v2 = 0, v3 = 0;
    hcm_sample_info i1, i2, i3;
    CHECK_OK(hcm_subscriber_latest(sub, &v1, sizeof v1, &i1));
    CHECK_OK(hcm_subscriber_latest(sub, &v2, sizeof v2, &i2));
    CHECK_EQ(v1, 5);
    CHECK_EQ(v2, 5);
    CHECK_EQ_U64(i1.seq, i2.seq);
    CHECK_EQ(i1.timestamp_ns, i2.timestamp_ns);
    publish_i64(pub, 6);
    CHECK_OK(hcm_subscriber_latest(sub, &v3, sizeof v3, &i3));
    CHECK_EQ(v3, 6);
    CHECK_EQ_U64(i3.seq, i1.seq + 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "temp"));
}

TEST(latest_reports_stale_once_the_sample_is_older_than_the_expiry)
{
    hcm_publisher *pub = open_pub("temp", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("temp", 50000000ll); /* 50 ms */
    int64_t t0 = harness_now_ns();
    publish_i64(pub, 9);
    int64_t v = 0;
    hcm_sample_info info;
    int rc = hcm_subscriber_latest(sub, &v, sizeof v, &info);
    /* Only meaningful if we got here well within the expiry. */
    if (harness_now_ns() - t0 < 25000000ll)
        CHECK_OK(rc);
    harness_sleep_ms(200);
    v = 0;
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, &info), HCM_ESTALE);
    CHECK_EQ(v, 9); /* copied all the same */
    CHECK_EQ_U64(info.seq, 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "temp"));
}

TEST(latest_with_zero_expiry_never_reports_stale)
{
    hcm_publisher *pub = open_pub("temp", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("temp", 0);
    publish_i64(pub, 9);
    harness_sleep_ms(200);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 9);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "temp"));
}

TEST(latest_and_take_return_eagain_before_anything_is_published)
{
    hcm_publisher *pub = open_pub("empty", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("empty", 0);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, &info), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, &info), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "empty"));
}

TEST(reads_return_eagain_while_the_topic_does_not_exist)
{
    hcm_subscriber *sub = open_sub("nobody/here", 0);
    int64_t v = 0;
    hcm_type t;
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_type(sub, &t), HCM_EAGAIN);
    CHECK_EQ_U64(hcm_subscriber_max_payload(sub), 0);
    hcm_subscriber_close(sub);
}

TEST(subscriber_opened_before_any_publisher_receives_once_one_appears)
{
    hcm_subscriber *sub = open_sub("later", 0);
    int64_t v = 0;
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    child_publishes_i64("later", (const int64_t[]){42}, 1);
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_wait(sub, 10000000000ll));
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 42);
    CHECK_EQ_U64(info.seq, 0);
    hcm_type t;
    CHECK_OK(hcm_subscriber_type(sub, &t));
    hcm_type want = hcm_type_scalar(HCM_TYPE_INT64);
    CHECK(hcm_type_equal(&t, &want));
    CHECK_EQ_U64(hcm_subscriber_max_payload(sub), 8);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "later"));
}

TEST(take_delivers_the_first_sample_of_a_topic_that_appeared_after_open)
{
    hcm_subscriber *sub = open_sub("later", 0);
    int64_t v = 0;
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    child_publishes_i64("later", (const int64_t[]){42, 43}, 2);
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 42);
    CHECK_EQ_U64(info.seq, 0);
    CHECK_EQ_U64(info.lost, 0);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 43);
    CHECK_EQ_U64(info.seq, 1);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "later"));
}

TEST(segment_outlives_its_publisher_so_a_late_subscriber_sees_the_last_value)
{
    child_publishes_i64("keep", (const int64_t[]){1, 2, 3}, 3);
    hcm_subscriber *sub = open_sub("keep", 0);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 3);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "keep"));
}

/* ---- wait() ---------------------------------------------------------------- */

TEST(wait_times_out_when_nothing_is_published)
{
    hcm_publisher *pub = open_pub("quiet", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("quiet", 0);
    CHECK_RC(hcm_subscriber_wait(sub, 50000000ll), HCM_ETIMEDOUT);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "quiet"));
}

TEST(wait_times_out_when_the_topic_does_not_exist)
{
    hcm_subscriber *sub = open_sub("absent", 0);
    CHECK_RC(hcm_subscriber_wait(sub, 50000000ll), HCM_ETIMEDOUT);
    hcm_subscriber_close(sub);
}

static void wait_for_child_publish(int64_t spin_ns, int topic_exists)
{
    harness_gate created, go;
    harness_gate_init(&created);
    harness_gate_init(&go);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = NULL;
        if (topic_exists) {
            pub = open_pub("wake", HCM_TYPE_INT64, 3, 0);
            harness_gate_pass(&created, 1);
        }
        harness_gate_wait(&go, 20000);
        harness_sleep_ms(50); /* let the parent go to sleep in wait() */
        if (!topic_exists)
            pub = open_pub("wake", HCM_TYPE_INT64, 3, 0);
        publish_i64(pub, 77);
        hcm_publisher_close(pub);
        _exit(0);
    }
    if (topic_exists)
        harness_gate_wait(&created, 20000);
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    a.spin_ns = spin_ns;
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "wake", &a));
    harness_gate_pass(&go, 1);
    int rc;
    while ((rc = hcm_subscriber_wait(sub, 20000000000ll)) == HCM_EINTR) {
    }
    CHECK_OK(rc);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 77);
    CHECK_EQ_U64(info.seq, 0);
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "wake"));
    harness_gate_close(&created);
    harness_gate_close(&go);
}

TEST(wait_returns_ok_when_a_child_publishes_later)
{
    wait_for_child_publish(HCM_DEFAULT_SPIN_NS, 1);
}

TEST(wait_without_spinning_returns_ok_when_a_child_publishes_later)
{
    wait_for_child_publish(0, 1);
}

TEST(wait_in_polling_mode_returns_ok_when_a_child_publishes_later)
{
    wait_for_child_publish(-1, 1);
}

TEST(wait_returns_ok_when_the_topic_appears_and_is_published_later)
{
    wait_for_child_publish(HCM_DEFAULT_SPIN_NS, 0);
}

TEST(wait_zero_polls)
{
    hcm_publisher *pub = open_pub("poll", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("poll", 0);
    CHECK_RC(hcm_subscriber_wait(sub, 0), HCM_ETIMEDOUT);
    publish_i64(pub, 1);
    CHECK_OK(hcm_subscriber_wait(sub, 0));
    CHECK_OK(hcm_subscriber_wait(sub, 0)); /* waiting does not consume */
    int64_t v;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, NULL));
    CHECK_RC(hcm_subscriber_wait(sub, 0), HCM_ETIMEDOUT);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "poll"));
}

TEST(wait_after_latest_waits_for_a_newer_sample)
{
    hcm_publisher *pub = open_pub("poll", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("poll", 0);
    publish_i64(pub, 1);
    publish_i64(pub, 2);
    int64_t v;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 2);
    /* latest() marked everything up to this sample as read. */
    CHECK_RC(hcm_subscriber_wait(sub, 0), HCM_ETIMEDOUT);
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    publish_i64(pub, 3);
    CHECK_OK(hcm_subscriber_wait(sub, 0));
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "poll"));
}

/* ---- joining ------------------------------------------------------------- */

TEST(publisher_joining_a_live_segment_keeps_its_samples)
{
    harness_gate published, done;
    harness_gate_init(&published);
    harness_gate_init(&done);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("shared", HCM_TYPE_INT64, 4, 0);
        publish_i64(pub, 42);
        harness_gate_pass(&published, 1);
        harness_gate_wait(&done, 20000); /* stays attached meanwhile */
        hcm_publisher_close(pub);
        _exit(0);
    }
    harness_gate_wait(&published, 20000);
    hcm_publisher *pub = open_pub("shared", HCM_TYPE_INT64, 4, 0);
    hcm_subscriber *sub = open_sub("shared", 0);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 42);
    CHECK_EQ_U64(info.seq, 0);
    publish_i64(pub, 43);
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 43);
    CHECK_EQ_U64(info.seq, 1);
    harness_gate_pass(&done, 1);
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "shared"));
    harness_gate_close(&published);
    harness_gate_close(&done);
}

TEST(publisher_joining_a_segment_of_a_closed_publisher_keeps_its_samples)
{
    child_publishes_i64("shared", (const int64_t[]){42}, 1);
    hcm_publisher *pub = open_pub("shared", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("shared", 0);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 42);
    CHECK_EQ_U64(info.seq, 0);
    publish_i64(pub, 43);
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 43);
    CHECK_EQ_U64(info.seq, 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "shared"));
}

TEST(joining_publisher_keeps_the_geometry_the_segment_was_created_with)
{
    hcm_publisher *first = open_pub("geo", HCM_TYPE_BYTES, 5, 100);
    hcm_publisher *second = open_pub("geo", HCM_TYPE_BYTES, 9, 50);
    CHECK_EQ(hcm_publisher_slots(first), 5);
    CHECK_EQ_U64(hcm_publisher_max_payload(first), 100);
    CHECK_EQ(hcm_publisher_slots(second), 5);
    CHECK_EQ_U64(hcm_publisher_max_payload(second), 100);
    /* The joiner may publish up to the segment's limit... */
    uint8_t buf[101] = {0};
    CHECK_OK(hcm_publish(second, buf, 100));
    CHECK_RC(hcm_publish(second, buf, 101), HCM_EMSGSIZE);
    hcm_publisher_close(second);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "geo"));
}

TEST(two_publishers_in_two_processes_share_one_sequence)
{
    harness_gate created;
    harness_gate_init(&created);
    hcm_publisher *pub = open_pub("two", HCM_TYPE_INT64, 16, 0);
    hcm_subscriber *sub = open_sub("two", 0);
    publish_i64(pub, 1);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *p2 = open_pub("two", HCM_TYPE_INT64, 16, 0);
        publish_i64(p2, 2);
        hcm_publisher_close(p2);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    publish_i64(pub, 3);
    for (int64_t i = 0; i < 3; i++) {
        int64_t v = 0;
        hcm_sample_info info;
        CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
        CHECK_EQ(v, i + 1);
        CHECK_EQ_U64(info.seq, (uint64_t)i);
    }
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "two"));
    harness_gate_close(&created);
}

TEST(wait_forever_returns_when_a_child_publishes)
{
    harness_gate go;
    harness_gate_init(&go);
    hcm_publisher *pub = open_pub("forever", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = open_sub("forever", 0);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *p2 = open_pub("forever", HCM_TYPE_INT64, 3, 0);
        harness_gate_wait(&go, 20000);
        harness_sleep_ms(50);
        publish_i64(p2, 5);
        hcm_publisher_close(p2);
        _exit(0);
    }
    harness_gate_pass(&go, 1);
    int rc;
    while ((rc = hcm_subscriber_wait(sub, -1)) == HCM_EINTR) {
    }
    CHECK_OK(rc);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 5);
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "forever"));
    harness_gate_close(&go);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

/* A child keeps signalling the parent (so one signal surely lands inside
 * wait()) until it is killed. */
static void wait_is_interrupted(int topic_exists)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    hcm_publisher *pub = topic_exists ? open_pub("intr", HCM_TYPE_INT64, 3, 0) : NULL;
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    a.spin_ns = 0;
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "intr", &a));
    pid_t parent = getpid();
    pid_t pid = harness_fork();
    if (pid == 0) {
        for (;;) {
            kill(parent, SIGUSR1);
            harness_sleep_ms(20);
        }
    }
    int rc = hcm_subscriber_wait(sub, 5000000000ll);
    harness_kill_child(pid);
    CHECK_RC(rc, HCM_EINTR);
    CHECK(got_usr1);
    signal(SIGUSR1, SIG_DFL);
    hcm_subscriber_close(sub);
    if (pub != NULL) {
        hcm_publisher_close(pub);
        CHECK_OK(hcm_topic_unlink(NULL, "intr"));
    }
}

TEST(wait_returns_eintr_when_a_signal_arrives)
{
    wait_is_interrupted(1);
}

TEST(wait_for_a_missing_topic_returns_eintr_when_a_signal_arrives)
{
    wait_is_interrupted(0);
}
