/* hcm/export.h - symbol visibility. */
#ifndef HCM_EXPORT_H
#define HCM_EXPORT_H

#if defined(HCM_STATIC_DEFINE)
#define HCM_API
#elif defined(__GNUC__)
#define HCM_API __attribute__((visibility("default")))
#else
#define HCM_API
#endif

#endif /* HCM_EXPORT_H */
