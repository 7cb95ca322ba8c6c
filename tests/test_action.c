/* test_action.c - actions (goals with status, feedback, result, cancel): goal
 * ids, the status machine and its illegal transitions, several goals at once,
 * cancel in every state, rejection, per-goal feedback, dead servers and
 * clients, late clients reading results by id, restarts, one server per
 * name, bad input, corrupted segments and a multi-process stress run.
 *
 * Server and client live in different processes (harness_fork) wherever the
 * behaviour crosses processes; the illegal-transition and bad-input tests
 * keep both ends in one process. Corruption tests write the segment file by
 * hand (layout.h offsets) and read it in a forked child with an alarm, so a
 * crash or a hang shows as a failure. Every test removes its action segment
 * with hcm_action_unlink(). Threaded (TSan) tests: test_action_threads.c.
 *
 * Durations are only asserted against the bounds the API promises (EDEAD
 * within 100 ms of a server's death, cancel_requested within ~100 ms of a
 * client's death, a send timeout); the other latencies are logged.
 *
 * Goals are harness payloads (writer id, counter), so a goal can be
 * identified; the test servers answer a goal with transform(goal): same
 * length, every byte depending on the length and all goal bytes before it,
 * so a result delivered to the wrong goal never passes the check. Feedback
 * is a harness payload too (writer id = the goal's writer id, counter =
 * feedback number - 1), so feedback of another goal, or a torn one, fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "segment/layout.h"

#define MS 1000000ll
#define SEC 1000000000ll
#define GATE_MS 20000u

/* ---- helpers --------------------------------------------------------------- */

static uint32_t peek_u32(const char *path, uint64_t off);
static uint64_t peek_u64(const char *path, uint64_t off);
#define AH(field) ((uint64_t)offsetof(hcm_act_header, field))
#define AS(field) ((uint64_t)offsetof(hcm_act_slot, field))


static void action_path(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "/dev/shm/hcm.%s.a.%s", harness_domain(), name);
}

static int action_exists(const char *name)
{
    char path[512];
    struct stat st;
    action_path(name, path, sizeof path);
    return stat(path, &st) == 0;
}

static void unlink_action(const char *name)
{
    CHECK_OK(hcm_action_unlink(NULL, name));
    CHECK(!action_exists(name));
}

static hcm_action_server_attr bytes_attr(uint32_t slots, uint64_t max)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.slots = slots;
    a.goal_max = a.feedback_max = a.result_max = max;
    return a;
}

static hcm_action_server *open_server_attr(const char *name, const hcm_action_server_attr *a)
{
    hcm_action_server *srv = NULL;
    CHECK_OK(hcm_action_server_open(&srv, name, a));
    CHECK(srv != NULL);
    return srv;
}

static hcm_action_server *open_server(const char *name, uint32_t slots, uint64_t max)
{
    hcm_action_server_attr a = bytes_attr(slots, max);
    return open_server_attr(name, &a);
}

static hcm_action_client *open_client(const char *name)
{
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, name, NULL));
    CHECK(cli != NULL);
    return cli;
}

static void *shared_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        FAIL("mmap: %s", strerror(errno));
    return p;
}

/* The answer of the test servers. */
static void transform(const void *goal, size_t len, void *result)
{
    const uint8_t *in = goal;
    uint8_t *out = result;
    uint64_t h = harness_mix64(0xac7100u + (uint64_t)len);
    for (size_t i = 0; i < len; i++) {
        h = harness_mix64(h ^ in[i]);
        out[i] = (uint8_t)h;
    }
}

static int is_answer(const void *goal, size_t len, const void *result, size_t result_len)
{
    uint8_t want[4096];
    if (len > sizeof want || result_len != len)
        return 0;
    transform(goal, len, want);
    return memcmp(result, want, len) == 0;
}

static const char *st_name(hcm_goal_status st) { return hcm_goal_status_name(st); }

#define CHECK_STATUS(got, want)                                                   \
    do {                                                                          \
        hcm_goal_status cs_got_ = (got), cs_want_ = (want);                       \
        if (cs_got_ != cs_want_)                                                  \
            FAIL("status %s (%d), want %s", st_name(cs_got_), (int)cs_got_,       \
                 st_name(cs_want_));                                              \
    } while (0)

static hcm_goal_status status_of(hcm_action_client *cli, hcm_goal g)
{
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_status(cli, g, &st));
    return st;
}

/* Sends the payload goal (who, n) of len bytes. */
static hcm_goal send_payload(hcm_action_client *cli, uint32_t who, uint64_t n, size_t len)
{
    uint8_t goal[512];
    hcm_goal g;
    CHECK(len <= sizeof goal);
    harness_payload_fill(goal, len, who, n);
    CHECK_OK(hcm_action_client_send(cli, goal, len, &g, 5 * SEC));
    CHECK(g.id != 0);
    return g;
}

/* Takes one goal (waiting up to 10 s), checks it is the payload (who, n). */
static hcm_goal take_payload(hcm_action_server *srv, uint32_t who, uint64_t n, uint8_t *buf,
                             size_t cap, size_t *lenp)
{
    hcm_goal g;
    uint32_t got_who = 0;
    uint64_t got_n = 0;
    CHECK_OK(hcm_action_server_take(srv, buf, cap, lenp, &g, 10 * SEC));
    if (!harness_payload_check(buf, *lenp, &got_who, &got_n))
        FAIL("taken goal %llu (%zu bytes) is not a valid payload", (unsigned long long)g.id,
             *lenp);
    CHECK_EQ(got_who, who);
    CHECK_EQ_U64(got_n, n);
    return g;
}

static hcm_goal take_any(hcm_action_server *srv, uint8_t *buf, size_t cap, size_t *lenp)
{
    hcm_goal g;
    CHECK_OK(hcm_action_server_take(srv, buf, cap, lenp, &g, 10 * SEC));
    return g;
}

/* Finishes `g` (goal bytes `goal`) with transform(goal). */
static void finish_answer(hcm_action_server *srv, hcm_goal g, hcm_goal_status st,
                          const uint8_t *goal, size_t len)
{
    uint8_t res[4096];
    CHECK(len <= sizeof res);
    transform(goal, len, res);
    CHECK_OK(hcm_action_server_finish(srv, g, st, res, len));
}

/* The client's result of goal (who, n, len): `want` status and the answer. */
static void expect_answer(hcm_action_client *cli, hcm_goal g, uint32_t who, uint64_t n,
                          size_t len, hcm_goal_status want)
{
    uint8_t goal[512], res[512];
    size_t rlen = 0;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    harness_payload_fill(goal, len, who, n);
    CHECK_OK(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * SEC));
    CHECK_STATUS(st, want);
    CHECK_EQ(rlen, len);
    CHECK(is_answer(goal, len, res, rlen));
}

/* The client's result of g: `want` status and an empty result. */
static void expect_empty(hcm_action_client *cli, hcm_goal g, hcm_goal_status want)
{
    uint8_t res[512];
    size_t rlen = 12345;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * SEC));
    CHECK_STATUS(st, want);
    CHECK_EQ(rlen, 0);
}

/* Takes any goal, accepts, executes, publishes `feedbacks` feedback payloads
 * and succeeds with the answer. */
static void serve_one(hcm_action_server *srv, int feedbacks)
{
    uint8_t buf[512], fb[64];
    size_t len = 0;
    uint32_t who = 0;
    uint64_t n = 0;
    hcm_goal g = take_any(srv, buf, sizeof buf, &len);
    CHECK_OK(hcm_action_server_accept(srv, g));
    CHECK_OK(hcm_action_server_execute(srv, g));
    if (!harness_payload_check(buf, len, &who, &n))
        who = 0;
    for (int i = 0; i < feedbacks; i++) {
        harness_payload_fill(fb, sizeof fb, who, (uint64_t)i);
        CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    }
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
}

/* Takes, accepts and executes one goal; returns it (goal bytes in buf). */
static hcm_goal take_and_execute(hcm_action_server *srv, uint8_t *buf, size_t cap, size_t *lenp)
{
    hcm_goal g = take_any(srv, buf, cap, lenp);
    CHECK_OK(hcm_action_server_accept(srv, g));
    CHECK_OK(hcm_action_server_execute(srv, g));
    return g;
}

/* Forks a server of `name` (BYTES, `slots` slots, maxima 512) that serves
 * every goal (3 feedbacks, then the answer) until `stop` is passed, then
 * closes and exits 0. Returns once the server is open. */
static pid_t fork_serving_server(const char *name, uint32_t slots, harness_gate *stop)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_server *srv = open_server(name, slots, 512);
        harness_gate_pass(&ready, 1);
        for (;;) {
            uint8_t buf[512], fb[64], v;
            size_t len = 0;
            hcm_goal g;
            int rc = hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 20 * MS);
            if (rc == HCM_ETIMEDOUT) {
                if (harness_gate_poll(stop, &v))
                    break;
                continue;
            }
            CHECK_OK(rc);
            uint32_t who = 0;
            uint64_t n = 0;
            CHECK(harness_payload_check(buf, len, &who, &n));
            rc = hcm_action_server_accept(srv, g);
            if (rc == HCM_ECANCELED)
                continue;
            CHECK_OK(rc);
            CHECK_OK(hcm_action_server_execute(srv, g));
            for (uint64_t i = 0; i < 3; i++) {
                harness_payload_fill(fb, sizeof fb, who, i);
                CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
            }
            finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
        }
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    harness_gate_close(&ready);
    return pid;
}

/* Forks a server of `name` (BYTES, `slots` slots, maxima 512) that takes
 * `takes` goals, accepts and executes the first `accepts` of them, passes
 * `taken` (if not NULL), and then sits silent until killed or `stop` is
 * passed (then closes and exits 0). Returns once it is open. */
static pid_t fork_holding_server(const char *name, uint32_t slots, int takes, int accepts,
                                 harness_gate *taken, harness_gate *stop)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_action_server *srv = open_server(name, slots, 512);
        harness_gate_pass(&ready, 1);
        for (int i = 0; i < takes; i++) {
            uint8_t buf[512];
            size_t len;
            hcm_goal g = take_any(srv, buf, sizeof buf, &len);
            if (i < accepts) {
                CHECK_OK(hcm_action_server_accept(srv, g));
                CHECK_OK(hcm_action_server_execute(srv, g));
            }
        }
        if (taken != NULL)
            harness_gate_pass(taken, 1);
        harness_gate_wait(stop, 45000);
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    harness_gate_close(&ready);
    return pid;
}

/* ---- a wait or a result on a background thread ---------------------------- */

enum { BG_RESULT, BG_WAIT };

typedef struct bg_op {
    int mode;
    hcm_action_client *cli;
    hcm_goal goal;
    int64_t timeout_ns;
    int rc;
    hcm_goal_status status;
    uint8_t res[512];
    size_t res_len;
    int waits;      /* BG_WAIT: how many waits returned HCM_OK before the last */
    int64_t end_ns; /* CLOCK_MONOTONIC when the call returned */
    char errmsg[512];
    atomic_int done;
    pthread_t th;
} bg_op;

static void *bg_main(void *p)
{
    bg_op *b = p;
    if (b->mode == BG_RESULT) {
        b->rc = hcm_action_client_result(b->cli, b->goal, b->res, sizeof b->res, &b->res_len,
                                         &b->status, b->timeout_ns);
    } else {
        /* Catch up with the events so far, then wait until a wait fails. */
        uint32_t ev = 0;
        b->rc = hcm_action_client_wait(b->cli, b->goal, &ev, 0);
        while (b->rc == HCM_OK) {
            b->rc = hcm_action_client_wait(b->cli, b->goal, &ev, b->timeout_ns);
            if (b->rc == HCM_OK)
                b->waits++;
        }
    }
    b->end_ns = harness_now_ns();
    snprintf(b->errmsg, sizeof b->errmsg, "%s", hcm_errmsg());
    atomic_store(&b->done, 1);
    return NULL;
}

static void bg_start(bg_op *b, int mode, hcm_action_client *cli, hcm_goal g, int64_t timeout_ns)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    b->cli = cli;
    b->goal = g;
    b->timeout_ns = timeout_ns;
    atomic_store(&b->done, 0);
    int err = pthread_create(&b->th, NULL, bg_main, b);
    if (err != 0)
        FAIL("pthread_create: %s", strerror(err));
}

static int bg_done(bg_op *b) { return atomic_load(&b->done); }

static void bg_join(bg_op *b, unsigned timeout_ms)
{
    int64_t deadline = harness_now_ns() + (int64_t)timeout_ms * MS;
    while (!bg_done(b)) {
        if (harness_now_ns() > deadline)
            FAIL("the background call did not return within %u ms", timeout_ms);
        harness_sleep_ms(1);
    }
    pthread_join(b->th, NULL);
}

static double ms_of(int64_t ns) { return (double)ns / 1e6; }

/* ---- round trips, ids, order ---------------------------------------------------- */

TEST(goals_sent_from_another_process_succeed_with_their_own_results)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("echo", 8, &stop);
    hcm_action_client *cli = open_client("echo");
    for (uint64_t n = 0; n < 30; n++) {
        size_t len = 24 + (size_t)(n * 7 % 400);
        hcm_goal g = send_payload(cli, 1, n, len);
        expect_answer(cli, g, 1, n, len, HCM_GOAL_SUCCEEDED);
    }
    hcm_action_client_close(cli);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    unlink_action("echo");
    harness_gate_close(&stop);
}

TEST(goal_ids_are_unique_and_increasing_across_client_processes)
{
    enum { CLIENTS = 3, GOALS = 40 };
    uint64_t *ids = shared_map(sizeof(uint64_t) * CLIENTS * GOALS);
    hcm_action_server *srv = open_server("ids", CLIENTS * GOALS, 64);
    pid_t pids[CLIENTS];
    for (int c = 0; c < CLIENTS; c++) {
        pids[c] = harness_fork();
        if (pids[c] == 0) {
            hcm_action_client *cli = open_client("ids");
            uint64_t last = 0;
            for (int n = 0; n < GOALS; n++) {
                hcm_goal g = send_payload(cli, (uint32_t)c, (uint64_t)n, 24);
                if (g.id <= last)
                    FAIL("goal id %llu after %llu: not increasing", (unsigned long long)g.id,
                         (unsigned long long)last);
                last = g.id;
                ids[c * GOALS + n] = g.id;
            }
            hcm_action_client_close(cli); /* cancels the pending goals */
            _exit(0);
        }
    }
    for (int c = 0; c < CLIENTS; c++)
        CHECK_CHILD_OK(pids[c]);
    uint64_t max = 0;
    for (int i = 0; i < CLIENTS * GOALS; i++) {
        CHECK(ids[i] != 0);
        if (ids[i] > max)
            max = ids[i];
        for (int j = 0; j < i; j++)
            if (ids[i] == ids[j])
                FAIL("goal id %llu given twice", (unsigned long long)ids[i]);
    }
    harness_log("%d goals from %d processes: ids unique, 1..%llu", CLIENTS * GOALS, CLIENTS,
                (unsigned long long)max);
    hcm_action_server_close(srv);
    unlink_action("ids");
}

TEST(the_server_takes_goals_in_the_order_they_were_sent)
{
    enum { N = 12 };
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_action_client *cli = open_client("fifo");
        hcm_goal goals[N];
        for (uint64_t n = 0; n < N; n++)
            goals[n] = send_payload(cli, 3, n, 32);
        harness_gate_pass(&sent, 1);
        for (uint64_t n = 0; n < N; n++)
            expect_answer(cli, goals[n], 3, n, 32, HCM_GOAL_SUCCEEDED);
        hcm_action_client_close(cli);
        _exit(0);
    }
    hcm_action_server *srv = open_server("fifo", 16, 256);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    uint64_t last = 0;
    for (uint64_t n = 0; n < N; n++) {
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g = take_payload(srv, 3, n, buf, sizeof buf, &len);
        CHECK(g.id > last);
        last = g.id;
        CHECK_OK(hcm_action_server_accept(srv, g));
        finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    }
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("fifo");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

/* ---- the status machine ---------------------------------------------------------- */

/* Server (parent) and client (child) in lock step: after each server step the
 * client waits for the change and checks the status it sees. */
TEST(a_goal_goes_pending_accepted_executing_succeeded_and_the_client_sees_each_step)
{
    harness_gate sent, step, ack;
    harness_gate_init(&sent);
    harness_gate_init(&step);
    harness_gate_init(&ack);
    hcm_action_server *srv = open_server("life", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("life");
        hcm_goal g = send_payload(cli, 5, 0, 40);
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
        uint32_t ev = 0;
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 0)); /* catch up */
        CHECK_RC(hcm_action_client_wait(cli, g, &ev, 20 * MS), HCM_ETIMEDOUT);
        harness_gate_pass(&sent, 1);
        /* 1: taken (not accepted yet): still pending for the client */
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 1);
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
        harness_gate_pass(&ack, 1);
        /* 2: accepted */
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 2);
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 5 * SEC));
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_ACCEPTED);
        harness_gate_pass(&ack, 1);
        /* 3: executing */
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 3);
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 5 * SEC));
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
        harness_gate_pass(&ack, 1);
        /* 4: one feedback: a change, status unchanged */
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 4);
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 5 * SEC));
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
        uint8_t fb[64];
        size_t fl = 0;
        uint64_t seq = 0;
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq));
        CHECK_EQ_U64(seq, 1);
        harness_gate_pass(&ack, 1);
        /* 5: succeeded */
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 5);
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 5 * SEC));
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_SUCCEEDED);
        expect_answer(cli, g, 5, 0, 40, HCM_GOAL_SUCCEEDED);
        /* nothing changes any more */
        CHECK_RC(hcm_action_client_wait(cli, g, &ev, 20 * MS), HCM_ETIMEDOUT);
        hcm_action_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256], fb[64];
    size_t len = 0;
    hcm_goal g = take_payload(srv, 5, 0, buf, sizeof buf, &len);
    harness_gate_pass(&step, 1);
    harness_gate_wait(&ack, GATE_MS);
    CHECK_OK(hcm_action_server_accept(srv, g));
    harness_gate_pass(&step, 2);
    harness_gate_wait(&ack, GATE_MS);
    CHECK_OK(hcm_action_server_execute(srv, g));
    harness_gate_pass(&step, 3);
    harness_gate_wait(&ack, GATE_MS);
    harness_payload_fill(fb, sizeof fb, 5, 0);
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    harness_gate_pass(&step, 4);
    harness_gate_wait(&ack, GATE_MS);
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    harness_gate_pass(&step, 5);
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("life");
    harness_gate_close(&sent);
    harness_gate_close(&step);
    harness_gate_close(&ack);
}

TEST(a_goal_can_finish_from_accepted_without_execute)
{
    hcm_action_server *srv = open_server("noexec", 4, 256);
    hcm_action_client *cli = open_client("noexec");
    hcm_goal g = send_payload(cli, 1, 0, 30);
    uint8_t buf[256];
    size_t len = 0;
    CHECK(take_payload(srv, 1, 0, buf, sizeof buf, &len).id == g.id);
    CHECK_OK(hcm_action_server_accept(srv, g));
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_ACCEPTED);
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    expect_answer(cli, g, 1, 0, 30, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("noexec");
}

TEST(an_aborted_goal_reaches_its_client_as_aborted_with_its_result)
{
    hcm_action_server *srv = open_server("abort", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("abort");
        hcm_goal g = send_payload(cli, 2, 7, 48);
        expect_answer(cli, g, 2, 7, 48, HCM_GOAL_ABORTED);
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_ABORTED);
        hcm_action_client_close(cli);
        _exit(0);
    }
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g = take_payload(srv, 2, 7, buf, sizeof buf, &len);
    CHECK_OK(hcm_action_server_accept(srv, g));
    CHECK_OK(hcm_action_server_execute(srv, g));
    finish_answer(srv, g, HCM_GOAL_ABORTED, buf, len);
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("abort");
}

TEST(status_names_and_finality_are_as_documented)
{
    static const struct {
        hcm_goal_status st;
        const char *name;
        int final;
    } all[] = {
        {HCM_GOAL_UNKNOWN, "unknown", 0},     {HCM_GOAL_PENDING, "pending", 0},
        {HCM_GOAL_ACCEPTED, "accepted", 0},   {HCM_GOAL_EXECUTING, "executing", 0},
        {HCM_GOAL_CANCELING, "canceling", 0}, {HCM_GOAL_SUCCEEDED, "succeeded", 1},
        {HCM_GOAL_CANCELED, "canceled", 1},   {HCM_GOAL_ABORTED, "aborted", 1},
        {HCM_GOAL_REJECTED, "rejected", 1},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(hcm_goal_status_name(all[i].st), all[i].name) != 0)
            FAIL("status %d is named \"%s\", want \"%s\"", (int)all[i].st,
                 hcm_goal_status_name(all[i].st), all[i].name);
        CHECK_EQ(hcm_goal_status_is_final(all[i].st), all[i].final);
    }
    const int odd[] = {9, 16, 17, 1000, -1};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        CHECK(strcmp(hcm_goal_status_name((hcm_goal_status)odd[i]), "unknown") == 0);
        CHECK_EQ(hcm_goal_status_is_final((hcm_goal_status)odd[i]), 0);
    }
}

/* ---- illegal transitions --------------------------------------------------------- */

/* One process: a server and a client, a goal taken and left TAKEN. */
typedef struct pair {
    hcm_action_server *srv;
    hcm_action_client *cli;
    hcm_goal g;
    uint8_t goal[256];
    size_t len;
} pair;

static void pair_open(pair *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->srv = open_server(name, 8, 256);
    p->cli = open_client(name);
    hcm_goal sent = send_payload(p->cli, 9, 0, 40);
    p->g = take_payload(p->srv, 9, 0, p->goal, sizeof p->goal, &p->len);
    CHECK_EQ_U64(p->g.id, sent.id);
    CHECK_EQ(p->g.slot, sent.slot);
}

static void pair_close(pair *p, const char *name)
{
    hcm_action_client_close(p->cli);
    hcm_action_server_close(p->srv);
    unlink_action(name);
}

TEST(finishing_canceled_without_a_cancel_request_gets_einval)
{
    pair p;
    pair_open(&p, "nocancel");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_RC(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_CANCELED, NULL, 0), HCM_EINVAL);
    CHECK_CONTAINS(hcm_errmsg(), "cancel");
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    CHECK_RC(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_CANCELED, NULL, 0), HCM_EINVAL);
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_EXECUTING);
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, p.g), 0);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "nocancel");
}

TEST(finishing_a_finished_goal_gets_einval_and_keeps_the_first_end)
{
    pair p;
    pair_open(&p, "twice");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    const hcm_goal_status ends[] = {HCM_GOAL_SUCCEEDED, HCM_GOAL_ABORTED, HCM_GOAL_CANCELED};
    for (size_t i = 0; i < 3; i++) {
        uint8_t other[40];
        memset(other, 0xee, sizeof other);
        CHECK_RC(hcm_action_server_finish(p.srv, p.g, ends[i], other, sizeof other),
                 HCM_EINVAL);
    }
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "twice");
}

TEST(accepting_or_rejecting_an_accepted_goal_gets_einval)
{
    pair p;
    pair_open(&p, "reaccept");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_RC(hcm_action_server_accept(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_reject(p.srv, p.g), HCM_EINVAL);
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_ACCEPTED);
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    CHECK_RC(hcm_action_server_accept(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_reject(p.srv, p.g), HCM_EINVAL);
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_EXECUTING);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "reaccept");
}

TEST(accepting_or_rejecting_a_finished_goal_gets_einval_and_leaves_its_result_intact)
{
    pair p;
    pair_open(&p, "refinish");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    CHECK_RC(hcm_action_server_accept(p.srv, p.g), HCM_EINVAL);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    CHECK_RC(hcm_action_server_reject(p.srv, p.g), HCM_EINVAL);
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_SUCCEEDED);
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_OK(hcm_action_client_query(p.cli, p.g.id, &st, res, sizeof res, &rlen));
    if (rlen != p.len || !is_answer(p.goal, p.len, res, rlen))
        FAIL("after a refused reject() the succeeded goal's result is %zu bytes (was %zu)", rlen,
             p.len);
    pair_close(&p, "refinish");
}

TEST(feedback_and_execute_on_a_finished_goal_get_einval)
{
    pair p;
    pair_open(&p, "fbdone");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    uint8_t fb[32];
    harness_payload_fill(fb, sizeof fb, 9, 0);
    CHECK_OK(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb));
    finish_answer(p.srv, p.g, HCM_GOAL_ABORTED, p.goal, p.len);
    harness_payload_fill(fb, sizeof fb, 9, 1);
    CHECK_RC(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb), HCM_EINVAL);
    CHECK_RC(hcm_action_server_execute(p.srv, p.g), HCM_EINVAL);
    /* the client still has the one feedback sent while it ran */
    uint8_t got[64];
    size_t fl = 0;
    uint64_t seq = 0;
    uint32_t who = 0;
    uint64_t n = 99;
    CHECK_OK(hcm_action_client_feedback(p.cli, p.g, got, sizeof got, &fl, &seq));
    CHECK_EQ_U64(seq, 1);
    CHECK(harness_payload_check(got, fl, &who, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_RC(hcm_action_client_feedback(p.cli, p.g, got, sizeof got, &fl, &seq), HCM_EAGAIN);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_ABORTED);
    pair_close(&p, "fbdone");
}

TEST(feedback_execute_or_finish_of_a_taken_goal_before_accept_gets_einval)
{
    pair p;
    pair_open(&p, "early");
    uint8_t fb[32];
    harness_payload_fill(fb, sizeof fb, 9, 0);
    CHECK_RC(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb), HCM_EINVAL);
    CHECK_RC(hcm_action_server_execute(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_SUCCEEDED, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_ABORTED, NULL, 0), HCM_EINVAL);
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_PENDING);
    uint8_t got[64];
    size_t fl = 0;
    uint64_t seq = 0;
    CHECK_RC(hcm_action_client_feedback(p.cli, p.g, got, sizeof got, &fl, &seq), HCM_EAGAIN);
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "early");
}

TEST(finishing_with_a_status_other_than_succeeded_aborted_or_canceled_gets_einval)
{
    pair p;
    pair_open(&p, "badend");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    const int bad[] = {HCM_GOAL_UNKNOWN, HCM_GOAL_PENDING, HCM_GOAL_ACCEPTED,
                       HCM_GOAL_EXECUTING, HCM_GOAL_CANCELING, HCM_GOAL_REJECTED, 9, 16, 17,
                       -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = hcm_action_server_finish(p.srv, p.g, (hcm_goal_status)bad[i], NULL, 0);
        if (rc != HCM_EINVAL)
            FAIL("finish with status %d gave %s, want HCM_EINVAL", bad[i], harness_errname(rc));
        CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_EXECUTING);
    }
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "badend");
}

TEST(rejecting_a_rejected_goal_or_accepting_it_gets_einval)
{
    pair p;
    pair_open(&p, "rerej");
    CHECK_OK(hcm_action_server_reject(p.srv, p.g));
    CHECK_RC(hcm_action_server_reject(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_accept(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_execute(p.srv, p.g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_SUCCEEDED, NULL, 0), HCM_EINVAL);
    expect_empty(p.cli, p.g, HCM_GOAL_REJECTED);
    pair_close(&p, "rerej");
}

TEST(accepting_or_rejecting_a_goal_that_was_not_taken_gets_einval)
{
    hcm_action_server *srv = open_server("untaken", 4, 256);
    hcm_action_client *cli = open_client("untaken");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    CHECK_RC(hcm_action_server_accept(srv, g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_reject(srv, g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, NULL, 0), HCM_EINVAL);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
    /* it is still handed out normally */
    uint8_t buf[256];
    size_t len = 0;
    CHECK_EQ_U64(take_payload(srv, 1, 0, buf, sizeof buf, &len).id, g.id);
    CHECK_OK(hcm_action_server_accept(srv, g));
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("untaken");
}

TEST(cancelling_a_finished_goal_gets_einval_and_it_stays_as_it_ended)
{
    pair p;
    pair_open(&p, "latecancel");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    CHECK_RC(hcm_action_client_cancel(p.cli, p.g), HCM_EINVAL);
    CHECK_CONTAINS(hcm_errmsg(), "succeeded");
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_SUCCEEDED);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "latecancel");
}

/* ---- cancel ------------------------------------------------------------------------ */

TEST(cancelling_a_pending_goal_ends_it_canceled_at_once_and_it_is_never_handed_out)
{
    harness_gate ready, go;
    harness_gate_init(&ready);
    harness_gate_init(&go);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_action_server *srv = open_server("cpend", 4, 256);
        harness_gate_pass(&ready, 1);
        harness_gate_wait(&go, GATE_MS);
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g;
        CHECK_RC(hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 200 * MS),
                 HCM_ETIMEDOUT);
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_client *cli = open_client("cpend");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
    CHECK_OK(hcm_action_client_cancel(cli, g));
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_CANCELED); /* at once: nobody asked */
    uint8_t res[64];
    size_t rlen = 99;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 0));
    CHECK_STATUS(st, HCM_GOAL_CANCELED);
    CHECK_EQ(rlen, 0);
    CHECK_RC(hcm_action_client_cancel(cli, g), HCM_EINVAL); /* it ended */
    harness_gate_pass(&go, 1);
    CHECK_CHILD_OK(server);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_CANCELED);
    hcm_action_client_close(cli);
    unlink_action("cpend");
    harness_gate_close(&ready);
    harness_gate_close(&go);
}

TEST(cancelling_a_taken_goal_makes_accept_return_ecanceled_and_the_goal_canceled)
{
    harness_gate ready, taken, go;
    harness_gate_init(&ready);
    harness_gate_init(&taken);
    harness_gate_init(&go);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_action_server *srv = open_server("ctaken", 4, 256);
        harness_gate_pass(&ready, 1);
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g = take_payload(srv, 1, 0, buf, sizeof buf, &len);
        harness_gate_pass(&taken, 1);
        harness_gate_wait(&go, GATE_MS);
        CHECK_EQ(hcm_action_server_cancel_requested(srv, g), 1);
        CHECK_RC(hcm_action_server_accept(srv, g), HCM_ECANCELED);
        /* it must not be executed: nothing else works on it */
        CHECK_RC(hcm_action_server_execute(srv, g), HCM_EINVAL);
        CHECK_RC(hcm_action_server_feedback(srv, g, buf, 24), HCM_EINVAL);
        CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, buf, len), HCM_EINVAL);
        CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_CANCELED, NULL, 0), HCM_EINVAL);
        CHECK_RC(hcm_action_server_accept(srv, g), HCM_EINVAL);
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_client *cli = open_client("ctaken");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
    CHECK_OK(hcm_action_client_cancel(cli, g));
    CHECK(!hcm_goal_status_is_final(status_of(cli, g))); /* the server has it */
    harness_gate_pass(&go, 1);
    expect_empty(cli, g, HCM_GOAL_CANCELED);
    CHECK_CHILD_OK(server);
    hcm_action_client_close(cli);
    unlink_action("ctaken");
    harness_gate_close(&ready);
    harness_gate_close(&taken);
    harness_gate_close(&go);
}

typedef struct cancel_times {
    _Atomic int64_t cancel_ns; /* the client called cancel */
    _Atomic int64_t seen_ns;   /* the server saw cancel_requested == 1 */
    _Atomic int polls;
} cancel_times;

TEST(cancelling_a_silent_executing_goal_shows_canceling_and_the_server_ends_it_canceled)
{
    cancel_times *t = shared_map(sizeof *t);
    harness_gate ready, executing;
    harness_gate_init(&ready);
    harness_gate_init(&executing);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_action_server *srv = open_server("csilent", 4, 256);
        harness_gate_pass(&ready, 1);
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
        harness_gate_pass(&executing, 1);
        int64_t deadline = harness_now_ns() + 10 * SEC;
        while (!hcm_action_server_cancel_requested(srv, g)) { /* no feedback: just polls */
            atomic_fetch_add(&t->polls, 1);
            if (harness_now_ns() > deadline)
                FAIL("cancel_requested never turned 1");
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&t->seen_ns, harness_now_ns());
        finish_answer(srv, g, HCM_GOAL_CANCELED, buf, 10); /* a partial result */
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_client *cli = open_client("csilent");
    hcm_goal g = send_payload(cli, 4, 1, 64);
    harness_gate_wait(&executing, GATE_MS);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
    harness_sleep_ms(30);
    atomic_store(&t->cancel_ns, harness_now_ns());
    CHECK_OK(hcm_action_client_cancel(cli, g));
    hcm_goal_status st = status_of(cli, g);
    if (st != HCM_GOAL_CANCELING && st != HCM_GOAL_CANCELED)
        FAIL("status right after cancel: %s, want canceling", st_name(st));
    CHECK_OK(hcm_action_client_cancel(cli, g)); /* again: still fine while canceling */
    uint8_t goal[64], res[64], want[64];
    size_t rlen = 0;
    harness_payload_fill(goal, 64, 4, 1);
    transform(goal, 10, want);
    CHECK_OK(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * SEC));
    CHECK_STATUS(st, HCM_GOAL_CANCELED);
    CHECK_EQ(rlen, 10);
    CHECK(memcmp(res, want, 10) == 0);
    CHECK_CHILD_OK(server);
    harness_log("status right after cancel: canceling; the silent server saw the request "
                "%.3f ms after cancel() (%d polls before)",
                ms_of(atomic_load(&t->seen_ns) - atomic_load(&t->cancel_ns)),
                atomic_load(&t->polls));
    hcm_action_client_close(cli);
    unlink_action("csilent");
    harness_gate_close(&ready);
    harness_gate_close(&executing);
}

TEST(a_cancel_requested_goal_the_busy_server_finishes_succeeded_ends_succeeded)
{
    harness_gate ready, executing, canceled;
    harness_gate_init(&ready);
    harness_gate_init(&executing);
    harness_gate_init(&canceled);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_action_server *srv = open_server("cbusy", 4, 256);
        harness_gate_pass(&ready, 1);
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
        harness_gate_pass(&executing, 1);
        harness_gate_wait(&canceled, GATE_MS); /* busy: not looking */
        CHECK_EQ(hcm_action_server_cancel_requested(srv, g), 1);
        finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len); /* the server decides */
        hcm_action_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    hcm_action_client *cli = open_client("cbusy");
    hcm_goal g = send_payload(cli, 4, 2, 80);
    harness_gate_wait(&executing, GATE_MS);
    CHECK_OK(hcm_action_client_cancel(cli, g));
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_CANCELING);
    harness_gate_pass(&canceled, 1);
    expect_answer(cli, g, 4, 2, 80, HCM_GOAL_SUCCEEDED);
    CHECK_CHILD_OK(server);
    hcm_action_client_close(cli);
    unlink_action("cbusy");
    harness_gate_close(&ready);
    harness_gate_close(&executing);
    harness_gate_close(&canceled);
}

TEST(a_cancel_requested_goal_can_end_aborted)
{
    pair p;
    pair_open(&p, "cabort");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    CHECK_OK(hcm_action_client_cancel(p.cli, p.g));
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_CANCELING);
    finish_answer(p.srv, p.g, HCM_GOAL_ABORTED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_ABORTED);
    pair_close(&p, "cabort");
}

TEST(cancelling_an_accepted_goal_makes_it_canceling_and_execute_leaves_it_canceling)
{
    pair p;
    pair_open(&p, "cacc");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_client_cancel(p.cli, p.g));
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_CANCELING);
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, p.g), 1);
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_CANCELING);
    uint8_t fb[32];
    harness_payload_fill(fb, sizeof fb, 9, 0);
    CHECK_OK(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb)); /* still running */
    CHECK_OK(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_CANCELED, NULL, 0));
    expect_empty(p.cli, p.g, HCM_GOAL_CANCELED);
    pair_close(&p, "cacc");
}

TEST(a_client_closing_with_a_running_goal_asks_the_server_to_cancel_it)
{
    harness_gate sent, executing, closed;
    harness_gate_init(&sent);
    harness_gate_init(&executing);
    harness_gate_init(&closed);
    hcm_action_server *srv = open_server("cclose", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("cclose");
        send_payload(cli, 1, 0, 24);
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&executing, GATE_MS);
        hcm_action_client_close(cli);
        harness_gate_pass(&closed, 1);
        harness_gate_wait(&executing, GATE_MS); /* stays alive until the end */
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
    CHECK_EQ(hcm_action_server_cancel_requested(srv, g), 0);
    harness_gate_pass(&executing, 1);
    harness_gate_wait(&closed, GATE_MS);
    CHECK_EQ(hcm_action_server_cancel_requested(srv, g), 1);
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_CANCELED, NULL, 0));
    harness_gate_pass(&executing, 1);
    CHECK_CHILD_OK(client);
    hcm_action_client *late = open_client("cclose");
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    uint8_t res[64];
    size_t rlen = 99;
    CHECK_OK(hcm_action_client_query(late, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_CANCELED);
    CHECK_EQ(rlen, 0);
    hcm_action_client_close(late);
    hcm_action_server_close(srv);
    unlink_action("cclose");
    harness_gate_close(&sent);
    harness_gate_close(&executing);
    harness_gate_close(&closed);
}

TEST(a_client_closing_with_pending_goals_cancels_them_and_they_are_never_handed_out)
{
    hcm_action_server *srv = open_server("cclosep", 8, 256);
    hcm_action_client *cli = open_client("cclosep");
    hcm_goal a = send_payload(cli, 1, 0, 24);
    hcm_goal b = send_payload(cli, 1, 1, 24);
    hcm_action_client_close(cli);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g;
    CHECK_RC(hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 0), HCM_ETIMEDOUT);
    hcm_action_client *late = open_client("cclosep");
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_query(late, a.id, &st, buf, sizeof buf, &len));
    CHECK_STATUS(st, HCM_GOAL_CANCELED);
    CHECK_OK(hcm_action_client_query(late, b.id, &st, buf, sizeof buf, &len));
    CHECK_STATUS(st, HCM_GOAL_CANCELED);
    hcm_action_client_close(late);
    hcm_action_server_close(srv);
    unlink_action("cclosep");
}

/* ---- rejection ------------------------------------------------------------------- */

TEST(a_rejection_reaches_the_waiting_client_at_once_with_an_empty_result)
{
    int64_t *times = shared_map(2 * sizeof(int64_t)); /* [0] reject, [1] client return */
    harness_gate sent;
    harness_gate_init(&sent);
    hcm_action_server *srv = open_server("reject", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("reject");
        hcm_goal g = send_payload(cli, 1, 0, 24);
        harness_gate_pass(&sent, 1);
        uint8_t res[64];
        size_t rlen = 99;
        hcm_goal_status st = HCM_GOAL_UNKNOWN;
        int rc = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * SEC);
        times[1] = harness_now_ns();
        CHECK_OK(rc);
        CHECK_STATUS(st, HCM_GOAL_REJECTED);
        CHECK_EQ(rlen, 0);
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_REJECTED);
        CHECK_RC(hcm_action_client_cancel(cli, g), HCM_EINVAL);
        hcm_action_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    harness_sleep_ms(50); /* the client sleeps in result() */
    times[0] = harness_now_ns();
    CHECK_OK(hcm_action_server_reject(srv, g));
    CHECK_CHILD_OK(client);
    harness_log("the client's result() returned REJECTED %.3f ms after reject()",
                ms_of(times[1] - times[0]));
    hcm_action_server_close(srv);
    unlink_action("reject");
    harness_gate_close(&sent);
}

/* ---- several goals at once -------------------------------------------------------- */

#define THREE 3
static const size_t three_len[THREE] = {24, 100, 300};
#define THREE_STEPS 20

/* Client side of the three-goal tests: sends goals (10+i, i) of three_len[i]
 * bytes, follows their feedback (each must be of its own goal, in order) and
 * checks each result. */
static void three_goals_client(const char *name, harness_gate *sent)
{
    hcm_action_client *cli = open_client(name);
    hcm_goal g[THREE];
    uint64_t seq[THREE] = {0};
    int final[THREE] = {0}, left = THREE;
    uint64_t fbs = 0;
    for (int i = 0; i < THREE; i++)
        g[i] = send_payload(cli, 10u + (uint32_t)i, (uint64_t)i, three_len[i]);
    harness_gate_pass(sent, 1);
    int64_t deadline = harness_now_ns() + 20 * SEC;
    while (left > 0) {
        for (int i = 0; i < THREE; i++) {
            uint8_t fb[512];
            size_t fl = 0;
            uint64_t s = seq[i];
            int rc;
            while ((rc = hcm_action_client_feedback(cli, g[i], fb, sizeof fb, &fl, &s)) ==
                   HCM_OK) {
                uint32_t who = 0;
                uint64_t n = 0;
                if (!harness_payload_check(fb, fl, &who, &n))
                    FAIL("goal %d: torn feedback (%zu bytes)", i, fl);
                if (who != 10u + (uint32_t)i || n + 1 != s || s <= seq[i])
                    FAIL("goal %d got feedback (who %u, n %llu) as seq %llu after %llu", i,
                         who, (unsigned long long)n, (unsigned long long)s,
                         (unsigned long long)seq[i]);
                seq[i] = s;
                fbs++;
            }
            CHECK_RC(rc, HCM_EAGAIN);
            if (!final[i] && hcm_goal_status_is_final(status_of(cli, g[i]))) {
                final[i] = 1;
                left--;
            }
        }
        if (harness_now_ns() > deadline)
            FAIL("goals not finished in 20 s");
        harness_sleep_ms(1);
    }
    for (int i = 0; i < THREE; i++) {
        expect_answer(cli, g[i], 10u + (uint32_t)i, (uint64_t)i, three_len[i],
                      HCM_GOAL_SUCCEEDED);
        uint8_t fb[512];
        size_t fl = 0;
        uint64_t s = seq[i];
        int rc = hcm_action_client_feedback(cli, g[i], fb, sizeof fb, &fl, &s);
        CHECK(rc == HCM_OK || rc == HCM_EAGAIN);
        CHECK_EQ_U64(s, THREE_STEPS); /* the last feedback is there after the end */
    }
    harness_log("client saw %llu of %d feedbacks", (unsigned long long)fbs, THREE * THREE_STEPS);
    hcm_action_client_close(cli);
}

typedef struct exec_ctx {
    hcm_action_server *srv;
    hcm_goal g;
    int index;
    uint8_t goal[512];
    size_t len;
    atomic_int *turn;
    pthread_t th;
} exec_ctx;

static void *executor_main(void *p)
{
    exec_ctx *e = p;
    uint32_t who = 0;
    uint64_t n = 0;
    CHECK(harness_payload_check(e->goal, e->len, &who, &n));
    CHECK_OK(hcm_action_server_execute(e->srv, e->g));
    for (uint64_t s = 0; s < THREE_STEPS; s++) {
        uint8_t fb[512];
        size_t fl = 24 + (size_t)(s * 13 % 200);
        harness_payload_fill(fb, fl, who, s);
        CHECK_OK(hcm_action_server_feedback(e->srv, e->g, fb, fl));
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    /* finish in reverse order of the goals */
    int64_t deadline = harness_now_ns() + 20 * SEC;
    while (atomic_load(e->turn) != THREE - 1 - e->index) {
        if (harness_now_ns() > deadline)
            FAIL("executor %d never got its turn", e->index);
        harness_sleep_ms(1);
    }
    finish_answer(e->srv, e->g, HCM_GOAL_SUCCEEDED, e->goal, e->len);
    atomic_fetch_add(e->turn, 1);
    return NULL;
}

TEST(three_goals_executed_in_parallel_threads_each_get_their_own_feedback_and_result)
{
    harness_gate sent;
    harness_gate_init(&sent);
    hcm_action_server *srv = open_server("par3", 8, 512);
    pid_t client = harness_fork();
    if (client == 0) {
        three_goals_client("par3", &sent);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    static exec_ctx e[THREE];
    atomic_int turn = 0;
    for (int i = 0; i < THREE; i++) {
        e[i].srv = srv;
        e[i].index = i;
        e[i].turn = &turn;
        e[i].g = take_payload(srv, 10u + (uint32_t)i, (uint64_t)i, e[i].goal, sizeof e[i].goal,
                              &e[i].len);
        CHECK_OK(hcm_action_server_accept(srv, e[i].g));
    }
    for (int i = 0; i < THREE; i++) {
        int err = pthread_create(&e[i].th, NULL, executor_main, &e[i]);
        if (err != 0)
            FAIL("pthread_create: %s", strerror(err));
    }
    for (int i = 0; i < THREE; i++)
        pthread_join(e[i].th, NULL);
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("par3");
    harness_gate_close(&sent);
}

TEST(three_goals_executed_interleaved_by_one_thread_each_get_their_own_feedback_and_result)
{
    harness_gate sent;
    harness_gate_init(&sent);
    hcm_action_server *srv = open_server("inter3", 8, 512);
    pid_t client = harness_fork();
    if (client == 0) {
        three_goals_client("inter3", &sent);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t goal[THREE][512];
    size_t len[THREE];
    hcm_goal g[THREE];
    for (int i = 0; i < THREE; i++) {
        g[i] = take_payload(srv, 10u + (uint32_t)i, (uint64_t)i, goal[i], sizeof goal[i],
                            &len[i]);
        CHECK_OK(hcm_action_server_accept(srv, g[i]));
        CHECK_OK(hcm_action_server_execute(srv, g[i]));
    }
    for (uint64_t s = 0; s < THREE_STEPS; s++) {
        for (int i = 0; i < THREE; i++) {
            uint8_t fb[512];
            size_t fl = 24 + (size_t)((s * 13 + (uint64_t)i * 50) % 200);
            harness_payload_fill(fb, fl, 10u + (uint32_t)i, s);
            CHECK_OK(hcm_action_server_feedback(srv, g[i], fb, fl));
        }
        harness_sleep_ms(1);
    }
    const int order[THREE] = {1, 2, 0};
    for (int k = 0; k < THREE; k++)
        finish_answer(srv, g[order[k]], HCM_GOAL_SUCCEEDED, goal[order[k]], len[order[k]]);
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("inter3");
    harness_gate_close(&sent);
}

/* ---- feedback ---------------------------------------------------------------------- */

#define FB_COUNT 3000

typedef struct fb_stats {
    uint64_t received, skipped, last_seq, wakeups;
} fb_stats;

typedef struct fb_writer {
    hcm_action_server *srv;
    hcm_goal g;
    uint32_t who;
    size_t fb_len;
    uint8_t goal[512];
    size_t len;
    pthread_t th;
} fb_writer;

static void *fb_writer_main(void *p)
{
    fb_writer *w = p;
    CHECK_OK(hcm_action_server_execute(w->srv, w->g));
    for (uint64_t s = 0; s < FB_COUNT; s++) {
        uint8_t fb[512];
        harness_payload_fill(fb, w->fb_len, w->who, s);
        CHECK_OK(hcm_action_server_feedback(w->srv, w->g, fb, w->fb_len));
        if (s % 64 == 0)
            sched_yield();
    }
    finish_answer(w->srv, w->g, HCM_GOAL_SUCCEEDED, w->goal, w->len);
    return NULL;
}

/* Two client processes, one goal each; two server threads publish feedback
 * of different lengths and values as fast as they can. Each client checks
 * every feedback it reads: a valid payload of its own goal (writer id), the
 * counter matching the sequence number, no going back. */
TEST(feedback_of_two_parallel_goals_reaches_only_its_own_goal)
{
    fb_stats *stats = shared_map(2 * sizeof(fb_stats));
    harness_gate sent;
    harness_gate_init(&sent);
    hcm_action_server *srv = open_server("fb2", 8, 512);
    pid_t pids[2];
    for (uint32_t c = 0; c < 2; c++) {
        pids[c] = harness_fork();
        if (pids[c] == 0) {
            uint32_t me = 20 + c;
            size_t my_len = c == 0 ? 40 : 400;
            hcm_action_client *cli = open_client("fb2");
            hcm_goal g = send_payload(cli, me, c, 32);
            harness_gate_pass(&sent, 1);
            uint32_t ev = 0;
            fb_stats *st = &stats[c];
            for (;;) {
                int rc = hcm_action_client_wait(cli, g, &ev, 10 * SEC);
                CHECK_OK(rc);
                st->wakeups++;
                uint8_t fb[512];
                size_t fl = 0;
                uint64_t seq = st->last_seq;
                while ((rc = hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq)) ==
                       HCM_OK) {
                    uint32_t who = 0;
                    uint64_t n = 0;
                    if (!harness_payload_check(fb, fl, &who, &n))
                        FAIL("client %u: torn or foreign feedback of %zu bytes at seq %llu", c,
                             fl, (unsigned long long)seq);
                    if (who != me || fl != my_len)
                        FAIL("client %u got feedback of writer %u (%zu bytes)", c, who, fl);
                    if (n + 1 != seq || seq <= st->last_seq)
                        FAIL("client %u: feedback %llu at seq %llu after %llu", c,
                             (unsigned long long)n, (unsigned long long)seq,
                             (unsigned long long)st->last_seq);
                    st->skipped += seq - st->last_seq - 1;
                    st->last_seq = seq;
                    st->received++;
                }
                CHECK_RC(rc, HCM_EAGAIN);
                if (hcm_goal_status_is_final(status_of(cli, g)))
                    break;
            }
            /* after the end, the last feedback is still there to read */
            uint8_t fb[512];
            size_t fl = 0;
            uint64_t seq = st->last_seq;
            int rc = hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq);
            CHECK(rc == HCM_OK || rc == HCM_EAGAIN);
            if (rc == HCM_OK) {
                st->skipped += seq - st->last_seq - 1;
                st->last_seq = seq;
                st->received++;
            }
            CHECK_EQ_U64(st->last_seq, FB_COUNT);
            expect_answer(cli, g, me, c, 32, HCM_GOAL_SUCCEEDED);
            hcm_action_client_close(cli);
            _exit(0);
        }
    }
    harness_gate_wait(&sent, GATE_MS);
    harness_gate_wait(&sent, GATE_MS);
    static fb_writer w[2];
    for (int i = 0; i < 2; i++) {
        uint32_t who = 0;
        uint64_t n = 0;
        w[i].srv = srv;
        w[i].g = take_any(srv, w[i].goal, sizeof w[i].goal, &w[i].len);
        CHECK(harness_payload_check(w[i].goal, w[i].len, &who, &n));
        w[i].who = who;
        w[i].fb_len = who == 20 ? 40 : 400;
        CHECK_OK(hcm_action_server_accept(srv, w[i].g));
    }
    for (int i = 0; i < 2; i++) {
        int err = pthread_create(&w[i].th, NULL, fb_writer_main, &w[i]);
        if (err != 0)
            FAIL("pthread_create: %s", strerror(err));
    }
    for (int i = 0; i < 2; i++)
        pthread_join(w[i].th, NULL);
    for (int c = 0; c < 2; c++)
        CHECK_CHILD_OK(pids[c]);
    for (int c = 0; c < 2; c++) {
        CHECK_EQ_U64(stats[c].received + stats[c].skipped, FB_COUNT);
        harness_log("client %d: %llu feedbacks read, %llu skipped (seq jumps), %llu wakeups", c,
                    (unsigned long long)stats[c].received, (unsigned long long)stats[c].skipped,
                    (unsigned long long)stats[c].wakeups);
    }
    hcm_action_server_close(srv);
    unlink_action("fb2");
    harness_gate_close(&sent);
}

TEST(skipped_feedback_shows_as_a_jump_of_the_sequence_number)
{
    harness_gate sent, step, ack;
    harness_gate_init(&sent);
    harness_gate_init(&step);
    harness_gate_init(&ack);
    hcm_action_server *srv = open_server("fbskip", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("fbskip");
        hcm_goal g = send_payload(cli, 7, 0, 24);
        uint8_t fb[256];
        size_t fl = 0;
        uint64_t seq = 0;
        uint32_t who = 0;
        uint64_t n = 0;
        CHECK_RC(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq), HCM_EAGAIN);
        harness_gate_pass(&sent, 1);
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 1); /* 5 published */
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq));
        CHECK_EQ_U64(seq, 5); /* jumped from 0 to 5: 4 skipped */
        CHECK(harness_payload_check(fb, fl, &who, &n));
        CHECK_EQ_U64(n, 4); /* the newest */
        CHECK_RC(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq), HCM_EAGAIN);
        CHECK_EQ_U64(seq, 5);
        harness_gate_pass(&ack, 1);
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 2); /* 1 more */
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq));
        CHECK_EQ_U64(seq, 6);
        CHECK(harness_payload_check(fb, fl, &who, &n));
        CHECK_EQ_U64(n, 5);
        harness_gate_pass(&ack, 1);
        CHECK_EQ(harness_gate_wait(&step, GATE_MS), 3); /* 3 more */
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq));
        CHECK_EQ_U64(seq, 9);
        CHECK(harness_payload_check(fb, fl, &who, &n));
        CHECK_EQ_U64(n, 8);
        /* a reader starting again from 0 gets the newest too */
        uint64_t fresh = 0;
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &fresh));
        CHECK_EQ_U64(fresh, 9);
        hcm_action_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256], fb[100];
    size_t len = 0;
    hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
    uint64_t n = 0;
    for (; n < 5; n++) {
        harness_payload_fill(fb, sizeof fb, 7, n);
        CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    }
    harness_gate_pass(&step, 1);
    harness_gate_wait(&ack, GATE_MS);
    harness_payload_fill(fb, sizeof fb, 7, n++);
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    harness_gate_pass(&step, 2);
    harness_gate_wait(&ack, GATE_MS);
    for (; n < 9; n++) {
        harness_payload_fill(fb, sizeof fb, 7, n);
        CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    }
    harness_gate_pass(&step, 3);
    CHECK_CHILD_OK(client);
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    hcm_action_server_close(srv);
    unlink_action("fbskip");
    harness_gate_close(&sent);
    harness_gate_close(&step);
    harness_gate_close(&ack);
}

TEST(a_client_sleeping_in_wait_wakes_for_feedback)
{
    int64_t *times = shared_map(2 * sizeof(int64_t)); /* [0] feedback sent, [1] woke */
    harness_gate sent, executing;
    harness_gate_init(&sent);
    harness_gate_init(&executing);
    hcm_action_server *srv = open_server("fbwake", 4, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("fbwake");
        hcm_goal g = send_payload(cli, 7, 0, 24);
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&executing, GATE_MS);
        uint32_t ev = 0;
        CHECK_OK(hcm_action_client_wait(cli, g, &ev, 0)); /* catch up */
        int rc = hcm_action_client_wait(cli, g, &ev, 10 * SEC);
        times[1] = harness_now_ns();
        CHECK_OK(rc);
        CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
        uint8_t fb[64];
        size_t fl = 0;
        uint64_t seq = 0;
        CHECK_OK(hcm_action_client_feedback(cli, g, fb, sizeof fb, &fl, &seq));
        CHECK_EQ_U64(seq, 1);
        hcm_action_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256], fb[32];
    size_t len = 0;
    hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
    harness_gate_pass(&executing, 1);
    harness_sleep_ms(50); /* the client sleeps */
    harness_payload_fill(fb, sizeof fb, 7, 0);
    times[0] = harness_now_ns();
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    CHECK_CHILD_OK(client);
    harness_log("the sleeping client woke %.3f ms after the feedback", ms_of(times[1] - times[0]));
    /* the client closed with the goal running: that asked to cancel it */
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_CANCELED, NULL, 0));
    hcm_action_server_close(srv);
    unlink_action("fbwake");
    harness_gate_close(&sent);
    harness_gate_close(&executing);
}

TEST(feedback_larger_than_the_buffer_gets_emsgsize_and_stays_readable)
{
    pair p;
    pair_open(&p, "fbsmall");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    uint8_t fb[200], got[256];
    harness_payload_fill(fb, sizeof fb, 9, 0);
    CHECK_OK(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb));
    size_t fl = 0;
    uint64_t seq = 0;
    CHECK_RC(hcm_action_client_feedback(p.cli, p.g, got, 100, &fl, &seq), HCM_EMSGSIZE);
    CHECK_EQ(fl, 200); /* tells the size */
    CHECK_EQ_U64(seq, 0);
    CHECK_OK(hcm_action_client_feedback(p.cli, p.g, got, sizeof got, &fl, &seq));
    CHECK_EQ(fl, 200);
    CHECK_EQ_U64(seq, 1);
    CHECK(memcmp(got, fb, 200) == 0);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    pair_close(&p, "fbsmall");
}

/* ---- signals ------------------------------------------------------------------------ */

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

/* Installs a SIGUSR1 handler without SA_RESTART and forks a child that keeps
 * signalling this process (so one signal surely lands inside the wait) until
 * it is killed. */
static pid_t start_signaller(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    got_usr1 = 0;
    pid_t parent = getpid();
    pid_t pid = harness_fork();
    if (pid == 0) {
        for (;;) {
            kill(parent, SIGUSR1);
            harness_sleep_ms(20);
        }
    }
    return pid;
}

static void stop_signaller(pid_t pid)
{
    harness_kill_child(pid);
    CHECK(got_usr1);
    signal(SIGUSR1, SIG_DFL);
}

TEST(wait_and_result_on_a_goal_return_eintr_when_a_signal_arrives)
{
    hcm_action_server *srv = open_server("intr", 4, 256); /* never takes */
    hcm_action_client *cli = open_client("intr");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint32_t ev = 0;
    CHECK_OK(hcm_action_client_wait(cli, g, &ev, 0)); /* catch up */
    pid_t sig = start_signaller();
    int rc = hcm_action_client_wait(cli, g, &ev, 5 * SEC);
    uint8_t res[64];
    size_t rlen = 0;
    hcm_goal_status st;
    int rc2 = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 5 * SEC);
    stop_signaller(sig);
    CHECK_RC(rc, HCM_EINTR);
    CHECK_RC(rc2, HCM_EINTR);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING); /* nothing changed */
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("intr");
}

TEST(take_returns_eintr_when_a_signal_arrives)
{
    hcm_action_server *srv = open_server("intrtake", 4, 256);
    pid_t sig = start_signaller();
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g;
    int rc = hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 5 * SEC);
    stop_signaller(sig);
    CHECK_RC(rc, HCM_EINTR);
    /* the server still works */
    hcm_action_client *cli = open_client("intrtake");
    hcm_goal sent = send_payload(cli, 1, 0, 24);
    serve_one(srv, 0);
    expect_answer(cli, sent, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("intrtake");
}

/* ---- a server that dies ------------------------------------------------------------- */

/* The kill lands at several points of the client's 50 ms liveness period
 * (delays after the goal is in place), so the worst case shows. */
static const unsigned kill_delays_ms[] = {20, 45, 60, 85};
#define KILL_ROUNDS (sizeof kill_delays_ms / sizeof kill_delays_ms[0])

/* One round: a server that took (takes = 1, accepts = 1: executing) or left
 * pending (takes = 0) one goal is killed while the client sleeps in result()
 * or wait() on a background thread; returns the time from the kill to the
 * EDEAD. */
static int64_t kill_server_round(const char *name, int takes, int mode, unsigned delay_ms)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_holding_server(name, 4, takes, takes, &taken, &stop);
    hcm_action_client *cli = open_client(name);
    hcm_goal g = send_payload(cli, 1, delay_ms, 24);
    harness_gate_wait(&taken, GATE_MS);
    bg_op b;
    bg_start(&b, mode, cli, g, 10 * SEC);
    harness_sleep_ms(delay_ms);
    CHECK(!bg_done(&b));
    CHECK_STATUS(status_of(cli, g), takes ? HCM_GOAL_EXECUTING : HCM_GOAL_PENDING);
    int64_t t0 = harness_now_ns();
    harness_kill_child(server); /* SIGKILL, then reaped */
    bg_join(&b, 10000);
    int64_t dt = b.end_ns - t0;
    harness_log("%s goal, kill %u ms after it was in place: %s returned %s %.3f ms after the "
                "kill (%s)",
                takes ? "executing" : "pending", delay_ms, mode == BG_WAIT ? "wait" : "result",
                harness_errname(b.rc), ms_of(dt), b.errmsg);
    CHECK_RC(b.rc, HCM_EDEAD);
    hcm_action_client_close(cli);
    unlink_action(name);
    harness_gate_close(&taken);
    harness_gate_close(&stop);
    return dt;
}

static void kill_server_rounds(const char *name, int takes, int mode)
{
    int64_t worst = 0;
    for (size_t r = 0; r < KILL_ROUNDS; r++) {
        int64_t dt = kill_server_round(name, takes, mode, kill_delays_ms[r]);
        if (dt > worst)
            worst = dt;
    }
    harness_log("worst: %.3f ms (bound 100 ms)", ms_of(worst));
    CHECK(worst <= 100 * MS);
}

TEST(result_on_an_executing_goal_fails_with_edead_within_100ms_of_a_server_kill)
{
    kill_server_rounds("kres", 1, BG_RESULT);
}

TEST(wait_on_an_executing_goal_fails_with_edead_within_100ms_of_a_server_kill)
{
    kill_server_rounds("kwait", 1, BG_WAIT);
}

TEST(result_on_a_pending_goal_fails_with_edead_within_100ms_of_a_server_kill)
{
    kill_server_rounds("kpend", 0, BG_RESULT);
}

TEST(wait_on_a_pending_goal_fails_with_edead_within_100ms_of_a_server_kill)
{
    kill_server_rounds("kpwait", 0, BG_WAIT);
}

/* A client that polls (result with short timeouts, as a GUI loop would) must
 * learn that the server died as well as one that sleeps in one long call. */
TEST(a_client_polling_result_with_short_timeouts_sees_edead_after_a_server_kill)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_holding_server("kpoll", 4, 1, 1, &taken, &stop);
    hcm_action_client *cli = open_client("kpoll");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    int64_t t0 = harness_now_ns();
    harness_kill_child(server);
    int rc = HCM_ETIMEDOUT;
    int polls = 0;
    uint8_t res[64];
    size_t rlen = 0;
    hcm_goal_status st;
    while (rc == HCM_ETIMEDOUT && harness_now_ns() - t0 < 1 * SEC) {
        rc = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * MS);
        polls++;
    }
    int64_t dt = harness_now_ns() - t0;
    harness_log("result() with a 10 ms timeout, polled %d times over %.3f ms after the kill: %s",
                polls, ms_of(dt), harness_errname(rc));
    CHECK_RC(rc, HCM_EDEAD);
    CHECK(dt <= 100 * MS);
    hcm_action_client_close(cli);
    unlink_action("kpoll");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

TEST(result_with_timeout_zero_on_a_goal_of_a_dead_server_gets_edead)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_holding_server("kzero", 4, 1, 1, &taken, &stop);
    hcm_action_client *cli = open_client("kzero");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    harness_kill_child(server);
    harness_sleep_ms(100);
    uint8_t res[64];
    size_t rlen = 0;
    hcm_goal_status st;
    uint32_t ev = 0;
    CHECK_OK(hcm_action_client_wait(cli, g, &ev, 0)); /* catch up */
    int rc_wait = hcm_action_client_wait(cli, g, &ev, 0);
    int rc_res = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 0);
    harness_log("100 ms after the kill: wait(timeout 0) %s, result(timeout 0) %s",
                harness_errname(rc_wait), harness_errname(rc_res));
    CHECK_RC(rc_res, HCM_EDEAD);
    CHECK_RC(rc_wait, HCM_EDEAD);
    hcm_action_client_close(cli);
    unlink_action("kzero");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

/* A process killed by SIGKILL whose parent has not waited for it yet is a
 * zombie: it is dead, but kill(pid, 0) still succeeds. */
TEST(a_killed_server_that_its_parent_has_not_reaped_yet_counts_as_dead)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_holding_server("zombie", 4, 1, 1, &taken, &stop);
    hcm_action_client *cli = open_client("zombie");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    bg_op b;
    bg_start(&b, BG_RESULT, cli, g, 10 * SEC);
    harness_sleep_ms(30);
    int64_t t0 = harness_now_ns();
    kill(server, SIGKILL); /* not reaped */
    bg_join(&b, 10000);
    harness_log("unreaped killed server: result %s after %.3f ms", harness_errname(b.rc),
                ms_of(b.end_ns - t0));
    CHECK_RC(b.rc, HCM_EDEAD);
    hcm_goal n;
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 1, 1);
    CHECK_RC(hcm_action_client_send(cli, goal, sizeof goal, &n, SEC), HCM_EDEAD);
    CHECK_EQ(harness_wait_child(server, 5000), 128 + SIGKILL);
    hcm_action_client_close(cli);
    unlink_action("zombie");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

TEST(sending_to_a_killed_server_fails_fast_with_edead)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("gone", 4, &stop);
    hcm_action_client *cli = open_client("gone");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    harness_kill_child(server);
    harness_sleep_ms(60); /* past the 50 ms the client trusts a server found alive */
    for (uint64_t n = 1; n <= 3; n++) {
        uint8_t goal[24];
        harness_payload_fill(goal, sizeof goal, 1, n);
        int64_t t0 = harness_now_ns();
        int rc = hcm_action_client_send(cli, goal, sizeof goal, &g, 10 * SEC);
        int64_t dt = harness_now_ns() - t0;
        harness_log("send %llu after the kill: %s in %.3f ms", (unsigned long long)n,
                    harness_errname(rc), ms_of(dt));
        CHECK_RC(rc, HCM_EDEAD);
        CHECK(dt < 10 * SEC);
    }
    hcm_action_client_close(cli);
    unlink_action("gone");
    harness_gate_close(&stop);
}

TEST(a_goal_sent_just_after_its_server_died_ends_with_edead)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("gone2", 4, &stop);
    hcm_action_client *cli = open_client("gone2");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED); /* the server is known alive */
    harness_kill_child(server);
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 1, 1);
    int rc = hcm_action_client_send(cli, goal, sizeof goal, &g, 10 * SEC);
    if (rc == HCM_OK) { /* inside the 50 ms window: result() must tell */
        uint8_t res[64];
        size_t rlen;
        hcm_goal_status st;
        CHECK_RC(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 10 * SEC),
                 HCM_EDEAD);
        CHECK(st == HCM_GOAL_ABORTED);
    } else {
        CHECK_RC(rc, HCM_EDEAD);
    }
    hcm_action_client_close(cli);
    unlink_action("gone2");
    harness_gate_close(&stop);
}

/* ---- a client that dies ------------------------------------------------------------- */

TEST(a_killed_clients_executing_goal_reads_as_cancel_requested_within_100ms)
{
    hcm_action_server *srv = open_server("kcli", 8, 256);
    int64_t worst = 0;
    for (size_t r = 0; r < KILL_ROUNDS; r++) {
        harness_gate sent, stop;
        harness_gate_init(&sent);
        harness_gate_init(&stop);
        pid_t client = harness_fork();
        if (client == 0) {
            hcm_action_client *cli = open_client("kcli");
            send_payload(cli, 1, r, 24);
            harness_gate_pass(&sent, 1);
            harness_gate_wait(&stop, 45000); /* killed before */
            _exit(0);
        }
        harness_gate_wait(&sent, GATE_MS);
        uint8_t buf[256];
        size_t len = 0;
        hcm_goal g = take_and_execute(srv, buf, sizeof buf, &len);
        harness_sleep_ms(kill_delays_ms[r]);
        CHECK_EQ(hcm_action_server_cancel_requested(srv, g), 0);
        int64_t t0 = harness_now_ns();
        harness_kill_child(client);
        int polls = 0;
        while (!hcm_action_server_cancel_requested(srv, g)) {
            polls++;
            if (harness_now_ns() - t0 > 5 * SEC)
                FAIL("cancel_requested still 0 5 s after the client was killed");
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        int64_t dt = harness_now_ns() - t0;
        harness_log("client killed %u ms into the goal: cancel_requested turned 1 %.3f ms after "
                    "the kill (%d polls)",
                    kill_delays_ms[r], ms_of(dt), polls);
        if (dt > worst)
            worst = dt;
        CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_CANCELED, NULL, 0));
        harness_gate_close(&sent);
        harness_gate_close(&stop);
    }
    harness_log("worst: %.3f ms (bound ~100 ms)", ms_of(worst));
    CHECK(worst <= 100 * MS);
    hcm_action_server_close(srv);
    unlink_action("kcli");
}

TEST(goals_a_killed_client_left_pending_are_not_handed_out)
{
    uint64_t *ids = shared_map(3 * sizeof(uint64_t));
    harness_gate sent, stop;
    harness_gate_init(&sent);
    harness_gate_init(&stop);
    hcm_action_server *srv = open_server("kpcli", 8, 256);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client("kpcli");
        for (int i = 0; i < 3; i++)
            ids[i] = send_payload(cli, 1, (uint64_t)i, 24).id;
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&stop, 45000);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    harness_kill_child(client);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal g;
    int rc = hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 200 * MS);
    if (rc == HCM_OK)
        FAIL("take handed out goal %llu of the killed client", (unsigned long long)g.id);
    CHECK_RC(rc, HCM_ETIMEDOUT);
    hcm_action_client *cli = open_client("kpcli");
    for (int i = 0; i < 3; i++) {
        hcm_goal_status st = HCM_GOAL_UNKNOWN;
        CHECK_OK(hcm_action_client_query(cli, ids[i], &st, buf, sizeof buf, &len));
        harness_log("goal %llu of the killed client ends %s", (unsigned long long)ids[i],
                    st_name(st));
        CHECK(hcm_goal_status_is_final(st));
    }
    /* a live client's goal is handed out as usual */
    hcm_goal mine = send_payload(cli, 2, 0, 24);
    CHECK_EQ_U64(take_payload(srv, 2, 0, buf, sizeof buf, &len).id, mine.id);
    CHECK_OK(hcm_action_server_accept(srv, mine));
    finish_answer(srv, mine, HCM_GOAL_SUCCEEDED, buf, len);
    expect_answer(cli, mine, 2, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("kpcli");
    harness_gate_close(&sent);
    harness_gate_close(&stop);
}

/* ---- late clients: results by id ------------------------------------------------------ */

TEST(a_client_opened_after_a_goal_finished_reads_its_result_by_id)
{
    uint64_t *id = shared_map(sizeof(uint64_t));
    harness_gate sent;
    harness_gate_init(&sent);
    hcm_action_server *srv = open_server("late", 4, 256);
    pid_t first = harness_fork();
    if (first == 0) {
        hcm_action_client *cli = open_client("late");
        hcm_goal g = send_payload(cli, 6, 1, 60);
        *id = g.id;
        harness_gate_pass(&sent, 1);
        expect_answer(cli, g, 6, 1, 60, HCM_GOAL_SUCCEEDED);
        hcm_action_client_close(cli);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    serve_one(srv, 2);
    CHECK_CHILD_OK(first); /* its client is gone */
    pid_t late = harness_fork();
    if (late == 0) {
        hcm_action_client *cli = open_client("late");
        uint8_t res[256], goal[60];
        size_t rlen = 0;
        hcm_goal_status st = HCM_GOAL_UNKNOWN;
        CHECK_OK(hcm_action_client_query(cli, *id, &st, res, sizeof res, &rlen));
        CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
        harness_payload_fill(goal, sizeof goal, 6, 1);
        CHECK(is_answer(goal, sizeof goal, res, rlen));
        /* the goal is not this client's: its handle calls do not apply */
        hcm_goal other = {0, *id};
        CHECK_RC(hcm_action_client_status(cli, other, &st), HCM_EINVAL);
        hcm_action_client_close(cli);
        _exit(0);
    }
    CHECK_CHILD_OK(late);
    hcm_action_server_close(srv);
    unlink_action("late");
    harness_gate_close(&sent);
}

TEST(querying_an_unknown_goal_id_gets_enoent)
{
    hcm_action_server *srv = open_server("qunk", 4, 256);
    hcm_action_client *cli = open_client("qunk");
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_query(cli, 1, &st, res, sizeof res, &rlen), HCM_ENOENT);
    hcm_goal g = send_payload(cli, 1, 0, 24);
    serve_one(srv, 0);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    const uint64_t unknown[] = {0, g.id + 1, g.id + 1000, UINT64_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int rc = hcm_action_client_query(cli, unknown[i], &st, res, sizeof res, &rlen);
        if (rc != HCM_ENOENT)
            FAIL("query of id %llu gave %s, want HCM_ENOENT", (unsigned long long)unknown[i],
                 harness_errname(rc));
    }
    CHECK_CONTAINS(hcm_errmsg(), "qunk");
    CHECK_OK(hcm_action_client_query(cli, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("qunk");
}

TEST(querying_an_unfinished_goal_gives_its_status_and_no_result)
{
    hcm_action_server *srv = open_server("qrun", 4, 256);
    hcm_action_client *cli = open_client("qrun");
    hcm_action_client *other = open_client("qrun");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint8_t res[256], buf[256];
    size_t rlen = 99, len = 0;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_query(other, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_PENDING);
    CHECK_EQ(rlen, 0);
    take_payload(srv, 1, 0, buf, sizeof buf, &len);
    CHECK_OK(hcm_action_client_query(other, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_PENDING);
    CHECK_OK(hcm_action_server_accept(srv, g));
    CHECK_OK(hcm_action_server_execute(srv, g));
    rlen = 99;
    CHECK_OK(hcm_action_client_query(other, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_EXECUTING);
    CHECK_EQ(rlen, 0);
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    CHECK_OK(hcm_action_client_query(other, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
    CHECK(is_answer(buf, len, res, rlen));
    hcm_action_client_close(other);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("qrun");
}

TEST(a_query_with_a_too_small_buffer_gets_emsgsize_and_the_length)
{
    pair p;
    pair_open(&p, "qsmall");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_query(p.cli, p.g.id, &st, res, 10, &rlen), HCM_EMSGSIZE);
    CHECK_EQ(rlen, 40);
    CHECK_OK(hcm_action_client_query(p.cli, p.g.id, &st, res, sizeof res, &rlen));
    CHECK(is_answer(p.goal, p.len, res, rlen));
    pair_close(&p, "qsmall");
}

/* ---- goal slots and retention --------------------------------------------------------- */

/* Sends payload (who, n) with timeout 0; the slot it got. */
static hcm_goal send_now(hcm_action_client *cli, uint32_t who, uint64_t n)
{
    uint8_t goal[24];
    hcm_goal g;
    harness_payload_fill(goal, sizeof goal, who, n);
    CHECK_OK(hcm_action_client_send(cli, goal, sizeof goal, &g, 0));
    return g;
}

/* Serves the next goal; the client does NOT collect its result. */
static void serve_uncollected(hcm_action_server *srv) { serve_one(srv, 0); }

static void expect_queryable(hcm_action_client *cli, hcm_goal g, uint32_t who, uint64_t n)
{
    uint8_t goal[24], res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    harness_payload_fill(goal, sizeof goal, who, n);
    CHECK_OK(hcm_action_client_query(cli, g.id, &st, res, sizeof res, &rlen));
    CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
    CHECK(is_answer(goal, sizeof goal, res, rlen));
}

TEST(a_finished_goal_whose_result_was_collected_gives_up_its_slot_at_once)
{
    hcm_action_server *srv = open_server("collected", 1, 256); /* retention 60 s */
    hcm_action_client *cli = open_client("collected");
    hcm_goal first = send_now(cli, 1, 0);
    serve_one(srv, 0);
    expect_answer(cli, first, 1, 0, 24, HCM_GOAL_SUCCEEDED); /* collects it */
    hcm_goal second = send_now(cli, 1, 1);
    CHECK_EQ(second.slot, first.slot);
    CHECK(second.id > first.id);
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_query(cli, first.id, &st, res, sizeof res, &rlen), HCM_ENOENT);
    CHECK_RC(hcm_action_client_status(cli, first, &st), HCM_EINVAL);
    serve_one(srv, 0);
    expect_answer(cli, second, 1, 1, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("collected");
}

TEST(a_new_goal_takes_a_collected_slot_before_an_uncollected_one_within_retention)
{
    hcm_action_server *srv = open_server("keep", 2, 256);
    hcm_action_client *cli = open_client("keep");
    hcm_goal a = send_now(cli, 1, 0);
    serve_uncollected(srv);
    hcm_goal b = send_now(cli, 1, 1);
    CHECK_NE(b.slot, a.slot);
    serve_one(srv, 0);
    expect_answer(cli, b, 1, 1, 24, HCM_GOAL_SUCCEEDED); /* b collected, a not */
    hcm_goal c = send_now(cli, 1, 2);
    CHECK_EQ(c.slot, b.slot);
    expect_queryable(cli, a, 1, 0); /* kept */
    expect_answer(cli, a, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("keep");
}

TEST(a_new_goal_takes_the_slot_of_an_uncollected_goal_past_its_retention_first)
{
    hcm_action_server_attr at = bytes_attr(2, 256);
    at.retention_ns = 200 * MS;
    hcm_action_server *srv = open_server_attr("expire", &at);
    hcm_action_client *cli = open_client("expire");
    hcm_goal a = send_now(cli, 1, 0);
    serve_uncollected(srv);
    harness_sleep_ms(250); /* a is past its retention */
    hcm_goal b = send_now(cli, 1, 1);
    CHECK_NE(b.slot, a.slot);
    serve_uncollected(srv); /* b: young, uncollected */
    hcm_goal c = send_now(cli, 1, 2);
    CHECK_EQ(c.slot, a.slot);
    expect_queryable(cli, b, 1, 1);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("expire");
}

TEST(when_every_slot_holds_an_uncollected_goal_within_retention_the_oldest_is_reused)
{
    hcm_action_server *srv = open_server("oldest", 2, 256); /* retention 60 s */
    hcm_action_client *cli = open_client("oldest");
    hcm_goal a = send_now(cli, 1, 0);
    serve_uncollected(srv);
    hcm_goal b = send_now(cli, 1, 1);
    serve_uncollected(srv);
    hcm_goal c = send_now(cli, 1, 2); /* best effort: does not block */
    CHECK_EQ(c.slot, a.slot);
    expect_queryable(cli, b, 1, 1);
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_query(cli, a.id, &st, res, sizeof res, &rlen), HCM_ENOENT);
    CHECK_RC(hcm_action_client_result(cli, a, res, sizeof res, &rlen, &st, 0), HCM_EINVAL);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("oldest");
}

/* Client A keeps asking for the result of its finished (collected) goal
 * while client B's new goal takes over the slot. Every answer A gets must be
 * its own goal's (SUCCEEDED with its result), or HCM_EINVAL once the slot is
 * someone else's; never the new goal's status or result. */
TEST(result_and_status_racing_with_the_reuse_of_the_slot_never_report_the_new_goal)
{
    enum { ROUNDS = 300 };
    typedef struct race {
        uint64_t calls, einval_rounds, bad;
    } race;
    race *rs = shared_map(sizeof *rs);
    harness_gate stop, ready, done;
    harness_gate_init(&stop);
    harness_gate_init(&ready);
    harness_gate_init(&done);
    pid_t server = fork_serving_server("reuse", 1, &stop);
    pid_t b = harness_fork();
    if (b == 0) {
        hcm_action_client *cli = open_client("reuse");
        for (uint64_t r = 0; r < ROUNDS; r++) {
            harness_gate_wait(&ready, GATE_MS);
            hcm_goal g = send_payload(cli, 2, r, 24); /* takes A's collected slot */
            expect_answer(cli, g, 2, r, 24, HCM_GOAL_SUCCEEDED);
            harness_gate_pass(&done, 1);
        }
        hcm_action_client_close(cli);
        _exit(0);
    }
    pid_t a = harness_fork();
    if (a == 0) {
        hcm_action_client *cli = open_client("reuse");
        for (uint64_t r = 0; r < ROUNDS; r++) {
            hcm_goal g = send_payload(cli, 1, r, 24);
            expect_answer(cli, g, 1, r, 24, HCM_GOAL_SUCCEEDED);
            uint8_t goal[24];
            harness_payload_fill(goal, sizeof goal, 1, r);
            harness_gate_pass(&ready, 1);
            int64_t until = harness_now_ns() + 50 * MS;
            for (;;) {
                uint8_t res[64];
                size_t rlen = 0;
                hcm_goal_status st = HCM_GOAL_UNKNOWN, st2 = HCM_GOAL_UNKNOWN;
                int rc = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, 0);
                int rc2 = hcm_action_client_status(cli, g, &st2);
                rs->calls++;
                /* ETIMEDOUT: result() took the new goal's unfinished status for A's */
                if (rc == HCM_ETIMEDOUT ||
                    (rc == HCM_OK && (st != HCM_GOAL_SUCCEEDED ||
                                      !is_answer(goal, sizeof goal, res, rlen))) ||
                    (rc2 == HCM_OK && st2 != HCM_GOAL_SUCCEEDED)) {
                    if (rs->bad++ < 3) {
                        harness_log("round %llu: result %s status %s len %zu; status() %s %s",
                                    (unsigned long long)r, harness_errname(rc), st_name(st),
                                    rlen, harness_errname(rc2), st_name(st2));
                    }
                }
                if (rc != HCM_OK && rc != HCM_EINVAL && rc != HCM_ETIMEDOUT)
                    FAIL("round %llu: result gave %s", (unsigned long long)r,
                         harness_errname(rc));
                if (rc == HCM_EINVAL && rc2 == HCM_EINVAL) {
                    rs->einval_rounds++;
                    break;
                }
                if (harness_now_ns() > until)
                    break;
            }
            harness_gate_wait(&done, GATE_MS);
        }
        hcm_action_client_close(cli);
        _exit(0);
    }
    CHECK_CHILD_OK(a);
    CHECK_CHILD_OK(b);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    harness_log("%d rounds, %llu result+status calls racing the reuse, %llu rounds ended in "
                "EINVAL, %llu answers that were not the goal's own",
                ROUNDS, (unsigned long long)rs->calls, (unsigned long long)rs->einval_rounds,
                (unsigned long long)rs->bad);
    CHECK_EQ_U64(rs->bad, 0);
    unlink_action("reuse");
    harness_gate_close(&stop);
    harness_gate_close(&ready);
    harness_gate_close(&done);
}

TEST(a_send_waiting_for_a_slot_fails_with_ebusy_at_its_timeout)
{
    hcm_action_server *srv = open_server("full", 1, 256);
    hcm_action_client *cli = open_client("full");
    hcm_goal first = send_payload(cli, 1, 0, 24);
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 1, 1);
    hcm_goal g;
    int64_t t0 = harness_now_ns();
    CHECK_RC(hcm_action_client_send(cli, goal, sizeof goal, &g, 0), HCM_EBUSY);
    int64_t t1 = harness_now_ns();
    CHECK_RC(hcm_action_client_send(cli, goal, sizeof goal, &g, 100 * MS), HCM_EBUSY);
    int64_t t2 = harness_now_ns();
    CHECK_CONTAINS(hcm_errmsg(), "slot");
    harness_log("EBUSY: timeout 0 after %.3f ms, timeout 100 ms after %.3f ms", ms_of(t1 - t0),
                ms_of(t2 - t1));
    CHECK(t2 - t1 >= 100 * MS);
    CHECK_STATUS(status_of(cli, first), HCM_GOAL_PENDING);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("full");
}

TEST(a_send_waiting_for_a_slot_proceeds_once_a_running_goal_ends)
{
    hcm_action_server_attr a = bytes_attr(1, 256); /* retention 60 s: best effort */
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_action_client *cli = open_client("slotfree");
        hcm_goal first = send_payload(cli, 1, 0, 24);
        harness_gate_pass(&sent, 1);
        int64_t t0 = harness_now_ns();
        hcm_goal second = send_payload(cli, 1, 1, 24); /* waits up to 5 s */
        harness_log("the second send waited %.3f ms for the slot", ms_of(harness_now_ns() - t0));
        CHECK_EQ(second.slot, first.slot);
        hcm_goal_status st;
        CHECK_RC(hcm_action_client_status(cli, first, &st), HCM_EINVAL); /* reused */
        expect_answer(cli, second, 1, 1, 24, HCM_GOAL_SUCCEEDED);
        hcm_action_client_close(cli);
        _exit(0);
    }
    hcm_action_server *srv = open_server_attr("slotfree", &a);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    harness_sleep_ms(50); /* the client waits for the slot */
    serve_one(srv, 0);
    serve_one(srv, 0);
    CHECK_CHILD_OK(client);
    hcm_action_server_close(srv);
    unlink_action("slotfree");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

/* ---- restarts and closing ---------------------------------------------------------- */

/* A goal whose server died: ABORTED for its client, and result() says why:
 * HCM_EDEAD with status ABORTED and no result (include/hcm/action.h). */
static void expect_dead_aborted(hcm_action_client *cli, hcm_goal g)
{
    uint8_t res[64];
    size_t rlen = 99;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_ABORTED);
    CHECK_RC(hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, SEC), HCM_EDEAD);
    CHECK_STATUS(st, HCM_GOAL_ABORTED);
    CHECK_EQ(rlen, 0);
}

TEST(goals_a_killed_server_held_end_aborted_once_a_new_server_opens)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    /* takes 2: the first accepted and executing, the second only taken */
    pid_t first = fork_holding_server("restart", 8, 2, 1, &taken, &stop);
    hcm_action_client *cli = open_client("restart");
    hcm_goal a = send_payload(cli, 1, 0, 24);
    hcm_goal b = send_payload(cli, 1, 1, 24);
    harness_gate_wait(&taken, GATE_MS);
    CHECK_STATUS(status_of(cli, a), HCM_GOAL_EXECUTING);
    CHECK_STATUS(status_of(cli, b), HCM_GOAL_PENDING);
    harness_kill_child(first);
    uint8_t res[64];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_result(cli, a, res, sizeof res, &rlen, &st, 5 * SEC), HCM_EDEAD);
    hcm_action_server *srv = open_server("restart", 8, 512); /* takes over */
    /* a: the client was told EDEAD; b: only taken, ended by the successor */
    expect_dead_aborted(cli, a);
    expect_dead_aborted(cli, b);
    /* the successor serves the same client; ids go on */
    hcm_goal c = send_payload(cli, 1, 2, 24);
    CHECK(c.id > b.id);
    serve_one(srv, 1);
    expect_answer(cli, c, 1, 2, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("restart");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

TEST(a_goal_pending_when_its_server_was_killed_is_served_by_the_successor)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_holding_server("succ", 8, 0, 0, NULL, &stop);
    hcm_action_client *cli = open_client("succ");
    hcm_goal a = send_payload(cli, 3, 0, 50);
    harness_kill_child(first);
    hcm_action_server *srv = open_server("succ", 8, 512);
    uint8_t buf[512];
    size_t len = 0;
    CHECK_EQ_U64(take_payload(srv, 3, 0, buf, sizeof buf, &len).id, a.id);
    CHECK_OK(hcm_action_server_accept(srv, a));
    finish_answer(srv, a, HCM_GOAL_SUCCEEDED, buf, len);
    expect_answer(cli, a, 3, 0, 50, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("succ");
    harness_gate_close(&stop);
}

/* A client told HCM_EDEAD for its pending goal has that goal ABORTED: a
 * successor must not run a goal whose client was told it failed. */
TEST(a_pending_goal_its_client_was_told_was_dead_is_not_run_by_the_successor)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_holding_server("told", 8, 0, 0, NULL, &stop);
    hcm_action_client *cli = open_client("told");
    hcm_goal a = send_payload(cli, 3, 0, 50);
    harness_kill_child(first);
    uint8_t res[64];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_result(cli, a, res, sizeof res, &rlen, &st, 5 * SEC), HCM_EDEAD);
    hcm_action_server *srv = open_server("told", 8, 512);
    uint8_t buf[512];
    size_t len = 0;
    hcm_goal t;
    CHECK_RC(hcm_action_server_take(srv, buf, sizeof buf, &len, &t, 100 * MS), HCM_ETIMEDOUT);
    expect_dead_aborted(cli, a);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("told");
    harness_gate_close(&stop);
}

TEST(closing_the_server_aborts_running_goals_and_rejects_pending_ones)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    /* takes 2 (the first executing, the second only taken); the third stays pending */
    pid_t server = fork_holding_server("sclose", 8, 2, 1, &taken, &stop);
    hcm_action_client *cli = open_client("sclose");
    hcm_goal a = send_payload(cli, 1, 0, 24);
    hcm_goal b = send_payload(cli, 1, 1, 24);
    harness_gate_wait(&taken, GATE_MS);
    hcm_goal c = send_payload(cli, 1, 2, 24);
    bg_op ba;
    bg_start(&ba, BG_RESULT, cli, a, 10 * SEC);
    harness_sleep_ms(20);
    harness_gate_pass(&stop, 1); /* the server closes */
    CHECK_CHILD_OK(server);
    bg_join(&ba, 10000);
    CHECK_OK(ba.rc);
    CHECK_STATUS(ba.status, HCM_GOAL_ABORTED);
    CHECK_EQ(ba.res_len, 0);
    expect_empty(cli, b, HCM_GOAL_REJECTED);
    expect_empty(cli, c, HCM_GOAL_REJECTED);
    uint8_t goal[24];
    hcm_goal d;
    harness_payload_fill(goal, sizeof goal, 1, 3);
    CHECK_RC(hcm_action_client_send(cli, goal, sizeof goal, &d, SEC), HCM_EDEAD);
    hcm_action_client_close(cli);
    unlink_action("sclose");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

TEST(an_existing_client_uses_a_server_reopened_after_a_clean_close)
{
    hcm_action_server *srv = open_server("reopen", 4, 512); /* as fork_serving_server */
    hcm_action_client *cli = open_client("reopen");
    hcm_goal a = send_payload(cli, 1, 0, 24);
    serve_one(srv, 0);
    expect_answer(cli, a, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_server_close(srv);
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("reopen", 4, &stop);
    hcm_goal b = send_payload(cli, 1, 1, 24);
    CHECK(b.id > a.id);
    expect_answer(cli, b, 1, 1, 24, HCM_GOAL_SUCCEEDED);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    hcm_action_client_close(cli);
    unlink_action("reopen");
    harness_gate_close(&stop);
}

/* attr.slots is "goals held at once": a server that asks for 4 must be able
 * to hold 4, also when it takes over a segment a former server made with 1. */
TEST(a_server_reopening_an_action_with_more_slots_can_hold_that_many_goals)
{
    hcm_action_server *srv = open_server("moreslots", 1, 256);
    hcm_action_server_close(srv);
    srv = open_server("moreslots", 4, 256);
    hcm_action_client *cli = open_client("moreslots");
    int sent = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t goal[24];
        hcm_goal g;
        harness_payload_fill(goal, sizeof goal, 1, (uint64_t)i);
        int rc = hcm_action_client_send(cli, goal, sizeof goal, &g, 0);
        if (rc != HCM_OK) {
            harness_log("send %d: %s (%s)", i, harness_errname(rc), hcm_errmsg());
            break;
        }
        sent++;
    }
    harness_log("the server asked for 4 slots; %d goals fit", sent);
    CHECK_EQ(sent, 4);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("moreslots");
}

/* ---- one server per name ------------------------------------------------------------ */

TEST(a_second_server_gets_ebusy_naming_the_live_servers_pid_until_it_closes)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_holding_server("single", 4, 0, 0, NULL, &stop);
    hcm_action_server *srv = NULL;
    CHECK_RC(hcm_action_server_open(&srv, "single", NULL), HCM_EBUSY);
    CHECK(srv == NULL);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)first);
    CHECK_CONTAINS(hcm_errmsg(), pid);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(first);
    hcm_action_server_attr a = bytes_attr(4, 512);
    srv = open_server_attr("single", &a);
    hcm_action_server_close(srv);
    unlink_action("single");
    harness_gate_close(&stop);
}

TEST(a_second_server_in_the_same_process_gets_ebusy)
{
    hcm_action_server *srv = open_server("single2", 4, 256);
    hcm_action_server *again = NULL;
    hcm_action_server_attr a = bytes_attr(4, 256);
    CHECK_RC(hcm_action_server_open(&again, "single2", &a), HCM_EBUSY);
    CHECK(again == NULL);
    /* the first still works */
    hcm_action_client *cli = open_client("single2");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    serve_one(srv, 0);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    again = open_server_attr("single2", &a);
    hcm_action_server_close(again);
    unlink_action("single2");
}

/* ---- attributes --------------------------------------------------------------------- */

TEST(the_segment_gets_the_requested_mode)
{
    const uint32_t modes[] = {0600, 0640, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        hcm_action_server_attr a = bytes_attr(4, 64);
        if (i > 0)
            a.mode = modes[i];
        hcm_action_server *srv = open_server_attr("mode", &a);
        char path[512];
        struct stat st;
        action_path("mode", path, sizeof path);
        CHECK(stat(path, &st) == 0);
        CHECK_EQ(st.st_mode & 07777, modes[i]);
        hcm_action_server_close(srv);
        unlink_action("mode");
    }
}

TEST(an_action_of_the_same_name_in_another_domain_is_another_action)
{
    char other[64];
    snprintf(other, sizeof other, "%sx", harness_domain());
    hcm_action_server_attr a = bytes_attr(4, 256);
    a.domain = other;
    hcm_action_server *srv = open_server_attr("dom", &a);
    /* the test's own domain has no such action */
    hcm_action_client *mine = open_client("dom");
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 1, 0);
    hcm_goal g;
    CHECK_RC(hcm_action_client_send(mine, goal, sizeof goal, &g, SEC), HCM_ENOENT);
    hcm_action_client_close(mine);
    /* a server there too is not busy: a different action */
    hcm_action_server *here = open_server("dom", 4, 256);
    hcm_action_client_attr ca;
    hcm_action_client_attr_init(&ca);
    ca.domain = other;
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, "dom", &ca));
    g = send_payload(cli, 1, 0, 24);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal t;
    CHECK_RC(hcm_action_server_take(here, buf, sizeof buf, &len, &t, 0), HCM_ETIMEDOUT);
    serve_one(srv, 0);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(here);
    hcm_action_server_close(srv);
    unlink_action("dom");
    CHECK_OK(hcm_action_unlink(other, "dom"));
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/hcm.%s.a.dom", other);
    CHECK(stat(path, &st) != 0);
}

TEST(clients_that_spin_or_sleep_at_once_get_their_results)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("spin", 4, &stop);
    const int64_t spins[] = {0, 1, 20000, 1 * MS};
    for (size_t i = 0; i < sizeof spins / sizeof spins[0]; i++) {
        hcm_action_client_attr ca;
        hcm_action_client_attr_init(&ca);
        ca.spin_ns = spins[i];
        hcm_action_client *cli = NULL;
        CHECK_OK(hcm_action_client_open(&cli, "spin", &ca));
        for (uint64_t n = 0; n < 5; n++) {
            hcm_goal g = send_payload(cli, 1, n, 24);
            expect_answer(cli, g, 1, n, 24, HCM_GOAL_SUCCEEDED);
        }
        hcm_action_client_close(cli);
    }
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    unlink_action("spin");
    harness_gate_close(&stop);
}

/* ---- types --------------------------------------------------------------------------- */

static hcm_action_server *open_typed_server(const char *name, hcm_type_kind goal,
                                            hcm_type_kind fb, hcm_type_kind res)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.slots = 4;
    a.goal_type = hcm_type_scalar(goal);
    a.feedback_type = hcm_type_scalar(fb);
    a.result_type = hcm_type_scalar(res);
    return open_server_attr(name, &a);
}

static hcm_action_client_attr typed_client_attr(hcm_type_kind goal, hcm_type_kind fb,
                                                hcm_type_kind res)
{
    hcm_action_client_attr a;
    hcm_action_client_attr_init(&a);
    a.goal_type = hcm_type_scalar(goal);
    a.feedback_type = hcm_type_scalar(fb);
    a.result_type = hcm_type_scalar(res);
    return a;
}

TEST(a_client_of_another_goal_type_gets_etype_naming_both_types)
{
    hcm_action_server *srv =
        open_typed_server("typed", HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_action_client_attr ca = typed_client_attr(HCM_TYPE_FLOAT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_action_client *cli = NULL;
    CHECK_RC(hcm_action_client_open(&cli, "typed", &ca), HCM_ETYPE);
    CHECK(cli == NULL);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    /* another result type too */
    ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_FLOAT32);
    CHECK_RC(hcm_action_client_open(&cli, "typed", &ca), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "float32");
    /* the matching types, and "any" (NONE), are accepted and work */
    ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    CHECK_OK(hcm_action_client_open(&cli, "typed", &ca));
    int64_t v = 42, r = 0, fb = 7, fbr = 0;
    hcm_goal g;
    CHECK_OK(hcm_action_client_send(cli, &v, sizeof v, &g, SEC));
    int64_t got = 0;
    size_t len = 0;
    hcm_goal tg;
    CHECK_OK(hcm_action_server_take(srv, &got, sizeof got, &len, &tg, SEC));
    CHECK_EQ(got, 42);
    CHECK_OK(hcm_action_server_accept(srv, tg));
    CHECK_OK(hcm_action_server_feedback(srv, tg, &fb, sizeof fb));
    int64_t out = got * 2;
    CHECK_OK(hcm_action_server_finish(srv, tg, HCM_GOAL_SUCCEEDED, &out, sizeof out));
    uint64_t seq = 0;
    CHECK_OK(hcm_action_client_feedback(cli, g, &fbr, sizeof fbr, &len, &seq));
    CHECK_EQ(fbr, 7);
    hcm_goal_status st;
    CHECK_OK(hcm_action_client_result(cli, g, &r, sizeof r, &len, &st, SEC));
    CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
    CHECK_EQ(r, 84);
    hcm_action_client_close(cli);
    ca = typed_client_attr(HCM_TYPE_NONE, HCM_TYPE_NONE, HCM_TYPE_NONE);
    CHECK_OK(hcm_action_client_open(&cli, "typed", &ca));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("typed");
}

TEST(a_client_of_another_feedback_type_gets_etype_naming_both_types)
{
    hcm_action_server *srv =
        open_typed_server("typedfb", HCM_TYPE_INT64, HCM_TYPE_INT32, HCM_TYPE_INT64);
    hcm_action_client_attr ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_FLOAT64, HCM_TYPE_INT64);
    hcm_action_client *cli = NULL;
    CHECK_RC(hcm_action_client_open(&cli, "typedfb", &ca), HCM_ETYPE);
    CHECK(cli == NULL);
    harness_log("feedback type mismatch: \"%s\"", hcm_errmsg());
    CHECK_CONTAINS(hcm_errmsg(), "int32");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_action_server_close(srv);
    unlink_action("typedfb");
}

TEST(a_client_opened_before_a_server_of_another_type_gets_etype_when_it_sends)
{
    hcm_action_client_attr ca = typed_client_attr(HCM_TYPE_FLOAT64, HCM_TYPE_NONE, HCM_TYPE_NONE);
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, "typedlate", &ca)); /* no action yet */
    hcm_action_server *srv =
        open_typed_server("typedlate", HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    double d = 1.5;
    hcm_goal g;
    CHECK_RC(hcm_action_client_send(cli, &d, sizeof d, &g, SEC), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("typedlate");
}

/* A server whose maxima are larger than a dead server's segment replaces the
 * segment; a client attached to the old one must follow (services do). */
TEST(a_new_server_with_larger_maxima_replaces_the_segment_and_an_existing_client_follows)
{
    hcm_action_server *old = open_server("resize", 4, 64);
    hcm_action_client *cli = open_client("resize");
    hcm_goal a = send_payload(cli, 1, 0, 24);
    serve_one(old, 0);
    expect_answer(cli, a, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    hcm_action_server_close(old);
    hcm_action_server *srv = open_server("resize", 4, 256); /* larger: a new segment */
    uint8_t goal[100];
    hcm_goal b;
    harness_payload_fill(goal, 24, 1, 1);
    int rc = hcm_action_client_send(cli, goal, 24, &b, SEC); /* fits both */
    harness_log("existing client, 24-byte goal after the segment was replaced: %s (%s)",
                harness_errname(rc), rc == HCM_OK ? "" : hcm_errmsg());
    CHECK_OK(rc);
    serve_one(srv, 0);
    expect_answer(cli, b, 1, 1, 24, HCM_GOAL_SUCCEEDED);
    harness_payload_fill(goal, sizeof goal, 1, 2);
    rc = hcm_action_client_send(cli, goal, sizeof goal, &b, SEC); /* fits only the new one */
    harness_log("existing client, 100-byte goal: %s (%s)", harness_errname(rc),
                rc == HCM_OK ? "" : hcm_errmsg());
    CHECK_OK(rc);
    serve_one(srv, 0);
    expect_answer(cli, b, 1, 2, 100, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("resize");
}

TEST(a_new_server_of_other_types_replaces_the_segment_and_an_existing_client_gets_etype)
{
    hcm_action_server *old =
        open_typed_server("retype", HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_action_client_attr ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, "retype", &ca));
    hcm_action_server_close(old);
    hcm_action_server *srv =
        open_typed_server("retype", HCM_TYPE_FLOAT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    int64_t v = 1;
    hcm_goal g;
    int rc = hcm_action_client_send(cli, &v, sizeof v, &g, SEC);
    harness_log("int64 client, send after a float64 server replaced the segment: %s (%s)",
                harness_errname(rc), hcm_errmsg());
    CHECK_RC(rc, HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("retype");
}

/* ---- bad input ------------------------------------------------------------------------ */

TEST(a_goal_sent_to_an_action_nobody_serves_fails_quickly_with_enoent)
{
    hcm_action_client *cli = open_client("nobody"); /* fine: it need not exist yet */
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 1, 0);
    hcm_goal g;
    int64_t t0 = harness_now_ns();
    int rc = hcm_action_client_send(cli, goal, sizeof goal, &g, 10 * SEC);
    int64_t dt = harness_now_ns() - t0;
    CHECK_RC(rc, HCM_ENOENT);
    CHECK_CONTAINS(hcm_errmsg(), "nobody");
    harness_log("send to a missing action: HCM_ENOENT in %.3f ms (timeout 10 s)", ms_of(dt));
    CHECK(dt < 10 * SEC);
    uint8_t res[64];
    size_t rlen;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_query(cli, 1, &st, res, sizeof res, &rlen), HCM_ENOENT);
    CHECK(!action_exists("nobody"));
    /* once a server opens, the same client works */
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_serving_server("nobody", 4, &stop);
    g = send_payload(cli, 1, 0, 24);
    expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    hcm_action_client_close(cli);
    unlink_action("nobody");
    harness_gate_close(&stop);
    CHECK_RC(hcm_action_unlink(NULL, "nobody"), HCM_ENOENT);
}

TEST(an_oversized_goal_gets_emsgsize_and_reaches_no_server)
{
    hcm_action_server *srv = open_server("biggoal", 4, 64);
    hcm_action_client *cli = open_client("biggoal");
    uint8_t goal[65];
    harness_payload_fill(goal, sizeof goal, 1, 0);
    hcm_goal g;
    CHECK_RC(hcm_action_client_send(cli, goal, 65, &g, SEC), HCM_EMSGSIZE);
    CHECK_CONTAINS(hcm_errmsg(), "65");
    uint8_t buf[128];
    size_t len = 0;
    CHECK_RC(hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 0), HCM_ETIMEDOUT);
    harness_payload_fill(goal, 64, 1, 0);
    CHECK_OK(hcm_action_client_send(cli, goal, 64, &g, SEC)); /* the max is fine */
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("biggoal");

    /* a fixed-size goal type takes exactly its size */
    srv = open_typed_server("fixgoal", HCM_TYPE_INT64, HCM_TYPE_INT64, HCM_TYPE_INT64);
    cli = open_client("fixgoal");
    int64_t v[2] = {1, 2};
    CHECK_RC(hcm_action_client_send(cli, v, 4, &g, SEC), HCM_EMSGSIZE);
    CHECK_RC(hcm_action_client_send(cli, v, 16, &g, SEC), HCM_EMSGSIZE);
    CHECK_RC(hcm_action_client_send(cli, v, 0, &g, SEC), HCM_EMSGSIZE);
    CHECK_RC(hcm_action_server_take(srv, buf, sizeof buf, &len, &g, 0), HCM_ETIMEDOUT);
    CHECK_OK(hcm_action_client_send(cli, v, 8, &g, SEC));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("fixgoal");
}

TEST(oversized_feedback_gets_emsgsize_and_the_goal_keeps_running)
{
    hcm_action_server *srv = open_server("bigfb", 4, 64);
    hcm_action_client *cli = open_client("bigfb");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint8_t buf[128], fb[65];
    size_t len = 0;
    take_and_execute(srv, buf, sizeof buf, &len);
    harness_payload_fill(fb, sizeof fb, 1, 0);
    CHECK_RC(hcm_action_server_feedback(srv, g, fb, 65), HCM_EMSGSIZE);
    uint64_t seq = 0;
    CHECK_RC(hcm_action_client_feedback(cli, g, buf, sizeof buf, &len, &seq), HCM_EAGAIN);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, 64));
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("bigfb");

    srv = open_typed_server("fixfb", HCM_TYPE_BYTES, HCM_TYPE_INT64, HCM_TYPE_BYTES);
    cli = open_client("fixfb");
    g = send_payload(cli, 1, 0, 24);
    take_and_execute(srv, buf, sizeof buf, &len);
    int64_t v[2] = {1, 2};
    CHECK_RC(hcm_action_server_feedback(srv, g, v, 4), HCM_EMSGSIZE);
    CHECK_RC(hcm_action_server_feedback(srv, g, v, 16), HCM_EMSGSIZE);
    CHECK_OK(hcm_action_server_feedback(srv, g, v, 8));
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("fixfb");
}

TEST(an_oversized_result_gets_emsgsize_and_the_goal_keeps_running)
{
    hcm_action_server *srv = open_server("bigres", 4, 64);
    hcm_action_client *cli = open_client("bigres");
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint8_t buf[128], res[65];
    size_t len = 0;
    take_and_execute(srv, buf, sizeof buf, &len);
    memset(res, 0x5a, sizeof res);
    CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, res, 65), HCM_EMSGSIZE);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_EXECUTING);
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, res, 64));
    hcm_goal_status st;
    uint8_t got[128];
    CHECK_OK(hcm_action_client_result(cli, g, got, sizeof got, &len, &st, SEC));
    CHECK_EQ(len, 64);
    CHECK(memcmp(got, res, 64) == 0);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("bigres");

    srv = open_typed_server("fixres", HCM_TYPE_BYTES, HCM_TYPE_BYTES, HCM_TYPE_INT64);
    cli = open_client("fixres");
    g = send_payload(cli, 1, 0, 24);
    take_and_execute(srv, buf, sizeof buf, &len);
    int64_t v[2] = {1, 2};
    CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, v, 4), HCM_EMSGSIZE);
    CHECK_RC(hcm_action_server_finish(srv, g, HCM_GOAL_ABORTED, v, 16), HCM_EMSGSIZE);
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, v, 8));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("fixres");
}

TEST(a_take_with_a_too_small_buffer_gets_emsgsize_and_the_goal_stays_pending)
{
    hcm_action_server *srv = open_server("smalltake", 4, 256);
    hcm_action_client *cli = open_client("smalltake");
    hcm_goal g = send_payload(cli, 1, 0, 100);
    uint8_t buf[256];
    size_t len = 0;
    hcm_goal t;
    CHECK_RC(hcm_action_server_take(srv, buf, 50, &len, &t, SEC), HCM_EMSGSIZE);
    CHECK_EQ(len, 100);
    CHECK_STATUS(status_of(cli, g), HCM_GOAL_PENDING);
    CHECK_EQ_U64(take_payload(srv, 1, 0, buf, sizeof buf, &len).id, g.id);
    CHECK_OK(hcm_action_server_accept(srv, g));
    finish_answer(srv, g, HCM_GOAL_SUCCEEDED, buf, len);
    expect_answer(cli, g, 1, 0, 100, HCM_GOAL_SUCCEEDED);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("smalltake");
}

TEST(a_too_small_result_buffer_gets_emsgsize_and_the_result_stays)
{
    pair p;
    pair_open(&p, "smallres");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    uint8_t res[256];
    size_t rlen = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_client_result(p.cli, p.g, res, 10, &rlen, &st, SEC), HCM_EMSGSIZE);
    CHECK_EQ(rlen, 40);
    CHECK_RC(hcm_action_client_result(p.cli, p.g, NULL, 0, &rlen, &st, SEC), HCM_EMSGSIZE);
    CHECK_EQ(rlen, 40);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "smallres");
}

/* Zero-length payloads may be given as NULL (the argument checks allow
 * NULL with length 0) and read into a NULL buffer of capacity 0. */
TEST(an_empty_goal_given_as_null_is_sent_and_taken_into_a_null_buffer)
{
    hcm_action_server *srv = open_server("emptyg", 4, 64);
    hcm_action_client *cli = open_client("emptyg");
    hcm_goal g;
    CHECK_OK(hcm_action_client_send(cli, NULL, 0, &g, SEC));
    size_t len = 99;
    hcm_goal t;
    CHECK_OK(hcm_action_server_take(srv, NULL, 0, &len, &t, SEC));
    CHECK_EQ(len, 0);
    CHECK_EQ_U64(t.id, g.id);
    CHECK_OK(hcm_action_server_accept(srv, t));
    uint8_t res[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_OK(hcm_action_server_finish(srv, t, HCM_GOAL_SUCCEEDED, res, sizeof res));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action("emptyg");
}

TEST(empty_feedback_given_as_null_is_published_and_read_into_a_null_buffer)
{
    pair p;
    pair_open(&p, "emptyf");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_feedback(p.srv, p.g, NULL, 0));
    size_t len = 99;
    uint64_t seq = 0;
    CHECK_OK(hcm_action_client_feedback(p.cli, p.g, NULL, 0, &len, &seq));
    CHECK_EQ(len, 0);
    CHECK_EQ_U64(seq, 1);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    pair_close(&p, "emptyf");
}

TEST(an_empty_result_given_as_null_is_finished_and_read_into_a_null_buffer)
{
    pair p;
    pair_open(&p, "emptyr");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_finish(p.srv, p.g, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_goal_status st;
    size_t len = 99;
    CHECK_OK(hcm_action_client_result(p.cli, p.g, NULL, 0, &len, &st, SEC));
    CHECK_STATUS(st, HCM_GOAL_SUCCEEDED);
    CHECK_EQ(len, 0);
    len = 99;
    CHECK_OK(hcm_action_client_query(p.cli, p.g.id, &st, NULL, 0, &len));
    CHECK_EQ(len, 0);
    pair_close(&p, "emptyr");
}

TEST(an_unknown_goal_handle_gets_einval_on_both_ends)
{
    pair p;
    pair_open(&p, "unkgoal");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    const hcm_goal bad[] = {
        {p.g.slot, p.g.id + 1}, {p.g.slot, 0},        {p.g.slot + 1, p.g.id},
        {8, p.g.id},            {UINT32_MAX, p.g.id}, {0, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_goal b = bad[i];
        hcm_goal_status st;
        uint32_t ev = 0;
        uint8_t buf[64] = {0};
        size_t len;
        uint64_t seq = 0;
        int rcs[11];
        rcs[0] = hcm_action_client_status(p.cli, b, &st);
        rcs[1] = hcm_action_client_wait(p.cli, b, &ev, 0);
        rcs[2] = hcm_action_client_feedback(p.cli, b, buf, sizeof buf, &len, &seq);
        rcs[3] = hcm_action_client_result(p.cli, b, buf, sizeof buf, &len, &st, 0);
        rcs[4] = hcm_action_client_cancel(p.cli, b);
        rcs[5] = hcm_action_server_accept(p.srv, b);
        rcs[6] = hcm_action_server_reject(p.srv, b);
        rcs[7] = hcm_action_server_execute(p.srv, b);
        rcs[8] = hcm_action_server_feedback(p.srv, b, buf, 24);
        rcs[9] = hcm_action_server_finish(p.srv, b, HCM_GOAL_SUCCEEDED, buf, 24);
        rcs[10] = hcm_action_server_cancel_requested(p.srv, b) == 0 ? HCM_EINVAL : HCM_OK;
        for (int k = 0; k < 11; k++)
            if (rcs[k] != HCM_EINVAL)
                FAIL("handle {%u, %llu}: call #%d gave %s, want HCM_EINVAL", b.slot,
                     (unsigned long long)b.id, k, harness_errname(rcs[k]));
    }
    /* the real goal is untouched */
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_ACCEPTED);
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, p.g), 0);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "unkgoal");
}

TEST(a_goal_of_another_client_handle_in_the_same_process_gets_einval)
{
    pair p;
    pair_open(&p, "foreign");
    hcm_action_client *other = open_client("foreign");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    CHECK_OK(hcm_action_server_execute(p.srv, p.g));
    uint8_t fb[32];
    harness_payload_fill(fb, sizeof fb, 9, 0);
    CHECK_OK(hcm_action_server_feedback(p.srv, p.g, fb, sizeof fb));
    hcm_goal_status st;
    uint32_t ev = 0;
    uint8_t buf[64];
    size_t len;
    uint64_t seq = 0;
    CHECK_RC(hcm_action_client_status(other, p.g, &st), HCM_EINVAL);
    CHECK_RC(hcm_action_client_wait(other, p.g, &ev, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_feedback(other, p.g, buf, sizeof buf, &len, &seq), HCM_EINVAL);
    CHECK_RC(hcm_action_client_result(other, p.g, buf, sizeof buf, &len, &st, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_cancel(other, p.g), HCM_EINVAL);
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, p.g), 0); /* no cancel leaked */
    CHECK_STATUS(status_of(p.cli, p.g), HCM_GOAL_EXECUTING);
    hcm_action_client_close(other); /* does not cancel a goal that is not its own */
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, p.g), 0);
    finish_answer(p.srv, p.g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, p.g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "foreign");
}

TEST(null_arguments_get_einval)
{
    hcm_action_server_attr_init(NULL);
    hcm_action_client_attr_init(NULL);
    hcm_action_server_close(NULL);
    hcm_action_client_close(NULL);

    hcm_action_server *srv = NULL;
    hcm_action_client *cli = NULL;
    CHECK_RC(hcm_action_server_open(NULL, "nul", NULL), HCM_EINVAL);
    CHECK_RC(hcm_action_server_open(&srv, NULL, NULL), HCM_EINVAL);
    CHECK(srv == NULL);
    CHECK_RC(hcm_action_client_open(NULL, "nul", NULL), HCM_EINVAL);
    CHECK_RC(hcm_action_client_open(&cli, NULL, NULL), HCM_EINVAL);
    CHECK(cli == NULL);
    CHECK_RC(hcm_action_unlink(NULL, NULL), HCM_EINVAL);
    CHECK(!action_exists("nul"));

    pair p;
    pair_open(&p, "nul");
    CHECK_OK(hcm_action_server_accept(p.srv, p.g));
    hcm_goal g = p.g, t;
    uint8_t buf[64] = {0};
    size_t len = 0;
    uint32_t ev = 0;
    uint64_t seq = 0;
    hcm_goal_status st;
    CHECK_RC(hcm_action_server_take(NULL, buf, sizeof buf, &len, &t, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_server_take(p.srv, buf, sizeof buf, NULL, &t, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_server_take(p.srv, buf, sizeof buf, &len, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_server_take(p.srv, NULL, sizeof buf, &len, &t, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_server_accept(NULL, g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_reject(NULL, g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_execute(NULL, g), HCM_EINVAL);
    CHECK_RC(hcm_action_server_feedback(NULL, g, buf, 1), HCM_EINVAL);
    CHECK_RC(hcm_action_server_feedback(p.srv, g, NULL, 5), HCM_EINVAL);
    CHECK_EQ(hcm_action_server_cancel_requested(NULL, g), 0);
    CHECK_RC(hcm_action_server_finish(NULL, g, HCM_GOAL_SUCCEEDED, buf, 1), HCM_EINVAL);
    CHECK_RC(hcm_action_server_finish(p.srv, g, HCM_GOAL_SUCCEEDED, NULL, 5), HCM_EINVAL);
    CHECK_RC(hcm_action_client_send(NULL, buf, 1, &t, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_send(p.cli, buf, 1, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_send(p.cli, NULL, 5, &t, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_status(NULL, g, &st), HCM_EINVAL);
    CHECK_RC(hcm_action_client_status(p.cli, g, NULL), HCM_EINVAL);
    CHECK_RC(hcm_action_client_wait(NULL, g, &ev, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_wait(p.cli, g, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_feedback(NULL, g, buf, sizeof buf, &len, &seq), HCM_EINVAL);
    CHECK_RC(hcm_action_client_feedback(p.cli, g, buf, sizeof buf, NULL, &seq), HCM_EINVAL);
    CHECK_RC(hcm_action_client_feedback(p.cli, g, buf, sizeof buf, &len, NULL), HCM_EINVAL);
    CHECK_RC(hcm_action_client_feedback(p.cli, g, NULL, 5, &len, &seq), HCM_EINVAL);
    CHECK_RC(hcm_action_client_result(NULL, g, buf, sizeof buf, &len, &st, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_result(p.cli, g, buf, sizeof buf, NULL, &st, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_result(p.cli, g, buf, sizeof buf, &len, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_result(p.cli, g, NULL, 5, &len, &st, 0), HCM_EINVAL);
    CHECK_RC(hcm_action_client_cancel(NULL, g), HCM_EINVAL);
    CHECK_RC(hcm_action_client_query(NULL, g.id, &st, buf, sizeof buf, &len), HCM_EINVAL);
    CHECK_RC(hcm_action_client_query(p.cli, g.id, NULL, buf, sizeof buf, &len), HCM_EINVAL);
    CHECK_RC(hcm_action_client_query(p.cli, g.id, &st, buf, sizeof buf, NULL), HCM_EINVAL);
    CHECK_RC(hcm_action_client_query(p.cli, g.id, &st, NULL, 5, &len), HCM_EINVAL);
    /* nothing changed: no goal reached the server, the goal still runs */
    CHECK_RC(hcm_action_server_take(p.srv, buf, sizeof buf, &len, &t, 0), HCM_ETIMEDOUT);
    CHECK_STATUS(status_of(p.cli, g), HCM_GOAL_ACCEPTED);
    CHECK_EQ(hcm_action_server_cancel_requested(p.srv, g), 0);
    finish_answer(p.srv, g, HCM_GOAL_SUCCEEDED, p.goal, p.len);
    expect_answer(p.cli, g, 9, 0, 40, HCM_GOAL_SUCCEEDED);
    pair_close(&p, "nul");
}

TEST(invalid_action_and_domain_names_get_ename)
{
    char long_name[HCM_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0'; /* HCM_NAME_MAX + 1 bytes */
    const char *bad[] = {"", "/", "a//b", "ends/", "has space", "semi;colon", "tab\t",
                         "caf\xc3\xa9", "..:x", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_action_server *srv = NULL;
        hcm_action_client *cli = NULL;
        int rs = hcm_action_server_open(&srv, bad[i], NULL);
        int rc = hcm_action_client_open(&cli, bad[i], NULL);
        int ru = hcm_action_unlink(NULL, bad[i]);
        if (rs != HCM_ENAME || rc != HCM_ENAME || ru != HCM_ENAME)
            FAIL("name #%zu \"%.40s\": server %s, client %s, unlink %s (want HCM_ENAME)", i,
                 bad[i], harness_errname(rs), harness_errname(rc), harness_errname(ru));
        CHECK(srv == NULL && cli == NULL);
    }
    char long_domain[HCM_DOMAIN_MAX + 2];
    memset(long_domain, 'd', sizeof long_domain - 1);
    long_domain[sizeof long_domain - 1] = '\0';
    const char *bad_domains[] = {"", "dot.ted", "sl/ash", "sp ace", long_domain};
    for (size_t i = 0; i < sizeof bad_domains / sizeof bad_domains[0]; i++) {
        hcm_action_server_attr sa = bytes_attr(4, 64);
        sa.domain = bad_domains[i];
        hcm_action_client_attr ca;
        hcm_action_client_attr_init(&ca);
        ca.domain = bad_domains[i];
        hcm_action_server *srv = NULL;
        hcm_action_client *cli = NULL;
        CHECK_RC(hcm_action_server_open(&srv, "fine", &sa), HCM_ENAME);
        CHECK_RC(hcm_action_client_open(&cli, "fine", &ca), HCM_ENAME);
        CHECK_RC(hcm_action_unlink(bad_domains[i], "fine"), HCM_ENAME);
    }
    /* the longest name, a name with a leading '/' and slashes are fine */
    char max_name[HCM_NAME_MAX + 1];
    memset(max_name, 'm', sizeof max_name - 1);
    max_name[sizeof max_name - 1] = '\0';
    const char *good[] = {max_name, "/robot/arm/move"};
    for (size_t i = 0; i < 2; i++) {
        hcm_action_server *srv = open_server(good[i], 4, 64);
        hcm_action_client *cli = open_client(good[i]);
        hcm_goal g = send_payload(cli, 1, 0, 24);
        serve_one(srv, 0);
        expect_answer(cli, g, 1, 0, 24, HCM_GOAL_SUCCEEDED);
        hcm_action_client_close(cli);
        hcm_action_server_close(srv);
        CHECK_OK(hcm_action_unlink(NULL, good[i]));
    }
    char paths[4][512];
    CHECK_EQ(harness_shm_entries(paths, 4), 0);
}

TEST(slots_outside_one_to_the_maximum_get_einval)
{
    const uint32_t bad[] = {0, HCM_MAX_QUEUE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_action_server_attr a = bytes_attr(bad[i], 64);
        hcm_action_server *srv = NULL;
        CHECK_RC(hcm_action_server_open(&srv, "slots", &a), HCM_EINVAL);
        CHECK(srv == NULL);
        CHECK(!action_exists("slots"));
    }
    const uint32_t good[] = {1, HCM_MAX_QUEUE};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        hcm_action_server *srv = open_server("slots", good[i], 64);
        hcm_action_client *cli = open_client("slots");
        hcm_goal g = send_payload(cli, 1, i, 24);
        serve_one(srv, 0);
        expect_answer(cli, g, 1, i, 24, HCM_GOAL_SUCCEEDED);
        hcm_action_client_close(cli);
        hcm_action_server_close(srv);
        unlink_action("slots");
    }
}

TEST(invalid_server_attributes_get_einval)
{
    hcm_action_server *srv = NULL;
    hcm_action_server_attr a = bytes_attr(4, 64);
    a.goal_type.kind = 99;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.feedback_type.kind = HCM_TYPE_NONE; /* servers need real types */
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.result_type.elem_size = 3; /* bytes of 3 */
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.mode = 0400;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a.mode = 01777;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.retention_ns = -1;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.goal_max = HCM_MAX_PAYLOAD + 1;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64);
    a.result_max = UINT64_MAX;
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    hcm_action_server_attr_init(&a);
    a.goal_type = hcm_type_scalar(HCM_TYPE_INT64);
    a.goal_max = 4; /* the type's size is 8 */
    CHECK_RC(hcm_action_server_open(&srv, "attrs", &a), HCM_EINVAL);
    CHECK(srv == NULL);
    CHECK(!action_exists("attrs"));
}

TEST(invalid_client_attributes_get_einval)
{
    const char *what[] = {"goal type kind 99", "feedback type kind 99", "result type kind 99"};
    for (int i = 0; i < 3; i++) {
        hcm_action_client_attr ca;
        hcm_action_client_attr_init(&ca);
        hcm_type *t = i == 0 ? &ca.goal_type : i == 1 ? &ca.feedback_type : &ca.result_type;
        t->kind = 99;
        hcm_action_client *cli = NULL;
        int rc = hcm_action_client_open(&cli, "cattrs", &ca);
        if (rc != HCM_EINVAL) {
            hcm_action_client_close(cli);
            FAIL("client with %s (no action yet): %s, want HCM_EINVAL", what[i],
                 harness_errname(rc));
        }
        CHECK(cli == NULL);
    }
}

/* ---- corrupted segments -------------------------------------------------------------- *
 * The victim: a BYTES action, 4 slots, goal/feedback/result max 100 (stride
 * round64(128 + 128 + 128 + 100) = 512, file HCM_ACT_SLOTS_OFFSET(4) + 4 * 512
 * = 3008 bytes), no server. */

#define VICTIM "victim"
#define VICTIM_STRIDE 512u
#define VICTIM_SIZE (HCM_ACT_SLOTS_OFFSET(4) + 4u * VICTIM_STRIDE)

static char victim_path[512];

static void poke(const char *path, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        FAIL("open %s: %s", path, strerror(errno));
    if (pwrite(fd, data, len, (off_t)off) != (ssize_t)len)
        FAIL("pwrite %s: %s", path, strerror(errno));
    close(fd);
}

static void peek(const char *path, uint64_t off, void *data, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        FAIL("open %s: %s", path, strerror(errno));
    if (pread(fd, data, len, (off_t)off) != (ssize_t)len)
        FAIL("pread %s: %s", path, strerror(errno));
    close(fd);
}

static void poke_u32(const char *path, uint64_t off, uint32_t v) { poke(path, off, &v, sizeof v); }
static void poke_u64(const char *path, uint64_t off, uint64_t v) { poke(path, off, &v, sizeof v); }

static uint32_t peek_u32(const char *path, uint64_t off)
{
    uint32_t v;
    peek(path, off, &v, sizeof v);
    return v;
}

static uint64_t peek_u64(const char *path, uint64_t off)
{
    uint64_t v;
    peek(path, off, &v, sizeof v);
    return v;
}

static void make_victim(void)
{
    hcm_action_server *srv = open_server(VICTIM, 4, 100);
    hcm_action_server_close(srv);
    action_path(VICTIM, victim_path, sizeof victim_path);
    CHECK_EQ(peek_u32(victim_path, AH(slot_stride)), VICTIM_STRIDE);
    CHECK_EQ_U64(peek_u64(victim_path, AH(total_size)), VICTIM_SIZE);
    CHECK_EQ_U64(peek_u64(victim_path, AH(magic)), HCM_ACT_MAGIC);
}

/* In a child (a crash shows as a signal, a hang as the alarm): the client and
 * the server both get HCM_ECORRUPT with a message. */
static void expect_corrupt(const char *what)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_action_client *cli = NULL;
        int rc = hcm_action_client_open(&cli, VICTIM, NULL);
        if (rc != HCM_ECORRUPT)
            FAIL("%s: hcm_action_client_open gave %s (%s), want HCM_ECORRUPT", what,
                 harness_errname(rc), hcm_errmsg());
        CHECK(cli == NULL);
        CHECK(hcm_errmsg()[0] != '\0');
        hcm_action_server_attr a = bytes_attr(4, 100);
        hcm_action_server *srv = NULL;
        rc = hcm_action_server_open(&srv, VICTIM, &a);
        if (rc != HCM_ECORRUPT)
            FAIL("%s: hcm_action_server_open gave %s (%s), want HCM_ECORRUPT", what,
                 harness_errname(rc), hcm_errmsg());
        CHECK(srv == NULL);
        CHECK(hcm_errmsg()[0] != '\0');
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(an_action_segment_with_a_bad_magic_is_ecorrupt)
{
    const uint64_t magics[] = {HCM_SEG_MAGIC, HCM_SVC_MAGIC, 0, HCM_ACT_MAGIC + 1};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "magic %#llx", (unsigned long long)magics[i]);
        make_victim();
        poke_u64(victim_path, AH(magic), magics[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_of_another_layout_version_is_ecorrupt)
{
    const uint32_t versions[] = {HCM_ACT_VERSION + 1, 0, UINT32_MAX};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "version %u", versions[i]);
        make_victim();
        poke_u32(victim_path, AH(version), versions[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_with_a_wrong_header_size_or_kind_is_ecorrupt)
{
    const uint32_t sizes[] = {0, 768, HCM_ACT_HEADER_SIZE + 64};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "header size %u", sizes[i]);
        make_victim();
        poke_u32(victim_path, AH(header_size), sizes[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
    const uint32_t kinds[] = {0, HCM_SEG_KIND_TOPIC, HCM_SEG_KIND_SERVICE, 4};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "kind %u", kinds[i]);
        make_victim();
        poke_u32(victim_path, AH(seg_kind), kinds[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_with_a_slot_count_of_zero_or_huge_is_ecorrupt)
{
    const uint32_t counts[] = {0, 3, 5, HCM_MAX_QUEUE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "slot count %u", counts[i]);
        make_victim();
        poke_u32(victim_path, AH(slot_count), counts[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_whose_stride_disagrees_with_its_sizes_is_ecorrupt)
{
    const uint32_t strides[] = {0, 64, 448, 576, UINT32_MAX};
    for (size_t i = 0; i < sizeof strides / sizeof strides[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "stride %u", strides[i]);
        make_victim();
        poke_u32(victim_path, AH(slot_stride), strides[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
    /* maxima larger than the stride has room for */
    static const struct {
        uint64_t off, value;
        const char *what;
    } maxima[] = {
        {AH(goal_max), 4096, "goal max 4096"},
        {AH(feedback_max), 1000, "feedback max 1000"},
        {AH(result_max), 200, "result max 200"},
    };
    for (size_t i = 0; i < sizeof maxima / sizeof maxima[0]; i++) {
        make_victim();
        poke_u64(victim_path, maxima[i].off, maxima[i].value);
        expect_corrupt(maxima[i].what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_with_payload_maxima_out_of_range_is_ecorrupt)
{
    const uint64_t bad[] = {0, HCM_MAX_PAYLOAD + 1, UINT64_MAX};
    const uint64_t offs[] = {AH(goal_max), AH(feedback_max), AH(result_max)};
    const char *names[] = {"goal", "feedback", "result"};
    for (size_t f = 0; f < 3; f++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char what[64];
            snprintf(what, sizeof what, "%s max %llu", names[f], (unsigned long long)bad[i]);
            make_victim();
            poke_u64(victim_path, offs[f], bad[i]);
            expect_corrupt(what);
            unlink_action(VICTIM);
        }
    }
}

TEST(an_action_segment_whose_total_size_disagrees_is_ecorrupt)
{
    const uint64_t valid = VICTIM_SIZE;
    const uint64_t sizes[] = {0, HCM_ACT_SLOTS_OFFSET(4), valid - 1, valid + 64, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "total size %llu", (unsigned long long)sizes[i]);
        make_victim();
        poke_u64(victim_path, AH(total_size), sizes[i]);
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
    /* header consistent, file grown behind its back */
    make_victim();
    if (truncate(victim_path, (off_t)(valid + VICTIM_STRIDE)) != 0)
        FAIL("truncate: %s", strerror(errno));
    expect_corrupt("file larger than the header says");
    unlink_action(VICTIM);
}

TEST(a_truncated_action_segment_is_ecorrupt)
{
    const off_t valid = (off_t)VICTIM_SIZE;
    const off_t sizes[] = {valid - 1, valid - VICTIM_STRIDE, (off_t)HCM_ACT_SLOTS_OFFSET(4),
                           HCM_ACT_HEADER_SIZE, HCM_ACT_HEADER_SIZE - 1, 100, 8, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "file truncated to %lld bytes", (long long)sizes[i]);
        make_victim();
        if (truncate(victim_path, sizes[i]) != 0)
            FAIL("truncate: %s", strerror(errno));
        expect_corrupt(what);
        unlink_action(VICTIM);
    }
}

TEST(an_action_segment_with_an_invalid_type_descriptor_is_ecorrupt)
{
    make_victim();
    poke_u32(victim_path, AH(goal_type), 99);
    expect_corrupt("goal type kind 99");
    unlink_action(VICTIM);
    make_victim();
    poke_u32(victim_path, AH(feedback_type) + offsetof(hcm_type, elem_size), 3);
    expect_corrupt("feedback type elem_size 3");
    unlink_action(VICTIM);
    make_victim();
    poke_u32(victim_path, AH(result_type), HCM_TYPE_NONE);
    expect_corrupt("result type NONE");
    unlink_action(VICTIM);
}

TEST(an_action_segment_with_a_negative_retention_is_ecorrupt)
{
    make_victim();
    poke_u64(victim_path, AH(retention_ns), (uint64_t)-1);
    expect_corrupt("retention -1");
    unlink_action(VICTIM);
}

/* ---- corrupted goal slots: never an over-read, never a hang --------------------------- */

static uint64_t slot_field(uint32_t slots, uint32_t stride, uint32_t slot, uint64_t field)
{
    return HCM_ACT_SLOTS_OFFSET(slots) + (uint64_t)slot * stride + field;
}

TEST(a_result_length_beyond_the_result_max_gets_ecorrupt_not_an_over_read)
{
    const uint64_t lens[] = {101, 4096, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        hcm_action_server *srv = open_server(VICTIM, 4, 100);
        hcm_action_client *cli = open_client(VICTIM);
        hcm_goal g = send_payload(cli, 1, 0, 24);
        serve_one(srv, 0);
        action_path(VICTIM, victim_path, sizeof victim_path);
        poke_u64(victim_path, slot_field(4, VICTIM_STRIDE, g.slot, AS(result_len)), lens[i]);
        pid_t pid = harness_fork();
        if (pid == 0) {
            alarm(20);
            uint8_t res[8192];
            size_t rlen = 0;
            hcm_goal_status st;
            int rc = hcm_action_client_result(cli, g, res, sizeof res, &rlen, &st, SEC);
            if (rc != HCM_ECORRUPT)
                FAIL("result length %llu: result gave %s (len %zu), want HCM_ECORRUPT",
                     (unsigned long long)lens[i], harness_errname(rc), rlen);
            rc = hcm_action_client_query(cli, g.id, &st, res, sizeof res, &rlen);
            if (rc != HCM_ECORRUPT)
                FAIL("result length %llu: query gave %s (len %zu), want HCM_ECORRUPT",
                     (unsigned long long)lens[i], harness_errname(rc), rlen);
            _exit(0);
        }
        CHECK_CHILD_OK(pid);
        hcm_action_client_close(cli);
        hcm_action_server_close(srv);
        unlink_action(VICTIM);
    }
}

TEST(a_feedback_length_beyond_the_feedback_max_gets_ecorrupt_not_an_over_read)
{
    hcm_action_server *srv = open_server(VICTIM, 4, 100);
    hcm_action_client *cli = open_client(VICTIM);
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint8_t buf[128], fb[32];
    size_t len = 0;
    take_and_execute(srv, buf, sizeof buf, &len);
    harness_payload_fill(fb, sizeof fb, 1, 0);
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    action_path(VICTIM, victim_path, sizeof victim_path);
    poke_u64(victim_path, slot_field(4, VICTIM_STRIDE, g.slot, AS(fb_len)), 1ull << 40);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t got[8192];
        size_t fl = 0;
        uint64_t seq = 0;
        int rc = hcm_action_client_feedback(cli, g, got, sizeof got, &fl, &seq);
        if (rc != HCM_ECORRUPT)
            FAIL("feedback length 2^40: feedback gave %s (len %zu), want HCM_ECORRUPT",
                 harness_errname(rc), fl);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action(VICTIM);
}

/* A server killed in the middle of writing feedback leaves the sequence odd. */
TEST(a_feedback_sequence_left_odd_by_a_dead_writer_gives_eagain_not_a_hang)
{
    hcm_action_server *srv = open_server(VICTIM, 4, 100);
    hcm_action_client *cli = open_client(VICTIM);
    hcm_goal g = send_payload(cli, 1, 0, 24);
    uint8_t buf[128], fb[32];
    size_t len = 0;
    take_and_execute(srv, buf, sizeof buf, &len);
    harness_payload_fill(fb, sizeof fb, 1, 0);
    CHECK_OK(hcm_action_server_feedback(srv, g, fb, sizeof fb));
    action_path(VICTIM, victim_path, sizeof victim_path);
    poke_u64(victim_path, slot_field(4, VICTIM_STRIDE, g.slot, AS(fb_seq)), 3);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t got[128];
        size_t fl = 0;
        uint64_t seq = 0;
        int64_t t0 = harness_now_ns();
        int rc = hcm_action_client_feedback(cli, g, got, sizeof got, &fl, &seq);
        harness_log("feedback with an odd sequence: %s in %.3f ms", harness_errname(rc),
                    ms_of(harness_now_ns() - t0));
        CHECK_RC(rc, HCM_EAGAIN);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    CHECK_OK(hcm_action_server_finish(srv, g, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action(VICTIM);
}

TEST(a_goal_length_beyond_the_goal_max_is_never_handed_to_the_server)
{
    hcm_action_server *srv = open_server(VICTIM, 4, 100);
    hcm_action_client *cli = open_client(VICTIM);
    hcm_goal g = send_payload(cli, 1, 0, 24);
    action_path(VICTIM, victim_path, sizeof victim_path);
    poke_u64(victim_path, slot_field(4, VICTIM_STRIDE, g.slot, AS(goal_len)), 1ull << 40);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        static uint8_t buf[1 << 16];
        size_t len = 0;
        hcm_goal t;
        int rc = hcm_action_server_take(srv, buf, sizeof buf, &len, &t, 100 * MS);
        if (rc != HCM_ETIMEDOUT)
            FAIL("take of a goal of length 2^40 gave %s (len %zu), want HCM_ETIMEDOUT",
                 harness_errname(rc), len);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_goal_status st = status_of(cli, g);
    harness_log("the goal with a corrupt length ends %s", st_name(st));
    CHECK(hcm_goal_status_is_final(st));
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action(VICTIM);
}

/* A client killed between claiming a slot and making its goal pending leaves
 * the slot CLAIMED (white box: the state is written by hand). The slot must
 * come back, or an action with few slots is lost for good. */
TEST(a_slot_left_claimed_by_a_killed_client_is_reclaimed)
{
    hcm_action_server_attr a = bytes_attr(1, 100);
    a.retention_ns = 0;
    hcm_action_server *srv = open_server_attr(VICTIM, &a);
    harness_gate sent, stop;
    harness_gate_init(&sent);
    harness_gate_init(&stop);
    pid_t client = harness_fork();
    if (client == 0) {
        hcm_action_client *cli = open_client(VICTIM);
        send_payload(cli, 1, 0, 24);
        harness_gate_pass(&sent, 1);
        harness_gate_wait(&stop, 45000);
        _exit(0);
    }
    harness_gate_wait(&sent, GATE_MS);
    serve_one(srv, 0); /* the slot now holds a finished goal of the client */
    harness_kill_child(client);
    action_path(VICTIM, victim_path, sizeof victim_path);
    uint32_t stride = peek_u32(victim_path, AH(slot_stride));
    /* what claim() leaves: CLAIMED; the dead client's identity is still there */
    poke_u32(victim_path, slot_field(1, stride, 0, AS(status)), HCM_GSLOT_CLAIMED);
    hcm_action_client *cli = open_client(VICTIM);
    uint8_t goal[24];
    harness_payload_fill(goal, sizeof goal, 2, 0);
    hcm_goal g;
    int rc = hcm_action_client_send(cli, goal, sizeof goal, &g, 500 * MS);
    harness_log("send to a 1-slot action whose slot a killed client left claimed: %s (%s)",
                harness_errname(rc), rc == HCM_OK ? "" : hcm_errmsg());
    CHECK_OK(rc);
    hcm_action_client_close(cli);
    hcm_action_server_close(srv);
    unlink_action(VICTIM);
    harness_gate_close(&sent);
    harness_gate_close(&stop);
}

/* ---- stress --------------------------------------------------------------------------- *
 * 8 client processes x 50 goals (up to 4 in flight each), random cancels from
 * a deterministic PRNG; one server process with 2 executor threads that
 * publishes feedback, rejects some goals, aborts some, and finishes the rest
 * (CANCELED when asked to cancel, except on the last step where it decides to
 * succeed anyway). Every goal must end in a legal final status, SUCCEEDED and
 * ABORTED goals carry the right result, CANCELED ones were cancel-requested,
 * and the counts of both sides add up: no goal is lost or handed out twice. */

#define ST_CLIENTS 8
#define ST_GOALS 50
#define ST_INFLIGHT 4
#define ST_GOAL_LEN 32
#define ST_PARTIAL 8

typedef struct st_shared {
    uint64_t by_status[ST_CLIENTS][9];
    uint64_t cancels_ok[ST_CLIENTS], cancels_late[ST_CLIENTS];
    uint64_t canceled_but_succeeded[ST_CLIENTS];
    uint64_t feedbacks[ST_CLIENTS], skipped[ST_CLIENTS];
} st_shared;

typedef struct st_server {
    hcm_action_server *srv;
    atomic_int stop;
    atomic_uchar taken[ST_CLIENTS][ST_GOALS];
    atomic_uint_fast64_t took, rejected, accept_canceled, succeeded, canceled, aborted,
        ended_despite_cancel, feedbacks;
} st_server;

/* What the server does with goal (c, n): 0 execute, 1 reject, 2 abort. */
static int st_fate(uint32_t c, uint64_t n)
{
    uint64_t h = harness_mix64(0x57e55u ^ ((uint64_t)c << 32) ^ n) % 16;
    return h == 0 ? 1 : h == 1 ? 2 : 0;
}

static uint64_t st_steps(uint32_t c, uint64_t n)
{
    return 1 + harness_mix64(0x5733u ^ ((uint64_t)c << 32) ^ n) % 6;
}

static uint32_t st_who(uint32_t c, uint64_t n) { return c * 1000u + (uint32_t)n; }

static void *st_worker(void *p)
{
    st_server *s = p;
    for (;;) {
        uint8_t goal[ST_GOAL_LEN + 8];
        size_t len = 0;
        hcm_goal g;
        int rc = hcm_action_server_take(s->srv, goal, sizeof goal, &len, &g, 20 * MS);
        if (rc == HCM_ETIMEDOUT) {
            if (atomic_load(&s->stop))
                return NULL;
            continue;
        }
        CHECK_OK(rc);
        uint32_t who = 0;
        uint64_t n = 0;
        if (len != ST_GOAL_LEN || !harness_payload_check(goal, len, &who, &n))
            FAIL("stress: taken goal %llu is not a valid goal", (unsigned long long)g.id);
        uint32_t c = who;
        if (c >= ST_CLIENTS || n >= ST_GOALS)
            FAIL("stress: goal of client %u number %llu", c, (unsigned long long)n);
        if (atomic_exchange(&s->taken[c][n], 1))
            FAIL("stress: goal (%u, %llu) handed out twice", c, (unsigned long long)n);
        atomic_fetch_add(&s->took, 1);
        int fate = st_fate(c, n);
        if (fate == 1) {
            CHECK_OK(hcm_action_server_reject(s->srv, g));
            atomic_fetch_add(&s->rejected, 1);
            continue;
        }
        rc = hcm_action_server_accept(s->srv, g);
        if (rc == HCM_ECANCELED) {
            atomic_fetch_add(&s->accept_canceled, 1);
            continue;
        }
        CHECK_OK(rc);
        CHECK_OK(hcm_action_server_execute(s->srv, g));
        uint64_t steps = st_steps(c, n);
        uint8_t res[ST_GOAL_LEN];
        transform(goal, len, res);
        int ended = 0;
        for (uint64_t step = 0; step < steps && !ended; step++) {
            if (hcm_action_server_cancel_requested(s->srv, g)) {
                if (step + 1 == steps) { /* nearly done: the server decides to go on */
                    atomic_fetch_add(&s->ended_despite_cancel, 1);
                } else {
                    CHECK_OK(hcm_action_server_finish(s->srv, g, HCM_GOAL_CANCELED, res,
                                                      ST_PARTIAL));
                    atomic_fetch_add(&s->canceled, 1);
                    ended = 1;
                    break;
                }
            }
            uint8_t fb[48];
            harness_payload_fill(fb, sizeof fb, st_who(c, n), step);
            CHECK_OK(hcm_action_server_feedback(s->srv, g, fb, sizeof fb));
            atomic_fetch_add(&s->feedbacks, 1);
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
        }
        if (ended)
            continue;
        if (fate == 2) {
            CHECK_OK(hcm_action_server_finish(s->srv, g, HCM_GOAL_ABORTED, res, len));
            atomic_fetch_add(&s->aborted, 1);
        } else {
            CHECK_OK(hcm_action_server_finish(s->srv, g, HCM_GOAL_SUCCEEDED, res, len));
            atomic_fetch_add(&s->succeeded, 1);
        }
    }
}

typedef struct st_goal {
    hcm_goal g;
    uint64_t n;
    int mode;        /* 0 none, 1 cancel at once, 2 after the first feedback, 3 after a delay */
    int64_t cancel_at;
    int cancel_rc;   /* -1: not cancelled */
    uint64_t seq;
    uint32_t ev;
} st_goal;

static uint64_t st_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void st_cancel(hcm_action_client *cli, st_goal *q, st_shared *sh, uint32_t c)
{
    if (q->cancel_rc != -1)
        return;
    q->cancel_rc = hcm_action_client_cancel(cli, q->g);
    if (q->cancel_rc == HCM_OK)
        sh->cancels_ok[c]++;
    else if (q->cancel_rc == HCM_EINVAL)
        sh->cancels_late[c]++; /* it had ended */
    else
        FAIL("stress: cancel gave %s", harness_errname(q->cancel_rc));
}

/* Reads q's new feedback; 1 if there was any. */
static int st_feedback(hcm_action_client *cli, st_goal *q, st_shared *sh, uint32_t c)
{
    uint8_t fb[64];
    size_t fl = 0;
    uint64_t s = q->seq;
    int rc, got = 0;
    while ((rc = hcm_action_client_feedback(cli, q->g, fb, sizeof fb, &fl, &s)) == HCM_OK) {
        uint32_t who = 0;
        uint64_t step = 0;
        if (!harness_payload_check(fb, fl, &who, &step) || who != st_who(c, q->n) ||
            step + 1 != s || s <= q->seq)
            FAIL("stress: client %u goal %llu: bad feedback (who %u, step %llu, seq %llu)", c,
                 (unsigned long long)q->n, who, (unsigned long long)step,
                 (unsigned long long)s);
        sh->skipped[c] += s - q->seq - 1;
        sh->feedbacks[c]++;
        q->seq = s;
        got = 1;
    }
    CHECK_RC(rc, HCM_EAGAIN);
    return got;
}

/* Checks a final goal. */
static void st_check_end(hcm_action_client *cli, st_goal *q, st_shared *sh, uint32_t c)
{
    uint8_t goal[ST_GOAL_LEN], want[ST_GOAL_LEN], res[64];
    size_t rlen = 0;
    hcm_goal_status st = HCM_GOAL_UNKNOWN;
    CHECK_OK(hcm_action_client_result(cli, q->g, res, sizeof res, &rlen, &st, 0));
    harness_payload_fill(goal, sizeof goal, c, q->n);
    transform(goal, sizeof goal, want);
    int fate = st_fate(c, q->n);
    switch (st) {
    case HCM_GOAL_SUCCEEDED:
        if (fate != 0 || rlen != ST_GOAL_LEN || memcmp(res, want, rlen) != 0)
            FAIL("stress: client %u goal %llu SUCCEEDED with a wrong result (fate %d, len %zu)",
                 c, (unsigned long long)q->n, fate, rlen);
        if (q->cancel_rc == HCM_OK)
            sh->canceled_but_succeeded[c]++;
        break;
    case HCM_GOAL_ABORTED:
        if (fate != 2 || rlen != ST_GOAL_LEN || memcmp(res, want, rlen) != 0)
            FAIL("stress: client %u goal %llu ABORTED (fate %d, len %zu)", c,
                 (unsigned long long)q->n, fate, rlen);
        break;
    case HCM_GOAL_REJECTED:
        if (fate != 1 || rlen != 0)
            FAIL("stress: client %u goal %llu REJECTED (fate %d, len %zu)", c,
                 (unsigned long long)q->n, fate, rlen);
        break;
    case HCM_GOAL_CANCELED:
        if (q->cancel_rc != HCM_OK)
            FAIL("stress: client %u goal %llu CANCELED but never cancel-requested (cancel %d)",
                 c, (unsigned long long)q->n, q->cancel_rc);
        if (!(rlen == 0 || (rlen == ST_PARTIAL && memcmp(res, want, ST_PARTIAL) == 0)))
            FAIL("stress: client %u goal %llu CANCELED with a wrong result (len %zu)", c,
                 (unsigned long long)q->n, rlen);
        break;
    default:
        FAIL("stress: client %u goal %llu ended %s", c, (unsigned long long)q->n, st_name(st));
    }
    st_feedback(cli, q, sh, c);
    sh->by_status[c][st]++;
}

static void st_client(uint32_t c, st_shared *sh)
{
    hcm_action_client *cli = open_client("stress");
    uint64_t rng = 0x9e3779b97f4a7c15ull * (c + 1);
    st_goal q[ST_INFLIGHT];
    int inflight = 0;
    uint64_t next = 0;
    int64_t deadline = harness_now_ns() + 40 * SEC;
    while (next < ST_GOALS || inflight > 0) {
        while (next < ST_GOALS && inflight < ST_INFLIGHT) {
            st_goal *x = &q[inflight++];
            memset(x, 0, sizeof *x);
            x->n = next++;
            x->cancel_rc = -1;
            uint64_t r = st_rand(&rng);
            x->mode = r % 8 < 2 ? 1 : r % 8 == 2 ? 2 : r % 8 == 3 ? 3 : 0;
            uint8_t goal[ST_GOAL_LEN];
            harness_payload_fill(goal, sizeof goal, c, x->n);
            CHECK_OK(hcm_action_client_send(cli, goal, sizeof goal, &x->g, 20 * SEC));
            x->cancel_at = harness_now_ns() + (int64_t)(st_rand(&rng) % 3000) * 1000;
            if (x->mode == 1)
                st_cancel(cli, x, sh, c);
        }
        int progressed = 0;
        for (int i = 0; i < inflight;) {
            st_goal *x = &q[i];
            if (st_feedback(cli, x, sh, c)) {
                progressed = 1;
                if (x->mode == 2)
                    st_cancel(cli, x, sh, c);
            }
            if (x->mode == 3 && harness_now_ns() >= x->cancel_at)
                st_cancel(cli, x, sh, c);
            if (hcm_goal_status_is_final(status_of(cli, x->g))) {
                st_check_end(cli, x, sh, c);
                q[i] = q[--inflight];
                progressed = 1;
                continue;
            }
            i++;
        }
        if (!progressed && inflight > 0) {
            int rc = hcm_action_client_wait(cli, q[0].g, &q[0].ev, 2 * MS);
            if (rc != HCM_OK && rc != HCM_ETIMEDOUT)
                FAIL("stress: wait gave %s (%s)", harness_errname(rc), hcm_errmsg());
        }
        if (harness_now_ns() > deadline)
            FAIL("stress: client %u not done in 40 s (%llu sent, %d in flight)", c,
                 (unsigned long long)next, inflight);
    }
    hcm_action_client_close(cli);
}

TEST(stress_eight_client_processes_with_random_cancels_lose_no_goal)
{
    st_shared *sh = shared_map(sizeof *sh);
    harness_gate go;
    harness_gate_init(&go);
    pid_t pids[ST_CLIENTS];
    for (uint32_t c = 0; c < ST_CLIENTS; c++) {
        pids[c] = harness_fork();
        if (pids[c] == 0) {
            harness_gate_wait(&go, GATE_MS);
            st_client(c, sh);
            _exit(0);
        }
    }
    hcm_action_server_attr a = bytes_attr(256, 64);
    a.retention_ns = 1 * SEC;
    static st_server s;
    s.srv = open_server_attr("stress", &a);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        int err = pthread_create(&th[i], NULL, st_worker, &s);
        if (err != 0)
            FAIL("pthread_create: %s", strerror(err));
    }
    int64_t t0 = harness_now_ns();
    for (uint32_t c = 0; c < ST_CLIENTS; c++)
        harness_gate_pass(&go, 1);
    for (uint32_t c = 0; c < ST_CLIENTS; c++)
        harness_check_child(__FILE__, __LINE__, pids[c], 50000u);
    int64_t dt = harness_now_ns() - t0;
    atomic_store(&s.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);

    uint64_t tot[9] = {0}, cancels_ok = 0, late = 0, cbs = 0, fbs = 0, skipped = 0, all = 0;
    for (uint32_t c = 0; c < ST_CLIENTS; c++) {
        uint64_t mine = 0;
        for (int k = 0; k < 9; k++) {
            tot[k] += sh->by_status[c][k];
            mine += sh->by_status[c][k];
        }
        CHECK_EQ_U64(mine, ST_GOALS);
        all += mine;
        cancels_ok += sh->cancels_ok[c];
        late += sh->cancels_late[c];
        cbs += sh->canceled_but_succeeded[c];
        fbs += sh->feedbacks[c];
        skipped += sh->skipped[c];
    }
    uint64_t took = atomic_load(&s.took);
    harness_log("stress: %llu goals in %.1f ms: succeeded %llu (%llu of them cancel-requested "
                "by the client), canceled %llu, aborted %llu, rejected %llu; cancels ok %llu, too late "
                "%llu",
                (unsigned long long)all, ms_of(dt), (unsigned long long)tot[HCM_GOAL_SUCCEEDED],
                (unsigned long long)cbs, (unsigned long long)tot[HCM_GOAL_CANCELED],
                (unsigned long long)tot[HCM_GOAL_ABORTED],
                (unsigned long long)tot[HCM_GOAL_REJECTED], (unsigned long long)cancels_ok,
                (unsigned long long)late);
    harness_log("stress: server took %llu, accept ECANCELED %llu, finished canceled %llu, "
                "succeeded %llu, aborted %llu, rejected %llu (%llu ended as planned despite a "
                "cancel request); feedback published %llu, read %llu, skipped %llu",
                (unsigned long long)took, (unsigned long long)atomic_load(&s.accept_canceled),
                (unsigned long long)atomic_load(&s.canceled),
                (unsigned long long)atomic_load(&s.succeeded),
                (unsigned long long)atomic_load(&s.aborted),
                (unsigned long long)atomic_load(&s.rejected),
                (unsigned long long)atomic_load(&s.ended_despite_cancel),
                (unsigned long long)atomic_load(&s.feedbacks),
                (unsigned long long)fbs, (unsigned long long)skipped);
    CHECK_EQ_U64(all, ST_CLIENTS * ST_GOALS);
    CHECK_EQ_U64(tot[HCM_GOAL_SUCCEEDED], atomic_load(&s.succeeded));
    CHECK_EQ_U64(tot[HCM_GOAL_ABORTED], atomic_load(&s.aborted));
    CHECK_EQ_U64(tot[HCM_GOAL_REJECTED], atomic_load(&s.rejected));
    /* canceled = finished canceled + canceled at accept + never taken (canceled pending) */
    CHECK_EQ_U64(tot[HCM_GOAL_CANCELED], atomic_load(&s.canceled) +
                                             atomic_load(&s.accept_canceled) +
                                             (ST_CLIENTS * ST_GOALS - took));
    CHECK(tot[HCM_GOAL_CANCELED] <= cancels_ok);
    CHECK(fbs + skipped <= atomic_load(&s.feedbacks));
    hcm_action_server_close(s.srv);
    unlink_action("stress");
    harness_gate_close(&go);
}
