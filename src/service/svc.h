/* service/svc.h - the service segment and the pieces server and client share.
 *
 * Memory-order pairs (labels used in server.c and client.c):
 *   (C1) client: REQUESTED store release   <- (S1) server: state load acquire
 *   (C2) client: seq_cst fence, server_waiters load (bump + wake if > 0)
 *                                         <- (S2) server: waiters++, seq_cst fence, scan
 *   (S3) server: DONE store/CAS release    <- (C3) client: state load acquire
 *   (S4) server: seq_cst fence, slot.waiting load
 *                                         <- (C4) client: waiting = 1, seq_cst fence, state load
 *   (F1) FREE store release, seq_cst fence, free_waiters load
 *                                         <- (F2) free_waiters++, seq_cst fence, scan for FREE
 *   (V1) server identity store release     <- (V2) client identity load acquire
 */
#ifndef HCM_SERVICE_SVC_H
#define HCM_SERVICE_SVC_H

#include <stdint.h>

#include "hcm/service.h"
#include "segment/layout.h"
#include "segment/segment.h"

/* Waits pause this long before they start to sched_yield. */
#define HCM__SVC_PAUSE_NS 1000







typedef struct hcm_svc {
    hcm_file f;
    hcm_svc_header *hdr;
    _Atomic uint8_t *pending; /* K hint bytes after the header */
    unsigned char *slots;
    uint32_t slot_count; /* validated copies */
    uint32_t stride;
    uint64_t req_max;
    uint64_t resp_max;
    hcm_type req_type;
    hcm_type resp_type;
    uint64_t req_fixed;  /* the types' fixed sizes (0: variable), computed once */
    uint64_t resp_fixed;
} hcm_svc;

/* Opens and validates an existing service segment, read-write or (tools
 * that only look) read-only. */
int hcm__svc_open(hcm_svc *svc, const hcm_seg_name *name, int writable);

/* Creates a service segment with `server` as its server (generation 1).
 * HCM__EEXIST if one appeared meanwhile. */
int hcm__svc_create(hcm_svc *svc, const hcm_seg_name *name, const hcm_type *req_type,
                    uint64_t req_max, const hcm_type *resp_type, uint64_t resp_max,
                    uint32_t slots, uint32_t mode, uint64_t server);

void hcm__svc_close(hcm_svc *svc);

static inline hcm_svc_slot *hcm__svc_slot(const hcm_svc *svc, uint32_t i)
{
    return (hcm_svc_slot *)(svc->slots + (size_t)i * svc->stride);
}

static inline unsigned char *hcm__svc_req(const hcm_svc *svc, hcm_svc_slot *s)
{
    (void)svc;
    return (unsigned char *)s + HCM_SVC_SLOT_HEADER;
}

static inline unsigned char *hcm__svc_resp(const hcm_svc *svc, hcm_svc_slot *s)
{
    return (unsigned char *)s + HCM_SVC_SLOT_HEADER +
           (size_t)((svc->req_max + HCM_SEG_LINE - 1) / HCM_SEG_LINE * HCM_SEG_LINE);
}

/* DONE (or another final state) was stored: wake the client if it sleeps. */
void hcm__svc_wake_client(hcm_svc_slot *s);

/* Frees a slot and wakes clients waiting for one. */
void hcm__svc_free_slot(hcm_svc *svc, hcm_svc_slot *s);

/* Sleeps on `word` while it equals `expect`, counting itself in *waiters
 * (which the waker reads after a seq_cst fence), until `deadline_ns` (< 0
 * none). `ready` re-checks the condition after the count is visible.
 * Returns 0, ETIMEDOUT or EINTR. */
int hcm__svc_sleep(_Atomic uint32_t *word, uint32_t expect, _Atomic uint32_t *waiters,
                   int (*ready)(void *), void *ctx, int64_t deadline_ns);

#endif
