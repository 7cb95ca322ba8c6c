/* tests/test_fastpath.c - the fast paths make no system call.
 *
 * A child process attaches, warms up, then installs a seccomp filter under
 * which any system call other than read, write, exit and sigreturn kills it
 * with SIGSYS. It then runs the fast path many times and exits. A child that
 * dies of SIGSYS made a system call it should not have. (Not strict mode:
 * that also disables the TSC, so the vDSO clock would fault.) */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS 10000

/* clock_gettime must come from the vDSO for "no system call" to hold. */
static void require_vdso_clock(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* Sanitizer runtimes make system calls of their own (shadow memory,
     * allocator); the property holds for the plain build, tested there. */
    SKIP("sanitizer build: its runtime makes system calls of its own");
#endif
    char cs[64] = "";
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, cs, sizeof cs - 1);
        close(fd);
        if (n > 0)
            cs[n] = '\0';
    }
#if !defined(__x86_64__)
    SKIP("the seccomp filter of this test is written for x86-64");
#endif
    if (strncmp(cs, "tsc", 3) != 0 && strncmp(cs, "kvm-clock", 9) != 0 &&
        strncmp(cs, "arch_sys_counter", 16) != 0)
        SKIP("clocksource '%s' may not have a vDSO clock_gettime", cs);
}

#define ALLOW(nr)                                                                  \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void enter_strict_mode(void)
{
    static struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(__NR_read),
        ALLOW(__NR_write),
        ALLOW(__NR_exit),
        ALLOW(__NR_exit_group),
        ALLOW(__NR_rt_sigreturn),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    static struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    fflush(NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
        _exit(3);
}

static void strict_exit(int code)
{
    _exit(code);
}

TEST(subscriber_reads_make_no_system_call_once_attached)
{
    hcm_publisher_attr pa = harness_pub_attr(HCM_TYPE_INT64, 8, 0);
    hcm_subscriber_attr sa = harness_sub_attr(HCM_TYPE_INT64);
    hcm_publisher *pub;
    hcm_subscriber *sub;
    int64_t v = 41;
    pid_t pid;

    require_vdso_clock();
    CHECK_OK(hcm_publisher_open(&pub, "fast", &pa));
    CHECK_OK(hcm_subscriber_open(&sub, "fast", &sa));
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
    pid = harness_fork();
    if (pid == 0) {
        hcm_sample_info info;
        int64_t got;
        int bad = 0;
        enter_strict_mode();
        for (int i = 0; i < ROUNDS; i++) {
            if (hcm_subscriber_latest(sub, &got, sizeof got, &info) != HCM_OK || got != 41)
                bad++;
            int rc = hcm_subscriber_take(sub, &got, sizeof got, &info);
            if (rc != HCM_OK && rc != HCM_EAGAIN)
                bad++;
            if (hcm_subscriber_wait(sub, 0) != HCM_ETIMEDOUT)
                bad++;
        }
        strict_exit(bad == 0 ? 0 : 1);
    }
    CHECK_EQ(harness_wait_child(pid, 30000), 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "fast"));
}

TEST(publish_makes_no_system_call_when_nobody_sleeps)
{
    hcm_publisher_attr pa = harness_pub_attr(HCM_TYPE_INT64, 4, 0);
    hcm_subscriber_attr sa = harness_sub_attr(HCM_TYPE_INT64);
    hcm_subscriber *sub;
    hcm_sample_info info;
    int64_t got = 0;
    pid_t pid;

    require_vdso_clock();
    CHECK_OK(hcm_subscriber_open(&sub, "fastpub", &sa));
    pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub;
        int bad = 0;
        int64_t v = 0;
        if (hcm_publisher_open(&pub, "fastpub", &pa) != HCM_OK)
            _exit(2);
        if (hcm_publish(pub, &v, sizeof v) != HCM_OK) /* warm the identity caches */
            _exit(2);
        enter_strict_mode();
        for (v = 1; v <= ROUNDS; v++) {
            if (hcm_publish(pub, &v, sizeof v) != HCM_OK)
                bad++;
            void *buf;
            if (hcm_publisher_loan(pub, sizeof v, &buf) != HCM_OK)
                bad++;
            else if (hcm_publisher_commit(pub, buf) != HCM_OK)
                bad++;
        }
        strict_exit(bad == 0 ? 0 : 1);
    }
    CHECK_EQ(harness_wait_child(pid, 30000), 0);
    CHECK_OK(hcm_subscriber_latest(sub, &got, sizeof got, &info));
    CHECK_EQ_U64(info.seq, 2 * ROUNDS); /* 1 warm-up + 2 per round, numbered from 0 */
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "fastpub"));
}

TEST(seccomp_test_detects_a_system_call)
{
    /* The method itself: a child that makes a system call in strict mode
     * must die of SIGSYS, or the two tests above prove nothing. */
    pid_t pid = harness_fork();
    if (pid == 0) {
        enter_strict_mode();
        (void)getppid();
        strict_exit(0);
    }
    CHECK_EQ(harness_wait_child(pid, 30000), 128 + SIGSYS);
}
