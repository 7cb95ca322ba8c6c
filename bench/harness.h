/* bench/harness.h - running one measurement in two fresh processes. */
#ifndef HCM_BENCH_HARNESS_H
#define HCM_BENCH_HARNESS_H

#include <stdio.h>

#include "bench.h"
#include "hcm/hcm.h"

typedef struct bench_case {
    bench_role_fn fn;    /* runs in both children (e->role tells which) */
    bench_params p;
    size_t shared_len;   /* data mapping for a raw reference; 0 = none */
    int uds;             /* give the children a SOCK_SEQPACKET socketpair */
    int hcm;             /* uses topics ping/pong/stream, service svc or actions act,
                            act_ab, act_ba: unlink them before and after */
} bench_case;

/* Forks A and B, waits (never longer than warm + window + ~20 s), kills both
 * if either fails, unlinks the topics. 0 and *out filled, or -1 and err. */
int bench_run(const bench_case *c, const char *domain, bench_result *out, char *err,
              size_t errlen);

/* SIGALRM/SIGINT/SIGTERM/SIGHUP kill the running children; after an
 * interrupt bench_interrupted() returns the signal number. */
void bench_install_signals(void);
int bench_interrupted(void);

/* Prints loadavg_<label>, busy_processes_<label> (>= 10 % of a CPU over the
 * probe) and PROBE clock_ns syscall_ns ncpu cpuN_share (share of each CPU a
 * pinned spinning process got over 250 ms). Returns the smallest share. */
double bench_env_record(const char *label, FILE *out);

#endif /* HCM_BENCH_HARNESS_H */
