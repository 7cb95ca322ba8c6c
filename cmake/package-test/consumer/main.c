/* A program outside the hcm tree: publishes and takes one double. */
#include <hcm/hcm.h>
#include <stdio.h>

int main(void)
{
    hcm_publisher_attr pa;
    hcm_subscriber_attr sa;
    hcm_publisher *pub;
    hcm_subscriber *sub;
    double in = 2.5, out = 0;
    int rc;
    hcm_publisher_attr_init(&pa);
    pa.type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    hcm_subscriber_attr_init(&sa);
    sa.type = pa.type;
    if ((rc = hcm_publisher_open(&pub, "consumer", &pa)) != HCM_OK ||
        (rc = hcm_subscriber_open(&sub, "consumer", &sa)) != HCM_OK ||
        (rc = hcm_publish(pub, &in, sizeof in)) != HCM_OK ||
        (rc = hcm_subscriber_take(sub, &out, sizeof out, NULL)) != HCM_OK) {
        fprintf(stderr, "%s: %s\n", hcm_strerror(rc), hcm_errmsg());
        return 1;
    }
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    hcm_topic_unlink(NULL, "consumer");
    printf("consumer got %g (hcm %s)\n", out, HCM_VERSION_STRING);
    return out == in ? 0 : 1;
}
