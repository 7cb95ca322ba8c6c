/* service/svc.c - service segments: create, validate, shared helpers. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/error_internal.h"
#include "service/svc.h"
#include "sync/sync.h"

#define ROUND64(x) (((x) + HCM_SEG_LINE - 1) / HCM_SEG_LINE * HCM_SEG_LINE)

static uint64_t stride_of(uint64_t req_max, uint64_t resp_max)
{
    return ROUND64(HCM_SVC_SLOT_HEADER + ROUND64(req_max) + resp_max);
}

/* Offset of the first slot: the header, then one hint byte per slot. */
static uint64_t slots_offset(uint64_t slots)
{
    return HCM_SVC_SLOTS_OFFSET(slots);
}

static void set_pointers(hcm_svc *svc, void *base, uint32_t slots)
{
    svc->hdr = base;
    svc->pending = (_Atomic uint8_t *)((unsigned char *)base + HCM_SVC_HEADER_SIZE);
    svc->slots = (unsigned char *)base + slots_offset(slots);
}

static int validate(hcm_svc *svc, const hcm_svc_header *h, uint64_t file_size, const char *path)
{
    uint64_t stride, need;
    if (h->magic != HCM_SVC_MAGIC)
        return hcm__fail(HCM_ECORRUPT, "%s: bad magic 0x%016llx (not an hcm service segment)",
                         path, (unsigned long long)h->magic);
    if (h->version != HCM_SVC_VERSION)
        return hcm__fail(HCM_ECORRUPT, "%s: layout version %u, this library reads version %u",
                         path, h->version, HCM_SVC_VERSION);
    if (h->header_size != HCM_SVC_HEADER_SIZE || h->seg_kind != HCM_SEG_KIND_SERVICE)
        return hcm__fail(HCM_ECORRUPT, "%s: header size %u / kind %u, expected %u / %u", path,
                         h->header_size, h->seg_kind, HCM_SVC_HEADER_SIZE, HCM_SEG_KIND_SERVICE);
    if (h->slot_count < 1 || h->slot_count > HCM_MAX_QUEUE)
        return hcm__fail(HCM_ECORRUPT, "%s: %u call slots, outside 1..%u", path, h->slot_count,
                         HCM_MAX_QUEUE);
    if (h->request_max < 1 || h->request_max > HCM_MAX_PAYLOAD || h->response_max < 1 ||
        h->response_max > HCM_MAX_PAYLOAD)
        return hcm__fail(HCM_ECORRUPT, "%s: request/response max %llu/%llu out of range", path,
                         (unsigned long long)h->request_max, (unsigned long long)h->response_max);
    stride = stride_of(h->request_max, h->response_max);
    if (h->slot_stride != stride)
        return hcm__fail(HCM_ECORRUPT, "%s: slot stride %u, expected %llu", path, h->slot_stride,
                         (unsigned long long)stride);
    need = slots_offset(h->slot_count) + (uint64_t)h->slot_count * stride; /* < 2^12 * 2^34 */
    if (h->total_size != need || file_size != need)
        return hcm__fail(HCM_ECORRUPT, "%s: sizes disagree: header %llu, slots need %llu, file %llu",
                         path, (unsigned long long)h->total_size, (unsigned long long)need,
                         (unsigned long long)file_size);
    if (hcm_type_validate(&h->request_type) != HCM_OK ||
        hcm_type_validate(&h->response_type) != HCM_OK)
        return hcm__fail(HCM_ECORRUPT, "%s: invalid type descriptor", path);
    svc->slot_count = h->slot_count;
    svc->stride = h->slot_stride;
    svc->req_max = h->request_max;
    svc->resp_max = h->response_max;
    svc->req_type = h->request_type;
    svc->resp_type = h->response_type;
    svc->req_fixed = hcm_type_fixed_size(&svc->req_type);
    svc->resp_fixed = hcm_type_fixed_size(&svc->resp_type);
    return HCM_OK;
}

int hcm__svc_open(hcm_svc *svc, const hcm_seg_name *name, int writable)
{
    hcm_svc_header snap;
    int rc;
    memset(svc, 0, sizeof *svc);
    if ((rc = hcm__file_open(&svc->f, name, writable, HCM_SVC_HEADER_SIZE)) != HCM_OK)
        return rc;
    memcpy(&snap, svc->f.base, sizeof snap); /* validate a private copy */
    if ((rc = validate(svc, &snap, svc->f.size, name->path)) != HCM_OK) {
        hcm__file_close(&svc->f);
        return rc;
    }
    set_pointers(svc, svc->f.base, svc->slot_count);
    return HCM_OK;
}

int hcm__svc_create(hcm_svc *svc, const hcm_seg_name *name, const hcm_type *req_type,
                    uint64_t req_max, const hcm_type *resp_type, uint64_t resp_max,
                    uint32_t slots, uint32_t mode, uint64_t server)
{
    hcm_new_file nf;
    hcm_svc_header *h;
    uint64_t stride = stride_of(req_max, resp_max);
    uint64_t total = slots_offset(slots) + (uint64_t)slots * stride;
    int rc;
    memset(svc, 0, sizeof *svc);
    if (stride > UINT32_MAX)
        return hcm__fail(HCM_ENOMEM, "service '%s': slots of %llu bytes are too large",
                         name->topic, (unsigned long long)stride);
    if ((rc = hcm__file_create(&svc->f, &nf, name, total, mode)) != HCM_OK)
        return rc;
    h = svc->f.base; /* fresh, zero-filled, unnamed: plain stores */
    h->magic = HCM_SVC_MAGIC;
    h->version = HCM_SVC_VERSION;
    h->header_size = HCM_SVC_HEADER_SIZE;
    h->total_size = total;
    h->slot_count = slots;
    h->slot_stride = (uint32_t)stride;
    h->request_max = req_max;
    h->response_max = resp_max;
    h->create_time_ns = hcm__realtime_ns();
    h->seg_kind = HCM_SEG_KIND_SERVICE;
    h->request_type = *req_type;
    h->response_type = *resp_type;
    atomic_store_explicit(&h->state, HCM_SEG_STATE_LIVE, memory_order_relaxed);
    atomic_store_explicit(&h->server, server, memory_order_relaxed);
    atomic_store_explicit(&h->server_gen, 1, memory_order_relaxed);
    if ((rc = hcm__file_link(&svc->f, &nf, name)) != HCM_OK)
        return rc;
    set_pointers(svc, h, slots);
    svc->slot_count = slots;
    svc->stride = (uint32_t)stride;
    svc->req_max = req_max;
    svc->resp_max = resp_max;
    svc->req_type = *req_type;
    svc->resp_type = *resp_type;
    svc->req_fixed = hcm_type_fixed_size(req_type);
    svc->resp_fixed = hcm_type_fixed_size(resp_type);
    return HCM_OK;
}

void hcm__svc_close(hcm_svc *svc)
{
    if (svc == NULL || svc->hdr == NULL)
        return;
    hcm__file_close(&svc->f);
    memset(svc, 0, sizeof *svc);
}

void hcm__svc_wake_client(hcm_svc_slot *s)
{
    /* (S4) seq_cst fence between the final state store and the waiting
     * load; pairs with (C4) in the client: either it sees the final state
     * before sleeping, or we see waiting == 1 and wake it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->waiting, memory_order_relaxed) != 0)
        hcm__futex_wake_all(&s->state);
}

void hcm__svc_free_slot(hcm_svc *svc, hcm_svc_slot *s)
{
    hcm_svc_header *h = svc->hdr;
    /* (F1) release: whoever claims the slot next sees our last use of it
     * finished; then a seq_cst fence before reading free_waiters (pairs
     * with (F2)). */
    atomic_store_explicit(&s->state, HCM_SLOT_FREE, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&h->free_waiters, memory_order_relaxed) != 0) {
        /* release: the bump is what a sleeper's futex compare sees change */
        atomic_fetch_add_explicit(&h->free_futex, 1, memory_order_release);
        hcm__futex_wake_all(&h->free_futex);
    }
}

int hcm__svc_sleep(_Atomic uint32_t *word, uint32_t expect, _Atomic uint32_t *waiters,
                   int (*ready)(void *), void *ctx, int64_t deadline_ns)
{
    int rc = 0;
    /* relaxed increment, then a seq_cst fence before re-checking: the
     * waker's fence-then-load of *waiters pairs with it (Dekker). */
    atomic_fetch_add_explicit(waiters, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    if (!ready(ctx))
        rc = hcm__futex_wait(word, expect, deadline_ns);
    /* relaxed: a hint for wakers only */
    atomic_fetch_sub_explicit(waiters, 1, memory_order_relaxed);
    return rc;
}

int hcm_service_unlink(const char *domain, const char *service)
{
    hcm_seg_name name;
    hcm_svc svc;
    int rc;
    hcm__clear_error();
    if ((rc = hcm__name_make(&name, domain, 's', service)) != HCM_OK)
        return rc;
    rc = hcm__svc_open(&svc, &name, 1);
    if (rc == HCM_OK) {
        rc = hcm__file_retire(&svc.f, &name, &svc.hdr->state, HCM_SEG_STATE_RETIRED, NULL);
        hcm__svc_close(&svc);
        return rc;
    }
    if (rc == HCM_ECORRUPT || rc == HCM_EPERM) { /* not mappable: remove the name anyway */
        hcm__clear_error();
        if (unlink(name.path) == 0)
            return HCM_OK;
        return hcm__fail_sys(errno, "unlink %s", name.path);
    }
    return rc;
}
