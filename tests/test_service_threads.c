/* test_service_threads.c - services driven from several threads of one
 * process (several server threads taking and replying on one server, client
 * threads sharing a handle or using their own, cancels and timeouts racing
 * with replies), so that ThreadSanitizer sees the handles' own state.
 * Iteration counts stay moderate: TSan is ~10x slower.
 *
 * There is no hcm_service_unlink() yet: every test removes its segment with
 * unlink(2). */
/* ctest-labels: tsan */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MS 1000000ll
#define SEC 1000000000ll
#define CLIENT_THREADS 4
#define SERVER_THREADS 2

static void unlink_service(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/dev/shm/hcm.%s.s.%s", harness_domain(), name);
    if (unlink(path) != 0)
        FAIL("unlink %s: %s", path, strerror(errno));
}

static hcm_server *open_server(const char *name, uint32_t queue)
{
    hcm_server_attr a;
    hcm_server_attr_init(&a);
    a.queue_size = queue;
    a.request_max = 64;
    a.response_max = 64;
    hcm_server *srv = NULL;
    CHECK_OK(hcm_server_open(&srv, name, &a));
    return srv;
}

static hcm_client *open_client(const char *name, int wait_for_slot)
{
    hcm_client_attr a;
    hcm_client_attr_init(&a);
    a.wait_for_slot = wait_for_slot;
    hcm_client *cli = NULL;
    CHECK_OK(hcm_client_open(&cli, name, &a));
    return cli;
}

/* The answer: same length, every byte depending on the length and on all
 * request bytes before it. */
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
    uint8_t want[64];
    if (len > sizeof want || resp_len != len)
        return 0;
    transform(req, len, want);
    return memcmp(resp, want, len) == 0;
}

static void spin_ns(int64_t ns)
{
    int64_t end = harness_now_ns() + ns;
    while (harness_now_ns() < end) {
    }
}

/* ---- take/reply server threads ---------------------------------------------- */

typedef struct server_threads {
    hcm_server *srv;
    atomic_int stop;
    int64_t max_delay_ns; /* delay before each reply: hash of the request mod this */
    atomic_uint_fast64_t replied;
    atomic_uint_fast64_t errors;
    pthread_t th[SERVER_THREADS];
    int n;
} server_threads;

static void *server_main(void *p)
{
    server_threads *st = p;
    while (!atomic_load(&st->stop)) {
        uint8_t buf[64], resp[64];
        size_t len = 0;
        hcm_call call;
        int rc = hcm_server_take(st->srv, buf, sizeof buf, &len, &call, 20 * MS);
        if (rc == HCM_ETIMEDOUT)
            continue;
        if (rc != HCM_OK) {
            if (atomic_fetch_add(&st->errors, 1) < 5)
                harness_log("take: %s (%s)", harness_errname(rc), hcm_errmsg());
            continue;
        }
        if (st->max_delay_ns > 0) {
            uint64_t h = 0;
            memcpy(&h, buf + 16, sizeof h); /* the payload's hash */
            spin_ns((int64_t)(h % (uint64_t)st->max_delay_ns));
        }
        transform(buf, len, resp);
        rc = hcm_server_reply(st->srv, call, resp, len);
        if (rc != HCM_OK && atomic_fetch_add(&st->errors, 1) < 5)
            harness_log("reply: %s (%s)", harness_errname(rc), hcm_errmsg());
        atomic_fetch_add(&st->replied, 1);
    }
    return NULL;
}

static void server_threads_start(server_threads *st, hcm_server *srv, int n, int64_t max_delay_ns)
{
    st->srv = srv;
    st->n = n;
    st->max_delay_ns = max_delay_ns;
    atomic_init(&st->stop, 0);
    atomic_init(&st->replied, 0);
    atomic_init(&st->errors, 0);
    for (int i = 0; i < n; i++)
        CHECK(pthread_create(&st->th[i], NULL, server_main, st) == 0);
}

/* Stops and joins the server threads: afterwards no call is being processed. */
static void server_threads_stop(server_threads *st)
{
    atomic_store(&st->stop, 1);
    for (int i = 0; i < st->n; i++)
        pthread_join(st->th[i], NULL);
    CHECK_EQ_U64(atomic_load(&st->errors), 0);
}

/* With nobody processing: every one of the `queue` slots must be free. */
static void check_all_slots_free(const char *name, uint32_t queue)
{
    hcm_client *cli = open_client(name, 0);
    hcm_call calls[64];
    CHECK(queue <= 64);
    for (uint32_t i = 0; i < queue; i++) {
        uint8_t req[24];
        harness_payload_fill(req, sizeof req, 99, i);
        int rc = hcm_client_send(cli, req, sizeof req, &calls[i], 0);
        if (rc != HCM_OK)
            FAIL("slot %u of %u is not free: send gave %s (%s)", i + 1, queue,
                 harness_errname(rc), hcm_errmsg());
    }
    for (uint32_t i = 0; i < queue; i++)
        CHECK_OK(hcm_client_cancel(cli, calls[i]));
    hcm_client_close(cli);
}

/* ---- client threads ------------------------------------------------------------ */

typedef struct client_arg {
    hcm_client *cli;      /* shared, or NULL: open an own handle on `name` */
    const char *name;
    uint32_t who;
    uint64_t calls;
    int64_t timeout_ns;   /* 0: 10 s; else vary between timeout_ns/4 and timeout_ns */
    int cancel_mode;      /* send, wait a little, cancel (and check receive says EINVAL) */
    uint64_t ok, timed_out, mismatches, failures;
} client_arg;

static void *client_main(void *p)
{
    client_arg *a = p;
    hcm_client *cli = a->cli ? a->cli : open_client(a->name, 1);
    for (uint64_t n = 0; n < a->calls; n++) {
        uint8_t req[64], resp[64];
        size_t len = 24 + (size_t)(harness_mix64(((uint64_t)a->who << 32) ^ n) % 41);
        size_t rlen = 0;
        harness_payload_fill(req, len, a->who, n);
        if (a->cancel_mode) {
            hcm_call call;
            int rc = hcm_client_send(cli, req, len, &call, 10 * SEC);
            if (rc != HCM_OK) {
                if (a->failures++ < 5)
                    harness_log("send: %s (%s)", harness_errname(rc), hcm_errmsg());
                continue;
            }
            spin_ns((int64_t)(harness_mix64(n) % 50000));
            rc = hcm_client_cancel(cli, call);
            if (rc != HCM_OK && a->failures++ < 5)
                harness_log("cancel: %s (%s)", harness_errname(rc), hcm_errmsg());
            rc = hcm_client_receive(cli, call, resp, sizeof resp, &rlen, 0);
            if (rc != HCM_EINVAL && a->failures++ < 5)
                harness_log("receive after cancel: %s, want HCM_EINVAL", harness_errname(rc));
            continue;
        }
        int64_t timeout = 10 * SEC;
        if (a->timeout_ns > 0)
            timeout = a->timeout_ns / 4 +
                      (int64_t)(harness_mix64(n + a->who) % (uint64_t)(a->timeout_ns * 3 / 4));
        int rc = hcm_client_call(cli, req, len, resp, sizeof resp, &rlen, timeout);
        /* a short timeout may also run out while waiting for a slot (HCM_EBUSY) */
        if ((rc == HCM_ETIMEDOUT || rc == HCM_EBUSY) && a->timeout_ns > 0) {
            a->timed_out++;
            continue;
        }
        if (rc != HCM_OK) {
            if (a->failures++ < 5)
                harness_log("call: %s (%s)", harness_errname(rc), hcm_errmsg());
            continue;
        }
        if (is_answer(req, len, resp, rlen))
            a->ok++;
        else if (a->mismatches++ < 5)
            harness_log("writer %u call %llu: got a response that is not its answer", a->who,
                        (unsigned long long)n);
    }
    if (a->cli == NULL)
        hcm_client_close(cli);
    return NULL;
}

/* Runs `threads` client threads with the given settings; fails on any
 * mismatch or unexpected error. Returns the total of (ok, timed out). */
static void run_clients(client_arg *args, int threads, uint64_t *okp, uint64_t *timed_outp)
{
    pthread_t th[CLIENT_THREADS];
    uint64_t ok = 0, to = 0, bad = 0, fails = 0;
    for (int i = 0; i < threads; i++)
        CHECK(pthread_create(&th[i], NULL, client_main, &args[i]) == 0);
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        to += args[i].timed_out;
        bad += args[i].mismatches;
        fails += args[i].failures;
    }
    if (bad || fails)
        FAIL("%llu mismatched responses, %llu failed calls", (unsigned long long)bad,
             (unsigned long long)fails);
    *okp = ok;
    *timed_outp = to;
}

/* ---- tests --------------------------------------------------------------------- */

TEST(several_server_threads_take_and_reply_while_client_threads_share_one_handle)
{
    enum { CALLS = 2000 };
    hcm_server *srv = open_server("mt", 8);
    server_threads st;
    server_threads_start(&st, srv, SERVER_THREADS, 0);
    hcm_client *cli = open_client("mt", 1);
    client_arg args[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++)
        args[i] = (client_arg){.cli = cli, .who = (uint32_t)i + 1, .calls = CALLS};
    uint64_t ok, to;
    run_clients(args, CLIENT_THREADS, &ok, &to);
    CHECK_EQ_U64(ok, (uint64_t)CLIENT_THREADS * CALLS);
    server_threads_stop(&st);
    CHECK_EQ_U64(atomic_load(&st.replied), (uint64_t)CLIENT_THREADS * CALLS);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("mt");
}

static int answer_handler(void *ctx, const void *req, size_t req_len, void *resp,
                          size_t resp_cap, size_t *resp_lenp, char *errbuf)
{
    (void)ctx;
    (void)errbuf;
    if (req_len > resp_cap)
        return HCM_EMSGSIZE;
    transform(req, req_len, resp);
    *resp_lenp = req_len;
    return HCM_OK;
}

TEST(client_threads_with_their_own_handles_call_a_handler_thread_server)
{
    enum { CALLS = 2000 };
    hcm_server *srv = open_server("mth", 4); /* fewer slots than callers */
    CHECK_OK(hcm_server_start(srv, answer_handler, NULL));
    client_arg args[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++)
        args[i] = (client_arg){.name = "mth", .who = (uint32_t)i + 1, .calls = CALLS};
    uint64_t ok, to;
    run_clients(args, CLIENT_THREADS, &ok, &to);
    CHECK_EQ_U64(ok, (uint64_t)CLIENT_THREADS * CALLS);
    hcm_server_close(srv);
    unlink_service("mth");
}

TEST(calls_timing_out_while_the_server_replies_never_get_a_stale_response)
{
    enum { CALLS = 1000, QUEUE = 4 };
    hcm_server *srv = open_server("stale", QUEUE);
    server_threads st;
    server_threads_start(&st, srv, SERVER_THREADS, 300000); /* replies after 0..300 us */
    hcm_client *cli = open_client("stale", 1);
    client_arg args[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++)
        args[i] = (client_arg){.cli = cli, .who = (uint32_t)i + 1, .calls = CALLS,
                               .timeout_ns = 400000};
    uint64_t ok, to;
    run_clients(args, CLIENT_THREADS, &ok, &to);
    harness_log("%llu answered, %llu timed out", (unsigned long long)ok, (unsigned long long)to);
    CHECK_EQ_U64(ok + to, (uint64_t)CLIENT_THREADS * CALLS);
    server_threads_stop(&st);
    check_all_slots_free("stale", QUEUE);
    hcm_client_close(cli);
    hcm_server_close(srv);
    unlink_service("stale");
}

TEST(cancels_racing_with_replies_never_leak_a_slot)
{
    enum { CALLS = 3000, QUEUE = 4 };
    hcm_server *srv = open_server("cancelrace", QUEUE);
    server_threads st;
    server_threads_start(&st, srv, SERVER_THREADS, 0);
    client_arg args[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++)
        args[i] = (client_arg){.name = "cancelrace", .who = (uint32_t)i + 1, .calls = CALLS,
                               .cancel_mode = 1};
    uint64_t ok, to;
    run_clients(args, CLIENT_THREADS, &ok, &to);
    server_threads_stop(&st);
    harness_log("%llu of %d cancelled calls were replied to",
                (unsigned long long)atomic_load(&st.replied), CLIENT_THREADS * CALLS);
    check_all_slots_free("cancelrace", QUEUE);
    hcm_server_close(srv);
    unlink_service("cancelrace");
}
