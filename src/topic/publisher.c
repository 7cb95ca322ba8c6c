/* topic/publisher.c - opening, joining and publishing to a topic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "segment/segment.h"
#include "sync/sync.h"
#include "topic/ring.h"

struct hcm_publisher {
    hcm_seg seg;
    hcm_seg_name name;
    hcm_type type;
    uint64_t max_payload;  /* as asked */
    uint64_t fixed_size;   /* 0 for variable-size types */
    uint32_t slots;        /* as asked */
    uint32_t mode;
    uint32_t owner;        /* our entry in the owners table */
    int64_t lock_timeout_ns;
    int loan_active;
    uint64_t loan_seq;
    uint64_t loan_len;
    void *loan_buf;
};

void hcm_publisher_attr_init(hcm_publisher_attr *attr)
{
    if (attr == NULL)
        return;
    memset(attr, 0, sizeof *attr);
    attr->type = hcm_type_scalar(HCM_TYPE_BYTES);
    attr->buffer_num = HCM_DEFAULT_SLOTS;
    attr->max_payload = 0;
    attr->mode = 0600;
    attr->domain = NULL;
    attr->lock_timeout_ns = HCM_DEFAULT_LOCK_TIMEOUT_NS;
}

/* Opens or creates the segment and registers us as an owner. */
static int attach(hcm_publisher *pub)
{
    char have[160], want[160];
    int rc;
    for (int attempt = 0; attempt < 16; attempt++) {
        rc = hcm__seg_open(&pub->seg, &pub->name, 1);
        if (rc == HCM_ENOENT) {
            hcm__clear_error();
            rc = hcm__seg_create(&pub->seg, &pub->name, &pub->type, pub->slots,
                                 pub->max_payload, pub->mode, &pub->owner);
            if (rc == HCM__EEXIST)
                continue; /* another publisher created it first: join that one */
            return rc;
        }
        if (rc != HCM_OK)
            return rc;
        int mismatch = !hcm_type_equal(&pub->seg.type, &pub->type)   ? HCM_ETYPE
                       : pub->seg.max_payload < pub->max_payload ? HCM_EMSGSIZE
                                                                 : HCM_OK;
        if (mismatch == HCM_OK) {
            rc = hcm__seg_register(&pub->seg, &pub->owner);
            if (rc != HCM_OK)
                hcm__seg_close(&pub->seg);
            return rc;
        }
        uint32_t owners, alive;
        hcm__seg_owners(&pub->seg, &owners, &alive, NULL);
        if (alive == 0) {
            /* Every process that published here is gone: replace it. */
            hcm__seg_retire(&pub->seg, &pub->name);
            hcm__seg_close(&pub->seg);
            continue;
        }
        hcm_type_format(&pub->seg.type, have, sizeof have);
        hcm_type_format(&pub->type, want, sizeof want);
        rc = hcm__fail(mismatch,
                       "topic '%s' has type %s with max payload %llu; this publisher wants "
                       "%s with max payload %llu (%u live owner%s of the old one)",
                       pub->name.topic, have, (unsigned long long)pub->seg.max_payload, want,
                       (unsigned long long)pub->max_payload, alive, alive == 1 ? "" : "s");
        hcm__seg_close(&pub->seg);
        return rc;
    }
    return hcm__fail(HCM_EBUSY, "topic '%s' kept changing while opening it", pub->name.topic);
}

int hcm_publisher_open(hcm_publisher **pubp, const char *topic, const hcm_publisher_attr *attr)
{
    hcm_publisher_attr defaults;
    hcm_publisher *pub;
    int rc;

    hcm__clear_error();
    if (pubp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_publisher_open: pubp is NULL");
    *pubp = NULL;
    if (attr == NULL) {
        hcm_publisher_attr_init(&defaults);
        attr = &defaults;
    }
    if (hcm_type_validate(&attr->type) != HCM_OK) {
        char t[160];
        return hcm__fail(HCM_EINVAL, "invalid type descriptor (%s)",
                         hcm_type_format(&attr->type, t, sizeof t));
    }
    if (attr->buffer_num < 1 || attr->buffer_num > HCM_MAX_SLOTS)
        return hcm__fail(HCM_EINVAL,
                         "buffer_num %u is outside 1..%u%s", attr->buffer_num, HCM_MAX_SLOTS,
                         attr->buffer_num > (uint32_t)INT32_MAX
                             ? " (a negative number converted to unsigned?)"
                             : "");
    if (attr->mode > 0777)
        return hcm__fail(HCM_EINVAL, "mode %04o has bits outside 0777", attr->mode);
    if ((attr->mode & 0600) != 0600)
        return hcm__fail(HCM_EINVAL, "mode %04o must give the owner read and write (0600)",
                         attr->mode);

    pub = calloc(1, sizeof *pub);
    if (pub == NULL)
        return hcm__fail(HCM_ENOMEM, "out of memory");
    rc = hcm__name_make(&pub->name, attr->domain, 't', topic);
    if (rc != HCM_OK)
        goto fail;
    pub->type = attr->type;
    pub->fixed_size = hcm_type_fixed_size(&attr->type);
    pub->max_payload = attr->max_payload;
    if (pub->fixed_size != 0) {
        if (pub->max_payload != 0 && pub->max_payload != pub->fixed_size) {
            rc = hcm__fail(HCM_EINVAL, "max_payload %llu differs from the type's size %llu",
                           (unsigned long long)attr->max_payload,
                           (unsigned long long)pub->fixed_size);
            goto fail;
        }
        pub->max_payload = pub->fixed_size;
    } else if (pub->max_payload == 0) {
        pub->max_payload = HCM_DEFAULT_BYTES_MAX;
    }
    if (pub->max_payload > HCM_MAX_PAYLOAD) {
        rc = hcm__fail(HCM_EINVAL, "max_payload %llu is over the limit %llu",
                       (unsigned long long)pub->max_payload, (unsigned long long)HCM_MAX_PAYLOAD);
        goto fail;
    }
    pub->slots = attr->buffer_num;
    pub->mode = attr->mode;
    pub->lock_timeout_ns = attr->lock_timeout_ns;
    rc = attach(pub);
    if (rc != HCM_OK)
        goto fail;
    *pubp = pub;
    return HCM_OK;
fail:
    free(pub);
    return rc;
}

/* A retired segment (unlinked by someone) is replaced by a fresh one, so we
 * never keep writing into an orphan no subscriber can find. */
static int check_retired(hcm_publisher *pub)
{
    /* acquire: pairs with (R1) release in hcm__seg_retire */
    if (atomic_load_explicit(&pub->seg.hdr->state, memory_order_acquire) == HCM_SEG_STATE_LIVE)
        return HCM_OK;
    hcm__seg_unregister(&pub->seg, pub->owner);
    hcm__seg_close(&pub->seg);
    return attach(pub);
}

static int check_len(const hcm_publisher *pub, size_t len)
{
    if (pub->fixed_size != 0 && len != pub->fixed_size)
        return hcm__fail(HCM_EMSGSIZE, "topic '%s': sample of %zu bytes, the type needs %llu",
                         pub->name.topic, len, (unsigned long long)pub->fixed_size);
    if (len > pub->seg.max_payload)
        return hcm__fail(HCM_EMSGSIZE, "topic '%s': sample of %zu bytes exceeds max payload %llu",
                         pub->name.topic, len, (unsigned long long)pub->seg.max_payload);
    return HCM_OK;
}

static int begin(hcm_publisher *pub, size_t len, void **bufp, uint64_t *seqp)
{
    int rc;
    if (pub->loan_active)
        return hcm__fail(HCM_EBUSY, "topic '%s': a loan is outstanding on this publisher",
                         pub->name.topic);
    if (pub->seg.hdr == NULL && (rc = attach(pub)) != HCM_OK)
        return rc;
    if ((rc = check_retired(pub)) != HCM_OK)
        return rc;
    if ((rc = check_len(pub, len)) != HCM_OK)
        return rc;
    if ((rc = hcm__ring_lock(&pub->seg, pub->lock_timeout_ns, pub->name.topic)) != HCM_OK)
        return rc;
    *bufp = hcm__ring_begin(&pub->seg, seqp);
    return HCM_OK;
}

static void finish(hcm_publisher *pub, uint64_t seq, size_t len, int64_t ts)
{
    hcm__ring_commit(&pub->seg, seq, len, ts);
    hcm__ring_unlock(&pub->seg);
    hcm__ring_wake(&pub->seg);
}

int hcm_publish(hcm_publisher *pub, const void *data, size_t len)
{
    void *slot = NULL;
    uint64_t seq;
    int rc;
    if (pub == NULL || (data == NULL && len != 0))
        return hcm__fail(HCM_EINVAL, "hcm_publish: NULL publisher or data");
    /* The publish time is read before the seqlock section: readers polling
     * the slot do not wait for the clock (about 25 ns in a VM). */
    int64_t ts = hcm__now_ns();
    if ((rc = begin(pub, len, &slot, &seq)) != HCM_OK)
        return rc;
    hcm__racy_copy(slot, data, len);
    finish(pub, seq, len, ts);
    return HCM_OK;
}

int hcm_publisher_loan(hcm_publisher *pub, size_t len, void **bufp)
{
    int rc;
    if (pub == NULL || bufp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_publisher_loan: NULL argument");
    if ((rc = begin(pub, len, &pub->loan_buf, &pub->loan_seq)) != HCM_OK)
        return rc;
    pub->loan_active = 1;
    pub->loan_len = len;
    *bufp = pub->loan_buf;
    return HCM_OK;
}

static int check_loan(hcm_publisher *pub, void *buf, const char *what)
{
    if (pub == NULL)
        return hcm__fail(HCM_EINVAL, "%s: NULL publisher", what);
    if (!pub->loan_active || buf != pub->loan_buf)
        return hcm__fail(HCM_EINVAL, "%s: %p is not the outstanding loan of topic '%s'", what,
                         buf, pub->name.topic);
    return HCM_OK;
}

int hcm_publisher_commit(hcm_publisher *pub, void *buf)
{
    int rc = check_loan(pub, buf, "hcm_publisher_commit");
    if (rc != HCM_OK)
        return rc;
    pub->loan_active = 0;
    pub->loan_buf = NULL;
    finish(pub, pub->loan_seq, pub->loan_len, hcm__now_ns()); /* the fill is done: stamp now */
    return HCM_OK;
}

int hcm_publisher_discard(hcm_publisher *pub, void *buf)
{
    int rc = check_loan(pub, buf, "hcm_publisher_discard");
    if (rc != HCM_OK)
        return rc;
    pub->loan_active = 0;
    pub->loan_buf = NULL;
    /* The slot keeps its odd word: readers skip it, and the next writer
     * reuses the same sequence number (write_seq did not move). */
    hcm__ring_unlock(&pub->seg);
    return HCM_OK;
}

void hcm_publisher_close(hcm_publisher *pub)
{
    if (pub == NULL)
        return;
    if (pub->loan_active)
        hcm_publisher_discard(pub, pub->loan_buf);
    if (pub->seg.hdr != NULL) {
        hcm__seg_unregister(&pub->seg, pub->owner);
        hcm__seg_close(&pub->seg);
    }
    free(pub);
}

uint32_t hcm_publisher_slots(const hcm_publisher *pub)
{
    return pub != NULL ? pub->seg.slot_count : 0;
}

uint64_t hcm_publisher_max_payload(const hcm_publisher *pub)
{
    return pub != NULL ? pub->seg.max_payload : 0;
}

int hcm_publisher_pin(hcm_publisher *pub, hcm_pin **pinp)
{
    if (pub == NULL || pinp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_publisher_pin: NULL argument");
    *pinp = NULL;
    if (pub->seg.hdr == NULL)
        return HCM_EAGAIN;
    *pinp = (hcm_pin *)hcm__mapping_ref(&pub->seg);
    return HCM_OK;
}
