/* bench/ours.c - hcm under the same loops as the references.
 *
 * Ping-pong: topic "ping" A->B and topic "pong" B->A, max_payload = size,
 * default slots. Every sample is copied in (hcm_publish from a private
 * buffer) and out (hcm_subscriber_take into another), except the loan
 * variant. Receivers, by variant:
 *   poll   spin on hcm_subscriber_take() with `pause` between HCM_EAGAINs;
 *   block  hcm_subscriber_wait(sub, -1) with the default attr, then take();
 *   futex  the same with attr.spin_ns = 0 (straight to the futex: shows the
 *          cost of the library's sleep path, which `block` rarely reaches);
 *   loan   sender hcm_publisher_loan + writes the 8-byte counter only +
 *          hcm_publisher_commit; receiver spins on hcm_subscriber_view,
 *          reads the counter, hcm_subscriber_release (must say HCM_OK).
 *
 * Stream: topic "stream" with `slots` slots. The consumer spins on take()
 * and publishes how many samples it has taken in ctl->consumed (its own
 * line); the producer never runs more than slots-1 ahead of it (it re-reads
 * ctl->consumed only when its cached copy says it must wait), so the stream
 * is lossless by construction and any loss hcm reports is a bug. The
 * consumer checks every counter and reports hcm_subscriber_lost().
 */
#include "ours.h"

#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_loops.h"
#include "hcm/hcm.h"

typedef struct ours_side {
    bench_env *e;
    hcm_publisher *pub;
    hcm_subscriber *sub;
    size_t size;
    unsigned char *src, *dst;
    uint64_t lost;
    uint64_t consumed_cache; /* stream producer: last value read from ctl->consumed */
    uint64_t credit;         /* stream producer: slots - 1 */
} ours_side;

static int hfail(ours_side *s, const char *what, int rc)
{
    return bench_fail(s->e, "%s: %s (%s)", what, hcm_strerror(rc), hcm_errmsg());
}

static int open_pub(ours_side *s, const char *topic, uint32_t slots)
{
    hcm_publisher_attr a;
    hcm_publisher_attr_init(&a);
    a.max_payload = s->size;
    if (slots)
        a.buffer_num = slots;
    int rc = hcm_publisher_open(&s->pub, topic, &a);
    return rc ? hfail(s, "hcm_publisher_open", rc) : 0;
}

static int open_sub(ours_side *s, const char *topic, int variant)
{
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    if (variant == BENCH_OURS_FUTEX)
        a.spin_ns = 0;
    int rc = hcm_subscriber_open(&s->sub, topic, &a);
    return rc ? hfail(s, "hcm_subscriber_open", rc) : 0;
}

/* Publishers first (barrier), then subscribers (barrier): every subscriber
 * opens on an existing segment, before anything is published. */
static int ours_open(bench_env *e, ours_side *s, const char *pub, const char *sub, uint32_t slots)
{
    memset(s, 0, sizeof *s);
    s->e = e;
    s->size = e->p->size;
    s->dst = bench_payload_alloc(s->size);
    s->src = e->role ? s->dst : bench_payload_alloc(s->size); /* B echoes what it received */
    if (!s->src || !s->dst)
        return bench_fail(e, "out of memory");
    if (pub && open_pub(s, pub, slots))
        return -1;
    if (bench_barrier(e, 2))
        return -1;
    if (sub && open_sub(s, sub, e->p->variant))
        return -1;
    return bench_barrier(e, 3);
}

static void ours_close(ours_side *s)
{
    hcm_subscriber_close(s->sub);
    hcm_publisher_close(s->pub);
    if (s->src != s->dst)
        free(s->src);
    free(s->dst);
}

/* ---- ping-pong ------------------------------------------------------------ */

static int copy_send(void *t, uint64_t c)
{
    ours_side *s = t;
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_publish(s->pub, s->src, s->size);
    return rc ? hfail(s, "hcm_publish", rc) : 0;
}

static int got(ours_side *s, const hcm_sample_info *info, uint64_t *c)
{
    if (info->len != s->size)
        return bench_fail(s->e, "sample of %llu bytes, expected %zu",
                          (unsigned long long)info->len, s->size);
    s->lost += info->lost;
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

static int poll_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    hcm_sample_info info;
    int rc;
    while ((rc = hcm_subscriber_take(s->sub, s->dst, s->size, &info)) == HCM_EAGAIN)
        bench_relax();
    if (rc)
        return hfail(s, "hcm_subscriber_take", rc);
    return got(s, &info, c);
}

static int wait_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    hcm_sample_info info;
    for (;;) {
        int rc = hcm_subscriber_wait(s->sub, -1);
        if (rc == HCM_EINTR)
            continue;
        if (rc)
            return hfail(s, "hcm_subscriber_wait", rc);
        rc = hcm_subscriber_take(s->sub, s->dst, s->size, &info);
        if (rc == HCM_OK)
            return got(s, &info, c);
        if (rc != HCM_EAGAIN)
            return hfail(s, "hcm_subscriber_take", rc);
    }
}

static int loan_send(void *t, uint64_t c)
{
    ours_side *s = t;
    void *buf;
    int rc = hcm_publisher_loan(s->pub, s->size, &buf);
    if (rc)
        return hfail(s, "hcm_publisher_loan", rc);
    memcpy(buf, &c, sizeof c);
    rc = hcm_publisher_commit(s->pub, buf);
    return rc ? hfail(s, "hcm_publisher_commit", rc) : 0;
}

static int loan_recv(void *t, uint64_t *c)
{
    ours_side *s = t;
    const void *data;
    hcm_sample_info info;
    int rc;
    while ((rc = hcm_subscriber_view(s->sub, &data, &info)) == HCM_EAGAIN)
        bench_relax();
    if (rc)
        return hfail(s, "hcm_subscriber_view", rc);
    if (info.len != s->size)
        return bench_fail(s->e, "view of %llu bytes, expected %zu", (unsigned long long)info.len,
                          s->size);
    s->lost += info.lost;
    memcpy(c, data, sizeof *c);
    rc = hcm_subscriber_release(s->sub);
    return rc ? hfail(s, "hcm_subscriber_release", rc) : 0;
}

int bench_ours_pingpong(bench_env *e)
{
    ours_side s;
    int rc = e->role == 0 ? ours_open(e, &s, "ping", "pong", 0) : ours_open(e, &s, "pong", "ping", 0);
    if (rc == 0) {
        int v = e->p->variant;
        if (e->role == 0) {
            if (v == BENCH_OURS_POLL)
                rc = bench_ping(e, &s, copy_send, poll_recv);
            else if (v == BENCH_OURS_LOAN)
                rc = bench_ping(e, &s, loan_send, loan_recv);
            else
                rc = bench_ping(e, &s, copy_send, wait_recv);
        } else {
            if (v == BENCH_OURS_POLL)
                rc = bench_echo(e, &s, copy_send, poll_recv);
            else if (v == BENCH_OURS_LOAN)
                rc = bench_echo(e, &s, loan_send, loan_recv);
            else
                rc = bench_echo(e, &s, copy_send, wait_recv);
        }
    }
    if (rc == 0 && s.lost)
        rc = bench_fail(e, "ping-pong lost %llu samples", (unsigned long long)s.lost);
    ours_close(&s);
    return rc;
}

/* ---- stream ----------------------------------------------------------------- */

static int stream_produce(void *t, uint64_t c)
{
    ours_side *s = t;
    bench_ctl *ctl = s->e->ctl;
    if (c - s->consumed_cache >= s->credit) {
        /* (C2) acquire: the consumer is done with the slot we are about to
         * reuse; pairs with (C1) */
        while (c - (s->consumed_cache = atomic_load_explicit(&ctl->consumed,
                                                             memory_order_acquire)) >=
               s->credit) {
            if (atomic_load_explicit(&ctl->stop, memory_order_relaxed)) /* a flag, no data */
                return 1;
            bench_relax();
        }
    }
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_publish(s->pub, s->src, s->size);
    return rc ? hfail(s, "hcm_publish", rc) : 0;
}

static int stream_consume(void *t, uint64_t *c)
{
    ours_side *s = t;
    if (poll_recv(t, c))
        return -1;
    /* (C1) release: our copy-out is done; pairs with (C2) */
    atomic_store_explicit(&s->e->ctl->consumed,
                          atomic_load_explicit(&s->e->ctl->consumed, memory_order_relaxed) + 1,
                          memory_order_release); /* relaxed load: we are the only writer */
    return 0;
}

int bench_ours_stream(bench_env *e)
{
    ours_side s;
    int rc = e->role == 0 ? ours_open(e, &s, "stream", NULL, e->p->slots)
                          : ours_open(e, &s, NULL, "stream", 0);
    if (rc == 0) {
        s.credit = e->p->slots - 1;
        if (e->role == 0) {
            if (hcm_publisher_slots(s.pub) != e->p->slots)
                rc = bench_fail(e, "topic has %u slots, asked for %u", hcm_publisher_slots(s.pub),
                                e->p->slots);
            else
                rc = bench_produce(e, &s, stream_produce);
        } else {
            rc = bench_consume(e, &s, stream_consume);
            uint64_t total = hcm_subscriber_lost(s.sub);
            if (total > e->ctl->res.lost)
                e->ctl->res.lost = total;
            if (s.lost > e->ctl->res.lost)
                e->ctl->res.lost = s.lost;
        }
    }
    ours_close(&s);
    return rc;
}

/* ---- services ------------------------------------------------------------------
 *
 * Service "svc", request and response BYTES of exactly `size` bytes, default
 * queue (64 call slots). A is the client: send() is one hcm_client_call()
 * from a private buffer into another (copy in, copy out, as the references'
 * A does), recv() reads the counter of the response it got. B is the server:
 *   handler    hcm_server_start() with an echo handler (take copies the request
 *              out, the handler copies it to the response buffer, reply copies
 *              it in); B's main thread sleeps in sem_wait until the handler has
 *              seen BENCH_STOP and returns WITHOUT closing the server: on an
 *              idle handler thread hcm_server_close() takes ~100 ms (the
 *              thread's take only notices the stop flag when its 100 ms take
 *              times out), which would spoil the placement probe that follows
 *              the run. The process exits right after that probe (the handler
 *              thread dies with it) and the parent unlinks "svc";
 *   take/reply bench_echo on B's main thread: hcm_server_take() into a private
 *              buffer, hcm_server_reply() from it (the references' B).
 * Variant bit BENCH_SVC_SLEEP sets spin_ns = 0 on both sides.
 * The round trip A measures is the call's: one sample per hcm_client_call(). */
typedef struct svc_side {
    bench_env *e;
    hcm_server *srv;
    hcm_client *cli;
    size_t size;
    unsigned char *src, *dst;
    hcm_call call;  /* take/reply: the call in hand */
    sem_t stop;     /* handler: BENCH_STOP answered */
    int sem_ok;
} svc_side;

static int svc_call(void *t, uint64_t c)
{
    svc_side *s = t;
    size_t len = 0;
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_client_call(s->cli, s->src, s->size, s->dst, s->size, &len, -1);
    if (rc)
        return bench_fail(s->e, "hcm_client_call: %s (%s)", hcm_strerror(rc), hcm_errmsg());
    if (len != s->size)
        return bench_fail(s->e, "response of %zu bytes, expected %zu", len, s->size);
    return 0;
}

static int svc_response(void *t, uint64_t *c)
{
    svc_side *s = t;
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

static int svc_take(void *t, uint64_t *c)
{
    svc_side *s = t;
    size_t len = 0;
    int rc;
    while ((rc = hcm_server_take(s->srv, s->dst, s->size, &len, &s->call, -1)) == HCM_EINTR)
        ;
    if (rc)
        return bench_fail(s->e, "hcm_server_take: %s (%s)", hcm_strerror(rc), hcm_errmsg());
    if (len != s->size)
        return bench_fail(s->e, "request of %zu bytes, expected %zu", len, s->size);
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

static int svc_reply(void *t, uint64_t c)
{
    svc_side *s = t;
    (void)c; /* s->src == s->dst: the request just taken */
    int rc = hcm_server_reply(s->srv, s->call, s->src, s->size);
    return rc ? bench_fail(s->e, "hcm_server_reply: %s (%s)", hcm_strerror(rc), hcm_errmsg()) : 0;
}

static int svc_echo_handler(void *ctx, const void *req, size_t req_len, void *resp,
                            size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    svc_side *s = ctx;
    uint64_t c;
    if (req_len > resp_cap || req_len < sizeof c) {
        snprintf(errbuf, HCM_SERVICE_ERROR_MAX, "request of %zu bytes", req_len);
        return HCM_EMSGSIZE;
    }
    memcpy(resp, req, req_len);
    *resp_lenp = req_len;
    memcpy(&c, req, sizeof c);
    if (c == BENCH_STOP)
        sem_post(&s->stop); /* the reply goes out when we return; close joins us */
    return HCM_OK;
}

int bench_ours_service(bench_env *e)
{
    static svc_side s; /* static: B's handler thread outlives this call (see above) */
    int v = e->p->variant, rc = 0;
    memset(&s, 0, sizeof s);
    s.e = e;
    s.size = e->p->size;
    s.dst = bench_payload_alloc(s.size);
    s.src = e->role ? s.dst : bench_payload_alloc(s.size); /* B echoes what it received */
    if (!s.src || !s.dst) {
        rc = bench_fail(e, "out of memory");
        goto out;
    }
    if (e->role == 1) { /* server first: a client's first call must find it */
        hcm_server_attr a;
        hcm_server_attr_init(&a);
        a.request_max = a.response_max = s.size;
        if (v & BENCH_SVC_SLEEP)
            a.spin_ns = 0;
        if ((rc = hcm_server_open(&s.srv, "svc", &a)) != HCM_OK) {
            rc = bench_fail(e, "hcm_server_open: %s (%s)", hcm_strerror(rc), hcm_errmsg());
            goto out;
        }
        if (!(v & BENCH_SVC_TAKEREPLY)) {
            if (sem_init(&s.stop, 0, 0)) {
                rc = bench_fail(e, "sem_init failed");
                goto out;
            }
            s.sem_ok = 1;
            if ((rc = hcm_server_start(s.srv, svc_echo_handler, &s)) != HCM_OK) {
                rc = bench_fail(e, "hcm_server_start: %s (%s)", hcm_strerror(rc), hcm_errmsg());
                goto out;
            }
        }
    }
    if ((rc = bench_barrier(e, 2)) != 0)
        goto out;
    if (e->role == 0) {
        hcm_client_attr a;
        hcm_client_attr_init(&a);
        if (v & BENCH_SVC_SLEEP)
            a.spin_ns = 0;
        if ((rc = hcm_client_open(&s.cli, "svc", &a)) != HCM_OK) {
            rc = bench_fail(e, "hcm_client_open: %s (%s)", hcm_strerror(rc), hcm_errmsg());
            goto out;
        }
    }
    if ((rc = bench_barrier(e, 3)) != 0)
        goto out;
    if (e->role == 0)
        rc = bench_ping(e, &s, svc_call, svc_response);
    else if (v & BENCH_SVC_TAKEREPLY)
        rc = bench_echo(e, &s, svc_reply, svc_take);
    else {
        /* the handler thread serves; sleep until it has answered BENCH_STOP
         * (A fails the run and the parent kills us if it never comes) */
        while (sem_wait(&s.stop) != 0)
            ;
        /* let the STOP reply go out (a reply after return is fine too: A
         * waits for it), then leave the server open: see the comment above */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        s.srv = NULL;
        s.sem_ok = 0; /* the handler thread still holds &s.stop */
        return 0;
    }
out:
    hcm_client_close(s.cli);
    hcm_server_close(s.srv); /* stops and joins the handler thread */
    if (s.sem_ok)
        sem_destroy(&s.stop);
    if (s.src != s.dst)
        free(s.src);
    free(s.dst);
    return rc;
}

/* ---- actions -------------------------------------------------------------------
 *
 * Goal, feedback and result are BYTES of at most `size` bytes; the counter
 * (or a clock stamp) travels in the first 8 bytes. The servers keep the
 * default 64 goal slots but set retention_ns = 0: a finished goal's slot may
 * be reused at once (with the default 60 s retention a client can start at
 * most 64 goals a minute; every send would wait for a slot after that).
 * The action server has no spin setting (its take spins 20 us, then
 * sleeps); the client side waits as the variant says (see ours.h):
 *   POLL   spin on hcm_action_client_status()/_feedback() with `pause`;
 *          result() with attr.spin_ns = -1 (spins without limit: `pause`
 *          for 1 us, then sched_yield);
 *   WAIT   hcm_action_client_wait() with the default attr (spin 20 us);
 *   SLEEP  the same with attr.spin_ns = 0; the GOAL/RESULT rows' result()
 *          waits the same way (it uses the client's spin_ns).
 * B (the server of "act") echoes the counter of a goal as its result. */
typedef struct act_side {
    bench_env *e;
    hcm_action_server *srv;
    hcm_action_client *cli;
    size_t size;
    int waits;
    unsigned char *src, *dst;
    hcm_goal sent;   /* the goal this side sent last (client) */
    hcm_goal held;   /* the goal this side took (server) */
    uint64_t counter; /* ACCEPT: the counter of the goal in flight */
    uint32_t events;  /* the event count seen last on `sent` */
    uint64_t fb_seq;  /* the feedback sequence number read last on `sent` */
} act_side;

static int afail(act_side *s, const char *what, int rc)
{
    return bench_fail(s->e, "%s: %s (%s)", what, hcm_strerror(rc), hcm_errmsg());
}

static int act_open_server(act_side *s, const char *name)
{
    hcm_action_server_attr a;
    hcm_action_server_attr_init(&a);
    a.goal_max = a.feedback_max = a.result_max = s->size;
    a.retention_ns = 0;
    int rc = hcm_action_server_open(&s->srv, name, &a);
    return rc ? afail(s, "hcm_action_server_open", rc) : 0;
}

static int act_open_client(act_side *s, const char *name)
{
    hcm_action_client_attr a;
    hcm_action_client_attr_init(&a);
    if (s->waits == BENCH_ACT_SLEEP)
        a.spin_ns = 0;
    else if (s->waits == BENCH_ACT_POLL)
        a.spin_ns = -1; /* result() spins without limit */
    int rc = hcm_action_client_open(&s->cli, name, &a);
    return rc ? afail(s, "hcm_action_client_open", rc) : 0;
}

/* A: sends goal c (counter in the first 8 bytes). */
static int act_send_goal(void *t, uint64_t c)
{
    act_side *s = t;
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_action_client_send(s->cli, s->src, s->size, &s->sent, -1);
    if (rc)
        return afail(s, "hcm_action_client_send", rc);
    s->counter = c;
    s->events = 0; /* a new goal: the first wait returns at once and reads the count */
    return 0;
}

/* A: until the goal is accepted (or already further on). */
static int act_wait_accepted(void *t, uint64_t *c)
{
    act_side *s = t;
    for (;;) {
        hcm_goal_status st;
        int rc = hcm_action_client_status(s->cli, s->sent, &st);
        if (rc)
            return afail(s, "hcm_action_client_status", rc);
        if (st == HCM_GOAL_ACCEPTED || st == HCM_GOAL_EXECUTING || st == HCM_GOAL_SUCCEEDED) {
            *c = s->counter;
            return 0;
        }
        if (st != HCM_GOAL_PENDING)
            return bench_fail(s->e, "goal %llu ended %s", (unsigned long long)s->counter,
                              hcm_goal_status_name(st));
        if (s->waits == BENCH_ACT_POLL) {
            bench_relax();
            continue;
        }
        while ((rc = hcm_action_client_wait(s->cli, s->sent, &s->events, -1)) == HCM_EINTR)
            ;
        if (rc)
            return afail(s, "hcm_action_client_wait", rc);
    }
}

/* A: result() of the goal in flight; *c = the first 8 bytes of the result. */
static int act_result(void *t, uint64_t *c)
{
    act_side *s = t;
    size_t len = 0;
    hcm_goal_status st;
    int rc;
    while ((rc = hcm_action_client_result(s->cli, s->sent, s->dst, s->size, &len, &st, -1)) ==
           HCM_EINTR)
        ;
    if (rc)
        return afail(s, "hcm_action_client_result", rc);
    if (st != HCM_GOAL_SUCCEEDED || len != s->size)
        return bench_fail(s->e, "goal ended %s with %zu bytes", hcm_goal_status_name(st), len);
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

/* B: takes the next goal. */
static int act_take(void *t, uint64_t *c)
{
    act_side *s = t;
    size_t len = 0;
    int rc;
    while ((rc = hcm_action_server_take(s->srv, s->dst, s->size, &len, &s->held, -1)) ==
           HCM_EINTR)
        ;
    if (rc)
        return afail(s, "hcm_action_server_take", rc);
    if (len != s->size)
        return bench_fail(s->e, "goal of %zu bytes, expected %zu", len, s->size);
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

/* B: accepts the goal taken and finishes it at once, its counter as result
 * (ACCEPT, GOAL); RESULT: the clock read right before finish() instead. */
static int act_accept_finish(void *t, uint64_t c)
{
    act_side *s = t;
    int rc = hcm_action_server_accept(s->srv, s->held);
    if (rc)
        return afail(s, "hcm_action_server_accept", rc);
    if (BENCH_ACT_KIND(s->e->p->variant) == BENCH_ACT_RESULT && c != BENCH_STOP)
        c = (uint64_t)bench_now();
    memcpy(s->src, &c, sizeof c);
    rc = hcm_action_server_finish(s->srv, s->held, HCM_GOAL_SUCCEEDED, s->src, s->size);
    return rc ? afail(s, "hcm_action_server_finish", rc) : 0;
}

/* Feedback ping-pong: publish on the goal this side serves. */
static int act_fb_send(void *t, uint64_t c)
{
    act_side *s = t;
    if (BENCH_ACT_KIND(s->e->p->variant) == BENCH_ACT_FBTS && c != BENCH_STOP && s->e->role)
        c = (uint64_t)bench_now(); /* B stamps; A's own sends carry the counter */
    memcpy(s->src, &c, sizeof c);
    int rc = hcm_action_server_feedback(s->srv, s->held, s->src, s->size);
    return rc ? afail(s, "hcm_action_server_feedback", rc) : 0;
}

static int act_fb_got(act_side *s, size_t len, uint64_t seq, uint64_t *c)
{
    if (len != s->size)
        return bench_fail(s->e, "feedback of %zu bytes, expected %zu", len, s->size);
    if (seq != s->fb_seq + 1)
        return bench_fail(s->e, "feedback %llu after %llu: skipped", (unsigned long long)seq,
                          (unsigned long long)s->fb_seq);
    s->fb_seq = seq;
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

/* Feedback ping-pong: the next feedback on the goal this side sent. */
static int act_fb_recv(void *t, uint64_t *c)
{
    act_side *s = t;
    size_t len = 0;
    uint64_t seq = s->fb_seq;
    int rc;
    if (s->waits == BENCH_ACT_POLL) {
        while ((rc = hcm_action_client_feedback(s->cli, s->sent, s->dst, s->size, &len, &seq)) ==
               HCM_EAGAIN)
            bench_relax();
        if (rc)
            return afail(s, "hcm_action_client_feedback", rc);
        return act_fb_got(s, len, seq, c);
    }
    for (;;) { /* wait, then read (as the topic rows' wait + take) */
        rc = hcm_action_client_wait(s->cli, s->sent, &s->events, -1);
        if (rc == HCM_EINTR)
            continue;
        if (rc)
            return afail(s, "hcm_action_client_wait", rc);
        rc = hcm_action_client_feedback(s->cli, s->sent, s->dst, s->size, &len, &seq);
        if (rc == HCM_OK)
            return act_fb_got(s, len, seq, c);
        if (rc != HCM_EAGAIN)
            return afail(s, "hcm_action_client_feedback", rc);
    }
}

/* Feedback rows: each side opens its server, then its client, sends one
 * goal to the peer's server, takes, accepts and executes the peer's goal. */
static int act_fb_setup(act_side *s)
{
    bench_env *e = s->e;
    size_t len = 0;
    uint64_t zero = 0;
    int rc;
    if (act_open_server(s, e->role ? "act_ba" : "act_ab") || bench_barrier(e, 2))
        return -1;
    if (act_open_client(s, e->role ? "act_ab" : "act_ba"))
        return -1;
    memcpy(s->src, &zero, sizeof zero);
    if ((rc = hcm_action_client_send(s->cli, s->src, s->size, &s->sent, 5000000000ll)) != 0)
        return afail(s, "hcm_action_client_send", rc);
    if ((rc = hcm_action_server_take(s->srv, s->dst, s->size, &len, &s->held, 5000000000ll)) != 0)
        return afail(s, "hcm_action_server_take", rc);
    if ((rc = hcm_action_server_accept(s->srv, s->held)) != 0)
        return afail(s, "hcm_action_server_accept", rc);
    if ((rc = hcm_action_server_execute(s->srv, s->held)) != 0)
        return afail(s, "hcm_action_server_execute", rc);
    /* both goals executing: no status change until the end. s->events stays
     * 0: the first wait returns at once (and reads the count), then the read
     * tells whether the peer's first feedback is there yet */
    return bench_barrier(e, 3);
}

int bench_ours_action(bench_env *e)
{
    act_side s;
    int v = e->p->variant, kind = BENCH_ACT_KIND(v), rc = 0;
    memset(&s, 0, sizeof s);
    s.e = e;
    s.size = e->p->size;
    s.waits = BENCH_ACT_WAITS(v);
    s.dst = bench_payload_alloc(s.size);
    s.src = bench_payload_alloc(s.size);
    if (!s.src || !s.dst) {
        rc = bench_fail(e, "out of memory");
        goto out;
    }
    if (kind == BENCH_ACT_FB || kind == BENCH_ACT_FBTS) {
        if ((rc = act_fb_setup(&s)) != 0)
            goto out;
        if (e->role == 0)
            rc = kind == BENCH_ACT_FBTS ? bench_ping_stamped(e, &s, act_fb_send, act_fb_recv)
                                        : bench_ping(e, &s, act_fb_send, act_fb_recv);
        else
            rc = bench_echo(e, &s, act_fb_send, act_fb_recv);
        if (rc == 0) {
            uint64_t c = BENCH_STOP;
            memcpy(s.src, &c, sizeof c);
            int r2 = hcm_action_server_finish(s.srv, s.held, HCM_GOAL_SUCCEEDED, s.src, s.size);
            rc = r2 ? afail(&s, "hcm_action_server_finish", r2) : 0;
        }
        if (rc == 0) /* both goals finished before anyone closes */
            rc = bench_barrier(e, 4);
        goto out;
    }
    /* ACCEPT, GOAL, RESULT: B serves "act", A is its client */
    if (e->role == 1 && act_open_server(&s, "act")) {
        rc = -1;
        goto out;
    }
    if ((rc = bench_barrier(e, 2)) != 0)
        goto out;
    if (e->role == 0 && act_open_client(&s, "act")) {
        rc = -1;
        goto out;
    }
    if ((rc = bench_barrier(e, 3)) != 0)
        goto out;
    if (e->role == 1)
        rc = bench_echo(e, &s, act_accept_finish, act_take);
    else if (kind == BENCH_ACT_ACCEPT)
        rc = bench_ping(e, &s, act_send_goal, act_wait_accepted);
    else if (kind == BENCH_ACT_GOAL)
        rc = bench_ping(e, &s, act_send_goal, act_result);
    else
        rc = bench_ping_stamped(e, &s, act_send_goal, act_result);
out:
    hcm_action_client_close(s.cli);
    hcm_action_server_close(s.srv);
    free(s.src);
    free(s.dst);
    return rc;
}
