/* listener - receives the talker's samples in order and measures latency.
 *
 *   listener [TOPIC] [--count N] [--seconds S] [--quiet]
 *
 * Subscribes to TOPIC (default "demo/sensor") with the talker's type, sleeps
 * in hcm_subscriber_wait() until a sample arrives, drains everything new with
 * hcm_subscriber_take() and prints each sample: its sequence number, value,
 * one-way latency (now - sent_ns, both CLOCK_MONOTONIC) and how many samples
 * were lost just before it. It stops after N samples, after S seconds, or on
 * SIGINT/SIGTERM, and prints a summary. The exit status is 0 if it received
 * at least one sample, 1 if it received none or failed, 2 on a usage error.
 *
 * The topic need not exist yet: start the listener first, then the talker.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hcm/hcm.h>

struct sample { /* as in talker.c */
    uint64_t counter;
    int64_t sent_ns;
    double value;
};
_Static_assert(sizeof(struct sample) == 24, "struct sample must be 24 bytes: \"<Qqd\"");

#define DEFAULT_TOPIC "demo/sensor"
#define NS_PER_S 1000000000ll
#define WAIT_NS 500000000ll /* wake up at least twice a second to check the flag */
#define MAX_KEPT (1u << 20) /* latencies kept for the median (8 MiB at most) */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void report(const char *what, int rc)
{
    fprintf(stderr, "listener: %s: %s (%s)\n", what, hcm_strerror(rc), hcm_errmsg());
}

static void usage(FILE *f)
{
    fprintf(f, "usage: listener [TOPIC] [--count N] [--seconds S] [--quiet]\n"
               "  TOPIC        topic name (default " DEFAULT_TOPIC ")\n"
               "  --count N    stop after N samples\n"
               "  --seconds S  stop after S seconds\n"
               "  --quiet      print only the summary\n");
}

/* Latency statistics: the exact maximum, and the median of up to MAX_KEPT
 * values (a uniform reservoir sample once more have arrived). */
struct stats {
    double *kept; /* microseconds */
    size_t nkept;
    uint64_t seen;
    double max_us;
    uint64_t rng;
};

static void stats_add(struct stats *st, double us)
{
    st->seen++;
    if (us > st->max_us || st->seen == 1)
        st->max_us = us;
    if (st->nkept < MAX_KEPT) {
        if (st->kept == NULL) {
            st->kept = malloc(MAX_KEPT * sizeof *st->kept);
            if (st->kept == NULL)
                return;
        }
        st->kept[st->nkept++] = us;
        return;
    }
    /* reservoir sampling (Algorithm R) with a xorshift64 generator */
    st->rng ^= st->rng << 13;
    st->rng ^= st->rng >> 7;
    st->rng ^= st->rng << 17;
    uint64_t j = st->rng % st->seen;
    if (j < MAX_KEPT)
        st->kept[j] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double stats_median(struct stats *st)
{
    if (st->nkept == 0)
        return NAN;
    qsort(st->kept, st->nkept, sizeof *st->kept, cmp_double);
    return st->kept[st->nkept / 2];
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_positive(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || !isfinite(v) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *topic = DEFAULT_TOPIC;
    uint64_t count = 0; /* 0: no limit */
    double seconds = 0.0;
    int quiet = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (parse_u64(argv[++i], &count) != 0) {
                fprintf(stderr, "listener: --count wants a positive integer, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            if (parse_positive(argv[++i], &seconds) != 0) {
                fprintf(stderr, "listener: --seconds wants a positive number, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-') {
            topic = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);

    /* No SA_RESTART: a signal makes hcm_subscriber_wait() return HCM_EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hcm_subscriber_attr attr;
    hcm_subscriber_attr_init(&attr);
    int rc = hcm_type_struct(&attr.type, "DemoSample", "<Qqd", (uint32_t)sizeof(struct sample));
    if (rc != HCM_OK) {
        report("hcm_type_struct", rc);
        return 1;
    }

    hcm_subscriber *sub = NULL;
    rc = hcm_subscriber_open(&sub, topic, &attr);
    if (rc != HCM_OK) {
        report("hcm_subscriber_open", rc);
        return 1;
    }
    printf("listener: waiting for samples on '%s' (domain %s)\n", topic, hcm_default_domain());

    const int64_t end = seconds > 0 ? now_ns() + (int64_t)(seconds * (double)NS_PER_S) : INT64_MAX;
    struct stats st = {.rng = 0x9e3779b97f4a7c15ull};
    uint64_t received = 0;
    int failed = 0;

    while (!g_stop && (count == 0 || received < count)) {
        int64_t left = end - now_ns();
        if (left <= 0)
            break;
        rc = hcm_subscriber_wait(sub, left < WAIT_NS ? left : WAIT_NS);
        if (rc == HCM_ETIMEDOUT || rc == HCM_EINTR)
            continue; /* the loop condition checks the flag and the deadline */
        if (rc != HCM_OK) {
            report("hcm_subscriber_wait", rc);
            failed = 1;
            break;
        }
        /* Drain everything that is there now. */
        while (count == 0 || received < count) {
            struct sample s;
            hcm_sample_info info;
            rc = hcm_subscriber_take(sub, &s, sizeof s, &info);
            if (rc == HCM_EAGAIN)
                break;
            if (rc != HCM_OK) {
                report("hcm_subscriber_take", rc);
                failed = 1;
                break;
            }
            double latency_us = (double)(now_ns() - s.sent_ns) / 1e3;
            received++;
            stats_add(&st, latency_us);
            if (!quiet)
                printf("listener: seq %6llu  value %+.3f  latency %8.1f us  lost %llu\n",
                       (unsigned long long)info.seq, s.value, latency_us,
                       (unsigned long long)info.lost);
        }
        if (failed)
            break;
    }

    uint64_t lost = hcm_subscriber_lost(sub);
    hcm_subscriber_close(sub);

    if (received > 0)
        printf("listener: received %llu, lost %llu, latency p50 %.1f us, max %.1f us\n",
               (unsigned long long)received, (unsigned long long)lost, stats_median(&st),
               st.max_us);
    else
        printf("listener: received nothing on '%s' (is a talker running in domain %s?)\n", topic,
               hcm_default_domain());
    free(st.kept);
    return (failed || received == 0) ? 1 : 0;
}
