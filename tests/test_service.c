/* test_service.c - services (request/response): round trips, call ids, the
 * bounded queue, sleeping waits, dead servers and clients, restarts, one
 * server per name, remote failures, cancel, bad input and corrupted segments.
 * Server and client live in different processes (harness_fork) wherever the
 * behaviour crosses processes.
 *
 * There is no hcm_service_unlink() yet: every test removes its service
 * segment with unlink(2) on /dev/shm/hcm.<domain>.s.<name> (unlink_service()).
 *
 * The test servers answer a request with transform(request): same length,
 * every byte depending on the request's length and all bytes before it, so
 * a response delivered to the wrong call never passes the check. Requests are
 * harness payloads (writer id, counter), so a request can be identified too.
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

static void service_path(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "/dev/shm/hcm.%s.s.%s", harness_domain(), name);
}

static int service_exists(const char *name)
{
    char path[512];
    struct stat st;
    service_path(name, path, sizeof path);
    return stat(path, &st) == 0;
}

/* No hcm_service_unlink() exists: remove the segment file by hand. */
static void unlink_service(const char *name)
{
    char path[512];
    service_path(name, path, sizeof path);
    if (unlink(path) != 0)
        FAIL("unlink %s: %s", path, strerror(errno));
}

static hcm_server_attr bytes_attr(uint32_t queue, uint64_t req_max, uint64_t resp_max)
{
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.queue_size = queue;
    a.request_max = req_max;
    a.response_max = resp_max;
    return a;
}

static hcm_server *open_server(const char *name, uint32_t queue, uint64_t req_max,
                               uint64_t resp_max)
{
    hcm_server_attr a = bytes_attr(queue, req_max, resp_max);
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, name, &a));
    CHECK(srv != NULL);
    return srv;
}

static hcm_client *open_client(const char *name, int wait_for_slot)
{
    hcm_client_attr a;
    hcm_client_attr_init(&a);
    a.wait_for_slot = wait_for_slot;
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, name, &a));
    CHECK(cli != NULL);
    return cli;
}

/* The answer of the test servers. */
static void transform(const void *req, size_t len, void *resp)
{
    const uint8_t *in = req;
    uint8_t *out = resp;
    uint64_t h = harness_mix64(0x5e41ce00u + (uint64_t)len);
    for (size_t i = 0; i < len; i++) {
        h = harness_mix64(h ^ in[i]);
        out[i] = (uint8_t)h;
    }
}

static int is_answer(const void *req, size_t len, const void *resp, size_t resp_len)
{
    uint8_t want[4096];
    if (len > sizeof want || resp_len != len)
        return 0;
    transform(req, len, want);
    return memcmp(resp, want, len) == 0;
}

static void check_answer(const void *req, size_t len, const void *resp, size_t resp_len)
{
    CHECK_EQ(resp_len, len);
    CHECK(is_answer(req, len, resp, resp_len));
}

typedef struct handler_ctx {
    atomic_uint_fast64_t handled;
} handler_ctx;

/* hcm_handler_fn: answers with transform(request); ctx (a handler_ctx) or NULL. */
static int answer_handler(void *ctx, const void *req, size_t req_len, void *resp,
                          size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    (void)errbuf;
    if (req_len > resp_cap)
        return HCM_EMSGSIZE;
    transform(req, req_len, resp);
    *resp_lenp = req_len;
    if (ctx != NULL)
        atomic_fetch_add(&((handler_ctx *)ctx)->handled, 1);
    return HCM_OK;
}

/* One call with a payload request (writer `who`, counter `n`), checked. */
static void call_checked(hcm_client *cli, uint32_t who, uint64_t n, size_t len)
{
    uint8_t req[256], resp[256];
    size_t rlen = 0;
    CHECK(len <= sizeof req);
    harness_payload_fill(req, len, who, n);
    CHECK_OK(hcm_client_call(cli, req, len, resp, sizeof resp, &rlen, 10 * SEC));
    check_answer(req, len, resp, rlen);
}

static hcm_call send_payload(hcm_client *cli, uint32_t who, uint64_t n, size_t len)
{
    uint8_t req[256];
    hcm_call call;
    CHECK(len <= sizeof req);
    harness_payload_fill(req, len, who, n);
    CHECK_OK(hcm_client_send(cli, req, len, &call, 5 * SEC));
    return call;
}

/* Receives the answer of a payload request sent by send_payload(). */
static void receive_checked(hcm_client *cli, hcm_call call, uint32_t who, uint64_t n, size_t len)
{
    uint8_t req[256], resp[256];
    size_t rlen = 0;
    harness_payload_fill(req, len, who, n);
    CHECK_OK(hcm_client_receive(cli, call, resp, sizeof resp, &rlen, 10 * SEC));
    check_answer(req, len, resp, rlen);
}

/* Takes one request (waiting up to 10 s), checks it is the payload of
 * (who, n), and returns its call; *lenp gets its length. */
static hcm_call take_payload(hcm_server *srv, uint32_t who, uint64_t n, uint8_t *buf,
                             size_t cap, size_t *lenp)
{
    hcm_call call;
    uint32_t got_who = 0;
    uint64_t got_n = 0;
    CHECK_OK(hcm_server_take(srv, buf, cap, lenp, &call, 10 * SEC));
    CHECK(harness_payload_check(buf, *lenp, &got_who, &got_n));
    CHECK_EQ(got_who, who);
    CHECK_EQ_U64(got_n, n);
    return call;
}

/* Replies transform(req) to `call`. */
static void reply_answer(hcm_server *srv, hcm_call call, const uint8_t *req, size_t len)
{
    uint8_t resp[4096];
    CHECK(len <= sizeof resp);
    transform(req, len, resp);
    CHECK_OK(hcm_server_reply(srv, call, resp, len));
}

/* Takes one request of any kind and answers it. */
static void serve_one(hcm_server *srv)
{
    uint8_t buf[4096];
    size_t len = 0;
    hcm_call call;
    CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &call, 10 * SEC));
    reply_answer(srv, call, buf, len);
}

/* Forks a server of `name` (BYTES 256/256, `queue` slots) that answers on a
 * handler thread until `stop` is passed, then closes and exits 0. Returns
 * once the server is open. */
static pid_t fork_handler_server(const char *name, uint32_t queue, harness_gate *stop)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_server *srv = open_server(name, queue, 256, 256);
        CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
        harness_gate_pass(&ready, 1);
        harness_gate_wait(stop, 45000);
        hcm_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    harness_gate_close(&ready);
    return pid;
}

/* Forks a server of `name` (BYTES 256/256, `queue` slots) that takes `takes`
 * requests (0: none), passes `taken` after them, and then sits until killed
 * or `stop` is passed (then closes and exits 0). Returns once it is open. */
static pid_t fork_idle_server(const char *name, uint32_t queue, int takes, harness_gate *taken,
                              harness_gate *stop)
{
    harness_gate ready;
    harness_gate_init(&ready);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_server *srv = open_server(name, queue, 256, 256);
        harness_gate_pass(&ready, 1);
        for (int i = 0; i < takes; i++) {
            uint8_t buf[256];
            size_t len;
            hcm_call call;
            CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &call, 20 * SEC));
        }
        if (taken != NULL)
            harness_gate_pass(taken, 1);
        harness_gate_wait(stop, 45000);
        hcm_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&ready, GATE_MS);
    harness_gate_close(&ready);
    return pid;
}

static void *shared_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        FAIL("mmap: %s", strerror(errno));
    return p;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* ---- a call (or a receive) on a background thread ------------------------ */

enum { BG_CALL, BG_RECEIVE };

typedef struct bg_call {
    int mode;
    hcm_client *cli;
    hcm_call call;        /* BG_RECEIVE: the call to collect */
    uint8_t req[256];     /* the payload request (BG_CALL: sent; both: checked) */
    size_t req_len;
    int64_t timeout_ns;
    uint8_t resp[256];
    size_t resp_len;
    int rc;
    int64_t end_ns;       /* CLOCK_MONOTONIC when the call returned */
    char errmsg[512];
    atomic_int done;
    pthread_t th;
} bg_call;

static void *bg_main(void *p)
{
    bg_call *b = p;
    if (b->mode == BG_RECEIVE)
        b->rc = hcm_client_receive(b->cli, b->call, b->resp, sizeof b->resp, &b->resp_len,
                                   b->timeout_ns);
    else
        b->rc = hcm_client_call(b->cli, b->req, b->req_len, b->resp, sizeof b->resp,
                                &b->resp_len, b->timeout_ns);
    b->end_ns = harness_now_ns();
    snprintf(b->errmsg, sizeof b->errmsg, "%s", hcm_errmsg());
    atomic_store(&b->done, 1);
    return NULL;
}

static void bg_launch(bg_call *b)
{
    atomic_store(&b->done, 0);
    int err = pthread_create(&b->th, NULL, bg_main, b);
    if (err != 0)
        FAIL("pthread_create: %s", strerror(err));
}

static void bg_start_call(bg_call *b, hcm_client *cli, uint32_t who, uint64_t n, size_t len,
                          int64_t timeout_ns)
{
    memset(b, 0, sizeof *b);
    b->mode = BG_CALL;
    b->cli = cli;
    b->req_len = len;
    harness_payload_fill(b->req, len, who, n);
    b->timeout_ns = timeout_ns;
    bg_launch(b);
}

/* Receives `call`, which carried the payload (who, n, len). */
static void bg_start_receive(bg_call *b, hcm_client *cli, hcm_call call, uint32_t who,
                             uint64_t n, size_t len, int64_t timeout_ns)
{
    memset(b, 0, sizeof *b);
    b->mode = BG_RECEIVE;
    b->cli = cli;
    b->call = call;
    b->req_len = len;
    harness_payload_fill(b->req, len, who, n);
    b->timeout_ns = timeout_ns;
    bg_launch(b);
}

/* 1 once the call returned. */
static int bg_done(bg_call *b) { return atomic_load(&b->done); }

/* Waits up to timeout_ms for the call to return (fails the test otherwise). */
static void bg_wait(bg_call *b, unsigned timeout_ms)
{
    int64_t deadline = harness_now_ns() + (int64_t)timeout_ms * MS;
    while (!bg_done(b)) {
        if (harness_now_ns() > deadline)
            FAIL("the background call did not return within %u ms", timeout_ms);
        harness_sleep_ms(1);
    }
    pthread_join(b->th, NULL);
}

/* ---- round trips --------------------------------------------------------- */

TEST(a_handler_thread_server_answers_a_client_in_another_process)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_handler_server("echo", 8, &stop);
    hcm_client *cli = open_client("echo", 1);
    for (uint64_t n = 0; n < 200; n++)
        call_checked(cli, 1, n, 24 + (size_t)(n % 200));
    hcm_client_close(cli);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    unlink_service("echo");
    harness_gate_close(&stop);
}

TEST(a_take_reply_server_in_one_process_answers_a_client_in_another)
{
    enum { CALLS = 50 };
    harness_gate opened;
    harness_gate_init(&opened);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("tr", 1);
        for (uint64_t n = 0; n < CALLS; n++)
            call_checked(cli, 2, n, 24 + (size_t)n);
        hcm_client_close(cli);
        _exit(0);
    }
    hcm_server *srv = open_server("tr", 4, 256, 256);
    harness_gate_pass(&opened, 1);
    for (uint64_t n = 0; n < CALLS; n++) {
        uint8_t buf[256];
        size_t len = 0;
        hcm_call call = take_payload(srv, 2, n, buf, sizeof buf, &len);
        CHECK_EQ(len, 24 + n);
        reply_answer(srv, call, buf, len);
    }
    CHECK_CHILD_OK(client);
    hcm_server_close(srv);
    unlink_service("tr");
    harness_gate_close(&opened);
}

TEST(the_server_takes_requests_in_the_order_they_were_sent)
{
    enum { N = 10 };
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("fifo", 1);
        hcm_call calls[N];
        for (uint64_t n = 0; n < N; n++)
            calls[n] = send_payload(cli, 3, n, 32);
        harness_gate_pass(&sent, 1);
        for (uint64_t n = 0; n < N; n++)
            receive_checked(cli, calls[n], 3, n, 32);
        hcm_client_close(cli);
        _exit(0);
    }
    hcm_server *srv = open_server("fifo", 16, 256, 256);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    for (uint64_t n = 0; n < N; n++) {
        uint8_t buf[256];
        size_t len = 0;
        hcm_call call = take_payload(srv, 3, n, buf, sizeof buf, &len);
        reply_answer(srv, call, buf, len);
    }
    CHECK_CHILD_OK(client);
    hcm_server_close(srv);
    unlink_service("fifo");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

TEST(replies_in_another_order_than_taken_reach_the_right_calls)
{
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("order", 1);
        hcm_call calls[3];
        for (uint64_t n = 0; n < 3; n++)
            calls[n] = send_payload(cli, 4, n, 40 + (size_t)n);
        harness_gate_pass(&sent, 1);
        /* Receives in send order while the server answers the other way round. */
        for (uint64_t n = 0; n < 3; n++)
            receive_checked(cli, calls[n], 4, n, 40 + (size_t)n);
        hcm_client_close(cli);
        _exit(0);
    }
    hcm_server *srv = open_server("order", 8, 256, 256);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    uint8_t bufs[3][256];
    size_t lens[3];
    hcm_call calls[3];
    for (uint64_t n = 0; n < 3; n++)
        calls[n] = take_payload(srv, 4, n, bufs[n], sizeof bufs[n], &lens[n]);
    for (int n = 2; n >= 0; n--) {
        harness_sleep_ms(20); /* the client sleeps in receive meanwhile */
        reply_answer(srv, calls[n], bufs[n], lens[n]);
    }
    CHECK_CHILD_OK(client);
    hcm_server_close(srv);
    unlink_service("order");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

/* ---- ids: every response reaches its own call ----------------------------- */

#define LOAD_PROCS 4
#define LOAD_THREADS 2
#define LOAD_CALLS 2000

typedef struct load_arg {
    hcm_client *cli;
    uint32_t who;
    uint64_t mismatches;
    uint64_t failures;
    int64_t max_ns; /* slowest call */
    uint64_t slow;  /* calls over 10 ms */
} load_arg;

static void *load_thread(void *p)
{
    load_arg *a = p;
    uint8_t req[64], resp[64];
    for (uint64_t n = 0; n < LOAD_CALLS; n++) {
        size_t len = 24 + (size_t)(harness_mix64(((uint64_t)a->who << 32) ^ n) % 33); /* 24..56 */
        harness_payload_fill(req, len, a->who, n); /* unique per (who, n) */
        size_t rlen = 0;
        int64_t t0 = harness_now_ns();
        int rc = hcm_client_call(a->cli, req, len, resp, sizeof resp, &rlen, 10 * SEC);
        int64_t dt = harness_now_ns() - t0;
        if (dt > a->max_ns)
            a->max_ns = dt;
        if (dt > 10 * MS)
            a->slow++;
        if (rc != HCM_OK) {
            if (a->failures++ < 5)
                harness_log("writer %u call %llu: %s (%s)", a->who, (unsigned long long)n,
                            harness_errname(rc), hcm_errmsg());
            continue;
        }
        if (!is_answer(req, len, resp, rlen) && a->mismatches++ < 5)
            harness_log("writer %u call %llu: response of %zu bytes is not its answer", a->who,
                        (unsigned long long)n, rlen);
    }
    return NULL;
}

static void run_load(const char *name, uint32_t queue)
{
    harness_gate go;
    harness_gate_init(&go);
    pid_t kids[LOAD_PROCS];
    for (int p = 0; p < LOAD_PROCS; p++) {
        kids[p] = harness_fork();
        if (kids[p] == 0) {
            harness_gate_wait(&go, GATE_MS);
            hcm_client *cli = open_client(name, 1); /* one handle, shared by the threads */
            load_arg args[LOAD_THREADS];
            pthread_t th[LOAD_THREADS];
            for (int t = 0; t < LOAD_THREADS; t++) {
                args[t] = (load_arg){cli, (uint32_t)(p * LOAD_THREADS + t + 1), 0, 0, 0, 0};
                CHECK(pthread_create(&th[t], NULL, load_thread, &args[t]) == 0);
            }
            uint64_t bad = 0;
            for (int t = 0; t < LOAD_THREADS; t++) {
                pthread_join(th[t], NULL);
                bad += args[t].mismatches + args[t].failures;
                harness_log("writer %u: slowest call %.3f ms, %llu calls over 10 ms", args[t].who,
                            (double)args[t].max_ns / 1e6, (unsigned long long)args[t].slow);
                if (args[t].mismatches || args[t].failures)
                    harness_log("writer %u: %llu mismatched responses, %llu failed calls",
                                args[t].who, (unsigned long long)args[t].mismatches,
                                (unsigned long long)args[t].failures);
            }
            hcm_client_close(cli);
            _exit(bad == 0 ? 0 : 1);
        }
    }
    handler_ctx ctx;
    atomic_init(&ctx.handled, 0);
    hcm_server *srv = open_server(name, queue, 64, 64);
    CHECK_OK(hcm_server_start(srv, answer_handler, &ctx));
    int64_t t0 = harness_now_ns();
    for (int p = 0; p < LOAD_PROCS; p++)
        harness_gate_pass(&go, 1);
    for (int p = 0; p < LOAD_PROCS; p++)
        CHECK_CHILD_OK(kids[p]);
    int64_t dt = harness_now_ns() - t0;
    harness_log("%d calls (%d processes x %d threads, queue %u) in %.3f s",
                LOAD_PROCS * LOAD_THREADS * LOAD_CALLS, LOAD_PROCS, LOAD_THREADS, queue,
                (double)dt / 1e9);
    CHECK_EQ_U64(atomic_load(&ctx.handled), (uint64_t)LOAD_PROCS * LOAD_THREADS * LOAD_CALLS);
    hcm_server_close(srv);
    unlink_service(name);
    harness_gate_close(&go);
}

TEST(every_response_reaches_the_call_that_sent_it_under_load)
{
    run_load("load", HCM_DEFAULT_QUEUE);
}

TEST(every_response_reaches_the_call_that_sent_it_when_callers_wait_for_slots)
{
    run_load("loadq", 3); /* 8 calling threads, 3 slots */
}

/* ---- the bounded queue --------------------------------------------------- */

TEST(a_send_without_wait_for_slot_on_a_full_queue_fails_at_once_with_ebusy)
{
    hcm_server *srv = open_server("full", 2, 64, 64);
    hcm_client *cli = open_client("full", 0);
    hcm_call c1 = send_payload(cli, 1, 0, 24);
    hcm_call c2 = send_payload(cli, 1, 1, 24);
    uint8_t req[24];
    hcm_call c3;
    harness_payload_fill(req, sizeof req, 1, 2);
    int64_t t0 = harness_now_ns();
    CHECK_RC(hcm_client_send(cli, req, sizeof req, &c3, 5 * SEC), HCM_EBUSY);
    int64_t dt = harness_now_ns() - t0;
    harness_log("EBUSY after %.3f ms", (double)dt / 1e6);
    CHECK(dt < 1 * SEC); /* "fail at once"; the 5 s timeout must not matter */
    CHECK_OK(hcm_client_cancel(cli, c1));
    CHECK_OK(hcm_client_cancel(cli, c2));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("full");
}

TEST(a_send_waiting_for_a_slot_fails_with_ebusy_at_its_timeout)
{
    hcm_server *srv = open_server("fullwait", 2, 64, 64);
    hcm_client *cli = open_client("fullwait", 1);
    hcm_call c1 = send_payload(cli, 1, 0, 24);
    hcm_call c2 = send_payload(cli, 1, 1, 24);
    uint8_t req[24];
    hcm_call c3;
    harness_payload_fill(req, sizeof req, 1, 2);
    int64_t t0 = harness_now_ns();
    CHECK_RC(hcm_client_send(cli, req, sizeof req, &c3, 300 * MS), HCM_EBUSY);
    int64_t dt = harness_now_ns() - t0;
    harness_log("EBUSY after %.3f ms (timeout 300 ms)", (double)dt / 1e6);
    CHECK(dt >= 300 * MS);
    CHECK(dt < 5 * SEC);
    /* timeout 0: no waiting at all */
    t0 = harness_now_ns();
    CHECK_RC(hcm_client_send(cli, req, sizeof req, &c3, 0), HCM_EBUSY);
    CHECK(harness_now_ns() - t0 < 1 * SEC);
    CHECK_OK(hcm_client_cancel(cli, c1));
    CHECK_OK(hcm_client_cancel(cli, c2));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("fullwait");
}

TEST(a_send_waiting_for_a_slot_proceeds_once_a_slot_frees)
{
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t holder = harness_fork();
    if (holder == 0) { /* holds both slots, then collects its answers */
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("slotfree", 0);
        hcm_call c0 = send_payload(cli, 1, 0, 24);
        hcm_call c1 = send_payload(cli, 1, 1, 24);
        harness_gate_pass(&sent, 1);
        receive_checked(cli, c0, 1, 0, 24);
        receive_checked(cli, c1, 1, 1, 24);
        hcm_client_close(cli);
        _exit(0);
    }
    hcm_server *srv = open_server("slotfree", 2, 256, 256);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    hcm_client *cli = open_client("slotfree", 1);
    bg_call b;
    bg_start_call(&b, cli, 2, 0, 24, 10 * SEC);
    uint8_t buf0[256], buf1[256], buf2[256];
    size_t len0, len1, len2;
    hcm_call h0 = take_payload(srv, 1, 0, buf0, sizeof buf0, &len0);
    hcm_call h1 = take_payload(srv, 1, 1, buf1, sizeof buf1, &len1);
    uint8_t tmp[256];
    size_t tlen;
    hcm_call none;
    /* Both slots are held: the waiting send cannot have queued anything. */
    CHECK_RC(hcm_server_take(srv, tmp, sizeof tmp, &tlen, &none, 300 * MS), HCM_ETIMEDOUT);
    CHECK(!bg_done(&b));
    reply_answer(srv, h0, buf0, len0); /* the holder collects it: a slot frees */
    hcm_call h2 = take_payload(srv, 2, 0, buf2, sizeof buf2, &len2);
    reply_answer(srv, h2, buf2, len2);
    bg_wait(&b, 10000);
    CHECK_OK(b.rc);
    check_answer(b.req, b.req_len, b.resp, b.resp_len);
    reply_answer(srv, h1, buf1, len1);
    CHECK_CHILD_OK(holder);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("slotfree");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

/* ---- waiting sleeps -------------------------------------------------------- */

TEST(a_client_waiting_for_a_reply_sleeps)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_idle_server("sleepy", 4, 1, &taken, &stop);
    hcm_client *cli = open_client("sleepy", 1);
    hcm_call call = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS); /* the server holds it and never replies */
    uint8_t resp[256];
    size_t len = 0;
    int64_t cpu0 = thread_cpu_ns(), t0 = harness_now_ns();
    CHECK_RC(hcm_client_receive(cli, call, resp, sizeof resp, &len, 1 * SEC), HCM_ETIMEDOUT);
    int64_t cpu = thread_cpu_ns() - cpu0, dt = harness_now_ns() - t0;
    harness_log("waited %.3f ms for a reply using %.3f ms of CPU", (double)dt / 1e6,
                (double)cpu / 1e6);
    CHECK(dt >= 1 * SEC);
    CHECK(cpu <= 5 * MS);
    CHECK_OK(hcm_client_cancel(cli, call));
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    hcm_client_close(cli);
    unlink_service("sleepy");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

/* ---- a server that dies ---------------------------------------------------- */

/* The kill lands at several points of the client's 50 ms liveness period
 * (delays after the call is in place), so the worst case shows. */
static const unsigned kill_delays_ms[] = {20, 45, 60, 85};
#define KILL_ROUNDS (sizeof kill_delays_ms / sizeof kill_delays_ms[0])

TEST(a_call_the_server_holds_fails_with_edead_soon_after_the_server_is_killed)
{
    int64_t worst = 0;
    for (size_t r = 0; r < KILL_ROUNDS; r++) {
        harness_gate taken, stop;
        harness_gate_init(&taken);
        harness_gate_init(&stop);
        pid_t server = fork_idle_server("killsrv", 4, 1, &taken, &stop);
        hcm_client *cli = open_client("killsrv", 1);
        bg_call b;
        bg_start_call(&b, cli, 1, r, 24, 10 * SEC);
        harness_gate_wait(&taken, GATE_MS);
        harness_sleep_ms(kill_delays_ms[r]); /* the client sleeps in receive */
        CHECK(!bg_done(&b));
        int64_t t0 = harness_now_ns();
        harness_kill_child(server); /* SIGKILL, then reaped */
        bg_wait(&b, 10000);
        int64_t dt = b.end_ns - t0;
        harness_log("kill %u ms after the take: the held call returned %s %.3f ms after the "
                    "kill (%s)",
                    kill_delays_ms[r], harness_errname(b.rc), (double)dt / 1e6, b.errmsg);
        CHECK_RC(b.rc, HCM_EDEAD);
        if (dt > worst)
            worst = dt;
        hcm_client_close(cli);
        unlink_service("killsrv");
        harness_gate_close(&taken);
        harness_gate_close(&stop);
    }
    harness_log("worst: %.3f ms", (double)worst / 1e6);
    CHECK(worst <= 100 * MS);
}

TEST(a_queued_call_fails_with_edead_soon_after_the_server_is_killed)
{
    int64_t worst = 0;
    for (size_t r = 0; r < KILL_ROUNDS; r++) {
        harness_gate stop;
        harness_gate_init(&stop);
        pid_t server = fork_idle_server("killq", 4, 0, NULL, &stop);
        hcm_client *cli = open_client("killq", 1);
        hcm_call call = send_payload(cli, 1, r, 24); /* queued: the server never takes */
        bg_call b;
        bg_start_receive(&b, cli, call, 1, r, 24, 10 * SEC);
        harness_sleep_ms(kill_delays_ms[r]);
        CHECK(!bg_done(&b));
        int64_t t0 = harness_now_ns();
        harness_kill_child(server);
        bg_wait(&b, 10000);
        int64_t dt = b.end_ns - t0;
        harness_log("kill %u ms after the send: the queued call returned %s %.3f ms after the "
                    "kill (%s)",
                    kill_delays_ms[r], harness_errname(b.rc), (double)dt / 1e6, b.errmsg);
        CHECK_RC(b.rc, HCM_EDEAD);
        if (dt > worst)
            worst = dt;
        hcm_client_close(cli);
        unlink_service("killq");
        harness_gate_close(&stop);
    }
    harness_log("worst: %.3f ms", (double)worst / 1e6);
    CHECK(worst <= 100 * MS);
}

/* fail_orphans(): a successor answers the dead server's held calls. */
TEST(a_call_held_by_a_killed_server_fails_with_edead_once_a_successor_opens)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t first = fork_idle_server("orphan", 4, 1, &taken, &stop);
    hcm_client *cli = open_client("orphan", 1);
    hcm_call held = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    harness_kill_child(first);
    pid_t second = fork_handler_server("orphan", 4, &stop);
    uint8_t resp[64];
    size_t len = 0;
    CHECK_RC(hcm_client_receive(cli, held, resp, sizeof resp, &len, 0), HCM_EDEAD);
    call_checked(cli, 1, 1, 24); /* the successor serves new calls */
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(second);
    hcm_client_close(cli);
    unlink_service("orphan");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

TEST(calls_to_a_killed_server_fail_fast_with_edead)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_handler_server("gone", 4, &stop);
    hcm_client *cli = open_client("gone", 1);
    call_checked(cli, 1, 0, 24);
    harness_kill_child(server);
    for (uint64_t n = 1; n <= 3; n++) {
        uint8_t req[24], resp[64];
        size_t len = 0;
        harness_payload_fill(req, sizeof req, 1, n);
        int64_t t0 = harness_now_ns();
        int rc = hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC);
        int64_t dt = harness_now_ns() - t0;
        harness_log("call %llu after the kill: %s in %.3f ms", (unsigned long long)n,
                    harness_errname(rc), (double)dt / 1e6);
        CHECK_RC(rc, HCM_EDEAD);
        CHECK(dt < 1 * SEC);
    }
    hcm_client_close(cli);
    unlink_service("gone");
    harness_gate_close(&stop);
}

/* A process killed by SIGKILL whose parent has not waited for it yet is a
 * zombie: it is dead, but kill(pid, 0) still succeeds. */
TEST(a_killed_server_that_its_parent_has_not_reaped_yet_counts_as_dead)
{
    harness_gate taken, stop;
    harness_gate_init(&taken);
    harness_gate_init(&stop);
    pid_t server = fork_idle_server("zombie", 4, 1, &taken, &stop);
    hcm_client *cli = open_client("zombie", 1);
    bg_call b;
    bg_start_call(&b, cli, 1, 0, 24, 10 * SEC);
    harness_gate_wait(&taken, GATE_MS);
    harness_sleep_ms(50);
    int64_t t0 = harness_now_ns();
    CHECK(kill(server, SIGKILL) == 0); /* not reaped */
    int64_t deadline = t0 + 1 * SEC;
    while (!bg_done(&b) && harness_now_ns() < deadline)
        harness_sleep_ms(1);
    int returned_before_reap = bg_done(&b);
    int64_t t_reap = harness_now_ns();
    CHECK_EQ(harness_wait_child(server, 5000), 128 + SIGKILL);
    bg_wait(&b, 10000);
    harness_log("call returned %s %.3f ms after the kill (%s the zombie was reaped %.3f ms "
                "after the kill)",
                harness_errname(b.rc), (double)(b.end_ns - t0) / 1e6,
                returned_before_reap ? "before" : "only after", (double)(t_reap - t0) / 1e6);
    CHECK_RC(b.rc, HCM_EDEAD);
    CHECK(returned_before_reap);
    CHECK(b.end_ns - t0 <= 100 * MS);
    hcm_client_close(cli);
    unlink_service("zombie");
    harness_gate_close(&taken);
    harness_gate_close(&stop);
}

/* ---- a client that dies ------------------------------------------------------ */

TEST(a_reply_to_a_killed_client_returns_ok_and_other_clients_keep_working)
{
    harness_gate opened;
    harness_gate_init(&opened);
    pid_t victim = harness_fork();
    if (victim == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("killcli", 1);
        call_checked(cli, 1, 0, 24); /* killed while the server holds it */
        _exit(3);
    }
    hcm_server *srv = open_server("killcli", 1, 256, 256); /* one slot: it must come back */
    harness_gate_pass(&opened, 1);
    uint8_t buf[256];
    size_t len = 0;
    hcm_call call = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    harness_kill_child(victim);
    uint8_t resp[256];
    transform(buf, len, resp);
    CHECK_OK(hcm_server_reply(srv, call, resp, len)); /* dropped */
    pid_t other = harness_fork();
    if (other == 0) {
        hcm_client *cli = open_client("killcli", 0);
        for (uint64_t n = 0; n < 5; n++)
            call_checked(cli, 2, n, 24);
        hcm_client_close(cli);
        _exit(0);
    }
    for (uint64_t n = 0; n < 5; n++) {
        hcm_call c = take_payload(srv, 2, n, buf, sizeof buf, &len);
        reply_answer(srv, c, buf, len);
    }
    CHECK_CHILD_OK(other);
    hcm_server_close(srv);
    unlink_service("killcli");
    harness_gate_close(&opened);
}

TEST(slots_held_by_killed_clients_are_reclaimed_for_a_live_client)
{
    harness_gate opened, sent;
    harness_gate_init(&opened);
    harness_gate_init(&sent);
    pid_t victim = harness_fork();
    if (victim == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("reclaim", 0);
        send_payload(cli, 1, 0, 24);
        send_payload(cli, 1, 1, 24);
        harness_gate_pass(&sent, 1);
        for (;;)
            pause();
    }
    hcm_server *srv = open_server("reclaim", 2, 256, 256);
    harness_gate_pass(&opened, 1);
    harness_gate_wait(&sent, GATE_MS);
    uint8_t buf[256];
    size_t len = 0;
    hcm_call held = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    harness_kill_child(victim);
    reply_answer(srv, held, buf, len); /* now DONE for a dead client; the other slot is queued */
    hcm_client *cli = open_client("reclaim", 0); /* no waiting: reclaim or fail */
    hcm_call mine = send_payload(cli, 2, 0, 24);
    hcm_call c = take_payload(srv, 2, 0, buf, sizeof buf, &len);
    reply_answer(srv, c, buf, len);
    receive_checked(cli, mine, 2, 0, 24);
    /* both slots are usable again */
    hcm_call a = send_payload(cli, 2, 1, 24);
    hcm_call d = send_payload(cli, 2, 2, 24);
    CHECK_OK(hcm_client_cancel(cli, a));
    CHECK_OK(hcm_client_cancel(cli, d));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("reclaim");
    harness_gate_close(&opened);
    harness_gate_close(&sent);
}

/* ---- restart --------------------------------------------------------------- */

TEST(an_existing_client_calls_a_server_restarted_after_a_clean_close)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_handler_server("restart", 4, &stop);
    hcm_client *cli = open_client("restart", 1);
    call_checked(cli, 1, 0, 24);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(first);
    uint8_t req[24], resp[64];
    size_t len = 0;
    harness_payload_fill(req, sizeof req, 1, 1);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 5 * SEC), HCM_EDEAD);
    pid_t second = fork_handler_server("restart", 4, &stop);
    for (uint64_t n = 2; n < 10; n++)
        call_checked(cli, 1, n, 24);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(second);
    hcm_client_close(cli);
    unlink_service("restart");
    harness_gate_close(&stop);
}

TEST(an_existing_client_calls_a_server_restarted_after_a_kill)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_handler_server("restartk", 4, &stop);
    hcm_client *cli = open_client("restartk", 1);
    call_checked(cli, 1, 0, 24);
    harness_kill_child(first);
    pid_t second = fork_handler_server("restartk", 4, &stop);
    for (uint64_t n = 1; n < 10; n++)
        call_checked(cli, 1, n, 24);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(second);
    hcm_client_close(cli);
    unlink_service("restartk");
    harness_gate_close(&stop);
}

TEST(requests_queued_before_a_server_died_are_served_by_its_successor)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_idle_server("succ", 4, 0, NULL, &stop);
    hcm_client *cli = open_client("succ", 1);
    hcm_call call = send_payload(cli, 1, 0, 24); /* queued, nobody waits for it yet */
    harness_kill_child(first);
    pid_t second = fork_handler_server("succ", 4, &stop);
    receive_checked(cli, call, 1, 0, 24);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(second);
    hcm_client_close(cli);
    unlink_service("succ");
    harness_gate_close(&stop);
}

/* ---- one server per name ------------------------------------------------------ */

TEST(a_second_server_gets_ebusy_naming_the_live_servers_pid_until_it_closes)
{
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t first = fork_idle_server("single", 4, 0, NULL, &stop);
    hcm_server_attr a = bytes_attr(4, 256, 256);
    hcm_server *srv = NULL;
    CHECK_RC(hcm_server_open(&srv, "single", &a), HCM_EBUSY);
    CHECK(srv == NULL);
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "pid %d", (int)first);
    CHECK_CONTAINS(hcm_errmsg(), pidtext);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(first);
    CHECK_OK(hcm_server_open(&srv, "single", &a));
    hcm_client *cli = open_client("single", 1);
    hcm_call c = send_payload(cli, 1, 0, 24);
    serve_one(srv);
    receive_checked(cli, c, 1, 0, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("single");
    harness_gate_close(&stop);
}

TEST(a_second_server_in_the_same_process_gets_ebusy)
{
    hcm_server *first = open_server("single2", 4, 256, 256);
    hcm_server_attr a = bytes_attr(4, 256, 256);
    hcm_server *srv = NULL;
    CHECK_RC(hcm_server_open(&srv, "single2", &a), HCM_EBUSY);
    CHECK(srv == NULL);
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "pid %d", (int)getpid());
    CHECK_CONTAINS(hcm_errmsg(), pidtext);
    /* other types do not help */
    a.request_type = hcm_type_scalar(HCM_TYPE_INT64);
    a.request_max = 0;
    CHECK_RC(hcm_server_open(&srv, "single2", &a), HCM_EBUSY);
    CHECK_CONTAINS(hcm_errmsg(), pidtext);
    hcm_server_close(first);
    CHECK_OK(hcm_server_open(&srv, "single2", NULL));
    hcm_server_close(srv);
    unlink_service("single2");
}

/* ---- remote failures ----------------------------------------------------------- */

TEST(a_call_failed_by_the_server_gives_the_client_eremote_and_its_message)
{
    harness_gate opened;
    harness_gate_init(&opened);
    pid_t client = harness_fork();
    if (client == 0) {
        harness_gate_wait(&opened, GATE_MS);
        hcm_client *cli = open_client("fails", 1);
        uint8_t req[24], resp[64];
        size_t len = 99;
        harness_payload_fill(req, sizeof req, 1, 0);
        CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC),
                 HCM_EREMOTE);
        CHECK_CONTAINS(hcm_errmsg(), "frobnicator 7 is out of order");
        call_checked(cli, 1, 1, 24); /* the next call is fine */
        hcm_client_close(cli);
        _exit(0);
    }
    hcm_server *srv = open_server("fails", 4, 256, 256);
    harness_gate_pass(&opened, 1);
    uint8_t buf[256];
    size_t len = 0;
    hcm_call call = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    CHECK_OK(hcm_server_fail(srv, call, "frobnicator 7 is out of order"));
    call = take_payload(srv, 1, 1, buf, sizeof buf, &len);
    reply_answer(srv, call, buf, len);
    CHECK_CHILD_OK(client);
    hcm_server_close(srv);
    unlink_service("fails");
    harness_gate_close(&opened);
}

/* Fails requests whose counter is odd, with a message naming the counter. */
static int odd_failing_handler(void *ctx, const void *req, size_t req_len, void *resp,
                               size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    uint64_t n = 0;
    if (!harness_payload_check(req, req_len, NULL, &n)) {
        snprintf(errbuf, HCM_SERVICE_ERROR_MAX, "garbled request");
        return HCM_EINVAL;
    }
    if (n % 2 == 1) {
        snprintf(errbuf, HCM_SERVICE_ERROR_MAX, "request %llu is odd", (unsigned long long)n);
        return HCM_EINVAL;
    }
    return answer_handler(ctx, req, req_len, resp, resp_cap, resp_lenp, errbuf);
}

TEST(a_handler_error_gives_the_client_eremote_and_the_handlers_message)
{
    harness_gate opened, stop;
    harness_gate_init(&opened);
    harness_gate_init(&stop);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_server *srv = open_server("oddfail", 4, 256, 256);
        CHECK_OK(hcm_server_start(srv, odd_failing_handler, NULL));
        harness_gate_pass(&opened, 1);
        harness_gate_wait(&stop, 45000);
        hcm_server_close(srv);
        _exit(0);
    }
    harness_gate_wait(&opened, GATE_MS);
    hcm_client *cli = open_client("oddfail", 1);
    for (uint64_t n = 0; n < 6; n++) {
        if (n % 2 == 0) {
            call_checked(cli, 1, n, 32);
            continue;
        }
        uint8_t req[32], resp[64];
        size_t len = 0;
        char want[64];
        harness_payload_fill(req, sizeof req, 1, n);
        CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC),
                 HCM_EREMOTE);
        snprintf(want, sizeof want, "request %llu is odd", (unsigned long long)n);
        CHECK_CONTAINS(hcm_errmsg(), want);
    }
    hcm_client_close(cli);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    unlink_service("oddfail");
    harness_gate_close(&opened);
    harness_gate_close(&stop);
}

static int silent_failing_handler(void *ctx, const void *req, size_t req_len, void *resp,
                                  size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    (void)ctx;
    (void)req;
    (void)req_len;
    (void)resp;
    (void)resp_cap;
    (void)resp_lenp;
    (void)errbuf;
    return HCM_ENOMEM;
}

TEST(a_handler_error_without_a_message_gives_eremote_with_the_codes_description)
{
    hcm_server *srv = open_server("silent", 4, 64, 64);
    CHECK_OK(hcm_server_start(srv, silent_failing_handler, NULL));
    hcm_client *cli = open_client("silent", 1);
    uint8_t req[24], resp[64];
    size_t len = 0;
    harness_payload_fill(req, sizeof req, 1, 0);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC),
             HCM_EREMOTE);
    CHECK_CONTAINS(hcm_errmsg(), hcm_strerror(HCM_ENOMEM));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("silent");
}

TEST(a_failure_message_longer_than_the_limit_reaches_the_client_truncated)
{
    hcm_server *srv = open_server("longmsg", 4, 64, 64);
    hcm_client *cli = open_client("longmsg", 1);
    hcm_call c = send_payload(cli, 1, 0, 24);
    uint8_t buf[64];
    size_t len = 0;
    hcm_call held = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    char msg[400];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    CHECK_OK(hcm_server_fail(srv, held, msg));
    uint8_t resp[64];
    CHECK_RC(hcm_client_receive(cli, c, resp, sizeof resp, &len, 10 * SEC), HCM_EREMOTE);
    char want[HCM_SERVICE_ERROR_MAX];
    memset(want, 'x', sizeof want - 1);
    want[sizeof want - 1] = '\0';
    CHECK_CONTAINS(hcm_errmsg(), want); /* HCM_SERVICE_ERROR_MAX - 1 bytes arrive... */
    char longer[HCM_SERVICE_ERROR_MAX + 1];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    CHECK(strstr(hcm_errmsg(), longer) == NULL); /* ...and no more */
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("longmsg");
}

/* ---- a server that closes ----------------------------------------------------- */

TEST(a_server_closing_with_calls_pending_ends_them_with_edead_promptly)
{
    int64_t *close_ns = shared_map(4096);
    harness_gate opened, taken, do_close, closed, stop;
    harness_gate_init(&opened);
    harness_gate_init(&taken);
    harness_gate_init(&do_close);
    harness_gate_init(&closed);
    harness_gate_init(&stop);
    pid_t server = harness_fork();
    if (server == 0) {
        hcm_server *srv = open_server("closing", 4, 256, 256);
        harness_gate_pass(&opened, 1);
        uint8_t buf[256];
        size_t len = 0;
        take_payload(srv, 1, 0, buf, sizeof buf, &len); /* held, never answered */
        harness_gate_pass(&taken, 1);
        harness_gate_wait(&do_close, GATE_MS);
        *close_ns = harness_now_ns();
        hcm_server_close(srv);
        harness_gate_pass(&closed, 1);
        harness_gate_wait(&stop, 45000); /* stays alive: only the close can end the held call */
        _exit(0);
    }
    harness_gate_wait(&opened, GATE_MS);
    hcm_client *cli = open_client("closing", 1);
    hcm_call held = send_payload(cli, 1, 0, 24);
    harness_gate_wait(&taken, GATE_MS);
    hcm_call queued = send_payload(cli, 1, 1, 24);
    bg_call bh, bq;
    bg_start_receive(&bh, cli, held, 1, 0, 24, 10 * SEC);
    bg_start_receive(&bq, cli, queued, 1, 1, 24, 10 * SEC);
    harness_sleep_ms(50);
    CHECK(!bg_done(&bh) && !bg_done(&bq));
    harness_gate_pass(&do_close, 1);
    harness_gate_wait(&closed, GATE_MS);
    bg_wait(&bh, 10000);
    bg_wait(&bq, 10000);
    harness_log("held call: %s %.3f ms after close; queued call: %s %.3f ms after close",
                harness_errname(bh.rc), (double)(bh.end_ns - *close_ns) / 1e6,
                harness_errname(bq.rc), (double)(bq.end_ns - *close_ns) / 1e6);
    CHECK_RC(bh.rc, HCM_EDEAD);
    CHECK_RC(bq.rc, HCM_EDEAD);
    CHECK(bh.end_ns - *close_ns < 1 * SEC);
    CHECK(bq.end_ns - *close_ns < 1 * SEC);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    hcm_client_close(cli);
    unlink_service("closing");
    munmap(close_ns, 4096);
    harness_gate_close(&opened);
    harness_gate_close(&taken);
    harness_gate_close(&do_close);
    harness_gate_close(&closed);
    harness_gate_close(&stop);
}

/* ---- cancel ---------------------------------------------------------------------- */

TEST(cancelling_a_queued_call_frees_its_slot)
{
    hcm_server *srv = open_server("cancelq", 1, 64, 64);
    hcm_client *cli = open_client("cancelq", 0);
    hcm_call c1 = send_payload(cli, 1, 0, 24);
    CHECK_OK(hcm_client_cancel(cli, c1));
    hcm_call c2 = send_payload(cli, 1, 1, 24); /* the only slot is free again */
    uint8_t buf[64];
    size_t len = 0;
    hcm_call h = take_payload(srv, 1, 1, buf, sizeof buf, &len); /* not the cancelled one */
    reply_answer(srv, h, buf, len);
    receive_checked(cli, c2, 1, 1, 24);
    hcm_call none;
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, &len, &none, 0), HCM_ETIMEDOUT);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("cancelq");
}

TEST(a_reply_to_a_call_cancelled_while_processing_returns_ok_and_frees_the_slot)
{
    hcm_server *srv = open_server("cancelp", 1, 64, 64);
    hcm_client *cli = open_client("cancelp", 0);
    hcm_call c1 = send_payload(cli, 1, 0, 24);
    uint8_t buf[64], req[24];
    size_t len = 0;
    hcm_call h1 = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    CHECK_OK(hcm_client_cancel(cli, c1));
    hcm_call c2;
    harness_payload_fill(req, sizeof req, 1, 1);
    /* the server still works on it: the slot is not free yet */
    CHECK_RC(hcm_client_send(cli, req, sizeof req, &c2, 0), HCM_EBUSY);
    reply_answer(srv, h1, buf, len); /* HCM_OK, dropped */
    c2 = send_payload(cli, 1, 1, 24);
    hcm_call h2 = take_payload(srv, 1, 1, buf, sizeof buf, &len);
    reply_answer(srv, h2, buf, len);
    receive_checked(cli, c2, 1, 1, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("cancelp");
}

TEST(cancelling_an_answered_call_frees_its_slot)
{
    hcm_server *srv = open_server("canceld", 1, 64, 64);
    hcm_client *cli = open_client("canceld", 0);
    hcm_call c1 = send_payload(cli, 1, 0, 24);
    serve_one(srv);
    CHECK_OK(hcm_client_cancel(cli, c1)); /* answered, never collected */
    hcm_call c2 = send_payload(cli, 1, 1, 24);
    serve_one(srv);
    receive_checked(cli, c2, 1, 1, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("canceld");
}

TEST(a_call_that_times_out_is_cancelled_and_its_late_reply_reaches_nobody)
{
    hcm_server *srv = open_server("late", 1, 64, 64);
    hcm_client *cli = open_client("late", 0);
    uint8_t req[24], resp[64], buf[64];
    size_t len = 0, rlen = 0;
    harness_payload_fill(req, sizeof req, 1, 0);
    bg_call b;
    bg_start_call(&b, cli, 1, 0, 24, 500 * MS);
    hcm_call h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    bg_wait(&b, 10000);
    CHECK_RC(b.rc, HCM_ETIMEDOUT);
    reply_answer(srv, h, buf, len); /* HCM_OK, dropped: the slot frees */
    harness_payload_fill(req, sizeof req, 1, 1);
    hcm_call c;
    CHECK_OK(hcm_client_send(cli, req, sizeof req, &c, 0));
    CHECK_RC(hcm_client_receive(cli, c, resp, sizeof resp, &rlen, 0), HCM_ETIMEDOUT);
    h = take_payload(srv, 1, 1, buf, sizeof buf, &len);
    reply_answer(srv, h, buf, len);
    receive_checked(cli, c, 1, 1, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("late");
}

TEST(receiving_a_cancelled_call_gives_einval)
{
    hcm_server *srv = open_server("cancelr", 4, 64, 64);
    hcm_client *cli = open_client("cancelr", 0);
    uint8_t resp[64], buf[64];
    size_t len = 0;
    hcm_call queued = send_payload(cli, 1, 0, 24);
    CHECK_OK(hcm_client_cancel(cli, queued));
    CHECK_RC(hcm_client_receive(cli, queued, resp, sizeof resp, &len, 100 * MS), HCM_EINVAL);
    hcm_call processing = send_payload(cli, 1, 1, 24);
    hcm_call h = take_payload(srv, 1, 1, buf, sizeof buf, &len);
    CHECK_OK(hcm_client_cancel(cli, processing));
    CHECK_RC(hcm_client_receive(cli, processing, resp, sizeof resp, &len, 100 * MS),
             HCM_EINVAL);
    reply_answer(srv, h, buf, len);
    CHECK_RC(hcm_client_receive(cli, processing, resp, sizeof resp, &len, 100 * MS),
             HCM_EINVAL);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("cancelr");
}

TEST(receiving_or_cancelling_an_unknown_call_gives_einval)
{
    hcm_server *srv = open_server("unknown", 4, 64, 64);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    hcm_client *cli = open_client("unknown", 0);
    uint8_t resp[64];
    size_t len = 0;
    const hcm_call bogus[] = {{0, 999}, {3, 0}, {4, 1}, {1000000, 1}, {UINT32_MAX, UINT64_MAX}};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        CHECK_RC(hcm_client_receive(cli, bogus[i], resp, sizeof resp, &len, 100 * MS),
                 HCM_EINVAL);
        CHECK_RC(hcm_client_cancel(cli, bogus[i]), HCM_EINVAL);
    }
    /* a call already received is no longer pending */
    hcm_call c = send_payload(cli, 1, 0, 24);
    receive_checked(cli, c, 1, 0, 24);
    CHECK_RC(hcm_client_receive(cli, c, resp, sizeof resp, &len, 100 * MS), HCM_EINVAL);
    CHECK_RC(hcm_client_cancel(cli, c), HCM_EINVAL);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("unknown");
}

TEST(a_call_sent_by_another_client_handle_is_not_a_pending_call_of_this_one)
{
    hcm_server *srv = open_server("otherhandle", 4, 64, 64);
    hcm_client *a = open_client("otherhandle", 0);
    hcm_client *b = open_client("otherhandle", 0);
    hcm_call c = send_payload(a, 1, 0, 24);
    uint8_t resp[64];
    size_t len = 0;
    CHECK_RC(hcm_client_receive(b, c, resp, sizeof resp, &len, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_cancel(b, c), HCM_EINVAL);
    serve_one(srv);
    receive_checked(a, c, 1, 0, 24);
    hcm_client_close(a);
    hcm_client_close(b);
    hcm_server_close(srv);
    unlink_service("otherhandle");
}

TEST(replying_to_a_call_the_server_does_not_hold_gets_einval)
{
    hcm_server *srv = open_server("notheld", 4, 64, 64);
    hcm_client *cli = open_client("notheld", 0);
    uint8_t resp[24] = {0};
    const hcm_call bogus[] = {{0, 999}, {4, 1}, {UINT32_MAX, 1}};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        CHECK_RC(hcm_server_reply(srv, bogus[i], resp, sizeof resp), HCM_EINVAL);
        CHECK_RC(hcm_server_fail(srv, bogus[i], "no"), HCM_EINVAL);
    }
    /* queued but not taken: not held yet */
    hcm_call c = send_payload(cli, 1, 0, 24);
    CHECK_RC(hcm_server_reply(srv, c, resp, sizeof resp), HCM_EINVAL);
    CHECK_RC(hcm_server_fail(srv, c, "not yet"), HCM_EINVAL);
    /* answered and collected: not held any more */
    uint8_t buf[64];
    size_t len = 0;
    hcm_call h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    reply_answer(srv, h, buf, len);
    receive_checked(cli, c, 1, 0, 24);
    CHECK_RC(hcm_server_reply(srv, h, resp, sizeof resp), HCM_EINVAL);
    CHECK_RC(hcm_server_fail(srv, h, "twice"), HCM_EINVAL);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("notheld");
}

TEST(a_second_reply_to_an_answered_call_leaves_the_first_response_intact)
{
    hcm_server *srv = open_server("reply2", 4, 64, 64);
    hcm_client *cli = open_client("reply2", 0);
    hcm_call c = send_payload(cli, 1, 0, 24);
    uint8_t buf[64], junk[32];
    size_t len = 0;
    memset(junk, 0xee, sizeof junk);
    hcm_call h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    reply_answer(srv, h, buf, len);
    CHECK_RC(hcm_server_reply(srv, h, junk, sizeof junk), HCM_EINVAL); /* not collected yet */
    receive_checked(cli, c, 1, 0, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("reply2");
}

TEST(failing_an_answered_call_leaves_its_response_intact)
{
    hcm_server *srv = open_server("failafter", 4, 64, 64);
    hcm_client *cli = open_client("failafter", 0);
    hcm_call c = send_payload(cli, 1, 0, 24);
    uint8_t buf[64];
    size_t len = 0;
    hcm_call h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    reply_answer(srv, h, buf, len);
    CHECK_RC(hcm_server_fail(srv, h, "too late"), HCM_EINVAL); /* not collected yet */
    receive_checked(cli, c, 1, 0, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("failafter");
}

/* ---- handler thread control -------------------------------------------------------- */

TEST(a_handler_thread_can_be_stopped_and_started_again)
{
    hcm_server *srv = open_server("startstop", 4, 64, 64);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    CHECK_RC(hcm_server_start(srv, answer_handler, NULL), HCM_EBUSY);
    hcm_client *cli = open_client("startstop", 1);
    call_checked(cli, 1, 0, 24);
    hcm_server_stop(srv);
    hcm_server_stop(srv); /* twice: a no-op */
    hcm_call c = send_payload(cli, 1, 1, 24); /* nobody serves it now */
    uint8_t resp[64];
    size_t len = 0;
    CHECK_RC(hcm_client_receive(cli, c, resp, sizeof resp, &len, 200 * MS), HCM_ETIMEDOUT);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    receive_checked(cli, c, 1, 1, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("startstop");
}

/* ---- bad input ---------------------------------------------------------------------- */

static hcm_server *open_typed_server(const char *name, hcm_type_kind req, hcm_type_kind resp)
{
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.request_type = hcm_type_scalar(req);
    a.response_type = hcm_type_scalar(resp);
    a.queue_size = 4;
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, name, &a));
    return srv;
}

static hcm_client_attr typed_client_attr(hcm_type_kind req, hcm_type_kind resp)
{
    hcm_client_attr a;
    hcm_client_attr_init(&a);
    a.request_type = hcm_type_scalar(req);
    a.response_type = hcm_type_scalar(resp);
    return a;
}

TEST(a_client_of_another_request_type_gets_etype_naming_both_types)
{
    hcm_server *srv = open_typed_server("typed", HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_client_attr ca = typed_client_attr(HCM_TYPE_FLOAT64, HCM_TYPE_INT64);
    hcm_client *cli = NULL;
    CHECK_RC(hcm_client_open(&cli, "typed", &ca), HCM_ETYPE);
    CHECK(cli == NULL);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    /* the matching types, and "any" (NONE), are accepted */
    ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_INT64);
    CHECK_OK(hcm_client_open(&cli, "typed", &ca));
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    int64_t v = 42, r = 0;
    size_t len = 0;
    CHECK_OK(hcm_client_call(cli, &v, sizeof v, &r, sizeof r, &len, 10 * SEC));
    CHECK(is_answer(&v, sizeof v, &r, len));
    hcm_client_close(cli);
    ca = typed_client_attr(HCM_TYPE_NONE, HCM_TYPE_NONE);
    CHECK_OK(hcm_client_open(&cli, "typed", &ca));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("typed");
}

TEST(a_client_opened_before_a_server_of_another_type_gets_etype_when_it_sends)
{
    hcm_client_attr ca = typed_client_attr(HCM_TYPE_FLOAT64, HCM_TYPE_INT64);
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, "typedlate", &ca)); /* no service yet */
    hcm_server *srv = open_typed_server("typedlate", HCM_TYPE_INT64, HCM_TYPE_INT64);
    double d = 1.5;
    hcm_call call;
    CHECK_RC(hcm_client_send(cli, &d, sizeof d, &call, SEC), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("typedlate");
}

/* service.h: a segment made for other types (or smaller sizes) whose server
 * is gone is replaced; clients opened for the old types get HCM_ETYPE at
 * their next call. (No client registry exists to refuse the replacement.) */
TEST(a_new_server_of_other_types_replaces_a_dead_servers_segment_and_old_clients_get_etype)
{
    hcm_server *old = open_typed_server("retype", HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_client_attr ca = typed_client_attr(HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, "retype", &ca));
    hcm_server_close(old);
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.request_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    a.response_type = hcm_type_scalar(HCM_TYPE_INT64);
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, "retype", &a));
    int64_t v = 1;
    hcm_call call;
    CHECK_RC(hcm_client_send(cli, &v, sizeof v, &call, SEC), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_server_close(srv);
    hcm_client_close(cli);
    unlink_service("retype");
}

TEST(a_new_server_with_larger_sizes_replaces_a_dead_servers_segment)
{
    hcm_server *old = open_server("resize", 4, 64, 64);
    hcm_client *cli = open_client("resize", 1);
    hcm_server_close(old);
    hcm_server_attr a = bytes_attr(4, 128, 128); /* larger than the segment takes */
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, "resize", &a));
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    uint8_t req[100] = {1}, resp[128];
    size_t len = 0;
    /* the old client re-attaches to the new segment (bytes both ways: same types) */
    CHECK_OK(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, SEC));
    hcm_server_close(srv);
    hcm_client_close(cli);
    unlink_service("resize");
}

TEST(a_new_server_of_other_types_replaces_a_segment_no_client_uses)
{
    hcm_server *old = open_typed_server("replace", HCM_TYPE_INT64, HCM_TYPE_INT64);
    hcm_server_close(old);
    hcm_server *srv = open_typed_server("replace", HCM_TYPE_FLOAT64, HCM_TYPE_FLOAT64);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    hcm_client_attr ca = typed_client_attr(HCM_TYPE_FLOAT64, HCM_TYPE_FLOAT64);
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, "replace", &ca));
    double d = 2.5, r = 0;
    size_t len = 0;
    CHECK_OK(hcm_client_call(cli, &d, sizeof d, &r, sizeof r, &len, 10 * SEC));
    CHECK(is_answer(&d, sizeof d, &r, len));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("replace");
}

TEST(an_oversized_request_gets_emsgsize)
{
    hcm_server *srv = open_server("big", 4, 64, 64);
    hcm_client *cli = open_client("big", 0);
    uint8_t req[128] = {0};
    hcm_call call;
    CHECK_RC(hcm_client_send(cli, req, 65, &call, SEC), HCM_EMSGSIZE);
    size_t len = 0;
    uint8_t resp[64];
    CHECK_RC(hcm_client_call(cli, req, 128, resp, sizeof resp, &len, SEC), HCM_EMSGSIZE);
    CHECK_OK(hcm_client_send(cli, req, 64, &call, SEC)); /* the maximum fits */
    CHECK_OK(hcm_client_cancel(cli, call));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("big");

    /* a fixed-size type takes exactly its size */
    srv = open_typed_server("fixed", HCM_TYPE_INT64, HCM_TYPE_INT64);
    cli = open_client("fixed", 0);
    CHECK_RC(hcm_client_send(cli, req, 4, &call, SEC), HCM_EMSGSIZE);
    CHECK_RC(hcm_client_send(cli, req, 9, &call, SEC), HCM_EMSGSIZE);
    CHECK_OK(hcm_client_send(cli, req, 8, &call, SEC));
    CHECK_OK(hcm_client_cancel(cli, call));
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("fixed");
}

TEST(a_too_small_response_buffer_gets_emsgsize_and_the_response_stays)
{
    hcm_server *srv = open_server("smallbuf", 4, 64, 64);
    hcm_client *cli = open_client("smallbuf", 0);
    hcm_call c = send_payload(cli, 1, 0, 40);
    serve_one(srv);
    uint8_t resp[64];
    size_t len = 0;
    CHECK_RC(hcm_client_receive(cli, c, resp, 16, &len, 10 * SEC), HCM_EMSGSIZE);
    CHECK_EQ(len, 40);
    len = 0;
    CHECK_RC(hcm_client_receive(cli, c, NULL, 0, &len, 10 * SEC), HCM_EMSGSIZE);
    CHECK_EQ(len, 40);
    receive_checked(cli, c, 1, 0, 40);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("smallbuf");
}

/* hcm_client_call() hides its call: when the response does not fit, nobody
 * can collect it any more, so the call must not keep its slot. */
TEST(a_call_with_a_too_small_response_buffer_does_not_keep_its_slot)
{
    hcm_server *srv = open_server("smallcall", 1, 64, 64);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    hcm_client *cli = open_client("smallcall", 0);
    uint8_t req[40], resp[64];
    size_t len = 0;
    harness_payload_fill(req, sizeof req, 1, 0);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, 16, &len, 10 * SEC), HCM_EMSGSIZE);
    CHECK_EQ(len, 40);
    harness_payload_fill(req, sizeof req, 1, 1);
    int rc = hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 2 * SEC);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("smallcall");
    CHECK_OK(rc);
}

/* hcm_client_call() with an invalid out-argument must fail before sending:
 * otherwise the request is served and its slot stays taken. */
TEST(a_call_with_a_null_length_pointer_gets_einval_without_sending)
{
    hcm_server *srv = open_server("nolen", 1, 64, 64);
    hcm_client *cli = open_client("nolen", 0);
    uint8_t req[24], resp[64], buf[64];
    size_t len = 0;
    hcm_call none;
    harness_payload_fill(req, sizeof req, 1, 0);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, NULL, SEC), HCM_EINVAL);
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, &len, &none, 0), HCM_ETIMEDOUT);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, NULL, 64, &len, SEC), HCM_EINVAL);
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, &len, &none, 0), HCM_ETIMEDOUT);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("nolen");
}

TEST(a_reply_larger_than_the_response_max_gets_emsgsize)
{
    hcm_server *srv = open_server("bigreply", 4, 64, 64);
    hcm_client *cli = open_client("bigreply", 0);
    hcm_call c = send_payload(cli, 1, 0, 24);
    uint8_t buf[64], big[65] = {0};
    size_t len = 0;
    hcm_call h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    CHECK_RC(hcm_server_reply(srv, h, big, sizeof big), HCM_EMSGSIZE);
    reply_answer(srv, h, buf, len); /* still held: a fitting reply goes through */
    receive_checked(cli, c, 1, 0, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("bigreply");

    srv = open_typed_server("fixedreply", HCM_TYPE_INT64, HCM_TYPE_INT64);
    cli = open_client("fixedreply", 0);
    int64_t v = 7;
    CHECK_OK(hcm_client_send(cli, &v, sizeof v, &c, SEC));
    CHECK_OK(hcm_server_take(srv, buf, sizeof buf, &len, &h, 10 * SEC));
    CHECK_RC(hcm_server_reply(srv, h, big, 4), HCM_EMSGSIZE);
    CHECK_OK(hcm_server_reply(srv, h, &v, sizeof v));
    int64_t r = 0;
    CHECK_OK(hcm_client_receive(cli, c, &r, sizeof r, &len, 10 * SEC));
    CHECK_EQ(r, 7);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("fixedreply");
}

TEST(a_take_with_a_too_small_buffer_gets_emsgsize_and_the_request_stays_queued)
{
    hcm_server *srv = open_server("smalltake", 4, 256, 256);
    hcm_client *cli = open_client("smalltake", 0);
    hcm_call c = send_payload(cli, 1, 0, 100);
    uint8_t buf[256];
    size_t len = 0;
    hcm_call h;
    CHECK_RC(hcm_server_take(srv, buf, 10, &len, &h, SEC), HCM_EMSGSIZE);
    CHECK_EQ(len, 100);
    h = take_payload(srv, 1, 0, buf, sizeof buf, &len);
    reply_answer(srv, h, buf, len);
    receive_checked(cli, c, 1, 0, 100);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("smalltake");
}

TEST(a_call_to_a_service_nobody_serves_fails_quickly_with_enoent)
{
    hcm_client *cli = open_client("nobody", 1); /* fine: it may appear later */
    uint8_t req[24], resp[64];
    size_t len = 0;
    harness_payload_fill(req, sizeof req, 1, 0);
    int64_t t0 = harness_now_ns();
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, 10 * SEC),
             HCM_ENOENT);
    int64_t dt = harness_now_ns() - t0;
    harness_log("ENOENT after %.3f ms", (double)dt / 1e6);
    CHECK(dt < 1 * SEC);
    CHECK_CONTAINS(hcm_errmsg(), "nobody");
    hcm_call call;
    CHECK_RC(hcm_client_send(cli, req, sizeof req, &call, 10 * SEC), HCM_ENOENT);
    hcm_client_close(cli);
    CHECK(!service_exists("nobody"));
}

TEST(a_client_opened_before_its_service_exists_calls_it_once_a_server_opens)
{
    hcm_client *cli = open_client("later", 1);
    uint8_t req[24], resp[64];
    size_t len = 0;
    harness_payload_fill(req, sizeof req, 1, 0);
    CHECK_RC(hcm_client_call(cli, req, sizeof req, resp, sizeof resp, &len, SEC), HCM_ENOENT);
    harness_gate stop;
    harness_gate_init(&stop);
    pid_t server = fork_handler_server("later", 4, &stop);
    call_checked(cli, 1, 1, 24);
    harness_gate_pass(&stop, 1);
    CHECK_CHILD_OK(server);
    hcm_client_close(cli);
    unlink_service("later");
    harness_gate_close(&stop);
}

TEST(invalid_service_and_domain_names_get_ename)
{
    char long_name[HCM_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0'; /* HCM_NAME_MAX + 1 bytes */
    const char *bad[] = {"", "/", "a//b", "ends/", "has space", "semi;colon", "tab\t",
                         "caf\xc3\xa9", "..:x", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_server *srv = NULL;
        hcm_client *cli = NULL;
        int rs = hcm_server_open(&srv, bad[i], NULL);
        int rcl = hcm_client_open(&cli, bad[i], NULL);
        if (rs != HCM_ENAME || rcl != HCM_ENAME)
            FAIL("name #%zu \"%.40s\": server %s, client %s (want HCM_ENAME)", i, bad[i],
                 harness_errname(rs), harness_errname(rcl));
        CHECK(srv == NULL && cli == NULL);
    }
    char long_domain[HCM_DOMAIN_MAX + 2];
    memset(long_domain, 'd', sizeof long_domain - 1);
    long_domain[sizeof long_domain - 1] = '\0';
    const char *bad_domains[] = {"", "dot.ted", "sl/ash", "sp ace", long_domain};
    for (size_t i = 0; i < sizeof bad_domains / sizeof bad_domains[0]; i++) {
        hcm_server_attr sa = bytes_attr(4, 64, 64);
        sa.domain = bad_domains[i];
        hcm_client_attr ca;
        hcm_client_attr_init(&ca);
        ca.domain = bad_domains[i];
        hcm_server *srv = NULL;
        hcm_client *cli = NULL;
        CHECK_RC(hcm_server_open(&srv, "fine", &sa), HCM_ENAME);
        CHECK_RC(hcm_client_open(&cli, "fine", &ca), HCM_ENAME);
    }
    /* the longest name is fine */
    char max_name[HCM_NAME_MAX + 1];
    memset(max_name, 'm', sizeof max_name - 1);
    max_name[sizeof max_name - 1] = '\0';
    hcm_server *srv = open_server(max_name, 4, 64, 64);
    hcm_client *cli = open_client(max_name, 0);
    hcm_call c = send_payload(cli, 1, 0, 24);
    serve_one(srv);
    receive_checked(cli, c, 1, 0, 24);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service(max_name);
}

TEST(a_queue_size_outside_one_to_the_maximum_gets_einval)
{
    const uint32_t bad[] = {0, HCM_MAX_QUEUE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_server_attr a = bytes_attr(bad[i], 64, 64);
        hcm_server *srv = NULL;
        CHECK_RC(hcm_server_open(&srv, "qsize", &a), HCM_EINVAL);
        CHECK(srv == NULL);
        CHECK(!service_exists("qsize"));
    }
    const uint32_t good[] = {1, HCM_MAX_QUEUE};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        hcm_server *srv = open_server("qsize", good[i], 64, 64);
        CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
        hcm_client *cli = open_client("qsize", 1);
        call_checked(cli, 1, i, 24);
        hcm_client_close(cli);
        hcm_server_close(srv);
        unlink_service("qsize");
    }
}

TEST(null_arguments_get_einval)
{
    hcm_server_attr_init(NULL);
    hcm_client_attr_init(NULL);
    hcm_server_close(NULL);
    hcm_server_stop(NULL);
    hcm_client_close(NULL);

    hcm_server *srv = NULL;
    hcm_client *cli = NULL;
    CHECK_RC(hcm_server_open(NULL, "nul", NULL), HCM_EINVAL);
    CHECK_RC(hcm_server_open(&srv, NULL, NULL), HCM_EINVAL);
    CHECK(srv == NULL);
    CHECK_RC(hcm_client_open(NULL, "nul", NULL), HCM_EINVAL);
    CHECK_RC(hcm_client_open(&cli, NULL, NULL), HCM_EINVAL);
    CHECK(cli == NULL);

    srv = open_server("nul", 4, 64, 64);
    cli = open_client("nul", 0);
    uint8_t buf[64] = {0};
    size_t len = 0;
    hcm_call call = {0, 1};
    CHECK_RC(hcm_server_take(NULL, buf, sizeof buf, &len, &call, 0), HCM_EINVAL);
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, NULL, &call, 0), HCM_EINVAL);
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, &len, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_server_take(srv, NULL, sizeof buf, &len, &call, 0), HCM_EINVAL);
    CHECK_RC(hcm_server_reply(NULL, call, buf, 1), HCM_EINVAL);
    CHECK_RC(hcm_server_reply(srv, call, NULL, 5), HCM_EINVAL);
    CHECK_RC(hcm_server_fail(NULL, call, "x"), HCM_EINVAL);
    CHECK_RC(hcm_server_start(NULL, answer_handler, NULL), HCM_EINVAL);
    CHECK_RC(hcm_server_start(srv, NULL, NULL), HCM_EINVAL);
    CHECK_RC(hcm_client_send(NULL, buf, 1, &call, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_send(cli, buf, 1, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_send(cli, NULL, 5, &call, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_receive(NULL, call, buf, sizeof buf, &len, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_receive(cli, call, buf, sizeof buf, NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_receive(cli, call, NULL, sizeof buf, &len, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_cancel(NULL, call), HCM_EINVAL);
    CHECK_RC(hcm_client_call(NULL, buf, 1, buf, sizeof buf, &len, 0), HCM_EINVAL);
    CHECK_RC(hcm_client_call(cli, NULL, 5, buf, sizeof buf, &len, 0), HCM_EINVAL);
    /* nothing reached the server */
    CHECK_RC(hcm_server_take(srv, buf, sizeof buf, &len, &call, 0), HCM_ETIMEDOUT);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("nul");
}

TEST(invalid_server_and_client_attributes_get_einval)
{
    hcm_server *srv = NULL;
    hcm_server_attr a = bytes_attr(4, 64, 64);
    a.request_type.kind = 99;
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64, 64);
    a.response_type.kind = HCM_TYPE_NONE; /* servers need a real type */
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64, 64);
    a.mode = 0400;
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a.mode = 01777;
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    a = bytes_attr(4, 64, HCM_MAX_PAYLOAD + 1);
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    hcm_server_attr_init(&a);
    a.request_type = hcm_type_scalar(HCM_TYPE_INT64);
    a.request_max = 4; /* the type's size is 8 */
    CHECK_RC(hcm_server_open(&srv, "attrs", &a), HCM_EINVAL);
    CHECK(srv == NULL);
    CHECK(!service_exists("attrs"));

    hcm_client_attr ca;
    hcm_client_attr_init(&ca);
    ca.request_type.kind = 99;
    hcm_client *cli = NULL;
    CHECK_RC(hcm_client_open(&cli, "attrs", &ca), HCM_EINVAL);
    CHECK(cli == NULL);
}

/* ---- corrupted segments -------------------------------------------------------------- *
 * The victim: a BYTES service, 4 slots, request/response max 100 (stride
 * round64(320 + 128 + 100) = 576, file HCM_SVC_SLOTS_OFFSET(4) + 4 * 576 bytes), no server. */

#define VICTIM "victim"
#define SH(field) ((uint64_t)offsetof(hcm_svc_header, field))
#define SS(field) ((uint64_t)offsetof(hcm_svc_slot, field))

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
    hcm_server *srv = open_server(VICTIM, 4, 100, 100);
    hcm_server_close(srv);
    service_path(VICTIM, victim_path, sizeof victim_path);
    CHECK_EQ(peek_u32(victim_path, SH(slot_stride)), 576);
    CHECK_EQ_U64(peek_u64(victim_path, SH(total_size)), HCM_SVC_SLOTS_OFFSET(4) + 4 * 576);
}

/* In a child (a crash shows as a signal, a hang as the alarm): the client and
 * the server both get HCM_ECORRUPT with a message. */
static void expect_corrupt(const char *what)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_client *cli = NULL;
        int rc = hcm_client_open(&cli, VICTIM, NULL);
        if (rc != HCM_ECORRUPT)
            FAIL("%s: hcm_client_open gave %s (%s), want HCM_ECORRUPT", what,
                 harness_errname(rc), hcm_errmsg());
        CHECK(hcm_errmsg()[0] != '\0');
        hcm_server_attr a = bytes_attr(4, 100, 100);
        hcm_server *srv = NULL;
        rc = hcm_server_open(&srv, VICTIM, &a);
        if (rc != HCM_ECORRUPT)
            FAIL("%s: hcm_server_open gave %s (%s), want HCM_ECORRUPT", what,
                 harness_errname(rc), hcm_errmsg());
        CHECK(hcm_errmsg()[0] != '\0');
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

TEST(a_service_segment_with_a_bad_magic_is_ecorrupt)
{
    make_victim();
    poke_u64(victim_path, SH(magic), HCM_SEG_MAGIC); /* a topic's magic */
    expect_corrupt("topic magic");
    poke_u64(victim_path, SH(magic), 0);
    expect_corrupt("zero magic");
    unlink_service(VICTIM);
}

TEST(a_service_segment_of_another_layout_version_is_ecorrupt)
{
    make_victim();
    poke_u32(victim_path, SH(version), HCM_SVC_VERSION + 1);
    expect_corrupt("version + 1");
    poke_u32(victim_path, SH(version), 0);
    expect_corrupt("version 0");
    unlink_service(VICTIM);
}

TEST(a_service_segment_with_a_wrong_header_size_or_kind_is_ecorrupt)
{
    make_victim();
    poke_u32(victim_path, SH(header_size), 768);
    expect_corrupt("header size 768");
    poke_u32(victim_path, SH(header_size), HCM_SVC_HEADER_SIZE);
    poke_u32(victim_path, SH(seg_kind), HCM_SEG_KIND_TOPIC);
    expect_corrupt("kind topic");
    unlink_service(VICTIM);
}

TEST(a_service_segment_with_a_slot_count_of_zero_or_huge_is_ecorrupt)
{
    const uint32_t counts[] = {0, 5, HCM_MAX_QUEUE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "slot count %u", counts[i]);
        make_victim();
        poke_u32(victim_path, SH(slot_count), counts[i]);
        expect_corrupt(what);
        unlink_service(VICTIM);
    }
}

TEST(a_service_segment_whose_stride_disagrees_with_its_sizes_is_ecorrupt)
{
    const uint32_t strides[] = {0, 64, 512, 640, UINT32_MAX};
    for (size_t i = 0; i < sizeof strides / sizeof strides[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "stride %u", strides[i]);
        make_victim();
        poke_u32(victim_path, SH(slot_stride), strides[i]);
        expect_corrupt(what);
        unlink_service(VICTIM);
    }
    /* larger request/response maxima than the stride has room for */
    make_victim();
    poke_u64(victim_path, SH(request_max), 4096);
    expect_corrupt("request max 4096");
    unlink_service(VICTIM);
    make_victim();
    poke_u64(victim_path, SH(response_max), 1000);
    expect_corrupt("response max 1000");
    unlink_service(VICTIM);
}

TEST(a_service_segment_with_request_or_response_max_out_of_range_is_ecorrupt)
{
    const uint64_t bad[] = {0, HCM_MAX_PAYLOAD + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        make_victim();
        poke_u64(victim_path, SH(request_max), bad[i]);
        snprintf(what, sizeof what, "request max %llu", (unsigned long long)bad[i]);
        expect_corrupt(what);
        unlink_service(VICTIM);
        make_victim();
        poke_u64(victim_path, SH(response_max), bad[i]);
        snprintf(what, sizeof what, "response max %llu", (unsigned long long)bad[i]);
        expect_corrupt(what);
        unlink_service(VICTIM);
    }
}

TEST(a_service_segment_whose_total_size_disagrees_is_ecorrupt)
{
    const uint64_t valid = HCM_SVC_SLOTS_OFFSET(4) + 4 * 576;
    const uint64_t sizes[] = {0, 640, valid - 1, valid + 64, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "total size %llu", (unsigned long long)sizes[i]);
        make_victim();
        poke_u64(victim_path, SH(total_size), sizes[i]);
        expect_corrupt(what);
        unlink_service(VICTIM);
    }
    /* header consistent, file grown behind its back */
    make_victim();
    if (truncate(victim_path, (off_t)(HCM_SVC_SLOTS_OFFSET(4) + 5 * 576)) != 0)
        FAIL("truncate: %s", strerror(errno));
    expect_corrupt("file larger than the header says");
    unlink_service(VICTIM);
}

TEST(a_truncated_service_segment_is_ecorrupt)
{
    const off_t valid = (off_t)(HCM_SVC_SLOTS_OFFSET(4) + 4 * 576);
    const off_t sizes[] = {valid - 1, valid - 576, 640, 639, 100, 8, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "file truncated to %lld bytes", (long long)sizes[i]);
        make_victim();
        if (truncate(victim_path, sizes[i]) != 0)
            FAIL("truncate: %s", strerror(errno));
        expect_corrupt(what);
        unlink_service(VICTIM);
    }
}

TEST(a_service_segment_with_an_invalid_type_descriptor_is_ecorrupt)
{
    make_victim();
    poke_u32(victim_path, SH(request_type), 99);
    expect_corrupt("request type kind 99");
    unlink_service(VICTIM);
    make_victim();
    poke_u32(victim_path, SH(response_type) + offsetof(hcm_type, elem_size), 3); /* bytes of 3 */
    expect_corrupt("response type elem_size 3");
    unlink_service(VICTIM);
}

TEST(a_response_length_beyond_the_response_max_gets_ecorrupt_not_an_over_read)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_server *srv = open_server("rlen", 2, 64, 64);
        hcm_client *cli = open_client("rlen", 0);
        char path[512];
        service_path("rlen", path, sizeof path);
        uint64_t stride = peek_u32(path, SH(slot_stride));
        const uint64_t bad[] = {65, 4096, 1ull << 40, UINT64_MAX};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            hcm_call c = send_payload(cli, 1, i, 24);
            serve_one(srv); /* DONE with 24 bytes */
            poke_u64(path, HCM_SVC_SLOTS_OFFSET(2) + c.slot * stride + SS(resp_len), bad[i]);
            static uint8_t resp[1 << 16];
            size_t len = 0;
            int rc = hcm_client_receive(cli, c, resp, sizeof resp, &len, SEC);
            if (rc != HCM_ECORRUPT)
                FAIL("response length %llu: receive gave %s (len %zu), want HCM_ECORRUPT",
                     (unsigned long long)bad[i], harness_errname(rc), len);
        }
        /* the slots are not lost */
        for (uint64_t n = 10; n < 14; n++) {
            hcm_call c = send_payload(cli, 1, n, 24);
            serve_one(srv);
            receive_checked(cli, c, 1, n, 24);
        }
        hcm_client_close(cli);
        hcm_server_close(srv);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    unlink_service("rlen");
}

TEST(a_request_length_beyond_the_request_max_is_never_over_read_by_the_server)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_server *srv = open_server("qlen", 2, 64, 64);
        hcm_client *cli = open_client("qlen", 0);
        char path[512];
        service_path("qlen", path, sizeof path);
        uint64_t stride = peek_u32(path, SH(slot_stride));
        const uint64_t bad[] = {65, 1ull << 40, UINT64_MAX};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            hcm_call c = send_payload(cli, 1, i, 24);
            poke_u64(path, HCM_SVC_SLOTS_OFFSET(2) + c.slot * stride + SS(req_len), bad[i]);
            static uint8_t buf[1 << 16];
            size_t len = 0;
            hcm_call h;
            int rc = hcm_server_take(srv, buf, sizeof buf, &len, &h, 0);
            if (rc != HCM_ETIMEDOUT && rc != HCM_ECORRUPT)
                FAIL("request length %llu: take gave %s (len %zu), want nothing to take",
                     (unsigned long long)bad[i], harness_errname(rc), len);
            uint8_t resp[64];
            rc = hcm_client_receive(cli, c, resp, sizeof resp, &len, SEC);
            if (rc != HCM_EREMOTE && rc != HCM_ECORRUPT)
                FAIL("request length %llu: receive gave %s, want HCM_EREMOTE or HCM_ECORRUPT",
                     (unsigned long long)bad[i], harness_errname(rc));
        }
        for (uint64_t n = 10; n < 14; n++) {
            hcm_call c = send_payload(cli, 1, n, 24);
            serve_one(srv);
            receive_checked(cli, c, 1, n, 24);
        }
        hcm_client_close(cli);
        hcm_server_close(srv);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    unlink_service("qlen");
}

/* Every slot holds leftovers of dead processes or garbage: a new server and a
 * new client must still work (no crash, no hang, no slot lost for good). */
TEST(a_service_whose_slots_hold_garbage_and_dead_owners_still_serves_new_calls)
{
    enum { SLOTS = 8 };
    hcm_server *first = open_server("garbage", SLOTS, 64, 64);
    hcm_server_close(first);
    char path[512];
    service_path("garbage", path, sizeof path);
    uint64_t stride = peek_u32(path, SH(slot_stride));
    const uint64_t dead = (0x7ffffff0ull << 32) | 1; /* a pid that cannot exist */
    const uint32_t states[SLOTS] = {HCM_SLOT_FREE,       HCM_SLOT_CLAIMED, HCM_SLOT_REQUESTED,
                                    HCM_SLOT_PROCESSING, HCM_SLOT_DONE,    HCM_SLOT_ABANDONED,
                                    77,                  UINT32_MAX};
    for (uint32_t i = 0; i < SLOTS; i++) {
        uint64_t s = HCM_SVC_SLOTS_OFFSET(SLOTS) + i * stride;
        poke_u32(path, s + SS(state), states[i]);
        poke_u32(path, s + SS(waiting), 1);
        poke_u64(path, s + SS(client), dead);
        poke_u64(path, s + SS(id), 0); /* older than any new call */
        poke_u32(path, s + SS(status), 12345);
        poke_u64(path, s + SS(req_len), UINT64_MAX);
        poke_u64(path, s + SS(resp_len), UINT64_MAX);
        poke_u64(path, s + SS(server), dead);
    }
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_server *srv = open_server("garbage", SLOTS, 64, 64);
        hcm_client *cli = open_client("garbage", 1);
        for (uint64_t n = 0; n < 2 * SLOTS; n++) {
            hcm_call c = send_payload(cli, 1, n, 24);
            /* take until our request comes (garbage ones are failed or skipped) */
            int found = 0;
            for (int k = 0; k < 4 * SLOTS && !found; k++) {
                uint8_t buf[64];
                size_t len = 0;
                hcm_call h;
                int rc = hcm_server_take(srv, buf, sizeof buf, &len, &h, 2 * SEC);
                if (rc != HCM_OK)
                    FAIL("take for call %llu gave %s (%s)", (unsigned long long)n,
                         harness_errname(rc), hcm_errmsg());
                uint32_t who = 0;
                uint64_t got = 0;
                if (harness_payload_check(buf, len, &who, &got) && who == 1 && got == n) {
                    reply_answer(srv, h, buf, len);
                    found = 1;
                } else {
                    hcm_server_fail(srv, h, "garbage");
                }
            }
            CHECK(found);
            receive_checked(cli, c, 1, n, 24);
        }
        /* every slot at once: the garbage ones must be reclaimed */
        hcm_client *now = open_client("garbage", 0);
        hcm_call calls[SLOTS];
        for (uint64_t n = 0; n < SLOTS; n++)
            calls[n] = send_payload(now, 2, n, 24);
        for (uint64_t n = 0; n < SLOTS; n++)
            serve_one(srv);
        for (uint64_t n = 0; n < SLOTS; n++)
            receive_checked(now, calls[n], 2, n, 24);
        hcm_client_close(now);
        hcm_client_close(cli);
        hcm_server_close(srv);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    unlink_service("garbage");
}

/* ---- names -------------------------------------------------------------------------- */

TEST(a_topic_and_a_service_of_the_same_name_coexist)
{
    hcm_publisher_attr pa = harness_pub_attr(HCM_TYPE_INT64, 4, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "same", &pa));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "same", NULL));
    hcm_server *srv = open_server("same", 4, 64, 64);
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    hcm_client *cli = open_client("same", 1);
    char tpath[512];
    struct stat st;
    snprintf(tpath, sizeof tpath, "/dev/shm/hcm.%s.t.same", harness_domain());
    CHECK(stat(tpath, &st) == 0);
    CHECK(service_exists("same"));
    int64_t v = 17;
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
    call_checked(cli, 1, 0, 24);
    int64_t got = 0;
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, &got, sizeof got, &info));
    CHECK_EQ(got, 17);
    hcm_client_close(cli);
    hcm_server_close(srv);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "same"));
    CHECK(service_exists("same")); /* the topic's unlink leaves the service alone */
    unlink_service("same");
}
