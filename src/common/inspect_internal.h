/* common/inspect_internal.h - what the per-kind inspection code shares. */
#ifndef HCM_COMMON_INSPECT_INTERNAL_H
#define HCM_COMMON_INSPECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/inspect.h"
#include "segment/name.h"

/* Topic peers: publishers and subscribers (topic/admin.c). */
int hcm__topic_peers(const hcm_seg_name *name, hcm_peer_info *peers, size_t cap, size_t *countp);

/* How to look at one kind of segment; the generic code below does the rest
 * (naming, listing, the error path, peers, reclaim). Every info struct
 * begins with name, domain and error, as hcm__info_head. */
typedef struct hcm__info_head {
    char name[HCM_NAME_MAX + 1];
    char domain[HCM_DOMAIN_MAX + 1];
    int error;
} hcm__info_head;

typedef struct hcm__tally hcm__tally;

typedef struct hcm__inspector {
    char kind;
    size_t info_size;
    size_t off_size, off_mode, off_uid; /* where a file's stat() facts go (uint64, u32, u32) */
    /* Opens `name` and fills the kind's fields of *info (name, domain and
     * error are set). With `tally` (may be NULL) it also initialises *tally
     * with the client identities of the slots (the caller frees it on
     * HCM_OK) and stores the server identity in *serverp. With `reclaim` it
     * retires the segment if *info says stale, and sets *retiredp. Returns
     * HCM_OK or why the segment could not be opened. */
    int (*examine)(const hcm_seg_name *name, void *info, hcm__tally *tally, uint64_t *serverp,
                   int reclaim, int *retiredp);
} hcm__inspector;

/* hcm_<kind>_stat: HCM_ENOENT, or the facts (info->error says what could not be read). */
int hcm__inspect_stat(const hcm__inspector *k, const char *domain, const char *name, void *info);
/* hcm_<kind>_list: every segment of the kind, sorted by name, in a malloc'd array. */
int hcm__inspect_list(const hcm__inspector *k, const char *domain, void **vecp, size_t *countp);
/* hcm_peers for services and actions: the server, then the client processes. */
int hcm__inspect_peers(const hcm__inspector *k, const hcm_seg_name *name, hcm_peer_info *peers,
                       size_t cap, size_t *countp);
/* hcm_<kind>_reclaim: retires the domain's stale segments of the kind. */
int hcm__inspect_reclaim(const hcm__inspector *k, const char *domain, size_t *countp);

/* Distinct client processes among the identities of a segment's slots. */
struct hcm__tally {
    uint64_t *ids;
    uint32_t *held;
    size_t n, cap;
};

/* cap: the most distinct ids (the slot count). HCM_ENOMEM. */
int hcm__tally_init(hcm__tally *t, size_t cap);
void hcm__tally_add(hcm__tally *t, uint64_t id);
void hcm__tally_free(hcm__tally *t);
/* Appends the tallied clients to peers (up to cap), counting all in *np;
 * returns how many of them are alive. */
uint32_t hcm__tally_peers(const hcm__tally *t, hcm_peer_info *peers, size_t cap, size_t *np);
/* Appends a server entry for identity `id` (if not 0) to peers. */
void hcm__server_peer(uint64_t id, hcm_peer_info *peers, size_t cap, size_t *np);

/* Before removing a stale service or action: swaps its server word from the
 * absent or dead server seen now to HCM_SERVER_RECLAIMED, so that no server
 * can claim it between our judgement and the unlink (a server that started
 * meanwhile makes the CAS fail: then 0, keep it). 1 if condemned. */
int hcm__condemn(_Atomic uint64_t *server);

extern const hcm__inspector hcm__topic_inspector;
extern const hcm__inspector hcm__service_inspector;
extern const hcm__inspector hcm__action_inspector;

#endif
