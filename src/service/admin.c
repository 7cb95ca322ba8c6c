/* service/admin.c - inspecting and reclaiming service segments. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "common/inspect_internal.h"
#include "segment/owner.h"
#include "service/svc.h"

/* Fills *info from an open service; `tally` (may be NULL) receives the
 * client identities of its slots. */
static int fill(hcm_service_info *info, const hcm_svc *svc, hcm__tally *tally)
{
    const hcm_svc_header *h = svc->hdr;
    hcm__tally local;
    int rc;
    if (tally == NULL) {
        if ((rc = hcm__tally_init(&local, svc->slot_count)) != HCM_OK)
            return rc;
        tally = &local;
    }
    info->request_type = svc->req_type;
    info->response_type = svc->resp_type;
    info->request_max = svc->req_max;
    info->response_max = svc->resp_max;
    info->queue_size = svc->slot_count;
    /* acquire: pairs with the server's release store of its identity (V1) */
    uint64_t server = atomic_load_explicit(&h->server, memory_order_acquire);
    info->server_pid = server == HCM_SERVER_RECLAIMED ? 0 : hcm__id_pid(server);
    info->server_alive = server != 0 && hcm__id_alive(server);
    /* relaxed: statistics for a listing */
    info->server_generation = atomic_load_explicit(&h->server_gen, memory_order_relaxed);
    info->calls_sent = atomic_load_explicit(&h->next_id, memory_order_relaxed);
    info->calls_answered = atomic_load_explicit(&h->calls, memory_order_relaxed);
    for (uint32_t i = 0; i < svc->slot_count; i++) {
        hcm_svc_slot *s = hcm__svc_slot(svc, i);
        /* relaxed: a snapshot for tools; nothing is read through these */
        uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
        if (st == HCM_SLOT_FREE)
            continue;
        if (st == HCM_SLOT_REQUESTED)
            info->pending++;
        else if (st == HCM_SLOT_PROCESSING || st == HCM_SLOT_REPLYING || st == HCM_SLOT_ABANDONED)
            info->in_progress++;
        if (st != HCM_SLOT_ABANDONED) /* its client gave it up: the server holds it */
            hcm__tally_add(tally, atomic_load_explicit(&s->client, memory_order_relaxed));
    }
    size_t n = 0;
    info->clients_alive = hcm__tally_peers(tally, NULL, 0, &n);
    info->stale = !info->server_alive && info->clients_alive == 0;
    info->create_time_ns = h->create_time_ns;
    info->size = svc->f.size;
    info->mode = svc->f.mode;
    info->uid = (uint32_t)svc->f.uid;
    if (tally == &local)
        hcm__tally_free(&local);
    return HCM_OK;
}

static int examine(const hcm_seg_name *name, void *info, hcm__tally *tally, uint64_t *serverp,
                   int reclaim, int *retiredp)
{
    hcm_service_info *si = info;
    hcm_svc svc;
    int rc = hcm__svc_open(&svc, name, reclaim); /* read-only to look */
    if (rc != HCM_OK)
        return rc;
    if (tally != NULL && (rc = hcm__tally_init(tally, svc.slot_count)) != HCM_OK)
        goto out;
    if ((rc = fill(si, &svc, tally)) != HCM_OK) {
        if (tally != NULL)
            hcm__tally_free(tally);
        goto out;
    }
    if (serverp != NULL)
        /* acquire: pairs with the server's release store of its identity (V1) */
        *serverp = atomic_load_explicit(&svc.hdr->server, memory_order_acquire);
    if (reclaim && si->stale && hcm__condemn(&svc.hdr->server) &&
        hcm__file_retire(&svc.f, name, &svc.hdr->state, HCM_SEG_STATE_RETIRED, NULL) == HCM_OK)
        *retiredp = 1;
out:
    hcm__svc_close(&svc);
    return rc;
}

const hcm__inspector hcm__service_inspector = {
    's',
    sizeof(hcm_service_info),
    offsetof(hcm_service_info, size),
    offsetof(hcm_service_info, mode),
    offsetof(hcm_service_info, uid),
    examine,
};

int hcm_service_stat(const char *domain, const char *service, hcm_service_info *infop)
{
    return hcm__inspect_stat(&hcm__service_inspector, domain, service, infop);
}

int hcm_service_list(const char *domain, hcm_service_info **infosp, size_t *countp)
{
    return hcm__inspect_list(&hcm__service_inspector, domain, (void **)infosp, countp);
}

void hcm_service_list_free(hcm_service_info *infos)
{
    free(infos);
}

int hcm_service_reclaim(const char *domain, size_t *countp)
{
    return hcm__inspect_reclaim(&hcm__service_inspector, domain, countp);
}
