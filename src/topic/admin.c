/* topic/admin.c - listing, inspecting, unlinking and reclaiming topics. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_internal.h"
#include "segment/segment.h"

static void fill_info(hcm_topic_info *info, const hcm_seg_name *name)
{
    memset(info, 0, sizeof *info);
    memcpy(info->name, name->topic, strlen(name->topic) + 1);
    memcpy(info->domain, name->domain, strlen(name->domain) + 1);
}

static void fill_from_seg(hcm_topic_info *info, const hcm_seg *seg)
{
    const hcm_seg_header *h = seg->hdr;
    info->type = seg->type;
    info->slots = seg->slot_count;
    info->max_payload = seg->max_payload;
    hcm__seg_owners(seg, &info->owners, &info->owners_alive, &info->publishers);
    /* relaxed: statistics; a slightly old value is fine for a listing */
    info->publish_count = atomic_load_explicit(&h->write_seq, memory_order_relaxed);
    info->last_publish_ns = atomic_load_explicit(&h->last_publish_ns, memory_order_relaxed);
    info->lock_steals = atomic_load_explicit(&h->lock_steals, memory_order_relaxed);
    info->create_time_ns = h->create_time_ns;
    info->size = seg->map_size;
    info->mode = seg->mode;
    info->uid = (uint32_t)seg->uid;
}

/* Fills *info for one named segment; info->error tells what could not be read. */
static int stat_one(const hcm_seg_name *name, hcm_topic_info *info)
{
    hcm_seg seg;
    struct stat st;
    int rc;
    fill_info(info, name);
    rc = hcm__seg_open(&seg, name, 0);
    if (rc == HCM_OK) {
        fill_from_seg(info, &seg);
        hcm__seg_close(&seg);
        return HCM_OK;
    }
    if (rc == HCM_ENOENT)
        return rc;
    info->error = rc;
    if (stat(name->path, &st) == 0) {
        info->size = (uint64_t)st.st_size;
        info->mode = (uint32_t)(st.st_mode & 07777);
        info->uid = (uint32_t)st.st_uid;
    }
    return rc;
}

int hcm_topic_stat(const char *domain, const char *topic, hcm_topic_info *infop)
{
    hcm_seg_name name;
    hcm_topic_info info;
    int rc;
    hcm__clear_error();
    if (infop == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_topic_stat: infop is NULL");
    if ((rc = hcm__name_make(&name, domain, 't', topic)) != HCM_OK)
        return rc;
    rc = stat_one(&name, &info);
    *infop = info;
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hcm_topic_info *)a)->name, ((const hcm_topic_info *)b)->name);
}

/* Calls fn for every topic file of the domain. */
static int scan(const char *domain, int (*fn)(const hcm_seg_name *, void *), void *ctx)
{
    DIR *d;
    struct dirent *e;
    char topic[HCM_NAME_MAX + 1];
    int rc = HCM_OK;
    if (domain == NULL)
        domain = hcm_default_domain();
    if ((rc = hcm__domain_check(domain)) != HCM_OK)
        return rc;
    d = opendir(HCM_SHM_DIR);
    if (d == NULL)
        return hcm__fail_sys(errno, "opendir " HCM_SHM_DIR);
    while ((e = readdir(d)) != NULL) {
        hcm_seg_name name;
        if (!hcm__name_parse(e->d_name, domain, 't', topic, sizeof topic))
            continue;
        if (hcm__name_make(&name, domain, 't', topic) != HCM_OK)
            continue;
        rc = fn(&name, ctx);
        if (rc != HCM_OK)
            break;
    }
    closedir(d);
    return rc;
}

struct list_ctx {
    hcm_topic_info *v;
    size_t n, cap;
};

static int list_one(const hcm_seg_name *name, void *p)
{
    struct list_ctx *c = p;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        hcm_topic_info *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL)
            return hcm__fail(HCM_ENOMEM, "out of memory listing topics");
        c->v = v;
        c->cap = cap;
    }
    if (stat_one(name, &c->v[c->n]) != HCM_ENOENT) /* vanished meanwhile: skip */
        c->n++;
    return HCM_OK;
}

int hcm_topic_list(const char *domain, hcm_topic_info **infosp, size_t *countp)
{
    struct list_ctx c = {NULL, 0, 0};
    int rc;
    hcm__clear_error();
    if (infosp == NULL || countp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_topic_list: NULL argument");
    *infosp = NULL;
    *countp = 0;
    rc = scan(domain, list_one, &c);
    if (rc != HCM_OK) {
        free(c.v);
        return rc;
    }
    hcm__clear_error();
    if (c.n > 1)
        qsort(c.v, c.n, sizeof *c.v, by_name);
    if (c.n == 0) {
        free(c.v);
        c.v = NULL;
    }
    *infosp = c.v;
    *countp = c.n;
    return HCM_OK;
}

void hcm_topic_list_free(hcm_topic_info *infos)
{
    free(infos);
}

int hcm_topic_unlink(const char *domain, const char *topic)
{
    hcm_seg_name name;
    hcm_seg seg;
    int rc;
    hcm__clear_error();
    if ((rc = hcm__name_make(&name, domain, 't', topic)) != HCM_OK)
        return rc;
    rc = hcm__seg_open(&seg, &name, 1);
    if (rc == HCM_OK) {
        rc = hcm__seg_retire(&seg, &name);
        hcm__seg_close(&seg);
        return rc;
    }
    if (rc == HCM_ECORRUPT || rc == HCM_EPERM) {
        /* Not a segment we can map (garbage, or another user's 0666 file
         * in our name): remove the name anyway if the directory lets us. */
        hcm__clear_error();
        if (unlink(name.path) == 0)
            return HCM_OK;
        return hcm__fail_sys(errno, "unlink %s", name.path);
    }
    return rc;
}

struct reclaim_ctx {
    size_t count;
};

static int reclaim_one(const hcm_seg_name *name, void *p)
{
    struct reclaim_ctx *c = p;
    hcm_seg seg;
    uint32_t owners, alive;
    if (hcm__seg_open(&seg, name, 1) != HCM_OK) {
        hcm__clear_error(); /* not ours to judge: leave it */
        return HCM_OK;
    }
    hcm__seg_owners(&seg, &owners, &alive, NULL);
    if (alive == 0 && hcm__seg_retire(&seg, name) == HCM_OK)
        c->count++;
    hcm__seg_close(&seg);
    return HCM_OK;
}

int hcm_topic_reclaim(const char *domain, size_t *countp)
{
    struct reclaim_ctx c = {0};
    int rc;
    hcm__clear_error();
    rc = scan(domain, reclaim_one, &c);
    if (countp)
        *countp = c.count;
    return rc;
}
