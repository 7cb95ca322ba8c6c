/* move_to_client.c - sends one goal to move_to_server and follows it live.
 *
 *   move_to_client [ACTION] [--target X] [--cancel-after N] [--wait S] [--timeout S]
 *
 * Sends the target X (default 10), prints every status change and every
 * feedback as it comes, and the result at the end. --cancel-after N asks to
 * cancel once N feedbacks have arrived (Ctrl-C cancels too). --wait S keeps
 * trying for S seconds (default 5) while the action has no server yet;
 * --timeout S (default 60) cancels a goal that has not ended by then.
 *
 * Exit status: 0 if the goal ended as asked (SUCCEEDED; CANCELED with
 * --cancel-after or Ctrl-C), 1 otherwise (rejected, aborted, a server that
 * died, a timeout), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, nanosleep */

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hcm/hcm.h>

typedef struct move_feedback {
    double position;
    double progress; /* 0..1 */
} move_feedback;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "move_to_client: %s: %s (%s)\n", what, hcm_strerror(rc), hcm_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *action = "robot/move_to";
    double target = 10, wait_s = 5, timeout_s = 60;
    long cancel_after = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target = atof(argv[++i]);
        else if (strcmp(argv[i], "--cancel-after") == 0 && i + 1 < argc)
            cancel_after = atol(argv[++i]);
        else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
            wait_s = atof(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout_s = atof(argv[++i]);
        else if (argv[i][0] != '-')
            action = argv[i];
        else {
            fprintf(stderr, "usage: move_to_client [ACTION] [--target X] [--cancel-after N] "
                            "[--wait S] [--timeout S]\n");
            return 2;
        }
    }
    if (cancel_after < 0) {
        fprintf(stderr, "move_to_client: --cancel-after must be >= 0\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a wait in progress returns HCM_EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* The same types as the server: a mismatch is HCM_ETYPE, not garbage. */
    hcm_action_client_attr attr;
    hcm_action_client_attr_init(&attr);
    attr.goal_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    attr.result_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    int rc = hcm_type_struct(&attr.feedback_type, "MoveFeedback", "<2d", sizeof(move_feedback));
    hcm_action_client *cli = NULL;
    if (rc == HCM_OK)
        rc = hcm_action_client_open(&cli, action, &attr);
    if (rc != HCM_OK)
        return fail("open", rc);

    /* Send; while there is no server yet (HCM_ENOENT: never opened,
     * HCM_EDEAD: its server is gone), try again for --wait seconds. */
    hcm_goal goal;
    double t0 = now_s();
    for (;;) {
        rc = hcm_action_client_send(cli, &target, sizeof target, &goal, 1000000000ll);
        if (rc == HCM_OK || (rc != HCM_ENOENT && rc != HCM_EDEAD) || interrupted ||
            now_s() - t0 >= wait_s)
            break;
        struct timespec tick = {0, 100000000};
        nanosleep(&tick, NULL);
    }
    if (rc != HCM_OK) {
        fail("send", rc);
        hcm_action_client_close(cli);
        return 1;
    }
    printf("move_to_client: goal %llu -> %.3f sent\n", (unsigned long long)goal.id, target);
    fflush(stdout);

    /* Follow it: every change (status or feedback) wakes the wait. The
     * status is read before the feedback, so the feedback published before
     * the goal ended is printed before its final status. */
    hcm_goal_status last = HCM_GOAL_PENDING, st = HCM_GOAL_PENDING;
    uint32_t events = 0;
    uint64_t seq = 0;
    long feedbacks = 0;
    int cancel_sent = 0, why_cancel = 0; /* 1 --cancel-after, 2 signal, 3 timeout */
    int status = 1;
    double deadline = now_s() + timeout_s;
    for (;;) {
        if ((rc = hcm_action_client_status(cli, goal, &st)) != HCM_OK) {
            fail("status", rc);
            goto out;
        }
        move_feedback fb;
        size_t len;
        uint64_t before = seq;
        /* the newest feedback only: a jump in seq says how many were skipped */
        while ((rc = hcm_action_client_feedback(cli, goal, &fb, sizeof fb, &len, &seq)) == HCM_OK) {
            feedbacks++;
            printf("move_to_client: feedback %llu: position %8.3f  %3.0f %%%s\n",
                   (unsigned long long)seq, fb.position, fb.progress * 100,
                   seq - before > 1 ? "  (some skipped)" : "");
            fflush(stdout);
            before = seq;
        }
        if (rc != HCM_EAGAIN) {
            fail("feedback", rc);
            goto out;
        }
        if (st != last) {
            printf("move_to_client: status %s\n", hcm_goal_status_name(st));
            fflush(stdout);
            last = st;
        }
        if (hcm_goal_status_is_final(st))
            break;
        if (!cancel_sent) {
            if (cancel_after > 0 && feedbacks >= cancel_after)
                why_cancel = 1;
            else if (interrupted)
                why_cancel = 2;
            else if (now_s() >= deadline)
                why_cancel = 3;
            if (why_cancel) {
                printf("move_to_client: canceling after %ld feedback%s (%s)\n", feedbacks,
                       feedbacks == 1 ? "" : "s",
                       why_cancel == 1 ? "--cancel-after" : why_cancel == 2 ? "signal" : "timeout");
                fflush(stdout);
                /* HCM_EINVAL: it ended meanwhile; the status tells how */
                if ((rc = hcm_action_client_cancel(cli, goal)) != HCM_OK && rc != HCM_EINVAL) {
                    fail("cancel", rc);
                    goto out;
                }
                cancel_sent = 1;
                deadline = now_s() + 5; /* the server decides; give it a moment */
                continue;
            }
        } else if (now_s() >= deadline) {
            fprintf(stderr, "move_to_client: the goal did not end after the cancel\n");
            goto out;
        }
        rc = hcm_action_client_wait(cli, goal, &events, 100000000ll);
        if (rc != HCM_OK && rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            fail("wait", rc); /* HCM_EDEAD: the server died before finishing it */
            goto out;
        }
    }

    double final_pos = 0;
    size_t len = 0;
    if ((rc = hcm_action_client_result(cli, goal, &final_pos, sizeof final_pos, &len, &st, 0)) !=
        HCM_OK) {
        fail("result", rc);
        goto out;
    }
    if (len == sizeof final_pos)
        printf("move_to_client: %s at position %.3f after %ld feedback%s\n",
               hcm_goal_status_name(st), final_pos, feedbacks, feedbacks == 1 ? "" : "s");
    else
        printf("move_to_client: %s (no result)\n", hcm_goal_status_name(st));
    status = st == HCM_GOAL_SUCCEEDED ||
                     (st == HCM_GOAL_CANCELED && (why_cancel == 1 || why_cancel == 2))
                 ? 0
                 : 1;
out:
    hcm_action_client_close(cli); /* a goal still running is cancelled */
    return status;
}
