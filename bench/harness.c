/* bench/harness.c - processes, barrier, probe, statistics, environment. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- child-side helpers ------------------------------------------------- */

int bench_fail(bench_env *e, const char *fmt, ...)
{
    uint32_t zero = 0;
    if (atomic_compare_exchange_strong(&e->ctl->failed, &zero, 1)) {
        char msg[sizeof e->ctl->err - 8];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(e->ctl->err, sizeof e->ctl->err, "%s: %s", e->role ? "B" : "A", msg);
    }
    return -1;
}

int bench_barrier(bench_env *e, uint32_t n)
{
    atomic_fetch_add(&e->ctl->arrive, 1);
    int64_t deadline = bench_now() + 10000000000LL;
    while (atomic_load(&e->ctl->arrive) < 2 * n) {
        if (atomic_load(&e->ctl->failed))
            return -1;
        if (bench_now() > deadline)
            return bench_fail(e, "barrier %u: peer did not arrive in 10 s", n);
        sched_yield(); /* both children may share one CPU */
    }
    return 0;
}

/* One probe round. B's `last` starts at `first` (0 on the first round, when
 * the line is fresh; BENCH_STOP afterwards, the value the previous round
 * left). A decides whether to go again before it stops B. */
static double probe_round(bench_env *e, int64_t dur_ns, uint64_t first, int last_try)
{
    _Atomic uint64_t *line = &e->ctl->probe;
    if (e->role == 1) {
        uint64_t last = first, v;
        for (;;) {
            while ((v = atomic_load_explicit(line, memory_order_acquire)) == last)
                bench_relax();
            if (v == BENCH_STOP)
                return 0;
            last = v + 1;
            atomic_store_explicit(line, last, memory_order_release);
        }
    }
    uint64_t k = 0;
    int64_t t0 = bench_now(), t1;
    do {
        for (int j = 0; j < 64; j++, k++) {
            atomic_store_explicit(line, 2 * k + 1, memory_order_release);
            while (atomic_load_explicit(line, memory_order_acquire) != 2 * k + 2)
                bench_relax();
        }
        t1 = bench_now();
    } while (t1 - t0 < dur_ns);
    double ns = (double)(t1 - t0) / (double)k / 2.0;
    /* relaxed: published by the release store of BENCH_STOP below */
    atomic_store_explicit(&e->ctl->probe_again, !last_try && ns >= BENCH_NEAR_NS,
                          memory_order_relaxed);
    atomic_store_explicit(line, BENCH_STOP, memory_order_release);
    return ns;
}

void bench_placement(bench_env *e)
{
    for (int tries = 1;; tries++) {
        double ns = probe_round(e, 5000000, tries == 1 ? 0 : BENCH_STOP,
                                tries == BENCH_PROBE_TRIES);
        if (e->role == 0) {
            e->ctl->res.probe_ns = ns;
            e->ctl->res.probe_tries = tries;
        }
        /* A: its own store; B: ordered by the acquire load that saw BENCH_STOP */
        if (!atomic_load_explicit(&e->ctl->probe_again, memory_order_relaxed))
            return;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
}

void bench_placement_after(bench_env *e)
{
    double ns = probe_round(e, 5000000, BENCH_STOP, 1);
    if (e->role == 0)
        e->ctl->res.probe_after_ns = ns;
}

uint32_t *bench_samples(size_t *capp)
{
    static uint32_t *buf;
    static const size_t cap = (size_t)4 << 20; /* 4 Mi round trips: > 0.4 s of the floor */
    if (!buf) {
        buf = malloc(cap * sizeof *buf);
        if (!buf)
            return NULL;
        memset(buf, 0, cap * sizeof *buf); /* fault the pages in before the window */
    }
    *capp = cap;
    return buf;
}

unsigned char *bench_payload_alloc(size_t size)
{
    size_t len = (size < BENCH_LINE ? BENCH_LINE : size + BENCH_LINE - 1) & ~(size_t)(BENCH_LINE - 1);
    unsigned char *p = aligned_alloc(BENCH_LINE, len);
    if (p)
        for (size_t i = 0; i < len; i++)
            p[i] = (unsigned char)(i * 131u + 7u);
    return p;
}

static void swap32(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k-th smallest of v[0..n) to v[k] (Hoare quickselect). */
static uint32_t select_kth(uint32_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap32(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap32(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap32(&v[hi], &v[mid]);
        uint32_t pivot = v[mid];
        size_t i = lo, j = hi;
        for (;;) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap32(&v[i], &v[j]);
            i++;
            j--;
        }
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
    return v[k];
}

void bench_percentiles(uint32_t *rtt, size_t n, double *p50, double *p99)
{
    if (n == 0) {
        *p50 = *p99 = 0;
        return;
    }
    *p50 = select_kth(rtt, n, (n - 1) / 2) / 2.0;
    *p99 = select_kth(rtt, n, (size_t)((double)(n - 1) * 0.99)) / 2.0;
}

/* ---- running one measurement (parent side) ------------------------------ */

static volatile sig_atomic_t g_signal;
static volatile pid_t g_child[2];

static void on_signal(int sig)
{
    g_signal = sig;
    for (int i = 0; i < 2; i++)
        if (g_child[i] > 0)
            kill(g_child[i], SIGKILL);
}

void bench_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid() must return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int bench_interrupted(void)
{
    return g_signal == SIGINT || g_signal == SIGTERM || g_signal == SIGHUP ? g_signal : 0;
}

static int pin(enum bench_mode mode, int role)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (mode == BENCH_PINNED)
        CPU_SET(role == 0 ? 0u : 1u, &set);
    else if (mode == BENCH_SAMECORE)
        CPU_SET(1u, &set);
    else
        for (long i = 0; i < ncpu && i < CPU_SETSIZE; i++)
            CPU_SET((size_t)i, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static __attribute__((noreturn)) void child_main(const bench_case *c, bench_env *e, pid_t parent, unsigned timeout_s)
{
    signal(SIGALRM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    alarm(timeout_s); /* default action: die; the parent reports it */
    if (pin(c->p.mode, e->role)) {
        bench_fail(e, "sched_setaffinity: %s", strerror(errno));
        _exit(1);
    }
    if (bench_barrier(e, 1))
        _exit(1);
    if (c->p.mode == BENCH_PINNED)
        bench_placement(e);
    int rc = c->fn(e);
    if (rc == 0 && c->p.mode == BENCH_PINNED)
        bench_placement_after(e);
    _exit(rc ? 1 : 0);
}

static void describe_status(char *buf, size_t len, int role, int st)
{
    if (WIFSIGNALED(st))
        snprintf(buf, len, "%s killed by signal %d (%s)%s", role ? "B" : "A", WTERMSIG(st),
                 strsignal(WTERMSIG(st)), WTERMSIG(st) == SIGALRM ? ": timed out" : "");
    else
        snprintf(buf, len, "%s exited with status %d", role ? "B" : "A", WEXITSTATUS(st));
}

static void unlink_topics(const char *domain)
{
    static const char *const names[] = {"ping", "pong", "stream"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        (void)hcm_topic_unlink(domain, names[i]); /* HCM_ENOENT is the usual answer */
    (void)hcm_service_unlink(domain, "svc"); /* the service rows' segment */
    static const char *const actions[] = {"act", "act_ab", "act_ba"}; /* the action rows' */
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        (void)hcm_action_unlink(domain, actions[i]);
}

int bench_run(const bench_case *c, const char *domain, bench_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    err[0] = 0;
    size_t ctl_len = (sizeof(bench_ctl) + 4095) & ~(size_t)4095;
    bench_ctl *ctl = mmap(NULL, ctl_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ctl == MAP_FAILED) {
        snprintf(err, errlen, "mmap control page: %s", strerror(errno));
        return -1;
    }
    void *shared = NULL;
    size_t shared_len = c->shared_len ? (c->shared_len + 4095) & ~(size_t)4095 : 0;
    if (shared_len) {
        shared = mmap(NULL, shared_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED) {
            snprintf(err, errlen, "mmap data: %s", strerror(errno));
            munmap(ctl, ctl_len);
            return -1;
        }
        memset(shared, 0, shared_len); /* allocate the pages before the children run */
    }
    int sv[2] = {-1, -1};
    if (c->uds && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        goto out;
    }
    if (c->hcm)
        unlink_topics(domain);

    unsigned timeout_s = (unsigned)((c->p.warm_ns + c->p.window_ns) / 1000000000LL) + 20;
    pid_t parent = getpid();
    int status[2] = {0, 0}, done[2] = {0, 0}, bad = -1, timed_out = 0;
    fflush(stdout);
    fflush(stderr);
    g_signal = 0;
    for (int role = 0; role < 2; role++) {
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(err, errlen, "fork: %s", strerror(errno));
            if (role == 1) {
                kill(g_child[0], SIGKILL);
                waitpid(g_child[0], NULL, 0);
                g_child[0] = 0;
            }
            goto out;
        }
        if (pid == 0) {
            bench_env e = {ctl, &c->p, shared, shared_len, -1, role};
            if (c->uds) {
                e.fd = sv[role];
                close(sv[1 - role]);
            }
            child_main(c, &e, parent, timeout_s);
        }
        g_child[role] = pid;
    }
    if (c->uds) {
        close(sv[0]);
        close(sv[1]);
    }
    alarm(timeout_s + 3);
    while (!done[0] || !done[1]) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR) {
                if (g_signal == SIGALRM)
                    timed_out = 1;
                continue; /* the handler has killed both; reap them */
            }
            break;
        }
        int role = w == g_child[0] ? 0 : w == g_child[1] ? 1 : -1;
        if (role < 0)
            continue;
        done[role] = 1;
        status[role] = st;
        g_child[role] = 0;
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && bad < 0) {
            bad = role;
            if (g_child[1 - role] > 0)
                kill(g_child[1 - role], SIGKILL);
        }
    }
    alarm(0);
    g_child[0] = g_child[1] = 0;
    if (bench_interrupted())
        snprintf(err, errlen, "interrupted by signal %d", (int)g_signal);
    else if (ctl->err[0])
        snprintf(err, errlen, "%s", ctl->err);
    else if (timed_out)
        snprintf(err, errlen, "timed out after %u s: both children killed", timeout_s + 3);
    else if (bad >= 0)
        describe_status(err, errlen, bad, status[bad]);
    if (!err[0]) {
        *out = ctl->res;
        out->ok = 1;
    }
out:
    if (c->hcm)
        unlink_topics(domain);
    if (shared)
        munmap(shared, shared_len);
    munmap(ctl, ctl_len);
    return out->ok ? 0 : -1;
}

/* ---- environment record ----------------------------------------------------- */

typedef struct proc_ticks {
    int pid;
    char comm[32];
    unsigned long long ticks;
} proc_ticks;

static size_t snapshot(proc_ticks *v, size_t cap)
{
    DIR *d = opendir("/proc");
    size_t n = 0;
    struct dirent *de;
    if (!d)
        return 0;
    while (n < cap && (de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%.20s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close || close < open)
            continue;
        proc_ticks *p = &v[n];
        p->pid = atoi(buf);
        size_t cl = (size_t)(close - open - 1);
        if (cl >= sizeof p->comm)
            cl = sizeof p->comm - 1;
        memcpy(p->comm, open + 1, cl);
        p->comm[cl] = 0;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        unsigned long long ut = 0, stt = 0;
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) ==
            2) {
            p->ticks = ut + stt;
            n++;
        }
    }
    closedir(d);
    return n;
}

static double share_of(int cpu, int64_t dur_ns)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((size_t)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set))
        return -1;
    struct timespec c0, c1;
    int64_t t0 = bench_now(), t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    do
        t1 = bench_now();
    while (t1 - t0 < dur_ns);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu_ns = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
    return cpu_ns / (double)(t1 - t0);
}

double bench_env_record(const char *label, FILE *out)
{
    enum { MAXP = 4096, MAXCPU = 64 };
    static proc_ticks a[MAXP], b[MAXP];
    FILE *f = fopen("/proc/loadavg", "r");
    char load[128] = "?";
    if (f) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    /* clock and syscall cost (before the share probe, on whatever CPU we are) */
    int64_t t0 = bench_now();
    for (int i = 0; i < 1000000; i++)
        (void)bench_now();
    double clock_ns = (double)(bench_now() - t0) / 1e6;
    t0 = bench_now();
    for (int i = 0; i < 100000; i++)
        (void)syscall(SYS_getppid);
    double syscall_ns = (double)(bench_now() - t0) / 1e5;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > MAXCPU)
        ncpu = MAXCPU;
    double *share = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t kids[MAXCPU];
    size_t na = snapshot(a, MAXP);
    int64_t w0 = bench_now();
    fflush(out);
    for (long c = 0; c < ncpu; c++) {
        kids[c] = share == MAP_FAILED ? -1 : fork();
        if (kids[c] == 0) {
            signal(SIGALRM, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm(5);
            share[c] = share_of((int)c, 250000000);
            _exit(0);
        }
    }
    for (long c = 0; c < ncpu; c++)
        if (kids[c] > 0)
            while (waitpid(kids[c], NULL, 0) < 0 && errno == EINTR)
                ;
    double wall = (double)(bench_now() - w0) * 1e-9;
    size_t nb = snapshot(b, MAXP);

    fprintf(out, "loadavg_%s=%s\n", label, load);
    fprintf(out, "busy_processes_%s=", label);
    double hz = (double)sysconf(_SC_CLK_TCK);
    int any = 0;
    for (size_t i = 0; i < nb; i++) {
        int ours = b[i].pid == getpid();
        for (long c = 0; c < ncpu; c++)
            ours |= b[i].pid == kids[c];
        if (ours)
            continue;
        unsigned long long before = 0;
        for (size_t j = 0; j < na; j++)
            if (a[j].pid == b[i].pid) {
                before = a[j].ticks;
                break;
            }
        double pct = 100.0 * (double)(b[i].ticks - before) / hz / wall;
        if (b[i].ticks >= before && pct >= 10.0) {
            fprintf(out, "%s%s(%d) %.0f%%", any ? ", " : "", b[i].comm, b[i].pid, pct);
            any = 1;
        }
    }
    fprintf(out, "\nPROBE clock_ns=%.1f syscall_ns=%.1f ncpu=%ld", clock_ns, syscall_ns, ncpu);
    for (long c = 0; c < ncpu; c++)
        fprintf(out, " cpu%ld_share=%.3f", c, share == MAP_FAILED ? -1.0 : share[c]);
    fprintf(out, "\n");
    double least = 1;
    for (long c = 0; c < ncpu && share != MAP_FAILED; c++)
        if (share[c] < least)
            least = share[c];
    if (share != MAP_FAILED)
        munmap(share, 4096);
    return least;
}
