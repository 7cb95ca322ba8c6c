/* action/action.c - actions: goals with status, feedback, result, cancel.
 *
 * Memory-order pairs (see layout.h for the slot fields):
 *   (G1) client: goal bytes, then PENDING release   <- (T1) server take CAS acquire
 *   (G2) client: pending hint, seq_cst fence, server_waiters load
 *                                                   <- (T2) server: waiters++, fence, hint scan
 *   (U1) server: status store/CAS release, then events bump
 *                                                   <- (U2) client: events/status acquire load
 *   (U3) events bump, seq_cst fence, waiting load   <- (U4) client: waiting = 1, fence, events re-check
 *   (F1) feedback: odd seq, release fence, bytes, even seq release
 *                                                   <- (F2) client: seq acquire, copy, acquire fence, re-check
 *   (X1) cancel_requested store release             <- (X2) server load acquire
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error_internal.h"
#include "common/inspect_internal.h"
#include "common/type_internal.h"
#include "hcm/action.h"
#include "hcm/topic.h"
#include "segment/layout.h"
#include "segment/owner.h"
#include "segment/segment.h"
#include "service/svc.h"
#include "sync/sync.h"

#define ROUND64(x) (((x) + HCM_SEG_LINE - 1) / HCM_SEG_LINE * HCM_SEG_LINE)
#define LIVENESS_CHECK_NS 50000000ll
#define DEFAULT_RETENTION_NS 60000000000ll

/* ---- the segment ------------------------------------------------------------ */

typedef struct hcm_act {
    hcm_file f;
    hcm_act_header *hdr;
    _Atomic uint8_t *pending;
    unsigned char *slots;
    uint32_t slot_count, stride;
    uint64_t goal_max, fb_max, result_max;
    uint64_t goal_fixed, fb_fixed, result_fixed;
    int64_t retention_ns;
    hcm_type goal_type, fb_type, result_type;
} hcm_act;

static uint64_t stride_of(uint64_t g, uint64_t f, uint64_t r)
{
    return ROUND64(HCM_ACT_SLOT_HEADER + ROUND64(g) + ROUND64(f) + r);
}

static hcm_act_slot *slot_of(const hcm_act *a, uint32_t i)
{
    return (hcm_act_slot *)(a->slots + (size_t)i * a->stride);
}

static unsigned char *goal_of(const hcm_act *a, hcm_act_slot *s)
{
    (void)a;
    return (unsigned char *)s + HCM_ACT_SLOT_HEADER;
}

static unsigned char *fb_of(const hcm_act *a, hcm_act_slot *s)
{
    return goal_of(a, s) + ROUND64(a->goal_max);
}

static unsigned char *result_of(const hcm_act *a, hcm_act_slot *s)
{
    return fb_of(a, s) + ROUND64(a->fb_max);
}

static void set_geometry(hcm_act *a, void *base, const hcm_act_header *h)
{
    a->hdr = base;
    a->pending = (_Atomic uint8_t *)((unsigned char *)base + HCM_ACT_HEADER_SIZE);
    a->slots = (unsigned char *)base + HCM_ACT_SLOTS_OFFSET(h->slot_count);
    a->slot_count = h->slot_count;
    a->stride = h->slot_stride;
    a->goal_max = h->goal_max;
    a->fb_max = h->feedback_max;
    a->result_max = h->result_max;
    a->retention_ns = h->retention_ns;
    a->goal_type = h->goal_type;
    a->fb_type = h->feedback_type;
    a->result_type = h->result_type;
    a->goal_fixed = hcm_type_fixed_size(&a->goal_type);
    a->fb_fixed = hcm_type_fixed_size(&a->fb_type);
    a->result_fixed = hcm_type_fixed_size(&a->result_type);
}

static int validate(const hcm_act_header *h, uint64_t file_size, const char *path)
{
    if (h->magic != HCM_ACT_MAGIC)
        return hcm__fail(HCM_ECORRUPT, "%s: bad magic (not an hcm action segment)", path);
    if (h->version != HCM_ACT_VERSION || h->header_size != HCM_ACT_HEADER_SIZE ||
        h->seg_kind != HCM_SEG_KIND_ACTION)
        return hcm__fail(HCM_ECORRUPT, "%s: version %u / header %u / kind %u unexpected", path,
                         h->version, h->header_size, h->seg_kind);
    if (h->slot_count < 1 || h->slot_count > HCM_MAX_QUEUE)
        return hcm__fail(HCM_ECORRUPT, "%s: %u goal slots out of range", path, h->slot_count);
    if (h->goal_max < 1 || h->goal_max > HCM_MAX_PAYLOAD || h->feedback_max < 1 ||
        h->feedback_max > HCM_MAX_PAYLOAD || h->result_max < 1 || h->result_max > HCM_MAX_PAYLOAD)
        return hcm__fail(HCM_ECORRUPT, "%s: payload sizes out of range", path);
    uint64_t stride = stride_of(h->goal_max, h->feedback_max, h->result_max);
    uint64_t need = HCM_ACT_SLOTS_OFFSET(h->slot_count) + (uint64_t)h->slot_count * stride;
    if (h->slot_stride != stride || h->total_size != need || file_size != need)
        return hcm__fail(HCM_ECORRUPT, "%s: sizes disagree (stride %u, total %llu, file %llu)",
                         path, h->slot_stride, (unsigned long long)h->total_size,
                         (unsigned long long)file_size);
    if (hcm_type_validate(&h->goal_type) != HCM_OK ||
        hcm_type_validate(&h->feedback_type) != HCM_OK ||
        hcm_type_validate(&h->result_type) != HCM_OK)
        return hcm__fail(HCM_ECORRUPT, "%s: invalid type descriptor", path);
    if (h->retention_ns < 0)
        return hcm__fail(HCM_ECORRUPT, "%s: negative retention", path);
    return HCM_OK;
}

static int act_open(hcm_act *a, const hcm_seg_name *name, int writable)
{
    hcm_act_header snap;
    int rc;
    memset(a, 0, sizeof *a);
    if ((rc = hcm__file_open(&a->f, name, writable, HCM_ACT_HEADER_SIZE)) != HCM_OK)
        return rc;
    memcpy(&snap, a->f.base, sizeof snap);
    if ((rc = validate(&snap, a->f.size, name->path)) != HCM_OK) {
        hcm__file_close(&a->f);
        return rc;
    }
    set_geometry(a, a->f.base, &snap);
    return HCM_OK;
}

static void act_close(hcm_act *a)
{
    if (a->hdr != NULL)
        hcm__file_close(&a->f);
    memset(a, 0, sizeof *a);
}

/* Wakes the client sleeping on a slot's events after a change. */
static void notify(hcm_act_slot *s)
{
    /* (U1)/(U3): the change was stored with release; the bump is what the
     * client's futex compare sees; the fence orders it before `waiting`. */
    atomic_fetch_add_explicit(&s->events, 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->waiting, memory_order_relaxed) != 0)
        hcm__futex_wake_all(&s->events);
}

int hcm_goal_status_is_final(hcm_goal_status st)
{
    return st == HCM_GOAL_SUCCEEDED || st == HCM_GOAL_CANCELED || st == HCM_GOAL_ABORTED ||
           st == HCM_GOAL_REJECTED;
}

const char *hcm_goal_status_name(hcm_goal_status st)
{
    static const char *names[] = {"unknown",  "pending",   "accepted", "executing", "canceling",
                                  "succeeded", "canceled", "aborted",  "rejected"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

/* The public status of an internal slot status. */
static hcm_goal_status public_status(uint32_t st)
{
    if (st == HCM_GSLOT_TAKEN || st == HCM_GSLOT_CLAIMED)
        return HCM_GOAL_PENDING;
    if (st >= HCM_GOAL_PENDING && st <= HCM_GOAL_REJECTED)
        return (hcm_goal_status)st;
    return HCM_GOAL_UNKNOWN;
}

static int check_size(uint64_t fixed, uint64_t max, size_t len, const char *what, const char *name)
{
    if ((fixed != 0 && len != fixed) || len > max)
        return hcm__fail(HCM_EMSGSIZE, "action '%s': %s of %zu bytes; the type takes %s%llu", name,
                         what, len, fixed ? "exactly " : "at most ",
                         (unsigned long long)(fixed ? fixed : max));
    return HCM_OK;
}

/* ---- server ------------------------------------------------------------------ */

struct hcm_action_server {
    hcm_act a;
    hcm_seg_name name;
    uint64_t me;
    int64_t *client_checked; /* per slot: when the client's liveness was checked */
    /* take(): the last client found alive, and when (reading /proc costs
     * ~10 us; a dead client is still caught within LIVENESS_CHECK_NS).
     * Relaxed: each is written after a successful check, a stale pair only
     * skips a check of a client found alive less than 50 ms ago. */
    _Atomic uint64_t live_client;
    _Atomic int64_t live_client_ns;
};

void hcm_action_server_attr_init(hcm_action_server_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->goal_type = attr->feedback_type = attr->result_type = hcm_type_scalar(HCM_TYPE_BYTES);
    attr->slots = HCM_DEFAULT_QUEUE;
    attr->mode = 0600;
    attr->retention_ns = DEFAULT_RETENTION_NS;
}

static int size_of(const hcm_type *t, uint64_t asked, uint64_t *out, const char *what)
{
    uint64_t fixed = hcm_type_fixed_size(t);
    if (hcm_type_validate(t) != HCM_OK)
        return hcm__fail(HCM_EINVAL, "invalid %s type descriptor", what);
    if (fixed != 0 && asked != 0 && asked != fixed)
        return hcm__fail(HCM_EINVAL, "%s max %llu differs from the type's size %llu", what,
                         (unsigned long long)asked, (unsigned long long)fixed);
    *out = fixed ? fixed : asked ? asked : HCM_DEFAULT_BYTES_MAX;
    if (*out > HCM_MAX_PAYLOAD)
        return hcm__fail(HCM_EINVAL, "%s max %llu is over the limit", what,
                         (unsigned long long)*out);
    return HCM_OK;
}

static int act_create(hcm_action_server *srv, const hcm_action_server_attr *attr, uint64_t g,
                      uint64_t f, uint64_t r)
{
    hcm_new_file nf;
    hcm_act *a = &srv->a;
    uint64_t stride = stride_of(g, f, r);
    uint64_t total = HCM_ACT_SLOTS_OFFSET(attr->slots) + (uint64_t)attr->slots * stride;
    int rc;
    memset(a, 0, sizeof *a);
    if (stride > UINT32_MAX)
        return hcm__fail(HCM_ENOMEM, "action '%s': goal slots too large", srv->name.topic);
    if ((rc = hcm__file_create(&a->f, &nf, &srv->name, total, attr->mode)) != HCM_OK)
        return rc;
    hcm_act_header *h = a->f.base; /* fresh and unnamed: plain stores */
    h->magic = HCM_ACT_MAGIC;
    h->version = HCM_ACT_VERSION;
    h->header_size = HCM_ACT_HEADER_SIZE;
    h->total_size = total;
    h->slot_count = attr->slots;
    h->slot_stride = (uint32_t)stride;
    h->goal_max = g;
    h->feedback_max = f;
    h->result_max = r;
    h->seg_kind = HCM_SEG_KIND_ACTION;
    h->goal_type = attr->goal_type;
    h->feedback_type = attr->feedback_type;
    h->result_type = attr->result_type;
    h->create_time_ns = hcm__realtime_ns();
    h->retention_ns = attr->retention_ns;
    atomic_store_explicit(&h->state, HCM_SEG_STATE_LIVE, memory_order_relaxed);
    atomic_store_explicit(&h->server, srv->me, memory_order_relaxed);
    atomic_store_explicit(&h->server_gen, 1, memory_order_relaxed);
    hcm_act_header snap = *h;
    if ((rc = hcm__file_link(&a->f, &nf, &srv->name)) != HCM_OK)
        return rc;
    set_geometry(a, a->f.base, &snap);
    return HCM_OK;
}

/* Is a goal's client alive? Cached for LIVENESS_CHECK_NS per client. */
static int client_alive(hcm_action_server *srv, uint64_t client)
{
    int64_t now = hcm__now_ns();
    if (client != 0 && atomic_load_explicit(&srv->live_client, memory_order_relaxed) == client &&
        now - atomic_load_explicit(&srv->live_client_ns, memory_order_relaxed) < LIVENESS_CHECK_NS)
        return 1;
    if (!hcm__id_alive(client))
        return 0;
    atomic_store_explicit(&srv->live_client, client, memory_order_relaxed);
    atomic_store_explicit(&srv->live_client_ns, now, memory_order_relaxed);
    return 1;
}

/* Goals a dead server held end ABORTED for their clients. */
static void abort_orphans(hcm_action_server *srv)
{
    hcm_act *a = &srv->a;
    for (uint32_t i = 0; i < a->slot_count; i++) {
        hcm_act_slot *s = slot_of(a, i);
        uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
        uint64_t taker = atomic_load_explicit(&s->server, memory_order_relaxed);
        if (st != HCM_GSLOT_TAKEN && st != HCM_GOAL_ACCEPTED && st != HCM_GOAL_EXECUTING &&
            st != HCM_GOAL_CANCELING)
            continue;
        if (taker == srv->me || hcm__id_alive(taker))
            continue;
        atomic_store_explicit(&s->orphaned, 1, memory_order_relaxed);
        atomic_store_explicit(&s->result_len, 0, memory_order_relaxed);
        atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&s->status, &st, HCM_GOAL_ABORTED,
                                                    memory_order_release, memory_order_relaxed))
            notify(s);
    }
}

int hcm_action_server_open(hcm_action_server **srvp, const char *action,
                           const hcm_action_server_attr *attr)
{
    hcm_action_server_attr defaults;
    hcm_action_server *srv;
    uint64_t g = 0, f = 0, r = 0;
    int rc;

    hcm__clear_error();
    if (srvp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_action_server_open: srvp is NULL");
    *srvp = NULL;
    if (attr == NULL) {
        hcm_action_server_attr_init(&defaults);
        attr = &defaults;
    }
    if (attr->slots < 1 || attr->slots > HCM_MAX_QUEUE)
        return hcm__fail(HCM_EINVAL, "slots %u is outside 1..%u", attr->slots, HCM_MAX_QUEUE);
    if (attr->mode > 0777 || (attr->mode & 0600) != 0600)
        return hcm__fail(HCM_EINVAL, "mode %04o must include 0600 and stay within 0777",
                         attr->mode);
    if (attr->retention_ns < 0)
        return hcm__fail(HCM_EINVAL, "retention must not be negative");
    if ((rc = size_of(&attr->goal_type, attr->goal_max, &g, "goal")) != HCM_OK ||
        (rc = size_of(&attr->feedback_type, attr->feedback_max, &f, "feedback")) != HCM_OK ||
        (rc = size_of(&attr->result_type, attr->result_max, &r, "result")) != HCM_OK)
        return rc;
    srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    if ((rc = hcm__name_make(&srv->name, attr->domain, 'a', action)) != HCM_OK)
        goto fail;
    srv->me = hcm__self_process_id();
    for (int attempt = 0;; attempt++) {
        if (attempt == 16) {
            rc = hcm__fail(HCM_EBUSY, "action '%s' kept changing while opening it",
                           srv->name.topic);
            goto fail;
        }
        rc = act_open(&srv->a, &srv->name, 1);
        if (rc == HCM_ENOENT) {
            hcm__clear_error();
            rc = act_create(srv, attr, g, f, r);
            if (rc == HCM__EEXIST)
                continue;
            if (rc != HCM_OK)
                goto fail;
            break;
        }
        if (rc != HCM_OK)
            goto fail;
        hcm_act *a = &srv->a;
        /* acquire: pairs with the release of the previous server's stores */
        uint64_t cur = atomic_load_explicit(&a->hdr->server, memory_order_acquire);
        if (cur == HCM_SERVER_RECLAIMED) {
            /* a reclaimer condemned it: finish removing it, then create anew */
            hcm__file_retire(&a->f, &srv->name, &a->hdr->state, HCM_SEG_STATE_RETIRED, NULL);
            act_close(a);
            continue;
        }
        int alive = cur != 0 && (cur == srv->me || hcm__id_alive(cur));
        if (alive) {
            rc = hcm__fail(HCM_EBUSY, "action '%s' already has a live server (pid %u)",
                           srv->name.topic, hcm__id_pid(cur));
            act_close(a);
            goto fail;
        }
        int same = hcm_type_equal(&a->goal_type, &attr->goal_type) &&
                   hcm_type_equal(&a->fb_type, &attr->feedback_type) &&
                   hcm_type_equal(&a->result_type, &attr->result_type) && a->goal_max >= g &&
                   a->fb_max >= f && a->result_max >= r && a->slot_count >= attr->slots;
        if (!same) { /* made for other types by a server that is gone: replace it */
            hcm__file_retire(&a->f, &srv->name, &a->hdr->state, HCM_SEG_STATE_RETIRED, NULL);
            act_close(a);
            continue;
        }
        /* acq_rel: clients reading our identity see the segment as we leave it */
        if (!atomic_compare_exchange_strong_explicit(&a->hdr->server, &cur, srv->me,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            act_close(a);
            continue;
        }
        atomic_fetch_add_explicit(&a->hdr->server_gen, 1, memory_order_relaxed);
        abort_orphans(srv);
        break;
    }
    srv->client_checked = calloc(srv->a.slot_count, sizeof *srv->client_checked);
    if (srv->client_checked == NULL) {
        hcm_action_server_close(srv);
        return hcm__fail(HCM_ENOMEM, "out of memory");
    }
    *srvp = srv;
    return HCM_OK;
fail:
    free(srv);
    return rc;
}

void hcm_action_server_close(hcm_action_server *srv)
{
    if (srv == NULL)
        return;
    hcm_act *a = &srv->a;
    if (a->hdr != NULL) {
        int64_t now = hcm__now_ns();
        for (uint32_t i = 0; i < a->slot_count; i++) {
            hcm_act_slot *s = slot_of(a, i);
            uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
            uint32_t to;
            if (st == HCM_GOAL_PENDING || st == HCM_GSLOT_TAKEN)
                to = HCM_GOAL_REJECTED;
            else if (st == HCM_GOAL_ACCEPTED || st == HCM_GOAL_EXECUTING ||
                     st == HCM_GOAL_CANCELING)
                to = HCM_GOAL_ABORTED;
            else
                continue;
            atomic_store_explicit(&s->result_len, 0, memory_order_relaxed);
            atomic_store_explicit(&s->finish_ns, now, memory_order_relaxed);
            if (atomic_compare_exchange_strong_explicit(&s->status, &st, to, memory_order_release,
                                                        memory_order_relaxed))
                notify(s);
        }
        uint64_t me = srv->me;
        atomic_compare_exchange_strong_explicit(&a->hdr->server, &me, 0, memory_order_release,
                                                memory_order_relaxed);
        act_close(a);
    }
    free(srv->client_checked);
    free(srv);
}

static int64_t oldest_pending(const hcm_act *a, uint64_t *idp)
{
    int64_t best = -1;
    uint64_t best_id = 0;
    for (uint32_t i = 0; i < a->slot_count; i++) {
        if (atomic_load_explicit(&a->pending[i], memory_order_relaxed) == 0)
            continue; /* relaxed: a hint; the CAS decides */
        hcm_act_slot *s = slot_of(a, i);
        if (atomic_load_explicit(&s->status, memory_order_relaxed) != HCM_GOAL_PENDING)
            continue;
        uint64_t id = atomic_load_explicit(&s->id, memory_order_relaxed);
        if (best < 0 || id < best_id) {
            best = i;
            best_id = id;
        }
    }
    *idp = best_id;
    return best;
}

static int any_pending(void *p)
{
    uint64_t id;
    return oldest_pending(p, &id) >= 0;
}

int hcm_action_server_take(hcm_action_server *srv, void *buf, size_t cap, size_t *lenp,
                           hcm_goal *goalp, int64_t timeout_ns)
{
    if (srv == NULL || lenp == NULL || goalp == NULL || (buf == NULL && cap != 0))
        return hcm__fail(HCM_EINVAL, "hcm_action_server_take: NULL argument");
    hcm_act *a = &srv->a;
    int64_t now = hcm__now_ns(), deadline = timeout_ns < 0 ? -1 : now + timeout_ns, start = 0;
    for (unsigned iter = 0;; iter++) {
        uint64_t id;
        int64_t i = oldest_pending(a, &id);
        if (i >= 0) {
            hcm_act_slot *s = slot_of(a, (uint32_t)i);
            uint32_t st = HCM_GOAL_PENDING;
            /* (T1) acquire: pairs with (G1); the goal bytes are visible */
            if (!atomic_compare_exchange_strong_explicit(&s->status, &st, HCM_GSLOT_TAKEN,
                                                         memory_order_acquire,
                                                         memory_order_relaxed))
                continue;
            atomic_store_explicit(&a->pending[i], 0, memory_order_relaxed);
            uint64_t len = atomic_load_explicit(&s->goal_len, memory_order_relaxed);
            uint64_t client = atomic_load_explicit(&s->client, memory_order_relaxed);
            /* relaxed: ours now; published by the next release store */
            atomic_store_explicit(&s->server, srv->me, memory_order_relaxed);
            if (len > a->goal_max || !client_alive(srv, client)) {
                /* corrupt, or its client is gone: nobody wants it */
                atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
                atomic_store_explicit(&s->status, HCM_GOAL_ABORTED, memory_order_release);
                notify(s);
                continue;
            }
            if (len > cap) {
                uint32_t mine = HCM_GSLOT_TAKEN;
                if (atomic_compare_exchange_strong_explicit(&s->status, &mine, HCM_GOAL_PENDING,
                                                            memory_order_release,
                                                            memory_order_relaxed))
                    atomic_store_explicit(&a->pending[i], 1, memory_order_relaxed);
                *lenp = (size_t)len;
                return hcm__fail(HCM_EMSGSIZE, "goal of %llu bytes; buffer holds %zu",
                                 (unsigned long long)len, cap);
            }
            hcm__copy(buf, goal_of(a, s), (size_t)len);
            srv->client_checked[i] = hcm__now_ns();
            *lenp = (size_t)len;
            goalp->slot = (uint32_t)i;
            goalp->id = atomic_load_explicit(&s->id, memory_order_relaxed);
            return HCM_OK;
        }
        if ((iter & 15) == 0)
            now = hcm__now_ns();
        if (timeout_ns == 0 || (deadline >= 0 && now >= deadline))
            return HCM_ETIMEDOUT;
        if (start == 0)
            start = now;
        if (now - start < HCM_DEFAULT_SPIN_NS) {
            if (now - start < HCM__SVC_PAUSE_NS)
                hcm__cpu_relax();
            else
                sched_yield();
            continue;
        }
        uint32_t w = atomic_load_explicit(&a->hdr->goal_futex, memory_order_acquire);
        /* (T2) pairs with (G2) */
        int r = hcm__svc_sleep(&a->hdr->goal_futex, w, &a->hdr->server_waiters, any_pending,
                               (void *)a, deadline);
        if (r == EINTR)
            return hcm__fail(HCM_EINTR, "take on action '%s' interrupted by a signal",
                             srv->name.topic);
        start = 0;
        now = hcm__now_ns();
    }
}

/* The slot of a goal this server holds, or NULL with an error. */
static hcm_act_slot *held(hcm_action_server *srv, hcm_goal g, const char *what)
{
    hcm_act *a = &srv->a;
    if (g.slot >= a->slot_count) {
        hcm__fail(HCM_EINVAL, "%s: goal slot %u out of range", what, g.slot);
        return NULL;
    }
    hcm_act_slot *s = slot_of(a, g.slot);
    if (atomic_load_explicit(&s->id, memory_order_relaxed) != g.id ||
        atomic_load_explicit(&s->server, memory_order_relaxed) != srv->me) {
        hcm__fail(HCM_EINVAL, "%s: goal %llu is not held by this server", what,
                  (unsigned long long)g.id);
        return NULL;
    }
    return s;
}

/* One CAS from `from` to `to`; notify on success. */
static int transition(hcm_act_slot *s, uint32_t from, uint32_t to)
{
    /* (U1) release: what we wrote for this state is visible with it */
    if (!atomic_compare_exchange_strong_explicit(&s->status, &from, to, memory_order_release,
                                                 memory_order_relaxed))
        return 0;
    notify(s);
    return 1;
}

int hcm_action_server_accept(hcm_action_server *srv, hcm_goal g)
{
    hcm_act_slot *s;
    if (srv == NULL || (s = held(srv, g, "hcm_action_server_accept")) == NULL)
        return srv == NULL ? hcm__fail(HCM_EINVAL, "NULL server") : HCM_EINVAL;
    /* Only the server holding a TAKEN goal moves it on (a client's cancel of a
     * TAKEN goal only sets the flag): check before writing anything. */
    if (atomic_load_explicit(&s->status, memory_order_acquire) != HCM_GSLOT_TAKEN)
        return hcm__fail(HCM_EINVAL, "goal %llu is not waiting for acceptance",
                         (unsigned long long)g.id);
    /* (X2) acquire: pairs with the client's (X1) */
    if (atomic_load_explicit(&s->cancel_requested, memory_order_acquire)) {
        atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
        if (transition(s, HCM_GSLOT_TAKEN, HCM_GOAL_CANCELED))
            return hcm__fail(HCM_ECANCELED, "goal %llu was canceled before it was accepted",
                             (unsigned long long)g.id);
    }
    if (transition(s, HCM_GSLOT_TAKEN, HCM_GOAL_ACCEPTED)) {
        /* A cancel that landed between our flag check and the CAS saw TAKEN
         * and only set the flag: show it as CANCELING now. The seq_cst fence
         * pairs with the one in hcm_action_client_cancel. */
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&s->cancel_requested, memory_order_acquire))
            transition(s, HCM_GOAL_ACCEPTED, HCM_GOAL_CANCELING);
        return HCM_OK;
    }
    return hcm__fail(HCM_EINVAL, "goal %llu is not waiting for acceptance",
                     (unsigned long long)g.id);
}

int hcm_action_server_reject(hcm_action_server *srv, hcm_goal g)
{
    hcm_act_slot *s;
    if (srv == NULL || (s = held(srv, g, "hcm_action_server_reject")) == NULL)
        return srv == NULL ? hcm__fail(HCM_EINVAL, "NULL server") : HCM_EINVAL;
    if (atomic_load_explicit(&s->status, memory_order_acquire) != HCM_GSLOT_TAKEN)
        return hcm__fail(HCM_EINVAL, "goal %llu is not waiting for acceptance",
                         (unsigned long long)g.id);
    atomic_store_explicit(&s->result_len, 0, memory_order_relaxed);
    atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
    if (transition(s, HCM_GSLOT_TAKEN, HCM_GOAL_REJECTED))
        return HCM_OK;
    return hcm__fail(HCM_EINVAL, "goal %llu is not waiting for acceptance",
                     (unsigned long long)g.id);
}

int hcm_action_server_execute(hcm_action_server *srv, hcm_goal g)
{
    hcm_act_slot *s;
    if (srv == NULL || (s = held(srv, g, "hcm_action_server_execute")) == NULL)
        return srv == NULL ? hcm__fail(HCM_EINVAL, "NULL server") : HCM_EINVAL;
    if (transition(s, HCM_GOAL_ACCEPTED, HCM_GOAL_EXECUTING))
        return HCM_OK;
    uint32_t st = atomic_load_explicit(&s->status, memory_order_relaxed);
    if (st == HCM_GOAL_EXECUTING || st == HCM_GOAL_CANCELING)
        return HCM_OK; /* already running, or a cancel came first: the server reads it */
    return hcm__fail(HCM_EINVAL, "goal %llu is %s, not accepted", (unsigned long long)g.id,
                     hcm_goal_status_name(public_status(st)));
}

static int running(uint32_t st)
{
    return st == HCM_GOAL_ACCEPTED || st == HCM_GOAL_EXECUTING || st == HCM_GOAL_CANCELING;
}

int hcm_action_server_feedback(hcm_action_server *srv, hcm_goal g, const void *data, size_t len)
{
    hcm_act_slot *s;
    int rc;
    if (srv == NULL || (data == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_action_server_feedback: NULL argument");
    if ((s = held(srv, g, "hcm_action_server_feedback")) == NULL)
        return HCM_EINVAL;
    hcm_act *a = &srv->a;
    if ((rc = check_size(a->fb_fixed, a->fb_max, len, "feedback", srv->name.topic)) != HCM_OK)
        return rc;
    if (!running(atomic_load_explicit(&s->status, memory_order_relaxed)))
        return hcm__fail(HCM_EINVAL, "goal %llu is not running", (unsigned long long)g.id);
    /* (F1): odd, release fence, bytes, even (release) */
    uint64_t seq = atomic_load_explicit(&s->fb_seq, memory_order_relaxed);
    uint64_t n = seq / 2; /* feedbacks so far */
    atomic_store_explicit(&s->fb_seq, 2 * n + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    hcm__racy_copy(fb_of(a, s), data, len);
    atomic_store_explicit(&s->fb_len, len, memory_order_relaxed);
    atomic_store_explicit(&s->fb_seq, 2 * n + 2, memory_order_release);
    notify(s);
    return HCM_OK;
}

int hcm_action_server_cancel_requested(hcm_action_server *srv, hcm_goal g)
{
    hcm_act_slot *s;
    if (srv == NULL || (s = held(srv, g, "hcm_action_server_cancel_requested")) == NULL)
        return 0;
    /* (X2) acquire: pairs with (X1) */
    if (atomic_load_explicit(&s->cancel_requested, memory_order_acquire))
        return 1;
    /* A client that died wants nothing any more: checked every 50 ms. */
    int64_t now = hcm__now_ns();
    if (now - srv->client_checked[g.slot] >= LIVENESS_CHECK_NS) {
        srv->client_checked[g.slot] = now;
        if (!hcm__id_alive(atomic_load_explicit(&s->client, memory_order_relaxed))) {
            atomic_store_explicit(&s->cancel_requested, 1, memory_order_relaxed);
            return 1;
        }
    }
    return 0;
}

int hcm_action_server_finish(hcm_action_server *srv, hcm_goal g, hcm_goal_status status,
                             const void *result, size_t len)
{
    hcm_act_slot *s;
    int rc;
    if (srv == NULL || (result == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_action_server_finish: NULL argument");
    if ((s = held(srv, g, "hcm_action_server_finish")) == NULL)
        return HCM_EINVAL;
    hcm_act *a = &srv->a;
    if (status != HCM_GOAL_SUCCEEDED && status != HCM_GOAL_ABORTED && status != HCM_GOAL_CANCELED)
        return hcm__fail(HCM_EINVAL, "a goal ends succeeded, aborted or canceled, not %s",
                         hcm_goal_status_name(status));
    if ((rc = check_size(a->result_fixed, a->result_max, len, "result", srv->name.topic)) !=
        HCM_OK)
        return rc;
    for (;;) {
        uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
        if (!running(st))
            return hcm__fail(HCM_EINVAL, "goal %llu is %s, not running", (unsigned long long)g.id,
                             hcm_goal_status_name(public_status(st)));
        if (status == HCM_GOAL_CANCELED && st != HCM_GOAL_CANCELING &&
            !atomic_load_explicit(&s->cancel_requested, memory_order_acquire))
            return hcm__fail(HCM_EINVAL, "goal %llu cannot end canceled: no cancel was requested",
                             (unsigned long long)g.id);
        hcm__copy(result_of(a, s), result, len);
        atomic_store_explicit(&s->result_len, len, memory_order_relaxed);
        atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
        if (transition(s, st, (uint32_t)status))
            return HCM_OK; /* else a cancel request moved it meanwhile: again */
    }
}

/* ---- client ------------------------------------------------------------------ */

/* Every segment this client attached, newest first; nodes never change and
 * stay until close (goals sent to a replaced segment keep their mapping). */
typedef struct act_node {
    hcm_act a;
    struct act_node *next;
} act_node;

struct hcm_action_client {
    pthread_mutex_t lock;
    _Atomic(act_node *) cur; /* NULL: not attached */
    hcm_seg_name name;
    hcm_type goal_type, fb_type, result_type;
    int64_t spin_ns;
    uint64_t me, token;
    _Atomic int64_t next_check; /* the next liveness check, shared by all waits (relaxed) */
    /* send(): the last server found alive, and when (as client_alive) */
    _Atomic uint64_t live_server;
    _Atomic int64_t live_server_ns;
};

void hcm_action_client_attr_init(hcm_action_client_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->spin_ns = HCM_DEFAULT_SPIN_NS;
}

static int live(const act_node *n)
{
    /* acquire: pairs with the replacer's release (R1) */
    return n != NULL &&
           atomic_load_explicit(&n->a.hdr->state, memory_order_acquire) == HCM_SEG_STATE_LIVE;
}

/* The current segment, attaching or re-attaching (after a new server
 * replaced it) as needed. Two loads when nothing changed. */
static int ensure(hcm_action_client *cli, hcm_act **ap)
{
    /* acquire: pairs with the release publishing a node */
    act_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire);
    int rc = HCM_OK;
    if (live(n)) {
        *ap = &n->a;
        return HCM_OK;
    }
    pthread_mutex_lock(&cli->lock);
    n = atomic_load_explicit(&cli->cur, memory_order_relaxed);
    if (!live(n)) {
        act_node *fresh = calloc(1, sizeof *fresh);
        if (fresh == NULL) {
            rc = hcm__fail(HCM_ENOMEM, "out of memory");
            goto out;
        }
        hcm_act *a = &fresh->a;
        rc = act_open(a, &cli->name, 1);
        if (rc == HCM_ENOENT)
            rc = hcm__fail(HCM_ENOENT, "action '%s' does not exist in domain '%s' (no server has "
                                       "opened it)",
                           cli->name.topic, cli->name.domain);
        else if (rc == HCM_OK && !(hcm__type_accepts(&cli->goal_type, &a->goal_type) &&
                                   hcm__type_accepts(&cli->fb_type, &a->fb_type) &&
                                   hcm__type_accepts(&cli->result_type, &a->result_type))) {
            char g1[160], g2[160], f1[160], f2[160], r1[160], r2[160];
            rc = hcm__fail(HCM_ETYPE,
                           "action '%s' has goal %s, feedback %s, result %s; this client expects "
                           "goal %s, feedback %s, result %s",
                           cli->name.topic, hcm_type_format(&a->goal_type, g1, sizeof g1),
                           hcm_type_format(&a->fb_type, f1, sizeof f1),
                           hcm_type_format(&a->result_type, r1, sizeof r1),
                           hcm_type_format(&cli->goal_type, g2, sizeof g2),
                           hcm_type_format(&cli->fb_type, f2, sizeof f2),
                           hcm_type_format(&cli->result_type, r2, sizeof r2));
            act_close(a);
        }
        if (rc != HCM_OK) {
            free(fresh);
            goto out;
        }
        fresh->next = n;
        /* release: the node is complete before anyone can load it */
        atomic_store_explicit(&cli->cur, fresh, memory_order_release);
        n = fresh;
    }
    *ap = &n->a;
out:
    pthread_mutex_unlock(&cli->lock);
    return rc;
}

int hcm_action_client_open(hcm_action_client **clip, const char *action,
                           const hcm_action_client_attr *attr)
{
    hcm_action_client_attr defaults;
    hcm_action_client *cli;
    hcm_act *a;
    int rc;
    hcm__clear_error();
    if (clip == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_action_client_open: clip is NULL");
    *clip = NULL;
    if (attr == NULL) {
        hcm_action_client_attr_init(&defaults);
        attr = &defaults;
    }
    if (!hcm__type_optional_valid(&attr->goal_type) ||
        !hcm__type_optional_valid(&attr->feedback_type) ||
        !hcm__type_optional_valid(&attr->result_type))
        return hcm__fail(HCM_EINVAL, "invalid goal, feedback or result type descriptor");
    cli = calloc(1, sizeof *cli);
    if (cli == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    if ((rc = hcm__name_make(&cli->name, attr->domain, 'a', action)) != HCM_OK) {
        free(cli);
        return rc;
    }
    pthread_mutex_init(&cli->lock, NULL);
    cli->goal_type = attr->goal_type;
    cli->fb_type = attr->feedback_type;
    cli->result_type = attr->result_type;
    cli->spin_ns = attr->spin_ns;
    cli->me = hcm__self_process_id();
    static _Atomic uint64_t tokens;
    cli->token = atomic_fetch_add_explicit(&tokens, 1, memory_order_relaxed) + 1;
    rc = ensure(cli, &a);
    if (rc != HCM_OK && rc != HCM_ENOENT) {
        pthread_mutex_destroy(&cli->lock);
        free(cli);
        return rc;
    }
    hcm__clear_error();
    *clip = cli;
    return HCM_OK;
}

static hcm_act_slot *mine_in(hcm_action_client *cli, hcm_act *a, hcm_goal g)
{
    if (a->hdr == NULL || g.slot >= a->slot_count)
        return NULL;
    hcm_act_slot *s = slot_of(a, g.slot);
    if (atomic_load_explicit(&s->id, memory_order_acquire) != g.id ||
        atomic_load_explicit(&s->client, memory_order_relaxed) != cli->me ||
        atomic_load_explicit(&s->client_token, memory_order_relaxed) != cli->token ||
        atomic_load_explicit(&s->status, memory_order_relaxed) == HCM_GSLOT_FREE)
        return NULL;
    return s;
}

/* The slot of a goal of this client, and its segment (current or older). */
static hcm_act_slot *mine(hcm_action_client *cli, hcm_goal g, hcm_act **ap)
{
    for (act_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire); n; n = n->next) {
        hcm_act_slot *s = mine_in(cli, &n->a, g);
        if (s != NULL) {
            if (ap)
                *ap = &n->a;
            return s;
        }
    }
    return NULL;
}

/* After reading a slot whose status read gave st: is it still this goal's?
 * (A finished goal's slot can be reused by another client's goal at any
 * time.) A reuser CASes the status to CLAIMED before it writes the new id,
 * so a status of FREE or CLAIMED means reuse even while the id is still
 * ours; any later status was published (release) after the new id. */
static int still_mine(hcm_action_client *cli, hcm_act_slot *s, hcm_goal g, uint32_t st)
{
    if (st == HCM_GSLOT_FREE || st == HCM_GSLOT_CLAIMED)
        return 0;
    /* acquire: orders the reads before this re-check of the id */
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->id, memory_order_relaxed) == g.id &&
           atomic_load_explicit(&s->client_token, memory_order_relaxed) == cli->token;
}

/* still_mine() on a fresh read of the status. */
static int still_mine_now(hcm_action_client *cli, hcm_act_slot *s, hcm_goal g)
{
    /* acquire: pairs with the release of every status transition */
    return still_mine(cli, s, g, atomic_load_explicit(&s->status, memory_order_acquire));
}

static int not_mine(hcm_goal g)
{
    return hcm__fail(HCM_EINVAL, "goal %llu is not a goal of this client (or its slot was "
                                 "reused after it ended)",
                     (unsigned long long)g.id);
}

int hcm_action_client_cancel(hcm_action_client *cli, hcm_goal g)
{
    hcm_act_slot *s;
    hcm_act *a;
    if (cli == NULL || (s = mine(cli, g, &a)) == NULL)
        return not_mine(g);
    uint32_t st0 = atomic_load_explicit(&s->status, memory_order_acquire);
    if (hcm_goal_status_is_final((hcm_goal_status)st0))
        return hcm__fail(HCM_EINVAL, "goal %llu already ended %s", (unsigned long long)g.id,
                         hcm_goal_status_name(public_status(st0)));
    /* (X1) release: the server's acquire load of the flag sees it; then a
     * seq_cst fence before reading the status (Dekker with accept(), which
     * re-reads the flag after its CAS): either we see ACCEPTED and move it
     * to CANCELING, or accept sees the flag and does. */
    atomic_store_explicit(&s->cancel_requested, 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    for (;;) {
        uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
        if (st == HCM_GOAL_PENDING) {
            atomic_store_explicit(&s->finish_ns, hcm__now_ns(), memory_order_relaxed);
            if (transition(s, st, HCM_GOAL_CANCELED)) {
                atomic_store_explicit(&a->pending[g.slot], 0, memory_order_relaxed);
                return HCM_OK;
            }
            continue;
        }
        if (st == HCM_GOAL_ACCEPTED || st == HCM_GOAL_EXECUTING) {
            if (transition(s, st, HCM_GOAL_CANCELING))
                return HCM_OK;
            continue;
        }
        if (st == HCM_GSLOT_TAKEN || st == HCM_GOAL_CANCELING) {
            notify(s); /* the flag is set; accept() or the executor will see it */
            return HCM_OK;
        }
        if (st == HCM_GOAL_CANCELED) /* ended by our flag meanwhile (accept, executor) */
            return HCM_OK;
        return hcm__fail(HCM_EINVAL, "goal %llu already ended %s", (unsigned long long)g.id,
                         hcm_goal_status_name(public_status(st)));
    }
}

void hcm_action_client_close(hcm_action_client *cli)
{
    if (cli == NULL)
        return;
    act_node *n = atomic_load_explicit(&cli->cur, memory_order_acquire);
    for (act_node *m = n; m != NULL; m = m->next) {
        hcm_act *a = &m->a;
        for (uint32_t i = 0; i < a->slot_count; i++) {
            hcm_act_slot *s = slot_of(a, i);
            if (atomic_load_explicit(&s->client, memory_order_relaxed) != cli->me ||
                atomic_load_explicit(&s->client_token, memory_order_relaxed) != cli->token)
                continue;
            uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
            if (st == HCM_GOAL_PENDING || st == HCM_GSLOT_TAKEN || running(st))
                hcm_action_client_cancel(
                    cli, (hcm_goal){i, atomic_load_explicit(&s->id, memory_order_relaxed)});
        }
    }
    while (n != NULL) {
        act_node *next = n->next;
        act_close(&n->a);
        free(n);
        n = next;
    }
    pthread_mutex_destroy(&cli->lock);
    free(cli);
}

/* Makes slot i ours after its status CAS to CLAIMED: the `client` word is
 * the tie-breaker with a thief (below). 1 if we own it. */
static int own(hcm_act_slot *s, uint64_t prev, uint64_t me)
{
    /* acq_rel: a thief that wins sees nothing of ours; we see the last use */
    return atomic_compare_exchange_strong_explicit(&s->client, &prev, me, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

/* A slot to reuse: FREE; else a finished goal whose result its client has
 * read, or that is past its retention; else (all slots hold finished goals
 * nobody collected) the oldest finished goal: retention is best effort when
 * slots run short, sending never blocks on it. Last, a slot left CLAIMED by
 * a client that died between claiming and sending: taken over by a CAS of
 * its `client` word from the dead identity, which a live claimer's own CAS
 * (from the value it saw before claiming) would have beaten. */
static int64_t claim(hcm_act *a, int64_t now, uint64_t me)
{
    int64_t oldest = -1, oldest_fin = 0;
    for (int pass = 0; pass < 4; pass++) {
        for (uint32_t i = 0; i < a->slot_count; i++) {
            if (pass == 2 && (int64_t)i != oldest)
                continue;
            hcm_act_slot *s = slot_of(a, i);
            uint32_t st = atomic_load_explicit(&s->status, memory_order_relaxed);
            uint64_t prev = atomic_load_explicit(&s->client, memory_order_acquire);
            if (pass == 3) {
                if (st != HCM_GSLOT_CLAIMED || prev == me || hcm__id_alive(prev))
                    continue;
                if (own(s, prev, me) &&
                    atomic_load_explicit(&s->status, memory_order_acquire) == HCM_GSLOT_CLAIMED)
                    return i;
                continue;
            }
            if (pass == 0 && st != HCM_GSLOT_FREE)
                continue;
            if (pass >= 1) {
                if (!hcm_goal_status_is_final((hcm_goal_status)st))
                    continue;
                int64_t fin = atomic_load_explicit(&s->finish_ns, memory_order_relaxed);
                if (pass == 1) {
                    if (oldest < 0 || fin < oldest_fin) {
                        oldest = i;
                        oldest_fin = fin;
                    }
                    if (!atomic_load_explicit(&s->collected, memory_order_relaxed) &&
                        now - fin < a->retention_ns)
                        continue;
                }
            }
            /* acquire: the slot's previous use is over */
            if (atomic_compare_exchange_strong_explicit(&s->status, &st, HCM_GSLOT_CLAIMED,
                                                        memory_order_acquire,
                                                        memory_order_relaxed) &&
                own(s, prev, me))
                return i; /* (a thief that won the client word owns it instead) */
        }
    }
    return -1;
}

int hcm_action_client_send(hcm_action_client *cli, const void *goal, size_t len, hcm_goal *gp,
                           int64_t timeout_ns)
{
    hcm_act *a;
    int rc;
    if (cli == NULL || gp == NULL || (goal == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_action_client_send: NULL argument");
    if ((rc = ensure(cli, &a)) != HCM_OK)
        return rc;
    if ((rc = check_size(a->goal_fixed, a->goal_max, len, "goal", cli->name.topic)) != HCM_OK)
        return rc;
    uint64_t server = atomic_load_explicit(&a->hdr->server, memory_order_acquire);
    int64_t now = hcm__now_ns();
    /* relaxed: a cache (see client_alive); written only after a successful check */
    int cached = server != 0 &&
                 atomic_load_explicit(&cli->live_server, memory_order_relaxed) == server &&
                 now - atomic_load_explicit(&cli->live_server_ns, memory_order_relaxed) <
                     LIVENESS_CHECK_NS;
    if (!cached) {
        if (server == 0 || !hcm__id_alive(server))
            return hcm__fail(HCM_EDEAD, "action '%s' has no live server", cli->name.topic);
        atomic_store_explicit(&cli->live_server, server, memory_order_relaxed);
        atomic_store_explicit(&cli->live_server_ns, now, memory_order_relaxed);
    }
    int64_t deadline = timeout_ns < 0 ? -1 : now + timeout_ns;
    int64_t i;
    while ((i = claim(a, now, cli->me)) < 0) {
        if (timeout_ns == 0 || (deadline >= 0 && now >= deadline))
            return hcm__fail(HCM_EBUSY, "action '%s': all %u goal slots are in use",
                             cli->name.topic, a->slot_count);
        struct timespec ts = {0, 1000000}; /* slots free at goal pace: poll every 1 ms */
        nanosleep(&ts, NULL);
        now = hcm__now_ns();
    }
    hcm_act_slot *s = slot_of(a, (uint32_t)i);
    uint64_t id = atomic_fetch_add_explicit(&a->hdr->next_id, 1, memory_order_relaxed) + 1;
    hcm__copy(goal_of(a, s), goal, len); /* s->client is ours already (claim) */
    atomic_store_explicit(&s->client_token, cli->token, memory_order_relaxed);
    atomic_store_explicit(&s->id, id, memory_order_relaxed);
    atomic_store_explicit(&s->server, 0, memory_order_relaxed);
    atomic_store_explicit(&s->cancel_requested, 0, memory_order_relaxed);
    atomic_store_explicit(&s->goal_len, len, memory_order_relaxed);
    atomic_store_explicit(&s->result_len, 0, memory_order_relaxed);
    atomic_store_explicit(&s->fb_seq, 0, memory_order_relaxed);
    atomic_store_explicit(&s->fb_len, 0, memory_order_relaxed);
    atomic_store_explicit(&s->finish_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&s->collected, 0, memory_order_relaxed);
    atomic_store_explicit(&s->orphaned, 0, memory_order_relaxed);
    /* (G1) release: the goal before PENDING */
    atomic_store_explicit(&s->status, HCM_GOAL_PENDING, memory_order_release);
    atomic_fetch_add_explicit(&s->events, 1, memory_order_relaxed);
    atomic_store_explicit(&a->pending[i], 1, memory_order_relaxed);
    /* (G2) fence, then the server's sleeper count */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&a->hdr->server_waiters, memory_order_relaxed) != 0) {
        atomic_fetch_add_explicit(&a->hdr->goal_futex, 1, memory_order_release);
        hcm__futex_wake_all(&a->hdr->goal_futex);
    }
    gp->slot = (uint32_t)i;
    gp->id = id;
    return HCM_OK;
}

int hcm_action_client_status(hcm_action_client *cli, hcm_goal g, hcm_goal_status *stp)
{
    hcm_act_slot *s;
    if (cli == NULL || stp == NULL || (s = mine(cli, g, NULL)) == NULL)
        return not_mine(g);
    /* (U2) acquire: pairs with the server's release */
    uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
    if (!still_mine(cli, s, g, st))
        return not_mine(g);
    *stp = public_status(st);
    return HCM_OK;
}

struct wait_ctx {
    hcm_act_slot *s;
    uint32_t seen;
};

static int changed(void *p)
{
    struct wait_ctx *w = p;
    return atomic_load_explicit(&w->s->events, memory_order_relaxed) != w->seen;
}

/* Is the party that must move this goal forward still there? */
static int goal_orphaned(const hcm_act *a, hcm_act_slot *s)
{
    uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
    if (hcm_goal_status_is_final((hcm_goal_status)st))
        return 0;
    uint64_t who = st == HCM_GOAL_PENDING
                       ? atomic_load_explicit(&a->hdr->server, memory_order_acquire)
                       : atomic_load_explicit(&s->server, memory_order_relaxed);
    /* take() CASes PENDING->TAKEN before it records itself in s->server
     * (reset to 0 by send): in that gap the taker is the segment's server */
    if (who == 0 && st == HCM_GSLOT_TAKEN)
        who = atomic_load_explicit(&a->hdr->server, memory_order_acquire);
    return who == 0 || !hcm__id_alive(who);
}

static int wait_change(hcm_action_client *cli, const hcm_act *a, hcm_act_slot *s, hcm_goal g,
                       uint32_t seen, int64_t deadline)
{
    /* The liveness check time is the client's, not this call's: a caller
     * polling with short timeouts still gets its check every 50 ms. */
    int64_t now = hcm__now_ns(), start = now;
    int64_t next_check = atomic_load_explicit(&cli->next_check, memory_order_relaxed);
    if (next_check == 0 || next_check > now + LIVENESS_CHECK_NS)
        next_check = now; /* never checked (or a stale value): check now */
    struct wait_ctx w = {s, seen};
    for (unsigned iter = 0;; iter++) {
        /* (U2) acquire: pairs with notify's release bump */
        if (atomic_load_explicit(&s->events, memory_order_acquire) != seen)
            return still_mine_now(cli, s, g) ? HCM_OK : not_mine(g);
        if ((iter & 15) == 0 || now - start >= HCM__SVC_PAUSE_NS)
            now = hcm__now_ns();
        if (now >= next_check) {
            if (!still_mine_now(cli, s, g))
                return not_mine(g);
            if (goal_orphaned(a, s)) {
                /* End it here, ABORTED, so that no later server runs a goal
                 * whose client was told it failed. */
                uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
                if (!hcm_goal_status_is_final((hcm_goal_status)st)) {
                    /* relaxed: published by the CAS below; undone if it fails
                     * (readers trust the flag only with status ABORTED) */
                    atomic_store_explicit(&s->orphaned, 1, memory_order_relaxed);
                    if (!transition(s, st, HCM_GOAL_ABORTED)) {
                        atomic_store_explicit(&s->orphaned, 0, memory_order_relaxed);
                        continue; /* it moved meanwhile (a live server): look again */
                    }
                    /* a half-written result of the dead server is not one;
                     * relaxed: result() never reads it for an orphaned goal */
                    atomic_store_explicit(&s->result_len, 0, memory_order_relaxed);
                    atomic_store_explicit(&s->finish_ns, now, memory_order_relaxed);
                }
                return hcm__fail(HCM_EDEAD, "the server of action '%s' died before finishing "
                                            "the goal",
                                 cli->name.topic);
            }
            next_check = now + LIVENESS_CHECK_NS;
            atomic_store_explicit(&cli->next_check, next_check, memory_order_relaxed);
        }
        if (deadline >= 0 && now >= deadline)
            return still_mine_now(cli, s, g) ? HCM_ETIMEDOUT : not_mine(g);
        if (cli->spin_ns != 0 && (cli->spin_ns < 0 || now - start < cli->spin_ns)) {
            if (now - start < HCM__SVC_PAUSE_NS)
                hcm__cpu_relax();
            else
                sched_yield();
            continue;
        }
        int64_t until = next_check;
        if (deadline >= 0 && deadline < until)
            until = deadline;
        /* (U4) waiting = 1, fence, re-check, sleep; pairs with (U3) */
        if (hcm__svc_sleep(&s->events, seen, &s->waiting, changed, &w, until) == EINTR)
            return hcm__fail(HCM_EINTR, "wait on action '%s' interrupted by a signal",
                             cli->name.topic);
        now = hcm__now_ns();
    }
}

int hcm_action_client_wait(hcm_action_client *cli, hcm_goal g, uint32_t *eventsp,
                           int64_t timeout_ns)
{
    hcm_act_slot *s;
    hcm_act *a;
    if (cli == NULL || eventsp == NULL || (s = mine(cli, g, &a)) == NULL)
        return not_mine(g);
    int64_t deadline = timeout_ns < 0 ? -1 : hcm__now_ns() + timeout_ns;
    int rc = wait_change(cli, a, s, g, *eventsp, deadline);
    *eventsp = atomic_load_explicit(&s->events, memory_order_acquire);
    return rc;
}

int hcm_action_client_feedback(hcm_action_client *cli, hcm_goal g, void *buf, size_t cap,
                               size_t *lenp, uint64_t *seqp)
{
    hcm_act_slot *s;
    hcm_act *a;
    if (cli == NULL || lenp == NULL || seqp == NULL || (buf == NULL && cap != 0) ||
        (s = mine(cli, g, &a)) == NULL)
        return not_mine(g);
    for (int tries = 0; tries < 64; tries++) {
        /* (F2) acquire: pairs with the even store of (F1) */
        uint64_t v = atomic_load_explicit(&s->fb_seq, memory_order_acquire);
        if (v & 1) {
            hcm__cpu_relax(); /* being written */
            continue;
        }
        uint64_t n = v / 2;
        if (n <= *seqp)
            return HCM_EAGAIN;
        uint64_t len = atomic_load_explicit(&s->fb_len, memory_order_relaxed);
        if (len > a->fb_max)
            return hcm__fail(HCM_ECORRUPT, "feedback length %llu out of range",
                             (unsigned long long)len);
        if (len > cap) {
            *lenp = (size_t)len;
            return hcm__fail(HCM_EMSGSIZE, "feedback of %llu bytes; buffer holds %zu",
                             (unsigned long long)len, cap);
        }
        hcm__racy_copy(buf, fb_of(a, s), (size_t)len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->fb_seq, memory_order_relaxed) != v)
            continue; /* a newer one came while copying */
        if (!still_mine_now(cli, s, g))
            return not_mine(g);
        *lenp = (size_t)len;
        *seqp = n;
        return HCM_OK;
    }
    return HCM_EAGAIN;
}

/* st: the final status the caller read (acquire), which published these */
static int read_result(const hcm_act *a, hcm_act_slot *s, uint32_t st, void *buf, size_t cap,
                       size_t *lenp, hcm_goal_status *stp)
{
    uint64_t len = atomic_load_explicit(&s->result_len, memory_order_relaxed);
    if (len > a->result_max)
        return hcm__fail(HCM_ECORRUPT, "result length %llu out of range", (unsigned long long)len);
    *stp = public_status(st);
    *lenp = (size_t)len;
    if (len > cap)
        return hcm__fail(HCM_EMSGSIZE, "result of %llu bytes; buffer holds %zu",
                         (unsigned long long)len, cap);
    hcm__copy(buf, result_of(a, s), (size_t)len);
    return HCM_OK;
}

int hcm_action_client_result(hcm_action_client *cli, hcm_goal g, void *buf, size_t cap,
                             size_t *lenp, hcm_goal_status *stp, int64_t timeout_ns)
{
    hcm_act_slot *s;
    hcm_act *a;
    if (cli == NULL || lenp == NULL || stp == NULL || (buf == NULL && cap != 0) ||
        (s = mine(cli, g, &a)) == NULL)
        return not_mine(g);
    int64_t deadline = timeout_ns < 0 ? -1 : hcm__now_ns() + timeout_ns;
    for (;;) {
        uint32_t seen = atomic_load_explicit(&s->events, memory_order_acquire);
        uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
        if (!still_mine(cli, s, g, st)) /* the status read may be another goal's */
            return not_mine(g);
        if (hcm_goal_status_is_final((hcm_goal_status)st)) {
            if (st == HCM_GOAL_ABORTED &&
                atomic_load_explicit(&s->orphaned, memory_order_relaxed)) {
                *stp = HCM_GOAL_ABORTED;
                *lenp = 0;
                return hcm__fail(HCM_EDEAD, "the server of action '%s' died before finishing "
                                            "the goal",
                                 cli->name.topic);
            }
            int rc = read_result(a, s, st, buf, cap, lenp, stp);
            if (!still_mine_now(cli, s, g))
                return not_mine(g);
            if (rc == HCM_OK) /* relaxed: a hint for slot reuse */
                atomic_store_explicit(&s->collected, 1, memory_order_relaxed);
            return rc;
        }
        int rc = wait_change(cli, a, s, g, seen, deadline);
        if (rc == HCM_EDEAD) { /* wait_change ended it ABORTED */
            *stp = HCM_GOAL_ABORTED;
            *lenp = 0;
        }
        if (rc != HCM_OK)
            return rc;
    }
}

int hcm_action_client_query(hcm_action_client *cli, uint64_t goal_id, hcm_goal_status *stp,
                            void *buf, size_t cap, size_t *lenp)
{
    hcm_act *a;
    int rc;
    if (cli == NULL || stp == NULL || lenp == NULL || (buf == NULL && cap != 0))
        return hcm__fail(HCM_EINVAL, "hcm_action_client_query: NULL argument");
    if ((rc = ensure(cli, &a)) != HCM_OK)
        return rc;
    for (uint32_t i = 0; i < a->slot_count; i++) {
        hcm_act_slot *s = slot_of(a, i);
        if (atomic_load_explicit(&s->id, memory_order_acquire) != goal_id)
            continue;
        uint32_t st = atomic_load_explicit(&s->status, memory_order_acquire);
        if (st == HCM_GSLOT_FREE || st == HCM_GSLOT_CLAIMED)
            continue;
        if (!hcm_goal_status_is_final((hcm_goal_status)st)) {
            *stp = public_status(st);
            *lenp = 0;
            return HCM_OK;
        }
        rc = read_result(a, s, st, buf, cap, lenp, stp);
        /* the slot may have been reused meanwhile: trust only a stable id
         * and a status no reuser has claimed (see still_mine) */
        atomic_thread_fence(memory_order_acquire); /* orders the copy before the re-check */
        uint32_t st2 = atomic_load_explicit(&s->status, memory_order_relaxed);
        if (atomic_load_explicit(&s->id, memory_order_relaxed) != goal_id ||
            st2 == HCM_GSLOT_FREE || st2 == HCM_GSLOT_CLAIMED)
            break;
        return rc;
    }
    return hcm__fail(HCM_ENOENT, "action '%s' holds no goal %llu (never sent, or its result "
                                 "was not kept)",
                     cli->name.topic, (unsigned long long)goal_id);
}

int hcm_action_unlink(const char *domain, const char *action)
{
    hcm_seg_name name;
    hcm_act a;
    int rc;
    hcm__clear_error();
    if ((rc = hcm__name_make(&name, domain, 'a', action)) != HCM_OK)
        return rc;
    rc = act_open(&a, &name, 1);
    if (rc == HCM_OK) {
        rc = hcm__file_retire(&a.f, &name, &a.hdr->state, HCM_SEG_STATE_RETIRED, NULL);
        act_close(&a);
        return rc;
    }
    if (rc == HCM_ECORRUPT || rc == HCM_EPERM) {
        hcm__clear_error();
        if (unlink(name.path) == 0)
            return HCM_OK;
        return hcm__fail_sys(errno, "unlink %s", name.path);
    }
    return rc;
}

/* ---- inspection (hcm/inspect.h) ------------------------------------------------ */

/* Fills *info from an open action; `tally` (may be NULL) receives the client
 * identities of its slots. */
static int act_fill(hcm_action_info *info, const hcm_act *a, hcm__tally *tally)
{
    const hcm_act_header *h = a->hdr;
    hcm__tally local;
    size_t n = 0;
    int rc;
    if (tally == NULL) {
        if ((rc = hcm__tally_init(&local, a->slot_count)) != HCM_OK)
            return rc;
        tally = &local;
    }
    info->goal_type = a->goal_type;
    info->feedback_type = a->fb_type;
    info->result_type = a->result_type;
    info->goal_max = a->goal_max;
    info->feedback_max = a->fb_max;
    info->result_max = a->result_max;
    info->slots = a->slot_count;
    /* acquire: pairs with the server's release store of its identity */
    uint64_t server = atomic_load_explicit(&h->server, memory_order_acquire);
    info->server_pid = server == HCM_SERVER_RECLAIMED ? 0 : hcm__id_pid(server);
    info->server_alive = server != 0 && hcm__id_alive(server);
    /* relaxed: statistics for a listing */
    info->server_generation = atomic_load_explicit(&h->server_gen, memory_order_relaxed);
    info->goals_sent = atomic_load_explicit(&h->next_id, memory_order_relaxed);
    for (uint32_t i = 0; i < a->slot_count; i++) {
        hcm_act_slot *s = slot_of(a, i);
        /* relaxed: a snapshot for tools; nothing is read through these */
        uint32_t st = atomic_load_explicit(&s->status, memory_order_relaxed);
        if (st == HCM_GSLOT_FREE)
            continue;
        if (st == HCM_GOAL_PENDING || st == HCM_GSLOT_TAKEN || st == HCM_GSLOT_CLAIMED)
            info->pending++;
        else if (st == HCM_GOAL_ACCEPTED || st == HCM_GOAL_EXECUTING || st == HCM_GOAL_CANCELING)
            info->active++;
        else if (st >= HCM_GOAL_SUCCEEDED && st <= HCM_GOAL_REJECTED)
            info->finished++;
        if (st < HCM_GOAL_SUCCEEDED || st > HCM_GOAL_REJECTED) /* finished goals hold nobody */
            hcm__tally_add(tally, atomic_load_explicit(&s->client, memory_order_relaxed));
    }
    info->clients_alive = hcm__tally_peers(tally, NULL, 0, &n);
    info->stale = !info->server_alive && info->clients_alive == 0;
    info->create_time_ns = h->create_time_ns;
    info->size = a->f.size;
    info->mode = a->f.mode;
    info->uid = (uint32_t)a->f.uid;
    if (tally == &local)
        hcm__tally_free(&local);
    return HCM_OK;
}

static int act_examine(const hcm_seg_name *name, void *info, hcm__tally *tally,
                       uint64_t *serverp, int reclaim, int *retiredp)
{
    hcm_action_info *ai = info;
    hcm_act a;
    int rc = act_open(&a, name, reclaim); /* read-only to look */
    if (rc != HCM_OK)
        return rc;
    if (tally != NULL && (rc = hcm__tally_init(tally, a.slot_count)) != HCM_OK)
        goto out;
    if ((rc = act_fill(ai, &a, tally)) != HCM_OK) {
        if (tally != NULL)
            hcm__tally_free(tally);
        goto out;
    }
    if (serverp != NULL)
        /* acquire: pairs with the server's release store of its identity */
        *serverp = atomic_load_explicit(&a.hdr->server, memory_order_acquire);
    if (reclaim && ai->stale && hcm__condemn(&a.hdr->server) &&
        hcm__file_retire(&a.f, name, &a.hdr->state, HCM_SEG_STATE_RETIRED, NULL) == HCM_OK)
        *retiredp = 1;
out:
    act_close(&a);
    return rc;
}

const hcm__inspector hcm__action_inspector = {
    'a',
    sizeof(hcm_action_info),
    offsetof(hcm_action_info, size),
    offsetof(hcm_action_info, mode),
    offsetof(hcm_action_info, uid),
    act_examine,
};

int hcm_action_stat(const char *domain, const char *action, hcm_action_info *infop)
{
    return hcm__inspect_stat(&hcm__action_inspector, domain, action, infop);
}

int hcm_action_list(const char *domain, hcm_action_info **infosp, size_t *countp)
{
    return hcm__inspect_list(&hcm__action_inspector, domain, (void **)infosp, countp);
}

void hcm_action_list_free(hcm_action_info *infos)
{
    free(infos);
}

int hcm_action_reclaim(const char *domain, size_t *countp)
{
    return hcm__inspect_reclaim(&hcm__action_inspector, domain, countp);
}
