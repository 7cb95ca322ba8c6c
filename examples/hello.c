/* hello - one process publishes a float64 and reads it back. */
#include <stdio.h>

#include <hcm/hcm.h>

int main(void)
{
    hcm_publisher_attr pa;
    hcm_publisher_attr_init(&pa);
    pa.type = hcm_type_scalar(HCM_TYPE_FLOAT64); /* the topic carries doubles */
    hcm_subscriber_attr sa;
    hcm_subscriber_attr_init(&sa);
    sa.type = pa.type; /* a subscriber expecting another type gets HCM_ETYPE */

    hcm_publisher *pub = NULL;
    hcm_subscriber *sub = NULL;
    double out = 21.5, in = 0.0;
    hcm_sample_info info;
    int rc = hcm_publisher_open(&pub, "hello/temperature", &pa);
    if (rc == HCM_OK)
        rc = hcm_subscriber_open(&sub, "hello/temperature", &sa);
    if (rc == HCM_OK)
        rc = hcm_publish(pub, &out, sizeof out);
    if (rc == HCM_OK)
        rc = hcm_subscriber_take(sub, &in, sizeof in, &info); /* next sample in order */
    if (rc == HCM_OK)
        printf("hello: seq %llu: %.1f\n", (unsigned long long)info.seq, in);
    else
        fprintf(stderr, "hello: %s (%s)\n", hcm_strerror(rc), hcm_errmsg());

    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    hcm_topic_unlink(NULL, "hello/temperature"); /* segments outlive their publishers */
    return rc == HCM_OK ? 0 : 1;
}
