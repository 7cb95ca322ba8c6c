/* hcm/hcm.h - the Handy Communication Manager: one include for everything.
 *
 * hcm moves typed samples between processes on one machine through POSIX
 * shared memory: topics (publish/subscribe) today; services and actions build
 * on the same pieces. See docs/design.md for the segment layout and protocol.
 */
#ifndef HCM_HCM_H
#define HCM_HCM_H

#include "hcm/error.h"
#include "hcm/type.h"
#include "hcm/topic.h"
#include "hcm/service.h"
#include "hcm/action.h"
#include "hcm/inspect.h"

#define HCM_VERSION_MAJOR 0
#define HCM_VERSION_MINOR 1
#define HCM_VERSION_PATCH 0
#define HCM_VERSION_STRING "0.1.0"

#endif /* HCM_HCM_H */
