/* test_args.c - names, domains, sizes and other arguments: every mistake
 * gives an error code, never a crash, and leaves nothing in /dev/shm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int pub_rc(const char *topic, const hcm_publisher_attr *a)
{
    hcm_publisher *pub = NULL;
    int rc = hcm_publisher_open(&pub, topic, a);
    if (rc == HCM_OK) {
        CHECK(pub != NULL);
        hcm_publisher_close(pub);
        CHECK_OK(hcm_topic_unlink(a ? a->domain : NULL, topic));
    }
    return rc;
}

static int sub_rc(const char *topic, const hcm_subscriber_attr *a)
{
    hcm_subscriber *sub = NULL;
    int rc = hcm_subscriber_open(&sub, topic, a);
    if (rc == HCM_OK) {
        CHECK(sub != NULL);
        hcm_subscriber_close(sub);
    }
    return rc;
}

static void check_nothing_in_shm(void)
{
    char paths[8][512];
    size_t n = harness_shm_entries(paths, 8);
    for (size_t i = 0; i < n; i++)
        harness_log("unexpected /dev/shm entry %s", paths[i]);
    CHECK_EQ(n, 0);
}

/* ---- names --------------------------------------------------------------- */

TEST(null_arguments_are_einval)
{
    hcm_publisher *pub = NULL;
    hcm_subscriber *sub = NULL;
    CHECK_RC(hcm_publisher_open(NULL, "x", NULL), HCM_EINVAL);
    CHECK_RC(hcm_publisher_open(&pub, NULL, NULL), HCM_EINVAL);
    CHECK_RC(hcm_subscriber_open(NULL, "x", NULL), HCM_EINVAL);
    CHECK_RC(hcm_subscriber_open(&sub, NULL, NULL), HCM_EINVAL);
    CHECK_RC(hcm_publish(NULL, "a", 1), HCM_EINVAL);
    CHECK_RC(hcm_subscriber_take(NULL, NULL, 0, NULL), HCM_EINVAL);
    CHECK_RC(hcm_subscriber_latest(NULL, NULL, 0, NULL), HCM_EINVAL);
    CHECK_RC(hcm_subscriber_wait(NULL, 0), HCM_EINVAL);
    CHECK_RC(hcm_topic_stat(NULL, NULL, NULL), HCM_EINVAL);
    CHECK_RC(hcm_topic_unlink(NULL, NULL), HCM_EINVAL);
    hcm_publisher_close(NULL);
    hcm_subscriber_close(NULL);
    hcm_topic_list_free(NULL);
    check_nothing_in_shm();
}

TEST(publish_of_null_data_is_einval)
{
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "x", NULL));
    CHECK_RC(hcm_publish(pub, NULL, 4), HCM_EINVAL);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "x"));
}

TEST(empty_name_is_ename)
{
    CHECK_RC(pub_rc("", NULL), HCM_ENAME);
    CHECK_RC(sub_rc("", NULL), HCM_ENAME);
    CHECK_RC(pub_rc("/", NULL), HCM_ENAME);
    check_nothing_in_shm();
}

TEST(name_of_201_bytes_is_ename_naming_the_limit)
{
    char name[202];
    memset(name, 'n', 201);
    name[201] = '\0';
    CHECK_RC(pub_rc(name, NULL), HCM_ENAME);
    CHECK_CONTAINS(hcm_errmsg(), "200");
    CHECK_RC(sub_rc(name, NULL), HCM_ENAME);
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(NULL, name, &info), HCM_ENAME);
    CHECK_RC(hcm_topic_unlink(NULL, name), HCM_ENAME);
    check_nothing_in_shm();
}

TEST(name_of_200_bytes_works_with_or_without_a_leading_slash)
{
    char name[202];
    name[0] = '/';
    memset(name + 1, 'n', 200);
    name[201] = '\0';
    for (int i = 0; i < 2; i++) {
        hcm_publisher *pub = NULL;
        CHECK_OK(hcm_publisher_open(&pub, name + 1 - i, NULL));
        int64_t v = 1;
        CHECK_OK(hcm_publish(pub, &v, sizeof v));
        hcm_publisher_close(pub);
        hcm_topic_info info;
        CHECK_OK(hcm_topic_stat(NULL, name + 1, &info));
        CHECK_EQ(strlen(info.name), 200);
        CHECK_OK(hcm_topic_unlink(NULL, name + i));
    }
    /* a 200-byte name made of segments */
    for (int k = 0; k < 200; k++)
        name[k] = (k % 4 == 3) ? '/' : 'a';
    name[199] = 'z';
    name[200] = '\0';
    CHECK_RC(pub_rc(name, NULL), HCM_OK);
    check_nothing_in_shm();
}

TEST(names_with_invalid_characters_are_ename)
{
    static const char *const bad[] = {
        "a b", "a//b", "a/", "\x01", "a\x01", "//a", "a:b", "a\\b", "a*", "a\n", "\xc3\xa9",
        "a?b", "a%b", ".", "..", "a/./b", "a/../b", "../x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pub_rc(bad[i], NULL);
        /* "." and ".." are made of allowed characters; a path-like segment is
         * accepted or refused, but never escapes the domain. */
        if (strcmp(bad[i], ".") == 0 || strcmp(bad[i], "..") == 0 ||
            strstr(bad[i], "./") != NULL) {
            if (rc != HCM_OK)
                CHECK_RC(rc, HCM_ENAME);
            continue;
        }
        if (rc != HCM_ENAME)
            harness_log("name #%zu \"%s\"", i, bad[i]);
        CHECK_RC(rc, HCM_ENAME);
        CHECK_RC(sub_rc(bad[i], NULL), HCM_ENAME);
    }
    check_nothing_in_shm();
}

TEST(names_with_all_allowed_characters_work)
{
    CHECK_RC(pub_rc("robot/sensors/lidar", NULL), HCM_OK);
    CHECK_RC(pub_rc("A-Z_a-z.0-9", NULL), HCM_OK);
    CHECK_RC(pub_rc("/imu", NULL), HCM_OK);
    check_nothing_in_shm();
}

TEST(names_differing_in_slash_underscore_dot_or_dash_are_different_topics)
{
    static const char *const names[] = {"a-b", "a.b", "a/b", "a_b"}; /* sorted */
    enum { N = 4 };
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
    hcm_publisher *pubs[N];
    for (int i = 0; i < N; i++) {
        CHECK_OK(hcm_publisher_open(&pubs[i], names[i], &a));
        int64_t v = i + 1;
        CHECK_OK(hcm_publish(pubs[i], &v, sizeof v));
    }
    for (int i = 0; i < N; i++) {
        hcm_subscriber *sub = NULL;
        CHECK_OK(hcm_subscriber_open(&sub, names[i], NULL));
        int64_t v = 0;
        hcm_sample_info info;
        CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, &info));
        CHECK_EQ(v, i + 1);
        CHECK_EQ_U64(info.seq, 0);
        hcm_subscriber_close(sub);
    }
    hcm_topic_info *infos = NULL;
    size_t n = 0;
    CHECK_OK(hcm_topic_list(NULL, &infos, &n));
    CHECK_EQ(n, N);
    for (int i = 0; i < N; i++) {
        if (strcmp(infos[i].name, names[i]) != 0)
            FAIL("list entry %d is \"%s\", want \"%s\"", i, infos[i].name, names[i]);
    }
    hcm_topic_list_free(infos);
    for (int i = 0; i < N; i++) {
        hcm_publisher_close(pubs[i]);
        CHECK_OK(hcm_topic_unlink(NULL, names[i]));
    }
}

TEST(a_leading_slash_names_the_same_topic)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "/x", &a));
    int64_t v = 5;
    CHECK_OK(hcm_publish(pub, &v, sizeof v));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "x", NULL));
    v = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &v, sizeof v, NULL));
    CHECK_EQ(v, 5);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "/x", &info));
    CHECK(strcmp(info.name, "x") == 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "x"));
    CHECK_RC(hcm_topic_unlink(NULL, "/x"), HCM_ENOENT);
}

TEST(invalid_domains_are_ename)
{
    static const char *const bad[] = {
        "", "a b", "a.b", "a/b", "a:b", "\x01", "333333333333333333333333333333333", /* 33 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_publisher_attr pa;
        hcm_publisher_attr_init(&pa);
        pa.domain = bad[i];
        hcm_subscriber_attr sa;
        hcm_subscriber_attr_init(&sa);
        sa.domain = bad[i];
        if (pub_rc("x", &pa) != HCM_ENAME)
            harness_log("domain #%zu \"%s\"", i, bad[i]);
        CHECK_RC(pub_rc("x", &pa), HCM_ENAME);
        CHECK_RC(sub_rc("x", &sa), HCM_ENAME);
        hcm_topic_info info;
        CHECK_RC(hcm_topic_stat(bad[i], "x", &info), HCM_ENAME);
        CHECK_RC(hcm_topic_unlink(bad[i], "x"), HCM_ENAME);
        size_t count;
        CHECK_RC(hcm_topic_reclaim(bad[i], &count), HCM_ENAME);
        hcm_topic_info *infos = NULL;
        size_t n;
        CHECK_RC(hcm_topic_list(bad[i], &infos, &n), HCM_ENAME);
    }
    /* 32 characters is fine */
    hcm_publisher_attr pa;
    hcm_publisher_attr_init(&pa);
    char dom[40];
    snprintf(dom, sizeof dom, "%s-%0*d", harness_domain(), (int)(31 - strlen(harness_domain())), 0);
    CHECK_EQ(strlen(dom), 32);
    pa.domain = dom;
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "x", &pa));
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(dom, "x"));
    check_nothing_in_shm();
}

TEST(invalid_hcm_domain_environment_is_ename)
{
    const char *saved = harness_domain();
    static const char *const bad[] = {"a b", "a.b", "../x", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(setenv("HCM_DOMAIN", bad[i], 1) == 0);
        CHECK_RC(pub_rc("x", NULL), HCM_ENAME);
        CHECK_RC(sub_rc("x", NULL), HCM_ENAME);
    }
    CHECK(setenv("HCM_DOMAIN", saved, 1) == 0);
    check_nothing_in_shm();
}

TEST(default_domain_comes_from_the_environment)
{
    CHECK(strcmp(hcm_default_domain(), harness_domain()) == 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "x", NULL));
    hcm_publisher_close(pub);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(harness_domain(), "x", &info));
    CHECK(strcmp(info.domain, harness_domain()) == 0);
    CHECK_OK(hcm_topic_unlink(harness_domain(), "x"));
}

/* ---- sizes --------------------------------------------------------------- */

TEST(buffer_num_out_of_range_is_einval)
{
    const uint32_t bad[] = {0, (uint32_t)-1, HCM_MAX_SLOTS + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, bad[i], 0);
        CHECK_RC(pub_rc("x", &a), HCM_EINVAL);
    }
    check_nothing_in_shm();
}

TEST(buffer_num_at_the_limits_works)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 1, 0);
    CHECK_RC(pub_rc("x", &a), HCM_OK);
    a = harness_pub_attr(HCM_TYPE_INT64, HCM_MAX_SLOTS, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "x", &a));
    CHECK_EQ(hcm_publisher_slots(pub), HCM_MAX_SLOTS);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "x"));
}

TEST(max_payload_over_the_limit_is_einval)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 1, HCM_MAX_PAYLOAD + 1);
    CHECK_RC(pub_rc("x", &a), HCM_EINVAL);
    a = harness_pub_attr(HCM_TYPE_BYTES, 1, UINT64_MAX);
    CHECK_RC(pub_rc("x", &a), HCM_EINVAL);
    check_nothing_in_shm();
}

TEST(segment_too_large_for_memory_is_refused_without_leftovers)
{
    /* 65536 slots x 1 GiB = 64 TiB */
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, HCM_MAX_SLOTS, 1ull << 30);
    CHECK_RC2(pub_rc("huge", &a), HCM_ENOMEM, HCM_EINVAL);
    a = harness_pub_attr(HCM_TYPE_BYTES, HCM_MAX_SLOTS, HCM_MAX_PAYLOAD);
    CHECK_RC2(pub_rc("huge", &a), HCM_ENOMEM, HCM_EINVAL);
    hcm_topic_info info;
    CHECK_RC(hcm_topic_stat(NULL, "huge", &info), HCM_ENOENT);
    check_nothing_in_shm();
}

TEST(bytes_topic_with_max_payload_zero_uses_the_default)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 3, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "b", &a));
    CHECK_EQ_U64(hcm_publisher_max_payload(pub), HCM_DEFAULT_BYTES_MAX);
    static uint8_t buf[HCM_DEFAULT_BYTES_MAX + 1];
    CHECK_OK(hcm_publish(pub, buf, HCM_DEFAULT_BYTES_MAX));
    CHECK_RC(hcm_publish(pub, buf, HCM_DEFAULT_BYTES_MAX + 1), HCM_EMSGSIZE);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "b"));
}

TEST(default_attributes_give_a_bytes_topic_of_three_slots)
{
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "d", NULL));
    CHECK_EQ(hcm_publisher_slots(pub), HCM_DEFAULT_SLOTS);
    CHECK_EQ_U64(hcm_publisher_max_payload(pub), HCM_DEFAULT_BYTES_MAX);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "d", &info));
    hcm_type bytes = hcm_type_scalar(HCM_TYPE_BYTES);
    CHECK(hcm_type_equal(&info.type, &bytes));
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "d"));
}

TEST(publish_over_max_payload_is_emsgsize)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 3, 100);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "b", &a));
    uint8_t buf[200] = {0};
    CHECK_OK(hcm_publish(pub, buf, 100));
    CHECK_OK(hcm_publish(pub, buf, 0));
    CHECK_RC(hcm_publish(pub, buf, 101), HCM_EMSGSIZE);
    CHECK_RC(hcm_publish(pub, buf, SIZE_MAX), HCM_EMSGSIZE);
    void *loan = NULL;
    CHECK_RC(hcm_publisher_loan(pub, 101, &loan), HCM_EMSGSIZE);
    hcm_topic_info info;
    CHECK_OK(hcm_topic_stat(NULL, "b", &info));
    CHECK_EQ_U64(info.publish_count, 2);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "b"));
}

TEST(publish_of_the_wrong_size_for_a_fixed_type_is_emsgsize)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_INT64, 3, 0);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "i", &a));
    CHECK_EQ_U64(hcm_publisher_max_payload(pub), 8);
    uint8_t buf[16] = {0};
    CHECK_RC(hcm_publish(pub, buf, 4), HCM_EMSGSIZE);
    CHECK_RC(hcm_publish(pub, buf, 16), HCM_EMSGSIZE);
    CHECK_RC(hcm_publish(pub, buf, 0), HCM_EMSGSIZE);
    CHECK_OK(hcm_publish(pub, buf, 8));
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "i"));
}

TEST(take_into_a_too_small_buffer_is_emsgsize_and_keeps_the_sample)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 3, 100);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "b", &a));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "b", NULL));
    uint8_t data[64];
    harness_payload_fill(data, sizeof data, 1, 1);
    CHECK_OK(hcm_publish(pub, data, sizeof data));
    uint8_t small[32], big[100];
    memset(small, 0xee, sizeof small);
    hcm_sample_info info;
    CHECK_RC(hcm_subscriber_take(sub, small, sizeof small, &info), HCM_EMSGSIZE);
    CHECK_EQ_U64(info.len, 64);
    CHECK_RC2(hcm_subscriber_take(sub, NULL, 0, &info), HCM_EMSGSIZE, HCM_EINVAL);
    CHECK_OK(hcm_subscriber_take(sub, big, sizeof big, &info));
    CHECK_EQ_U64(info.len, 64);
    CHECK_EQ_U64(info.seq, 0);
    CHECK(harness_payload_check(big, 64, NULL, NULL));
    CHECK_RC(hcm_subscriber_take(sub, big, sizeof big, &info), HCM_EAGAIN);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "b"));
}

TEST(latest_into_a_too_small_buffer_is_emsgsize_and_tells_the_size)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 3, 100);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "b", &a));
    uint8_t data[64];
    harness_payload_fill(data, sizeof data, 1, 1);
    CHECK_OK(hcm_publish(pub, data, sizeof data));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "b", NULL));
    uint8_t small[32], big[100];
    hcm_sample_info info;
    CHECK_RC(hcm_subscriber_latest(sub, small, sizeof small, &info), HCM_EMSGSIZE);
    CHECK_EQ_U64(info.len, 64);
    CHECK_OK(hcm_subscriber_latest(sub, big, sizeof big, &info));
    CHECK(harness_payload_check(big, 64, NULL, NULL));
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "b"));
}

TEST(zero_length_samples_are_delivered)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 3, 16);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, "z", &a));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, "z", NULL));
    CHECK_OK(hcm_publish(pub, "", 0));
    hcm_sample_info info;
    uint8_t buf[16];
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.len, 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "z"));
}

TEST(error_strings_exist_for_every_code)
{
    for (int c = 0; c < HCM_ERR_COUNT_; c++) {
        const char *s = hcm_strerror(c);
        CHECK(s != NULL && s[0] != '\0');
    }
    CHECK(strcmp(hcm_strerror(-1), "unknown error") == 0);
    CHECK(strcmp(hcm_strerror(HCM_ERR_COUNT_), "unknown error") == 0);
    CHECK(hcm_errmsg() != NULL);
}
