/* test_perm.c - segment permissions: explicit modes whatever the umask, and
 * another user refused with a message that names the segment. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static unsigned file_mode(const char *topic)
{
    char path[512];
    harness_segment_path(topic, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        FAIL("stat %s: %s", path, strerror(errno));
    return (unsigned)(st.st_mode & 07777);
}

static void create_topic(const char *topic, uint32_t mode)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
    if (mode != 0)
        a.mode = mode;
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, topic, &a));
    int64_t v = 1;
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
    hcm_publisher_close(pub);
}

TEST(default_mode_is_0600_even_with_umask_0)
{
    mode_t old = umask(0);
    create_topic("private", 0);
    umask(old);
    CHECK_EQ(file_mode("private"), 0600);
    hcm_publisher_attr a;
    hcm_publisher_attr_init(&a);
    CHECK_EQ(a.mode, 0600);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "private", &info));
    CHECK_EQ(info.mode, 0600);
    CHECK_OK(hcm_topic_unlink(NULL, "private"));
}

TEST(mode_0640_is_applied_exactly_whatever_the_umask)
{
    mode_t old = umask(077);
    create_topic("group", 0640);
    umask(old);
    CHECK_EQ(file_mode("group"), 0640);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "group", &info));
    CHECK_EQ(info.mode, 0640);
    CHECK_OK(hcm_topic_unlink(NULL, "group"));
}

TEST(mode_0666_is_applied_despite_umask_022)
{
    mode_t old = umask(022);
    create_topic("world", 0666);
    umask(old);
    CHECK_EQ(file_mode("world"), 0666);
    CHECK_OK(hcm_topic_unlink(NULL, "world"));
}

TEST(mode_bits_beyond_the_permission_bits_never_reach_the_file)
{
    const uint32_t odd[] = {04600, 0x10000 | 0600};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
        a.mode = odd[i];
        hcm_publisher *pub = NULL;
        int rc = hcm_publisher_open(&pub, "odd", &a);
        if (rc == HCM_OK) {
            CHECK_EQ(file_mode("odd") & 07000, 0);
            hcm_publisher_close(pub);
            CHECK_OK(hcm_topic_unlink(NULL, "odd"));
        } else {
            CHECK_RC(rc, HCM_EINVAL);
        }
    }
    char paths[4][512];
    CHECK_EQ(harness_shm_entries(paths, 4), 0);
}

static void drop_to_nobody(void)
{
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL)
        _exit(HARNESS_SKIP);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        FAIL("dropping to nobody: %s", strerror(errno));
    CHECK(geteuid() == pw->pw_uid);
}

TEST(another_user_gets_eperm_naming_the_segment_on_a_0600_topic)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to the nobody user");
    if (getpwnam("nobody") == NULL)
        SKIP("no nobody user");
    create_topic("secret", 0600);
    pid_t pid = harness_fork();
    if (pid == 0) {
        drop_to_nobody();
        hcm_subscriber *sub = NULL;
        CHECK_RC(hcm_subscriber_open(&sub, "secret", NULL), HCM_EPERM);
        harness_log("errmsg: %s", hcm_errmsg());
        CHECK_CONTAINS(hcm_errmsg(), "secret");
        hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
        hcm_publisher *pub = NULL;
        CHECK_RC(hcm_publisher_open(&pub, "secret", &a), HCM_EPERM);
        CHECK_CONTAINS(hcm_errmsg(), "secret");
        /* it did not replace or remove the segment either */
        CHECK_RC(hcm_topic_unlink(NULL, "secret"), HCM_EPERM);
        _exit(0);
    }
    int code = harness_wait_child(pid, 30000);
    if (code == HARNESS_SKIP)
        SKIP("no nobody user in the child");
    CHECK_EQ(code, 0);
    /* still there and intact */
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "secret", NULL));
    int64_t v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 1);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "secret"));
}

TEST(another_user_subscribed_before_the_topic_existed_gets_eperm_from_reads)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to the nobody user");
    if (getpwnam("nobody") == NULL)
        SKIP("no nobody user");
    harness_gate subscribed, created;
    harness_gate_init(&subscribed);
    harness_gate_init(&created);
    pid_t pid = harness_fork();
    if (pid == 0) {
        drop_to_nobody();
        hcm_subscriber *sub = NULL;
        CHECK_OK(hcm_subscriber_open(&sub, "secret", NULL)); /* nothing there yet */
        harness_gate_pass(&subscribed, 1);
        harness_gate_wait(&created, 20000);
        int64_t v = 0;
        CHECK_RC(hcm_subscriber_latest(sub, &v, sizeof v, NULL), HCM_EPERM);
        CHECK_CONTAINS(hcm_errmsg(), "secret");
        CHECK_RC(hcm_subscriber_take(sub, &v, sizeof v, NULL), HCM_EPERM);
        CHECK_RC(hcm_subscriber_wait(sub, 10000000ll), HCM_EPERM);
        hcm_subscriber_close(sub);
        _exit(0);
    }
    harness_gate_wait(&subscribed, 20000);
    create_topic("secret", 0600);
    harness_gate_pass(&created, 1);
    CHECK_EQ(harness_wait_child(pid, 30000), 0);
    CHECK_OK(hcm_topic_unlink(NULL, "secret"));
    harness_gate_close(&subscribed);
    harness_gate_close(&created);
}

TEST(another_user_sees_eperm_in_stat_and_list)
{
    if (geteuid() != 0)
        SKIP("needs root to switch to the nobody user");
    if (getpwnam("nobody") == NULL)
        SKIP("no nobody user");
    create_topic("secret", 0600);
    pid_t pid = harness_fork();
    if (pid == 0) {
        drop_to_nobody();
        hcm_topic_info info;
        int rc = hcm_topic_stat(NULL, "secret", &info);
        if (rc == HCM_OK) {
            CHECK_RC(info.error, HCM_EPERM);
            CHECK_EQ(info.uid, 0);
            CHECK_EQ(info.mode, 0600);
        } else {
            CHECK_RC(rc, HCM_EPERM);
        }
        hcm_topic_info *infos = NULL;
        size_t n = 0;
        CHECK_OK(hcm_topic_list(NULL, &infos, &n));
        CHECK_EQ(n, 1);
        CHECK(strcmp(infos[0].name, "secret") == 0);
        CHECK_RC(infos[0].error, HCM_EPERM);
        hcm_topic_list_free(infos);
        size_t count = 99;
        CHECK_OK(hcm_topic_reclaim(NULL, &count));
        CHECK_EQ(count, 0);
        _exit(0);
    }
    int code = harness_wait_child(pid, 30000);
    if (code == HARNESS_SKIP)
        SKIP("no nobody user in the child");
    CHECK_EQ(code, 0);
    CHECK_OK(hcm_topic_unlink(NULL, "secret"));
}
