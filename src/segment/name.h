/* segment/name.h - topic and domain names and their /dev/shm file names.
 *
 * (kind, domain, name) -> "hcm.<domain>.<kind>.<name with '/' as ':'>".
 * ':' and '.' never occur in a domain and ':' never in a name, and a kind is
 * one letter, so the mapping is lossless and reversible: "a/b" and "a_b"
 * differ, and a topic ('t'), a service ('s') and an action ('a') of the same
 * name never share a file. */
#ifndef HCM_SEGMENT_NAME_H
#define HCM_SEGMENT_NAME_H

#include <stddef.h>

#include "hcm/topic.h"

#define HCM_SHM_DIR "/dev/shm"
#define HCM_SHM_PREFIX "hcm."
/* "hcm." + domain + ".t." + name */
#define HCM_SHM_NAME_MAX (4 + HCM_DOMAIN_MAX + 3 + HCM_NAME_MAX)
#define HCM_SHM_PATH_MAX (sizeof HCM_SHM_DIR + HCM_SHM_NAME_MAX + 1)

typedef struct hcm_seg_name {
    char kind;                          /* 't' topic, 's' service, 'a' action */
    char topic[HCM_NAME_MAX + 1];       /* normalised name: no leading '/' */
    char domain[HCM_DOMAIN_MAX + 1];
    char file[HCM_SHM_NAME_MAX + 1];    /* "hcm.0.t.robot:imu" */
    char path[HCM_SHM_PATH_MAX];        /* "/dev/shm/hcm.0.t.robot:imu" */
} hcm_seg_name;

/* Validates `domain` (NULL = default) and `topic`, fills *out. HCM_ENAME with
 * a detail naming the rule broken. */
int hcm__name_make(hcm_seg_name *out, const char *domain, char kind, const char *topic);

/* "topic", "service" or "action". */
const char *hcm__kind_word(char kind);

/* HCM_OK if `domain` is a valid domain name. */
int hcm__domain_check(const char *domain);

/* Parses a /dev/shm file name of kind `kind` in `domain` back into a topic
 * name. Returns 1 and fills topic (cap >= HCM_NAME_MAX + 1) if it is one. */
int hcm__name_parse(const char *file, const char *domain, char kind, char *topic, size_t cap);

#endif
