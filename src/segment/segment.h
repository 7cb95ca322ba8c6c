/* segment/segment.h - create, open, validate, map and remove segments.
 *
 * An hcm_seg is one process's mapping of a topic segment plus the geometry it
 * validated at attach. The geometry is read from shared memory exactly once,
 * into this struct; nothing later trusts the header's copy. */
#ifndef HCM_SEGMENT_SEGMENT_H
#define HCM_SEGMENT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hcm/type.h"
#include "segment/layout.h"
#include "segment/name.h"

#define HCM__EEXIST 1000     /* internal: create lost the race, open instead */
#define HCM__ERECLAIMED 1001 /* internal: the segment is being reclaimed; create anew */

/* A mapping shared by its segment handle and any pins (views that outlive a
 * read, in language bindings); unmapped when the last reference goes. */
typedef struct hcm_mapping {
    void *base;
    size_t size;
    _Atomic uint32_t refs;
} hcm_mapping;

/* A mapped segment file of any kind, before its header is interpreted. */
typedef struct hcm_file {
    hcm_mapping *mapping;       /* one reference, owned */
    void *base;
    size_t size;
    dev_t dev;
    ino_t ino;
    uint32_t mode;
    uid_t uid;
} hcm_file;

/* A created file not yet linked to its name. */
typedef struct hcm_new_file {
    int fd;
    char tmp_path[HCM_SHM_PATH_MAX + 32]; /* "" with O_TMPFILE */
} hcm_new_file;

/* Opens, checks (regular file, our uid unless HCM_ALLOW_OTHER_USERS=1, size
 * between min_size and 16 TiB) and maps name->path. HCM_ENOENT, HCM_EPERM,
 * HCM_ECORRUPT, HCM_ESYS with a detail naming the file. */
int hcm__file_open(hcm_file *f, const hcm_seg_name *name, int writable, size_t min_size);

/* Creates an unnamed file of `total` bytes with `mode` (fchmod), reserves
 * its pages (posix_fallocate: HCM_ENOMEM if /dev/shm cannot hold it) and
 * maps it read-write. Publish it with hcm__file_link() once initialised. */
int hcm__file_create(hcm_file *f, hcm_new_file *nf, const hcm_seg_name *name, uint64_t total,
                     uint32_t mode);

/* Gives the created file its name. HCM_OK; HCM__EEXIST if another process
 * linked one first (f is then released); or an error (f released). */
int hcm__file_link(hcm_file *f, hcm_new_file *nf, const hcm_seg_name *name);

/* Drops f's reference to its mapping. */
void hcm__file_close(hcm_file *f);

/* Marks a retired state word, wakes sleepers on `futex`, and removes the
 * name if it still refers to f's file (device and inode compared). */
int hcm__file_retire(const hcm_file *f, const hcm_seg_name *name, _Atomic uint32_t *state,
                     uint32_t retired, _Atomic uint32_t *futex);

typedef struct hcm_seg {
    hcm_mapping *mapping;       /* owns the mmap */
    hcm_seg_header *hdr;        /* the mapping */
    unsigned char *slots_base;  /* hdr + HCM_SEG_HEADER_SIZE */
    size_t map_size;
    uint32_t slot_count;        /* validated copies */
    uint32_t slot_stride;
    uint64_t max_payload;
    hcm_type type;
    dev_t dev;                  /* identity of the file we mapped */
    ino_t ino;
    uint32_t mode;
    uid_t uid;
} hcm_seg;

/* Opens and validates the existing segment at name->path. `writable` maps it
 * read-write (publishers and subscribers: sleepers count themselves), else
 * read-only (inspection). HCM_ENOENT if it does not exist; HCM_EPERM,
 * HCM_ECORRUPT, HCM_ESYS otherwise, with a detail naming the file. */
int hcm__seg_open(hcm_seg *seg, const hcm_seg_name *name, int writable);

/* Creates a new segment atomically and registers the caller as owner
 * *ownerp. HCM__EEXIST if one appeared meanwhile (the caller opens it). */
int hcm__seg_create(hcm_seg *seg, const hcm_seg_name *name, const hcm_type *type,
                    uint32_t slots, uint64_t max_payload, uint32_t mode, uint32_t *ownerp);

/* Drops the handle's reference to the mapping (unmapped when no pin holds
 * it). NULL-safe, idempotent. */
void hcm__seg_close(hcm_seg *seg);

/* One more reference to the current mapping; returns it (NULL if none). */
hcm_mapping *hcm__mapping_ref(hcm_seg *seg);
/* Drops a reference; the last one unmaps. NULL-safe. */
void hcm__mapping_unref(hcm_mapping *m);

/* Marks the segment retired (attached processes notice) and removes its name
 * if the name still refers to this segment. */
int hcm__seg_retire(hcm_seg *seg, const hcm_seg_name *name);

/* Registers this process as an open publisher in the owners table.
 * HCM_EBUSY if all entries hold live publishers. */
int hcm__seg_register(hcm_seg *seg, uint32_t *ownerp);

/* Marks owner entry `idx` closed (keeps the identity for liveness). */
void hcm__seg_unregister(hcm_seg *seg, uint32_t idx);

/* Owner statistics: recorded owners, alive owners, open publishers alive. */
void hcm__seg_owners(const hcm_seg *seg, uint32_t *owners, uint32_t *alive, uint32_t *open_alive);

/* Claims a line in the readers table for this process's subscriber, with
 * its position and losses so far: its index, or -1 if the table is full
 * (the subscriber then goes untracked). */
int hcm__seg_reader_claim(hcm_seg *seg, uint64_t next_seq, uint64_t lost);
/* Frees a claimed line (idx < 0: no-op). */
void hcm__seg_reader_release(hcm_seg *seg, int idx);

/* Calls fn for every segment file of `kind` in `domain` (NULL = default),
 * in directory order, until fn returns something other than HCM_OK. */
int hcm__seg_scan(const char *domain, char kind, int (*fn)(const hcm_seg_name *, void *),
                  void *ctx);

static inline void *hcm__seg_slot(const hcm_seg *seg, uint64_t seq)
{
    return seg->slots_base + (size_t)(seq % seg->slot_count) * seg->slot_stride;
}

#endif
