/* segment/segment.c - see segment.h and layout.h. */
#include <dirent.h>
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
static hcm_mapping *adopt_mapping(void *map, size_t size)
{
    hcm_mapping *m = malloc(sizeof *m);
    if (m == NULL) {
        munmap(map, size);
        hcm__fail(HCM_ENOMEM, "out of memory");
        return NULL;
    }
    m->base = map;
    m->size = size;
    /* relaxed: nobody else can see m yet */
    atomic_init(&m->refs, 1);
    return m;
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

int hcm__file_open(hcm_file *f, const hcm_seg_name *name, int writable, size_t min_size)
{
    struct stat st;
    void *map;
    int fd, rc;

    memset(f, 0, sizeof *f);
    fd = open(name->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return hcm__fail(HCM_ENOENT, "%s '%s' does not exist in domain '%s' (%s)",
                             hcm__kind_word(name->kind), name->topic, name->domain, name->path);
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
    /* Reading someone else's segment is safe (we validate everything); using
     * one they made in our name is not: they could feed us data. */
    if (writable && st.st_uid != geteuid() && !foreign_owner_allowed()) {
        close(fd);
        return hcm__fail(HCM_EPERM,
                         "%s belongs to uid %u, not to us (uid %u), mode %04o; refused (set "
                         "HCM_ALLOW_OTHER_USERS=1 to accept segments of other users)",
                         name->path, (unsigned)st.st_uid, (unsigned)geteuid(),
                         (unsigned)(st.st_mode & 07777));
    }
    if ((uint64_t)st.st_size < min_size || (uint64_t)st.st_size > MAX_SEGMENT_BYTES) {
        close(fd);
        return hcm__fail(HCM_ECORRUPT, "%s: %lld bytes, not a valid segment size (header is %zu)",
                         name->path, (long long)st.st_size, min_size);
    }
    map = mmap(NULL, (size_t)st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
               MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = hcm__fail_sys(errno, "mmap %s (%lld bytes)", name->path, (long long)st.st_size);
        close(fd);
        return rc;
    }
    close(fd); /* the mapping keeps the file alive */
    if ((f->mapping = adopt_mapping(map, (size_t)st.st_size)) == NULL)
        return HCM_ENOMEM;
    f->base = map;
    f->size = (size_t)st.st_size;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->mode = (uint32_t)(st.st_mode & 07777);
    f->uid = st.st_uid;
    return HCM_OK;
}

void hcm__file_close(hcm_file *f)
{
    if (f == NULL || f->mapping == NULL)
        return;
    hcm__mapping_unref(f->mapping);
    memset(f, 0, sizeof *f);
}

/* An unnamed file in /dev/shm (O_TMPFILE), or, where that is not supported,
 * a uniquely named one that hcm__file_link() renames. */
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

int hcm__file_create(hcm_file *f, hcm_new_file *nf, const hcm_seg_name *name, uint64_t total,
                     uint32_t mode)
{
    const char *what = hcm__kind_word(name->kind);
    void *map;
    int rc, err;

    memset(f, 0, sizeof *f);
    if (total > MAX_SEGMENT_BYTES || total > (uint64_t)SIZE_MAX)
        return hcm__fail(HCM_ENOMEM, "%s '%s': %llu bytes is too large", what, name->topic,
                         (unsigned long long)total);
    nf->fd = make_unnamed(name, nf->tmp_path, sizeof nf->tmp_path);
    if (nf->fd < 0)
        return hcm__fail_sys(errno, "create a segment in " HCM_SHM_DIR " for %s '%s'", what,
                             name->topic);
    if (fchmod(nf->fd, (mode_t)mode) != 0) {
        rc = hcm__fail_sys(errno, "fchmod %04o for %s '%s'", mode, what, name->topic);
        goto fail;
    }
    /* posix_fallocate reserves the pages now: a segment that does not fit in
     * /dev/shm fails here with ENOSPC instead of a SIGBUS on first touch. */
    err = posix_fallocate(nf->fd, 0, (off_t)total);
    if (err != 0) {
        rc = hcm__fail_sys(err, "reserve %llu bytes in " HCM_SHM_DIR " for %s '%s'",
                           (unsigned long long)total, what, name->topic);
        if (err == ENOSPC || err == EFBIG)
            rc = HCM_ENOMEM;
        goto fail;
    }
    map = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, nf->fd, 0);
    if (map == MAP_FAILED) {
        rc = hcm__fail_sys(errno, "mmap %llu bytes for %s '%s'", (unsigned long long)total, what,
                           name->topic);
        goto fail;
    }
    if ((f->mapping = adopt_mapping(map, (size_t)total)) == NULL) {
        rc = HCM_ENOMEM;
        goto fail;
    }
    f->base = map;
    f->size = (size_t)total;
    f->mode = mode;
    f->uid = geteuid();
    return HCM_OK;
fail:
    close(nf->fd);
    if (nf->tmp_path[0] != '\0')
        unlink(nf->tmp_path);
    return rc;
}

int hcm__file_link(hcm_file *f, hcm_new_file *nf, const hcm_seg_name *name)
{
    struct stat st;
    int rc, err;
    /* The file is complete and has no name yet; the link publishes it: a
     * process can only open (and then map) it after the link, which orders
     * all our stores before its loads. */
    if (nf->tmp_path[0] != '\0') {
        rc = link(nf->tmp_path, name->path);
        err = errno;
        unlink(nf->tmp_path);
    } else {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", nf->fd);
        rc = linkat(AT_FDCWD, proc, AT_FDCWD, name->path, AT_SYMLINK_FOLLOW);
        err = errno;
    }
    if (rc != 0) {
        close(nf->fd);
        hcm__file_close(f);
        if (err == EEXIST)
            return HCM__EEXIST;
        return hcm__fail_sys(err, "link %s", name->path);
    }
    if (fstat(nf->fd, &st) == 0) {
        f->dev = st.st_dev;
        f->ino = st.st_ino;
    }
    close(nf->fd);
    return HCM_OK;
}

int hcm__file_retire(const hcm_file *f, const hcm_seg_name *name, _Atomic uint32_t *state,
                     uint32_t retired, _Atomic uint32_t *futex)
{
    struct stat st;
    /* (R1) release: pairs with the acquire loads of the state word in
     * attached processes, which then re-attach by name. */
    atomic_store_explicit(state, retired, memory_order_release);
    if (futex != NULL) {
        /* Wake sleepers so they see the retirement now rather than at their
         * timeout. release: a woken sleeper that reads the bump sees (R1). */
        atomic_fetch_add_explicit(futex, 1, memory_order_release);
        hcm__futex_wake_all(futex);
    }
    if (stat(name->path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino) {
        if (unlink(name->path) != 0 && errno != ENOENT)
            return hcm__fail_sys(errno, "unlink %s", name->path);
    }
    return HCM_OK;
}

/* The topic view of a mapped file. */
static void seg_from_file(hcm_seg *seg, const hcm_file *f)
{
    seg->mapping = f->mapping;
    seg->hdr = f->base;
    seg->slots_base = (unsigned char *)f->base + HCM_SEG_HEADER_SIZE;
    seg->map_size = f->size;
    seg->dev = f->dev;
    seg->ino = f->ino;
    seg->mode = f->mode;
    seg->uid = f->uid;
}

static hcm_file file_of_seg(const hcm_seg *seg)
{
    hcm_file f = {seg->mapping, seg->hdr, seg->map_size, seg->dev, seg->ino, seg->mode, seg->uid};
    return f;
}

int hcm__seg_open(hcm_seg *seg, const hcm_seg_name *name, int writable)
{
    hcm_seg_header snap;
    hcm_file f;
    int rc;

    memset(seg, 0, sizeof *seg);
    if ((rc = hcm__file_open(&f, name, writable, HCM_SEG_HEADER_SIZE)) != HCM_OK)
        return rc;
    memcpy(&snap, f.base, sizeof snap);
    rc = validate_header(seg, &snap, f.size, name->path);
    /* relaxed: a plausibility check of a counter that keeps moving */
    if (rc == HCM_OK && atomic_load_explicit(&((hcm_seg_header *)f.base)->write_seq,
                                             memory_order_relaxed) >= HCM_SEG_SEQ_MAX)
        rc = hcm__fail(HCM_ECORRUPT, "%s: write sequence beyond 2^62", name->path);
    if (rc != HCM_OK) {
        hcm__file_close(&f);
        memset(seg, 0, sizeof *seg);
        return rc;
    }
    seg_from_file(seg, &f);
    return HCM_OK;
}

int hcm__seg_create(hcm_seg *seg, const hcm_seg_name *name, const hcm_type *type,
                    uint32_t slots, uint64_t max_payload, uint32_t mode, uint32_t *ownerp)
{
    hcm_new_file nf;
    hcm_seg_header *h;
    hcm_file f;
    uint64_t stride, total;
    int rc;

    memset(seg, 0, sizeof *seg);
    stride = (HCM_SEG_SLOT_HEADER + max_payload + HCM_SEG_LINE - 1) / HCM_SEG_LINE * HCM_SEG_LINE;
    total = HCM_SEG_HEADER_SIZE + (uint64_t)slots * stride;
    if (stride > UINT32_MAX)
        return hcm__fail(HCM_ENOMEM, "topic '%s': %u slots of %llu bytes is too large", name->topic,
                         slots, (unsigned long long)max_payload);
    if ((rc = hcm__file_create(&f, &nf, name, total, mode)) != HCM_OK)
        return rc;
    /* The file is fresh (zero-filled) and unnamed: plain stores are fine. */
    h = f.base;
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
    if ((rc = hcm__file_link(&f, &nf, name)) != HCM_OK)
        return rc;
    seg_from_file(seg, &f);
    seg->slot_count = slots;
    seg->slot_stride = (uint32_t)stride;
    seg->max_payload = max_payload;
    seg->type = *type;
    *ownerp = 0;
    return HCM_OK;
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
    hcm_file f = file_of_seg(seg);
    return hcm__file_retire(&f, name, &seg->hdr->state, HCM_SEG_STATE_RETIRED, &seg->hdr->futex);
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
        /* state first, then id (acquire both: pairs with the release stores
         * in register/unregister): an OPEN seen here comes with its id */
        uint32_t st = atomic_load_explicit(&seg->hdr->owners[i].state, memory_order_acquire);
        uint64_t id = atomic_load_explicit(&seg->hdr->owners[i].id, memory_order_acquire);
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

int hcm__seg_reader_claim(hcm_seg *seg, uint64_t next_seq, uint64_t lost)
{
    uint64_t me = hcm__self_process_id();
    hcm_seg_reader *r = seg->hdr->readers;
    /* Pass 0 takes a free entry; pass 1 (table full: rare, and a system call
     * or two per entry) reuses an entry of a dead process. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < HCM_SEG_READERS; i++) {
            /* relaxed: a candidate only; the CAS below decides */
            uint64_t id = atomic_load_explicit(&r[i].id, memory_order_relaxed);
            if (pass == 0 ? id != 0 : id == 0 || hcm__id_alive(id))
                continue;
            /* Our position goes in before our id, so a tool that sees the id
             * (acquire load) sees our numbers, not the previous holder's. If
             * the CAS then fails, the line's winner overwrites them at its
             * next read; until then a tool may show it one stale lag.
             * relaxed: ordered by the release of the CAS. */
            atomic_store_explicit(&r[i].next_seq, next_seq, memory_order_relaxed);
            atomic_store_explicit(&r[i].lost, lost, memory_order_relaxed);
            /* acq_rel: release publishes the stores above with the id (pairs
             * with the tools' acquire id loads); acquire orders us after the
             * previous holder's release in hcm__seg_reader_release */
            if (atomic_compare_exchange_strong_explicit(&r[i].id, &id, me, memory_order_acq_rel,
                                                        memory_order_relaxed))
                return (int)i;
        }
    }
    return -1;
}

void hcm__seg_reader_release(hcm_seg *seg, int idx)
{
    if (seg->hdr != NULL && idx >= 0 && (uint32_t)idx < HCM_SEG_READERS)
        /* release: the next claimer (acq_rel CAS) sees our last stores */
        atomic_store_explicit(&seg->hdr->readers[idx].id, 0, memory_order_release);
}

int hcm__seg_scan(const char *domain, char kind, int (*fn)(const hcm_seg_name *, void *), void *ctx)
{
    DIR *d;
    struct dirent *e;
    char name[HCM_NAME_MAX + 1];
    int rc = HCM_OK;
    if (domain == NULL)
        domain = hcm_default_domain();
    if ((rc = hcm__domain_check(domain)) != HCM_OK)
        return rc;
    d = opendir(HCM_SHM_DIR);
    if (d == NULL)
        return hcm__fail_sys(errno, "opendir " HCM_SHM_DIR);
    while ((e = readdir(d)) != NULL) {
        hcm_seg_name sn;
        if (!hcm__name_parse(e->d_name, domain, kind, name, sizeof name))
            continue;
        if (hcm__name_make(&sn, domain, kind, name) != HCM_OK)
            continue;
        rc = fn(&sn, ctx);
        if (rc != HCM_OK)
            break;
    }
    closedir(d);
    return rc;
}
