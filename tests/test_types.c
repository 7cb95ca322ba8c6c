/* test_types.c - type descriptors and type/size mismatches between peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int open_pub_rc(hcm_publisher **pubp, const char *topic, hcm_type type, uint64_t max_payload)
{
    hcm_publisher_attr a;
    hcm_publisher_attr_init(&a);
    a.type = type;
    a.max_payload = max_payload;
    return hcm_publisher_open(pubp, topic, &a);
}

static int open_sub_rc(hcm_subscriber **subp, const char *topic, hcm_type type)
{
    hcm_subscriber_attr a;
    hcm_subscriber_attr_init(&a);
    a.type = type;
    return hcm_subscriber_open(subp, topic, &a);
}

TEST(subscriber_of_another_type_gets_etype_naming_both_types)
{
    hcm_publisher *pub = NULL;
    CHECK_OK(open_pub_rc(&pub, "num", hcm_type_scalar(HCM_TYPE_INT64), 0));
    hcm_subscriber *sub = NULL;
    CHECK_RC(open_sub_rc(&sub, "num", hcm_type_scalar(HCM_TYPE_FLOAT64)), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "num"));
}

TEST(subscriber_of_another_type_opened_first_gets_etype_when_the_topic_appears)
{
    hcm_subscriber *sub = NULL;
    CHECK_OK(open_sub_rc(&sub, "num", hcm_type_scalar(HCM_TYPE_FLOAT64)));
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = NULL;
        CHECK_OK(open_pub_rc(&pub, "num", hcm_type_scalar(HCM_TYPE_INT64), 0));
        int64_t v = 1;
        CHECK_OK(hcm_publish(pub, &v, sizeof v));
        hcm_publisher_close(pub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    double d = 0;
    CHECK_RC(hcm_subscriber_latest(sub, &d, sizeof d, NULL), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    CHECK_RC(hcm_subscriber_take(sub, &d, sizeof d, NULL), HCM_ETYPE);
    hcm_subscriber_close(sub);
    CHECK_OK(hcm_topic_unlink(NULL, "num"));
}

TEST(subscriber_of_type_none_accepts_any_type_and_learns_it)
{
    hcm_type arr;
    CHECK_OK(hcm_type_array(&arr, HCM_TYPE_UINT16, 2, (const uint32_t[]){3, 4}));
    hcm_publisher *pub = NULL;
    CHECK_OK(open_pub_rc(&pub, "img", arr, 0));
    hcm_subscriber *sub = NULL;
    CHECK_OK(open_sub_rc(&sub, "img", hcm_type_scalar(HCM_TYPE_NONE)));
    hcm_type t;
    CHECK_OK(hcm_subscriber_type(sub, &t));
    CHECK(hcm_type_equal(&t, &arr));
    CHECK_EQ_U64(hcm_subscriber_max_payload(sub), 24);
    uint16_t data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (uint16_t)(i * 7);
    CHECK_OK(hcm_publish(pub, data, sizeof data));
    uint16_t got[12] = {0};
    CHECK_OK(hcm_subscriber_latest(sub, got, sizeof got, NULL));
    CHECK(memcmp(got, data, sizeof data) == 0);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "img"));
}

TEST(second_publisher_of_another_type_gets_etype_naming_both_types)
{
    hcm_publisher *first = NULL, *second = NULL;
    CHECK_OK(open_pub_rc(&first, "num", hcm_type_scalar(HCM_TYPE_INT64), 0));
    CHECK_RC(open_pub_rc(&second, "num", hcm_type_scalar(HCM_TYPE_FLOAT64), 0), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "int64");
    CHECK_CONTAINS(hcm_errmsg(), "float64");
    hcm_publisher_close(second);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "num"));
}

TEST(second_publisher_of_another_type_in_another_process_gets_etype)
{
    hcm_publisher *first = NULL;
    CHECK_OK(open_pub_rc(&first, "num", hcm_type_scalar(HCM_TYPE_INT64), 0));
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *second = NULL;
        CHECK_RC(open_pub_rc(&second, "num", hcm_type_scalar(HCM_TYPE_FLOAT32), 0), HCM_ETYPE);
        CHECK_CONTAINS(hcm_errmsg(), "int64");
        CHECK_CONTAINS(hcm_errmsg(), "float32");
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "num"));
}

TEST(second_publisher_with_a_larger_max_payload_gets_emsgsize)
{
    hcm_publisher *first = NULL, *second = NULL;
    CHECK_OK(open_pub_rc(&first, "blob", hcm_type_scalar(HCM_TYPE_BYTES), 100));
    CHECK_RC(open_pub_rc(&second, "blob", hcm_type_scalar(HCM_TYPE_BYTES), 200), HCM_EMSGSIZE);
    CHECK_CONTAINS(hcm_errmsg(), "100");
    CHECK_CONTAINS(hcm_errmsg(), "200");
    hcm_publisher_close(second);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "blob"));
}

TEST(second_publisher_with_a_smaller_max_payload_joins)
{
    hcm_publisher *first = NULL, *second = NULL;
    CHECK_OK(open_pub_rc(&first, "blob", hcm_type_scalar(HCM_TYPE_BYTES), 100));
    CHECK_OK(open_pub_rc(&second, "blob", hcm_type_scalar(HCM_TYPE_BYTES), 50));
    CHECK_EQ_U64(hcm_publisher_max_payload(second), 100);
    hcm_publisher_close(second);
    hcm_publisher_close(first);
    CHECK_OK(hcm_topic_unlink(NULL, "blob"));
}

TEST(publisher_of_another_type_replaces_a_segment_whose_publishers_are_all_dead)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher *pub = NULL;
        CHECK_OK(open_pub_rc(&pub, "num", hcm_type_scalar(HCM_TYPE_INT64), 0));
        int64_t v = 1;
        CHECK_OK(hcm_publish(pub, &v, sizeof v));
        _exit(0); /* dies without closing */
    }
    CHECK_CHILD_OK(pid);
    hcm_publisher *pub = NULL;
    CHECK_OK(open_pub_rc(&pub, "num", hcm_type_scalar(HCM_TYPE_FLOAT64), 0));
    hcm_subscriber *sub = NULL;
    CHECK_OK(open_sub_rc(&sub, "num", hcm_type_scalar(HCM_TYPE_FLOAT64)));
    double d = 0;
    CHECK_RC(hcm_subscriber_latest(sub, &d, sizeof d, NULL), HCM_EAGAIN); /* old sample gone */
    d = 2.5;
    CHECK_OK(hcm_publish(pub, &d, sizeof d));
    d = 0;
    CHECK_OK(hcm_subscriber_latest(sub, &d, sizeof d, NULL));
    CHECK(d == 2.5);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "num"));
}

TEST(struct_types_match_by_name_format_and_size)
{
    hcm_type pose, pose2, other;
    CHECK_OK(hcm_type_struct(&pose, "Pose", "<3d4d", 56));
    CHECK_OK(hcm_type_struct(&pose2, "Pose", "<3d4d", 56));
    CHECK_OK(hcm_type_struct(&other, "Pose", "<3f4f", 28));
    CHECK(hcm_type_equal(&pose, &pose2));
    CHECK(!hcm_type_equal(&pose, &other));
    hcm_publisher *pub = NULL;
    CHECK_OK(open_pub_rc(&pub, "pose", pose, 0));
    hcm_subscriber *sub = NULL;
    CHECK_OK(open_sub_rc(&sub, "pose", pose2));
    hcm_subscriber_close(sub);
    sub = NULL;
    CHECK_RC(open_sub_rc(&sub, "pose", other), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "Pose");
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "pose"));
}

TEST(type_format_names_the_types)
{
    char buf[128];
    hcm_type t = hcm_type_scalar(HCM_TYPE_FLOAT64);
    CHECK(strcmp(hcm_type_format(&t, buf, sizeof buf), "float64") == 0);
    t = hcm_type_scalar(HCM_TYPE_INT64);
    CHECK(strcmp(hcm_type_format(&t, buf, sizeof buf), "int64") == 0);
    CHECK_OK(hcm_type_array(&t, HCM_TYPE_UINT8, 2, (const uint32_t[]){480, 640}));
    CHECK(strcmp(hcm_type_format(&t, buf, sizeof buf), "uint8[480,640]") == 0);
    t = hcm_type_scalar(HCM_TYPE_BYTES);
    CHECK(strcmp(hcm_type_format(&t, buf, sizeof buf), "bytes") == 0);
    /* truncation stays terminated */
    char small[4];
    hcm_type_format(&t, small, sizeof small);
    CHECK(memchr(small, '\0', sizeof small) != NULL);
}

TEST(invalid_type_descriptors_are_rejected)
{
    hcm_type t;
    CHECK_RC(hcm_type_array(&t, HCM_TYPE_BYTES, 1, (const uint32_t[]){4}), HCM_EINVAL);
    CHECK_RC(hcm_type_array(&t, HCM_TYPE_UINT8, 0, (const uint32_t[]){4}), HCM_EINVAL);
    CHECK_RC(hcm_type_array(&t, HCM_TYPE_UINT8, 5, (const uint32_t[]){1, 1, 1, 1, 1}), HCM_EINVAL);
    CHECK_RC(hcm_type_array(&t, HCM_TYPE_UINT8, 1, (const uint32_t[]){0}), HCM_EINVAL);
    CHECK_RC(hcm_type_array(&t, HCM_TYPE_UINT64, 2, (const uint32_t[]){1u << 20, 1u << 20}),
             HCM_EINVAL); /* 8 TiB > 2^40 */
    CHECK_RC(hcm_type_struct(&t, "", "<d", 8), HCM_EINVAL);
    CHECK_RC(hcm_type_struct(&t, "P", "<d", 0), HCM_EINVAL);
    CHECK_RC(hcm_type_struct(&t, "P", "{}", 8), HCM_EINVAL);
    hcm_type bad = hcm_type_scalar(HCM_TYPE_INT64);
    bad.kind = 99;
    CHECK_RC(hcm_type_validate(&bad), HCM_EINVAL);
    hcm_publisher *pub = NULL;
    CHECK_RC(open_pub_rc(&pub, "bad", bad, 0), HCM_EINVAL);
    hcm_type none = hcm_type_scalar(HCM_TYPE_NONE);
    CHECK_RC(open_pub_rc(&pub, "bad", none, 0), HCM_EINVAL); /* NONE is for subscribers */
    hcm_type unterminated = hcm_type_scalar(HCM_TYPE_INT64);
    memset(unterminated.name, 'A', sizeof unterminated.name);
    CHECK_RC(hcm_type_validate(&unterminated), HCM_EINVAL);
    CHECK_RC(open_pub_rc(&pub, "bad", unterminated, 0), HCM_EINVAL);
    char paths[4][512];
    CHECK_EQ(harness_shm_entries(paths, 4), 0);
}

TEST(string_topic_carries_text_without_a_terminator)
{
    hcm_publisher *pub = NULL;
    CHECK_OK(open_pub_rc(&pub, "text", hcm_type_scalar(HCM_TYPE_STRING), 0));
    CHECK_EQ_U64(hcm_publisher_max_payload(pub), HCM_DEFAULT_BYTES_MAX);
    hcm_subscriber *sub = NULL;
    CHECK_OK(open_sub_rc(&sub, "text", hcm_type_scalar(HCM_TYPE_STRING)));
    CHECK_OK(hcm_publish(pub, "hello", 5));
    char buf[16];
    memset(buf, 'x', sizeof buf);
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.len, 5);
    CHECK(memcmp(buf, "hellox", 6) == 0);
    hcm_subscriber_close(sub);
    sub = NULL;
    CHECK_RC(open_sub_rc(&sub, "text", hcm_type_scalar(HCM_TYPE_BYTES)), HCM_ETYPE);
    CHECK_CONTAINS(hcm_errmsg(), "string");
    CHECK_CONTAINS(hcm_errmsg(), "bytes");
    hcm_publisher_close(pub);
    CHECK_OK(hcm_topic_unlink(NULL, "text"));
}
