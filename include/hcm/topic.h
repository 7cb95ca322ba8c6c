/* hcm/topic.h - publish/subscribe over a shared-memory ring.
 *
 * A topic is one shared-memory segment holding a ring of `buffer_num` slots.
 * Publishers (any number, in any processes) append samples; subscribers read
 * either the newest sample (hcm_subscriber_latest, the seed's subscribe())
 * or every sample in publish order (hcm_subscriber_take) with a count of the
 * samples they lost when they fell more than buffer_num behind. Reading never
 * locks and makes no system call once the subscriber is attached.
 *
 * Names: 1..HCM_NAME_MAX bytes of [A-Za-z0-9_.-] in segments separated by
 * '/', e.g. "robot/sensors/lidar". One leading '/' is accepted and ignored
 * (ROS style), so "/imu" and "imu" are the same topic. "a/b" and "a_b" are
 * different topics. Topics live in a domain: attr.domain, else the
 * environment variable HCM_DOMAIN, else "0"; domains are 1..HCM_DOMAIN_MAX
 * bytes of [A-Za-z0-9_-].
 *
 * Thread safety: a publisher or subscriber handle is used by one thread at a
 * time. Different handles, even on the same topic in the same process, may
 * be used concurrently from different threads.
 */
#ifndef HCM_TOPIC_H
#define HCM_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/error.h"
#include "hcm/export.h"
#include "hcm/type.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HCM_NAME_MAX 200       /* bytes of a topic name, without a leading '/' */
#define HCM_DOMAIN_MAX 32      /* bytes of a domain name */
#define HCM_MAX_SLOTS 65536u   /* largest buffer_num */
#define HCM_MAX_PAYLOAD (1ull << 32) /* largest max_payload: 4 GiB */
#define HCM_MAX_PUBLISHERS 16  /* publisher handles attached to one topic at once */
#define HCM_DEFAULT_SLOTS 3
#define HCM_DEFAULT_BYTES_MAX 4096 /* default max_payload of BYTES and STRING topics */
#define HCM_DEFAULT_EXPIRY_NS 2000000000ll /* 2 s, as the original */
#define HCM_DEFAULT_SPIN_NS 20000ll        /* wait(): spin/yield budget before sleeping */
#define HCM_DEFAULT_LOCK_TIMEOUT_NS 5000000000ll

typedef struct hcm_publisher hcm_publisher;
typedef struct hcm_subscriber hcm_subscriber;

/* What a subscriber learns about a sample. */
typedef struct hcm_sample_info {
    uint64_t seq;         /* 0-based publish sequence number within the topic */
    int64_t timestamp_ns; /* publish time, CLOCK_MONOTONIC nanoseconds */
    uint64_t len;         /* payload bytes */
    uint64_t lost;        /* take(): samples lost (overwritten) just before this one */
} hcm_sample_info;

/* ---- publisher ---------------------------------------------------------- */

typedef struct hcm_publisher_attr {
    hcm_type type;          /* payload type; default BYTES */
    uint32_t buffer_num;    /* ring slots, 1..HCM_MAX_SLOTS; default 3 */
    uint64_t max_payload;   /* bytes; 0 = the type's fixed size, or 4096 for BYTES/STRING */
    uint32_t mode;          /* permission bits of a new segment, applied with fchmod; 0600.
                               Must include 0600; bits outside 0777 are HCM_EINVAL */
    const char *domain;     /* NULL: $HCM_DOMAIN, else "0" */
    int64_t lock_timeout_ns;/* give up (HCM_EBUSY) when another live publisher holds the
                               topic's write lock longer than this; default 5 s */
} hcm_publisher_attr;

/* Fills *attr with the defaults above. */
HCM_API void hcm_publisher_attr_init(hcm_publisher_attr *attr);

/* Opens a publisher on `topic` (attr NULL = defaults).
 *
 * If the topic's segment exists and has the same type and a max payload at
 * least as large, the publisher joins it and leaves its samples alone (its
 * slot count stays as created). If it exists with another type or a smaller
 * max payload: when all its publishers are dead it is replaced; otherwise
 * HCM_ETYPE or HCM_EMSGSIZE, naming both. Otherwise a new segment is created
 * atomically (no reader can see it half-initialised) with mode attr->mode.
 *
 * Errors: HCM_EINVAL (NULL pubp or topic, buffer_num or max_payload out of
 * range, invalid type), HCM_ENAME, HCM_ETYPE, HCM_EMSGSIZE, HCM_EPERM,
 * HCM_ECORRUPT (an existing segment is not valid), HCM_EBUSY (already
 * HCM_MAX_PUBLISHERS live publishers), HCM_ENOMEM, HCM_ESYS.
 * On success the caller owns *pubp and must hcm_publisher_close() it. */
HCM_API int hcm_publisher_open(hcm_publisher **pubp, const char *topic,
                               const hcm_publisher_attr *attr);

/* Detaches. The segment stays (a late subscriber still sees the last value)
 * until hcm_topic_unlink() or hcm_topic_reclaim(). Discards an outstanding
 * loan. NULL is a no-op. */
HCM_API void hcm_publisher_close(hcm_publisher *pub);

/* Publishes a copy of `len` bytes. For fixed-size types `len` must equal the
 * type's size. Errors: HCM_EINVAL, HCM_EMSGSIZE (too long or wrong size),
 * HCM_EBUSY (write lock held by a live peer past lock_timeout_ns, or a loan
 * is outstanding on this handle), HCM_ESYS. Never blocks on a dead peer. */
HCM_API int hcm_publish(hcm_publisher *pub, const void *data, size_t len);

/* Zero copy: lends the next slot for a sample of `len` bytes; fill *bufp in
 * place, then hcm_publisher_commit() or hcm_publisher_discard(). While a loan
 * is out this handle holds the topic's write lock: other publishers wait, so
 * keep it short. *bufp is 32-byte aligned. Errors as hcm_publish(). */
HCM_API int hcm_publisher_loan(hcm_publisher *pub, size_t len, void **bufp);

/* Publishes the loaned slot (consumes the loan). HCM_EINVAL if `buf` is not
 * the outstanding loan. */
HCM_API int hcm_publisher_commit(hcm_publisher *pub, void *buf);

/* Gives the loan back without publishing (consumes the loan). No sequence
 * number is used up: the next publish takes the one the loan had. The slot's
 * previous sample is gone; in-order readers count it as lost. */
HCM_API int hcm_publisher_discard(hcm_publisher *pub, void *buf);

/* Keeps the publisher's current segment mapped until hcm_pin_release(), for
 * bindings whose loan buffers can outlive commit() and close() (see
 * hcm_subscriber_pin). HCM_EAGAIN if not attached. */
typedef struct hcm_pin hcm_pin;
HCM_API int hcm_publisher_pin(hcm_publisher *pub, hcm_pin **pinp);

/* Geometry of the attached segment (as created, which may differ from the
 * attr of a publisher that joined). */
HCM_API uint32_t hcm_publisher_slots(const hcm_publisher *pub);
HCM_API uint64_t hcm_publisher_max_payload(const hcm_publisher *pub);

/* ---- subscriber --------------------------------------------------------- */

typedef struct hcm_subscriber_attr {
    hcm_type type;       /* expected type; kind HCM_TYPE_NONE accepts any (default) */
    int64_t expiry_ns;   /* latest(): samples older than this are stale; 0 = never;
                            default 2 s */
    int64_t spin_ns;     /* wait(): busy-wait (pause, then sched_yield) for up to this
                            long before sleeping on a futex; default 20 us; < 0 spins
                            until the timeout (polling mode, burns a core) */
    const char *domain;  /* NULL: $HCM_DOMAIN, else "0" */
} hcm_subscriber_attr;

HCM_API void hcm_subscriber_attr_init(hcm_subscriber_attr *attr);

/* Opens a subscriber on `topic`. The topic need not exist yet: the subscriber
 * attaches when it appears (reads return HCM_EAGAIN until then; while it is
 * missing, reads retry the attach with a backoff from 1 us to 1 ms, so a
 * polling loop costs no system call per read and finds a new topic at most
 * 1 ms late). take() then delivers every sample published after this call.
 * Errors: HCM_EINVAL, HCM_ENAME, HCM_ETYPE, HCM_EPERM, HCM_ECORRUPT, HCM_ENOMEM,
 * HCM_ESYS. All but the first two can also come later from reads and waits,
 * when the topic appears (or is re-created) with another type or a bad
 * segment. */
HCM_API int hcm_subscriber_open(hcm_subscriber **subp, const char *topic,
                                const hcm_subscriber_attr *attr);

/* NULL is a no-op. Invalidates an outstanding view. */
HCM_API void hcm_subscriber_close(hcm_subscriber *sub);

/* Copies the newest sample into buf (the seed's subscribe()).
 * HCM_OK: copied, and younger than the expiry. HCM_ESTALE: copied, but older
 * than the expiry. HCM_EAGAIN: nothing published yet (or no topic).
 * HCM_EMSGSIZE: cap too small; info->len tells the size, nothing copied.
 * The same sample is returned again until a newer one arrives. infop may be
 * NULL. Marks everything up to this sample as read for wait()/take(). */
HCM_API int hcm_subscriber_latest(hcm_subscriber *sub, void *buf, size_t cap,
                                  hcm_sample_info *infop);

/* Copies the next sample in publish order. HCM_EAGAIN: nothing new.
 * buf may be NULL only with cap 0 (a zero-length sample fits; any other is
 * HCM_EMSGSIZE).
 * A slot whose length field exceeds the topic's max payload, or a write
 * sequence beyond 2^62, is HCM_ECORRUPT (nothing copied); a damaged slot
 * sequence word cannot be told from "not yet written" and reads as
 * HCM_EAGAIN.
 * If the subscriber fell behind by more than the ring holds, the samples
 * overwritten meanwhile are skipped and counted in info->lost and in
 * hcm_subscriber_lost(). HCM_EMSGSIZE: cap too small (info->len tells; the
 * sample stays next). */
HCM_API int hcm_subscriber_take(hcm_subscriber *sub, void *buf, size_t cap,
                                hcm_sample_info *infop);

/* Zero copy: like take(), but *datap points at the sample inside the
 * segment. The view stays readable until hcm_subscriber_release(), which
 * tells whether a publisher overwrote the slot meanwhile: HCM_OK (everything
 * read through the view was intact) or HCM_EOVERRUN (discard what you read).
 * Another take/latest/view before release() releases implicitly. */
HCM_API int hcm_subscriber_view(hcm_subscriber *sub, const void **datap,
                                hcm_sample_info *infop);
HCM_API int hcm_subscriber_release(hcm_subscriber *sub);

/* Like release() but keeps the view: HCM_OK if the viewed sample is still
 * intact now, HCM_EOVERRUN if a publisher overwrote it, HCM_EINVAL if no
 * view is outstanding. */
HCM_API int hcm_subscriber_check(hcm_subscriber *sub);

/* For language bindings whose views can outlive hcm_subscriber_release()
 * (a NumPy array over a slot): keeps the subscriber's current segment mapped
 * until hcm_pin_release(), even across re-attach and hcm_subscriber_close(),
 * so such a view never points at unmapped memory. Only the mapping is kept:
 * the bytes may change once the view is released. HCM_EAGAIN if not
 * attached. A pin may be released from any thread, after the subscriber is
 * closed. */
HCM_API int hcm_subscriber_pin(hcm_subscriber *sub, hcm_pin **pinp);
HCM_API void hcm_pin_release(hcm_pin *pin);

/* Waits until take() has something (or latest() has something newer than
 * what this subscriber read last). timeout_ns < 0 waits forever, 0 polls.
 * HCM_OK, HCM_ETIMEDOUT, HCM_EINTR (a signal arrived: check it, then call
 * again), or an attach error. Spins for attr.spin_ns, then sleeps on the
 * topic's futex; a topic that does not exist yet is polled every 1 ms. */
HCM_API int hcm_subscriber_wait(hcm_subscriber *sub, int64_t timeout_ns);

/* Total samples lost by take() since open. */
HCM_API uint64_t hcm_subscriber_lost(const hcm_subscriber *sub);

/* The type of the attached topic. HCM_EAGAIN if not attached yet. */
HCM_API int hcm_subscriber_type(hcm_subscriber *sub, hcm_type *typep);

/* Max payload of the attached topic, 0 if not attached yet. */
HCM_API uint64_t hcm_subscriber_max_payload(hcm_subscriber *sub);

/* ---- inspection and cleanup --------------------------------------------- */

typedef struct hcm_topic_info {
    char name[HCM_NAME_MAX + 1];
    char domain[HCM_DOMAIN_MAX + 1];
    int error;               /* HCM_OK, or why the fields below are missing
                                (HCM_EPERM, HCM_ECORRUPT): only uid/mode/size are set */
    hcm_type type;
    uint32_t slots;
    uint64_t max_payload;
    uint32_t publishers;     /* open publisher handles of live processes */
    uint32_t owners;         /* owner entries: one per publisher handle ever opened here
                                (kept after close, reused when its process is dead),
                                at most HCM_MAX_PUBLISHERS */
    uint32_t owners_alive;   /* of those, entries whose process still runs */
    uint64_t publish_count;
    int64_t last_publish_ns; /* CLOCK_MONOTONIC; 0 = never */
    int64_t create_time_ns;  /* CLOCK_REALTIME */
    uint64_t lock_steals;    /* write locks taken over from dead publishers */
    uint64_t size;           /* bytes of shared memory */
    uint32_t mode;           /* permission bits */
    uint32_t uid;            /* owner */
    uint32_t subscribers;    /* subscriber handles of live processes (tracked: at most 16) */
    uint64_t max_lag;        /* of those, the most samples one is behind publish_count */
    uint64_t lost;           /* of those, the sum of samples they lost */
    uint64_t last_len;       /* payload bytes of the newest sample (0 if none) */
    int stale;               /* 1: every recorded publisher and subscriber is dead, so
                                hcm_topic_reclaim() would remove it */
} hcm_topic_info;

/* Facts about one topic. HCM_ENOENT if it does not exist. domain NULL = default.
 * If the segment exists but cannot be read (HCM_EPERM, HCM_ECORRUPT), that
 * code is returned and also stored in infop->error, with name, domain, uid,
 * mode and size filled in. */
HCM_API int hcm_topic_stat(const char *domain, const char *topic, hcm_topic_info *infop);

/* All topics of a domain (NULL = default), sorted by name. On success
 * *infosp is an array of *countp entries to free with hcm_topic_list_free()
 * (NULL when the count is 0). */
HCM_API int hcm_topic_list(const char *domain, hcm_topic_info **infosp, size_t *countp);
HCM_API void hcm_topic_list_free(hcm_topic_info *infos);

/* Removes one topic's segment. Attached subscribers and publishers notice
 * (without a system call) and re-attach to a new segment of that name when
 * one appears. HCM_ENOENT if it does not exist. */
HCM_API int hcm_topic_unlink(const char *domain, const char *topic);

/* Removes the domain's topic segments whose recorded publishers and
 * subscribers are all dead (never a segment a live process uses). *countp (may be NULL) receives
 * the number removed. */
HCM_API int hcm_topic_reclaim(const char *domain, size_t *countp);

/* The domain used when none is given: $HCM_DOMAIN if set, else "0". */
HCM_API const char *hcm_default_domain(void);

#ifdef __cplusplus
}
#endif
#endif /* HCM_TOPIC_H */
