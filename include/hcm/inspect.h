/* hcm/inspect.h - looking at a running system: who is attached to what, and
 * what dead processes left behind. Used by the `hcm` tool (docs/cli.md);
 * topics' own facts are in topic.h (hcm_topic_stat/list/reclaim).
 *
 * Everything here reads segments read-only (except *_reclaim) and treats
 * them as untrusted: a corrupted segment yields HCM_ECORRUPT with a detail
 * in hcm_errmsg(), never a crash. Liveness of a recorded process costs a
 * system call or two per process: these are tool functions, not for a
 * control loop.
 */
#ifndef HCM_INSPECT_H
#define HCM_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/error.h"
#include "hcm/export.h"
#include "hcm/topic.h"
#include "hcm/type.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hcm_kind {
    HCM_KIND_TOPIC = 't',
    HCM_KIND_SERVICE = 's',
    HCM_KIND_ACTION = 'a',
} hcm_kind;

/* ---- peers ------------------------------------------------------------------ */

typedef enum hcm_peer_role {
    HCM_PEER_PUBLISHER = 1,  /* a topic's owner entry (one per publisher handle) */
    HCM_PEER_SUBSCRIBER = 2, /* a topic's reader entry (one per subscriber handle,
                                at most 16 tracked per topic) */
    HCM_PEER_SERVER = 3,     /* a service's or action's server */
    HCM_PEER_CLIENT = 4,     /* a process holding a call or goal slot */
} hcm_peer_role;

typedef struct hcm_peer_info {
    uint32_t role;       /* hcm_peer_role */
    uint32_t pid;
    int alive;           /* the recorded process still runs */
    int open;            /* publisher: handle still open; others: 1 */
    uint64_t next_seq;   /* subscriber: next sequence number it will read */
    uint64_t lost;       /* subscriber: samples it lost since it opened */
    uint32_t held;       /* client: call or goal slots it holds */
} hcm_peer_info;

/* Who is recorded in the segment of `name` of `kind` in `domain` (NULL =
 * default): fills up to `cap` entries of peers (which may be NULL with cap
 * 0) and sets *countp to the number there are (which may exceed cap).
 * Topics: publishers then subscribers. Services and actions: the server
 * (if one ever opened it) then one entry per client process holding slots.
 * HCM_ENOENT, HCM_ENAME, HCM_EPERM, HCM_ECORRUPT, HCM_EINVAL. */
HCM_API int hcm_peers(hcm_kind kind, const char *domain, const char *name,
                      hcm_peer_info *peers, size_t cap, size_t *countp);

/* ---- domains ---------------------------------------------------------------- */

typedef struct hcm_domain_name {
    char name[HCM_DOMAIN_MAX + 1];
} hcm_domain_name;

/* Every domain that has at least one hcm segment, sorted. Free *domainsp
 * with hcm_domain_list_free() (NULL when the count is 0). */
HCM_API int hcm_domain_list(hcm_domain_name **domainsp, size_t *countp);
HCM_API void hcm_domain_list_free(hcm_domain_name *domains);

/* ---- services ---------------------------------------------------------------- */

typedef struct hcm_service_info {
    char name[HCM_NAME_MAX + 1];
    char domain[HCM_DOMAIN_MAX + 1];
    int error;              /* as hcm_topic_info.error: only size/mode/uid set if not 0 */
    hcm_type request_type, response_type;
    uint64_t request_max, response_max;
    uint32_t queue_size;    /* call slots */
    uint32_t server_pid;    /* 0: no server now */
    int server_alive;
    uint32_t server_generation; /* servers that opened it so far */
    uint64_t calls_sent;    /* call ids handed out */
    uint64_t calls_answered; /* published by the server every 64 answers, and exact after
                                hcm_server_stop() or close */
    uint32_t pending;       /* calls waiting for the server */
    uint32_t in_progress;   /* calls the server is working on (incl. abandoned ones) */
    uint32_t clients_alive; /* client processes holding slots that still run */
    int stale;              /* 1: no live server and no live client: hcm_service_reclaim()
                               would remove it */
    int64_t create_time_ns; /* CLOCK_REALTIME */
    uint64_t size;
    uint32_t mode;
    uint32_t uid;
} hcm_service_info;

HCM_API int hcm_service_stat(const char *domain, const char *service, hcm_service_info *infop);
HCM_API int hcm_service_list(const char *domain, hcm_service_info **infosp, size_t *countp);
HCM_API void hcm_service_list_free(hcm_service_info *infos);
/* Removes the domain's service segments that have no live server and no
 * live client holding a slot. *countp (may be NULL) receives the count. */
HCM_API int hcm_service_reclaim(const char *domain, size_t *countp);

/* ---- actions ----------------------------------------------------------------- */

typedef struct hcm_action_info {
    char name[HCM_NAME_MAX + 1];
    char domain[HCM_DOMAIN_MAX + 1];
    int error;
    hcm_type goal_type, feedback_type, result_type;
    uint64_t goal_max, feedback_max, result_max;
    uint32_t slots;          /* goal slots */
    uint32_t server_pid;     /* 0: no server now */
    int server_alive;
    uint32_t server_generation;
    uint64_t goals_sent;     /* goal ids handed out */
    uint32_t pending;        /* goals waiting for the server */
    uint32_t active;         /* accepted, executing or canceling */
    uint32_t finished;       /* ended and still retained */
    uint32_t clients_alive;
    int stale;               /* 1: no live server and no live client */
    int64_t create_time_ns;
    uint64_t size;
    uint32_t mode;
    uint32_t uid;
} hcm_action_info;

HCM_API int hcm_action_stat(const char *domain, const char *action, hcm_action_info *infop);
HCM_API int hcm_action_list(const char *domain, hcm_action_info **infosp, size_t *countp);
HCM_API void hcm_action_list_free(hcm_action_info *infos);
/* Removes the domain's action segments with no live server and no live
 * client holding a goal slot. */
HCM_API int hcm_action_reclaim(const char *domain, size_t *countp);

#ifdef __cplusplus
}
#endif
#endif /* HCM_INSPECT_H */
