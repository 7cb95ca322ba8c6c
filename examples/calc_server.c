/* calc_server.c - a service: adds two integers, on a handler thread.
 *
 *   calc_server [SERVICE] [--seconds S] [--unlink]
 *
 * Request: struct AddRequest { int64_t a, b; }  (format "<2q", 16 bytes)
 * Response: int64. A request with a + b overflowing int64 is failed with a
 * message (the client sees HCM_EREMOTE). Runs until SIGINT/SIGTERM or
 * --seconds; --unlink removes the service at exit.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, nanosleep */

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hcm/hcm.h>

typedef struct add_request {
    int64_t a, b;
} add_request;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int add(void *ctx, const void *req, size_t len, void *resp, size_t cap, size_t *resp_len,
               char *errbuf)
{
    add_request r;
    int64_t sum;
    unsigned long *served = ctx;
    (void)len;
    (void)cap;
    memcpy(&r, req, sizeof r);
    if (__builtin_add_overflow(r.a, r.b, &sum)) {
        snprintf(errbuf, HCM_SERVICE_ERROR_MAX, "%lld + %lld overflows int64", (long long)r.a,
                 (long long)r.b);
        return HCM_EINVAL;
    }
    memcpy(resp, &sum, sizeof sum);
    *resp_len = sizeof sum;
    ++*served; /* only the handler thread writes it */
    return HCM_OK;
}

int main(int argc, char **argv)
{
    const char *service = "calc/add";
    double seconds = 0;
    int unlink_at_exit = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--unlink") == 0)
            unlink_at_exit = 1;
        else if (argv[i][0] != '-')
            service = argv[i];
        else {
            fprintf(stderr, "usage: calc_server [SERVICE] [--seconds S] [--unlink]\n");
            return 2;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hcm_server_attr attr;
    hcm_server_attr_init(&attr);
    int rc = hcm_type_struct(&attr.request_type, "AddRequest", "<2q", sizeof(add_request));
    attr.response_type = hcm_type_scalar(HCM_TYPE_INT64);
    hcm_server *srv = NULL;
    unsigned long served = 0;
    if (rc == HCM_OK)
        rc = hcm_server_open(&srv, service, &attr);
    if (rc == HCM_OK)
        rc = hcm_server_start(srv, add, &served);
    if (rc != HCM_OK) {
        fprintf(stderr, "calc_server: %s (%s)\n", hcm_strerror(rc), hcm_errmsg());
        hcm_server_close(srv);
        return 1;
    }
    printf("calc_server: serving '%s' (domain %s)\n", service, hcm_default_domain());
    fflush(stdout);
    struct timespec tick = {0, 50000000};
    for (double t = 0; !stop && (seconds <= 0 || t < seconds); t += 0.05)
        nanosleep(&tick, NULL);
    hcm_server_close(srv); /* stops the handler thread first */
    if (unlink_at_exit)
        hcm_service_unlink(NULL, service);
    printf("calc_server: served %lu calls\n", served);
    return 0;
}
