/* talker - publishes a sine wave on a topic, as a live demo of hcm.
 *
 *   talker [TOPIC] [--rate HZ] [--seconds S] [--unlink]
 *
 * Publishes `struct sample` on TOPIC (default "demo/sensor") HZ times a
 * second (default 20) for S seconds (default: until SIGINT or SIGTERM), and
 * prints one line per second. On exit it closes its publisher; the topic's
 * segment stays (a late subscriber still sees the last value) unless
 * --unlink is given. The domain is $HCM_DOMAIN, else "0".
 *
 * Run `listener` in another terminal to see the samples arrive.
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

/* The payload. The publisher and every subscriber describe it with the same
 * descriptor (see sample_type()); a subscriber that expects another type gets
 * HCM_ETYPE instead of garbage. */
struct sample {
    uint64_t counter; /* 0, 1, 2, ... since this talker started */
    int64_t sent_ns;  /* CLOCK_MONOTONIC just before hcm_publish() */
    double value;     /* sin(2 pi 0.25 Hz t) */
};
_Static_assert(sizeof(struct sample) == 24, "struct sample must be 24 bytes: \"<Qqd\"");

#define DEFAULT_TOPIC "demo/sensor"
#define NS_PER_S 1000000000ll

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
    fprintf(stderr, "talker: %s: %s (%s)\n", what, hcm_strerror(rc), hcm_errmsg());
}

static void usage(FILE *f)
{
    fprintf(f, "usage: talker [TOPIC] [--rate HZ] [--seconds S] [--unlink]\n"
               "  TOPIC        topic name (default " DEFAULT_TOPIC ")\n"
               "  --rate HZ    samples per second (default 20)\n"
               "  --seconds S  stop after S seconds (default: run until Ctrl-C)\n"
               "  --unlink     remove the topic's segment at exit\n");
}

/* Parses a positive finite number; 0 on success. */
static int parse_positive(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int sample_type(hcm_type *t)
{
    return hcm_type_struct(t, "DemoSample", "<Qqd", (uint32_t)sizeof(struct sample));
}

int main(int argc, char **argv)
{
    const char *topic = DEFAULT_TOPIC;
    double rate = 20.0, seconds = 0.0; /* 0: forever */
    int unlink_at_exit = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            if (parse_positive(argv[++i], &rate) != 0 || rate > 1e6) {
                fprintf(stderr, "talker: --rate wants a number in (0, 1e6], not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            if (parse_positive(argv[++i], &seconds) != 0 || seconds > 1e9) {
                fprintf(stderr, "talker: --seconds wants a positive number, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--unlink") == 0) {
            unlink_at_exit = 1;
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

    /* Line-buffered even into a pipe, so that a demo shows lines as they come. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* No SA_RESTART: the signal interrupts clock_nanosleep() with EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hcm_publisher_attr attr;
    hcm_publisher_attr_init(&attr);
    int rc = sample_type(&attr.type);
    if (rc != HCM_OK) {
        report("hcm_type_struct", rc);
        return 1;
    }

    hcm_publisher *pub = NULL;
    rc = hcm_publisher_open(&pub, topic, &attr);
    if (rc != HCM_OK) {
        report("hcm_publisher_open", rc);
        return 1;
    }
    printf("talker: publishing struct DemoSample on '%s' (domain %s) at %g Hz%s\n", topic,
           hcm_default_domain(), rate, seconds > 0 ? "" : "; Ctrl-C to stop");

    const int64_t period_ns = (int64_t)((double)NS_PER_S / rate);
    const int64_t start = now_ns();
    const int64_t end = seconds > 0 ? start + (int64_t)(seconds * (double)NS_PER_S) : INT64_MAX;
    int64_t next = start;         /* when to publish the next sample */
    int64_t next_report = start + NS_PER_S;
    uint64_t counter = 0, sent_this_second = 0;
    double last_value = 0.0;
    int status = 0;

    while (!g_stop) {
        /* Sleep until the next tick on an absolute clock, so the rate does not
         * drift with the time spent publishing. A signal ends the sleep. */
        struct timespec ts = {(time_t)(next / NS_PER_S), (long)(next % NS_PER_S)};
        int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (err == EINTR || g_stop)
            continue;
        int64_t t = now_ns();
        if (t >= end)
            break;

        if (t >= next_report) {
            printf("talker: %3.0f s  sent %llu in the last second, %llu in all, last value %+.3f\n",
                   (double)(t - start) / (double)NS_PER_S, (unsigned long long)sent_this_second,
                   (unsigned long long)counter, last_value);
            sent_this_second = 0;
            next_report += NS_PER_S;
        }

        struct sample s;
        s.counter = counter;
        s.value = sin(2.0 * 3.14159265358979323846 * 0.25 * (double)(t - start) / (double)NS_PER_S);
        s.sent_ns = now_ns();
        rc = hcm_publish(pub, &s, sizeof s);
        if (rc != HCM_OK) {
            report("hcm_publish", rc);
            status = 1;
            break;
        }
        counter++;
        sent_this_second++;
        last_value = s.value;
        next += period_ns;
        if (next < t - NS_PER_S) /* far behind (suspended?): do not burst to catch up */
            next = t;
    }

    hcm_publisher_close(pub);
    printf("talker: sent %llu samples on '%s'\n", (unsigned long long)counter, topic);
    if (unlink_at_exit) {
        rc = hcm_topic_unlink(NULL, topic);
        if (rc != HCM_OK && rc != HCM_ENOENT) {
            report("hcm_topic_unlink", rc);
            status = 1;
        }
    }
    return status;
}
