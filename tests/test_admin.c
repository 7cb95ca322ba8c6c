/* test_admin.c - unlink, stat, list and reclaim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "segment/layout.h"

static hcm_publisher *open_pub(const char *topic, hcm_type_kind kind, uint32_t slots,
                               uint64_t max_payload)
{
    hcm_publisher_attr a = harness_pub_attr(kind, slots, max_payload);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    return pub;
}

static void publish_i64(hcm_publisher *pub, int64_t v)
{
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
}

static size_t shm_count(void)
{
    char paths[64][512];
    return harness_shm_entries(paths, 64);
}

/* A child publishes `n` int64 samples to `topic` and exits, closing its
 * publisher first or not. */
static void child_publishes_and_exits(const char *topic, int n, int close_first)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub(topic, HCM_TYPE_INT64, 3, 0);
        for (int i = 0; i < n; i++)
            publish_i64(pub, i);
        if (close_first)
            hcm_publisher_close(pub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* ---- unlink -------------------------------------------------------------- */

TEST(unlink_removes_the_segment)
{
    hcm_publisher *pub = open_pub("gone", HCM_TYPE_INT64, 3, 0);
    publish_i64(pub, 1);
    hcm_publisher_close(pub);
    CHECK_EQ(shm_count(), 1);
    CHECK_OK(hcm_topic_unlink(NULL, "gone"));
    CHECK_EQ(shm_count(), 0);
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(NULL, "gone", &info), HCM_ENOENT);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "gone", NULL));
    int64_t v;
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    hcm_subscriber_close(sub);
}

TEST(unlink_of_a_missing_topic_is_enoent)
{
    CHECK_RC(hcm_topic_unlink(NULL, "never"), HCM_ENOENT);
    CHECK_RC(hcm_topic_unlink(harness_domain(), "never/ever"), HCM_ENOENT);
}

TEST(attached_subscriber_reattaches_to_a_new_segment_of_the_same_name)
{
    hcm_publisher *pub = open_pub("phoenix", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "phoenix", NULL));
    publish_i64(pub, 1);
    int64_t v = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "phoenix"));
    CHECK_EQ(shm_count(), 0);

    /* a new segment of the same name, from another process, other geometry */
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *p2 = open_pub("phoenix", HCM_TYPE_INT64, 5, 0);
        CHECK_EQ(hcm_publisher_slots(p2), 5); /* new, not the old one */
        publish_i64(p2, 2);
        publish_i64(p2, 3);
        hcm_publisher_close(p2);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    int rc;
    while ((rc = hcm_subscriber_wait(sub, 10000000000ll)) == HCM_EINTR) {
    }
    CHECK_OK(rc);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 2);
    CHECK_EQ_U64(info.seq, 0);
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 3);
    CHECK_EQ_U64(info.seq, 1);
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
    CHECK_EQ(v, 3);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "phoenix"));
}

TEST(attached_subscriber_reattaches_for_latest_after_unlink)
{
    hcm_publisher *pub = open_pub("phoenix", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "phoenix", NULL));
    publish_i64(pub, 1);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "phoenix"));
    pub = open_pub("phoenix", HCM_TYPE_INT64, 3, 0);
    publish_i64(pub, 7);
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 7);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "phoenix"));
}

TEST(subscriber_of_an_unlinked_topic_reads_eagain_until_it_reappears)
{
    hcm_publisher *pub = open_pub("gone", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "gone", NULL));
    publish_i64(pub, 1);
    hcm_publisher_close(pub);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_OK(hcm_topic_unlink(NULL, "gone"));
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_EAGAIN);
    CHECK_RC(hcm_subscriber_wait(sub, 10000000ll), HCM_ETIMEDOUT);
    hcm_subscriber_close(sub);
}

/* ---- stat / list --------------------------------------------------------- */

TEST(stat_of_a_missing_topic_is_enoent)
{
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(NULL, "missing", &info), HCM_ENOENT);
}

TEST(list_of_an_empty_domain_is_empty)
{
    hcm_topic_info *infos = (hcm_topic_info *)1;
    size_t n = 99;
    CHECK_OK(hcm_topic_list(NULL, &infos, &n));
    CHECK_EQ(n, 0);
    CHECK(infos == NULL);
}

TEST(list_shows_each_topic_with_its_facts)
{
    int64_t t0 = harness_now_ns();
    int64_t rt0 = harness_realtime_ns();
    hcm_publisher *b1 = open_pub("beta", HCM_TYPE_INT64, 5, 0);
    hcm_publisher *b2 = open_pub("beta", HCM_TYPE_INT64, 5, 0);
    hcm_publisher *a1 = open_pub("alpha/x", HCM_TYPE_BYTES, 3, 100);
    publish_i64(b1, 1);
    publish_i64(b2, 2);
    publish_i64(b1, 3);
    CHECK_OK(hcm_publish(a1, "hello", 5));
    int64_t t1 = harness_now_ns();
    int64_t rt1 = harness_realtime_ns();

    hcm_topic_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_topic_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    const hcm_topic_info *a = &infos[0], *b = &infos[1];
    CHECK(strcmp(a->name, "alpha/x") == 0);
    CHECK(strcmp(b->name, "beta") == 0);
    for (size_t i = 0; i < n; i++) {
        const hcm_topic_info *t = &infos[i];
        CHECK_RC(t->error, HCM_OK);
        CHECK(strcmp(t->domain, harness_domain()) == 0);
        CHECK(t->owners >= 1);
        CHECK_EQ(t->owners_alive, t->owners);
        CHECK(t->last_publish_ns >= t0 && t->last_publish_ns <= t1);
        CHECK(t->create_time_ns >= rt0 - 1000000000ll && t->create_time_ns <= rt1 + 1000000000ll);
        CHECK_EQ_U64(t->lock_steals, 0);
        CHECK_EQ(t->mode, 0600);
        CHECK_EQ(t->uid, geteuid());
    }
    hcm_type bytes = hcm_type_scalar(HCM_TYPE_BYTES), i64 = hcm_type_scalar(HCM_TYPE_INT64);
    CHECK(hcm_type_equal(&a->type, &bytes));
    CHECK_EQ(a->slots, 3);
    CHECK_EQ_U64(a->max_payload, 100);
    CHECK_EQ(a->publishers, 1);
    CHECK_EQ_U64(a->publish_count, 1);
    CHECK(a->size >= 768 + 3 * (32 + 100));
    CHECK(hcm_type_equal(&b->type, &i64));
    CHECK_EQ(b->slots, 5);
    CHECK_EQ_U64(b->max_payload, 8);
    CHECK_EQ(b->publishers, 2);
    CHECK_EQ_U64(b->publish_count, 3);
    CHECK(b->size >= 768 + 5 * (32 + 8));

    /* stat agrees with list */
    hcm_topic_info s;
    CHECK_OK(hcm_topic_stat(NULL, "beta", &s));
    CHECK(strcmp(s.name, "beta") == 0);
    CHECK_EQ(s.publishers, 2);
    CHECK_EQ_U64(s.publish_count, 3);
    CHECK_EQ(s.last_publish_ns, b->last_publish_ns);
    CHECK_EQ_U64(s.size, b->size);
    hcm_topic_list_free(infos);

    /* a closed handle no longer counts */
    hcm_publisher_close(b2);
    CHECK_OK(hcm_topic_stat(NULL, "beta", &s));
    CHECK_EQ(s.publishers, 1);

    /* the file really is that size */
    char path[512];
    harness_segment_path("beta", path, sizeof path);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U64((uint64_t)st.st_size, s.size);

    hcm_publisher_close(b1);
    hcm_publisher_close(a1);
    CHECK_OK(hcm_topic_unlink(NULL, "beta"));
    CHECK_OK(hcm_topic_unlink(NULL, "alpha/x"));
}

TEST(list_of_another_domain_does_not_show_our_topics)
{
    hcm_publisher *pub = open_pub("mine", HCM_TYPE_INT64, 3, 0);
    char other[48];
    snprintf(other, sizeof other, "%sx", harness_domain());
    hcm_topic_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_topic_list(other, &infos, &n));
    CHECK_EQ(n, 0);
    hcm_topic_list_free(infos);
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(other, "mine", &info), HCM_ENOENT);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "mine"));
}

TEST(publisher_process_that_exited_without_close_leaves_no_live_owner)
{
    harness_gate published, finish;
    harness_gate_init(&published);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("orphan", HCM_TYPE_INT64, 3, 0);
        publish_i64(pub, 1);
        harness_gate_pass(&published, 1);
        harness_gate_wait(&finish, 20000);
        _exit(0); /* no close */
    }
    harness_gate_wait(&published, 20000);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "orphan", &info));
    CHECK_EQ(info.publishers, 1);
    CHECK_EQ(info.owners, 1);
    CHECK_EQ(info.owners_alive, 1);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    CHECK_OK(hcm_topic_stat(NULL, "orphan", &info));
    CHECK_EQ(info.publishers, 0);
    CHECK_EQ(info.owners, 1);
    CHECK_EQ(info.owners_alive, 0);
    CHECK_EQ_U64(info.publish_count, 1);
    CHECK_OK(hcm_topic_unlink(NULL, "orphan"));
    harness_gate_close(&published);
    harness_gate_close(&finish);
}

TEST(publisher_process_killed_while_open_leaves_no_live_owner)
{
    harness_gate published;
    harness_gate_init(&published);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("orphan", HCM_TYPE_INT64, 3, 0);
        publish_i64(pub, 1);
        harness_gate_pass(&published, 1);
        for (;;)
            pause();
    }
    harness_gate_wait(&published, 20000);
    harness_kill_child(pid);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "orphan", &info));
    CHECK_EQ(info.publishers, 0);
    CHECK_EQ(info.owners_alive, 0);
    CHECK_OK(hcm_topic_unlink(NULL, "orphan"));
    harness_gate_close(&published);
}

/* ---- reclaim ------------------------------------------------------------- */

TEST(reclaim_removes_exactly_the_segments_whose_owners_are_all_dead)
{
    child_publishes_and_exits("dead/unclosed", 2, 0);
    child_publishes_and_exits("dead/closed", 2, 1);
    hcm_publisher *live = open_pub("live", HCM_TYPE_INT64, 3, 0);
    publish_i64(live, 1);
    /* mixed: a dead owner and a live one */
    child_publishes_and_exits("mixed", 1, 0);
    hcm_publisher *mixed = open_pub("mixed", HCM_TYPE_INT64, 3, 0);
    CHECK_EQ(shm_count(), 4);

    size_t count = 99;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 2);
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(NULL, "dead/unclosed", &info), HCM_ENOENT);
    CHECK_RC(hcm_topic_stat(NULL, "dead/closed", &info), HCM_ENOENT);
    CHECK_OK(hcm_topic_stat(NULL, "live", &info));
    CHECK_OK(hcm_topic_stat(NULL, "mixed", &info));
    CHECK_EQ(shm_count(), 2);

    /* again: nothing more to do */
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK_OK(hcm_topic_reclaim(NULL, NULL));
    CHECK_EQ(shm_count(), 2);

    hcm_publisher_close(live);
    hcm_publisher_close(mixed);
    CHECK_OK(hcm_topic_unlink(NULL, "live"));
    CHECK_OK(hcm_topic_unlink(NULL, "mixed"));
}

TEST(reclaim_never_removes_a_segment_with_a_live_publisher_in_another_process)
{
    harness_gate ready, finish;
    harness_gate_init(&ready);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("held", HCM_TYPE_INT64, 3, 0);
        publish_i64(pub, 1);
        harness_gate_pass(&ready, 1);
        harness_gate_wait(&finish, 20000);
        publish_i64(pub, 2); /* still works: the segment was not removed */
        _exit(0);
    }
    harness_gate_wait(&ready, 20000);
    size_t count = 99;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK_EQ(shm_count(), 1);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "held", &info));
    CHECK_EQ_U64(info.publish_count, 2);
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
    harness_gate_close(&ready);
    harness_gate_close(&finish);
}

TEST(reclaimed_topic_can_be_created_again)
{
    child_publishes_and_exits("again", 1, 0);
    size_t count = 0;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "again", NULL));
    hcm_publisher *pub = open_pub("again", HCM_TYPE_INT64, 3, 0);
    publish_i64(pub, 5);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 5);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "again"));
}

TEST(reclaim_spares_a_topic_whose_publishers_died_while_a_subscriber_lives)
{
    child_publishes_and_exits("watched", 1, 0);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "watched", NULL));
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "watched", &info));
    CHECK_EQ(info.subscribers, 1);
    CHECK_EQ(info.stale, 0);
    size_t count = 9;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK_EQ(shm_count(), 1);
    hcm_subscriber_close(sub); /* its line is freed: now nobody lives there */
    CHECK_OK(hcm_topic_stat(NULL, "watched", &info));
    CHECK_EQ(info.subscribers, 0);
    CHECK_EQ(info.stale, 1);
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
}

TEST(a_killed_subscriber_does_not_keep_a_topic_from_reclaim)
{
    child_publishes_and_exits("deadsub", 1, 0);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_subscriber *sub = NULL;
        CHECK_OK(hcm_subscriber_open(&sub, "deadsub", NULL));
        _exit(0); /* no close: its line stays, naming a dead process */
    }
    CHECK_CHILD_OK(pid);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "deadsub", &info));
    CHECK_EQ(info.subscribers, 0);
    CHECK_EQ(info.stale, 1);
    size_t count = 0;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
}

TEST(more_than_sixteen_publisher_handles_is_ebusy)
{
    hcm_publisher *pubs[HCM_MAX_PUBLISHERS + 1];
    for (int i = 0; i < HCM_MAX_PUBLISHERS; i++)
        pubs[i] = open_pub("crowd", HCM_TYPE_INT64, 3, 0);
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
    pubs[HCM_MAX_PUBLISHERS] = NULL;
    CHECK_RC(hcm_publisher_open(&pubs[HCM_MAX_PUBLISHERS], "crowd", &a), HCM_EBUSY);
    hcm_publisher_close(pubs[0]);
    CHECK_OK(hcm_publisher_open(&pubs[0], "crowd", &a)); /* a freed entry is reused */
    for (int i = 0; i < HCM_MAX_PUBLISHERS; i++)
        hcm_publisher_close(pubs[i]);
    CHECK_OK(hcm_topic_unlink(NULL, "crowd"));
}

TEST(owner_entries_of_dead_publishers_are_reused)
{
    for (int i = 0; i < HCM_MAX_PUBLISHERS + 4; i++)
        child_publishes_and_exits("churn", 1, 0);
    hcm_publisher *pub = open_pub("churn", HCM_TYPE_INT64, 3, 0);
    publish_i64(pub, 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "churn", &info));
    CHECK_EQ_U64(info.publish_count, HCM_MAX_PUBLISHERS + 5);
    CHECK_EQ(info.publishers, 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "churn"));
}

TEST(typed_subscriber_gets_etype_when_the_topic_is_recreated_with_another_type)
{
    hcm_publisher *pub = open_pub("morph", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber_attr sa = harness_sub_attr(HCM_TYPE_INT64);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "morph", &sa));
    publish_i64(pub, 1);
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, NULL));
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "morph"));
    pub = open_pub("morph", HCM_TYPE_FLOAT64, 3, 0);
    double d = 1.5;
    CHECK_OK(hcm_publish(pub, &d, sizeof d));
    CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_ETYPE);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "morph"));
}

/* The unlinker stores RETIRED, then removes the name: in between, a
 * subscriber that drained the old segment must not attach to it again (it
 * would deliver its samples a second time, counting the rest as lost). The
 * window is made permanent here by retiring without unlinking. */
TEST(a_subscriber_does_not_reattach_to_a_retired_segment_whose_name_is_not_gone_yet)
{
    hcm_publisher *pub = open_pub("halfway", HCM_TYPE_INT64, 3, 0);
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "halfway", NULL));
    for (int64_t v = 1; v <= 3; v++)
        publish_i64(pub, v);
    int64_t got = 0;
    for (int64_t v = 1; v <= 3; v++) {
        CHECK_OK(hcm_subscriber_take(sub, &got, sizeof got, NULL));
        CHECK_EQ(got, v);
    }
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/hcm.%s.t.halfway", harness_domain());
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    hcm_seg_header *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(h != MAP_FAILED);
    close(fd);
    atomic_store(&h->state, HCM_SEG_STATE_RETIRED); /* retired, name still there */
    for (int i = 0; i < 100; i++) {
        hcm_sample_info info;
        CHECK_RC(hcm_subscriber_take(sub, &got, sizeof got, &info), HCM_EAGAIN);
        usleep(100); /* past the re-attach backoff now and then */
    }
    CHECK_EQ(hcm_subscriber_lost(sub), 0);
    munmap(h, sizeof *h);
    CHECK_OK(unlink(path) == 0 ? HCM_OK : HCM_ESYS);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
}
