/* common/inspect.c - peers, domains and listing, for every kind. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "common/inspect_internal.h"
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
    else if (kind == HCM_KIND_SERVICE)
        rc = hcm__service_peers(&sn, peers, cap, &n);
    else
        rc = hcm__action_peers(&sn, peers, cap, &n);
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

/* ---- listing ---------------------------------------------------------------- */

struct collect {
    unsigned char *v;
    size_t n, cap, elem;
    int (*stat_fn)(const hcm_seg_name *, void *);
};

static int collect_one(const hcm_seg_name *name, void *p)
{
    struct collect *c = p;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        unsigned char *v = realloc(c->v, cap * c->elem);
        if (v == NULL)
            return hcm__fail(HCM_ENOMEM, "out of memory listing %s segments",
                             hcm__kind_word(name->kind));
        c->v = v;
        c->cap = cap;
    }
    if (c->stat_fn(name, c->v + c->n * c->elem) != HCM_ENOENT) /* vanished: skip */
        c->n++;
    return HCM_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b); /* each info begins with its name */
}

int hcm__list_collect(const char *domain, char kind, size_t elem_size,
                      int (*stat_fn)(const hcm_seg_name *, void *), void **vecp, size_t *countp)
{
    struct collect c = {NULL, 0, 0, elem_size, stat_fn};
    int rc;
    *vecp = NULL;
    *countp = 0;
    rc = hcm__seg_scan(domain, kind, collect_one, &c);
    if (rc != HCM_OK) {
        free(c.v);
        return rc;
    }
    hcm__clear_error(); /* per-entry errors live in the entries */
    if (c.n > 1)
        qsort(c.v, c.n, elem_size, by_name);
    if (c.n == 0) {
        free(c.v);
        c.v = NULL;
    }
    *vecp = c.v;
    *countp = c.n;
    return HCM_OK;
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
