/* test_zerocopy.c - loan/commit/discard on the publisher side, view/release
 * on the subscriber side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static hcm_publisher *open_pub(const char *topic, uint32_t slots, uint64_t max_payload)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, slots, max_payload);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    return pub;
}

static hcm_subscriber *open_sub(const char *topic)
{
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, topic, NULL));
    return sub;
}

static void publish_checked(hcm_publisher *pub, size_t len, uint32_t id, uint64_t counter)
{
    uint8_t buf[4096];
    harness_payload_fill(buf, len, id, counter);
    CHECK_OK(hcm_publish(pub, buf, len));
}

TEST(loaned_slot_filled_in_place_and_committed_is_received_intact)
{
    harness_gate subscribed;
    harness_gate_init(&subscribed);
    hcm_publisher *pub = open_pub("zc", 4, 4096);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_subscriber *sub = open_sub("zc");
        harness_gate_pass(&subscribed, 1);
        static uint8_t buf[4096];
        hcm_sample_info info;
        for (uint64_t i = 0; i < 3; i++) {
            int rc;
            while ((rc = hcm_subscriber_take(sub, buf, sizeof buf, &info)) == HCM_EAGAIN)
                CHECK_OK(hcm_subscriber_wait(sub, 10000000000ll));
            CHECK_OK(rc);
            CHECK_EQ_U64(info.seq, i);
            CHECK_EQ_U64(info.len, 1000 + i);
            uint64_t counter;
            CHECK(harness_payload_check(buf, (size_t)info.len, NULL, &counter));
            CHECK_EQ_U64(counter, i);
        }
        hcm_subscriber_close(sub);
        _exit(0);
    }
    harness_gate_wait(&subscribed, 20000);
    for (uint64_t i = 0; i < 3; i++) {
        void *buf = NULL;
        CHECK_OK(hcm_publisher_loan(pub, 1000 + (size_t)i, &buf));
        CHECK(buf != NULL);
        CHECK_EQ((uintptr_t)buf % 32, 0);
        harness_payload_fill(buf, 1000 + (size_t)i, 5, i);
        CHECK_OK(hcm_publisher_commit(pub, buf));
    }
    CHECK_CHILD_OK(pid);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
    harness_gate_close(&subscribed);
}

TEST(discarded_loan_publishes_nothing)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    hcm_subscriber *sub = open_sub("zc");
    publish_checked(pub, 64, 1, 1);
    void *buf = NULL;
    CHECK_OK(hcm_publisher_loan(pub, 64, &buf));
    harness_payload_fill(buf, 64, 1, 2);
    CHECK_OK(hcm_publisher_discard(pub, buf));
    uint8_t got[256];
    hcm_sample_info info;
    uint64_t counter = 0;
    CHECK_OK(hcm_subscriber_latest(sub, got, sizeof got, &info));
    CHECK(harness_payload_check(got, (size_t)info.len, NULL, &counter));
    CHECK_EQ_U64(counter, 1);
    CHECK_EQ_U64(info.seq, 0);
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, "zc", &ti));
    CHECK_EQ_U64(ti.publish_count, 1);
    hcm_subscriber_close(sub);

    /* a fresh in-order reader sees sample 1, then nothing of the discard */
    sub = open_sub("zc");
    CHECK_OK(hcm_publisher_loan(pub, 64, &buf));
    CHECK_OK(hcm_publisher_discard(pub, buf));
    CHECK_RC(hcm_subscriber_take(sub, got, sizeof got, &info), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_wait(sub, 0), HCM_ETIMEDOUT);
    publish_checked(pub, 64, 1, 3);
    CHECK_OK(hcm_subscriber_take(sub, got, sizeof got, &info));
    CHECK(harness_payload_check(got, (size_t)info.len, NULL, &counter));
    CHECK_EQ_U64(counter, 3);
    CHECK_RC(hcm_subscriber_take(sub, got, sizeof got, &info), HCM_EAGAIN);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(commit_or_discard_without_a_loan_is_einval)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    uint8_t mine[64];
    CHECK_RC(hcm_publisher_commit(pub, mine), HCM_EINVAL);
    CHECK_RC(hcm_publisher_commit(pub, NULL), HCM_EINVAL);
    CHECK_RC(hcm_publisher_discard(pub, mine), HCM_EINVAL);
    CHECK_RC(hcm_publisher_discard(pub, NULL), HCM_EINVAL);
    CHECK_RC(hcm_publisher_commit(NULL, mine), HCM_EINVAL);
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, "zc", &ti));
    CHECK_EQ_U64(ti.publish_count, 0);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(commit_of_a_pointer_that_is_not_the_loan_is_einval_and_keeps_the_loan)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    hcm_subscriber *sub = open_sub("zc");
    void *buf = NULL;
    CHECK_OK(hcm_publisher_loan(pub, 64, &buf));
    harness_payload_fill(buf, 64, 2, 9);
    CHECK_RC(hcm_publisher_commit(pub, (uint8_t *)buf + 1), HCM_EINVAL);
    CHECK_OK(hcm_publisher_commit(pub, buf));
    CHECK_RC(hcm_publisher_commit(pub, buf), HCM_EINVAL); /* consumed */
    uint8_t got[256];
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, got, sizeof got, &info));
    CHECK_EQ_U64(info.len, 64);
    CHECK(harness_payload_check(got, 64, NULL, NULL));
    CHECK_RC(hcm_subscriber_take(sub, got, sizeof got, &info), HCM_EAGAIN);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(publish_or_loan_while_a_loan_is_outstanding_is_ebusy)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    void *buf = NULL, *buf2 = NULL;
    CHECK_OK(hcm_publisher_loan(pub, 64, &buf));
    uint8_t data[64] = {0};
    CHECK_RC(hcm_publish(pub, data, sizeof data), HCM_EBUSY);
    CHECK_RC(hcm_publisher_loan(pub, 64, &buf2), HCM_EBUSY);
    CHECK_OK(hcm_publisher_discard(pub, buf));
    CHECK_OK(hcm_publish(pub, data, sizeof data));
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(close_with_an_outstanding_loan_discards_it_and_frees_the_lock)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    hcm_subscriber *sub = open_sub("zc");
    void *buf = NULL;
    CHECK_OK(hcm_publisher_loan(pub, 64, &buf));
    hcm_publisher_close(pub);
    /* another publisher can take the write lock right away */
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 4, 256);
    a.lock_timeout_ns = 100000000ll; /* 100 ms: EBUSY if the lock were still held */
    CHECK_OK(hcm_publisher_open(&pub, "zc", &a));
    publish_checked(pub, 64, 3, 1);
    uint8_t got[256];
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, got, sizeof got, &info));
    uint64_t counter = 0;
    CHECK(harness_payload_check(got, (size_t)info.len, NULL, &counter));
    CHECK_EQ_U64(counter, 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(loan_in_one_handle_makes_another_publisher_wait_then_ebusy)
{
    hcm_publisher *first = open_pub("zc", 4, 256);
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 4, 256);
    a.lock_timeout_ns = 20000000ll; /* 20 ms */
    hcm_publisher *second = NULL;
    CHECK_OK(hcm_publisher_open(&second, "zc", &a));
    void *buf = NULL;
    CHECK_OK(hcm_publisher_loan(first, 64, &buf));
    uint8_t data[64] = {0};
    CHECK_RC(hcm_publish(second, data, sizeof data), HCM_EBUSY);
    CHECK_OK(hcm_publisher_commit(first, buf));
    CHECK_OK(hcm_publish(second, data, sizeof data));
    hcm_publisher_close(second);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(view_then_release_is_ok_when_nothing_overwrote_the_sample)
{
    hcm_publisher *pub = open_pub("zc", 4, 512);
    hcm_subscriber *sub = open_sub("zc");
    publish_checked(pub, 200, 4, 0);
    const void *data = NULL;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    CHECK(data != NULL);
    CHECK_EQ_U64(info.len, 200);
    CHECK_EQ_U64(info.seq, 0);
    CHECK_EQ_U64(info.lost, 0);
    CHECK(harness_payload_check(data, 200, NULL, NULL));
    CHECK_OK(hcm_subscriber_release(sub));
    CHECK_RC(hcm_subscriber_view(sub, &data, &info), HCM_EAGAIN);
    publish_checked(pub, 100, 4, 1);
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    CHECK_EQ_U64(info.seq, 1);
    uint64_t counter = 0;
    CHECK(harness_payload_check(data, 100, NULL, &counter));
    CHECK_EQ_U64(counter, 1);
    CHECK_OK(hcm_subscriber_release(sub));
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(release_reports_overrun_when_a_publisher_laps_the_ring_during_the_view)
{
    hcm_publisher *pub = open_pub("zc", 2, 256);
    hcm_subscriber *sub = open_sub("zc");
    publish_checked(pub, 64, 4, 0);
    const void *data = NULL;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    CHECK_EQ_U64(info.seq, 0);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *p2 = open_pub("zc", 2, 256);
        for (uint64_t i = 1; i <= 2; i++)
            publish_checked(p2, 64, 5, i);
        hcm_publisher_close(p2);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_RC(hcm_subscriber_release(sub), HCM_EOVERRUN);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(release_is_ok_when_other_slots_were_written_during_the_view)
{
    hcm_publisher *pub = open_pub("zc", 4, 256);
    hcm_subscriber *sub = open_sub("zc");
    publish_checked(pub, 64, 4, 0);
    const void *data = NULL;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    publish_checked(pub, 64, 4, 1); /* slots 1..3 only */
    publish_checked(pub, 64, 4, 2);
    publish_checked(pub, 64, 4, 3);
    CHECK(harness_payload_check(data, 64, NULL, NULL));
    CHECK_OK(hcm_subscriber_release(sub));
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "zc"));
}

TEST(view_of_a_fixed_type_points_at_the_value)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_FLOAT64, 3, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "f", &a));
    hcm_subscriber *sub = open_sub("f");
    double d = 3.25;
    CHECK_OK(hcm_publish(pub, &d, sizeof d));
    const void *data = NULL;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    CHECK_EQ_U64(info.len, 8);
    double got;
    memcpy(&got, data, sizeof got);
    CHECK(got == 3.25);
    CHECK_OK(hcm_subscriber_release(sub));
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "f"));
}

TEST(pinned_view_stays_readable_after_unlink_reattach_and_close)
{
    hcm_publisher *pub = open_pub("pinned", 3, 256);
    hcm_subscriber *sub = open_sub("pinned");
    const void *data = NULL;
    hcm_sample_info info;
    hcm_pin *pin = NULL;
    uint32_t id = 0;
    uint64_t counter = 0;

    publish_checked(pub, 256, 7, 1);
    CHECK_OK(hcm_subscriber_view(sub, &data, &info));
    CHECK_OK(hcm_subscriber_pin(sub, &pin));
    CHECK(pin != NULL);
    CHECK_OK(hcm_subscriber_release(sub));
    /* The topic goes away and comes back: the subscriber detaches from the
     * old segment (drained) and attaches to the new one... */
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "pinned"));
    pub = open_pub("pinned", 3, 256);
    publish_checked(pub, 256, 8, 1);
    uint8_t buf[256];
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK(harness_payload_check(buf, 256, &id, &counter));
    CHECK_EQ(id, 8);
    /* ...and is closed; the pinned old mapping is still readable. */
    hcm_subscriber_close(sub);
    CHECK(harness_payload_check(data, 256, &id, &counter));
    CHECK_EQ(id, 7);
    hcm_pin_release(pin);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "pinned"));
}
