/* move_to_server.c - an action: moves a (pretend) axis to a target position.
 *
 *   move_to_server [ACTION] [--seconds S] [--step-ms MS] [--speed D] [--limit L] [--unlink]
 *
 * Goal:     float64, the target position.
 * Feedback: struct MoveFeedback { double position, progress; }  ("<2d", 16 bytes):
 *           where the axis is now, and the share of the way done (0..1).
 * Result:   float64, the position where the goal ended.
 *
 * Goals are served one at a time, in the order they were sent. A goal whose
 * target is not finite or beyond +-L (--limit, default 1000) is rejected.
 * An accepted goal moves the axis by at most D (--speed, default 1) every
 * MS milliseconds (--step-ms, default 20), publishing feedback after each
 * step, and ends SUCCEEDED at the target, or CANCELED where it is if its
 * client asks to cancel (or dies). SIGINT/SIGTERM (or --seconds) stop the
 * server: a goal in progress ends ABORTED. --unlink removes the action at exit.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, nanosleep */

#include <math.h>
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "move_to_server: %s: %s (%s)\n", what, hcm_strerror(rc), hcm_errmsg());
    return 1;
}

/* Executes one accepted goal; the axis is at *pos. Returns 0, or 1 on an
 * error of the library. */
static int execute(hcm_action_server *srv, hcm_goal goal, double target, double *pos,
                   double speed, long step_ms)
{
    const double start = *pos, way = fabs(target - start);
    const struct timespec step = {step_ms / 1000, (step_ms % 1000) * 1000000L};
    hcm_goal_status end = HCM_GOAL_SUCCEEDED;
    unsigned long steps = 0;
    int rc = hcm_action_server_execute(srv, goal);
    if (rc != HCM_OK)
        return fail("execute", rc);
    while (*pos != target) {
        nanosleep(&step, NULL); /* the time one step takes */
        /* cheap: a flag in shared memory (and the client's liveness every 50 ms) */
        if (hcm_action_server_cancel_requested(srv, goal)) {
            end = HCM_GOAL_CANCELED;
            break;
        }
        if (stop) {
            end = HCM_GOAL_ABORTED;
            break;
        }
        double d = target - *pos;
        *pos = fabs(d) <= speed ? target : *pos + (d > 0 ? speed : -speed);
        steps++;
        move_feedback fb = {*pos, way > 0 ? fabs(*pos - start) / way : 1.0};
        if ((rc = hcm_action_server_feedback(srv, goal, &fb, sizeof fb)) != HCM_OK)
            return fail("feedback", rc);
    }
    /* CANCELED is legal only after a cancel request: checked above */
    if ((rc = hcm_action_server_finish(srv, goal, end, pos, sizeof *pos)) != HCM_OK)
        return fail("finish", rc);
    printf("move_to_server: goal %llu %s at %.3f after %lu step%s\n", (unsigned long long)goal.id,
           hcm_goal_status_name(end), *pos, steps, steps == 1 ? "" : "s");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *action = "robot/move_to";
    double seconds = 0, speed = 1.0, limit = 1000.0;
    long step_ms = 20;
    int unlink_at_exit = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--step-ms") == 0 && i + 1 < argc)
            step_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--speed") == 0 && i + 1 < argc)
            speed = atof(argv[++i]);
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = atof(argv[++i]);
        else if (strcmp(argv[i], "--unlink") == 0)
            unlink_at_exit = 1;
        else if (argv[i][0] != '-')
            action = argv[i];
        else {
            fprintf(stderr, "usage: move_to_server [ACTION] [--seconds S] [--step-ms MS] "
                            "[--speed D] [--limit L] [--unlink]\n");
            return 2;
        }
    }
    if (!(speed > 0) || step_ms < 0 || !(limit >= 0)) {
        fprintf(stderr, "move_to_server: --speed must be > 0, --step-ms and --limit >= 0\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a take in progress returns HCM_EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hcm_action_server_attr attr;
    hcm_action_server_attr_init(&attr);
    attr.goal_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    attr.result_type = hcm_type_scalar(HCM_TYPE_FLOAT64);
    int rc = hcm_type_struct(&attr.feedback_type, "MoveFeedback", "<2d", sizeof(move_feedback));
    hcm_action_server *srv = NULL;
    if (rc == HCM_OK)
        rc = hcm_action_server_open(&srv, action, &attr);
    if (rc != HCM_OK)
        return fail("open", rc);
    double pos = 0;
    printf("move_to_server: serving '%s' (domain %s); axis at %.3f, %.3g per step of %ld ms\n",
           action, hcm_default_domain(), pos, speed, step_ms);
    fflush(stdout);

    unsigned long served = 0;
    int status = 0;
    double t_end = seconds > 0 ? now_s() + seconds : 0;
    while (!stop && (t_end == 0 || now_s() < t_end)) {
        double target;
        size_t len;
        hcm_goal goal;
        rc = hcm_action_server_take(srv, &target, sizeof target, &len, &goal, 100000000ll);
        if (rc == HCM_ETIMEDOUT || rc == HCM_EINTR)
            continue;
        if (rc != HCM_OK) {
            status = fail("take", rc);
            break;
        }
        served++;
        if (!isfinite(target) || fabs(target) > limit) {
            printf("move_to_server: goal %llu -> %g: rejected (beyond +-%g)\n",
                   (unsigned long long)goal.id, target, limit);
            fflush(stdout);
            if ((rc = hcm_action_server_reject(srv, goal)) != HCM_OK) {
                status = fail("reject", rc);
                break;
            }
            continue;
        }
        rc = hcm_action_server_accept(srv, goal);
        if (rc == HCM_ECANCELED) { /* its client cancelled it before we got to it */
            printf("move_to_server: goal %llu canceled before it started\n",
                   (unsigned long long)goal.id);
            continue;
        }
        if (rc != HCM_OK) {
            status = fail("accept", rc);
            break;
        }
        printf("move_to_server: goal %llu -> %.3f accepted (axis at %.3f)\n",
               (unsigned long long)goal.id, target, pos);
        fflush(stdout);
        if ((status = execute(srv, goal, target, &pos, speed, step_ms)) != 0)
            break;
    }
    hcm_action_server_close(srv); /* goals still pending end REJECTED for their clients */
    if (unlink_at_exit)
        hcm_action_unlink(NULL, action);
    printf("move_to_server: served %lu goal%s; axis at %.3f\n", served, served == 1 ? "" : "s",
           pos);
    return status;
}
