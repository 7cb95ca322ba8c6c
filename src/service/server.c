/* service/server.c - serving requests: take/reply, or a handler thread. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "segment/owner.h"
#include "service/svc.h"
#include "sync/sync.h"

struct hcm_server {
    hcm_svc svc;
    hcm_seg_name name;
    uint64_t me;       /* our process identity, as stored in hdr->server */
    uint32_t gen;      /* the server generation we claimed */
    _Atomic uint64_t answered; /* calls answered; published to hdr->calls now and then */
    int64_t spin_ns;
    /* handler thread */
    pthread_t thread;
    int running;
    _Atomic int stop;  /* relaxed: polled by the thread between takes */
    hcm_handler_fn handler;
    void *ctx;
};

void hcm_server_attr_init(hcm_server_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->request_type = hcm_type_scalar(HCM_TYPE_BYTES);
    attr->response_type = hcm_type_scalar(HCM_TYPE_BYTES);
    attr->queue_size = HCM_DEFAULT_QUEUE;
    attr->mode = 0600;
    attr->spin_ns = HCM_DEFAULT_SPIN_NS;
}

static int size_of(const hcm_type *t, uint64_t asked, uint64_t *out, const char *what)
{
    uint64_t fixed = hcm_type_fixed_size(t);
    if (fixed != 0) {
        if (asked != 0 && asked != fixed)
            return hcm__fail(HCM_EINVAL, "%s max %llu differs from the type's size %llu", what,
                             (unsigned long long)asked, (unsigned long long)fixed);
        *out = fixed;
    } else {
        *out = asked != 0 ? asked : HCM_DEFAULT_BYTES_MAX;
    }
    if (*out > HCM_MAX_PAYLOAD)
        return hcm__fail(HCM_EINVAL, "%s max %llu is over the limit %llu", what,
                         (unsigned long long)*out, (unsigned long long)HCM_MAX_PAYLOAD);
    return HCM_OK;
}

/* Calls a dead server left PROCESSING get an HCM_EDEAD answer now, rather
 * than when their clients next check. */
static void fail_orphans(hcm_server *srv)
{
    for (uint32_t i = 0; i < srv->svc.slot_count; i++) {
        hcm_svc_slot *s = hcm__svc_slot(&srv->svc, i);
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        uint64_t taker = atomic_load_explicit(&s->server, memory_order_relaxed);
        if ((st != HCM_SLOT_PROCESSING && st != HCM_SLOT_REPLYING) || taker == srv->me ||
            hcm__id_alive(taker))
            continue;
        /* relaxed: published by the CAS's release */
        atomic_store_explicit(&s->status, HCM_EDEAD, memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_DONE,
                                                    memory_order_acq_rel, memory_order_relaxed))
            hcm__svc_wake_client(s);
    }
}

/* Makes us the server of an attached segment. */
static int claim(hcm_server *srv)
{
    hcm_svc_header *h = srv->svc.hdr;
    /* (V2) acquire: pairs with the previous server's release in close */
    uint64_t cur = atomic_load_explicit(&h->server, memory_order_acquire);
    for (;;) {
        if (cur == HCM_SERVER_RECLAIMED) /* being removed: never ours */
            return HCM__ERECLAIMED;
        if (cur != 0 && (cur == srv->me || hcm__id_alive(cur)))
            return hcm__fail(HCM_EBUSY, "service '%s' already has a live server (pid %u)",
                             srv->name.topic, hcm__id_pid(cur));
        /* (V1) acq_rel: clients that read our identity see the segment as we
         * leave it; we see the previous server's last stores */
        if (atomic_compare_exchange_weak_explicit(&h->server, &cur, srv->me, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    /* relaxed: a counter read by tools and stamped in taken calls */
    srv->gen = atomic_fetch_add_explicit(&h->server_gen, 1, memory_order_relaxed) + 1;
    fail_orphans(srv);
    return HCM_OK;
}

int hcm_server_open(hcm_server **srvp, const char *service, const hcm_server_attr *attr)
{
    hcm_server_attr defaults;
    hcm_server *srv;
    uint64_t req_max = 0, resp_max = 0;
    int rc;

    hcm__clear_error();
    if (srvp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_server_open: srvp is NULL");
    *srvp = NULL;
    if (attr == NULL) {
        hcm_server_attr_init(&defaults);
        attr = &defaults;
    }
    if (hcm_type_validate(&attr->request_type) != HCM_OK ||
        hcm_type_validate(&attr->response_type) != HCM_OK)
        return hcm__fail(HCM_EINVAL, "invalid request or response type descriptor");
    if (attr->queue_size < 1 || attr->queue_size > HCM_MAX_QUEUE)
        return hcm__fail(HCM_EINVAL, "queue_size %u is outside 1..%u", attr->queue_size,
                         HCM_MAX_QUEUE);
    if (attr->mode > 0777 || (attr->mode & 0600) != 0600)
        return hcm__fail(HCM_EINVAL, "mode %04o must include 0600 and stay within 0777",
                         attr->mode);
    if ((rc = size_of(&attr->request_type, attr->request_max, &req_max, "request")) != HCM_OK ||
        (rc = size_of(&attr->response_type, attr->response_max, &resp_max, "response")) != HCM_OK)
        return rc;
    srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    if ((rc = hcm__name_make(&srv->name, attr->domain, 's', service)) != HCM_OK)
        goto fail;
    srv->me = hcm__self_process_id();
    srv->spin_ns = attr->spin_ns;
    for (int attempt = 0;; attempt++) {
        if (attempt == 16) {
            rc = hcm__fail(HCM_EBUSY, "service '%s' kept changing while opening it",
                           srv->name.topic);
            goto fail;
        }
        rc = hcm__svc_open(&srv->svc, &srv->name, 1);
        if (rc == HCM_ENOENT) {
            hcm__clear_error();
            rc = hcm__svc_create(&srv->svc, &srv->name, &attr->request_type, req_max,
                                 &attr->response_type, resp_max, attr->queue_size, attr->mode,
                                 srv->me);
            if (rc == HCM__EEXIST)
                continue;
            if (rc != HCM_OK)
                goto fail;
            srv->gen = 1;
            break;
        }
        if (rc != HCM_OK)
            goto fail;
        int same = hcm_type_equal(&srv->svc.req_type, &attr->request_type) &&
                   hcm_type_equal(&srv->svc.resp_type, &attr->response_type) &&
                   srv->svc.req_max >= req_max && srv->svc.resp_max >= resp_max;
        if (!same) {
            uint64_t cur = atomic_load_explicit(&srv->svc.hdr->server, memory_order_acquire);
            if (cur == 0 || !hcm__id_alive(cur)) {
                /* Made for other types by a server that is gone: replace it.
                 * Clients of the old types get HCM_ETYPE when they re-attach. */
                hcm__file_retire(&srv->svc.f, &srv->name, &srv->svc.hdr->state,
                                 HCM_SEG_STATE_RETIRED, NULL);
                hcm__svc_close(&srv->svc);
                continue;
            }
            char a[160], b[160], c[160], d[160];
            rc = hcm__fail(HCM_EBUSY,
                           "service '%s' is served by pid %u with request %s / response %s; "
                           "this server wants %s / %s",
                           srv->name.topic, hcm__id_pid(cur),
                           hcm_type_format(&srv->svc.req_type, a, sizeof a),
                           hcm_type_format(&srv->svc.resp_type, b, sizeof b),
                           hcm_type_format(&attr->request_type, c, sizeof c),
                           hcm_type_format(&attr->response_type, d, sizeof d));
            hcm__svc_close(&srv->svc);
            goto fail;
        }
        if ((rc = claim(srv)) == HCM__ERECLAIMED) {
            /* a reclaimer condemned it: finish removing it, then create anew */
            hcm__file_retire(&srv->svc.f, &srv->name, &srv->svc.hdr->state,
                             HCM_SEG_STATE_RETIRED, NULL);
            hcm__svc_close(&srv->svc);
            continue;
        }
        if (rc != HCM_OK) {
            hcm__svc_close(&srv->svc);
            goto fail;
        }
        break;
    }
    *srvp = srv;
    return HCM_OK;
fail:
    free(srv);
    return rc;
}

/* The pending request with the lowest id, or -1. Reads the hint bytes (one
 * line per 64 slots) and only the state of hinted slots. */
static int64_t oldest_request(const hcm_server *srv, uint64_t *idp)
{
    int64_t best = -1;
    uint64_t best_id = 0;
    for (uint32_t i = 0; i < srv->svc.slot_count; i++) {
        /* relaxed: a hint; the CAS in take() acquires */
        if (atomic_load_explicit(&srv->svc.pending[i], memory_order_relaxed) == 0)
            continue;
        hcm_svc_slot *s = hcm__svc_slot(&srv->svc, i);
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != HCM_SLOT_REQUESTED)
            continue; /* a stale hint (cancelled, reclaimed): costs this load only */
        uint64_t id = atomic_load_explicit(&s->id, memory_order_relaxed);
        if (best < 0 || id < best_id) {
            best = i;
            best_id = id;
        }
    }
    *idp = best_id;
    return best;
}

static int any_request(void *p)
{
    uint64_t id;
    return oldest_request(p, &id) >= 0;
}

int hcm_server_take(hcm_server *srv, void *buf, size_t cap, size_t *lenp, hcm_call *callp,
                    int64_t timeout_ns)
{
    int64_t deadline, start = 0;
    hcm_svc_header *h;
    if (srv == NULL || callp == NULL || lenp == NULL || (buf == NULL && cap != 0))
        return hcm__fail(HCM_EINVAL, "hcm_server_take: NULL argument");
    h = srv->svc.hdr;
    int64_t now = hcm__now_ns();
    deadline = timeout_ns < 0 ? -1 : now + timeout_ns;
    for (unsigned iter = 0;; iter++) {
        uint64_t id;
        int64_t i = oldest_request(srv, &id);
        if (i >= 0) {
            hcm_svc_slot *s = hcm__svc_slot(&srv->svc, (uint32_t)i);
            uint32_t st = HCM_SLOT_REQUESTED;
            /* (S1) acquire: pairs with the client's (C1) release; its request
             * bytes, length and id are visible once we own the slot. */
            if (!atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_PROCESSING,
                                                         memory_order_acquire,
                                                         memory_order_relaxed))
                continue; /* another server thread, or the client cancelled */
            /* relaxed: the slot is ours until FREE, so no new request can set
             * the hint before this clear is done */
            atomic_store_explicit(&srv->svc.pending[i], 0, memory_order_relaxed);
            uint64_t len = atomic_load_explicit(&s->req_len, memory_order_relaxed);
            id = atomic_load_explicit(&s->id, memory_order_relaxed);
            if (len > srv->svc.req_max) { /* corrupt: answer with an error */
                atomic_store_explicit(&s->server, srv->me, memory_order_relaxed);
                hcm_server_fail(srv, (hcm_call){(uint32_t)i, id}, "request length out of range");
                continue;
            }
            if (len > cap) { /* give it back: the caller needs a larger buffer */
                uint32_t mine = HCM_SLOT_PROCESSING;
                /* release: back to the queue as it was; if the client
                 * abandoned it meanwhile, the slot is ours to free */
                if (atomic_compare_exchange_strong_explicit(&s->state, &mine, HCM_SLOT_REQUESTED,
                                                            memory_order_release,
                                                            memory_order_relaxed))
                    atomic_store_explicit(&srv->svc.pending[i], 1, memory_order_relaxed);
                else
                    hcm__svc_free_slot(&srv->svc, s);
                *lenp = (size_t)len;
                return hcm__fail(HCM_EMSGSIZE, "request of %llu bytes; buffer holds %zu",
                                 (unsigned long long)len, cap);
            }
            /* relaxed: we own the slot; the reply's release publishes these */
            atomic_store_explicit(&s->server, srv->me, memory_order_relaxed);
            atomic_store_explicit(&s->gen, srv->gen, memory_order_relaxed);
            hcm__copy(buf, hcm__svc_req(&srv->svc, s), (size_t)len);
            *lenp = (size_t)len;
            callp->slot = (uint32_t)i;
            callp->id = id;
            return HCM_OK;
        }
        /* the clock every 16 rounds while spinning: it costs as much as a scan */
        if ((iter & 15) == 0 || (start != 0 && now - start >= HCM__SVC_PAUSE_NS))
            now = hcm__now_ns();
        if (timeout_ns == 0 || (deadline >= 0 && now >= deadline) ||
            atomic_load_explicit(&srv->stop, memory_order_relaxed)) /* hcm_server_stop */
            return HCM_ETIMEDOUT;
        if (start == 0)
            start = now;
        if (srv->spin_ns != 0 && (srv->spin_ns < 0 || now - start < srv->spin_ns)) {
            if (now - start < HCM__SVC_PAUSE_NS)
                hcm__cpu_relax();
            else
                sched_yield();
            continue;
        }
        /* acquire: a bump we read was made after the request it announces */
        uint32_t w = atomic_load_explicit(&h->req_futex, memory_order_acquire);
        /* (S2) count ourselves, fence, re-scan, sleep; pairs with (C2) */
        int r = hcm__svc_sleep(&h->req_futex, w, &h->server_waiters, any_request, srv, deadline);
        if (r == EINTR)
            return hcm__fail(HCM_EINTR, "take on service '%s' interrupted by a signal",
                             srv->name.topic);
        start = 0;
        now = hcm__now_ns();
    }
}

/* The slot of a call this server holds, or NULL (and an error). */
static hcm_svc_slot *held(hcm_server *srv, hcm_call call, const char *what)
{
    hcm_svc_slot *s;
    if (call.slot >= srv->svc.slot_count) {
        hcm__fail(HCM_EINVAL, "%s: call slot %u out of range", what, call.slot);
        return NULL;
    }
    s = hcm__svc_slot(&srv->svc, call.slot);
    if (atomic_load_explicit(&s->id, memory_order_relaxed) != call.id ||
        atomic_load_explicit(&s->server, memory_order_relaxed) != srv->me) {
        hcm__fail(HCM_EINVAL, "%s: call %llu is not held by this server", what,
                  (unsigned long long)call.id);
        return NULL;
    }
    return s;
}

/* Makes the call's answer ours to write: PROCESSING -> REPLYING. 1 if we
 * may write it; 0 if the client abandoned it (the slot is freed here) or it
 * is not being processed (an error is set: a second reply or fail). */
static int begin_answer(hcm_server *srv, hcm_svc_slot *s, const char *what, int *rcp)
{
    uint32_t st = HCM_SLOT_PROCESSING;
    /* acquire: nothing to see; the CAS only decides who writes the answer */
    if (atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_REPLYING,
                                                memory_order_acquire, memory_order_acquire))
        return 1;
    if (st == HCM_SLOT_ABANDONED) { /* the client gave up: nobody reads the reply */
        hcm__svc_free_slot(&srv->svc, s);
        *rcp = HCM_OK;
        return 0;
    }
    *rcp = hcm__fail(HCM_EINVAL, "%s: the call is no longer being processed (answered already?)",
                     what);
    return 0;
}

/* Publishes the answer written under REPLYING: DONE for the client, or frees
 * the slot if the client abandoned it meanwhile. */
static int end_answer(hcm_server *srv, hcm_svc_slot *s, uint32_t status)
{
    uint32_t st = HCM_SLOT_REPLYING;
    /* relaxed: published by the release CAS below */
    atomic_store_explicit(&s->status, status, memory_order_relaxed);
    /* (S3) release: response, length and status before DONE; pairs with
     * the client's (C3) acquire load. */
    if (atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_DONE, memory_order_release,
                                                memory_order_relaxed)) {
        hcm__svc_wake_client(s);
        /* relaxed: a statistic for tools, stored every 64 calls rather than
         * written on every call (the header line is the clients' too) */
        uint64_t n = atomic_fetch_add_explicit(&srv->answered, 1, memory_order_relaxed) + 1;
        if ((n & 63) == 0)
            atomic_store_explicit(&srv->svc.hdr->calls, n, memory_order_relaxed);
    } else { /* ABANDONED while we wrote */
        hcm__svc_free_slot(&srv->svc, s);
    }
    return HCM_OK;
}

int hcm_server_reply(hcm_server *srv, hcm_call call, const void *data, size_t len)
{
    hcm_svc_slot *s;
    if (srv == NULL || (data == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_server_reply: NULL argument");
    if ((s = held(srv, call, "hcm_server_reply")) == NULL)
        return HCM_EINVAL;
    uint64_t fixed = srv->svc.resp_fixed;
    if ((fixed != 0 && len != fixed) || len > srv->svc.resp_max)
        return hcm__fail(HCM_EMSGSIZE, "service '%s': response of %zu bytes; the type takes %s%llu",
                         srv->name.topic, len, fixed ? "exactly " : "at most ",
                         (unsigned long long)(fixed ? fixed : srv->svc.resp_max));
    int rc;
    if (!begin_answer(srv, s, "hcm_server_reply", &rc))
        return rc;
    hcm__copy(hcm__svc_resp(&srv->svc, s), data, len);
    atomic_store_explicit(&s->resp_len, len, memory_order_relaxed); /* published by (S3) */
    return end_answer(srv, s, HCM_OK);
}

int hcm_server_fail(hcm_server *srv, hcm_call call, const char *message)
{
    hcm_svc_slot *s;
    if (srv == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_server_fail: NULL server");
    if ((s = held(srv, call, "hcm_server_fail")) == NULL)
        return HCM_EINVAL;
    int rc;
    if (!begin_answer(srv, s, "hcm_server_fail", &rc))
        return rc;
    snprintf(s->error, sizeof s->error, "%s", message ? message : "failed"); /* published by (S3) */
    return end_answer(srv, s, HCM_EREMOTE);
}

static void *worker(void *p)
{
    hcm_server *srv = p;
    size_t req_cap = (size_t)srv->svc.req_max, resp_cap = (size_t)srv->svc.resp_max;
    unsigned char *req = malloc(req_cap ? req_cap : 1), *resp = malloc(resp_cap ? resp_cap : 1);
    char errbuf[HCM_SERVICE_ERROR_MAX];
    if (req == NULL || resp == NULL)
        goto out;
    /* relaxed: a flag; the worst case is one more 100 ms take */
    while (!atomic_load_explicit(&srv->stop, memory_order_relaxed)) {
        hcm_call call;
        size_t len, rlen = 0;
        int rc = hcm_server_take(srv, req, req_cap, &len, &call, 100000000ll);
        if (rc != HCM_OK)
            continue;
        errbuf[0] = '\0';
        rc = srv->handler(srv->ctx, req, len, resp, resp_cap, &rlen, errbuf);
        if (rc == HCM_OK && rlen <= resp_cap)
            rc = hcm_server_reply(srv, call, resp, rlen);
        if (rc != HCM_OK)
            hcm_server_fail(srv, call, errbuf[0] ? errbuf : hcm_strerror(rc));
    }
out:
    free(req);
    free(resp);
    return NULL;
}

int hcm_server_start(hcm_server *srv, hcm_handler_fn handler, void *ctx)
{
    int err;
    if (srv == NULL || handler == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_server_start: NULL argument");
    if (srv->running)
        return hcm__fail(HCM_EBUSY, "service '%s': a handler thread is already running",
                         srv->name.topic);
    srv->handler = handler;
    srv->ctx = ctx;
    atomic_store_explicit(&srv->stop, 0, memory_order_relaxed);
    if ((err = pthread_create(&srv->thread, NULL, worker, srv)) != 0)
        return hcm__fail_sys(err, "pthread_create for service '%s'", srv->name.topic);
    srv->running = 1;
    return HCM_OK;
}

void hcm_server_stop(hcm_server *srv)
{
    if (srv == NULL || !srv->running)
        return;
    atomic_store_explicit(&srv->stop, 1, memory_order_relaxed);
    /* wake a sleeping take so the thread sees the flag now */
    atomic_fetch_add_explicit(&srv->svc.hdr->req_futex, 1, memory_order_release);
    hcm__futex_wake_all(&srv->svc.hdr->req_futex);
    pthread_join(srv->thread, NULL);
    srv->running = 0;
    /* relaxed: a statistic for tools (published every 64 answers while
     * running, see end_answer); exact once the handler has stopped */
    atomic_store_explicit(&srv->svc.hdr->calls,
                          atomic_load_explicit(&srv->answered, memory_order_relaxed),
                          memory_order_relaxed);
}

void hcm_server_close(hcm_server *srv)
{
    if (srv == NULL)
        return;
    hcm_server_stop(srv);
    hcm_svc_header *h = srv->svc.hdr;
    atomic_store_explicit(&h->calls, atomic_load_explicit(&srv->answered, memory_order_relaxed),
                          memory_order_relaxed);
    uint64_t me = srv->me;
    /* Leave no client waiting: ours and queued calls end with HCM_EDEAD. */
    for (uint32_t i = 0; i < srv->svc.slot_count; i++) {
        hcm_svc_slot *s = hcm__svc_slot(&srv->svc, i);
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        int ours = st == HCM_SLOT_PROCESSING &&
                   atomic_load_explicit(&s->server, memory_order_relaxed) == me;
        if (st == HCM_SLOT_ABANDONED &&
            atomic_load_explicit(&s->server, memory_order_relaxed) == me) {
            hcm__svc_free_slot(&srv->svc, s);
            continue;
        }
        if (!ours && st != HCM_SLOT_REQUESTED)
            continue;
        atomic_store_explicit(&s->status, HCM_EDEAD, memory_order_relaxed); /* by the CAS */
        if (atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_DONE,
                                                    memory_order_release, memory_order_relaxed))
            hcm__svc_wake_client(s);
    }
    /* (V1) release: we are no longer the server */
    atomic_compare_exchange_strong_explicit(&h->server, &me, 0, memory_order_release,
                                            memory_order_relaxed);
    hcm__svc_close(&srv->svc);
    free(srv);
}
