/* service/admin.c - inspecting and reclaiming service segments. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    info->server_pid = hcm__id_pid(server);
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

static int stat_one(const hcm_seg_name *name, void *p)
{
    hcm_service_info *info = p;
    hcm_svc svc;
    struct stat st;
    int rc;
    memset(info, 0, sizeof *info);
    memcpy(info->name, name->topic, strlen(name->topic) + 1);
    memcpy(info->domain, name->domain, strlen(name->domain) + 1);
    rc = hcm__svc_open(&svc, name);
    if (rc == HCM_OK) {
        rc = fill(info, &svc, NULL);
        hcm__svc_close(&svc);
        if (rc == HCM_OK)
            return HCM_OK;
    }
    if (rc == HCM_ENOENT)
        return rc;
    info->error = rc;
    if (stat(name->path, &st) == 0) {
        info->size = (uint64_t)st.st_size;
        info->mode = (uint32_t)(st.st_mode & 07777);
        info->uid = (uint32_t)st.st_uid;
    }
    return rc;
}

int hcm_service_stat(const char *domain, const char *service, hcm_service_info *infop)
{
    hcm_seg_name name;
    int rc;
    hcm__clear_error();
    if (infop == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_service_stat: infop is NULL");
    if ((rc = hcm__name_make(&name, domain, 's', service)) != HCM_OK)
        return rc;
    return stat_one(&name, infop);
}

int hcm_service_list(const char *domain, hcm_service_info **infosp, size_t *countp)
{
    hcm__clear_error();
    if (infosp == NULL || countp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_service_list: NULL argument");
    return hcm__list_collect(domain, 's', sizeof **infosp, stat_one, (void **)infosp, countp);
}

void hcm_service_list_free(hcm_service_info *infos)
{
    free(infos);
}

int hcm__service_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap, size_t *countp)
{
    hcm_svc svc;
    hcm_service_info info;
    hcm__tally tally;
    size_t n = 0;
    int rc = hcm__svc_open(&svc, name);
    if (rc != HCM_OK)
        return rc;
    if ((rc = hcm__tally_init(&tally, svc.slot_count)) == HCM_OK) {
        memset(&info, 0, sizeof info);
        if ((rc = fill(&info, &svc, &tally)) == HCM_OK) {
            /* acquire: pairs with the server's release store of its identity (V1) */
            hcm__server_peer(atomic_load_explicit(&svc.hdr->server, memory_order_acquire), peers,
                             cap, &n);
            hcm__tally_peers(&tally, peers, cap, &n);
            *countp = n;
        }
        hcm__tally_free(&tally);
    }
    hcm__svc_close(&svc);
    return rc;
}

struct reclaim_ctx {
    size_t count;
};

static int reclaim_one(const hcm_seg_name *name, void *p)
{
    struct reclaim_ctx *c = p;
    hcm_service_info info;
    hcm_svc svc;
    if (hcm__svc_open(&svc, name) != HCM_OK) {
        hcm__clear_error(); /* not ours to judge: leave it */
        return HCM_OK;
    }
    memset(&info, 0, sizeof info);
    if (fill(&info, &svc, NULL) == HCM_OK && info.stale &&
        hcm__file_retire(&svc.f, name, &svc.hdr->state, HCM_SEG_STATE_RETIRED, NULL) == HCM_OK)
        c->count++;
    hcm__clear_error();
    hcm__svc_close(&svc);
    return HCM_OK;
}

int hcm_service_reclaim(const char *domain, size_t *countp)
{
    struct reclaim_ctx c = {0};
    int rc;
    hcm__clear_error();
    rc = hcm__seg_scan(domain, 's', reclaim_one, &c);
    if (countp)
        *countp = c.count;
    return rc;
}
