/* tests/harness.c - see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 256
#define MAX_CHILDREN 256
#define SHM_DIR "/dev/shm"

struct harness_test {
    const char *name;
    harness_fn fn;
    const char *file;
};

static struct harness_test tests[MAX_TESTS];
static size_t ntests;

static const char *cur_name = "?";
static char domain[48];
static char shm_prefix[64]; /* "hcm.<domain>." */
static pid_t main_pid;
static pid_t children[MAX_CHILDREN];
static size_t nchildren;
static atomic_int failing;

void harness_register(const char *name, harness_fn fn, const char *file)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        abort();
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    tests[ntests].file = file;
    ntests++;
}

const char *harness_domain(void) { return domain; }
const char *harness_test_name(void) { return cur_name; }

const char *harness_errname(int rc)
{
    static const char *const names[] = {
        "HCM_OK",       "HCM_EINVAL",   "HCM_ENAME",    "HCM_ENOMEM",  "HCM_ENOENT",
        "HCM_EAGAIN",   "HCM_ETIMEDOUT", "HCM_EINTR",   "HCM_ETYPE",   "HCM_EMSGSIZE",
        "HCM_ECORRUPT", "HCM_EPERM",    "HCM_EBUSY",    "HCM_ESTALE",  "HCM_EOVERRUN",
        "HCM_ESYS",     "HCM_EDEAD",    "HCM_EREMOTE",  "HCM_ECANCELED",
    };
    if (rc >= 0 && (size_t)rc < sizeof names / sizeof names[0])
        return names[rc];
    return "(unknown code)";
}

/* ---- /dev/shm ------------------------------------------------------------ */

size_t harness_shm_entries(char paths[][512], size_t cap)
{
    DIR *d = opendir(SHM_DIR);
    size_t n = 0;
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, shm_prefix, strlen(shm_prefix)) != 0)
            continue;
        if (n < cap)
            snprintf(paths[n], 512, "%s/%s", SHM_DIR, e->d_name);
        n++;
    }
    closedir(d);
    return n < cap ? n : cap;
}

/* Removes the domain's leftovers; prints them when `report`. Returns how many. */
static size_t remove_leftovers(int report)
{
    char paths[64][512];
    size_t n = harness_shm_entries(paths, 64);
    for (size_t i = 0; i < n; i++) {
        if (report)
            fprintf(stderr, "harness: %s: left behind in /dev/shm: %s\n", cur_name, paths[i]);
        unlink(paths[i]);
    }
    return n;
}

void harness_segment_path(const char *suffix, char *path, size_t cap)
{
    char paths[64][512];
    size_t n = harness_shm_entries(paths, 64);
    size_t found = 0;
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(paths[i]);
        if (pl > sl && paths[i][pl - sl - 1] == '.' && strcmp(paths[i] + pl - sl, suffix) == 0) {
            if (found == 0)
                snprintf(path, cap, "%s", paths[i]);
            found++;
        }
    }
    if (found != 1) {
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "harness: /dev/shm entry: %s\n", paths[i]);
        FAIL("expected exactly one segment ending in \".%s\" in /dev/shm, found %zu", suffix,
             found);
    }
}

/* ---- failing ------------------------------------------------------------- */

static void kill_children(void)
{
    for (size_t i = 0; i < nchildren; i++) {
        kill(children[i], SIGKILL);
        waitpid(children[i], NULL, 0);
    }
    nchildren = 0;
}

static void vlog(const char *fmt, va_list ap)
{
    char msg[2048];
    int off = snprintf(msg, sizeof msg, "[%s pid %d] ", cur_name, (int)getpid());
    if (off < 0)
        off = 0;
    vsnprintf(msg + off, sizeof msg - (size_t)off, fmt, ap);
    size_t len = strlen(msg);
    if (len + 1 < sizeof msg) {
        msg[len++] = '\n';
        msg[len] = '\0';
    }
    /* One write: lines of concurrent processes do not interleave. */
    ssize_t w = write(STDERR_FILENO, msg, len);
    (void)w;
}

void harness_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    harness_log("%s:%d: %s", file, line, msg);
    if (getpid() != main_pid) {
        /* A child: its parent reports it. */
        _exit(1);
    }
    if (atomic_exchange(&failing, 1)) {
        /* Another thread is already failing the test. */
        for (;;)
            pause();
    }
    kill_children();
    remove_leftovers(1);
    printf("FAIL %s\n", cur_name);
    fflush(stdout);
    _exit(1);
}

void harness_skip(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (getpid() != main_pid)
        _exit(HARNESS_SKIP);
    kill_children();
    remove_leftovers(1);
    printf("SKIP %s: %s\n", cur_name, msg);
    fflush(stdout);
    _exit(HARNESS_SKIP);
}

static void on_watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "harness: watchdog: the test did not finish in time\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    if (getpid() != main_pid)
        _exit(128 + SIGALRM);
    for (size_t i = 0; i < nchildren; i++)
        kill(children[i], SIGKILL);
    remove_leftovers(1);
    printf("FAIL %s\n", cur_name);
    fflush(stdout);
    _exit(1);
}

/* ---- processes ----------------------------------------------------------- */

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < nchildren; i++) {
        if (children[i] == pid) {
            children[i] = children[--nchildren];
            return;
        }
    }
}

pid_t harness_fork(void)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        nchildren = 0; /* the parent's children are not ours */
        signal(SIGALRM, SIG_DFL);
        alarm(HARNESS_CHILD_TIMEOUT_S);
        return 0;
    }
    if (nchildren == MAX_CHILDREN) {
        kill(pid, SIGKILL);
        FAIL("too many children");
    }
    children[nchildren++] = pid;
    return pid;
}

static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

int harness_try_wait_child(pid_t pid)
{
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == 0)
        return -1;
    if (r < 0)
        FAIL("waitpid(%d): %s", (int)pid, strerror(errno));
    untrack(pid);
    return decode_status(status);
}

int harness_wait_child(pid_t pid, unsigned timeout_ms)
{
    int64_t deadline = harness_now_ns() + (int64_t)timeout_ms * 1000000;
    unsigned nap_us = 50;
    for (;;) {
        int code = harness_try_wait_child(pid);
        if (code >= 0)
            return code;
        if (harness_now_ns() > deadline) {
            harness_kill_child(pid);
            FAIL("child %d did not finish within %u ms (killed)", (int)pid, timeout_ms);
        }
        usleep(nap_us);
        if (nap_us < 5000)
            nap_us *= 2;
    }
}

void harness_check_child(const char *file, int line, pid_t pid, unsigned timeout_ms)
{
    int code = harness_wait_child(pid, timeout_ms);
    if (code == 0)
        return;
    if (code > 128)
        harness_fail(file, line, "child %d was killed by signal %d (%s)", (int)pid, code - 128,
                     strsignal(code - 128));
    harness_fail(file, line, "child %d exited with %d", (int)pid, code);
}

void harness_kill_child(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    untrack(pid);
}

void harness_gate_init(harness_gate *g)
{
    if (pipe(g->fd) != 0)
        FAIL("pipe: %s", strerror(errno));
}

void harness_gate_close(harness_gate *g)
{
    for (int i = 0; i < 2; i++) {
        if (g->fd[i] >= 0)
            close(g->fd[i]);
        g->fd[i] = -1;
    }
}

void harness_gate_pass(harness_gate *g, uint8_t v)
{
    ssize_t w;
    do
        w = write(g->fd[1], &v, 1);
    while (w < 0 && errno == EINTR);
    if (w != 1)
        FAIL("gate write: %s", strerror(errno));
}

uint8_t harness_gate_wait(harness_gate *g, unsigned timeout_ms)
{
    int64_t deadline = harness_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left_ms = (deadline - harness_now_ns()) / 1000000;
        if (left_ms < 0)
            FAIL("gate: nothing arrived within %u ms", timeout_ms);
        struct pollfd p = {.fd = g->fd[0], .events = POLLIN};
        int r = poll(&p, 1, (int)left_ms + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            FAIL("gate poll: %s", strerror(errno));
        if (r == 0)
            continue;
        uint8_t v;
        ssize_t n = read(g->fd[0], &v, 1);
        if (n == 1)
            return v;
        if (n < 0 && errno == EINTR)
            continue;
        FAIL("gate: the other side closed without passing");
    }
}

int harness_gate_poll(harness_gate *g, uint8_t *v)
{
    struct pollfd p = {.fd = g->fd[0], .events = POLLIN};
    if (poll(&p, 1, 0) != 1)
        return 0;
    return read(g->fd[0], v, 1) == 1;
}

/* ---- time ---------------------------------------------------------------- */

int64_t harness_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t harness_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void harness_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- payloads ------------------------------------------------------------ */

uint64_t harness_mix64(uint64_t x)
{
    /* splitmix64's finaliser */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t payload_hash(uint32_t id, uint64_t counter)
{
    return harness_mix64(harness_mix64(id) ^ counter);
}

void harness_payload_fill(void *buf, size_t len, uint32_t id, uint64_t counter)
{
    uint8_t *p = buf;
    uint64_t h = payload_hash(id, counter);
    uint32_t len32 = (uint32_t)len;
    if (len < HARNESS_PAYLOAD_MIN)
        FAIL("payload of %zu bytes is too small", len);
    memcpy(p, &id, 4);
    memcpy(p + 4, &len32, 4);
    memcpy(p + 8, &counter, 8);
    memcpy(p + 16, &h, 8);
    uint64_t i = 0;
    for (size_t off = HARNESS_PAYLOAD_MIN; off < len; off += 8, i++) {
        uint64_t w = harness_mix64(h + i);
        memcpy(p + off, &w, len - off < 8 ? len - off : 8);
    }
}

int harness_payload_check(const void *buf, size_t len, uint32_t *idp, uint64_t *counterp)
{
    const uint8_t *p = buf;
    uint32_t id, len32;
    uint64_t counter, h;
    if (len < HARNESS_PAYLOAD_MIN)
        return 0;
    memcpy(&id, p, 4);
    memcpy(&len32, p + 4, 4);
    memcpy(&counter, p + 8, 8);
    memcpy(&h, p + 16, 8);
    if (len32 != (uint32_t)len || h != payload_hash(id, counter))
        return 0;
    uint64_t i = 0;
    for (size_t off = HARNESS_PAYLOAD_MIN; off < len; off += 8, i++) {
        uint64_t w = harness_mix64(h + i);
        if (memcmp(p + off, &w, len - off < 8 ? len - off : 8) != 0)
            return 0;
    }
    if (idp)
        *idp = id;
    if (counterp)
        *counterp = counter;
    return 1;
}

hcm_publisher_attr harness_pub_attr(hcm_type_kind kind, uint32_t slots, uint64_t max_payload)
{
    hcm_publisher_attr a;
    hcm_publisher_attr_init(&a);
    a.type = hcm_type_scalar(kind);
    a.buffer_num = slots;
    a.max_payload = max_payload;
    return a;
}

hcm_subscriber_attr harness_sub_attr(hcm_type_kind kind)
{
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    a.type = hcm_type_scalar(kind);
    return a;
}

/* ---- running ------------------------------------------------------------- */

static int run_one(const struct harness_test *t)
{
    cur_name = t->name;
    main_pid = getpid();
    snprintf(domain, sizeof domain, "t%d", (int)main_pid);
    snprintf(shm_prefix, sizeof shm_prefix, "hcm.%s.", domain);
    if (setenv("HCM_DOMAIN", domain, 1) != 0)
        FAIL("setenv: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_watchdog);
    alarm(HARNESS_TIMEOUT_S);

    t->fn();

    if (getpid() != main_pid) {
        harness_log("a forked child returned from the test body instead of _exit()");
        _exit(99);
    }
    alarm(0);
    if (nchildren > 0) {
        size_t n = nchildren;
        kill_children();
        FAIL("the test left %zu child process(es) running", n);
    }
    size_t left = remove_leftovers(1);
    if (left > 0)
        FAIL("the test left %zu entr%s of domain %s in /dev/shm", left, left == 1 ? "y" : "ies",
             domain);
    printf("PASS %s\n", cur_name);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    if (strcmp(argv[1], "--all") == 0) {
        int failed = 0;
        for (size_t i = 0; i < ntests; i++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0)
                _exit(run_one(&tests[i]));
            int status = 0;
            waitpid(pid, &status, 0);
            int code = decode_status(status);
            if (code != 0 && code != HARNESS_SKIP) {
                if (code != 1)
                    printf("FAIL %s (exit %d)\n", tests[i].name, code);
                failed++;
            }
        }
        return failed ? 1 : 0;
    }
    for (size_t i = 0; i < ntests; i++) {
        if (strcmp(tests[i].name, argv[1]) == 0)
            return run_one(&tests[i]);
    }
    fprintf(stderr, "harness: no test named %s\n", argv[1]);
    return 2;
}
