/* common/inspect_internal.h - what the per-kind inspection code shares. */
#ifndef HCM_COMMON_INSPECT_INTERNAL_H
#define HCM_COMMON_INSPECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/inspect.h"
#include "segment/name.h"

/* Per-kind peers (topic/admin.c, service/admin.c, action/action.c). */
int hcm__topic_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap, size_t *countp);
int hcm__service_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap,
                       size_t *countp);
int hcm__action_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap,
                      size_t *countp);

/* Collects one info struct per segment of `kind` in `domain` into a sorted
 * malloc'd array. Every info struct begins with its name (char[]), which
 * the sort uses. stat_fn fills one; HCM_ENOENT from it (vanished meanwhile)
 * skips the entry, other codes are kept in the entry's own error field. */
int hcm__list_collect(const char *domain, char kind, size_t elem_size,
                      int (*stat_fn)(const hcm_seg_name *, void *), void **vecp, size_t *countp);

/* Distinct client processes among the identities of a segment's slots. */
typedef struct hcm__tally {
    uint64_t *ids;
    uint32_t *held;
    size_t n, cap;
} hcm__tally;

/* cap: the most distinct ids (the slot count). HCM_ENOMEM. */
int hcm__tally_init(hcm__tally *t, size_t cap);
void hcm__tally_add(hcm__tally *t, uint64_t id);
void hcm__tally_free(hcm__tally *t);
/* Appends the tallied clients to peers (up to cap), counting all in *np;
 * returns how many of them are alive. */
uint32_t hcm__tally_peers(const hcm__tally *t, hcm_peer_info *peers, size_t cap, size_t *np);
/* Appends a server entry for identity `id` (if not 0) to peers. */
void hcm__server_peer(uint64_t id, hcm_peer_info *peers, size_t cap, size_t *np);

#endif
