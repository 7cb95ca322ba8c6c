/* tools/cli/main.c - the `hcm` command-line tool (docs/cli.md).
 *
 *   hcm [-d DOMAIN] list | info | echo | hz | bw | pub | call | send-goal | clean | top | unlink
 *
 * Exit codes: 0 success; 1 the command ran but failed (no such name, type
 * mismatch, timeout, dead peer, corrupt segment, goal not succeeded);
 * 2 the command line is wrong (unknown option, missing argument, a VALUE or
 * --type that does not parse). Errors go to stderr and name the topic,
 * service or action and its domain. Only the public API of libhcm is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hcm/hcm.h"
#include "value.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char *g_domain;               /* NULL: $HCM_DOMAIN, else "0" */
static volatile sig_atomic_t g_signals;    /* SIGINT/SIGTERM/SIGHUP seen so far */
static int g_sigpipe[2] = {-1, -1};         /* the handler writes a byte: sleeps wake */
#define g_interrupted (g_signals != 0)

/* ---- small helpers ----------------------------------------------------------- */

static const char *domain_name(void)
{
    return g_domain != NULL ? g_domain : hcm_default_domain();
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("hcm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

/* A failed library call: its code, and hcm_errmsg() when it says more. */
static int fail_rc(int rc, const char *what, const char *name)
{
    const char *msg = hcm_errmsg();
    if (msg != NULL && msg[0] != '\0')
        return fail("%s '%s' (domain %s): %s: %s", what, name, domain_name(), hcm_strerror(rc),
                    msg);
    return fail("%s '%s' (domain %s): %s", what, name, domain_name(), hcm_strerror(rc));
}

__attribute__((noreturn, format(printf, 2, 3))) static void usage_error(const char *cmd,
                                                                         const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hcm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'hcm %s --help'.\n", cmd);
    exit(EXIT_USAGE);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void on_signal(int sig)
{
    int saved = errno;
    (void)sig;
    g_signals = g_signals + 1;
    if (g_sigpipe[1] >= 0 && write(g_sigpipe[1], "s", 1) < 0) {
        /* the pipe is full: a wake-up is pending anyway */
    }
    errno = saved;
}

/* SIGINT, SIGTERM and SIGHUP count in g_signals, interrupt blocking waits
 * (no SA_RESTART) and write to a pipe that every sleep of this tool polls,
 * so a signal that lands just before a sleep still ends it at once. Every
 * loop then ends cleanly: terminal restored, goal cancelled, handles closed. */
static void install_signals(void)
{
    struct sigaction sa;
    if (g_sigpipe[0] < 0 && pipe2(g_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        g_sigpipe[0] = g_sigpipe[1] = -1; /* sleeps then rely on EINTR alone */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Sleeps until CLOCK_MONOTONIC `until_ns`, a signal, or (fd >= 0) input on
 * fd. 1 if fd is readable or hung up, else 0. */
static int sleep_until(int64_t until_ns, int fd)
{
    for (;;) {
        struct pollfd p[2] = {{g_sigpipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
        int64_t left = until_ns - mono_ns();
        struct timespec ts;
        if (left <= 0 || g_interrupted)
            return 0;
        ts.tv_sec = (time_t)(left / 1000000000ll);
        ts.tv_nsec = (long)(left % 1000000000ll);
        int r = ppoll(p, fd >= 0 ? 2 : 1, &ts, NULL);
        if (r > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            return 1;
        /* the pipe's bytes need no draining: g_signals is what is tested */
    }
}

/* Writes b to stdout now. Exits 1 if it cannot: a truncated listing must
 * not look like a complete one to a script. */
static void flush_out(const hcmv_buf *b)
{
    if (b->oom) {
        fputs("hcm: out of memory\n", stderr);
        exit(EXIT_FAIL);
    }
    if ((b->len > 0 && fwrite(b->p, 1, b->len, stdout) != b->len) || fflush(stdout) != 0) {
        fprintf(stderr, "hcm: cannot write the output: %s\n", strerror(errno));
        exit(EXIT_FAIL);
    }
}

/* At exit: output written with printf must have reached its file too. */
static void check_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hcm: cannot write the output: %s\n", strerror(errno));
        _exit(EXIT_FAIL);
    }
}

/* "12 B", "3.4 KiB", ... */
static const char *human_bytes(double v, char *buf, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

static const char *type_name(const hcm_type *t, char *buf, size_t cap)
{
    return hcm_type_format(t, buf, cap);
}

/* ---- command-line options ------------------------------------------------------ */

typedef struct opt {
    const char *lng; /* "--lng" */
    char shrt;       /* "-s", or 0 */
    int has_arg;
    const char *arg; /* value given */
    int set;
} opt;

/* Parses argv[1..] of a command: options from `opts` anywhere, the rest
 * positional (at most maxpos). "--" ends options; an argument that looks
 * like a negative number ("-3", "-.5", "-inf") is a value, not an option,
 * so `hcm pub x -3` works. --help/-h prints `help` and exits 0. */
static int parse_args(const char *cmd, const char *help, int argc, char **argv, opt *opts,
                      size_t nopts, char **pos, int maxpos)
{
    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        opt *o = NULL;
        const char *val = NULL;
        int negnum = a[0] == '-' && (a[1] == '.' || (a[1] >= '0' && a[1] <= '9') ||
                                     strncasecmp(a + 1, "inf", 3) == 0 ||
                                     strncasecmp(a + 1, "nan", 3) == 0);
        if (only_pos || a[0] != '-' || a[1] == '\0' || negnum) {
            if (npos == maxpos)
                usage_error(cmd, "unexpected argument '%s'", a);
            pos[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            exit(0);
        }
        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (size_t k = 0; k < nopts; k++)
                if (strlen(opts[k].lng) == n && strncmp(opts[k].lng, a + 2, n) == 0)
                    o = &opts[k];
            if (o == NULL)
                usage_error(cmd, "unknown option '%s'", a);
            if (eq != NULL) {
                if (!o->has_arg)
                    usage_error(cmd, "option '--%s' takes no value", o->lng);
                val = eq + 1;
            }
        } else {
            for (size_t k = 0; k < nopts; k++)
                if (opts[k].shrt == a[1])
                    o = &opts[k];
            if (o == NULL)
                usage_error(cmd, "unknown option '%s'", a);
            if (a[2] != '\0') {
                if (!o->has_arg)
                    usage_error(cmd, "option '-%c' takes no value", o->shrt);
                val = a + 2;
            }
        }
        if (o->has_arg && val == NULL) {
            if (i + 1 >= argc)
                usage_error(cmd, "option '--%s' needs a value", o->lng);
            val = argv[++i];
        }
        o->arg = val;
        o->set = 1;
    }
    return npos;
}

static double arg_double(const char *cmd, const opt *o, double lo, double hi)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(o->arg, &end);
    if (errno != 0 || end == o->arg || *end != '\0' || !(v >= lo && v <= hi))
        usage_error(cmd, "--%s: '%s' is not a number in %g..%g", o->lng, o->arg, lo, hi);
    return v;
}

static uint64_t arg_count(const char *cmd, const opt *o, uint64_t lo, uint64_t hi)
{
    char *end;
    unsigned long long v;
    errno = 0;
    if (o->arg[0] == '-')
        usage_error(cmd, "--%s: '%s' is not a count in %" PRIu64 "..%" PRIu64, o->lng, o->arg,
                    lo, hi);
    v = strtoull(o->arg, &end, 10);
    if (errno != 0 || end == o->arg || *end != '\0' || v < lo || v > hi)
        usage_error(cmd, "--%s: '%s' is not a count in %" PRIu64 "..%" PRIu64, o->lng, o->arg,
                    lo, hi);
    return (uint64_t)v;
}

static int64_t seconds_ns(double s)
{
    return (int64_t)(s * 1e9);
}

/* ---- JSON writing ---------------------------------------------------------------- */

typedef struct jw {
    hcmv_buf *b;
    int first;
} jw;

static void jw_open(jw *w, hcmv_buf *b)
{
    w->b = b;
    w->first = 1;
    hcmv_buf_putc(b, '{');
}

static void jw_close(jw *w)
{
    hcmv_buf_putc(w->b, '}');
}

static void jw_key(jw *w, const char *k)
{
    if (!w->first)
        hcmv_buf_puts(w->b, ", ");
    w->first = 0;
    hcmv_buf_json_string(w->b, k, strlen(k));
    hcmv_buf_puts(w->b, ": ");
}

static void jw_str(jw *w, const char *k, const char *v)
{
    jw_key(w, k);
    if (v == NULL)
        hcmv_buf_puts(w->b, "null");
    else
        hcmv_buf_json_string(w->b, v, strlen(v));
}

static void jw_u64(jw *w, const char *k, uint64_t v)
{
    jw_key(w, k);
    hcmv_buf_printf(w->b, "%" PRIu64, v);
}

static void jw_i64(jw *w, const char *k, int64_t v)
{
    jw_key(w, k);
    hcmv_buf_printf(w->b, "%" PRId64, v);
}

static void jw_bool(jw *w, const char *k, int v)
{
    jw_key(w, k);
    hcmv_buf_puts(w->b, v ? "true" : "false");
}

static void jw_num(jw *w, const char *k, double v)
{
    jw_key(w, k);
    if (isfinite(v))
        hcmv_buf_printf(w->b, "%.9g", v);
    else
        hcmv_buf_puts(w->b, "null");
}

static void jw_type(jw *w, const char *k, const hcm_type *t)
{
    char buf[256];
    jw_str(w, k, type_name(t, buf, sizeof buf));
}

static void jw_mode(jw *w, uint32_t mode)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%04o", (unsigned)mode);
    jw_str(w, "mode", buf);
}

/* ---- the three kinds, in one shape for listing ----------------------------------- */

typedef struct entry {
    hcm_kind kind;
    union {
        hcm_topic_info t;
        hcm_service_info s;
        hcm_action_info a;
    } u;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

static int entries_push(entries *e, const entry *x)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        entry *v = realloc(e->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = *x;
    return 0;
}

static const char *kind_word(hcm_kind k)
{
    return k == HCM_KIND_TOPIC ? "topic" : k == HCM_KIND_SERVICE ? "service" : "action";
}

static const char *entry_name(const entry *e)
{
    return e->kind == HCM_KIND_TOPIC ? e->u.t.name
           : e->kind == HCM_KIND_SERVICE ? e->u.s.name : e->u.a.name;
}

static const char *entry_domain(const entry *e)
{
    return e->kind == HCM_KIND_TOPIC ? e->u.t.domain
           : e->kind == HCM_KIND_SERVICE ? e->u.s.domain : e->u.a.domain;
}

static int entry_error(const entry *e)
{
    return e->kind == HCM_KIND_TOPIC ? e->u.t.error
           : e->kind == HCM_KIND_SERVICE ? e->u.s.error : e->u.a.error;
}

static int entry_stale(const entry *e)
{
    if (entry_error(e) != HCM_OK)
        return 0;
    return e->kind == HCM_KIND_TOPIC ? e->u.t.stale
           : e->kind == HCM_KIND_SERVICE ? e->u.s.stale : e->u.a.stale;
}

static uint64_t entry_size(const entry *e)
{
    return e->kind == HCM_KIND_TOPIC ? e->u.t.size
           : e->kind == HCM_KIND_SERVICE ? e->u.s.size : e->u.a.size;
}

/* The --kind mask (1 topic, 2 service, 4 action) of one kind. */
static unsigned kind_mask(hcm_kind k)
{
    return k == HCM_KIND_TOPIC ? 1u : k == HCM_KIND_SERVICE ? 2u : 4u;
}

/* What a --kind mask looks for, in messages. */
static const char *kinds_word(unsigned kinds)
{
    return kinds == 1 ? "topic" : kinds == 2 ? "service" : kinds == 4 ? "action"
                                                                      : "topic, service or action";
}

/* "live", "stale" (every recorded process dead), or why it cannot be read. */
static const char *entry_state(const entry *e)
{
    int err = entry_error(e);
    if (err == HCM_ECORRUPT)
        return "corrupt";
    if (err == HCM_EPERM)
        return "no-access";
    if (err != HCM_OK)
        return "error";
    return entry_stale(e) ? "stale" : "live";
}

/* Appends every topic, service and action of `domain` to *out. */
static int collect_domain(const char *domain, entries *out, unsigned kinds)
{
    hcm_topic_info *t = NULL;
    hcm_service_info *s = NULL;
    hcm_action_info *a = NULL;
    size_t nt = 0, ns = 0, na = 0;
    int rc = HCM_OK;
    entry x;
    if ((kinds & 1) && (rc = hcm_topic_list(domain, &t, &nt)) != HCM_OK)
        return rc;
    if ((kinds & 2) && (rc = hcm_service_list(domain, &s, &ns)) != HCM_OK)
        goto out;
    if ((kinds & 4) && (rc = hcm_action_list(domain, &a, &na)) != HCM_OK)
        goto out;
    for (size_t i = 0; i < nt; i++) {
        x.kind = HCM_KIND_TOPIC;
        x.u.t = t[i];
        if (entries_push(out, &x) != 0)
            goto oom;
    }
    for (size_t i = 0; i < ns; i++) {
        x.kind = HCM_KIND_SERVICE;
        x.u.s = s[i];
        if (entries_push(out, &x) != 0)
            goto oom;
    }
    for (size_t i = 0; i < na; i++) {
        x.kind = HCM_KIND_ACTION;
        x.u.a = a[i];
        if (entries_push(out, &x) != 0)
            goto oom;
    }
    goto out;
oom:
    rc = HCM_ENOMEM;
out:
    hcm_topic_list_free(t);
    hcm_service_list_free(s);
    hcm_action_list_free(a);
    return rc;
}

/* Every entry of the selected domain, or of all domains. */
static int collect(int all_domains, unsigned kinds, entries *out)
{
    hcm_domain_name *d = NULL;
    size_t nd = 0;
    int rc;
    if (!all_domains)
        return collect_domain(domain_name(), out, kinds);
    if ((rc = hcm_domain_list(&d, &nd)) != HCM_OK)
        return rc;
    for (size_t i = 0; i < nd && rc == HCM_OK; i++)
        rc = collect_domain(d[i].name, out, kinds);
    hcm_domain_list_free(d);
    return rc;
}

static unsigned kinds_option(const char *cmd, const opt *o)
{
    if (!o->set)
        return 7;
    if (strcmp(o->arg, "topic") == 0)
        return 1;
    if (strcmp(o->arg, "service") == 0)
        return 2;
    if (strcmp(o->arg, "action") == 0)
        return 4;
    usage_error(cmd, "--kind: '%s' is not topic, service or action", o->arg);
}

/* "3.2 s ago" from a CLOCK_MONOTONIC stamp. */
static const char *age(int64_t stamp_ns, char *buf, size_t cap)
{
    if (stamp_ns == 0) {
        snprintf(buf, cap, "never");
        return buf;
    }
    double s = (double)(mono_ns() - stamp_ns) / 1e9;
    if (s < 0)
        s = 0;
    if (s < 1)
        snprintf(buf, cap, "%.0f ms ago", s * 1e3);
    else if (s < 120)
        snprintf(buf, cap, "%.1f s ago", s);
    else if (s < 7200)
        snprintf(buf, cap, "%.0f min ago", s / 60);
    else
        snprintf(buf, cap, "%.1f h ago", s / 3600);
    return buf;
}

static void entry_json(jw *w, const entry *e)
{
    jw_str(w, "kind", kind_word(e->kind));
    jw_str(w, "domain", entry_domain(e));
    jw_str(w, "name", entry_name(e));
    jw_str(w, "state", entry_state(e));
    jw_bool(w, "stale", entry_stale(e));
    jw_str(w, "error", entry_error(e) ? hcm_strerror(entry_error(e)) : NULL);
    if (e->kind == HCM_KIND_TOPIC) {
        const hcm_topic_info *t = &e->u.t;
        if (!t->error) {
            jw_type(w, "type", &t->type);
            jw_u64(w, "slots", t->slots);
            jw_u64(w, "max_payload", t->max_payload);
            jw_u64(w, "publishers", t->publishers);
            jw_u64(w, "owners", t->owners);
            jw_u64(w, "owners_alive", t->owners_alive);
            jw_u64(w, "subscribers", t->subscribers);
            jw_u64(w, "publish_count", t->publish_count);
            jw_key(w, "last_publish_age_s");
            if (t->last_publish_ns == 0)
                hcmv_buf_puts(w->b, "null");
            else
                hcmv_buf_printf(w->b, "%.6f", (double)(mono_ns() - t->last_publish_ns) / 1e9);
            jw_u64(w, "max_lag", t->max_lag);
            jw_u64(w, "lost", t->lost);
            jw_u64(w, "lock_steals", t->lock_steals);
            jw_i64(w, "create_time_ns", t->create_time_ns);
        }
        jw_u64(w, "size", t->size);
        jw_mode(w, t->mode);
        jw_u64(w, "uid", t->uid);
    } else if (e->kind == HCM_KIND_SERVICE) {
        const hcm_service_info *s = &e->u.s;
        if (!s->error) {
            jw_type(w, "request_type", &s->request_type);
            jw_type(w, "response_type", &s->response_type);
            jw_u64(w, "request_max", s->request_max);
            jw_u64(w, "response_max", s->response_max);
            jw_u64(w, "slots", s->queue_size);
            jw_u64(w, "server_pid", s->server_pid);
            jw_bool(w, "server_alive", s->server_alive);
            jw_u64(w, "server_generation", s->server_generation);
            jw_u64(w, "calls_sent", s->calls_sent);
            jw_u64(w, "calls_answered", s->calls_answered);
            jw_u64(w, "pending", s->pending);
            jw_u64(w, "in_progress", s->in_progress);
            jw_u64(w, "clients_alive", s->clients_alive);
            jw_i64(w, "create_time_ns", s->create_time_ns);
        }
        jw_u64(w, "size", s->size);
        jw_mode(w, s->mode);
        jw_u64(w, "uid", s->uid);
    } else {
        const hcm_action_info *a = &e->u.a;
        if (!a->error) {
            jw_type(w, "goal_type", &a->goal_type);
            jw_type(w, "feedback_type", &a->feedback_type);
            jw_type(w, "result_type", &a->result_type);
            jw_u64(w, "goal_max", a->goal_max);
            jw_u64(w, "feedback_max", a->feedback_max);
            jw_u64(w, "result_max", a->result_max);
            jw_u64(w, "slots", a->slots);
            jw_u64(w, "server_pid", a->server_pid);
            jw_bool(w, "server_alive", a->server_alive);
            jw_u64(w, "server_generation", a->server_generation);
            jw_u64(w, "goals_sent", a->goals_sent);
            jw_u64(w, "pending", a->pending);
            jw_u64(w, "active", a->active);
            jw_u64(w, "finished", a->finished);
            jw_u64(w, "clients_alive", a->clients_alive);
            jw_i64(w, "create_time_ns", a->create_time_ns);
        }
        jw_u64(w, "size", a->size);
        jw_mode(w, a->mode);
        jw_u64(w, "uid", a->uid);
    }
}

/* The TYPE column: "float64", "int64[2] -> int64", "goal -> feedback -> result". */
static const char *entry_type(const entry *e, char *buf, size_t cap)
{
    char a[200], b[200], c[200];
    if (entry_error(e)) {
        snprintf(buf, cap, "?");
    } else if (e->kind == HCM_KIND_TOPIC) {
        type_name(&e->u.t.type, buf, cap);
    } else if (e->kind == HCM_KIND_SERVICE) {
        snprintf(buf, cap, "%s -> %s", type_name(&e->u.s.request_type, a, sizeof a),
                 type_name(&e->u.s.response_type, b, sizeof b));
    } else {
        snprintf(buf, cap, "%s / %s / %s", type_name(&e->u.a.goal_type, a, sizeof a),
                 type_name(&e->u.a.feedback_type, b, sizeof b),
                 type_name(&e->u.a.result_type, c, sizeof c));
    }
    return buf;
}

/* The PEERS and ACTIVITY columns. */
static void entry_activity(const entry *e, char *peers, size_t pcap, char *act, size_t acap)
{
    char tmp[64];
    if (entry_error(e)) {
        snprintf(peers, pcap, "-");
        snprintf(act, acap, "%s", hcm_strerror(entry_error(e)));
    } else if (e->kind == HCM_KIND_TOPIC) {
        snprintf(peers, pcap, "%u pub, %u sub", e->u.t.publishers, e->u.t.subscribers);
        snprintf(act, acap, "#%" PRIu64 ", %s", e->u.t.publish_count,
                 age(e->u.t.last_publish_ns, tmp, sizeof tmp));
    } else if (e->kind == HCM_KIND_SERVICE) {
        if (e->u.s.server_alive)
            snprintf(peers, pcap, "server %u", e->u.s.server_pid);
        else
            snprintf(peers, pcap, "no server");
        snprintf(act, acap, "%" PRIu64 " calls, %u pending", e->u.s.calls_sent, e->u.s.pending);
    } else {
        if (e->u.a.server_alive)
            snprintf(peers, pcap, "server %u", e->u.a.server_pid);
        else
            snprintf(peers, pcap, "no server");
        snprintf(act, acap, "%" PRIu64 " goals, %u active", e->u.a.goals_sent, e->u.a.active);
    }
}

static uint32_t entry_slots(const entry *e)
{
    return e->kind == HCM_KIND_TOPIC ? e->u.t.slots
           : e->kind == HCM_KIND_SERVICE ? e->u.s.queue_size : e->u.a.slots;
}

/* ---- hcm list ---------------------------------------------------------------------- */

static const char help_list[] =
    "Usage: hcm [-d DOMAIN] list [--all-domains] [--kind topic|service|action] [--json]\n"
    "\n"
    "Lists the topics, services and actions of a domain: type, slots, live\n"
    "publishers and subscribers (or server), and last activity. Entries whose\n"
    "recorded processes are all dead are marked 'stale' (`hcm clean` removes\n"
    "them); segments that cannot be read are marked 'corrupt' or 'no-access'.\n"
    "\n"
    "  -a, --all-domains  every domain that has segments\n"
    "  -k, --kind K       only topics, services or actions\n"
    "      --json         one JSON array of objects (fields in docs/cli.md)\n";

static int cmd_list(int argc, char **argv)
{
    opt o[] = {{"all-domains", 'a', 0, NULL, 0}, {"kind", 'k', 1, NULL, 0}, {"json", 0, 0, NULL, 0}};
    entries es = {NULL, 0, 0};
    hcmv_buf b = {0};
    int rc;
    parse_args("list", help_list, argc, argv, o, 3, NULL, 0);
    unsigned kinds = kinds_option("list", &o[1]);
    if ((rc = collect(o[0].set, kinds, &es)) != HCM_OK) {
        free(es.v);
        return fail("list (domain %s): %s: %s", o[0].set ? "*" : domain_name(),
                    hcm_strerror(rc), hcm_errmsg());
    }
    if (o[2].set) {
        hcmv_buf_putc(&b, '[');
        for (size_t i = 0; i < es.n; i++) {
            jw w;
            hcmv_buf_puts(&b, i ? ",\n " : "\n ");
            jw_open(&w, &b);
            entry_json(&w, &es.v[i]);
            jw_close(&w);
        }
        hcmv_buf_puts(&b, es.n ? "\n]\n" : "]\n");
    } else if (es.n == 0) {
        hcmv_buf_printf(&b, "nothing in domain %s\n", o[0].set ? "(any)" : domain_name());
    } else {
        if (o[0].set)
            hcmv_buf_printf(&b, "%-10s ", "DOMAIN");
        hcmv_buf_printf(&b, "%-8s %-24s %-6s %5s  %-16s %-24s %s\n", "KIND", "NAME", "STATE",
                        "SLOTS", "PEERS", "ACTIVITY", "TYPE");
        for (size_t i = 0; i < es.n; i++) {
            const entry *e = &es.v[i];
            char type[640], peers[64], act[96];
            entry_activity(e, peers, sizeof peers, act, sizeof act);
            if (o[0].set)
                hcmv_buf_printf(&b, "%-10s ", entry_domain(e));
            hcmv_buf_printf(&b, "%-8s %-24s %-6s %5u  %-16s %-24s %s\n", kind_word(e->kind),
                            entry_name(e), entry_state(e), entry_slots(e), peers, act,
                            entry_type(e, type, sizeof type));
        }
    }
    flush_out(&b);
    hcmv_buf_free(&b);
    free(es.v);
    return 0;
}

/* ---- hcm info ---------------------------------------------------------------------- */

static const char help_info[] =
    "Usage: hcm [-d DOMAIN] info NAME [--kind topic|service|action] [--json]\n"
    "\n"
    "Everything the segment of NAME records: geometry and types, counters,\n"
    "owners and peers with their pids and whether they still run, permissions\n"
    "and size in memory. NAME is looked up as a topic, then a service, then an\n"
    "action, unless --kind says which. Exit 1 if there is no such name.\n";

/* Finds NAME among the kinds allowed: HCM_OK with *e filled, or the error. */
static int find_entry(const char *name, unsigned kinds, entry *e)
{
    int rc = HCM_ENOENT;
    memset(e, 0, sizeof *e);
    if (kinds & 1) {
        e->kind = HCM_KIND_TOPIC;
        rc = hcm_topic_stat(g_domain, name, &e->u.t);
        if (rc != HCM_ENOENT)
            return rc;
    }
    if (kinds & 2) {
        e->kind = HCM_KIND_SERVICE;
        rc = hcm_service_stat(g_domain, name, &e->u.s);
        if (rc != HCM_ENOENT)
            return rc;
    }
    if (kinds & 4) {
        e->kind = HCM_KIND_ACTION;
        rc = hcm_action_stat(g_domain, name, &e->u.a);
    }
    return rc;
}

static int not_found(const char *what, const char *name)
{
    return fail("no %s named '%s' in domain %s (hcm list shows what exists)", what, name,
                domain_name());
}

static const char *role_word(uint32_t role)
{
    switch (role) {
    case HCM_PEER_PUBLISHER: return "publisher";
    case HCM_PEER_SUBSCRIBER: return "subscriber";
    case HCM_PEER_SERVER: return "server";
    case HCM_PEER_CLIENT: return "client";
    default: return "?";
    }
}

static void info_human(hcmv_buf *b, const entry *e, const hcm_peer_info *peers, size_t np)
{
    char t1[256], t2[256], t3[256], sz[32];
    hcmv_buf_printf(b, "%s '%s' (domain %s)\n", kind_word(e->kind), entry_name(e), entry_domain(e));
    hcmv_buf_printf(b, "  state:        %s\n", entry_state(e));
    if (entry_error(e) != HCM_OK) {
        /* nothing of the header can be trusted: only what stat() told */
    } else if (e->kind == HCM_KIND_TOPIC) {
        const hcm_topic_info *t = &e->u.t;
        hcmv_buf_printf(b, "  type:         %s\n", type_name(&t->type, t1, sizeof t1));
        hcmv_buf_printf(b, "  slots:        %u of up to %" PRIu64 " bytes\n", t->slots,
                        t->max_payload);
        hcmv_buf_printf(b, "  published:    %" PRIu64 " samples, last %s (%" PRIu64 " bytes)\n",
                        t->publish_count, age(t->last_publish_ns, t1, sizeof t1), t->last_len);
        hcmv_buf_printf(b, "  publishers:   %u open and alive (%u recorded, %u alive)\n",
                        t->publishers, t->owners, t->owners_alive);
        hcmv_buf_printf(b, "  subscribers:  %u alive, max lag %" PRIu64 ", lost %" PRIu64 "\n",
                        t->subscribers, t->max_lag, t->lost);
        hcmv_buf_printf(b, "  lock steals:  %" PRIu64 "\n", t->lock_steals);
    } else if (e->kind == HCM_KIND_SERVICE) {
        const hcm_service_info *s = &e->u.s;
        hcmv_buf_printf(b, "  request:      %s, up to %" PRIu64 " bytes\n",
                        type_name(&s->request_type, t1, sizeof t1), s->request_max);
        hcmv_buf_printf(b, "  response:     %s, up to %" PRIu64 " bytes\n",
                        type_name(&s->response_type, t2, sizeof t2), s->response_max);
        hcmv_buf_printf(b, "  call slots:   %u (%u pending, %u in progress)\n", s->queue_size,
                        s->pending, s->in_progress);
        hcmv_buf_printf(b, "  calls:        %" PRIu64 " sent, %" PRIu64
                           " answered (the server publishes this count every 64 calls)\n",
                        s->calls_sent, s->calls_answered);
        hcmv_buf_printf(b, "  server:       generation %u\n", s->server_generation);
    } else {
        const hcm_action_info *a = &e->u.a;
        hcmv_buf_printf(b, "  goal:         %s, up to %" PRIu64 " bytes\n",
                        type_name(&a->goal_type, t1, sizeof t1), a->goal_max);
        hcmv_buf_printf(b, "  feedback:     %s, up to %" PRIu64 " bytes\n",
                        type_name(&a->feedback_type, t2, sizeof t2), a->feedback_max);
        hcmv_buf_printf(b, "  result:       %s, up to %" PRIu64 " bytes\n",
                        type_name(&a->result_type, t3, sizeof t3), a->result_max);
        hcmv_buf_printf(b, "  goal slots:   %u (%u pending, %u active, %u finished)\n", a->slots,
                        a->pending, a->active, a->finished);
        hcmv_buf_printf(b, "  goals:        %" PRIu64 " sent\n", a->goals_sent);
        hcmv_buf_printf(b, "  server:       generation %u\n", a->server_generation);
    }
    hcmv_buf_printf(b, "  memory:       %s (%" PRIu64 " bytes), mode %04o, uid %u\n",
                    human_bytes((double)entry_size(e), sz, sizeof sz), entry_size(e),
                    (unsigned)(e->kind == HCM_KIND_TOPIC     ? e->u.t.mode
                               : e->kind == HCM_KIND_SERVICE ? e->u.s.mode
                                                             : e->u.a.mode),
                    (unsigned)(e->kind == HCM_KIND_TOPIC     ? e->u.t.uid
                               : e->kind == HCM_KIND_SERVICE ? e->u.s.uid
                                                             : e->u.a.uid));
    if (entry_error(e) != HCM_OK)
        return;
    hcmv_buf_printf(b, "  peers:%s\n", np ? "" : "        none recorded");
    for (size_t i = 0; i < np; i++) {
        const hcm_peer_info *p = &peers[i];
        hcmv_buf_printf(b, "    %-10s pid %-8u %s", role_word(p->role), p->pid,
                        p->alive ? "alive" : "dead");
        if (p->role == HCM_PEER_PUBLISHER && !p->open)
            hcmv_buf_puts(b, ", closed");
        if (p->role == HCM_PEER_SUBSCRIBER && e->kind == HCM_KIND_TOPIC)
            hcmv_buf_printf(b, ", next seq %" PRIu64 ", lag %" PRIu64 ", lost %" PRIu64,
                            p->next_seq,
                            e->u.t.publish_count > p->next_seq ? e->u.t.publish_count - p->next_seq
                                                               : 0,
                            p->lost);
        if (p->role == HCM_PEER_CLIENT)
            hcmv_buf_printf(b, ", holds %u slot%s", p->held, p->held == 1 ? "" : "s");
        hcmv_buf_putc(b, '\n');
    }
}

static int cmd_info(int argc, char **argv)
{
    opt o[] = {{"kind", 'k', 1, NULL, 0}, {"json", 0, 0, NULL, 0}};
    char *pos[1];
    entry e;
    hcm_peer_info *peers = NULL;
    size_t np = 0;
    hcmv_buf b = {0};
    if (parse_args("info", help_info, argc, argv, o, 2, pos, 1) != 1)
        usage_error("info", "NAME is missing");
    unsigned kinds = kinds_option("info", &o[0]);
    int rc = find_entry(pos[0], kinds, &e);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", hcm_errmsg());
    if (rc == HCM_ENOENT)
        return not_found(kinds_word(kinds), pos[0]);
    if (rc == HCM_ENAME)
        usage_error("info", "'%s' is not a valid name: %s", pos[0], hcm_errmsg());
    if (rc == HCM_OK) {
        /* count, then fetch (peers may come and go between: take what fits) */
        size_t cap = 0;
        if (hcm_peers(e.kind, g_domain, pos[0], NULL, 0, &cap) == HCM_OK && cap > 0 &&
            (peers = calloc(cap + 8, sizeof *peers)) != NULL &&
            hcm_peers(e.kind, g_domain, pos[0], peers, cap + 8, &np) == HCM_OK) {
            if (np > cap + 8)
                np = cap + 8;
        } else {
            np = 0;
        }
    }
    if (o[1].set) {
        jw w;
        jw_open(&w, &b);
        entry_json(&w, &e);
        jw_key(&w, "peers");
        hcmv_buf_putc(&b, '[');
        for (size_t i = 0; i < np; i++) {
            jw p;
            if (i)
                hcmv_buf_puts(&b, ", ");
            jw_open(&p, &b);
            jw_str(&p, "role", role_word(peers[i].role));
            jw_u64(&p, "pid", peers[i].pid);
            jw_bool(&p, "alive", peers[i].alive);
            jw_bool(&p, "open", peers[i].open);
            if (peers[i].role == HCM_PEER_SUBSCRIBER) {
                jw_u64(&p, "next_seq", peers[i].next_seq);
                jw_u64(&p, "lost", peers[i].lost);
            }
            if (peers[i].role == HCM_PEER_CLIENT)
                jw_u64(&p, "held", peers[i].held);
            jw_close(&p);
        }
        hcmv_buf_putc(&b, ']');
        jw_close(&w);
        hcmv_buf_putc(&b, '\n');
    } else {
        info_human(&b, &e, peers, np);
    }
    flush_out(&b);
    hcmv_buf_free(&b);
    free(peers);
    if (rc != HCM_OK)
        return fail("%s '%s' (domain %s) cannot be read: %s: %s", kind_word(e.kind), pos[0],
                    domain_name(), hcm_strerror(rc), detail);
    return 0;
}

/* ---- subscribing: echo, hz, bw ------------------------------------------------------- */

/* Opens a subscriber on an existing topic (or, with `wait`, one that may
 * appear later). Returns 0, or an exit code after printing why. */
static int open_sub(const char *cmd, const char *topic, int wait, hcm_subscriber **subp)
{
    hcm_subscriber_attr attr;
    hcm_topic_info info;
    int rc = hcm_topic_stat(g_domain, topic, &info);
    if (rc == HCM_ENAME)
        usage_error(cmd, "'%s' is not a valid topic name: %s", topic, hcm_errmsg());
    if (rc == HCM_ENOENT && !wait)
        return fail("no topic named '%s' in domain %s (give --wait to wait for it)", topic,
                    domain_name());
    if (rc != HCM_OK && rc != HCM_ENOENT)
        return fail_rc(rc, "topic", topic);
    hcm_subscriber_attr_init(&attr);
    attr.domain = g_domain;
    attr.expiry_ns = 0; /* a tool shows old samples too */
    if ((rc = hcm_subscriber_open(subp, topic, &attr)) != HCM_OK)
        return fail_rc(rc, "topic", topic);
    return 0;
}

/* Waits for something to read until `deadline` (< 0 none), in slices so
 * that Ctrl-C is seen promptly. 1 ready, 0 timed out or interrupted,
 * -1 error (printed). */
static int wait_sample(hcm_subscriber *sub, const char *topic, int64_t deadline)
{
    while (!g_interrupted) {
        int64_t slice = 200000000ll;
        if (deadline >= 0) {
            int64_t left = deadline - mono_ns();
            if (left <= 0)
                return 0;
            if (left < slice)
                slice = left;
        }
        int rc = hcm_subscriber_wait(sub, slice);
        if (rc == HCM_OK)
            return 1;
        if (rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            fail_rc(rc, "topic", topic);
            return -1;
        }
    }
    return 0;
}

static const char help_echo[] =
    "Usage: hcm [-d DOMAIN] echo TOPIC [--once] [-n N] [--latest] [--json] [--wait]\n"
    "                        [--timeout S] [--full]\n"
    "\n"
    "Prints the samples of TOPIC as they arrive, decoded from the type stored in\n"
    "the topic: numbers, strings (quoted), bytes (hex), arrays (nested lists by\n"
    "shape) and structs (a list of fields in format order). Samples the tool\n"
    "could not keep up with are reported on stderr ('lost N samples').\n"
    "\n"
    "      --once         print one sample and exit\n"
    "  -n, --count N      print N samples and exit\n"
    "  -l, --latest       start with the newest sample already published (then\n"
    "                     only newer ones); default: only samples published from now\n"
    "      --json         one JSON object per line: seq, timestamp_ns, len, lost, value\n"
    "  -w, --wait         wait for the topic to appear instead of exiting 1\n"
    "  -t, --timeout S    exit 1 if no sample arrives within S seconds\n"
    "      --full         print arrays whole (default: the first 64 elements)\n";

static int cmd_echo(int argc, char **argv)
{
    opt o[] = {{"once", 0, 0, NULL, 0},   {"count", 'n', 1, NULL, 0},
               {"latest", 'l', 0, NULL, 0}, {"json", 0, 0, NULL, 0},
               {"wait", 'w', 0, NULL, 0},   {"timeout", 't', 1, NULL, 0},
               {"full", 0, 0, NULL, 0}};
    char *pos[1];
    hcm_subscriber *sub = NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    uint64_t want = 0, got = 0;
    int64_t timeout_ns = -1, deadline = -1;
    int code = 0, latest;
    if (parse_args("echo", help_echo, argc, argv, o, 7, pos, 1) != 1)
        usage_error("echo", "TOPIC is missing");
    if (o[0].set)
        want = 1;
    if (o[1].set)
        want = arg_count("echo", &o[1], 1, UINT64_MAX);
    if (o[5].set)
        timeout_ns = seconds_ns(arg_double("echo", &o[5], 0, 1e9));
    latest = o[2].set;
    if ((code = open_sub("echo", pos[0], o[4].set, &sub)) != 0)
        return code;
    install_signals();
    if (timeout_ns >= 0)
        deadline = mono_ns() + timeout_ns;
    while (!g_interrupted && (want == 0 || got < want)) {
        hcm_sample_info info;
        hcm_type type;
        int rc;
        /* --latest: the newest sample once, then in order from there on */
        if (latest)
            rc = hcm_subscriber_latest(sub, buf, cap, &info);
        else
            rc = hcm_subscriber_take(sub, buf, cap, &info);
        if (rc == HCM_ESTALE)
            rc = HCM_OK;
        if (rc == HCM_EMSGSIZE || (rc == HCM_EAGAIN && cap == 0)) {
            uint64_t need = hcm_subscriber_max_payload(sub);
            if (rc == HCM_EMSGSIZE && info.len > need)
                need = info.len;
            if (need > cap) {
                unsigned char *nb = realloc(buf, (size_t)need);
                if (nb == NULL) {
                    code = fail("out of memory for samples of %" PRIu64 " bytes", need);
                    break;
                }
                buf = nb;
                cap = (size_t)need;
                continue;
            }
        }
        if (rc == HCM_EAGAIN) {
            int w = wait_sample(sub, pos[0], deadline);
            if (w < 0) {
                code = EXIT_FAIL;
                break;
            }
            if (w == 0 && !g_interrupted) {
                code = fail("topic '%s' (domain %s): no sample within %s s", pos[0],
                            domain_name(), o[5].arg);
                break;
            }
            continue;
        }
        if (rc != HCM_OK) {
            code = fail_rc(rc, "topic", pos[0]);
            break;
        }
        latest = 0;
        if (hcm_subscriber_type(sub, &type) != HCM_OK) {
            code = fail_rc(HCM_EAGAIN, "topic", pos[0]);
            break;
        }
        if (info.lost > 0)
            fprintf(stderr, "hcm echo: topic '%s': lost %" PRIu64 " samples before seq %" PRIu64
                            "\n", pos[0], info.lost, info.seq);
        hcmv_buf b = {0};
        char err[256];
        if (o[3].set) {
            jw w;
            jw_open(&w, &b);
            jw_u64(&w, "seq", info.seq);
            jw_i64(&w, "timestamp_ns", info.timestamp_ns);
            jw_u64(&w, "len", info.len);
            jw_u64(&w, "lost", info.lost);
            jw_key(&w, "value");
            if (hcmv_format(&type, buf, (size_t)info.len, 1, 0, &b, err, sizeof err) != 0)
                hcmv_buf_puts(&b, "null");
            jw_close(&w);
        } else if (hcmv_format(&type, buf, (size_t)info.len, 0, o[6].set ? 0 : 64, &b, err,
                               sizeof err) != 0) {
            hcmv_buf_printf(&b, "(undecodable: %s)", err);
        }
        hcmv_buf_putc(&b, '\n');
        flush_out(&b);
        hcmv_buf_free(&b);
        got++;
        if (timeout_ns >= 0)
            deadline = mono_ns() + timeout_ns;
    }
    hcm_subscriber_close(sub);
    free(buf);
    return code;
}

static const char help_hz[] =
    "Usage: hcm [-d DOMAIN] hz TOPIC [--window N] [-n REPORTS] [--json] [--wait]\n"
    "\n"
    "Prints the publish rate of TOPIC once a second: the average over the last\n"
    "N samples (default 100) and the min, max and standard deviation of the\n"
    "period between samples. It is computed from the publishers' sequence\n"
    "numbers and timestamps, so samples this tool missed still count (shown\n"
    "as 'missed').\n"
    "\n"
    "  -w, --window N     samples in the window (2..100000)\n"
    "  -n, --count R      print R reports and exit\n"
    "      --json         one JSON object per report\n"
    "      --wait         wait for the topic to appear instead of exiting 1\n";

static const char help_bw[] =
    "Usage: hcm [-d DOMAIN] bw TOPIC [--window N] [-n REPORTS] [--json] [--wait]\n"
    "\n"
    "Prints the bandwidth of TOPIC once a second: bytes per second over the\n"
    "last N samples (default 100), with the mean, min and max sample size.\n"
    "The rate comes from sequence numbers, so missed samples still count.\n"
    "\n"
    "  -w, --window N     samples in the window (2..100000)\n"
    "  -n, --count R      print R reports and exit\n"
    "      --json         one JSON object per report\n"
    "      --wait         wait for the topic to appear instead of exiting 1\n";

typedef struct mark {
    uint64_t seq;
    int64_t ts;
    uint64_t len;
} mark;

/* One hz or bw report over the window w[0..n) (oldest first). */
/* One hz or bw report over the window w[0..n) (oldest first, sequence
 * numbers strictly increasing). A gap of k sequence numbers between two
 * samples counts as k periods of equal length, so the statistics are per
 * published sample, whether this tool saw it or not. */
static void rate_report(int bw, int json, const char *topic, const mark *w, size_t n,
                        uint64_t missed_total)
{
    hcmv_buf b = {0};
    uint64_t periods = w[n - 1].seq - w[0].seq; /* > 0: n >= 2, increasing */
    uint64_t missed = periods + 1 - n;
    double span = (double)(w[n - 1].ts - w[0].ts) / 1e9;
    double rate = span > 0 ? (double)periods / span : 0;
    double pmin = INFINITY, pmax = 0, psq = 0;
    uint64_t lmin = UINT64_MAX, lmax = 0;
    double lsum = 0;
    for (size_t i = 0; i < n; i++) {
        lsum += (double)w[i].len;
        lmin = w[i].len < lmin ? w[i].len : lmin;
        lmax = w[i].len > lmax ? w[i].len : lmax;
        if (i == 0)
            continue;
        double k = (double)(w[i].seq - w[i - 1].seq);
        double p = (double)(w[i].ts - w[i - 1].ts) / 1e9 / k;
        pmin = p < pmin ? p : pmin;
        pmax = p > pmax ? p : pmax;
        psq += k * p * p;
    }
    double pm = span / (double)periods;
    double sd = sqrt(fmax(0, psq / (double)periods - pm * pm));
    double lmean = lsum / (double)n;
    if (json) {
        jw j;
        jw_open(&j, &b);
        jw_str(&j, "topic", topic);
        jw_u64(&j, "window", n);
        jw_u64(&j, "missed", missed);
        jw_u64(&j, "missed_total", missed_total);
        if (bw) {
            jw_num(&j, "bytes_per_s", rate * lmean);
            jw_num(&j, "mean_size", lmean);
            jw_u64(&j, "min_size", lmin);
            jw_u64(&j, "max_size", lmax);
        } else {
            jw_num(&j, "rate_hz", rate);
            jw_num(&j, "min_period_s", pmin);
            jw_num(&j, "max_period_s", pmax);
            jw_num(&j, "std_period_s", sd);
        }
        jw_close(&j);
        hcmv_buf_putc(&b, '\n');
    } else if (bw) {
        char a[32], c[32], d[32], e[32];
        hcmv_buf_printf(&b, "average: %s/s\n\tmean: %s min: %s max: %s window: %zu missed: %" PRIu64
                            " (%" PRIu64 " in all)\n",
                        human_bytes(rate * lmean, a, sizeof a), human_bytes(lmean, c, sizeof c),
                        human_bytes((double)lmin, d, sizeof d), human_bytes((double)lmax, e, sizeof e),
                        n, missed, missed_total);
    } else {
        hcmv_buf_printf(&b, "average rate: %.3f Hz\n\tmin: %.3f ms max: %.3f ms std dev: %.5f ms "
                            "window: %zu missed: %" PRIu64 " (%" PRIu64 " in all)\n",
                        rate, pmin * 1e3, pmax * 1e3, sd * 1e3, n, missed, missed_total);
    }
    flush_out(&b);
    hcmv_buf_free(&b);
}

static int rate_command(const char *cmd, const char *help, int bw, int argc, char **argv)
{
    opt o[] = {{"window", 'w', 1, NULL, 0}, {"count", 'n', 1, NULL, 0},
               {"json", 0, 0, NULL, 0},     {"wait", 0, 0, NULL, 0}};
    char *pos[1];
    hcm_subscriber *sub = NULL;
    size_t window = 100, n = 0, head = 0;
    uint64_t reports = 0, done = 0, missed = 0, fresh = 0, measured = 0;
    mark *w, *ordered;
    int code;
    if (parse_args(cmd, help, argc, argv, o, 4, pos, 1) != 1)
        usage_error(cmd, "TOPIC is missing");
    if (o[0].set)
        window = (size_t)arg_count(cmd, &o[0], 2, 100000);
    if (o[1].set)
        reports = arg_count(cmd, &o[1], 1, UINT64_MAX);
    if ((code = open_sub(cmd, pos[0], o[3].set, &sub)) != 0)
        return code;
    w = calloc(window, sizeof *w);
    ordered = calloc(window, sizeof *ordered);
    if (w == NULL || ordered == NULL) {
        free(w);
        free(ordered);
        hcm_subscriber_close(sub);
        return fail("out of memory");
    }
    install_signals();
    int64_t next_report = mono_ns() + 1000000000ll;
    while (!g_interrupted && (reports == 0 || done < reports)) {
        const void *data;
        hcm_sample_info info;
        /* a view: the tool needs the sample's facts, not its bytes */
        int rc = hcm_subscriber_view(sub, &data, &info);
        if (rc == HCM_OK) {
            hcm_subscriber_release(sub);
            if (n > 0 && info.seq <= w[(head + window - 1) % window].seq) {
                /* the topic was re-created: its numbers start again */
                n = 0;
                head = 0;
            }
            if (n > 0)
                missed += info.lost;
            w[head] = (mark){info.seq, info.timestamp_ns, info.len};
            head = (head + 1) % window;
            n = n < window ? n + 1 : n;
            fresh++;
        } else if (rc != HCM_EAGAIN) {
            code = fail_rc(rc, "topic", pos[0]);
            break;
        }
        int64_t now = mono_ns();
        if (now >= next_report) {
            next_report = now + 1000000000ll;
            if (fresh == 0 || n < 2) {
                fprintf(stderr, "hcm %s: topic '%s': no new samples\n", cmd, pos[0]);
            } else {
                for (size_t i = 0; i < n; i++)
                    ordered[i] = w[(head + window - n + i) % window];
                rate_report(bw, o[2].set, pos[0], ordered, n, missed);
                measured++;
            }
            fresh = 0;
            done++;
            continue;
        }
        if (rc == HCM_EAGAIN) {
            int r = wait_sample(sub, pos[0], next_report);
            if (r < 0) {
                code = EXIT_FAIL;
                break;
            }
        }
    }
    free(w);
    free(ordered);
    hcm_subscriber_close(sub);
    if (code == 0 && measured == 0 && !g_interrupted)
        code = fail("topic '%s' (domain %s): no samples to measure in %" PRIu64 " report%s",
                    pos[0], domain_name(), done, done == 1 ? "" : "s");
    return code;
}

static int cmd_hz(int argc, char **argv)
{
    return rate_command("hz", help_hz, 0, argc, argv);
}

static int cmd_bw(int argc, char **argv)
{
    return rate_command("bw", help_bw, 1, argc, argv);
}

/* ---- publishing and calling: pub, call, send-goal ------------------------------------- */

/* Parses VALUE for type t; exits 2 with the parser's message if it does not parse. */
static void parse_value(const char *cmd, const char *what, const hcm_type *t, uint64_t max,
                        const char *text, void **datap, size_t *lenp)
{
    char err[256], tn[256];
    if (hcmv_parse(t, max, text, datap, lenp, err, sizeof err) != 0)
        usage_error(cmd, "%s '%.60s%s' is not a valid %s: %s", what, text,
                    strlen(text) > 60 ? "..." : "", type_name(t, tn, sizeof tn), err);
}

static void print_value(const char *label, const hcm_type *t, const void *data, size_t len,
                        int json)
{
    hcmv_buf b = {0};
    char err[256];
    if (json) {
        jw w;
        jw_open(&w, &b);
        jw_key(&w, label);
        if (hcmv_format(t, data, len, 1, 0, &b, err, sizeof err) != 0)
            hcmv_buf_puts(&b, "null");
        jw_close(&w);
    } else {
        hcmv_buf_printf(&b, "%s: ", label);
        if (hcmv_format(t, data, len, 0, 64, &b, err, sizeof err) != 0)
            hcmv_buf_printf(&b, "(undecodable: %s)", err);
    }
    hcmv_buf_putc(&b, '\n');
    flush_out(&b);
    hcmv_buf_free(&b);
}

static const char help_pub[] =
    "Usage: hcm [-d DOMAIN] pub TOPIC VALUE [--rate HZ] [-n N] [--type T] [--slots N]\n"
    "\n"
    "Publishes VALUE on TOPIC: once, or at HZ until Ctrl-C (or N times). An\n"
    "existing topic keeps its type and VALUE must fit it; a new topic needs\n"
    "--type. The topic stays after pub exits (a late subscriber sees the value).\n"
    "\n"
    "VALUE syntax by type: bool true/false; integers decimal or 0x hex; floats\n"
    "(nan, inf too); string as is; bytes as is, or 0x followed by hex; arrays\n"
    "[1, 2, 3] flat or nested by shape; structs a list of fields in format order.\n"
    "\n"
    "  -r, --rate HZ      publish repeatedly at HZ (0.001..1000000)\n"
    "  -n, --count N      publish N times (with --rate at that rate, else back to\n"
    "                     back); default: once, or until Ctrl-C with --rate\n"
    "  -t, --type T       type of a new topic: bool, int8..int64, uint8..uint64,\n"
    "                     float32, float64, string, bytes, float64[3], uint8[480,640],\n"
    "                     struct:NAME:FORMAT (Python struct syntax, e.g. struct:Pose:<3d4d)\n"
    "  -s, --slots N      ring slots of a new topic (default 3)\n"
    "  -q, --quiet        print nothing on success\n";

static int cmd_pub(int argc, char **argv)
{
    opt o[] = {{"rate", 'r', 1, NULL, 0},  {"count", 'n', 1, NULL, 0}, {"type", 't', 1, NULL, 0},
               {"slots", 's', 1, NULL, 0}, {"quiet", 'q', 0, NULL, 0}};
    char *pos[2], tn[256], err[256];
    hcm_publisher_attr attr;
    hcm_publisher *pub = NULL;
    hcm_topic_info info;
    hcm_type type;
    void *data = NULL;
    size_t len = 0;
    uint64_t count = 1, sent = 0;
    double rate = 0;
    int rc, code = 0;
    if (parse_args("pub", help_pub, argc, argv, o, 5, pos, 2) != 2)
        usage_error("pub", "TOPIC and VALUE are needed");
    if (o[0].set) {
        rate = arg_double("pub", &o[0], 0.001, 1e6);
        count = 0;
    }
    if (o[1].set)
        count = arg_count("pub", &o[1], 1, UINT64_MAX);
    hcm_publisher_attr_init(&attr);
    attr.domain = g_domain;
    if (o[3].set)
        attr.buffer_num = (uint32_t)arg_count("pub", &o[3], 1, HCM_MAX_SLOTS);
    if (o[2].set && hcmv_parse_type(o[2].arg, &type, err, sizeof err) != 0)
        usage_error("pub", "--type: %s", err);
    rc = hcm_topic_stat(g_domain, pos[0], &info);
    if (rc == HCM_ENAME)
        usage_error("pub", "'%s' is not a valid topic name: %s", pos[0], hcm_errmsg());
    if (rc == HCM_OK) {
        char have[256];
        if (o[2].set && !hcm_type_equal(&type, &info.type))
            return fail("topic '%s' (domain %s) has type %s, not %s", pos[0], domain_name(),
                        type_name(&info.type, have, sizeof have), type_name(&type, tn, sizeof tn));
        type = info.type;
        attr.max_payload = info.max_payload;
    } else if (rc == HCM_ENOENT) {
        if (!o[2].set)
            usage_error("pub", "topic '%s' does not exist in domain %s: give --type to create it",
                        pos[0], domain_name());
    } else {
        return fail_rc(rc, "topic", pos[0]);
    }
    attr.type = type;
    parse_value("pub", "VALUE", &type, rc == HCM_OK ? info.max_payload : 0, pos[1], &data, &len);
    /* A new string or bytes topic holds at least this value (default 4096). */
    if (rc == HCM_ENOENT && hcm_type_fixed_size(&type) == 0 && len > HCM_DEFAULT_BYTES_MAX)
        attr.max_payload = len;
    if ((rc = hcm_publisher_open(&pub, pos[0], &attr)) != HCM_OK) {
        free(data);
        return fail_rc(rc, "topic", pos[0]);
    }
    install_signals();
    int64_t period = rate > 0 ? (int64_t)(1e9 / rate) : 0;
    int64_t next_ns = mono_ns();
    while (!g_interrupted && (count == 0 || sent < count)) {
        if ((rc = hcm_publish(pub, data, len)) != HCM_OK) {
            code = fail_rc(rc, "topic", pos[0]);
            break;
        }
        sent++;
        if (count != 0 && sent >= count)
            break;
        if (period == 0)
            continue; /* -n without --rate: back to back */
        /* absolute deadlines: the rate does not drift with the publish cost */
        next_ns += period;
        sleep_until(next_ns, -1);
    }
    if (code == 0 && !o[4].set)
        printf("published %" PRIu64 " sample%s of %s to topic '%s' (domain %s)\n", sent,
               sent == 1 ? "" : "s", type_name(&type, tn, sizeof tn), pos[0], domain_name());
    hcm_publisher_close(pub);
    free(data);
    return code;
}

static const char help_call[] =
    "Usage: hcm [-d DOMAIN] call SERVICE VALUE [--timeout S] [--json]\n"
    "\n"
    "Calls SERVICE with the request VALUE (parsed by the service's request type,\n"
    "syntax as for `hcm pub`) and prints the response. Exit 1 if there is no\n"
    "such service, no live server, the handler failed (its message is shown)\n"
    "or no response came within the timeout.\n"
    "\n"
    "  -t, --timeout S    give up after S seconds (default 5)\n"
    "      --json         print {\"response\": VALUE}\n";

static int cmd_call(int argc, char **argv)
{
    opt o[] = {{"timeout", 't', 1, NULL, 0}, {"json", 0, 0, NULL, 0}};
    char *pos[2];
    hcm_service_info info;
    hcm_client_attr attr;
    hcm_client *cli = NULL;
    void *req = NULL, *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    int64_t timeout_ns = 5000000000ll;
    int rc, code = 0;
    if (parse_args("call", help_call, argc, argv, o, 2, pos, 2) != 2)
        usage_error("call", "SERVICE and VALUE are needed");
    if (o[0].set)
        timeout_ns = seconds_ns(arg_double("call", &o[0], 0, 1e9));
    rc = hcm_service_stat(g_domain, pos[0], &info);
    if (rc == HCM_ENAME)
        usage_error("call", "'%s' is not a valid service name: %s", pos[0], hcm_errmsg());
    if (rc == HCM_ENOENT)
        return not_found("service", pos[0]);
    if (rc != HCM_OK)
        return fail_rc(rc, "service", pos[0]);
    parse_value("call", "request", &info.request_type, info.request_max, pos[1], &req, &req_len);
    hcm_client_attr_init(&attr);
    attr.domain = g_domain;
    attr.request_type = info.request_type;
    attr.response_type = info.response_type;
    resp = malloc(info.response_max ? (size_t)info.response_max : 1);
    if (resp == NULL) {
        free(req);
        return fail("out of memory");
    }
    if ((rc = hcm_client_open(&cli, pos[0], &attr)) == HCM_OK)
        rc = hcm_client_call(cli, req, req_len, resp, (size_t)info.response_max, &resp_len,
                             timeout_ns);
    if (rc == HCM_OK)
        print_value("response", &info.response_type, resp, resp_len, o[1].set);
    else if (rc == HCM_EREMOTE)
        code = fail("service '%s' (domain %s): the server failed the call: %s", pos[0],
                    domain_name(), hcm_errmsg());
    else if (rc == HCM_EDEAD)
        code = fail("service '%s' (domain %s): no live server", pos[0], domain_name());
    else if (rc == HCM_ETIMEDOUT)
        code = fail("service '%s' (domain %s): no response within %.3g s", pos[0], domain_name(),
                    (double)timeout_ns / 1e9);
    else
        code = fail_rc(rc, "service", pos[0]);
    hcm_client_close(cli);
    free(req);
    free(resp);
    return code;
}

static const char help_send_goal[] =
    "Usage: hcm [-d DOMAIN] send-goal ACTION VALUE [--timeout S] [--json] [--no-feedback]\n"
    "\n"
    "Sends the goal VALUE (parsed by the action's goal type, syntax as for\n"
    "`hcm pub`) and prints its status changes and feedback as they come, then\n"
    "the result. Ctrl-C asks the server to cancel the goal and waits for it to\n"
    "end (a second Ctrl-C quits at once). Exit 0 only if the goal SUCCEEDED.\n"
    "\n"
    "  -t, --timeout S    cancel the goal if it has not ended after S seconds\n"
    "      --json         one JSON object per event: status, feedback, result\n"
    "      --no-feedback  do not print feedback\n";

static void goal_event(int json, const char *what, const char *status)
{
    if (json)
        printf("{\"event\": \"%s\", \"status\": \"%s\"}\n", what, status);
    else
        printf("%s: %s\n", what, status);
    fflush(stdout);
}

/* Prints the feedback newer than *seqp (the server keeps only the newest:
 * a jump in the sequence means some were replaced before we read them). */
static void show_feedback(hcm_action_client *cli, hcm_goal goal, const hcm_action_info *info,
                          void *fb, uint64_t *seqp, int json)
{
    size_t flen = 0;
    uint64_t before = *seqp;
    while (hcm_action_client_feedback(cli, goal, fb, (size_t)info->feedback_max, &flen, seqp) ==
           HCM_OK) {
        if (*seqp > before + 1)
            fprintf(stderr, "hcm send-goal: skipped %" PRIu64 " feedback messages\n",
                    *seqp - before - 1);
        print_value("feedback", &info->feedback_type, fb, flen, json);
        before = *seqp;
    }
}

/* How long a send may wait for a free goal slot: until --timeout, else 5 s. */
static int64_t send_timeout(int64_t deadline)
{
    if (deadline < 0)
        return 5000000000ll;
    int64_t left = deadline - mono_ns();
    return left > 0 ? left : 0;
}

static int cmd_send_goal(int argc, char **argv)
{
    opt o[] = {{"timeout", 't', 1, NULL, 0}, {"json", 0, 0, NULL, 0},
               {"no-feedback", 0, 0, NULL, 0}};
    char *pos[2];
    hcm_action_info info;
    hcm_action_client_attr attr;
    hcm_action_client *cli = NULL;
    hcm_goal goal;
    void *g = NULL, *fb = NULL, *res = NULL;
    size_t glen = 0;
    int64_t deadline = -1;
    int rc, code = EXIT_FAIL, canceling = 0;
    if (parse_args("send-goal", help_send_goal, argc, argv, o, 3, pos, 2) != 2)
        usage_error("send-goal", "ACTION and VALUE are needed");
    if (o[0].set)
        deadline = mono_ns() + seconds_ns(arg_double("send-goal", &o[0], 0, 1e9));
    rc = hcm_action_stat(g_domain, pos[0], &info);
    if (rc == HCM_ENAME)
        usage_error("send-goal", "'%s' is not a valid action name: %s", pos[0], hcm_errmsg());
    if (rc == HCM_ENOENT)
        return not_found("action", pos[0]);
    if (rc != HCM_OK)
        return fail_rc(rc, "action", pos[0]);
    parse_value("send-goal", "goal", &info.goal_type, info.goal_max, pos[1], &g, &glen);
    fb = malloc((size_t)info.feedback_max);
    res = malloc((size_t)info.result_max);
    hcm_action_client_attr_init(&attr);
    attr.domain = g_domain;
    attr.goal_type = info.goal_type;
    attr.feedback_type = info.feedback_type;
    attr.result_type = info.result_type;
    if (fb == NULL || res == NULL) {
        fail("out of memory");
        goto out;
    }
    install_signals(); /* before the send: a Ctrl-C from now on cancels the goal */
    if ((rc = hcm_action_client_open(&cli, pos[0], &attr)) != HCM_OK ||
        (rc = hcm_action_client_send(cli, g, glen, &goal, send_timeout(deadline))) != HCM_OK) {
        if (rc == HCM_EDEAD)
            fail("action '%s' (domain %s): no live server", pos[0], domain_name());
        else
            fail_rc(rc, "action", pos[0]);
        goto out;
    }
    if (o[1].set)
        printf("{\"event\": \"sent\", \"goal_id\": %" PRIu64 "}\n", goal.id);
    else
        printf("goal %" PRIu64 " sent to action '%s'\n", goal.id, pos[0]);
    fflush(stdout);
    uint32_t events = 0;
    uint64_t fb_seq = 0;
    sig_atomic_t seen = 0; /* signals handled so far: a new one is a (second) Ctrl-C */
    hcm_goal_status last = HCM_GOAL_UNKNOWN, st;
    for (;;) {
        int timed_out = deadline >= 0 && mono_ns() >= deadline;
        int signaled = g_signals != seen;
        if (canceling && (signaled || timed_out)) {
            fail("action '%s' (domain %s): goal %" PRIu64 " left behind %s", pos[0],
                 domain_name(), goal.id,
                 signaled ? "on a second Ctrl-C" : "(it did not end within 5 s of cancel)");
            goto out;
        }
        if (signaled || timed_out) {
            seen = g_signals;
            canceling = 1;
            deadline = mono_ns() + 5000000000ll; /* for the server to honour the cancel */
            rc = hcm_action_client_cancel(cli, goal);
            fprintf(stderr, "hcm send-goal: canceling goal %" PRIu64 "%s\n", goal.id,
                    timed_out ? " (timeout)" : " (Ctrl-C again to quit)");
        }
        if (!o[2].set)
            show_feedback(cli, goal, &info, fb, &fb_seq, o[1].set);
        if ((rc = hcm_action_client_status(cli, goal, &st)) != HCM_OK) {
            fail_rc(rc, "action", pos[0]);
            goto out;
        }
        if (hcm_goal_status_is_final(st) && !o[2].set) /* feedback sent just before the end */
            show_feedback(cli, goal, &info, fb, &fb_seq, o[1].set);
        if (st != last) {
            goal_event(o[1].set, "status", hcm_goal_status_name(st));
            last = st;
        }
        if (hcm_goal_status_is_final(st)) {
            size_t rlen = 0;
            rc = hcm_action_client_result(cli, goal, res, (size_t)info.result_max, &rlen, &st, 0);
            if (rc != HCM_OK) {
                fail_rc(rc, "action", pos[0]);
                goto out;
            }
            if (st != HCM_GOAL_REJECTED)
                print_value("result", &info.result_type, res, rlen, o[1].set);
            code = st == HCM_GOAL_SUCCEEDED ? 0 : EXIT_FAIL;
            if (code != 0)
                fprintf(stderr, "hcm: action '%s' (domain %s): goal %" PRIu64 " ended %s\n",
                        pos[0], domain_name(), goal.id, hcm_goal_status_name(st));
            goto out;
        }
        rc = hcm_action_client_wait(cli, goal, &events, 200000000ll);
        if (rc == HCM_EDEAD) {
            fail("action '%s' (domain %s): the server died before goal %" PRIu64 " ended", pos[0],
                 domain_name(), goal.id);
            goto out;
        }
        if (rc != HCM_OK && rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            fail_rc(rc, "action", pos[0]);
            goto out;
        }
    }
out:
    hcm_action_client_close(cli);
    free(g);
    free(fb);
    free(res);
    return code;
}

/* ---- hcm clean ---------------------------------------------------------------------- */

static const char help_clean[] =
    "Usage: hcm [-d DOMAIN] clean [--dry-run] [--all-domains] [--json]\n"
    "\n"
    "Removes what dead processes left behind: topics whose publishers and\n"
    "subscribers are all dead, services and actions with no live server and no\n"
    "live client. A segment a live process uses is never removed. Segments that\n"
    "cannot be read (corrupt, another user's) are listed and left alone:\n"
    "remove them with `hcm unlink NAME` after a look with `hcm info NAME`.\n"
    "\n"
    "  -n, --dry-run      only print what would be removed\n"
    "  -a, --all-domains  every domain, not just the selected one\n"
    "      --json         {\"dry_run\": ..., \"removed\": [...], \"left\": [...]}\n";

static int cmd_clean(int argc, char **argv)
{
    opt o[] = {{"dry-run", 'n', 0, NULL, 0}, {"all-domains", 'a', 0, NULL, 0},
               {"json", 0, 0, NULL, 0}};
    entries es = {NULL, 0, 0};
    hcmv_buf b = {0};
    int rc, dry;
    size_t removed = 0;
    uint64_t bytes = 0;
    parse_args("clean", help_clean, argc, argv, o, 3, NULL, 0);
    dry = o[0].set;
    if ((rc = collect(o[1].set, 7, &es)) != HCM_OK) {
        free(es.v);
        return fail("clean: %s: %s", hcm_strerror(rc), hcm_errmsg());
    }
    /* Reclaim per domain; the library re-checks liveness under its own
     * mapping, so an entry that came alive since the listing stays. */
    if (!dry) {
        for (size_t i = 0; i < es.n; i++) {
            const char *d = entry_domain(&es.v[i]);
            int seen = 0;
            for (size_t k = 0; k < i && !seen; k++)
                seen = strcmp(entry_domain(&es.v[k]), d) == 0;
            if (seen)
                continue;
            if ((rc = hcm_topic_reclaim(d, NULL)) != HCM_OK ||
                (rc = hcm_service_reclaim(d, NULL)) != HCM_OK ||
                (rc = hcm_action_reclaim(d, NULL)) != HCM_OK) {
                free(es.v);
                return fail("clean (domain %s): %s: %s", d, hcm_strerror(rc), hcm_errmsg());
            }
        }
    }
    int json = o[2].set, code = 0;
    hcmv_buf left = {0};
    int nleft = 0;
    if (json)
        hcmv_buf_printf(&b, "{\"dry_run\": %s, \"removed\": [", dry ? "true" : "false");
    for (size_t i = 0; i < es.n; i++) {
        const entry *e = &es.v[i];
        int gone;
        const char *why = entry_error(e) != HCM_OK ? entry_state(e) : NULL;
        if (why == NULL && !entry_stale(e))
            continue;
        if (why == NULL && dry) {
            gone = 1;
        } else if (why == NULL) {
            entry now;
            const char *saved = g_domain;
            g_domain = entry_domain(e);
            int src = find_entry(entry_name(e), kind_mask(e->kind), &now);
            g_domain = saved;
            gone = src == HCM_ENOENT;
            if (!gone && src == HCM_OK && entry_stale(&now)) {
                /* still stale, still there: reclaim could not remove it */
                why = "stale, but could not be removed (another user's segment?)";
                code = EXIT_FAIL;
            }
            /* else a process uses it again since the listing: rightly kept */
        }
        if (why != NULL) {
            jw w;
            if (json) {
                hcmv_buf_puts(&left, nleft ? ", " : "");
                jw_open(&w, &left);
                jw_str(&w, "kind", kind_word(e->kind));
                jw_str(&w, "domain", entry_domain(e));
                jw_str(&w, "name", entry_name(e));
                jw_str(&w, "reason", why);
                jw_close(&w);
            } else {
                hcmv_buf_printf(&left, "left %s '%s' (domain %s): %s\n", kind_word(e->kind),
                                entry_name(e), entry_domain(e), why);
            }
            nleft++;
            continue;
        }
        if (!gone)
            continue;
        if (json) {
            jw w;
            hcmv_buf_puts(&b, removed ? ", " : "");
            jw_open(&w, &b);
            jw_str(&w, "kind", kind_word(e->kind));
            jw_str(&w, "domain", entry_domain(e));
            jw_str(&w, "name", entry_name(e));
            jw_u64(&w, "size", entry_size(e));
            jw_close(&w);
        } else {
            hcmv_buf_printf(&b, "%s %s '%s' (domain %s)\n", dry ? "would remove" : "removed",
                            kind_word(e->kind), entry_name(e), entry_domain(e));
        }
        removed++;
        bytes += entry_size(e);
    }
    if (json) {
        hcmv_buf_puts(&b, "], \"left\": [");
        if (left.len)
            hcmv_buf_puts(&b, left.p);
        hcmv_buf_puts(&b, "]}\n");
    } else {
        char sz[32];
        if (left.len)
            hcmv_buf_puts(&b, left.p);
        hcmv_buf_printf(&b, "%s %zu segment%s (%s)\n", dry ? "would remove" : "removed", removed,
                        removed == 1 ? "" : "s", human_bytes((double)bytes, sz, sizeof sz));
    }
    flush_out(&b);
    hcmv_buf_free(&b);
    hcmv_buf_free(&left);
    free(es.v);
    return code;
}

/* ---- hcm unlink --------------------------------------------------------------------- */

static const char help_unlink[] =
    "Usage: hcm [-d DOMAIN] unlink NAME [--kind topic|service|action]\n"
    "\n"
    "Removes the segment of NAME even if processes use it (they notice and\n"
    "re-attach to a new one when it appears). Also removes a corrupt segment.\n"
    "Exit 1 if there is no such name.\n";

static int cmd_unlink(int argc, char **argv)
{
    opt o[] = {{"kind", 'k', 1, NULL, 0}};
    char *pos[1];
    entry e;
    if (parse_args("unlink", help_unlink, argc, argv, o, 1, pos, 1) != 1)
        usage_error("unlink", "NAME is missing");
    unsigned kinds = kinds_option("unlink", &o[0]);
    int rc = find_entry(pos[0], kinds, &e);
    if (rc == HCM_ENAME)
        usage_error("unlink", "'%s' is not a valid name: %s", pos[0], hcm_errmsg());
    if (rc == HCM_ENOENT)
        return not_found(kinds_word(kinds), pos[0]);
    rc = e.kind == HCM_KIND_TOPIC     ? hcm_topic_unlink(g_domain, pos[0])
         : e.kind == HCM_KIND_SERVICE ? hcm_service_unlink(g_domain, pos[0])
                                      : hcm_action_unlink(g_domain, pos[0]);
    if (rc != HCM_OK)
        return fail_rc(rc, kind_word(e.kind), pos[0]);
    printf("removed %s '%s' (domain %s)\n", kind_word(e.kind), pos[0], domain_name());
    return 0;
}

/* ---- hcm top ------------------------------------------------------------------------ */

static const char help_top[] =
    "Usage: hcm [-d DOMAIN] top [--interval S] [-n N] [--json]\n"
    "\n"
    "A live table of the domain's topics, refreshed every S seconds (default 1):\n"
    "publish rate, bandwidth, live publishers and subscribers, samples the\n"
    "subscribers lost, and the largest subscriber lag (samples behind the\n"
    "newest). Press q or Ctrl-C to quit.\n"
    "\n"
    "  -i, --interval S   seconds between refreshes (0.1..3600)\n"
    "  -n, --count N      refresh N times and exit\n"
    "      --json         one JSON array per refresh instead of the table\n";

static struct termios g_saved_tty;
static int g_tty_raw;

static void tty_restore(void)
{
    if (g_tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tty);
        g_tty_raw = 0;
    }
}

static int tty_apply(void)
{
    struct termios t = g_saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    return tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* Ctrl-Z: give the terminal back as it was, stop; on fg, take it again.
 * (tcsetattr is async-signal-safe.) */
static void on_tstp(int sig)
{
    int saved = errno;
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
    errno = saved;
}

static void on_cont(int sig)
{
    int saved = errno;
    (void)sig;
    tty_apply();
    signal(SIGTSTP, on_tstp);
    errno = saved;
}

/* Keys arrive one by one without echo, so 'q' works without Enter. Only for
 * a terminal we own: not when stdin is not a terminal, and not from the
 * background (changing the modes there would stop us with SIGTTOU). */
static void tty_keys(void)
{
    pid_t fg;
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved_tty) != 0)
        return;
    /* our controlling terminal, with another process group in the foreground */
    if ((fg = tcgetpgrp(STDIN_FILENO)) >= 0 && fg != getpgrp())
        return;
    if (tty_apply() == 0) {
        g_tty_raw = 1;
        atexit(tty_restore);
        signal(SIGTSTP, on_tstp);
        signal(SIGCONT, on_cont);
    }
}

/* Sleeps until `until` or a 'q' on the terminal. 1 if the user asked to quit
 * (q, Ctrl-C, or the terminal hung up). */
static int top_sleep(int64_t until)
{
    for (;;) {
        if (g_interrupted)
            return 1;
        if (!sleep_until(until, g_tty_raw ? STDIN_FILENO : -1))
            return g_interrupted;
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return 1; /* hung up */
        if (n == 1 && (c == 'q' || c == 'Q'))
            return 1;
    }
}

typedef struct top_prev {
    char name[HCM_NAME_MAX + 1];
    uint64_t count;
} top_prev;

static int cmd_top(int argc, char **argv)
{
    opt o[] = {{"interval", 'i', 1, NULL, 0}, {"count", 'n', 1, NULL, 0}, {"json", 0, 0, NULL, 0}};
    double interval = 1.0;
    uint64_t frames = 0, done = 0;
    top_prev *prev = NULL;
    size_t nprev = 0;
    int64_t t_prev = 0;
    int code = 0, clear = isatty(STDOUT_FILENO);
    parse_args("top", help_top, argc, argv, o, 3, NULL, 0);
    if (o[0].set)
        interval = arg_double("top", &o[0], 0.1, 3600);
    if (o[1].set)
        frames = arg_count("top", &o[1], 1, UINT64_MAX);
    clear = clear && !o[2].set;
    install_signals();
    if (!o[2].set)
        tty_keys();
    /* A baseline first, so that the first frame already has rates. */
    {
        hcm_topic_info *t = NULL;
        size_t nt = 0;
        if (hcm_topic_list(g_domain, &t, &nt) == HCM_OK && nt > 0 &&
            (prev = calloc(nt, sizeof *prev)) != NULL) {
            for (size_t i = 0; i < nt; i++) {
                memcpy(prev[i].name, t[i].name, sizeof prev[i].name);
                prev[i].count = t[i].publish_count;
            }
            nprev = nt;
        }
        hcm_topic_list_free(t);
        t_prev = mono_ns();
        if (top_sleep(t_prev + seconds_ns(interval < 0.25 ? interval : 0.25))) {
            free(prev);
            tty_restore();
            return 0;
        }
    }
    for (;;) {
        hcm_topic_info *t = NULL;
        size_t nt = 0;
        int64_t now = mono_ns();
        int rc = hcm_topic_list(g_domain, &t, &nt);
        if (rc != HCM_OK) {
            code = fail("top (domain %s): %s: %s", domain_name(), hcm_strerror(rc), hcm_errmsg());
            break;
        }
        double dt = t_prev ? (double)(now - t_prev) / 1e9 : 0;
        hcmv_buf b = {0};
        if (clear)
            hcmv_buf_puts(&b, "\033[H\033[2J");
        if (o[2].set) {
            hcmv_buf_putc(&b, '[');
        } else {
            hcmv_buf_printf(&b, "hcm top - domain %s - %zu topic%s - every %.3g s (q quits)\n\n",
                            domain_name(), nt, nt == 1 ? "" : "s", interval);
            hcmv_buf_printf(&b, "%-28s %-22s %10s %12s %4s %4s %10s %8s %s\n", "TOPIC", "TYPE",
                            "RATE Hz", "BANDWIDTH", "PUB", "SUB", "LOST", "MAX LAG", "STATE");
        }
        top_prev *cur = calloc(nt ? nt : 1, sizeof *cur);
        if (cur == NULL) {
            hcm_topic_list_free(t);
            hcmv_buf_free(&b);
            code = fail("out of memory");
            break;
        }
        for (size_t i = 0; i < nt; i++) {
            const hcm_topic_info *x = &t[i];
            double rate = -1;
            memcpy(cur[i].name, x->name, sizeof cur[i].name);
            cur[i].count = x->publish_count;
            for (size_t k = 0; k < nprev && dt > 0; k++)
                if (strcmp(prev[k].name, x->name) == 0 && x->publish_count >= prev[k].count)
                    rate = (double)(x->publish_count - prev[k].count) / dt;
            double bw = rate > 0 ? rate * (double)x->last_len : 0;
            entry e = {.kind = HCM_KIND_TOPIC, .u.t = *x};
            if (o[2].set) {
                jw w;
                hcmv_buf_puts(&b, i ? ", " : "");
                jw_open(&w, &b);
                jw_str(&w, "name", x->name);
                jw_str(&w, "state", entry_state(&e));
                if (!x->error)
                    jw_type(&w, "type", &x->type);
                jw_key(&w, "rate_hz");
                if (rate < 0)
                    hcmv_buf_puts(&b, "null");
                else
                    hcmv_buf_printf(&b, "%.3f", rate);
                jw_num(&w, "bytes_per_s", bw);
                jw_u64(&w, "publishers", x->publishers);
                jw_u64(&w, "subscribers", x->subscribers);
                jw_u64(&w, "lost", x->lost);
                jw_u64(&w, "max_lag", x->max_lag);
                jw_u64(&w, "publish_count", x->publish_count);
                jw_close(&w);
            } else {
                char type[256], r[32], bws[300];
                if (rate < 0)
                    snprintf(r, sizeof r, "-");
                else
                    snprintf(r, sizeof r, "%.1f", rate);
                snprintf(bws, sizeof bws, "%s/s", human_bytes(bw, type, sizeof type));
                hcmv_buf_printf(&b, "%-28s %-22s %10s %12s %4u %4u %10" PRIu64 " %8" PRIu64
                                    " %s\n",
                                x->name, x->error ? "?" : type_name(&x->type, type, sizeof type), r,
                                bws, x->publishers, x->subscribers, x->lost, x->max_lag,
                                entry_state(&e));
            }
        }
        if (o[2].set)
            hcmv_buf_puts(&b, "]\n");
        flush_out(&b);
        hcmv_buf_free(&b);
        hcm_topic_list_free(t);
        free(prev);
        prev = cur;
        nprev = nt;
        t_prev = now;
        done++;
        if (frames && done >= frames)
            break;
        if (top_sleep(now + seconds_ns(interval)))
            break;
    }
    free(prev);
    tty_restore();
    return code;
}

/* ---- main ----------------------------------------------------------------------------- */

static const char help_main[] =
    "Usage: hcm [-d DOMAIN] COMMAND [ARGS] [--help]\n"
    "\n"
    "See and steer a running hcm system (topics, services, actions).\n"
    "\n"
    "Commands:\n"
    "  list        topics, services and actions with type, peers, activity\n"
    "  info NAME   everything a segment records, with its peers' pids\n"
    "  echo TOPIC  print samples as they arrive\n"
    "  hz TOPIC    publish rate (min/max/std of the period)\n"
    "  bw TOPIC    bandwidth\n"
    "  pub TOPIC VALUE        publish from the shell\n"
    "  call SERVICE VALUE     call a service\n"
    "  send-goal ACTION VALUE send a goal, print feedback and result\n"
    "  clean       remove what dead processes left behind\n"
    "  unlink NAME remove one segment\n"
    "  top         live table of topics\n"
    "\n"
    "Options:\n"
    "  -d, --domain D   the domain (default: $HCM_DOMAIN, else \"0\")\n"
    "  -h, --help       this text; `hcm COMMAND --help` for a command's\n"
    "  -V, --version    the version\n"
    "\n"
    "Exit codes: 0 success, 1 failure (not found, timeout, dead peer, ...),\n"
    "2 bad command line. Documentation: docs/cli.md.\n";

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
} command;

int main(int argc, char **argv)
{
    static const command cmds[] = {
        {"list", cmd_list},   {"info", cmd_info},     {"echo", cmd_echo},
        {"hz", cmd_hz},       {"bw", cmd_bw},         {"pub", cmd_pub},
        {"call", cmd_call},   {"send-goal", cmd_send_goal}, {"clean", cmd_clean},
        {"unlink", cmd_unlink}, {"top", cmd_top},
    };
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help_main, stdout);
            return 0;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("hcm %s\n", HCM_VERSION_STRING);
            return 0;
        }
        if (strcmp(a, "-d") == 0 || strcmp(a, "--domain") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hcm: %s needs a value\nTry 'hcm --help'.\n", a);
                return EXIT_USAGE;
            }
            g_domain = argv[i + 1];
            i += 2;
            continue;
        }
        if (strncmp(a, "--domain=", 9) == 0) {
            g_domain = a + 9;
            i++;
            continue;
        }
        fprintf(stderr, "hcm: unknown option '%s'\nTry 'hcm --help'.\n", a);
        return EXIT_USAGE;
    }
    if (i >= argc) {
        fputs(help_main, stderr);
        return EXIT_USAGE;
    }
    {
        /* validate once, here (from -d or $HCM_DOMAIN), so that every command
         * reports it the same way and never blames a name for it */
        hcm_topic_info probe;
        if (hcm_topic_stat(g_domain, "x", &probe) == HCM_ENAME) {
            fprintf(stderr, "hcm: %s'%s' is not a valid domain: %s\n",
                    g_domain != NULL ? "" : "$HCM_DOMAIN: ", domain_name(), hcm_errmsg());
            return EXIT_USAGE;
        }
    }
    atexit(check_stdout);
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (strcmp(argv[i], cmds[k].name) == 0)
            return cmds[k].fn(argc - i, argv + i);
    fprintf(stderr, "hcm: unknown command '%s'\nTry 'hcm --help'.\n", argv[i]);
    return EXIT_USAGE;
}
