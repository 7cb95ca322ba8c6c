/* common/inspect.c - peers, domains and listing, for every kind. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error_internal.h"
#include "common/inspect_internal.h"
#include "segment/layout.h"
#include "segment/owner.h"
#include "segment/segment.h"

int hcm_peers(hcm_kind kind, const char *domain, const char *name, hcm_peer_info *peers,
              size_t cap, size_t *countp)
{
    hcm_seg_name sn;
    size_t n = 0;
    int rc;
    hcm__clear_error();
    if (countp == NULL || (peers == NULL && cap != 0))
        return hcm__fail(HCM_EINVAL, "hcm_peers: NULL argument");
    *countp = 0;
    if (kind != HCM_KIND_TOPIC && kind != HCM_KIND_SERVICE && kind != HCM_KIND_ACTION)
        return hcm__fail(HCM_EINVAL, "hcm_peers: unknown kind %d", (int)kind);
    if ((rc = hcm__name_make(&sn, domain, (char)kind, name)) != HCM_OK)
        return rc;
    if (kind == HCM_KIND_TOPIC)
        rc = hcm__topic_peers(&sn, peers, cap, &n);
    else
        rc = hcm__inspect_peers(kind == HCM_KIND_SERVICE ? &hcm__service_inspector
                                                         : &hcm__action_inspector,
                                &sn, peers, cap, &n);
    if (rc == HCM_OK)
        *countp = n;
    return rc;
}

/* ---- domains ---------------------------------------------------------------- */

static int by_domain(const void *a, const void *b)
{
    return strcmp(((const hcm_domain_name *)a)->name, ((const hcm_domain_name *)b)->name);
}

int hcm_domain_list(hcm_domain_name **domainsp, size_t *countp)
{
    DIR *d;
    struct dirent *e;
    hcm_domain_name *v = NULL;
    size_t n = 0, cap = 0;
    const size_t pl = strlen(HCM_SHM_PREFIX);
    hcm__clear_error();
    if (domainsp == NULL || countp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_domain_list: NULL argument");
    *domainsp = NULL;
    *countp = 0;
    if ((d = opendir(HCM_SHM_DIR)) == NULL)
        return hcm__fail_sys(errno, "opendir " HCM_SHM_DIR);
    while ((e = readdir(d)) != NULL) {
        /* "hcm.<domain>.<kind>.<name>": the domain ends at the next '.' */
        const char *dom = e->d_name + pl, *dot;
        hcm_domain_name dn;
        size_t len, i;
        if (strncmp(e->d_name, HCM_SHM_PREFIX, pl) != 0 || (dot = strchr(dom, '.')) == NULL)
            continue;
        len = (size_t)(dot - dom);
        if (len == 0 || len > HCM_DOMAIN_MAX)
            continue;
        memcpy(dn.name, dom, len);
        dn.name[len] = '\0';
        if (hcm__domain_check(dn.name) != HCM_OK) {
            hcm__clear_error();
            continue;
        }
        for (i = 0; i < n && strcmp(v[i].name, dn.name) != 0; i++)
            ;
        if (i < n)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            hcm_domain_name *nv = realloc(v, ncap * sizeof *nv);
            if (nv == NULL) {
                closedir(d);
                free(v);
                return hcm__fail(HCM_ENOMEM, "out of memory listing domains");
            }
            v = nv;
            cap = ncap;
        }
        v[n++] = dn;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, by_domain);
    *domainsp = v;
    *countp = n;
    return HCM_OK;
}

void hcm_domain_list_free(hcm_domain_name *domains)
{
    free(domains);
}

/* ---- stat, list, peers, reclaim of any kind ------------------------------------- */

_Static_assert(offsetof(hcm_topic_info, error) == offsetof(hcm__info_head, error), "info head");
_Static_assert(offsetof(hcm_service_info, error) == offsetof(hcm__info_head, error), "info head");
_Static_assert(offsetof(hcm_action_info, error) == offsetof(hcm__info_head, error), "info head");

/* Fills *info for one named segment: HCM_OK; HCM_ENOENT; or the reason it
 * cannot be read, also in info->error, with the file's size, mode and owner. */
static int inspect_one(const hcm__inspector *k, const hcm_seg_name *name, void *info)
{
    hcm__info_head *head = info;
    struct stat st;
    int rc;
    memset(info, 0, k->info_size);
    memcpy(head->name, name->topic, strlen(name->topic) + 1);
    memcpy(head->domain, name->domain, strlen(name->domain) + 1);
    rc = k->examine(name, info, NULL, NULL, 0, NULL);
    if (rc == HCM_OK || rc == HCM_ENOENT)
        return rc;
    head->error = rc;
    if (stat(name->path, &st) == 0) {
        uint64_t size = (uint64_t)st.st_size;
        uint32_t mode = (uint32_t)(st.st_mode & 07777), uid = (uint32_t)st.st_uid;
        memcpy((char *)info + k->off_size, &size, sizeof size);
        memcpy((char *)info + k->off_mode, &mode, sizeof mode);
        memcpy((char *)info + k->off_uid, &uid, sizeof uid);
    }
    return rc;
}

int hcm__inspect_stat(const hcm__inspector *k, const char *domain, const char *name, void *info)
{
    hcm_seg_name sn;
    int rc;
    hcm__clear_error();
    if (info == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_%s_stat: infop is NULL", hcm__kind_word(k->kind));
    if ((rc = hcm__name_make(&sn, domain, k->kind, name)) != HCM_OK)
        return rc;
    return inspect_one(k, &sn, info);
}

struct collect {
    const hcm__inspector *k;
    unsigned char *v;
    size_t n, cap;
};

static int collect_one(const hcm_seg_name *name, void *p)
{
    struct collect *c = p;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        unsigned char *v = realloc(c->v, cap * c->k->info_size);
        if (v == NULL)
            return hcm__fail(HCM_ENOMEM, "out of memory listing %s segments",
                             hcm__kind_word(name->kind));
        c->v = v;
        c->cap = cap;
    }
    if (inspect_one(c->k, name, c->v + c->n * c->k->info_size) != HCM_ENOENT) /* vanished: skip */
        c->n++;
    return HCM_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hcm__info_head *)a)->name, ((const hcm__info_head *)b)->name);
}

int hcm__inspect_list(const hcm__inspector *k, const char *domain, void **vecp, size_t *countp)
{
    struct collect c = {k, NULL, 0, 0};
    int rc;
    hcm__clear_error();
    if (vecp == NULL || countp == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_%s_list: NULL argument", hcm__kind_word(k->kind));
    *vecp = NULL;
    *countp = 0;
    rc = hcm__seg_scan(domain, k->kind, collect_one, &c);
    if (rc != HCM_OK) {
        free(c.v);
        return rc;
    }
    hcm__clear_error(); /* per-entry errors live in the entries */
    if (c.n > 1)
        qsort(c.v, c.n, k->info_size, by_name);
    if (c.n == 0) {
        free(c.v);
        c.v = NULL;
    }
    *vecp = c.v;
    *countp = c.n;
    return HCM_OK;
}

int hcm__inspect_peers(const hcm__inspector *k, const hcm_seg_name *name, hcm_peer_info *peers,
                       size_t cap, size_t *countp)
{
    union {
        hcm_service_info s;
        hcm_action_info a;
    } info;
    hcm__tally tally;
    uint64_t server = 0;
    size_t n = 0;
    int rc;
    memset(&info, 0, sizeof info);
    if ((rc = k->examine(name, &info, &tally, &server, 0, NULL)) != HCM_OK)
        return rc;
    hcm__server_peer(server, peers, cap, &n);
    hcm__tally_peers(&tally, peers, cap, &n);
    hcm__tally_free(&tally);
    *countp = n;
    return HCM_OK;
}

struct reclaim {
    const hcm__inspector *k;
    void *info; /* scratch */
    size_t count;
};

static int reclaim_one(const hcm_seg_name *name, void *p)
{
    struct reclaim *r = p;
    int retired = 0;
    memset(r->info, 0, r->k->info_size);
    /* A segment that cannot be opened is not ours to judge: left alone. */
    if (r->k->examine(name, r->info, NULL, NULL, 1, &retired) == HCM_OK && retired)
        r->count++;
    hcm__clear_error();
    return HCM_OK;
}

int hcm__inspect_reclaim(const hcm__inspector *k, const char *domain, size_t *countp)
{
    union {
        hcm_topic_info t;
        hcm_service_info s;
        hcm_action_info a;
    } scratch;
    struct reclaim r = {k, &scratch, 0};
    int rc;
    hcm__clear_error();
    rc = hcm__seg_scan(domain, k->kind, reclaim_one, &r);
    if (countp)
        *countp = r.count;
    return rc;
}

/* ---- client tallies ------------------------------------------------------------ */

int hcm__tally_init(hcm__tally *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->ids = calloc(cap ? cap : 1, sizeof *t->ids);
    t->held = calloc(cap ? cap : 1, sizeof *t->held);
    t->cap = cap;
    if (t->ids == NULL || t->held == NULL) {
        hcm__tally_free(t);
        return hcm__fail(HCM_ENOMEM, "out of memory");
    }
    return HCM_OK;
}

void hcm__tally_add(hcm__tally *t, uint64_t id)
{
    size_t i;
    if (id == 0)
        return;
    for (i = 0; i < t->n && t->ids[i] != id; i++)
        ;
    if (i == t->n) {
        if (t->n == t->cap)
            return; /* more ids than slots cannot happen; stay in bounds anyway */
        t->ids[t->n++] = id;
    }
    t->held[i]++;
}

void hcm__tally_free(hcm__tally *t)
{
    free(t->ids);
    free(t->held);
    memset(t, 0, sizeof *t);
}

uint32_t hcm__tally_peers(const hcm__tally *t, hcm_peer_info *peers, size_t cap, size_t *np)
{
    uint32_t alive = 0;
    for (size_t i = 0; i < t->n; i++) {
        int a = hcm__id_alive(t->ids[i]);
        alive += a ? 1u : 0u;
        if (*np < cap) {
            hcm_peer_info *p = &peers[*np];
            memset(p, 0, sizeof *p);
            p->role = HCM_PEER_CLIENT;
            p->pid = hcm__id_pid(t->ids[i]);
            p->alive = a;
            p->open = 1;
            p->held = t->held[i];
        }
        (*np)++;
    }
    return alive;
}

void hcm__server_peer(uint64_t id, hcm_peer_info *peers, size_t cap, size_t *np)
{
    if (id == 0)
        return;
    if (*np < cap) {
        hcm_peer_info *p = &peers[*np];
        memset(p, 0, sizeof *p);
        p->role = HCM_PEER_SERVER;
        p->pid = hcm__id_pid(id);
        p->alive = hcm__id_alive(id);
        p->open = 1;
    }
    (*np)++;
}

int hcm__condemn(_Atomic uint64_t *server)
{
    /* acquire: pairs with a server's claim CAS (acq_rel) */
    uint64_t seen = atomic_load_explicit(server, memory_order_acquire);
    if (seen == HCM_SERVER_RECLAIMED)
        return 1;
    if (seen != 0 && hcm__id_alive(seen))
        return 0; /* a server claimed it since the listing */
    /* acq_rel: a server's claim CAS from `seen` now fails and it sees the
     * tombstone; one that won first makes this CAS fail */
    return atomic_compare_exchange_strong_explicit(server, &seen, HCM_SERVER_RECLAIMED,
                                                   memory_order_acq_rel, memory_order_acquire);
}
