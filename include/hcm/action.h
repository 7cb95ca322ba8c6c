/* hcm/action.h - actions: long-running goals with feedback, result and cancel.
 *
 * An action is one segment (hcm.<domain>.a.<name>) with one server and any
 * number of clients. A client sends a goal and gets a handle (slot + id);
 * the server takes goals in the order they were sent, accepts or rejects
 * each, publishes feedback while it executes, and finishes it as succeeded,
 * aborted or canceled with a result. Each goal has a slot of its own, so its
 * feedback and result can never reach another goal's handle.
 *
 * Statuses and their only legal transitions (each is one CAS):
 *
 *   PENDING --server take/accept--> ACCEPTED --execute--> EXECUTING
 *   PENDING --reject--> REJECTED            PENDING --client cancel--> CANCELED
 *   ACCEPTED/EXECUTING --client cancel--> CANCELING (the server is told)
 *   ACCEPTED/EXECUTING/CANCELING --finish--> SUCCEEDED | ABORTED
 *   CANCELING (or a goal whose cancel was requested) --finish--> CANCELED
 *
 * A client waiting on a goal checks the server's liveness every 50 ms: a
 * server that dies turns its unfinished goals into HCM_EDEAD for the client.
 * A client that dies has its goals treated as cancel requests. Finished
 * goals keep their result for `retention_ns` (default 60 s) and can be read
 * by id from any client (hcm_action_client_query). Retention is best effort:
 * when every slot holds a finished goal, a new goal reuses the slot of one
 * whose result was already collected, else the oldest.
 */
#ifndef HCM_ACTION_H
#define HCM_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/error.h"
#include "hcm/export.h"
#include "hcm/type.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hcm_goal_status {
    HCM_GOAL_UNKNOWN = 0,
    HCM_GOAL_PENDING = 1,   /* sent; the server has not accepted or rejected it yet */
    HCM_GOAL_ACCEPTED = 2,
    HCM_GOAL_EXECUTING = 3,
    HCM_GOAL_CANCELING = 4, /* cancel requested; the server decides */
    HCM_GOAL_SUCCEEDED = 5,
    HCM_GOAL_CANCELED = 6,
    HCM_GOAL_ABORTED = 7,
    HCM_GOAL_REJECTED = 8,
} hcm_goal_status;

/* SUCCEEDED, CANCELED, ABORTED or REJECTED. */
HCM_API int hcm_goal_status_is_final(hcm_goal_status status);
/* "pending", "accepted", ..., "rejected". */
HCM_API const char *hcm_goal_status_name(hcm_goal_status status);

typedef struct hcm_goal {
    uint32_t slot;
    uint64_t id; /* unique per action */
} hcm_goal;

typedef struct hcm_action_server hcm_action_server;
typedef struct hcm_action_client hcm_action_client;

/* ---- server --------------------------------------------------------------- */

typedef struct hcm_action_server_attr {
    hcm_type goal_type;       /* default BYTES */
    hcm_type feedback_type;   /* default BYTES */
    hcm_type result_type;     /* default BYTES */
    uint64_t goal_max, feedback_max, result_max; /* 0: the type's size, or 4096 */
    uint32_t slots;           /* goals held at once (running + finished kept); default 64 */
    uint32_t mode;            /* default 0600 */
    const char *domain;
    int64_t retention_ns;     /* finished goals stay queryable this long; default 60 s */
} hcm_action_server_attr;

HCM_API void hcm_action_server_attr_init(hcm_action_server_attr *attr);

/* Opens the server (creating the segment, or taking over one whose server
 * died). HCM_EBUSY if a live server has it. */
HCM_API int hcm_action_server_open(hcm_action_server **srvp, const char *action,
                                   const hcm_action_server_attr *attr);

/* Closes: goals still running end ABORTED (their clients see it), pending
 * ones REJECTED. NULL is a no-op. */
HCM_API void hcm_action_server_close(hcm_action_server *srv);

/* Takes the oldest pending goal: copies it into buf and fills *goalp. It must
 * then be accepted or rejected. HCM_OK, HCM_ETIMEDOUT, HCM_EINTR,
 * HCM_EMSGSIZE (cap too small; the goal stays pending). Goals whose client
 * died or cancelled before this take are dropped here. Thread-safe. */
HCM_API int hcm_action_server_take(hcm_action_server *srv, void *buf, size_t cap, size_t *lenp,
                                   hcm_goal *goalp, int64_t timeout_ns);

/* Accepts a taken goal (status ACCEPTED; the client is told at once).
 * HCM_ECANCELED if the client cancelled it meanwhile: it is then CANCELED and
 * must not be executed. */
HCM_API int hcm_action_server_accept(hcm_action_server *srv, hcm_goal goal);

/* Rejects a taken goal (status REJECTED; the client is told at once). */
HCM_API int hcm_action_server_reject(hcm_action_server *srv, hcm_goal goal);

/* ACCEPTED -> EXECUTING (optional: finish works from ACCEPTED too). */
HCM_API int hcm_action_server_execute(hcm_action_server *srv, hcm_goal goal);

/* Publishes feedback for one goal (replaces the previous; a client that
 * reads slower than feedback arrives is told how many it skipped). */
HCM_API int hcm_action_server_feedback(hcm_action_server *srv, hcm_goal goal, const void *data,
                                       size_t len);

/* 1 if the goal's client asked to cancel it (or died), else 0. Cheap: poll
 * it while executing. */
HCM_API int hcm_action_server_cancel_requested(hcm_action_server *srv, hcm_goal goal);

/* Ends a goal with `status` (SUCCEEDED, ABORTED, or CANCELED after a cancel
 * request) and its result. HCM_EINVAL for an illegal status or a goal this
 * server does not hold; HCM_EMSGSIZE for a result that does not fit. */
HCM_API int hcm_action_server_finish(hcm_action_server *srv, hcm_goal goal,
                                     hcm_goal_status status, const void *result, size_t len);

/* ---- client --------------------------------------------------------------- */

typedef struct hcm_action_client_attr {
    hcm_type goal_type, feedback_type, result_type; /* kind NONE accepts any */
    const char *domain;
    int64_t spin_ns; /* waits spin this long before sleeping; default 20 us */
} hcm_action_client_attr;

HCM_API void hcm_action_client_attr_init(hcm_action_client_attr *attr);

/* Opens a client. The action need not exist yet (sends then fail with
 * HCM_ENOENT quickly). HCM_ETYPE if it exists with other types. */
HCM_API int hcm_action_client_open(hcm_action_client **clip, const char *action,
                                   const hcm_action_client_attr *attr);

/* Closes; this client's unfinished goals are cancelled. NULL is a no-op. */
HCM_API void hcm_action_client_close(hcm_action_client *cli);

/* Sends a goal; *goalp receives its handle. HCM_ENOENT (no such action),
 * HCM_EDEAD (no live server: the server found alive is trusted for 50 ms,
 * so a goal sent to a server that died in that window is accepted here and
 * ends with HCM_EDEAD from result()/wait() within 50 ms), HCM_EBUSY (no
 * free goal slot within timeout_ns), HCM_EMSGSIZE. */
HCM_API int hcm_action_client_send(hcm_action_client *cli, const void *goal, size_t len,
                                   hcm_goal *goalp, int64_t timeout_ns);

/* The goal's current status. HCM_EINVAL if the handle is not a goal of this
 * client (or its slot was reused after the retention time). */
HCM_API int hcm_action_client_status(hcm_action_client *cli, hcm_goal goal,
                                     hcm_goal_status *statusp);

/* Waits until the goal changes (status or feedback) after *eventsp, the
 * event count seen last (start with 0); updates it. HCM_OK, HCM_ETIMEDOUT,
 * HCM_EINTR, HCM_EDEAD (the server died before finishing the goal). */
HCM_API int hcm_action_client_wait(hcm_action_client *cli, hcm_goal goal, uint32_t *eventsp,
                                   int64_t timeout_ns);

/* The newest feedback after *seqp (the sequence number returned last; start
 * with 0): HCM_OK copies it and updates *seqp (a jump of more than 1 means
 * feedback was skipped); HCM_EAGAIN if there is none newer. */
HCM_API int hcm_action_client_feedback(hcm_action_client *cli, hcm_goal goal, void *buf,
                                       size_t cap, size_t *lenp, uint64_t *seqp);

/* Waits for the goal to end and copies its result. HCM_OK with *statusp
 * SUCCEEDED, ABORTED or CANCELED (REJECTED has no result: len 0);
 * HCM_ETIMEDOUT; HCM_EDEAD (its server died first: the goal is ABORTED, and
 * stays reported so); HCM_EMSGSIZE (*lenp tells). */
HCM_API int hcm_action_client_result(hcm_action_client *cli, hcm_goal goal, void *buf, size_t cap,
                                     size_t *lenp, hcm_goal_status *statusp, int64_t timeout_ns);

/* Asks to cancel: a pending goal ends CANCELED at once; an accepted or
 * executing one becomes CANCELING and the server decides. HCM_EINVAL for a
 * finished goal (it stays as it ended); a goal that ends CANCELED while this
 * call runs (the server saw the request) gives HCM_OK. */
HCM_API int hcm_action_client_cancel(hcm_action_client *cli, hcm_goal goal);

/* Any client: status and result of a goal by id (while it is retained).
 * HCM_ENOENT if no slot holds that id. */
HCM_API int hcm_action_client_query(hcm_action_client *cli, uint64_t goal_id,
                                    hcm_goal_status *statusp, void *buf, size_t cap,
                                    size_t *lenp);

HCM_API int hcm_action_unlink(const char *domain, const char *action);

#ifdef __cplusplus
}
#endif
#endif /* HCM_ACTION_H */
