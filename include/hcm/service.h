/* hcm/service.h - request/response over shared memory.
 *
 * A service is one segment (hcm.<domain>.s.<name>) with one server and any
 * number of clients in any processes and threads. It holds `queue_size`
 * call slots; a client claims one, writes its request there and waits on
 * that slot, so a response reaches exactly the call that asked (every call
 * also carries a 64-bit id). The server takes requests in the order they
 * were sent and replies to each, in any order and from any thread, or runs
 * a handler on a worker thread.
 *
 * Waiting clients spin briefly and then sleep on the slot's futex; a
 * waiting client checks the server's liveness at least every 50 ms, so a
 * server that dies makes its pending calls fail with HCM_EDEAD instead of
 * running into their timeout. A client that dies leaves a slot that the
 * next client needing one reclaims. A server that restarts serves the
 * existing clients. One live server per name: a second gets HCM_EBUSY.
 *
 * Names and domains follow topic.h; a topic, a service and an action of the
 * same name never collide.
 */
#ifndef HCM_SERVICE_H
#define HCM_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/error.h"
#include "hcm/export.h"
#include "hcm/type.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HCM_DEFAULT_QUEUE 64     /* call slots of a new service */
#define HCM_MAX_QUEUE 4096
#define HCM_SERVICE_ERROR_MAX 256 /* bytes of a handler's error message, with NUL */

typedef struct hcm_server hcm_server;
typedef struct hcm_client hcm_client;

/* One call, as seen by the server (take/reply) or the client (send/receive).
 * Plain value; copy it freely. */
typedef struct hcm_call {
    uint32_t slot;
    uint64_t id;
} hcm_call;

/* ---- server --------------------------------------------------------------- */

typedef struct hcm_server_attr {
    hcm_type request_type;      /* default BYTES */
    hcm_type response_type;     /* default BYTES */
    uint64_t request_max;       /* bytes; 0 = the type's fixed size, or 4096 */
    uint64_t response_max;      /* bytes; 0 = the type's fixed size, or 4096 */
    uint32_t queue_size;        /* call slots, 1..HCM_MAX_QUEUE; default 64 */
    uint32_t mode;              /* permission bits of a new segment; 0600 */
    const char *domain;         /* NULL: $HCM_DOMAIN, else "0" */
    int64_t spin_ns;            /* take(): spin before sleeping; default 20 us */
} hcm_server_attr;

HCM_API void hcm_server_attr_init(hcm_server_attr *attr);

/* Opens the server of `service`, creating its segment or taking over an
 * existing one whose server is gone (requests that clients had already
 * queued are then served). HCM_EBUSY if a live server has it (also when it
 * serves other types: the message names both). A segment made for other
 * types or smaller sizes whose server is gone is replaced: clients opened
 * for the old types get HCM_ETYPE at their next call. Plus the errors of
 * hcm_publisher_open(). */
HCM_API int hcm_server_open(hcm_server **srvp, const char *service, const hcm_server_attr *attr);

/* Stops a running handler thread, detaches, and marks the service as having
 * no server: waiting clients get HCM_EDEAD. Requests taken and not replied
 * to are failed. NULL is a no-op. */
HCM_API void hcm_server_close(hcm_server *srv);

/* Takes the oldest pending request: copies it into buf (at most cap bytes)
 * and fills *callp (pass it to reply) and *lenp. Waits up to timeout_ns
 * (< 0 forever, 0 poll). HCM_OK, HCM_ETIMEDOUT, HCM_EINTR, HCM_EMSGSIZE
 * (cap too small: *lenp tells; the request stays queued). Thread-safe:
 * several threads may take and reply on one server. */
HCM_API int hcm_server_take(hcm_server *srv, void *buf, size_t cap, size_t *lenp,
                            hcm_call *callp, int64_t timeout_ns);

/* Replies to a taken request with `len` bytes (must fit the response type).
 * HCM_OK, HCM_EINVAL (not a call this server holds), HCM_EMSGSIZE. If the
 * client gave up or died meanwhile, the reply is dropped and HCM_OK
 * returned. Thread-safe. */
HCM_API int hcm_server_reply(hcm_server *srv, hcm_call call, const void *data, size_t len);

/* Fails a taken request: the client's receive/call returns HCM_EREMOTE and
 * its hcm_errmsg() holds `message` (up to HCM_SERVICE_ERROR_MAX - 1 bytes).
 * Thread-safe. */
HCM_API int hcm_server_fail(hcm_server *srv, hcm_call call, const char *message);

/* A handler for hcm_server_start(): reads `req_len` bytes at `req`, writes
 * up to `resp_cap` bytes at `resp` and stores their count in *resp_lenp.
 * Returns HCM_OK, or another code to fail the call (then `errbuf` may hold a
 * message of up to HCM_SERVICE_ERROR_MAX bytes for the client). */
typedef int (*hcm_handler_fn)(void *ctx, const void *req, size_t req_len, void *resp,
                              size_t resp_cap, size_t *resp_lenp, char *errbuf);

/* Runs `handler` on a new worker thread until hcm_server_stop() or close. */
HCM_API int hcm_server_start(hcm_server *srv, hcm_handler_fn handler, void *ctx);
HCM_API void hcm_server_stop(hcm_server *srv);

/* ---- client --------------------------------------------------------------- */

typedef struct hcm_client_attr {
    hcm_type request_type;   /* must equal the server's; kind NONE accepts any */
    hcm_type response_type;
    const char *domain;
    int64_t spin_ns;         /* waits spin this long before sleeping; default 20 us */
    int wait_for_slot;       /* queue full: 1 (default) wait for a free slot within the
                                call's timeout, 0 fail at once with HCM_EBUSY */
} hcm_client_attr;

HCM_API void hcm_client_attr_init(hcm_client_attr *attr);

/* Opens a client. The service need not exist yet (calls then fail fast with
 * HCM_ENOENT until a server creates it). HCM_ETYPE if it exists with other
 * types. */
HCM_API int hcm_client_open(hcm_client **clip, const char *service, const hcm_client_attr *attr);

/* Abandons calls in flight (the server's replies to them are dropped).
 * NULL is a no-op. */
HCM_API void hcm_client_close(hcm_client *cli);

/* Sends a request and returns at once with its handle in *callp; collect the
 * response with hcm_client_receive(). Several may be in flight.
 * HCM_ENOENT (no such service), HCM_EDEAD (no live server), HCM_EBUSY (all
 * call slots in use and wait_for_slot is 0, or none freed within
 * timeout_ns), HCM_EMSGSIZE, HCM_ETYPE. Thread-safe. */
HCM_API int hcm_client_send(hcm_client *cli, const void *req, size_t len, hcm_call *callp,
                            int64_t timeout_ns);

/* Waits for the response of `call` and copies it (at most cap bytes).
 * HCM_OK; HCM_ETIMEDOUT (the call stays pending: receive again, or
 * hcm_client_cancel()); HCM_EDEAD (the server died or closed before
 * replying: the call is over); HCM_EREMOTE (the server failed the call:
 * hcm_errmsg() has its message); HCM_EMSGSIZE (cap too small: *lenp tells,
 * the response stays); HCM_EINTR; HCM_EINVAL (not a pending call of this
 * client). Thread-safe for different calls. */
HCM_API int hcm_client_receive(hcm_client *cli, hcm_call call, void *resp, size_t cap,
                               size_t *lenp, int64_t timeout_ns);

/* Gives up a pending call: its slot is released now or, if the server is
 * working on it, when it replies. */
HCM_API int hcm_client_cancel(hcm_client *cli, hcm_call call);

/* send + receive; on timeout the call is cancelled. */
HCM_API int hcm_client_call(hcm_client *cli, const void *req, size_t req_len, void *resp,
                            size_t cap, size_t *lenp, int64_t timeout_ns);

/* ---- cleanup --------------------------------------------------------------- */

/* Removes a service's segment (a live server and its clients keep their
 * mapping; new clients get HCM_ENOENT until a server opens it again).
 * HCM_ENOENT if it does not exist. domain NULL = default. */
HCM_API int hcm_service_unlink(const char *domain, const char *service);

#ifdef __cplusplus
}
#endif
#endif /* HCM_SERVICE_H */
