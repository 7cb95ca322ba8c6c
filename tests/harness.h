/* tests/harness.h - the small test harness of hcm's C tests.
 *
 * A test file defines tests with TEST(name) { ... }. The executable runs the
 * one test named in argv[1] (CTest registers one test per TEST() line, see
 * tests/CMakeLists.txt); with no argument it lists the names, with "--all" it
 * runs every test, each in its own forked process.
 *
 * Around each test the harness
 *   - sets a fresh domain: HCM_DOMAIN=t<pid> (harness_domain() returns it);
 *   - arms a watchdog (HARNESS_TIMEOUT_S) that fails the test if it hangs;
 *   - after the body returns, fails the test if /dev/shm still holds an entry
 *     named hcm.<domain>.* (every test must unlink what it created), and
 *     removes such leftovers whenever a test fails, so /dev/shm stays clean.
 * It prints "PASS name", "FAIL name" or "SKIP name" on stdout. Exit codes:
 * 0 pass, 1 fail, 77 skipped (CTest SKIP_RETURN_CODE).
 *
 * Assertions print file:line and the values, then fail the test. In a forked
 * child (harness_fork()) a failed assertion prints and _exit(1)s the child
 * only; the parent sees it through harness_wait_child()/CHECK_CHILD_OK().
 * Children of harness_fork() get their own watchdog and are killed if the
 * parent fails, so no test leaves processes behind.
 */
#ifndef HCM_TESTS_HARNESS_H
#define HCM_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "hcm/hcm.h"

#ifndef HARNESS_TIMEOUT_S
#define HARNESS_TIMEOUT_S 55u       /* whole test, parent side (CTest TIMEOUT is 60) */
#endif
#ifndef HARNESS_CHILD_TIMEOUT_S
#define HARNESS_CHILD_TIMEOUT_S 50u /* each forked child */
#endif
#define HARNESS_SKIP 77

typedef void (*harness_fn)(void);

void harness_register(const char *name, harness_fn fn, const char *file);

#define TEST(name)                                                                \
    static void test_##name(void);                                                \
    __attribute__((constructor)) static void harness_reg_##name(void)             \
    {                                                                             \
        harness_register(#name, test_##name, __FILE__);                           \
    }                                                                             \
    static void test_##name(void)

/* ---- failing ------------------------------------------------------------ */

__attribute__((noreturn, format(printf, 3, 4))) void harness_fail(const char *file, int line,
                                                                   const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void harness_skip(const char *fmt, ...);
/* Diagnostics to stderr, prefixed with the test name and pid. */
__attribute__((format(printf, 1, 2))) void harness_log(const char *fmt, ...);

#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) harness_skip(__VA_ARGS__)

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond))                                                              \
            harness_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);          \
    } while (0)

#define CHECK_EQ(a, b)                                                            \
    do {                                                                          \
        long long harness_a_ = (long long)(a);                                    \
        long long harness_b_ = (long long)(b);                                    \
        if (harness_a_ != harness_b_)                                             \
            harness_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s) failed: %lld != %lld", \
                         #a, #b, harness_a_, harness_b_);                         \
    } while (0)

#define CHECK_NE(a, b)                                                            \
    do {                                                                          \
        long long harness_a_ = (long long)(a);                                    \
        long long harness_b_ = (long long)(b);                                    \
        if (harness_a_ == harness_b_)                                             \
            harness_fail(__FILE__, __LINE__, "CHECK_NE(%s, %s) failed: both %lld", \
                         #a, #b, harness_a_);                                     \
    } while (0)

/* Unsigned 64-bit equality (values above LLONG_MAX print correctly). */
#define CHECK_EQ_U64(a, b)                                                        \
    do {                                                                          \
        unsigned long long harness_a_ = (unsigned long long)(a);                  \
        unsigned long long harness_b_ = (unsigned long long)(b);                  \
        if (harness_a_ != harness_b_)                                             \
            harness_fail(__FILE__, __LINE__, "CHECK_EQ_U64(%s, %s) failed: %llu != %llu", \
                         #a, #b, harness_a_, harness_b_);                         \
    } while (0)

/* rc must be HCM_OK; prints the code's name, hcm_strerror() and hcm_errmsg(). */
#define CHECK_OK(rc)                                                              \
    do {                                                                          \
        int harness_rc_ = (rc);                                                   \
        if (harness_rc_ != HCM_OK)                                                \
            harness_fail(__FILE__, __LINE__, "CHECK_OK(%s) failed: %s (%d: %s), errmsg \"%s\"", \
                         #rc, harness_errname(harness_rc_), harness_rc_,          \
                         hcm_strerror(harness_rc_), hcm_errmsg());                \
    } while (0)

/* rc must be the hcm error code `want`. */
#define CHECK_RC(rc, want)                                                        \
    do {                                                                          \
        int harness_rc_ = (rc);                                                   \
        int harness_want_ = (want);                                               \
        if (harness_rc_ != harness_want_)                                         \
            harness_fail(__FILE__, __LINE__,                                      \
                         "CHECK_RC(%s) failed: got %s (%d: %s), want %s; errmsg \"%s\"", #rc, \
                         harness_errname(harness_rc_), harness_rc_,               \
                         hcm_strerror(harness_rc_), harness_errname(harness_want_), \
                         hcm_errmsg());                                           \
    } while (0)

/* rc must be one of two hcm codes. */
#define CHECK_RC2(rc, want1, want2)                                               \
    do {                                                                          \
        int harness_rc_ = (rc);                                                   \
        if (harness_rc_ != (want1) && harness_rc_ != (want2))                     \
            harness_fail(__FILE__, __LINE__,                                      \
                         "CHECK_RC2(%s) failed: got %s (%d: %s), want %s or %s; errmsg \"%s\"", \
                         #rc, harness_errname(harness_rc_), harness_rc_,          \
                         hcm_strerror(harness_rc_), harness_errname(want1),       \
                         harness_errname(want2), hcm_errmsg());                   \
    } while (0)

/* haystack must contain needle (both strings). */
#define CHECK_CONTAINS(haystack, needle)                                          \
    do {                                                                          \
        const char *harness_h_ = (haystack);                                      \
        const char *harness_n_ = (needle);                                        \
        if (harness_h_ == NULL || strstr(harness_h_, harness_n_) == NULL)         \
            harness_fail(__FILE__, __LINE__, "CHECK_CONTAINS(%s, %s) failed: \"%s\" lacks \"%s\"", \
                         #haystack, #needle, harness_h_ ? harness_h_ : "(null)",  \
                         harness_n_);                                             \
    } while (0)

/* "HCM_EAGAIN" for HCM_EAGAIN, etc. */
const char *harness_errname(int rc);

/* ---- environment -------------------------------------------------------- */

/* The test's domain ("t<pid>"). */
const char *harness_domain(void);
/* The name of the running test. */
const char *harness_test_name(void);

/* Names of /dev/shm entries of the test's domain ("hcm.<domain>.*"), as
 * full paths. Returns the count (at most cap) and fills paths[]. */
size_t harness_shm_entries(char paths[][512], size_t cap);

/* The /dev/shm path of the test domain's segment whose entry name ends with
 * ".<suffix>" (for example the topic name "x" matches "hcm.t1.t.x"); fails the
 * test unless exactly one entry matches. */
void harness_segment_path(const char *suffix, char *path, size_t cap);

/* ---- processes ---------------------------------------------------------- */

/* fork() that flushes stdio first and tracks the child. In the child: returns
 * 0 and arms a watchdog (HARNESS_CHILD_TIMEOUT_S). The child must end with
 * _exit(code), never return from the test body. */
pid_t harness_fork(void);

/* Waits for a child for at most timeout_ms. Returns its exit code, or
 * 128 + signal if it was killed. On timeout, SIGKILLs it and fails the test. */
int harness_wait_child(pid_t pid, unsigned timeout_ms);

/* Like harness_wait_child() but only polls: returns -1 if still running. */
int harness_try_wait_child(pid_t pid);

/* Waits for the child and fails the test unless it exited with 0. */
#define CHECK_CHILD_OK(pid) harness_check_child(__FILE__, __LINE__, (pid), 30000u)
void harness_check_child(const char *file, int line, pid_t pid, unsigned timeout_ms);

/* SIGKILLs and reaps one tracked child. */
void harness_kill_child(pid_t pid);

/* A one-way pipe to say "go" between processes. */
typedef struct harness_gate {
    int fd[2];
} harness_gate;

void harness_gate_init(harness_gate *g);
void harness_gate_close(harness_gate *g);
/* Writes one byte (the value v). */
void harness_gate_pass(harness_gate *g, uint8_t v);
/* Reads one byte within timeout_ms; fails the test on timeout or EOF. */
uint8_t harness_gate_wait(harness_gate *g, unsigned timeout_ms);
/* 1 if a byte is ready (and consumes it into *v), 0 if not. */
int harness_gate_poll(harness_gate *g, uint8_t *v);

/* ---- time --------------------------------------------------------------- */

int64_t harness_now_ns(void);      /* CLOCK_MONOTONIC */
int64_t harness_realtime_ns(void); /* CLOCK_REALTIME */
void harness_sleep_ms(unsigned ms);

/* ---- checksummed payloads ------------------------------------------------ *
 * A payload of len >= HARNESS_PAYLOAD_MIN bytes whose every byte is derived
 * from (writer id, counter): a torn sample (bytes of two samples) fails the
 * check. Layout: u32 id, u32 len, u64 counter, u64 hash(id, counter), then
 * filler words generated from the hash. */
#define HARNESS_PAYLOAD_MIN 24u

void harness_payload_fill(void *buf, size_t len, uint32_t id, uint64_t counter);
/* 1 if buf holds a valid payload of exactly len bytes (then *idp and
 * *counterp are set), 0 if it is torn or garbage. */
int harness_payload_check(const void *buf, size_t len, uint32_t *idp, uint64_t *counterp);

uint64_t harness_mix64(uint64_t x);

/* Helpers that build attrs. */
hcm_publisher_attr harness_pub_attr(hcm_type_kind kind, uint32_t slots, uint64_t max_payload);
hcm_subscriber_attr harness_sub_attr(hcm_type_kind kind);

#endif /* HCM_TESTS_HARNESS_H */
