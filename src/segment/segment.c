/* segment/segment.c - see segment.h and layout.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_internal.h"
#include "segment/owner.h"
#include "segment/segment.h"
#include "sync/sync.h"

#define MAX_SEGMENT_BYTES (1ull << 44) /* 16 TiB: refuse anything larger outright */

static int foreign_owner_allowed(void)
{
    const char *v = getenv("HCM_ALLOW_OTHER_USERS");
    return v != NULL && strcmp(v, "1") == 0;
}

static int fail_perm(const char *path, int err, const char *what)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return hcm__fail_sys(err, "%s %s (owner uid %u, mode %04o; we are uid %u)", what, path,
                             (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                             (unsigned)geteuid());
    return hcm__fail_sys(err, "%s %s", what, path);
}

/* Validates a snapshot of the header against the file size; fills the
 * geometry of *seg. The snapshot is private memory: a peer changing the
 * shared header meanwhile cannot make us accept something we checked. */
static int validate_header(hcm_seg *seg, const hcm_seg_header *h, uint64_t file_size,
                           const char *path)
{
    uint64_t need;
    if (h->magic != HCM_SEG_MAGIC)
        return hcm__fail(HCM_ECORRUPT, "%s: bad magic 0x%016llx (not an hcm topic segment)", path,
                         (unsigned long long)h->magic);
    if (h->version != HCM_SEG_VERSION)
        return hcm__fail(HCM_ECORRUPT, "%s: layout version %u, this library reads version %u",
                         path, h->version, HCM_SEG_VERSION);
    if (h->header_size != HCM_SEG_HEADER_SIZE || h->seg_kind != HCM_SEG_KIND_TOPIC)
        return hcm__fail(HCM_ECORRUPT, "%s: header size %u / kind %u, expected %u / %u", path,
                         h->header_size, h->seg_kind, HCM_SEG_HEADER_SIZE, HCM_SEG_KIND_TOPIC);
    if (h->slot_count < 1 || h->slot_count > HCM_MAX_SLOTS)
        return hcm__fail(HCM_ECORRUPT, "%s: slot count %u outside 1..%u", path, h->slot_count,
                         HCM_MAX_SLOTS);
    if (h->max_payload < 1 || h->max_payload > HCM_MAX_PAYLOAD)
        return hcm__fail(HCM_ECORRUPT, "%s: max payload %llu outside 1..%llu", path,
                         (unsigned long long)h->max_payload, (unsigned long long)HCM_MAX_PAYLOAD);
    if (h->slot_stride % HCM_SEG_LINE != 0 ||
        (uint64_t)h->slot_stride < HCM_SEG_SLOT_HEADER + h->max_payload)
        return hcm__fail(HCM_ECORRUPT, "%s: slot stride %u cannot hold %llu payload bytes", path,
                         h->slot_stride, (unsigned long long)h->max_payload);
    /* slot_count <= 2^16 and stride < 2^32: the product fits in 64 bits. */
    need = HCM_SEG_HEADER_SIZE + (uint64_t)h->slot_count * h->slot_stride;
    if (h->total_size != need || file_size != need)
        return hcm__fail(HCM_ECORRUPT,
                         "%s: sizes disagree: header says %llu bytes, slots need %llu, file has "
                         "%llu",
                         path, (unsigned long long)h->total_size, (unsigned long long)need,
                         (unsigned long long)file_size);
    if (hcm_type_validate(&h->type) != HCM_OK)
        return hcm__fail(HCM_ECORRUPT, "%s: invalid type descriptor (kind %u)", path,
                         h->type.kind);
    seg->slot_count = h->slot_count;
    seg->slot_stride = h->slot_stride;
    seg->max_payload = h->max_payload;
    seg->type = h->type;
    return HCM_OK;
}

/* Wraps a fresh mmap in a reference-counted mapping (1 reference). */
static int adopt_mapping(hcm_seg *seg, void *map, size_t size)
{
    hcm_mapping *m = malloc(sizeof *m);
    if (m == NULL) {
        munmap(map, size);
        return hcm__fail(HCM_ENOMEM, "out of memory");
    }
    m->base = map;
    m->size = size;
    /* relaxed: nobody else can see m yet */
    atomic_init(&m->refs, 1);
    seg->mapping = m;
    return HCM_OK;
}

hcm_mapping *hcm__mapping_ref(hcm_seg *seg)
{
    if (seg == NULL || seg->mapping == NULL)
        return NULL;
    /* relaxed: the caller already holds a reference, so the count cannot
     * reach zero meanwhile */
    atomic_fetch_add_explicit(&seg->mapping->refs, 1, memory_order_relaxed);
    return seg->mapping;
}

void hcm__mapping_unref(hcm_mapping *m)
{
    if (m == NULL)
        return;
    /* acq_rel: every access through any reference happens before the
     * munmap done by whoever drops the last one */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
        munmap(m->base, m->size);
        free(m);
    }
}

int hcm__seg_open(hcm_seg *seg, const hcm_seg_name *name, int writable)
{
    struct stat st;
    hcm_seg_header snap;
    void *map;
    int fd, rc;

    memset(seg, 0, sizeof *seg);
    fd = open(name->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return hcm__fail(HCM_ENOENT, "topic '%s' does not exist in domain '%s' (%s)",
                             name->topic, name->domain, name->path);
        if (err == EACCES || err == EPERM)
            return fail_perm(name->path, err, "cannot open");
        if (err == ELOOP)
            return hcm__fail(HCM_ECORRUPT, "%s is a symbolic link, refused", name->path);
        return hcm__fail_sys(err, "open %s", name->path);
    }
    if (fstat(fd, &st) != 0) {
        rc = hcm__fail_sys(errno, "fstat %s", name->path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hcm__fail(HCM_ECORRUPT, "%s is not a regular file", name->path);
    }
    if (st.st_uid != geteuid() && !foreign_owner_allowed()) {
        close(fd);
        return hcm__fail(HCM_EPERM,
                         "%s belongs to uid %u, not to us (uid %u), mode %04o; refused (set "
                         "HCM_ALLOW_OTHER_USERS=1 to accept segments of other users)",
                         name->path, (unsigned)st.st_uid, (unsigned)geteuid(),
                         (unsigned)(st.st_mode & 07777));
    }
    if ((uint64_t)st.st_size < HCM_SEG_HEADER_SIZE || (uint64_t)st.st_size > MAX_SEGMENT_BYTES) {
        close(fd);
        return hcm__fail(HCM_ECORRUPT, "%s: %lld bytes, not a valid segment size (header is %u)",
                         name->path, (long long)st.st_size, HCM_SEG_HEADER_SIZE);
    }
    map = mmap(NULL, (size_t)st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
               MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = hcm__fail_sys(errno, "mmap %s (%lld bytes)", name->path, (long long)st.st_size);
        close(fd);
        return rc;
    }
    close(fd); /* the mapping keeps the file alive */
    memcpy(&snap, map, sizeof snap);
    rc = validate_header(seg, &snap, (uint64_t)st.st_size, name->path);
    if (rc != HCM_OK) {
        munmap(map, (size_t)st.st_size);
        memset(seg, 0, sizeof *seg);
        return rc;
    }
    /* relaxed: a plausibility check of a counter that keeps moving */
    if (atomic_load_explicit(&((hcm_seg_header *)map)->write_seq, memory_order_relaxed) >=
        HCM_SEG_SEQ_MAX) {
        munmap(map, (size_t)st.st_size);
        memset(seg, 0, sizeof *seg);
        return hcm__fail(HCM_ECORRUPT, "%s: write sequence beyond 2^62", name->path);
    }
    if ((rc = adopt_mapping(seg, map, (size_t)st.st_size)) != HCM_OK)
        return rc;
    seg->hdr = map;
    seg->slots_base = (unsigned char *)map + HCM_SEG_HEADER_SIZE;
    seg->map_size = (size_t)st.st_size;
    seg->dev = st.st_dev;
    seg->ino = st.st_ino;
    seg->mode = (uint32_t)(st.st_mode & 07777);
    seg->uid = st.st_uid;
    return HCM_OK;
}

/* An unnamed file in /dev/shm (O_TMPFILE), or, where that is not supported,
 * a uniquely named one that link_into_place() renames. */
static int make_unnamed(const hcm_seg_name *name, char *tmp_path, size_t cap)
{
    static _Atomic unsigned counter;
    int fd = open(HCM_SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    tmp_path[0] = '\0';
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* relaxed: only uniqueness within this process matters */
    snprintf(tmp_path, cap, HCM_SHM_DIR "/" HCM_SHM_PREFIX "%s.tmp.%d.%u", name->domain,
             (int)getpid(), atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed));
    return open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static int link_into_place(int fd, const char *tmp_path, const char *path)
{
    int rc;
    if (tmp_path[0] != '\0') {
        rc = link(tmp_path, path);
        unlink(tmp_path);
        return rc;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

int hcm__seg_create(hcm_seg *seg, const hcm_seg_name *name, const hcm_type *type,
                    uint32_t slots, uint64_t max_payload, uint32_t mode, uint32_t *ownerp)
{
    char tmp_path[HCM_SHM_PATH_MAX + 32];
    struct stat st;
    hcm_seg_header *h;
    uint64_t stride, total;
    void *map;
    int fd, rc, err;

    memset(seg, 0, sizeof *seg);
    stride = (HCM_SEG_SLOT_HEADER + max_payload + HCM_SEG_LINE - 1) / HCM_SEG_LINE * HCM_SEG_LINE;
    total = HCM_SEG_HEADER_SIZE + (uint64_t)slots * stride;
    if (stride > UINT32_MAX || total > MAX_SEGMENT_BYTES || total > (uint64_t)SIZE_MAX)
        return hcm__fail(HCM_ENOMEM, "topic '%s': %u slots of %llu bytes is too large", name->topic,
                         slots, (unsigned long long)max_payload);

    fd = make_unnamed(name, tmp_path, sizeof tmp_path);
    if (fd < 0)
        return hcm__fail_sys(errno, "create a segment in " HCM_SHM_DIR " for topic '%s'",
                             name->topic);
    if (fchmod(fd, (mode_t)mode) != 0) {
        rc = hcm__fail_sys(errno, "fchmod %04o for topic '%s'", mode, name->topic);
        goto fail_fd;
    }
    /* posix_fallocate reserves the pages now: a segment that does not fit in
     * /dev/shm fails here with ENOSPC instead of a SIGBUS on first touch. */
    err = posix_fallocate(fd, 0, (off_t)total);
    if (err != 0) {
        rc = hcm__fail_sys(err, "reserve %llu bytes in " HCM_SHM_DIR " for topic '%s' (%u slots "
                                "x %llu bytes)",
                           (unsigned long long)total, name->topic, slots,
                           (unsigned long long)max_payload);
        if (err == ENOSPC || err == EFBIG)
            rc = HCM_ENOMEM;
        goto fail_fd;
    }
    map = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = hcm__fail_sys(errno, "mmap %llu bytes for topic '%s'", (unsigned long long)total,
                           name->topic);
        goto fail_fd;
    }
    if ((rc = adopt_mapping(seg, map, (size_t)total)) != HCM_OK)
        goto fail_fd;
    /* The file is fresh (zero-filled) and has no name yet: plain stores are
     * fine, and the link below publishes all of them (link() is a full
     * barrier as far as any opener is concerned: it must open and mmap after
     * it). */
    h = map;
    h->magic = HCM_SEG_MAGIC;
    h->version = HCM_SEG_VERSION;
    h->header_size = HCM_SEG_HEADER_SIZE;
    h->total_size = total;
    h->slot_count = slots;
    h->slot_stride = (uint32_t)stride;
    h->max_payload = max_payload;
    h->create_time_ns = hcm__realtime_ns();
    h->seg_kind = HCM_SEG_KIND_TOPIC;
    h->type = *type;
    atomic_store_explicit(&h->state, HCM_SEG_STATE_LIVE, memory_order_relaxed);
    atomic_store_explicit(&h->owners[0].id, hcm__self_process_id(), memory_order_relaxed);
    atomic_store_explicit(&h->owners[0].state, HCM_OWNER_OPEN, memory_order_relaxed);

    if (link_into_place(fd, tmp_path, name->path) != 0) {
        err = errno;
        hcm__mapping_unref(seg->mapping);
        seg->mapping = NULL;
        close(fd);
        if (err == EEXIST)
            return HCM__EEXIST;
        return hcm__fail_sys(err, "link %s", name->path);
    }
    if (fstat(fd, &st) != 0)
        memset(&st, 0, sizeof st);
    close(fd);
    seg->hdr = h;
    seg->slots_base = (unsigned char *)map + HCM_SEG_HEADER_SIZE;
    seg->map_size = (size_t)total;
    seg->slot_count = slots;
    seg->slot_stride = (uint32_t)stride;
    seg->max_payload = max_payload;
    seg->type = *type;
    seg->dev = st.st_dev;
    seg->ino = st.st_ino;
    seg->mode = mode;
    seg->uid = geteuid();
    *ownerp = 0;
    return HCM_OK;

fail_fd:
    close(fd);
    if (tmp_path[0] != '\0')
        unlink(tmp_path);
    return rc;
}

void hcm__seg_close(hcm_seg *seg)
{
    if (seg == NULL || seg->hdr == NULL)
        return;
    hcm__mapping_unref(seg->mapping);
    memset(seg, 0, sizeof *seg);
}

int hcm__seg_retire(hcm_seg *seg, const hcm_seg_name *name)
{
    struct stat st;
    /* (R1) release: pairs with the acquire loads of state in readers and
     * publishers, which then re-attach by name. */
    atomic_store_explicit(&seg->hdr->state, HCM_SEG_STATE_RETIRED, memory_order_release);
    /* Wake sleepers so they see the retirement now rather than at their
     * timeout. relaxed bump: the futex syscall orders it for the sleepers. */
    atomic_fetch_add_explicit(&seg->hdr->futex, 1, memory_order_release);
    hcm__futex_wake_all(&seg->hdr->futex);
    if (stat(name->path, &st) == 0 && st.st_dev == seg->dev && st.st_ino == seg->ino) {
        if (unlink(name->path) != 0 && errno != ENOENT)
            return hcm__fail_sys(errno, "unlink %s", name->path);
    }
    return HCM_OK;
}

int hcm__seg_register(hcm_seg *seg, uint32_t *ownerp)
{
    uint64_t me = hcm__self_process_id();
    hcm_seg_owner *o = seg->hdr->owners;
    /* Pass 0 takes a free entry; pass 1 reuses an entry of a dead process or
     * a closed entry of our own. The CAS makes each entry one process's.
     * acq_rel: acquire the previous owner's final state store; release is
     * not needed for the id (state is stored with release below). */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < HCM_SEG_OWNERS; i++) {
            uint64_t id = atomic_load_explicit(&o[i].id, memory_order_acquire);
            if (pass == 0 && id != 0)
                continue;
            if (pass == 1) {
                uint32_t st = atomic_load_explicit(&o[i].state, memory_order_acquire);
                if (id == 0 || !((id == me && st == HCM_OWNER_CLOSED) || !hcm__id_alive(id)))
                    continue;
            }
            if (atomic_compare_exchange_strong_explicit(&o[i].id, &id, me, memory_order_acq_rel,
                                                        memory_order_relaxed)) {
                /* release: tools that see OPEN also see our id */
                atomic_store_explicit(&o[i].state, HCM_OWNER_OPEN, memory_order_release);
                *ownerp = i;
                return HCM_OK;
            }
        }
    }
    return hcm__fail(HCM_EBUSY, "topic already has %d live publishers (the most it records)",
                     HCM_SEG_OWNERS);
}

void hcm__seg_unregister(hcm_seg *seg, uint32_t idx)
{
    if (idx < HCM_SEG_OWNERS)
        /* release: pairs with the acquire in hcm__seg_register/owners */
        atomic_store_explicit(&seg->hdr->owners[idx].state, HCM_OWNER_CLOSED,
                              memory_order_release);
}

void hcm__seg_owners(const hcm_seg *seg, uint32_t *owners, uint32_t *alive, uint32_t *open_alive)
{
    uint32_t n = 0, a = 0, oa = 0;
    for (uint32_t i = 0; i < HCM_SEG_OWNERS; i++) {
        /* acquire: pairs with the release stores in register/unregister */
        uint64_t id = atomic_load_explicit(&seg->hdr->owners[i].id, memory_order_acquire);
        uint32_t st = atomic_load_explicit(&seg->hdr->owners[i].state, memory_order_acquire);
        if (id == 0)
            continue;
        n++;
        if (hcm__id_alive(id)) {
            a++;
            if (st == HCM_OWNER_OPEN)
                oa++;
        }
    }
    if (owners)
        *owners = n;
    if (alive)
        *alive = a;
    if (open_alive)
        *open_alive = oa;
}
