/* test_action_threads.c - actions driven from several threads of one process
 * (several server threads taking and finishing goals of one server, client
 * threads with their own handles or sharing one, feedback read while it is
 * written, cancels racing with accept and finish), so that ThreadSanitizer
 * sees the handles' own state and the slot protocol. Iteration counts stay
 * moderate: TSan is ~10x slower. Every test removes its action segment with
 * hcm_action_unlink(). */
/* ctest-labels: tsan */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MS 1000000ll
#define SEC 1000000000ll
#define CLIENT_THREADS 4
#define SERVER_THREADS 3
#define MAX_WHO 8
#define MAX_N 64

static hcm_action_server *open_server(const char *name, uint32_t slots)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.slots = slots;
    a.goal_max = a.feedback_max = a.result_max = 256;
    hcm_action_server *srv = NULL;
    CHECK_OK(hcm_action_server_open(&srv, name, &a));
    return srv;
}

static hcm_action_client *open_client(const char *name)
{
    hcm_action_client *cli = NULL;
    CHECK_OK(hcm_action_client_open(&cli, name, NULL));
    return cli;
}

static void unlink_action(const char *name) { CHECK_OK(hcm_action_unlink(NULL, name)); }

/* The answer: same length, every byte depending on the length and on all
 * goal bytes before it. */
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

static void start(pthread_t *th, void *(*fn)(void *), void *arg)
{
    int err = pthread_create(th, NULL, fn, arg);
    if (err != 0)
        FAIL("pthread_create: %s", strerror(err));
}

/* ---- a server run by several threads ---------------------------------------------- */

typedef struct srv_ctx {
    hcm_action_server *srv;
    atomic_int stop;
    int feedbacks;           /* per goal */
    int cancel_aware;        /* finish CANCELED when asked */
    atomic_uchar taken[MAX_WHO][MAX_N];
    atomic_uint_fast64_t took, accept_canceled, finished_canceled, succeeded;
} srv_ctx;

static void *server_main(void *p)
{
    srv_ctx *s = p;
    for (;;) {
        uint8_t goal[256];
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
        if (!harness_payload_check(goal, len, &who, &n) || who >= MAX_WHO || n >= MAX_N)
            FAIL("taken goal %llu is not a test goal", (unsigned long long)g.id);
        if (atomic_exchange(&s->taken[who][n], 1))
            FAIL("goal (%u, %llu) handed out twice", who, (unsigned long long)n);
        atomic_fetch_add(&s->took, 1);
        rc = hcm_action_server_accept(s->srv, g);
        if (rc == HCM_ECANCELED) {
            atomic_fetch_add(&s->accept_canceled, 1);
            continue;
        }
        CHECK_OK(rc);
        CHECK_OK(hcm_action_server_execute(s->srv, g));
        int canceled = 0;
        for (int i = 0; i < s->feedbacks; i++) {
            if (s->cancel_aware && hcm_action_server_cancel_requested(s->srv, g)) {
                canceled = 1;
                break;
            }
            uint8_t fb[64];
            harness_payload_fill(fb, sizeof fb, who, (uint64_t)i);
            CHECK_OK(hcm_action_server_feedback(s->srv, g, fb, sizeof fb));
            sched_yield();
        }
        if (!canceled && s->cancel_aware && hcm_action_server_cancel_requested(s->srv, g))
            canceled = 1;
        if (canceled) {
            CHECK_OK(hcm_action_server_finish(s->srv, g, HCM_GOAL_CANCELED, NULL, 0));
            atomic_fetch_add(&s->finished_canceled, 1);
        } else {
            uint8_t res[256];
            transform(goal, len, res);
            CHECK_OK(hcm_action_server_finish(s->srv, g, HCM_GOAL_SUCCEEDED, res, len));
            atomic_fetch_add(&s->succeeded, 1);
        }
    }
}

static void server_start(srv_ctx *s, pthread_t *th, int threads)
{
    for (int i = 0; i < threads; i++)
        start(&th[i], server_main, s);
}

static void server_stop(srv_ctx *s, pthread_t *th, int threads)
{
    atomic_store(&s->stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
}

/* ---- clients ------------------------------------------------------------------------ */

typedef struct cli_ctx {
    hcm_action_client *cli;
    uint32_t who;
    int goals;
    int cancel_every; /* 0: never; k: every k-th goal right after sending */
    uint64_t succeeded, canceled, cancels_ok;
    pthread_t th;
} cli_ctx;

static void *client_main(void *p)
{
    cli_ctx *c = p;
    for (int n = 0; n < c->goals; n++) {
        uint8_t goal[256], res[256], want[256];
        size_t len = 24 + (size_t)((c->who * 31u + (uint32_t)n * 7u) % 200u), rlen = 0;
        harness_payload_fill(goal, len, c->who, (uint64_t)n);
        transform(goal, len, want);
        hcm_goal g;
        CHECK_OK(hcm_action_client_send(c->cli, goal, len, &g, 10 * SEC));
        int cancel_rc = -1;
        if (c->cancel_every != 0 && n % c->cancel_every == 0) {
            cancel_rc = hcm_action_client_cancel(c->cli, g);
            CHECK(cancel_rc == HCM_OK || cancel_rc == HCM_EINVAL);
            if (cancel_rc == HCM_OK)
                c->cancels_ok++;
        }
        uint64_t seq = 0;
        uint32_t ev = 0;
        for (;;) {
            uint8_t fb[256];
            size_t fl = 0;
            int rc;
            while ((rc = hcm_action_client_feedback(c->cli, g, fb, sizeof fb, &fl, &seq)) ==
                   HCM_OK) {
                uint32_t who = 0;
                uint64_t k = 0;
                if (!harness_payload_check(fb, fl, &who, &k) || who != c->who || k + 1 != seq)
                    FAIL("client %u goal %d: feedback of (%u, %llu) at seq %llu", c->who, n,
                         who, (unsigned long long)k, (unsigned long long)seq);
            }
            CHECK_RC(rc, HCM_EAGAIN);
            hcm_goal_status st;
            CHECK_OK(hcm_action_client_status(c->cli, g, &st));
            if (hcm_goal_status_is_final(st))
                break;
            rc = hcm_action_client_wait(c->cli, g, &ev, 5 * SEC);
            CHECK(rc == HCM_OK || rc == HCM_ETIMEDOUT);
        }
        hcm_goal_status st;
        CHECK_OK(hcm_action_client_result(c->cli, g, res, sizeof res, &rlen, &st, 0));
        if (st == HCM_GOAL_SUCCEEDED) {
            if (rlen != len || memcmp(res, want, len) != 0)
                FAIL("client %u goal %d: wrong result (%zu bytes)", c->who, n, rlen);
            c->succeeded++;
        } else if (st == HCM_GOAL_CANCELED) {
            if (cancel_rc != HCM_OK)
                FAIL("client %u goal %d canceled without a cancel request", c->who, n);
            CHECK_EQ(rlen, 0);
            c->canceled++;
        } else {
            FAIL("client %u goal %d ended %s", c->who, n, hcm_goal_status_name(st));
        }
    }
    return NULL;
}

TEST(several_server_threads_take_goals_of_client_threads_and_each_goal_is_handed_out_once)
{
    enum { GOALS = 40 };
    static srv_ctx s;
    s.srv = open_server("mt", 16);
    s.feedbacks = 3;
    pthread_t sth[SERVER_THREADS];
    server_start(&s, sth, SERVER_THREADS);
    static cli_ctx c[CLIENT_THREADS];
    for (uint32_t i = 0; i < CLIENT_THREADS; i++) {
        c[i].cli = open_client("mt");
        c[i].who = i;
        c[i].goals = GOALS;
        start(&c[i].th, client_main, &c[i]);
    }
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(c[i].th, NULL);
        CHECK_EQ_U64(c[i].succeeded, GOALS);
        hcm_action_client_close(c[i].cli);
    }
    server_stop(&s, sth, SERVER_THREADS);
    CHECK_EQ_U64(atomic_load(&s.took), CLIENT_THREADS * GOALS);
    CHECK_EQ_U64(atomic_load(&s.succeeded), CLIENT_THREADS * GOALS);
    hcm_action_server_close(s.srv);
    unlink_action("mt");
}

TEST(client_threads_sharing_one_handle_send_cancel_and_collect_their_own_goals)
{
    enum { GOALS = 30 };
    static srv_ctx s;
    s.srv = open_server("shared", 16);
    s.feedbacks = 4;
    s.cancel_aware = 1;
    pthread_t sth[2];
    server_start(&s, sth, 2);
    hcm_action_client *cli = open_client("shared");
    static cli_ctx c[CLIENT_THREADS];
    for (uint32_t i = 0; i < CLIENT_THREADS; i++) {
        c[i].cli = cli;
        c[i].who = i;
        c[i].goals = GOALS;
        c[i].cancel_every = 3;
        start(&c[i].th, client_main, &c[i]);
    }
    uint64_t succeeded = 0, canceled = 0, cancels_ok = 0;
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(c[i].th, NULL);
        CHECK_EQ_U64(c[i].succeeded + c[i].canceled, GOALS);
        succeeded += c[i].succeeded;
        canceled += c[i].canceled;
        cancels_ok += c[i].cancels_ok;
    }
    hcm_action_client_close(cli);
    server_stop(&s, sth, 2);
    uint64_t took = atomic_load(&s.took);
    harness_log("%llu succeeded, %llu canceled (%llu cancels accepted); server took %llu, "
                "accept ECANCELED %llu, finished canceled %llu",
                (unsigned long long)succeeded, (unsigned long long)canceled,
                (unsigned long long)cancels_ok, (unsigned long long)took,
                (unsigned long long)atomic_load(&s.accept_canceled),
                (unsigned long long)atomic_load(&s.finished_canceled));
    CHECK_EQ_U64(succeeded, atomic_load(&s.succeeded));
    CHECK_EQ_U64(canceled, atomic_load(&s.finished_canceled) + atomic_load(&s.accept_canceled) +
                               (CLIENT_THREADS * GOALS - took));
    hcm_action_server_close(s.srv);
    unlink_action("shared");
}

/* ---- feedback written while it is read ----------------------------------------------- */

typedef struct fb_ctx {
    hcm_action_server *srv;
    hcm_action_client *cli;
    hcm_goal g;
    atomic_int done;
    int paced;
    uint64_t read, skipped;
} fb_ctx;

#define FB_WRITES 20000

static void *fb_writer(void *p)
{
    fb_ctx *f = p;
    for (uint64_t k = 0; k < FB_WRITES; k++) {
        uint8_t fb[256];
        size_t len = 24 + (size_t)(harness_mix64(k) % 232);
        harness_payload_fill(fb, len, 5, k);
        CHECK_OK(hcm_action_server_feedback(f->srv, f->g, fb, len));
        if (f->paced) { /* leave the reader 2 us between writes */
            int64_t until = harness_now_ns() + 2000;
            while (harness_now_ns() < until)
                ;
        }
    }
    atomic_store(&f->done, 1);
    return NULL;
}

static void *fb_reader(void *p)
{
    fb_ctx *f = p;
    uint64_t seq = 0;
    for (;;) {
        int done = atomic_load(&f->done);
        uint8_t fb[256];
        size_t fl = 0;
        uint64_t before = seq;
        int rc = hcm_action_client_feedback(f->cli, f->g, fb, sizeof fb, &fl, &seq);
        if (rc == HCM_OK) {
            uint32_t who = 0;
            uint64_t k = 0;
            if (!harness_payload_check(fb, fl, &who, &k))
                FAIL("torn feedback of %zu bytes at seq %llu", fl, (unsigned long long)seq);
            if (who != 5 || k + 1 != seq || seq <= before)
                FAIL("feedback %llu at seq %llu after %llu", (unsigned long long)k,
                     (unsigned long long)seq, (unsigned long long)before);
            f->read++;
            f->skipped += seq - before - 1;
        } else {
            CHECK_RC(rc, HCM_EAGAIN);
            if (done && seq == FB_WRITES)
                return NULL;
        }
    }
}

static void feedback_race(const char *name, int paced)
{
    static fb_ctx f;
    memset(&f, 0, sizeof f);
    f.paced = paced;
    f.srv = open_server(name, 4);
    f.cli = open_client(name);
    uint8_t goal[24], buf[256];
    size_t len = 0;
    harness_payload_fill(goal, sizeof goal, 5, 0);
    CHECK_OK(hcm_action_client_send(f.cli, goal, sizeof goal, &f.g, SEC));
    hcm_goal t;
    CHECK_OK(hcm_action_server_take(f.srv, buf, sizeof buf, &len, &t, SEC));
    CHECK_OK(hcm_action_server_accept(f.srv, t));
    pthread_t w, r;
    int64_t t0 = harness_now_ns();
    start(&r, fb_reader, &f);
    start(&w, fb_writer, &f);
    pthread_join(w, NULL);
    int64_t t1 = harness_now_ns();
    pthread_join(r, NULL);
    harness_log("%s writer: %d feedbacks written in %.1f ms, %llu read whole, %llu skipped",
                paced ? "paced" : "full-speed", FB_WRITES, (double)(t1 - t0) / 1e6,
                (unsigned long long)f.read, (unsigned long long)f.skipped);
    CHECK_EQ_U64(f.read + f.skipped, FB_WRITES);
    CHECK_OK(hcm_action_server_finish(f.srv, t, HCM_GOAL_SUCCEEDED, NULL, 0));
    hcm_action_client_close(f.cli);
    hcm_action_server_close(f.srv);
    unlink_action(name);
}

TEST(feedback_read_while_it_is_written_is_never_torn)
{
    feedback_race("fbrace", 1);
}

/* A writer that publishes back to back: the reader may starve (it reports
 * how many it read), but what it reads is never torn. */
TEST(feedback_read_while_a_full_speed_writer_publishes_is_never_torn)
{
    feedback_race("fbfast", 0);
}

/* ---- cancels racing with accept and finish ------------------------------------------ */

#define RACE_GOALS 300

typedef struct race_ctx {
    hcm_action_server *srv;
    hcm_action_client *cli;
    hcm_goal goals[RACE_GOALS];
    atomic_int sent;   /* goals[0..sent) are valid */
    int cancel_rc[RACE_GOALS];
    atomic_int server_done;
    uint64_t accept_canceled, finished_canceled, succeeded, took;
} race_ctx;

static void *race_server(void *p)
{
    race_ctx *r = p;
    for (;;) {
        uint8_t goal[64];
        size_t len = 0;
        hcm_goal g;
        int rc = hcm_action_server_take(r->srv, goal, sizeof goal, &len, &g, 20 * MS);
        if (rc == HCM_ETIMEDOUT) {
            if (atomic_load(&r->server_done))
                return NULL;
            continue;
        }
        CHECK_OK(rc);
        r->took++;
        rc = hcm_action_server_accept(r->srv, g);
        if (rc == HCM_ECANCELED) {
            r->accept_canceled++;
            continue;
        }
        CHECK_OK(rc);
        if (harness_mix64(g.id) & 1)
            CHECK_OK(hcm_action_server_execute(r->srv, g));
        int64_t until = harness_now_ns() + (int64_t)(harness_mix64(g.id ^ 0x77) % 100000);
        while (harness_now_ns() < until) /* executing: 0..100 us */
            ;
        if (hcm_action_server_cancel_requested(r->srv, g)) {
            CHECK_OK(hcm_action_server_finish(r->srv, g, HCM_GOAL_CANCELED, NULL, 0));
            r->finished_canceled++;
        } else {
            /* the cancel may land now: finish must still take SUCCEEDED */
            uint8_t res[64];
            transform(goal, len, res);
            CHECK_OK(hcm_action_server_finish(r->srv, g, HCM_GOAL_SUCCEEDED, res, len));
            r->succeeded++;
        }
    }
}

TEST(cancels_racing_with_take_accept_and_finish_end_every_goal_in_one_legal_status)
{
    static race_ctx r;
    r.srv = open_server("crace", 512);
    r.cli = open_client("crace");
    pthread_t th;
    start(&th, race_server, &r);
    for (int i = 0; i < RACE_GOALS; i++) {
        uint8_t goal[24];
        harness_payload_fill(goal, sizeof goal, 1, (uint64_t)i);
        CHECK_OK(hcm_action_client_send(r.cli, goal, sizeof goal, &r.goals[i], 10 * SEC));
        int64_t until = harness_now_ns() + (int64_t)(harness_mix64((uint64_t)i) % 300000);
        while (harness_now_ns() < until) /* 0..300 us: before, during or after the take */
            ;
        r.cancel_rc[i] = hcm_action_client_cancel(r.cli, r.goals[i]);
        CHECK(r.cancel_rc[i] == HCM_OK || r.cancel_rc[i] == HCM_EINVAL);
    }
    uint64_t succeeded = 0, canceled = 0, late = 0;
    for (int i = 0; i < RACE_GOALS; i++) {
        uint8_t goal[24], want[24], res[64];
        size_t rlen = 0;
        hcm_goal_status st;
        CHECK_OK(hcm_action_client_result(r.cli, r.goals[i], res, sizeof res, &rlen, &st,
                                          10 * SEC));
        harness_payload_fill(goal, sizeof goal, 1, (uint64_t)i);
        transform(goal, sizeof goal, want);
        if (st == HCM_GOAL_SUCCEEDED) {
            CHECK_EQ(rlen, sizeof goal);
            CHECK(memcmp(res, want, rlen) == 0);
            succeeded++;
        } else if (st == HCM_GOAL_CANCELED) {
            CHECK_EQ(r.cancel_rc[i], HCM_OK);
            CHECK_EQ(rlen, 0);
            canceled++;
        } else {
            FAIL("goal %d ended %s", i, hcm_goal_status_name(st));
        }
        if (r.cancel_rc[i] == HCM_EINVAL) {
            CHECK(st == HCM_GOAL_SUCCEEDED); /* it had ended before the cancel */
            late++;
        }
    }
    atomic_store(&r.server_done, 1);
    pthread_join(th, NULL);
    harness_log("%d goals: %llu succeeded (%llu cancels came too late), %llu canceled; server "
                "took %llu, accept ECANCELED %llu, finished canceled %llu",
                RACE_GOALS, (unsigned long long)succeeded, (unsigned long long)late,
                (unsigned long long)canceled, (unsigned long long)r.took,
                (unsigned long long)r.accept_canceled, (unsigned long long)r.finished_canceled);
    CHECK_EQ_U64(succeeded + canceled, RACE_GOALS);
    CHECK_EQ_U64(succeeded, r.succeeded);
    CHECK_EQ_U64(canceled, r.finished_canceled + r.accept_canceled + (RACE_GOALS - r.took));
    hcm_action_client_close(r.cli);
    hcm_action_server_close(r.srv);
    unlink_action("crace");
}

/* A cancel that returned HCM_OK for a goal the server then accepts must show
 * as CANCELING (or end CANCELED): the documented ACCEPTED/EXECUTING --cancel-->
 * CANCELING step must not be lost when the cancel lands while the goal is
 * taken but not yet accepted. */
typedef struct lost_ctx {
    hcm_action_server *srv;
    hcm_action_client *cli;
    atomic_int phase; /* 0 idle, 1 sent, 2 taken, 3 accepted (or canceled), 4 checked */
    hcm_goal g;
    int accept_rc;
    atomic_int quit;
} lost_ctx;

static void wait_phase(lost_ctx *l, int want)
{
    while (atomic_load(&l->phase) != want && !atomic_load(&l->quit))
        sched_yield();
}

static void wait_phase_at_least(lost_ctx *l, int want)
{
    while (atomic_load(&l->phase) < want) /* busy: react within nanoseconds */
        ;
}

static void *lost_server(void *p)
{
    lost_ctx *l = p;
    for (;;) {
        wait_phase(l, 1);
        if (atomic_load(&l->quit))
            return NULL;
        uint8_t goal[64];
        size_t len = 0;
        hcm_goal g;
        CHECK_OK(hcm_action_server_take(l->srv, goal, sizeof goal, &len, &g, 5 * SEC));
        atomic_store(&l->phase, 2);
        int64_t until = harness_now_ns() + (int64_t)(harness_mix64(g.id) % 600);
        while (harness_now_ns() < until) /* 0..0.6 us, so the cancel lands all around */
            ;
        l->accept_rc = hcm_action_server_accept(l->srv, g); /* races with the cancel */
        CHECK(l->accept_rc == HCM_OK || l->accept_rc == HCM_ECANCELED);
        atomic_store(&l->phase, 3);
        wait_phase(l, 4);
        if (l->accept_rc == HCM_OK) {
            CHECK_EQ(hcm_action_server_cancel_requested(l->srv, g), 1);
            CHECK_OK(hcm_action_server_finish(l->srv, g, HCM_GOAL_CANCELED, NULL, 0));
        }
        atomic_store(&l->phase, 0);
    }
}

TEST(a_cancel_landing_while_the_goal_is_taken_is_never_lost_from_the_status)
{
    enum { ROUNDS = 2000 };
    static lost_ctx l;
    l.srv = open_server("lost", 4);
    l.cli = open_client("lost");
    pthread_t th;
    start(&th, lost_server, &l);
    int wrong = 0, ecanceled = 0;
    for (int i = 0; i < ROUNDS; i++) {
        uint8_t goal[24];
        harness_payload_fill(goal, sizeof goal, 1, (uint64_t)i);
        CHECK_OK(hcm_action_client_send(l.cli, goal, sizeof goal, &l.g, 5 * SEC));
        atomic_store(&l.phase, 1);
        wait_phase_at_least(&l, 2); /* taken; the accept may already be under way */
        CHECK_OK(hcm_action_client_cancel(l.cli, l.g));
        wait_phase_at_least(&l, 3);
        hcm_goal_status st;
        CHECK_OK(hcm_action_client_status(l.cli, l.g, &st));
        if (l.accept_rc == HCM_ECANCELED) {
            ecanceled++;
            CHECK(st == HCM_GOAL_CANCELED);
        } else if (st != HCM_GOAL_CANCELING) {
            if (wrong++ < 3)
                harness_log("round %d: cancel returned OK, accept OK, status now %s", i,
                            hcm_goal_status_name(st));
        }
        atomic_store(&l.phase, 4);
        wait_phase(&l, 0);
        uint8_t res[64];
        size_t rlen;
        CHECK_OK(hcm_action_client_result(l.cli, l.g, res, sizeof res, &rlen, &st, 5 * SEC));
        CHECK(st == HCM_GOAL_CANCELED);
    }
    atomic_store(&l.quit, 1);
    pthread_join(th, NULL);
    harness_log("%d rounds: accept gave ECANCELED %d times; status not CANCELING after an "
                "accepted cancel %d times",
                ROUNDS, ecanceled, wrong);
    CHECK_EQ(wrong, 0);
    hcm_action_client_close(l.cli);
    hcm_action_server_close(l.srv);
    unlink_action("lost");
}
