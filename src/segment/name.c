/* segment/name.c - see name.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_internal.h"
#include "segment/name.h"

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

const char *hcm_default_domain(void)
{
    const char *d = getenv("HCM_DOMAIN");
    return (d != NULL && d[0] != '\0') ? d : "0";
}

const char *hcm__kind_word(char kind)
{
    return kind == 's' ? "service" : kind == 'a' ? "action" : "topic";
}

int hcm__domain_check(const char *domain)
{
    size_t n;
    if (domain == NULL)
        return hcm__fail(HCM_ENAME, "domain is NULL");
    n = strnlen(domain, HCM_DOMAIN_MAX + 1);
    if (n == 0)
        return hcm__fail(HCM_ENAME, "domain is empty");
    if (n > HCM_DOMAIN_MAX)
        return hcm__fail(HCM_ENAME, "domain '%.40s...' is longer than %d bytes", domain,
                         HCM_DOMAIN_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(domain[i]))
            return hcm__fail(HCM_ENAME,
                             "domain '%s' has character 0x%02x at %zu; allowed: [A-Za-z0-9_-]",
                             domain, (unsigned char)domain[i], i);
    return HCM_OK;
}

static int topic_check(const char *topic, size_t *lenp)
{
    size_t n = strnlen(topic, HCM_NAME_MAX + 1);
    size_t seg = 0;
    if (n == 0)
        return hcm__fail(HCM_ENAME, "topic name is empty");
    if (n > HCM_NAME_MAX)
        return hcm__fail(HCM_ENAME, "topic name '%.40s...' is longer than %d bytes",
                         topic, HCM_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (c == '/') {
            if (seg == 0)
                return hcm__fail(HCM_ENAME,
                                 "topic name '%s' has an empty segment at %zu ('//' or a "
                                 "trailing or doubled '/')",
                                 topic, i);
            seg = 0;
        } else if (is_word_char(c) || c == '.') {
            seg++;
        } else {
            return hcm__fail(HCM_ENAME,
                             "topic name '%.*s' has character 0x%02x at %zu; allowed: "
                             "[A-Za-z0-9_.-] and '/' between segments",
                             (int)n, topic, (unsigned char)c, i);
        }
    }
    if (seg == 0)
        return hcm__fail(HCM_ENAME, "topic name '%s' ends with '/'", topic);
    *lenp = n;
    return HCM_OK;
}

int hcm__name_make(hcm_seg_name *out, const char *domain, char kind, const char *topic)
{
    size_t n;
    int rc;
    if (topic == NULL)
        return hcm__fail(HCM_EINVAL, "topic name is NULL");
    if (domain == NULL)
        domain = hcm_default_domain();
    if ((rc = hcm__domain_check(domain)) != HCM_OK)
        return rc;
    if (topic[0] == '/')
        topic++; /* one leading '/' is accepted, ROS style */
    if ((rc = topic_check(topic, &n)) != HCM_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    memcpy(out->topic, topic, n);
    memcpy(out->domain, domain, strlen(domain));
    snprintf(out->file, sizeof out->file, HCM_SHM_PREFIX "%s.%c.%s", domain, kind, topic);
    for (char *p = out->file + strlen(HCM_SHM_PREFIX) + strlen(domain) + 3; *p; p++)
        if (*p == '/')
            *p = ':';
    snprintf(out->path, sizeof out->path, HCM_SHM_DIR "/%s", out->file);
    return HCM_OK;
}

int hcm__name_parse(const char *file, const char *domain, char kind, char *topic, size_t cap)
{
    size_t pl = strlen(HCM_SHM_PREFIX), dl = strlen(domain), n;
    size_t tl;
    if (strncmp(file, HCM_SHM_PREFIX, pl) != 0 || strncmp(file + pl, domain, dl) != 0)
        return 0;
    file += pl + dl;
    if (file[0] != '.' || file[1] != kind || file[2] != '.')
        return 0;
    file += 3;
    n = strlen(file);
    if (n == 0 || n > HCM_NAME_MAX || n + 1 > cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        topic[i] = file[i] == ':' ? '/' : file[i];
    topic[n] = '\0';
    if (topic_check(topic, &tl) != HCM_OK) {
        hcm__clear_error();
        return 0;
    }
    return 1;
}
