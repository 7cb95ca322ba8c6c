/* type_internal.h - type checks shared by the topic, service and action ends
 * that may leave a type unset (HCM_TYPE_NONE: "accept what the peer has"). */
#ifndef HCM_TYPE_INTERNAL_H
#define HCM_TYPE_INTERNAL_H

#include "hcm/type.h"

/* An optional type given by a caller: unset, or a valid descriptor. */
static inline int hcm__type_optional_valid(const hcm_type *t)
{
    return t->kind == HCM_TYPE_NONE || hcm_type_validate(t) == HCM_OK;
}

/* Does a peer's type satisfy what this end asked for (unset: anything)? */
static inline int hcm__type_accepts(const hcm_type *want, const hcm_type *have)
{
    return want->kind == HCM_TYPE_NONE || hcm_type_equal(want, have);
}

#endif
