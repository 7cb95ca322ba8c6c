/* topic/admin.c - listing, inspecting, unlinking and reclaiming topics. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error_internal.h"
#include "common/inspect_internal.h"
#include "segment/owner.h"
#include "segment/segment.h"

/* Live subscribers' lines: how many, the largest lag, their losses. */
static void readers_stat(const hcm_seg *seg, uint64_t write_seq, uint32_t *alivep,
                         uint64_t *max_lagp, uint64_t *lostp)
{
    uint32_t alive = 0;
    uint64_t max_lag = 0, lost = 0;
    for (uint32_t i = 0; i < HCM_SEG_READERS; i++) {
        const hcm_seg_reader *r = &seg->hdr->readers[i];
        /* acquire: pairs with the release of the claim CAS, so the numbers
         * below are this holder's (later updates are relaxed statistics) */
        uint64_t id = atomic_load_explicit(&r->id, memory_order_acquire);
        if (id == 0 || !hcm__id_alive(id))
            continue;
        uint64_t next = atomic_load_explicit(&r->next_seq, memory_order_relaxed);
        alive++;
        if (next < write_seq && write_seq - next > max_lag)
            max_lag = write_seq - next;
        lost += atomic_load_explicit(&r->lost, memory_order_relaxed);
    }
    *alivep = alive;
    *max_lagp = max_lag;
    *lostp = lost;
}

static void fill_from_seg(hcm_topic_info *info, const hcm_seg *seg)
{
    const hcm_seg_header *h = seg->hdr;
    info->type = seg->type;
    info->slots = seg->slot_count;
    info->max_payload = seg->max_payload;
    hcm__seg_owners(seg, &info->owners, &info->owners_alive, &info->publishers);
    /* relaxed: statistics; a slightly old value is fine for a listing */
    info->publish_count = atomic_load_explicit(&h->write_seq, memory_order_relaxed);
    if (info->publish_count > HCM_SEG_SEQ_MAX) /* untrusted: keep the arithmetic sane */
        info->publish_count = HCM_SEG_SEQ_MAX;
    readers_stat(seg, info->publish_count, &info->subscribers, &info->max_lag, &info->lost);
    info->stale = info->owners_alive == 0 && info->subscribers == 0;
    if (info->publish_count > 0) {
        const hcm_seg_slot *slot = hcm__seg_slot(seg, info->publish_count - 1);
        /* relaxed: a statistic; clamped, since the slot may be mid-rewrite or damaged */
        uint64_t len = atomic_load_explicit(&slot->len, memory_order_relaxed);
        info->last_len = len <= seg->max_payload ? len : 0;
    }
    info->last_publish_ns = atomic_load_explicit(&h->last_publish_ns, memory_order_relaxed);
    info->lock_steals = atomic_load_explicit(&h->lock_steals, memory_order_relaxed);
    info->create_time_ns = h->create_time_ns;
    info->size = seg->map_size;
    info->mode = seg->mode;
    info->uid = (uint32_t)seg->uid;
}

static int examine(const hcm_seg_name *name, void *info, hcm__tally *tally, uint64_t *serverp,
                   int reclaim, int *retiredp)
{
    hcm_topic_info *ti = info;
    hcm_seg seg;
    int rc;
    (void)tally; /* a topic's peers are its owners and readers: hcm__topic_peers */
    (void)serverp;
    /* read-only to look; read-write to retire */
    if ((rc = hcm__seg_open(&seg, name, reclaim)) != HCM_OK)
        return rc;
    fill_from_seg(ti, &seg);
    if (reclaim && ti->stale && hcm__seg_retire(&seg, name) == HCM_OK)
        *retiredp = 1;
    hcm__seg_close(&seg);
    return HCM_OK;
}

const hcm__inspector hcm__topic_inspector = {
    't',
    sizeof(hcm_topic_info),
    offsetof(hcm_topic_info, size),
    offsetof(hcm_topic_info, mode),
    offsetof(hcm_topic_info, uid),
    examine,
};

int hcm_topic_stat(const char *domain, const char *topic, hcm_topic_info *infop)
{
    return hcm__inspect_stat(&hcm__topic_inspector, domain, topic, infop);
}

int hcm_topic_list(const char *domain, hcm_topic_info **infosp, size_t *countp)
{
    return hcm__inspect_list(&hcm__topic_inspector, domain, (void **)infosp, countp);
}

void hcm_topic_list_free(hcm_topic_info *infos)
{
    free(infos);
}

int hcm_topic_unlink(const char *domain, const char *topic)
{
    hcm_seg_name name;
    hcm_seg seg;
    int rc;
    hcm__clear_error();
    if ((rc = hcm__name_make(&name, domain, 't', topic)) != HCM_OK)
        return rc;
    rc = hcm__seg_open(&seg, &name, 1);
    if (rc == HCM_OK) {
        rc = hcm__seg_retire(&seg, &name);
        hcm__seg_close(&seg);
        return rc;
    }
    if (rc == HCM_ECORRUPT || rc == HCM_EPERM) {
        /* Not a segment we can map (garbage, or another user's 0666 file
         * in our name): remove the name anyway if the directory lets us. */
        hcm__clear_error();
        if (unlink(name.path) == 0)
            return HCM_OK;
        return hcm__fail_sys(errno, "unlink %s", name.path);
    }
    return rc;
}

int hcm_topic_reclaim(const char *domain, size_t *countp)
{
    return hcm__inspect_reclaim(&hcm__topic_inspector, domain, countp);
}

/* hcm_peers() for a topic: owner entries, then live or dead reader lines. */
int hcm__topic_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap, size_t *countp)
{
    hcm_seg seg;
    size_t n = 0;
    int rc = hcm__seg_open(&seg, name, 0);
    if (rc != HCM_OK)
        return rc;
    for (uint32_t i = 0; i < HCM_SEG_OWNERS; i++) {
        /* state first, then id (acquire both): the release store of OPEN in
         * hcm__seg_register follows the id's CAS, so an OPEN seen here comes
         * with the id that opened it */
        uint32_t st = atomic_load_explicit(&seg.hdr->owners[i].state, memory_order_acquire);
        uint64_t id = atomic_load_explicit(&seg.hdr->owners[i].id, memory_order_acquire);
        if (id == 0)
            continue;
        if (n < cap) {
            memset(&peers[n], 0, sizeof peers[n]);
            peers[n].role = HCM_PEER_PUBLISHER;
            peers[n].pid = hcm__id_pid(id);
            peers[n].alive = hcm__id_alive(id);
            peers[n].open = st == HCM_OWNER_OPEN;
        }
        n++;
    }
    for (uint32_t i = 0; i < HCM_SEG_READERS; i++) {
        const hcm_seg_reader *r = &seg.hdr->readers[i];
        /* acquire: pairs with the release of the claim CAS (see readers_stat) */
        uint64_t id = atomic_load_explicit(&r->id, memory_order_acquire);
        if (id == 0)
            continue;
        if (n < cap) {
            memset(&peers[n], 0, sizeof peers[n]);
            peers[n].role = HCM_PEER_SUBSCRIBER;
            peers[n].pid = hcm__id_pid(id);
            peers[n].alive = hcm__id_alive(id);
            peers[n].open = 1;
            peers[n].next_seq = atomic_load_explicit(&r->next_seq, memory_order_relaxed);
            peers[n].lost = atomic_load_explicit(&r->lost, memory_order_relaxed);
        }
        n++;
    }
    hcm__seg_close(&seg);
    *countp = n;
    return HCM_OK;
}
