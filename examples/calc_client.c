/* calc_client.c - calls the calc_server service and prints round trips.
 *
 *   calc_client [SERVICE] [--count N]
 *
 * Exits 0 if every call returned the right sum, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hcm/hcm.h>

typedef struct add_request {
    int64_t a, b;
} add_request;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *service = "calc/add";
    long count = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atol(argv[++i]);
        else if (argv[i][0] != '-')
            service = argv[i];
        else {
            fprintf(stderr, "usage: calc_client [SERVICE] [--count N]\n");
            return 2;
        }
    }
    hcm_client_attr attr;
    hcm_client_attr_init(&attr);
    int rc = hcm_type_struct(&attr.request_type, "AddRequest", "<2q", sizeof(add_request));
    attr.response_type = hcm_type_scalar(HCM_TYPE_INT64);
    hcm_client *cli = NULL;
    if (rc == HCM_OK)
        rc = hcm_client_open(&cli, service, &attr);
    if (rc != HCM_OK) {
        fprintf(stderr, "calc_client: %s (%s)\n", hcm_strerror(rc), hcm_errmsg());
        return 1;
    }
    int bad = 0;
    for (long i = 0; i < count; i++) {
        add_request req = {i, 1000 * i};
        int64_t sum = 0;
        size_t len = 0;
        int64_t t0 = now_ns();
        rc = hcm_client_call(cli, &req, sizeof req, &sum, sizeof sum, &len, 1000000000ll);
        int64_t t1 = now_ns();
        if (rc != HCM_OK) {
            fprintf(stderr, "calc_client: call %ld: %s (%s)\n", i, hcm_strerror(rc), hcm_errmsg());
            bad = 1;
            break;
        }
        printf("calc_client: %lld + %lld = %lld  (round trip %.1f us)\n", (long long)req.a,
               (long long)req.b, (long long)sum, (double)(t1 - t0) / 1e3);
        if (sum != req.a + req.b)
            bad = 1;
    }
    /* A call the server refuses: the message comes back with HCM_EREMOTE. */
    add_request big = {INT64_MAX, 1};
    int64_t sum;
    size_t len;
    rc = hcm_client_call(cli, &big, sizeof big, &sum, sizeof sum, &len, 1000000000ll);
    printf("calc_client: INT64_MAX + 1 -> %s (%s)\n", hcm_strerror(rc), hcm_errmsg());
    if (rc != HCM_EREMOTE)
        bad = 1;
    hcm_client_close(cli);
    return bad;
}
