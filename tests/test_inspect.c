/* test_inspect.c - hcm/inspect.h: peers of topics, services and actions; the
 * subscriber statistics of hcm_topic_info (subscribers, max_lag, lost,
 * stale); service and action stat, list and reclaim; the domain list; and
 * how all of them treat a segment file that is not a valid segment.
 *
 * Processes that must be dead (a server killed or exited without close, a
 * publisher that exited) are forked children, reaped before the check, so a
 * zombie never stands in for a live process. Children that must stay alive
 * while the parent looks wait on a gate. Nothing here measures time.
 *
 * Corrupt files are written by hand into /dev/shm under the segment name of
 * the kind (hcm.<domain>.t|s|a.<name>) and removed with unlink(2) at the end
 * of the test: reclaim must leave them alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "segment/layout.h"

#define SEC 1000000000ll
#define GATE_MS 20000u

/* ---- helpers --------------------------------------------------------------- */

static size_t shm_count(void)
{
    char paths[64][512];
    return harness_shm_entries(paths, 64);
}

/* /dev/shm path of segment `name` of `kind` ('t', 's', 'a') in the test
 * domain (a '/' of the name is a ':' in the file name). */
static void seg_path(char kind, const char *name, char *path, size_t cap)
{
    int n = snprintf(path, cap, "/dev/shm/hcm.%s.%c.%s", harness_domain(), kind, name);
    CHECK(n > 0 && (size_t)n < cap);
    for (char *p = path + (size_t)n - strlen(name); *p != '\0'; p++)
        if (*p == '/')
            *p = ':';
}

static int seg_exists(char kind, const char *name)
{
    char path[512];
    struct stat st;
    seg_path(kind, name, path, sizeof path);
    return stat(path, &st) == 0;
}

#define GARBAGE_SIZE 4096u

/* Writes GARBAGE_SIZE bytes of noise (no valid magic) as segment `name` of
 * `kind`, mode 0600. */
static void write_garbage(char kind, const char *name)
{
    char path[512];
    unsigned char buf[GARBAGE_SIZE];
    seg_path(kind, name, path, sizeof path);
    for (size_t i = 0; i < sizeof buf; i += 8) {
        uint64_t w = harness_mix64(0xbad5e9u + i);
        memcpy(buf + i, &w, 8);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        FAIL("open %s: %s", path, strerror(errno));
    if (fchmod(fd, 0600) != 0)
        FAIL("fchmod %s: %s", path, strerror(errno));
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
        FAIL("write %s: %s", path, strerror(errno));
    close(fd);
}

static void remove_seg_file(char kind, const char *name)
{
    char path[512];
    seg_path(kind, name, path, sizeof path);
    if (unlink(path) != 0)
        FAIL("unlink %s: %s", path, strerror(errno));
}

/* ---- topic helpers ---- */

static hcm_publisher *open_pub(const char *topic, uint32_t slots)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, slots, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    return pub;
}

static hcm_subscriber *open_sub(const char *topic)
{
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, topic, NULL));
    CHECK(sub != NULL);
    return sub;
}

static void publish_i64(hcm_publisher *pub, int64_t v)
{
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
}

/* Takes one sample and checks its value and sequence number. */
static void take_expect(hcm_subscriber *sub, int64_t want, uint64_t want_seq)
{
    int64_t v = -1;
    hcm_sample_info si;
    CHECK_OK(hcm_subscriber_take(sub, &v, sizeof v, &si));
    CHECK_EQ(v, want);
    CHECK_EQ_U64(si.seq, want_seq);
}

#define MAX_PEERS 40

/* hcm_peers into a fixed array; returns the count (which must fit). */
static size_t peers_of(hcm_kind kind, const char *name, hcm_peer_info *peers)
{
    size_t n = 999;
    CHECK_OK(hcm_peers(kind, NULL, name, peers, MAX_PEERS, &n));
    CHECK(n <= MAX_PEERS);
    return n;
}

static size_t count_role(const hcm_peer_info *peers, size_t n, uint32_t role)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += peers[i].role == role;
    return c;
}

/* ---- service helpers ---- */

static hcm_server *open_server(const char *name, uint32_t queue)
{
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.queue_size = queue;
    a.request_max = 64;
    a.response_max = 64;
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, name, &a));
    CHECK(srv != NULL);
    return srv;
}

static hcm_client *open_client(const char *name)
{
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, name, NULL));
    CHECK(cli != NULL);
    return cli;
}

/* hcm_handler_fn: answers with the request, every byte + 1. */
static int plus_one_handler(void *ctx, const void *req, size_t req_len, void *resp,
                            size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    (void)ctx;
    (void)errbuf;
    if (req_len > resp_cap)
        return HCM_EMSGSIZE;
    for (size_t i = 0; i < req_len; i++)
        ((uint8_t *)resp)[i] = (uint8_t)(((const uint8_t *)req)[i] + 1);
    *resp_lenp = req_len;
    return HCM_OK;
}

static void call_plus_one(hcm_client *cli, uint8_t x)
{
    uint8_t req[4] = {x, x, x, x}, resp[8] = {0};
    size_t len = 0;
    CHECK_OK(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC));
    CHECK_EQ(len, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(resp[i], (uint8_t)(x + 1));
}

static hcm_call send_byte(hcm_client *cli, uint8_t x)
{
    hcm_call call;
    CHECK_OK(hcm_client_send(cli, &x, 1, &call, 5 * SEC));
    return call;
}

/* Takes one request and echoes it back. */
static void serve_echo(hcm_server *srv)
{
    uint8_t buf[64];
    size_t len = 0;
    hcm_call call;
    CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &call, 10 * SEC));
    CHECK_OK(hcm_server_reply(srv, call, buf, len));
}

static void receive_byte(hcm_client *cli, hcm_call call, uint8_t want)
{
    uint8_t resp[64];
    size_t len = 0;
    CHECK_OK(hcm_client_receive(cli, call, resp, sizeof resp, &len, 10 * SEC));
    CHECK_EQ(len, 1);
    CHECK_EQ(resp[0], want);
}

/* A child opens the server of `name` and sits until killed. Returns once
 * the server is open. */
static pid_t fork_sitting_server(const char *name)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_server *srv = open_server(name, 4);
        (void)srv;
        harness_gate_pass(&ready, 1);
        for (;;)
            pause();
    }
    harness_gate_wait(&ready, GATE_MS);
    harness_gate_close(&ready);
    return pid;
}

/* ---- action helpers ---- */

static hcm_action_server *open_action_server(const char *name, uint32_t slots)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.slots = slots;
    a.goal_max = a.feedback_max = a.result_max = 64;
    hcm_action_server *srv = NULL;
    CHECK_OK(hcm_action_server_open(&srv, name, &a));
    CHECK(srv != NULL);
    return srv;
}

static hcm_action_client *open_action_client(const char *name)
{
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, name, NULL));
    CHECK(cli != NULL);
    return cli;
}

static hcm_goal send_goal(hcm_action_client *cli, uint8_t x)
{
    hcm_goal g;
    CHECK_OK(hcm_action_client_send(cli, &x, 1, &g, 5 * SEC));
    return g;
}

/* A child opens the action server of `name`, passes `ready`, and _exits
 * without closing it. */
static void child_opens_action_server_and_exits(const char *name)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_server *srv = open_action_server(name, 4);
        (void)srv;
        _exit(0); /* no close */
    }
    CHECK_CHILD_OK(pid);
}

/* =========================================================================== */
/* ---- topic peers ----------------------------------------------------------- */

TEST(topic_peers_list_the_publisher_then_each_subscriber)
{
    hcm_publisher *pub = open_pub("peers", 8);
    hcm_subscriber *s1 = open_sub("peers");
    hcm_subscriber *s2 = open_sub("peers");
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_TOPIC, "peers", p);
    CHECK_EQ(n, 3);
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[0].pid, getpid());
    CHECK_EQ(p[0].alive, 1);
    CHECK_EQ(p[0].open, 1);
    for (size_t i = 1; i < 3; i++) {
        CHECK_EQ(p[i].role, HCM_PEER_SUBSCRIBER);
        CHECK_EQ(p[i].pid, getpid());
        CHECK_EQ(p[i].alive, 1);
        CHECK_EQ(p[i].open, 1);
        CHECK_EQ_U64(p[i].next_seq, 0);
        CHECK_EQ_U64(p[i].lost, 0);
    }
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "peers", &info));
    CHECK_EQ(info.subscribers, 2);
    CHECK_EQ(info.stale, 0);
    hcm_subscriber_close(s1);
    hcm_subscriber_close(s2);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "peers"));
}

TEST(topic_peers_show_how_far_each_subscriber_has_taken)
{
    hcm_publisher *pub = open_pub("progress", 8);
    hcm_subscriber *s1 = open_sub("progress");
    hcm_subscriber *s2 = open_sub("progress");
    for (int64_t i = 0; i < 5; i++)
        publish_i64(pub, 100 + i);
    for (uint64_t i = 0; i < 3; i++) {
        take_expect(s1, 100 + (int64_t)i, i);
        take_expect(s2, 100 + (int64_t)i, i);
    }
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_TOPIC, "progress", p);
    CHECK_EQ(n, 3);
    CHECK_EQ(count_role(p, n, HCM_PEER_SUBSCRIBER), 2);
    for (size_t i = 1; i < n; i++) {
        CHECK_EQ(p[i].role, HCM_PEER_SUBSCRIBER);
        CHECK_EQ_U64(p[i].next_seq, 3);
        CHECK_EQ_U64(p[i].lost, 0);
    }
    /* one more take moves only that subscriber's line */
    take_expect(s1, 103, 3);
    n = peers_of(HCM_KIND_TOPIC, "progress", p);
    CHECK_EQ(n, 3);
    uint64_t a = p[1].next_seq, b = p[2].next_seq;
    CHECK((a == 4 && b == 3) || (a == 3 && b == 4));
    hcm_subscriber_close(s1);
    hcm_subscriber_close(s2);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "progress"));
}

TEST(a_subscriber_behind_a_two_slot_ring_reports_its_losses)
{
    hcm_publisher *pub = open_pub("small", 2);
    hcm_subscriber *slow = open_sub("small");
    hcm_subscriber *fast = open_sub("small");
    for (int64_t i = 0; i < 5; i++) {
        publish_i64(pub, i);
        take_expect(fast, i, (uint64_t)i); /* keeps up: loses nothing */
    }
    int64_t v = -1;
    hcm_sample_info si;
    CHECK_OK(hcm_subscriber_take(slow, &v, sizeof v, &si));
    CHECK_EQ(v, 3); /* 0, 1, 2 were overwritten */
    CHECK_EQ_U64(si.lost, 3);
    CHECK_EQ_U64(hcm_subscriber_lost(slow), 3);

    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_TOPIC, "small", p);
    CHECK_EQ(n, 3);
    int seen_slow = 0, seen_fast = 0;
    for (size_t i = 1; i < n; i++) {
        CHECK_EQ(p[i].role, HCM_PEER_SUBSCRIBER);
        if (p[i].lost > 0) {
            CHECK_EQ_U64(p[i].lost, 3);
            CHECK_EQ_U64(p[i].next_seq, 4);
            seen_slow++;
        } else {
            CHECK_EQ_U64(p[i].next_seq, 5);
            seen_fast++;
        }
    }
    CHECK_EQ(seen_slow, 1);
    CHECK_EQ(seen_fast, 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "small", &info));
    CHECK_EQ(info.subscribers, 2);
    CHECK_EQ_U64(info.lost, 3);
    hcm_subscriber_close(slow);
    hcm_subscriber_close(fast);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "small"));
}

TEST(topic_max_lag_is_the_lag_of_the_subscriber_furthest_behind)
{
    hcm_publisher *pub = open_pub("lag", 16);
    hcm_subscriber *ahead = open_sub("lag");
    hcm_subscriber *behind = open_sub("lag");
    for (int64_t i = 0; i < 7; i++)
        publish_i64(pub, i);
    for (uint64_t i = 0; i < 6; i++)
        take_expect(ahead, (int64_t)i, i);
    take_expect(behind, 0, 0);
    take_expect(behind, 1, 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "lag", &info));
    CHECK_EQ_U64(info.publish_count, 7);
    CHECK_EQ(info.subscribers, 2);
    CHECK_EQ_U64(info.max_lag, 5); /* 7 published, `behind` took 2 */
    CHECK_EQ_U64(info.lost, 0);
    for (uint64_t i = 2; i < 7; i++)
        take_expect(behind, (int64_t)i, i);
    CHECK_OK(hcm_topic_stat(NULL, "lag", &info));
    CHECK_EQ_U64(info.max_lag, 1); /* now `ahead` is the furthest behind */
    take_expect(ahead, 6, 6);
    CHECK_OK(hcm_topic_stat(NULL, "lag", &info));
    CHECK_EQ_U64(info.max_lag, 0);
    hcm_subscriber_close(ahead);
    hcm_subscriber_close(behind);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "lag"));
}

TEST(a_closed_subscriber_disappears_from_the_topic_peers)
{
    hcm_publisher *pub = open_pub("leave", 4);
    hcm_subscriber *stay = open_sub("leave");
    hcm_subscriber *go = open_sub("leave");
    publish_i64(pub, 1);
    take_expect(stay, 1, 0); /* the stayer's line is told apart by next_seq 1 */
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "leave", p), 3);
    hcm_subscriber_close(go);
    size_t n = peers_of(HCM_KIND_TOPIC, "leave", p);
    CHECK_EQ(n, 2);
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ_U64(p[1].next_seq, 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "leave", &info));
    CHECK_EQ(info.subscribers, 1);
    hcm_subscriber_close(stay);
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "leave", p), 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "leave"));
}

TEST(a_publisher_whose_process_exited_shows_as_not_alive_in_the_peers)
{
    harness_gate published, finish;
    harness_gate_init(&published);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("exited", 4);
        publish_i64(pub, 1);
        harness_gate_pass(&published, 1);
        harness_gate_wait(&finish, GATE_MS);
        _exit(0); /* no close */
    }
    harness_gate_wait(&published, GATE_MS);
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "exited", p), 1);
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[0].pid, pid);
    CHECK_EQ(p[0].alive, 1);
    CHECK_EQ(p[0].open, 1);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "exited", p), 1);
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[0].pid, pid);
    CHECK_EQ(p[0].alive, 0);
    CHECK_OK(hcm_topic_unlink(NULL, "exited"));
    harness_gate_close(&published);
    harness_gate_close(&finish);
}

TEST(a_publisher_closed_before_its_process_exited_shows_as_closed_and_not_alive)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("closed", 4);
        publish_i64(pub, 1);
        hcm_publisher_close(pub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "closed", p), 1); /* the entry is kept after close */
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[0].pid, pid);
    CHECK_EQ(p[0].alive, 0);
    CHECK_EQ(p[0].open, 0);
    CHECK_OK(hcm_topic_unlink(NULL, "closed"));
}

TEST(a_subscriber_in_another_process_shows_with_its_pid)
{
    hcm_publisher *pub = open_pub("remote", 4);
    harness_gate ready, finish;
    harness_gate_init(&ready);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_subscriber *sub = open_sub("remote");
        harness_gate_pass(&ready, 1);
        harness_gate_wait(&finish, GATE_MS);
        hcm_subscriber_close(sub);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "remote", p), 2);
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ(p[1].pid, pid);
    CHECK_EQ(p[1].alive, 1);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "remote", p), 1); /* closed: its line is free */
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "remote"));
    harness_gate_close(&ready);
    harness_gate_close(&finish);
}

TEST(a_subscriber_opened_before_its_topic_exists_registers_when_it_attaches)
{
    hcm_subscriber *sub = open_sub("later");
    hcm_peer_info p[MAX_PEERS];
    size_t n = 7;
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "later", p, MAX_PEERS, &n), HCM_ENOENT);
    CHECK_EQ(n, 0);
    hcm_publisher *pub = open_pub("later", 4);
    publish_i64(pub, 42);
    /* not attached yet: only a read call attaches */
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "later", p), 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "later", &info));
    CHECK_EQ(info.subscribers, 0);
    int rc;
    while ((rc = hcm_subscriber_wait(sub, 10 * SEC)) == HCM_EINTR) {
    }
    CHECK_OK(rc);
    n = peers_of(HCM_KIND_TOPIC, "later", p);
    CHECK_EQ(n, 2);
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ(p[1].pid, getpid());
    CHECK_EQ_U64(p[1].next_seq, 0); /* it will take the topic from its start */
    take_expect(sub, 42, 0);
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "later", p), 2);
    CHECK_EQ_U64(p[1].next_seq, 1);
    CHECK_OK(hcm_topic_stat(NULL, "later", &info));
    CHECK_EQ(info.subscribers, 1);
    CHECK_EQ_U64(info.max_lag, 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "later"));
}

TEST(a_subscriber_opened_after_samples_were_published_starts_with_no_lag)
{
    hcm_publisher *pub = open_pub("late", 8);
    for (int64_t i = 0; i < 5; i++)
        publish_i64(pub, i);
    hcm_subscriber *sub = open_sub("late");
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "late", p), 2);
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ_U64(p[1].next_seq, 5); /* it delivers what is published from now on */
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "late", &info));
    CHECK_EQ(info.subscribers, 1);
    CHECK_EQ_U64(info.max_lag, 0);
    publish_i64(pub, 5);
    CHECK_OK(hcm_topic_stat(NULL, "late", &info));
    CHECK_EQ_U64(info.max_lag, 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "late"));
}

TEST(latest_moves_a_subscribers_next_seq_past_the_newest_sample)
{
    hcm_publisher *pub = open_pub("newest", 8);
    hcm_subscriber *sub = open_sub("newest");
    for (int64_t i = 0; i < 4; i++)
        publish_i64(pub, 10 + i);
    int64_t v = 0;
    hcm_sample_info si;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &si));
    CHECK_EQ(v, 13);
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "newest", p), 2);
    CHECK_EQ_U64(p[1].next_seq, 4);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "newest", &info));
    CHECK_EQ_U64(info.max_lag, 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "newest"));
}

TEST(a_subscriber_that_reattaches_to_a_recreated_topic_registers_in_the_new_segment)
{
    hcm_publisher *pub = open_pub("again", 4);
    hcm_subscriber *sub = open_sub("again");
    publish_i64(pub, 1);
    take_expect(sub, 1, 0);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "again"));
    pub = open_pub("again", 4);
    hcm_peer_info p[MAX_PEERS];
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "again", p), 1); /* not re-attached yet */
    publish_i64(pub, 2);
    publish_i64(pub, 3);
    take_expect(sub, 2, 0); /* re-attaches: a new segment is new from its start */
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "again", p), 2);
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ(p[1].pid, getpid());
    CHECK_EQ_U64(p[1].next_seq, 1);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "again", &info));
    CHECK_EQ(info.subscribers, 1);
    CHECK_EQ_U64(info.max_lag, 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "again"));
}

TEST(topic_last_len_is_the_length_of_the_newest_sample)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 4, 64);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "sizes", &a));
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "sizes", &info));
    CHECK_EQ_U64(info.last_len, 0);
    CHECK_OK(hcm_publish(pub, "hello", 5));
    CHECK_OK(hcm_publish(pub, "hi!", 3));
    CHECK_OK(hcm_topic_stat(NULL, "sizes", &info));
    CHECK_EQ_U64(info.last_len, 3);
    for (int i = 0; i < 5; i++) /* wraps the ring */
        CHECK_OK(hcm_publish(pub, "0123456789", 10));
    CHECK_OK(hcm_topic_stat(NULL, "sizes", &info));
    CHECK_EQ_U64(info.last_len, 10);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "sizes"));
}

TEST(a_full_readers_table_gives_a_dead_subscribers_line_to_a_new_subscriber)
{
    hcm_publisher *pub = open_pub("reuse", 4);
    pid_t pid = harness_fork();
    if (pid == 0) {
        for (int i = 0; i < 16; i++)
            open_sub("reuse"); /* never closed */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_TOPIC, "reuse", p);
    CHECK_EQ(n, 17);
    for (size_t i = 1; i < n; i++) {
        CHECK_EQ(p[i].role, HCM_PEER_SUBSCRIBER);
        CHECK_EQ(p[i].pid, pid);
        CHECK_EQ(p[i].alive, 0);
    }
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "reuse", &info));
    CHECK_EQ(info.subscribers, 0);
    hcm_subscriber *sub = open_sub("reuse");
    n = peers_of(HCM_KIND_TOPIC, "reuse", p);
    CHECK_EQ(n, 17);
    size_t mine = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i].pid == (uint32_t)getpid()) {
            CHECK_EQ(p[i].alive, 1);
            mine++;
        }
    CHECK_EQ(mine, 1);
    CHECK_OK(hcm_topic_stat(NULL, "reuse", &info));
    CHECK_EQ(info.subscribers, 1);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "reuse"));
}

TEST(topic_peers_accept_an_explicit_domain)
{
    char other[HCM_DOMAIN_MAX + 1];
    snprintf(other, sizeof other, "%sy", harness_domain());
    hcm_publisher *pub = open_pub("where", 4);
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_OK(hcm_peers(HCM_KIND_TOPIC, harness_domain(), "where", p, 4, &n));
    CHECK_EQ(n, 1);
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, other, "where", p, 4, &n), HCM_ENOENT);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "where"));
}

#define CROWD 20

TEST(more_than_sixteen_subscribers_all_read_and_sixteen_are_tracked)
{
    hcm_publisher *pub = open_pub("crowd", 8);
    hcm_subscriber *subs[CROWD];
    for (int i = 0; i < CROWD; i++)
        subs[i] = open_sub("crowd");
    for (int64_t v = 0; v < 3; v++)
        publish_i64(pub, 10 + v);
    for (int i = 0; i < CROWD; i++)
        for (uint64_t k = 0; k < 3; k++)
            take_expect(subs[i], 10 + (int64_t)k, k);
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_TOPIC, "crowd", p);
    CHECK_EQ(n, 1 + 16);
    CHECK_EQ(count_role(p, n, HCM_PEER_PUBLISHER), 1);
    CHECK_EQ(count_role(p, n, HCM_PEER_SUBSCRIBER), 16);
    for (size_t i = 1; i < n; i++)
        CHECK_EQ_U64(p[i].next_seq, 3);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "crowd", &info));
    CHECK_EQ(info.subscribers, 16);
    /* the untracked ones keep reading */
    publish_i64(pub, 13);
    for (int i = 0; i < CROWD; i++)
        take_expect(subs[i], 13, 3);
    for (int i = 0; i < CROWD; i++)
        hcm_subscriber_close(subs[i]);
    CHECK_EQ(peers_of(HCM_KIND_TOPIC, "crowd", p), 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "crowd"));
}

/* ---- hcm_peers arguments ---------------------------------------------------- */

TEST(peers_of_a_missing_name_is_enoent_for_every_kind)
{
    hcm_peer_info p[4];
    size_t n = 5;
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "nothing", p, 4, &n), HCM_ENOENT);
    CHECK_EQ(n, 0);
    n = 5;
    CHECK_RC(hcm_peers(HCM_KIND_SERVICE, NULL, "nothing", p, 4, &n), HCM_ENOENT);
    CHECK_EQ(n, 0);
    n = 5;
    CHECK_RC(hcm_peers(HCM_KIND_ACTION, NULL, "nothing", p, 4, &n), HCM_ENOENT);
    CHECK_EQ(n, 0);
}

TEST(peers_of_a_topic_are_not_found_under_the_service_or_action_kind)
{
    hcm_publisher *pub = open_pub("kinds", 4);
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers(HCM_KIND_SERVICE, NULL, "kinds", p, 4, &n), HCM_ENOENT);
    CHECK_RC(hcm_peers(HCM_KIND_ACTION, NULL, "kinds", p, 4, &n), HCM_ENOENT);
    CHECK_OK(hcm_peers(HCM_KIND_TOPIC, NULL, "kinds", p, 4, &n));
    CHECK_EQ(n, 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "kinds"));
}

TEST(peers_with_a_bad_name_or_domain_is_ename)
{
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "bad name", p, 4, &n), HCM_ENAME);
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "", p, 4, &n), HCM_ENAME);
    CHECK_RC(hcm_peers(HCM_KIND_SERVICE, NULL, "a//b", p, 4, &n), HCM_ENAME);
    CHECK_RC(hcm_peers(HCM_KIND_ACTION, NULL, "x*", p, 4, &n), HCM_ENAME);
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, "bad.domain", "fine", p, 4, &n), HCM_ENAME);
}

TEST(peers_with_a_bad_kind_or_null_arguments_is_einval)
{
    hcm_publisher *pub = open_pub("args", 4);
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers((hcm_kind)'x', NULL, "args", p, 4, &n), HCM_EINVAL);
    CHECK_RC(hcm_peers((hcm_kind)0, NULL, "args", p, 4, &n), HCM_EINVAL);
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "args", p, 4, NULL), HCM_EINVAL);
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "args", NULL, 4, &n), HCM_EINVAL);
    /* NULL array with cap 0 is the way to ask for the count only */
    n = 0;
    CHECK_OK(hcm_peers(HCM_KIND_TOPIC, NULL, "args", NULL, 0, &n));
    CHECK_EQ(n, 1);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "args"));
}

TEST(peers_with_a_small_cap_count_all_and_write_only_cap_entries)
{
    hcm_publisher *pub = open_pub("cap", 4);
    hcm_subscriber *subs[3];
    for (int i = 0; i < 3; i++)
        subs[i] = open_sub("cap");
    hcm_peer_info p[3];
    memset(p, 0xab, sizeof p);
    hcm_peer_info sentinel;
    memset(&sentinel, 0xab, sizeof sentinel);
    size_t n = 0;
    CHECK_OK(hcm_peers(HCM_KIND_TOPIC, NULL, "cap", p, 2, &n));
    CHECK_EQ(n, 4);
    CHECK_EQ(p[0].role, HCM_PEER_PUBLISHER);
    CHECK_EQ(p[0].pid, getpid());
    CHECK_EQ(p[1].role, HCM_PEER_SUBSCRIBER);
    CHECK_EQ(p[1].pid, getpid());
    CHECK(memcmp(&p[2], &sentinel, sizeof sentinel) == 0);
    /* cap 0: only the count */
    n = 0;
    CHECK_OK(hcm_peers(HCM_KIND_TOPIC, NULL, "cap", p, 0, &n));
    CHECK_EQ(n, 4);
    for (int i = 0; i < 3; i++)
        hcm_subscriber_close(subs[i]);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "cap"));
}

TEST(service_peers_with_a_small_cap_count_all_and_write_only_cap_entries)
{
    hcm_server *srv = open_server("svccap", 4);
    hcm_client *cli = open_client("svccap");
    hcm_call c = send_byte(cli, 1);
    hcm_peer_info p[2];
    memset(p, 0xab, sizeof p);
    hcm_peer_info sentinel;
    memset(&sentinel, 0xab, sizeof sentinel);
    size_t n = 0;
    CHECK_OK(hcm_peers(HCM_KIND_SERVICE, NULL, "svccap", p, 1, &n));
    CHECK_EQ(n, 2);
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    CHECK(memcmp(&p[1], &sentinel, sizeof sentinel) == 0);
    serve_echo(srv);
    receive_byte(cli, c, 1);
    hcm_client_close(cli);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "svccap"));
}

/* ---- services ------------------------------------------------------------------ */

TEST(service_stat_reports_types_sizes_queue_and_the_live_server)
{
    int64_t rt0 = harness_realtime_ns();
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.request_type = hcm_type_scalar(HCM_TYPE_INT64);
    a.response_type = hcm_type_scalar(HCM_TYPE_STRING);
    a.response_max = 100;
    a.queue_size = 5;
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, "typed/svc", &a));
    int64_t rt1 = harness_realtime_ns();

    hcm_service_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_OK(hcm_service_stat(NULL, "typed/svc", &info));
    CHECK_RC(info.error, HCM_OK);
    CHECK(strcmp(info.name, "typed/svc") == 0);
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    hcm_type i64 = hcm_type_scalar(HCM_TYPE_INT64), str = hcm_type_scalar(HCM_TYPE_STRING);
    CHECK(hcm_type_equal(&info.request_type, &i64));
    CHECK(hcm_type_equal(&info.response_type, &str));
    CHECK_EQ_U64(info.request_max, 8);
    CHECK_EQ_U64(info.response_max, 100);
    CHECK_EQ(info.queue_size, 5);
    CHECK_EQ(info.server_pid, getpid());
    CHECK_EQ(info.server_alive, 1);
    CHECK_EQ(info.server_generation, 1);
    CHECK_EQ_U64(info.calls_sent, 0);
    CHECK_EQ_U64(info.calls_answered, 0);
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.in_progress, 0);
    CHECK_EQ(info.clients_alive, 0);
    CHECK_EQ(info.stale, 0);
    CHECK(info.create_time_ns >= rt0 - SEC && info.create_time_ns <= rt1 + SEC);
    CHECK_EQ(info.mode, 0600);
    CHECK_EQ(info.uid, geteuid());
    char path[512];
    seg_path('s', "typed/svc", path, sizeof path);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U64((uint64_t)st.st_size, info.size);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "typed/svc"));
}

TEST(service_stat_of_a_missing_service_is_enoent_and_bad_arguments_fail)
{
    hcm_service_info info;
    CHECK_RC(hcm_service_stat(NULL, "nosuch", &info), HCM_ENOENT);
    CHECK_RC(hcm_service_stat(NULL, "bad name", &info), HCM_ENAME);
    CHECK_RC(hcm_service_stat(NULL, "nosuch", NULL), HCM_EINVAL);
    size_t n = 0;
    hcm_service_info *infos = NULL;
    CHECK_RC(hcm_service_list(NULL, NULL, &n), HCM_EINVAL);
    CHECK_RC(hcm_service_list(NULL, &infos, NULL), HCM_EINVAL);
}

TEST(service_stat_counts_calls_sent_and_answered)
{
    hcm_server *srv = open_server("counted", 4);
    CHECK_OK(hcm_server_start(srv, plus_one_handler, NULL));
    hcm_client *cli = open_client("counted");
    for (uint8_t i = 0; i < 3; i++)
        call_plus_one(cli, i);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "counted", &info));
    CHECK_EQ_U64(info.calls_sent, 3);
    /* The server publishes its answered count every 64 calls and at close
     * (src/service/server.c end_answer), so while it runs the count may lag. */
    CHECK(info.calls_answered <= 3);
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.in_progress, 0);
    CHECK_EQ(info.clients_alive, 0); /* answered calls hold no slot */
    hcm_client_close(cli);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_stat(NULL, "counted", &info));
    CHECK_EQ_U64(info.calls_sent, 3);
    CHECK_EQ_U64(info.calls_answered, 3);
    CHECK_OK(hcm_service_unlink(NULL, "counted"));
}

/* A running server publishes its answered count every 64 answers; stop()
 * and close() make it exact. */
TEST(service_calls_answered_is_current_while_the_server_runs)
 {
     hcm_server *srv = open_server("answered", 4);
     CHECK_OK(hcm_server_start(srv, plus_one_handler, NULL));
     hcm_client *cli = open_client("answered");
     for (uint8_t i = 0; i < 3; i++)
         call_plus_one(cli, i);
     hcm_server_stop(srv); /* joins the handler thread: all three answered */
     hcm_service_info info;
     CHECK_OK(hcm_service_stat(NULL, "answered", &info));
     CHECK_EQ_U64(info.calls_answered, 3);
     hcm_client_close(cli);
     hcm_server_close(srv);
     CHECK_OK(hcm_service_unlink(NULL, "answered"));
 }

TEST(service_calls_answered_is_exact_at_the_sixty_fourth_answer)
{
    hcm_server *srv = open_server("sixtyfour", 4);
    CHECK_OK(hcm_server_start(srv, plus_one_handler, NULL));
    hcm_client *cli = open_client("sixtyfour");
    for (int i = 0; i < 64; i++)
        call_plus_one(cli, (uint8_t)i);
    hcm_server_stop(srv); /* joins the handler thread: all 64 are counted */
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "sixtyfour", &info));
    CHECK_EQ_U64(info.calls_sent, 64);
    CHECK_EQ_U64(info.calls_answered, 64);
    CHECK_EQ(info.server_alive, 1); /* stopped, not closed */
    hcm_client_close(cli);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "sixtyfour"));
}

TEST(service_pending_counts_calls_sent_and_not_yet_taken)
{
    hcm_server *srv = open_server("queue", 4);
    hcm_client *cli = open_client("queue");
    hcm_call c1 = send_byte(cli, 1);
    hcm_call c2 = send_byte(cli, 2);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "queue", &info));
    CHECK_EQ_U64(info.calls_sent, 2);
    CHECK_EQ(info.pending, 2);
    CHECK_EQ(info.in_progress, 0);
    CHECK_EQ(info.clients_alive, 1);
    CHECK_EQ(info.stale, 0);

    uint8_t buf[64];
    size_t len = 0;
    hcm_call taken;
    CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &taken, 10 * SEC));
    CHECK_OK(hcm_service_stat(NULL, "queue", &info));
    CHECK_EQ(info.pending, 1);
    CHECK_EQ(info.in_progress, 1);
    CHECK_OK(hcm_server_reply(srv, taken, buf, len));
    receive_byte(cli, c1, 1);
    serve_echo(srv);
    receive_byte(cli, c2, 2);
    CHECK_OK(hcm_service_stat(NULL, "queue", &info));
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.in_progress, 0);
    CHECK_EQ(info.clients_alive, 0);
    hcm_client_close(cli);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "queue"));
}

TEST(service_peers_show_the_server_and_a_client_process_holding_slots)
{
    hcm_server *srv = open_server("who", 4);
    harness_gate sent, finish;
    harness_gate_init(&sent);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_client *cli = open_client("who");
        hcm_call c1 = send_byte(cli, 1);
        hcm_call c2 = send_byte(cli, 2);
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&finish, GATE_MS);
        receive_byte(cli, c1, 1);
        receive_byte(cli, c2, 2);
        hcm_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_SERVICE, "who", p);
    CHECK_EQ(n, 2);
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    CHECK_EQ(p[0].pid, getpid());
    CHECK_EQ(p[0].alive, 1);
    CHECK_EQ(p[1].role, HCM_PEER_CLIENT);
    CHECK_EQ(p[1].pid, pid);
    CHECK_EQ(p[1].alive, 1);
    CHECK_EQ(p[1].held, 2);
    serve_echo(srv);
    serve_echo(srv);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    n = peers_of(HCM_KIND_SERVICE, "who", p);
    CHECK_EQ(n, 1); /* the client collected both answers: it holds nothing */
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    hcm_server_close(srv);
    CHECK_EQ(peers_of(HCM_KIND_SERVICE, "who", p), 0); /* closed: no server now */
    CHECK_OK(hcm_service_unlink(NULL, "who"));
    harness_gate_close(&sent);
    harness_gate_close(&finish);
}

/* hcm_client_close() abandons the handle's calls in flight: a request not
 * yet taken frees its slot at once; one the server works on is freed by its
 * reply. Either way the closed client holds nothing. */
static void send_on_free_slot(const char *name)
{
    hcm_client_attr a;
    hcm_client_attr_init(&a);
    a.wait_for_slot = 0;
    hcm_client *next = NULL;
    CHECK_OK(hcm_client_open(&next, name, &a));
    hcm_call c;
    CHECK_OK(hcm_client_send(next, "x", 1, &c, 0)); /* the only slot is free again */
    hcm_client_close(next);
}

TEST(closing_a_client_frees_the_slot_of_a_call_not_yet_taken)
{
    hcm_server *srv = open_server("closing", 1);
    hcm_client *cli = open_client("closing");
    send_byte(cli, 1);
    hcm_client_close(cli);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "closing", &info));
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.clients_alive, 0);
    send_on_free_slot("closing");
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "closing"));
}

TEST(closing_a_client_abandons_a_call_in_progress_and_the_reply_frees_it)
{
    hcm_server *srv = open_server("closing2", 1);
    hcm_client *cli = open_client("closing2");
    send_byte(cli, 7);
    uint8_t buf[64];
    size_t len = 0;
    hcm_call call;
    CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &call, 10 * SEC));
    hcm_client_close(cli);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "closing2", &info));
    CHECK_EQ(info.in_progress, 1); /* the server still holds it */
    CHECK_EQ(info.clients_alive, 0);
    CHECK_OK(hcm_server_reply(srv, call, buf, len)); /* dropped; frees the slot */
    CHECK_OK(hcm_service_stat(NULL, "closing2", &info));
    CHECK_EQ(info.in_progress, 0);
    send_on_free_slot("closing2");
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "closing2"));
}

TEST(service_list_is_sorted_by_name_and_empty_without_services)
{
    hcm_service_info *infos = (hcm_service_info *)1;
    size_t n = 99;
    CHECK_OK(hcm_service_list(NULL, &infos, &n));
    CHECK_EQ(n, 0);
    CHECK(infos == NULL);

    hcm_server *z = open_server("zeta", 2);
    hcm_server *a = open_server("alpha/one", 3);
    hcm_publisher *pub = open_pub("middle", 4); /* a topic is not a service */
    CHECK_OK(hcm_service_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    CHECK(strcmp(infos[0].name, "alpha/one") == 0);
    CHECK(strcmp(infos[1].name, "zeta") == 0);
    CHECK_EQ(infos[0].queue_size, 3);
    CHECK_EQ(infos[1].queue_size, 2);
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(infos[i].error, HCM_OK);
        CHECK(strcmp(infos[i].domain, harness_domain()) == 0);
        CHECK_EQ(infos[i].server_pid, getpid());
        CHECK_EQ(infos[i].server_alive, 1);
        CHECK_EQ(infos[i].stale, 0);
    }
    hcm_service_list_free(infos);
    hcm_server_close(z);
    hcm_server_close(a);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_service_unlink(NULL, "zeta"));
    CHECK_OK(hcm_service_unlink(NULL, "alpha/one"));
    CHECK_OK(hcm_topic_unlink(NULL, "middle"));
}

TEST(service_reclaim_removes_a_killed_servers_service_and_spares_a_live_one)
{
    pid_t pid = fork_sitting_server("killed");
    hcm_server *live = open_server("alive", 4);
    harness_kill_child(pid);
    CHECK_EQ(shm_count(), 2);

    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "killed", &info));
    CHECK_EQ(info.server_pid, pid); /* still recorded, but dead */
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.clients_alive, 0);
    CHECK_EQ(info.stale, 1);
    CHECK_OK(hcm_service_stat(NULL, "alive", &info));
    CHECK_EQ(info.server_alive, 1);
    CHECK_EQ(info.stale, 0);

    size_t count = 99;
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 1);
    CHECK(!seg_exists('s', "killed"));
    CHECK(seg_exists('s', "alive"));
    CHECK_RC(hcm_service_stat(NULL, "killed", &info), HCM_ENOENT);
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK_OK(hcm_service_reclaim(NULL, NULL));
    CHECK_EQ(shm_count(), 1);

    /* the spared one still works */
    CHECK_OK(hcm_server_start(live, plus_one_handler, NULL));
    hcm_client *cli = open_client("alive");
    call_plus_one(cli, 7);
    hcm_client_close(cli);
    hcm_server_close(live);
    CHECK_OK(hcm_service_unlink(NULL, "alive"));
}

TEST(service_reclaim_removes_a_service_whose_server_exited_without_close)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_server *srv = open_server("exited", 4);
        (void)srv;
        _exit(0); /* no close */
    }
    CHECK_CHILD_OK(pid);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "exited", &info));
    CHECK_EQ(info.server_pid, pid);
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.stale, 1);
    size_t count = 0;
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
}

TEST(a_service_whose_server_closed_has_no_server_pid_and_is_stale)
{
    hcm_server *srv = open_server("closed", 4);
    hcm_server_close(srv);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "closed", &info));
    CHECK_EQ(info.server_pid, 0);
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.server_generation, 1);
    CHECK_EQ(info.stale, 1);
    srv = open_server("closed", 4); /* a second server of the same segment */
    CHECK_OK(hcm_service_stat(NULL, "closed", &info));
    CHECK_EQ(info.server_pid, getpid());
    CHECK_EQ(info.server_generation, 2);
    CHECK_EQ(info.stale, 0);
    hcm_server_close(srv);
    size_t count = 0;
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
}

TEST(service_reclaim_spares_a_service_with_a_dead_server_and_a_live_client_holding_a_slot)
{
    pid_t pid = fork_sitting_server("orphaned");
    hcm_client *cli = open_client("orphaned");
    hcm_call c = send_byte(cli, 1);
    harness_kill_child(pid);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "orphaned", &info));
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.pending, 1);
    CHECK_EQ(info.clients_alive, 1);
    CHECK_EQ(info.stale, 0);
    size_t count = 99;
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK(seg_exists('s', "orphaned"));
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_SERVICE, "orphaned", p);
    CHECK_EQ(n, 2);
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    CHECK_EQ(p[0].pid, pid);
    CHECK_EQ(p[0].alive, 0);
    CHECK_EQ(p[1].role, HCM_PEER_CLIENT);
    CHECK_EQ(p[1].pid, getpid());
    CHECK_EQ(p[1].held, 1);
    uint8_t resp[8];
    size_t len = 0;
    CHECK_RC(hcm_client_receive(cli, c, resp, sizeof resp, &len, 10 * SEC), HCM_EDEAD);
    hcm_client_close(cli);
    CHECK_OK(hcm_service_stat(NULL, "orphaned", &info));
    CHECK_EQ(info.clients_alive, 0);
    CHECK_EQ(info.stale, 1);
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
}

/* ---- actions ------------------------------------------------------------------- */

TEST(action_stat_reports_types_sizes_slots_and_the_live_server)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.goal_type = hcm_type_scalar(HCM_TYPE_INT32);
    a.feedback_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    a.result_type = hcm_type_scalar(HCM_TYPE_BYTES);
    a.result_max = 300;
    a.slots = 6;
    hcm_action_server *srv = NULL;
    CHECK_OK(hcm_action_server_open(&srv, "typed/act", &a));
    hcm_action_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_OK(hcm_action_stat(NULL, "typed/act", &info));
    CHECK_RC(info.error, HCM_OK);
    CHECK(strcmp(info.name, "typed/act") == 0);
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    hcm_type i32 = hcm_type_scalar(HCM_TYPE_INT32), f64 = hcm_type_scalar(HCM_TYPE_FLOAT64),
             bytes = hcm_type_scalar(HCM_TYPE_BYTES);
    CHECK(hcm_type_equal(&info.goal_type, &i32));
    CHECK(hcm_type_equal(&info.feedback_type, &f64));
    CHECK(hcm_type_equal(&info.result_type, &bytes));
    CHECK_EQ_U64(info.goal_max, 4);
    CHECK_EQ_U64(info.feedback_max, 8);
    CHECK_EQ_U64(info.result_max, 300);
    CHECK_EQ(info.slots, 6);
    CHECK_EQ(info.server_pid, getpid());
    CHECK_EQ(info.server_alive, 1);
    CHECK_EQ(info.server_generation, 1);
    CHECK_EQ_U64(info.goals_sent, 0);
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.active, 0);
    CHECK_EQ(info.finished, 0);
    CHECK_EQ(info.clients_alive, 0);
    CHECK_EQ(info.stale, 0);
    CHECK_EQ(info.mode, 0600);
    CHECK_EQ(info.uid, geteuid());
    char path[512];
    seg_path('a', "typed/act", path, sizeof path);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U64((uint64_t)st.st_size, info.size);
    hcm_action_server_close(srv);
    CHECK_OK(hcm_action_unlink(NULL, "typed/act"));
}

TEST(action_stat_of_a_missing_action_is_enoent_and_bad_arguments_fail)
{
    hcm_action_info info;
    CHECK_RC(hcm_action_stat(NULL, "nosuch", &info), HCM_ENOENT);
    CHECK_RC(hcm_action_stat(NULL, "bad name", &info), HCM_ENAME);
    CHECK_RC(hcm_action_stat(NULL, "nosuch", NULL), HCM_EINVAL);
    size_t n = 0;
    hcm_action_info *infos = NULL;
    CHECK_RC(hcm_action_list(NULL, NULL, &n), HCM_EINVAL);
    CHECK_RC(hcm_action_list(NULL, &infos, NULL), HCM_EINVAL);
}

TEST(action_stat_counts_goals_sent_pending_active_and_finished)
{
    hcm_action_server *srv = open_action_server("goals", 4);
    hcm_action_client *cli = open_action_client("goals");
    hcm_goal g1 = send_goal(cli, 1);
    hcm_goal g2 = send_goal(cli, 2);
    hcm_action_info info;
    CHECK_OK(hcm_action_stat(NULL, "goals", &info));
    CHECK_EQ_U64(info.goals_sent, 2);
    CHECK_EQ(info.pending, 2);
    CHECK_EQ(info.active, 0);
    CHECK_EQ(info.finished, 0);
    CHECK_EQ(info.clients_alive, 1);
    CHECK_EQ(info.stale, 0);

    uint8_t buf[64];
    size_t len = 0;
    hcm_goal taken;
    CHECK_OK(hcm_action_server_take(srv, buf, sizeof buf, &len, &taken, 10 * SEC));
    CHECK_EQ_U64(taken.id, g1.id);
    CHECK_OK(hcm_action_server_accept(srv, taken));
    CHECK_OK(hcm_action_stat(NULL, "goals", &info));
    CHECK_EQ(info.pending, 1);
    CHECK_EQ(info.active, 1);
    CHECK_EQ(info.finished, 0);

    uint8_t res = 9;
    CHECK_OK(hcm_action_server_finish(srv, taken, HCM_GOAL_SUCCEEDED, &res, 1));
    CHECK_OK(hcm_action_stat(NULL, "goals", &info));
    CHECK_EQ(info.pending, 1);
    CHECK_EQ(info.active, 0);
    CHECK_EQ(info.finished, 1);
    CHECK_EQ(info.clients_alive, 1); /* still holds the pending goal */

    CHECK_OK(hcm_action_server_take(srv, buf, sizeof buf, &len, &taken, 10 * SEC));
    CHECK_EQ_U64(taken.id, g2.id);
    CHECK_OK(hcm_action_server_reject(srv, taken));
    CHECK_OK(hcm_action_stat(NULL, "goals", &info));
    CHECK_EQ_U64(info.goals_sent, 2);
    CHECK_EQ(info.pending, 0);
    CHECK_EQ(info.active, 0);
    CHECK_EQ(info.finished, 2);
    CHECK_EQ(info.clients_alive, 0); /* finished goals hold nobody */

    uint8_t out[64];
    hcm_goal_status st;
    CHECK_OK(hcm_action_client_result(cli, g1, out, sizeof out, &len, &st, 10 * SEC));
    CHECK_EQ(st, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    CHECK_OK(hcm_action_unlink(NULL, "goals"));
}

TEST(action_peers_show_the_server_and_a_client_process_holding_goals)
{
    hcm_action_server *srv = open_action_server("actwho", 4);
    harness_gate sent, finish;
    harness_gate_init(&sent);
    harness_gate_init(&finish);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_client *cli = open_action_client("actwho");
        send_goal(cli, 1);
        send_goal(cli, 2);
        send_goal(cli, 3);
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&finish, GATE_MS);
        hcm_action_client_close(cli); /* cancels its goals */
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    hcm_peer_info p[MAX_PEERS];
    size_t n = peers_of(HCM_KIND_ACTION, "actwho", p);
    CHECK_EQ(n, 2);
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    CHECK_EQ(p[0].pid, getpid());
    CHECK_EQ(p[0].alive, 1);
    CHECK_EQ(p[0].open, 1);
    CHECK_EQ(p[1].role, HCM_PEER_CLIENT);
    CHECK_EQ(p[1].pid, pid);
    CHECK_EQ(p[1].alive, 1);
    CHECK_EQ(p[1].held, 3);
    harness_gate_pass(&finish, 1);
    CHECK_CHILD_OK(pid);
    n = peers_of(HCM_KIND_ACTION, "actwho", p);
    CHECK_EQ(n, 1); /* its pending goals were cancelled: finished, held by nobody */
    CHECK_EQ(p[0].role, HCM_PEER_SERVER);
    hcm_action_server_close(srv);
    CHECK_OK(hcm_action_unlink(NULL, "actwho"));
    harness_gate_close(&sent);
    harness_gate_close(&finish);
}

TEST(action_list_is_sorted_by_name_and_empty_without_actions)
{
    hcm_action_info *infos = (hcm_action_info *)1;
    size_t n = 99;
    CHECK_OK(hcm_action_list(NULL, &infos, &n));
    CHECK_EQ(n, 0);
    CHECK(infos == NULL);
    hcm_action_server *b = open_action_server("b/act", 2);
    hcm_action_server *a = open_action_server("a", 3);
    hcm_server *svc = open_server("a0", 2); /* a service is not an action */
    CHECK_OK(hcm_action_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    CHECK(strcmp(infos[0].name, "a") == 0);
    CHECK(strcmp(infos[1].name, "b/act") == 0);
    CHECK_EQ(infos[0].slots, 3);
    CHECK_EQ(infos[1].slots, 2);
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(infos[i].error, HCM_OK);
        CHECK(strcmp(infos[i].domain, harness_domain()) == 0);
        CHECK_EQ(infos[i].server_pid, getpid());
        CHECK_EQ(infos[i].stale, 0);
    }
    hcm_action_list_free(infos);
    hcm_action_server_close(a);
    hcm_action_server_close(b);
    hcm_server_close(svc);
    CHECK_OK(hcm_action_unlink(NULL, "a"));
    CHECK_OK(hcm_action_unlink(NULL, "b/act"));
    CHECK_OK(hcm_service_unlink(NULL, "a0"));
}

TEST(action_reclaim_removes_an_action_whose_server_exited_without_close_and_spares_a_live_one)
{
    child_opens_action_server_and_exits("gone");
    hcm_action_server *live = open_action_server("here", 4);
    CHECK_EQ(shm_count(), 2);
    hcm_action_info info;
    CHECK_OK(hcm_action_stat(NULL, "gone", &info));
    CHECK_NE(info.server_pid, 0);
    CHECK_NE(info.server_pid, getpid());
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.stale, 1);
    CHECK_OK(hcm_action_stat(NULL, "here", &info));
    CHECK_EQ(info.server_alive, 1);
    CHECK_EQ(info.stale, 0);

    size_t count = 99;
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 1);
    CHECK(!seg_exists('a', "gone"));
    CHECK(seg_exists('a', "here"));
    CHECK_RC(hcm_action_stat(NULL, "gone", &info), HCM_ENOENT);
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 0);

    /* the spared one still works */
    hcm_action_client *cli = open_action_client("here");
    hcm_goal g = send_goal(cli, 5);
    uint8_t buf[64];
    size_t len = 0;
    hcm_goal taken;
    CHECK_OK(hcm_action_server_take(live, buf, sizeof buf, &len, &taken, 10 * SEC));
    CHECK_EQ_U64(taken.id, g.id);
    CHECK_OK(hcm_action_server_accept(live, taken));
    CHECK_OK(hcm_action_server_finish(live, taken, HCM_GOAL_SUCCEEDED, buf, len));
    hcm_goal_status st;
    CHECK_OK(hcm_action_client_result(cli, g, buf, sizeof buf, &len, &st, 10 * SEC));
    CHECK_EQ(st, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(live);
    CHECK_OK(hcm_action_unlink(NULL, "here"));
}

TEST(action_reclaim_removes_an_action_whose_server_was_killed)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_server *srv = open_action_server("killed", 4);
        (void)srv;
        harness_gate_pass(&ready, 1);
        for (;;)
            pause();
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_info info;
    CHECK_OK(hcm_action_stat(NULL, "killed", &info));
    CHECK_EQ(info.server_pid, pid);
    CHECK_EQ(info.server_alive, 1);
    CHECK_EQ(info.stale, 0);
    size_t count = 99;
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    harness_kill_child(pid);
    CHECK_OK(hcm_action_stat(NULL, "killed", &info));
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.stale, 1);
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
    harness_gate_close(&ready);
}

TEST(action_reclaim_spares_an_action_with_a_dead_server_and_a_live_client_holding_a_goal)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_server *srv = open_action_server("waiting", 4);
        (void)srv;
        harness_gate_pass(&ready, 1);
        for (;;)
            pause();
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_client *cli = open_action_client("waiting");
    hcm_goal g = send_goal(cli, 1);
    harness_kill_child(pid);
    hcm_action_info info;
    CHECK_OK(hcm_action_stat(NULL, "waiting", &info));
    CHECK_EQ(info.server_alive, 0);
    CHECK_EQ(info.pending, 1);
    CHECK_EQ(info.clients_alive, 1);
    CHECK_EQ(info.stale, 0);
    size_t count = 99;
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 0);
    CHECK(seg_exists('a', "waiting"));
    uint8_t buf[64];
    size_t len = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_result(cli, g, buf, sizeof buf, &len, &st, 10 * SEC), HCM_EDEAD);
    hcm_action_client_close(cli);
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK_EQ(shm_count(), 0);
    harness_gate_close(&ready);
}

/* ---- domains ------------------------------------------------------------------- */

/* Index of `name` in the list, failing unless it is there exactly once. */
static size_t domain_index_once(const hcm_domain_name *v, size_t n, const char *name)
{
    size_t at = n, seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) {
            at = i;
            seen++;
        }
    if (seen != 1)
        FAIL("domain '%s' is listed %zu times, want once", name, seen);
    return at;
}

TEST(domain_list_shows_each_domain_with_segments_once_and_sorted)
{
    char other[HCM_DOMAIN_MAX + 1];
    snprintf(other, sizeof other, "%sx", harness_domain());
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 4, 0);
    a.domain = harness_domain();
    hcm_publisher *p1 = NULL, *p2 = NULL, *p3 = NULL;
    CHECK_OK(hcm_publisher_open(&p1, "one", &a));
    CHECK_OK(hcm_publisher_open(&p2, "two", &a)); /* a second topic of the same domain */
    hcm_server *srv = open_server("three", 2);    /* and a service of it */
    a.domain = other;
    CHECK_OK(hcm_publisher_open(&p3, "one", &a));

    hcm_domain_name *v = NULL;
    size_t n = 0;
    CHECK_OK(hcm_domain_list(&v, &n));
    CHECK(n >= 2);
    CHECK(v != NULL);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1].name, v[i].name) >= 0)
            FAIL("domain list not strictly sorted at %zu: '%s' then '%s'", i, v[i - 1].name,
                 v[i].name);
    size_t mine = domain_index_once(v, n, harness_domain());
    size_t theirs = domain_index_once(v, n, other);
    CHECK(mine < theirs);
    hcm_domain_list_free(v);

    hcm_publisher_close(p1);
    hcm_publisher_close(p2);
    hcm_publisher_close(p3);
    hcm_server_close(srv);
    CHECK_OK(hcm_topic_unlink(NULL, "one"));
    CHECK_OK(hcm_topic_unlink(NULL, "two"));
    CHECK_OK(hcm_service_unlink(NULL, "three"));
    CHECK_OK(hcm_topic_unlink(other, "one"));

    /* gone from /dev/shm: gone from the list */
    CHECK_OK(hcm_domain_list(&v, &n));
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(v[i].name, harness_domain()) != 0);
        CHECK(strcmp(v[i].name, other) != 0);
    }
    hcm_domain_list_free(v);
}

TEST(domain_list_with_null_arguments_is_einval)
{
    hcm_domain_name *v = NULL;
    size_t n = 0;
    CHECK_RC(hcm_domain_list(NULL, &n), HCM_EINVAL);
    CHECK_RC(hcm_domain_list(&v, NULL), HCM_EINVAL);
}

/* ---- corrupt segment files -------------------------------------------------------- */

TEST(topic_stat_of_a_corrupt_file_is_ecorrupt_with_the_error_and_size_filled)
{
    write_garbage('t', "junk");
    hcm_topic_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_RC(hcm_topic_stat(NULL, "junk", &info), HCM_ECORRUPT);
    CHECK(hcm_errmsg()[0] != '\0');
    CHECK_RC(info.error, HCM_ECORRUPT);
    CHECK(strcmp(info.name, "junk") == 0);
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    CHECK_EQ_U64(info.size, GARBAGE_SIZE);
    CHECK_EQ(info.mode, 0600);
    CHECK_EQ(info.uid, geteuid());
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers(HCM_KIND_TOPIC, NULL, "junk", p, 4, &n), HCM_ECORRUPT);
    remove_seg_file('t', "junk");
}

TEST(service_stat_of_a_corrupt_file_is_ecorrupt_with_the_error_and_size_filled)
{
    write_garbage('s', "junk");
    hcm_service_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_RC(hcm_service_stat(NULL, "junk", &info), HCM_ECORRUPT);
    CHECK(hcm_errmsg()[0] != '\0');
    CHECK_RC(info.error, HCM_ECORRUPT);
    CHECK(strcmp(info.name, "junk") == 0);
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    CHECK_EQ_U64(info.size, GARBAGE_SIZE);
    CHECK_EQ(info.mode, 0600);
    CHECK_EQ(info.uid, geteuid());
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers(HCM_KIND_SERVICE, NULL, "junk", p, 4, &n), HCM_ECORRUPT);
    remove_seg_file('s', "junk");
}

TEST(action_stat_of_a_corrupt_file_is_ecorrupt_with_the_error_and_size_filled)
{
    write_garbage('a', "junk");
    hcm_action_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_RC(hcm_action_stat(NULL, "junk", &info), HCM_ECORRUPT);
    CHECK(hcm_errmsg()[0] != '\0');
    CHECK_RC(info.error, HCM_ECORRUPT);
    CHECK(strcmp(info.name, "junk") == 0);
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    CHECK_EQ_U64(info.size, GARBAGE_SIZE);
    CHECK_EQ(info.mode, 0600);
    CHECK_EQ(info.uid, geteuid());
    hcm_peer_info p[4];
    size_t n = 0;
    CHECK_RC(hcm_peers(HCM_KIND_ACTION, NULL, "junk", p, 4, &n), HCM_ECORRUPT);
    remove_seg_file('a', "junk");
}

TEST(topic_list_shows_a_corrupt_file_with_its_error_beside_good_topics)
{
    write_garbage('t', "b/junk");
    hcm_publisher *pub = open_pub("a/good", 4);
    hcm_topic_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_topic_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    CHECK(strcmp(infos[0].name, "a/good") == 0);
    CHECK_RC(infos[0].error, HCM_OK);
    CHECK_EQ(infos[0].slots, 4);
    CHECK(strcmp(infos[1].name, "b/junk") == 0);
    CHECK_RC(infos[1].error, HCM_ECORRUPT);
    CHECK_EQ_U64(infos[1].size, GARBAGE_SIZE);
    hcm_topic_list_free(infos);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "a/good"));
    remove_seg_file('t', "b/junk");
}

TEST(service_list_shows_a_corrupt_file_with_its_error_beside_good_services)
{
    write_garbage('s', "b/junk");
    hcm_server *srv = open_server("a/good", 3);
    hcm_service_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_service_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    CHECK(strcmp(infos[0].name, "a/good") == 0);
    CHECK_RC(infos[0].error, HCM_OK);
    CHECK_EQ(infos[0].queue_size, 3);
    CHECK(strcmp(infos[1].name, "b/junk") == 0);
    CHECK_RC(infos[1].error, HCM_ECORRUPT);
    CHECK_EQ_U64(infos[1].size, GARBAGE_SIZE);
    hcm_service_list_free(infos);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "a/good"));
    remove_seg_file('s', "b/junk");
}

TEST(action_list_shows_a_corrupt_file_with_its_error_beside_good_actions)
{
    write_garbage('a', "b/junk");
    hcm_action_server *srv = open_action_server("a/good", 3);
    hcm_action_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_action_list(NULL, &infos, &n));
    CHECK_EQ(n, 2);
    CHECK(strcmp(infos[0].name, "a/good") == 0);
    CHECK_RC(infos[0].error, HCM_OK);
    CHECK_EQ(infos[0].slots, 3);
    CHECK(strcmp(infos[1].name, "b/junk") == 0);
    CHECK_RC(infos[1].error, HCM_ECORRUPT);
    CHECK_EQ_U64(infos[1].size, GARBAGE_SIZE);
    hcm_action_list_free(infos);
    hcm_action_server_close(srv);
    CHECK_OK(hcm_action_unlink(NULL, "a/good"));
    remove_seg_file('a', "b/junk");
}

TEST(topic_reclaim_leaves_a_corrupt_file_alone)
{
    write_garbage('t', "junk");
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = open_pub("dead", 4);
        publish_i64(pub, 1);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    size_t count = 99;
    CHECK_OK(hcm_topic_reclaim(NULL, &count));
    CHECK_EQ(count, 1); /* the stale one, not the corrupt one */
    CHECK(!seg_exists('t', "dead"));
    CHECK(seg_exists('t', "junk"));
    CHECK_EQ(shm_count(), 1);
    remove_seg_file('t', "junk");
}

TEST(service_reclaim_leaves_a_corrupt_file_alone)
{
    write_garbage('s', "junk");
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_server *srv = open_server("dead", 2);
        (void)srv;
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    size_t count = 99;
    CHECK_OK(hcm_service_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK(!seg_exists('s', "dead"));
    CHECK(seg_exists('s', "junk"));
    CHECK_EQ(shm_count(), 1);
    remove_seg_file('s', "junk");
}

TEST(action_reclaim_leaves_a_corrupt_file_alone)
{
    write_garbage('a', "junk");
    child_opens_action_server_and_exits("dead");
    size_t count = 99;
    CHECK_OK(hcm_action_reclaim(NULL, &count));
    CHECK_EQ(count, 1);
    CHECK(!seg_exists('a', "dead"));
    CHECK(seg_exists('a', "junk"));
    CHECK_EQ(shm_count(), 1);
    remove_seg_file('a', "junk");
}

/* ---- reclaim against a server starting at the same moment ----------------------- */

/* The server word of a segment's file, mapped directly (white box). */
static _Atomic uint64_t *server_word(char kind, const char *name, size_t offset, void **mapp,
                                     size_t *lenp)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/hcm.%s.%c.%s", harness_domain(), kind, name);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(fstat(fd, &st) == 0);
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    close(fd);
    *mapp = m;
    *lenp = (size_t)st.st_size;
    return (_Atomic uint64_t *)((char *)m + offset);
}

/* A reclaimer that condemned a service (server word HCM_SERVER_RECLAIMED)
 * and died before the unlink: a new server must not claim the condemned
 * segment but finish its removal and serve from a fresh one. */
TEST(a_server_never_claims_a_service_condemned_by_a_reclaimer)
{
    hcm_server *old = open_server("condemned", 4);
    hcm_server_close(old); /* stale: no server */
    void *m;
    size_t len;
    _Atomic uint64_t *w = server_word('s', "condemned", offsetof(hcm_svc_header, server), &m, &len);
    atomic_store(w, HCM_SERVER_RECLAIMED);
    hcm_server *srv = open_server("condemned", 4);
    CHECK_EQ_U64(atomic_load(w), HCM_SERVER_RECLAIMED); /* the old one stayed condemned */
    munmap(m, len);
    hcm_service_info info;
    CHECK_OK(hcm_service_stat(NULL, "condemned", &info));
    CHECK_EQ(info.server_pid, getpid()); /* the name now holds a fresh, served segment */
    CHECK_EQ(info.server_alive, 1);
    CHECK_OK(hcm_server_start(srv, plus_one_handler, NULL));
    hcm_client *cli = open_client("condemned");
    call_plus_one(cli, 3);
    hcm_client_close(cli);
    hcm_server_close(srv);
    CHECK_OK(hcm_service_unlink(NULL, "condemned"));
}

TEST(an_action_server_never_claims_an_action_condemned_by_a_reclaimer)
{
    hcm_action_server *old = open_action_server("condemned", 4);
    hcm_action_server_close(old);
    void *m;
    size_t len;
    _Atomic uint64_t *w = server_word('a', "condemned", offsetof(hcm_act_header, server), &m, &len);
    atomic_store(w, HCM_SERVER_RECLAIMED);
    hcm_action_server *srv = open_action_server("condemned", 4);
    CHECK_EQ_U64(atomic_load(w), HCM_SERVER_RECLAIMED);
    munmap(m, len);
    hcm_action_info info;
    CHECK_OK(hcm_action_stat(NULL, "condemned", &info));
    CHECK_EQ(info.server_pid, getpid());
    CHECK_EQ(info.server_alive, 1);
    hcm_action_server_close(srv);
    CHECK_OK(hcm_action_unlink(NULL, "condemned"));
}

/* The race a review found: `hcm clean` judged a service stale, a new server
 * took it over, and the reclaim then unlinked it under the live server
 * (16 of 300 rounds). Reclaim runs in a loop in one child while servers die
 * and start in the parent; a live server's segment must always stay. */
TEST(reclaim_racing_a_starting_server_never_removes_the_live_servers_segment)
{
    pid_t reclaimer = harness_fork();
    if (reclaimer == 0) {
        for (;;)
            hcm_service_reclaim(NULL, NULL);
    }
    for (int round = 0; round < 200; round++) {
        hcm_server *srv = open_server("raced", 2);
        hcm_service_info info;
        CHECK_OK(hcm_service_stat(NULL, "raced", &info)); /* ENOENT: unlinked under us */
        CHECK_EQ(info.server_pid, getpid());
        hcm_server_close(srv); /* stale again: the reclaimer may take it now */
    }
    harness_kill_child(reclaimer);
    hcm_service_unlink(NULL, "raced"); /* whether or not the reclaimer got the last one */
}
