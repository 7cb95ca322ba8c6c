/* service/client.c - calling a service: send, receive, cancel, call. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "common/type_internal.h"
#include "segment/owner.h"
#include "service/svc.h"
#include "sync/sync.h"

#define LIVENESS_CHECK_NS 50000000ll /* a waiting call checks its server this often */

/* Every segment this client attached, newest first. A node never changes
 * after it is published and stays until the client closes (calls may still
 * point into a segment that was replaced), so readers need no lock. */
typedef struct svc_node {
    hcm_svc svc;
    struct svc_node *next;
} svc_node;

struct hcm_client {
    pthread_mutex_t lock;          /* attach / re-attach */
    _Atomic(svc_node *) cur;       /* the current segment, NULL: not attached */
    hcm_seg_name name;
    hcm_type req_type, resp_type;  /* kind NONE: any */
    int64_t spin_ns;
    int wait_for_slot;
    uint64_t me;
    uint64_t token;         /* tells this handle's calls from other handles' of the process */
    _Atomic int64_t last_reclaim; /* relaxed: rate-limits the dead-slot scan */
    _Atomic uint32_t hint;  /* where the next slot search starts (relaxed: a hint) */
    _Atomic uint64_t alive_server; /* last server identity seen alive... */
    _Atomic int64_t alive_until;   /* ...until this time (relaxed: a cache) */
};

void hcm_client_attr_init(hcm_client_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->spin_ns = HCM_DEFAULT_SPIN_NS;
    attr->wait_for_slot = 1;
}

static int check_types(hcm_client *cli, const hcm_svc *svc)
{
    char a[160], b[160], c[160], d[160];
    if (hcm__type_accepts(&cli->req_type, &svc->req_type) &&
        hcm__type_accepts(&cli->resp_type, &svc->resp_type))
        return HCM_OK;
    return hcm__fail(HCM_ETYPE,
                     "service '%s' takes %s and answers %s; this client sends %s and expects %s",
                     cli->name.topic, hcm_type_format(&svc->req_type, a, sizeof a),
                     hcm_type_format(&svc->resp_type, b, sizeof b),
                     hcm_type_format(&cli->req_type, c, sizeof c),
                     hcm_type_format(&cli->resp_type, d, sizeof d));
}

static int live(const svc_node *n)
{
    /* acquire: pairs with the replacer's release (R1) */
    return n != NULL &&
           atomic_load_explicit(&n->svc.hdr->state, memory_order_acquire) == HCM_SEG_STATE_LIVE;
}

/* The current segment, attaching (or re-attaching after a replacement) if
 * needed. The common case is two loads: no lock, no copy. */
static int ensure(hcm_client *cli, hcm_svc **out)
{
    /* acquire: pairs with the release store below; the node is complete */
    svc_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire);
    int rc = HCM_OK;
    if (live(n)) {
        *out = &n->svc;
        return HCM_OK;
    }
    pthread_mutex_lock(&cli->lock);
    n = atomic_load_explicit(&cli->cur, memory_order_relaxed); /* under the lock */
    if (!live(n)) {
        svc_node *fresh = calloc(1, sizeof *fresh);
        if (fresh == NULL) {
            rc = hcm__fail(HCM_ENOMEM, "out of memory");
            goto out;
        }
        rc = hcm__svc_open(&fresh->svc, &cli->name, 1);
        if (rc == HCM_ENOENT)
            rc = hcm__fail(HCM_ENOENT, "service '%s' does not exist in domain '%s' (no server "
                                       "has opened it)",
                           cli->name.topic, cli->name.domain);
        else if (rc == HCM_OK && (rc = check_types(cli, &fresh->svc)) != HCM_OK)
            hcm__svc_close(&fresh->svc);
        if (rc != HCM_OK) {
            free(fresh);
            goto out;
        }
        fresh->next = n;
        /* release: the node is complete before anyone can load it */
        atomic_store_explicit(&cli->cur, fresh, memory_order_release);
        n = fresh;
    }
    *out = &n->svc;
out:
    pthread_mutex_unlock(&cli->lock);
    return rc;
}

int hcm_client_open(hcm_client **clip, const char *service, const hcm_client_attr *attr)
{
    hcm_client_attr defaults;
    hcm_client *cli;
    hcm_svc *svc;
    int rc;

    hcm__clear_error();
    if (clip == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_client_open: clip is NULL");
    *clip = NULL;
    if (attr == NULL) {
        hcm_client_attr_init(&defaults);
        attr = &defaults;
    }
    if (!hcm__type_optional_valid(&attr->request_type) ||
        !hcm__type_optional_valid(&attr->response_type))
        return hcm__fail(HCM_EINVAL, "invalid request or response type descriptor");
    cli = calloc(1, sizeof *cli);
    if (cli == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    if ((rc = hcm__name_make(&cli->name, attr->domain, 's', service)) != HCM_OK) {
        free(cli);
        return rc;
    }
    pthread_mutex_init(&cli->lock, NULL);
    cli->req_type = attr->request_type;
    cli->resp_type = attr->response_type;
    cli->spin_ns = attr->spin_ns;
    cli->wait_for_slot = attr->wait_for_slot;
    cli->me = hcm__self_process_id();
    static _Atomic uint64_t tokens;
    /* relaxed: only uniqueness within this process matters */
    cli->token = atomic_fetch_add_explicit(&tokens, 1, memory_order_relaxed) + 1;
    rc = ensure(cli, &svc);
    if (rc != HCM_OK && rc != HCM_ENOENT) { /* a missing service is fine for now */
        pthread_mutex_destroy(&cli->lock);
        free(cli);
        return rc;
    }
    hcm__clear_error();
    *clip = cli;
    return HCM_OK;
}

static void abandon(hcm_svc *svc, hcm_svc_slot *s);

void hcm_client_close(hcm_client *cli)
{
    if (cli == NULL)
        return;
    svc_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire);
    while (n != NULL) {
        svc_node *next = n->next;
        /* Abandon this handle's calls in flight, so their slots do not stay
         * taken for as long as this process lives. */
        for (uint32_t i = 0; i < n->svc.slot_count; i++) {
            hcm_svc_slot *s = hcm__svc_slot(&n->svc, i);
            /* relaxed: our own stores, made by threads of this process that
             * the caller joined before close (a handle is not used during
             * its close) */
            if (atomic_load_explicit(&s->client, memory_order_relaxed) == cli->me &&
                atomic_load_explicit(&s->client_token, memory_order_relaxed) == cli->token)
                abandon(&n->svc, s);
        }
        hcm__svc_close(&n->svc);
        free(n);
        n = next;
    }
    pthread_mutex_destroy(&cli->lock);
    free(cli);
}

/* Is `server` alive? Cached for LIVENESS_CHECK_NS: a liveness check costs a
 * system call or two, a call should not. */
static int server_alive(hcm_client *cli, uint64_t server, int64_t now)
{
    if (server == 0)
        return 0;
    /* relaxed: a cache; a stale answer is corrected within 50 ms */
    if (atomic_load_explicit(&cli->alive_server, memory_order_relaxed) == server &&
        now < atomic_load_explicit(&cli->alive_until, memory_order_relaxed))
        return 1;
    if (!hcm__id_alive(server))
        return 0;
    atomic_store_explicit(&cli->alive_server, server, memory_order_relaxed);
    atomic_store_explicit(&cli->alive_until, now + LIVENESS_CHECK_NS, memory_order_relaxed);
    return 1;
}

static int no_server(hcm_client *cli)
{
    return hcm__fail(HCM_EDEAD, "service '%s' has no live server", cli->name.topic);
}

/* Frees slots whose client (or, for abandoned ones, server) is dead. */
static void reclaim_dead(hcm_svc *svc)
{
    for (uint32_t i = 0; i < svc->slot_count; i++) {
        hcm_svc_slot *s = hcm__svc_slot(svc, i);
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        uint64_t owner;
        if (st == HCM_SLOT_FREE || st == HCM_SLOT_PROCESSING || st == HCM_SLOT_REPLYING)
            continue; /* free, or the server's: a waiting client fails those itself */
        owner = atomic_load_explicit(st == HCM_SLOT_ABANDONED ? &s->server : &s->client,
                                     memory_order_relaxed);
        if (hcm__id_alive(owner))
            continue;
        if (atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_CLAIMED,
                                                    memory_order_acquire, memory_order_relaxed))
            hcm__svc_free_slot(svc, s);
    }
}

/* Claims a FREE slot; -1 if none. */
static int64_t claim_slot(hcm_client *cli, const hcm_svc *svc)
{
    uint32_t n = svc->slot_count;
    uint32_t start = atomic_load_explicit(&cli->hint, memory_order_relaxed) % n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (start + k) % n;
        hcm_svc_slot *s = hcm__svc_slot(svc, i);
        uint32_t st = HCM_SLOT_FREE;
        /* acquire: pairs with (F1): the previous user of the slot is done */
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == HCM_SLOT_FREE &&
            atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_CLAIMED,
                                                    memory_order_acquire, memory_order_relaxed)) {
            atomic_store_explicit(&cli->hint, i + 1, memory_order_relaxed);
            return i;
        }
    }
    return -1;
}

struct free_ctx {
    hcm_client *cli;
    const hcm_svc *svc;
};

static int any_free(void *p)
{
    const hcm_svc *svc = ((struct free_ctx *)p)->svc;
    for (uint32_t i = 0; i < svc->slot_count; i++)
        if (atomic_load_explicit(&hcm__svc_slot(svc, i)->state, memory_order_relaxed) ==
            HCM_SLOT_FREE)
            return 1;
    return 0;
}

/* send with an absolute deadline (< 0 none); `now` is the caller's clock
 * reading (a clock read costs ~25 ns in a VM: a call reads it once). */
static int send_at(hcm_client *cli, const void *req, size_t len, hcm_call *callp,
                   int64_t deadline, int64_t now)
{
    hcm_svc *svc;
    hcm_svc_header *h;
    int64_t i = -1;
    int rc;

    if ((rc = ensure(cli, &svc)) != HCM_OK)
        return rc;
    h = svc->hdr;
    uint64_t fixed = svc->req_fixed;
    if ((fixed != 0 && len != fixed) || len > svc->req_max)
        return hcm__fail(HCM_EMSGSIZE, "service '%s': request of %zu bytes; the type takes %s%llu",
                         cli->name.topic, len, fixed ? "exactly " : "at most ",
                         (unsigned long long)(fixed ? fixed : svc->req_max));
    /* (V2) acquire: pairs with the server's (V1) */
    if (!server_alive(cli, atomic_load_explicit(&h->server, memory_order_acquire), now))
        return no_server(cli);
    for (int reclaimed = 0; (i = claim_slot(cli, svc)) < 0;) {
        now = hcm__now_ns();
        if (!reclaimed) { /* crashed clients may hold slots: look, at most every 50 ms (a
                             liveness check costs system calls per busy slot) */
            reclaimed = 1;
            if (now - atomic_load_explicit(&cli->last_reclaim, memory_order_relaxed) >=
                LIVENESS_CHECK_NS) {
                atomic_store_explicit(&cli->last_reclaim, now, memory_order_relaxed);
                reclaim_dead(svc);
                continue;
            }
        }
        if (!cli->wait_for_slot || (deadline >= 0 && now >= deadline))
            return hcm__fail(HCM_EBUSY, "service '%s': all %u call slots are in use",
                             cli->name.topic, svc->slot_count);
        struct free_ctx fc = {cli, svc};
        int64_t until = now + LIVENESS_CHECK_NS;
        if (deadline >= 0 && deadline < until)
            until = deadline;
        /* acquire: a bump we read was made after the slot it announces */
        uint32_t w = atomic_load_explicit(&h->free_futex, memory_order_acquire);
        /* (F2) pairs with (F1) in the freer */
        if (hcm__svc_sleep(&h->free_futex, w, &h->free_waiters, any_free, &fc, until) == EINTR)
            return hcm__fail(HCM_EINTR, "send on service '%s' interrupted by a signal",
                             cli->name.topic);
        if (!server_alive(cli, atomic_load_explicit(&h->server, memory_order_acquire),
                          hcm__now_ns()))
            return no_server(cli);
        reclaimed = 0;
    }
    hcm_svc_slot *s = hcm__svc_slot(svc, (uint32_t)i);
    uint64_t id = atomic_fetch_add_explicit(&h->next_id, 1, memory_order_relaxed) + 1;
    hcm__copy(hcm__svc_req(svc, s), req, len);
    /* relaxed: published by (C1) */
    atomic_store_explicit(&s->client, cli->me, memory_order_relaxed);
    atomic_store_explicit(&s->client_token, cli->token, memory_order_relaxed);
    atomic_store_explicit(&s->id, id, memory_order_relaxed);
    atomic_store_explicit(&s->req_len, len, memory_order_relaxed);
    atomic_store_explicit(&s->resp_len, 0, memory_order_relaxed);
    atomic_store_explicit(&s->status, HCM_OK, memory_order_relaxed);
    atomic_store_explicit(&s->server, 0, memory_order_relaxed);
    atomic_store_explicit(&s->waiting, 0, memory_order_relaxed);
    /* (C1) release: the request before REQUESTED; pairs with (S1) */
    atomic_store_explicit(&s->state, HCM_SLOT_REQUESTED, memory_order_release);
    /* relaxed: the server's hint; it re-checks the state with its CAS, and
     * the (C2) fence below orders this store before the waiters load */
    atomic_store_explicit(&svc->pending[i], 1, memory_order_relaxed);
    /* (C2) fence, then the server's sleeper count; pairs with (S2): either a
     * sleeping server's re-scan sees REQUESTED, or we see it counted and
     * bump + wake. No shared write when the server is awake. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&h->server_waiters, memory_order_relaxed) != 0) {
        /* release: the bump is what the sleeper's futex compare sees change */
        atomic_fetch_add_explicit(&h->req_futex, 1, memory_order_release);
        hcm__futex_wake_all(&h->req_futex);
    }
    callp->slot = (uint32_t)i;
    callp->id = id;
    return HCM_OK;
}

int hcm_client_send(hcm_client *cli, const void *req, size_t len, hcm_call *callp,
                    int64_t timeout_ns)
{
    int64_t now;
    if (cli == NULL || callp == NULL || (req == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_client_send: NULL argument");
    now = hcm__now_ns();
    return send_at(cli, req, len, callp, timeout_ns < 0 ? -1 : now + timeout_ns, now);
}

/* The slot of a pending call of ours, or NULL. */
static hcm_svc_slot *mine(hcm_client *cli, const hcm_svc *svc, hcm_call call)
{
    hcm_svc_slot *s;
    if (svc->hdr == NULL || call.slot >= svc->slot_count)
        return NULL;
    s = hcm__svc_slot(svc, call.slot);
    if (atomic_load_explicit(&s->id, memory_order_relaxed) != call.id ||
        atomic_load_explicit(&s->client, memory_order_relaxed) != cli->me ||
        atomic_load_explicit(&s->client_token, memory_order_relaxed) != cli->token ||
        atomic_load_explicit(&s->state, memory_order_relaxed) == HCM_SLOT_FREE)
        return NULL;
    return s;
}

/* Finds the segment a call lives in: the current one or an older one. */
static int locate(hcm_client *cli, hcm_call call, hcm_svc **svcp, hcm_svc_slot **sp)
{
    /* acquire: pairs with the release publishing each node (ensure) */
    for (svc_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire); n; n = n->next) {
        if ((*sp = mine(cli, &n->svc, call)) != NULL) {
            *svcp = &n->svc;
            return HCM_OK;
        }
    }
    return hcm__fail(HCM_EINVAL, "call %llu is not a pending call of this client",
                     (unsigned long long)call.id);
}

struct slot_ctx {
    hcm_svc_slot *s;
};

static int slot_final(void *p)
{
    uint32_t st = atomic_load_explicit(&((struct slot_ctx *)p)->s->state, memory_order_relaxed);
    return st != HCM_SLOT_REQUESTED && st != HCM_SLOT_PROCESSING && st != HCM_SLOT_REPLYING;
}

/* A pending call whose server is gone: end it as HCM_EDEAD. */
static int fail_dead(hcm_client *cli, hcm_svc *svc, hcm_svc_slot *s, uint32_t st)
{
    if (!atomic_compare_exchange_strong_explicit(&s->state, &st, HCM_SLOT_CLAIMED,
                                                 memory_order_acquire, memory_order_relaxed))
        return -1; /* it moved on meanwhile: look again */
    hcm__svc_free_slot(svc, s);
    return hcm__fail(HCM_EDEAD, "the server of service '%s' died before replying",
                     cli->name.topic);
}

/* receive with an absolute deadline (< 0 none), `now` as in send_at. */
static int receive_at(hcm_client *cli, hcm_call call, void *resp, size_t cap, size_t *lenp,
                      int64_t deadline, int64_t now)
{
    hcm_svc *svc;
    hcm_svc_slot *s;
    int64_t spin_start = now, next_check = now + LIVENESS_CHECK_NS;
    int rc;

    if ((rc = locate(cli, call, &svc, &s)) != HCM_OK)
        return rc;
    for (unsigned iter = 0;; iter++) {
        /* (C3) acquire: pairs with the server's (S3) release */
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (atomic_load_explicit(&s->id, memory_order_relaxed) != call.id)
            return hcm__fail(HCM_EINVAL, "call %llu is no longer pending",
                             (unsigned long long)call.id);
        if (st == HCM_SLOT_DONE) {
            uint32_t status = atomic_load_explicit(&s->status, memory_order_relaxed);
            uint64_t len = atomic_load_explicit(&s->resp_len, memory_order_relaxed);
            if (status == HCM_OK) {
                if (len > svc->resp_max) {
                    hcm__svc_free_slot(svc, s);
                    return hcm__fail(HCM_ECORRUPT, "response length %llu out of range",
                                     (unsigned long long)len);
                }
                *lenp = (size_t)len;
                if (len > cap)
                    return hcm__fail(HCM_EMSGSIZE, "response of %llu bytes; buffer holds %zu",
                                     (unsigned long long)len, cap);
                hcm__copy(resp, hcm__svc_resp(svc, s), (size_t)len);
                hcm__svc_free_slot(svc, s);
                return HCM_OK;
            }
            char msg[HCM_SVC_ERROR_MAX];
            memcpy(msg, s->error, sizeof msg);
            msg[sizeof msg - 1] = '\0';
            hcm__svc_free_slot(svc, s);
            *lenp = 0;
            if (status == HCM_EREMOTE)
                return hcm__fail(HCM_EREMOTE, "service '%s': %s", cli->name.topic, msg);
            return hcm__fail(HCM_EDEAD, "the server of service '%s' closed before replying",
                             cli->name.topic);
        }
        if (st != HCM_SLOT_REQUESTED && st != HCM_SLOT_PROCESSING && st != HCM_SLOT_REPLYING)
            return hcm__fail(HCM_EINVAL, "call %llu is not pending (state %u)",
                             (unsigned long long)call.id, st);
        /* The clock only every 16 rounds while spinning: reading it costs as
         * much as the rest of a round. */
        if ((iter & 15) == 0 || now - spin_start >= HCM__SVC_PAUSE_NS)
            now = hcm__now_ns();
        if (now >= next_check) { /* is someone still going to answer? */
            uint64_t server = atomic_load_explicit(&svc->hdr->server, memory_order_acquire);
            uint64_t taker = atomic_load_explicit(&s->server, memory_order_relaxed);
            int dead = st == HCM_SLOT_REQUESTED ? !server_alive(cli, server, now)
                                                : !hcm__id_alive(taker);
            if (dead && (rc = fail_dead(cli, svc, s, st)) >= 0)
                return rc;
            next_check = now + LIVENESS_CHECK_NS;
            continue;
        }
        if (deadline >= 0 && now >= deadline)
            return HCM_ETIMEDOUT;
        if (cli->spin_ns != 0 && (cli->spin_ns < 0 || now - spin_start < cli->spin_ns)) {
            if (now - spin_start < HCM__SVC_PAUSE_NS)
                hcm__cpu_relax();
            else
                sched_yield();
            continue;
        }
        int64_t until = next_check;
        if (deadline >= 0 && deadline < until)
            until = deadline;
        struct slot_ctx sc = {s};
        /* (C4) waiting = 1, fence, re-check, sleep; pairs with (S4) */
        if (hcm__svc_sleep(&s->state, st, &s->waiting, slot_final, &sc, until) == EINTR)
            return hcm__fail(HCM_EINTR, "call on service '%s' interrupted by a signal",
                             cli->name.topic);
        now = hcm__now_ns();
    }
}

int hcm_client_receive(hcm_client *cli, hcm_call call, void *resp, size_t cap, size_t *lenp,
                       int64_t timeout_ns)
{
    int64_t now;
    if (cli == NULL || lenp == NULL || (resp == NULL && cap != 0))
        return hcm__fail(HCM_EINVAL, "hcm_client_receive: NULL argument");
    now = hcm__now_ns();
    return receive_at(cli, call, resp, cap, lenp, timeout_ns < 0 ? -1 : now + timeout_ns, now);
}

/* Gives up the call in slot s: a request the server has not taken is freed
 * now, one it works on becomes ABANDONED (its reply frees it), an answer not
 * collected is freed. Only this handle frees or reuses a slot that holds
 * its call, so the slot cannot change owner under us. */
static void abandon(hcm_svc *svc, hcm_svc_slot *s)
{
    for (;;) {
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        uint32_t to = (st == HCM_SLOT_PROCESSING || st == HCM_SLOT_REPLYING) ? HCM_SLOT_ABANDONED
                                                                               : HCM_SLOT_CLAIMED;
        if (st != HCM_SLOT_REQUESTED && st != HCM_SLOT_PROCESSING && st != HCM_SLOT_REPLYING &&
            st != HCM_SLOT_DONE)
            return;
        /* acquire: the server's writes to a DONE slot are over before we free it */
        if (!atomic_compare_exchange_strong_explicit(&s->state, &st, to, memory_order_acquire,
                                                     memory_order_relaxed))
            continue;
        if (to == HCM_SLOT_CLAIMED)
            hcm__svc_free_slot(svc, s);
        return; /* an abandoned slot is freed by the server's reply */
    }
}

int hcm_client_cancel(hcm_client *cli, hcm_call call)
{
    hcm_svc *svc;
    hcm_svc_slot *s;
    int rc;
    if (cli == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_client_cancel: NULL client");
    if ((rc = locate(cli, call, &svc, &s)) != HCM_OK)
        return rc;
    abandon(svc, s);
    return HCM_OK;
}

int hcm_client_call(hcm_client *cli, const void *req, size_t req_len, void *resp, size_t cap,
                    size_t *lenp, int64_t timeout_ns)
{
    hcm_call call;
    int64_t now = hcm__now_ns(), deadline = timeout_ns < 0 ? -1 : now + timeout_ns;
    int rc;
    /* Check what receive needs before sending: a call whose answer cannot
     * be collected would hold its slot for good. */
    if (cli == NULL || lenp == NULL || (resp == NULL && cap != 0) || (req == NULL && req_len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_client_call: NULL argument");
    if ((rc = send_at(cli, req, req_len, &call, deadline, now)) != HCM_OK)
        return rc;
    rc = receive_at(cli, call, resp, cap, lenp, deadline, now);
    if (rc == HCM_ETIMEDOUT || rc == HCM_EINTR || rc == HCM_EMSGSIZE) {
        /* The handle is ours alone: a call we return from is over. */
        if (rc == HCM_ETIMEDOUT)
            hcm__fail(rc, "no response from service '%s' within the timeout", cli->name.topic);
        hcm_client_cancel(cli, call); /* keeps the detail above */
    }
    return rc;
}
