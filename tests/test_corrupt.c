/* test_corrupt.c - white-box: segments modified behind the library's back
 * (offsets from segment/layout.h). Every open and read must fail with
 * HCM_ECORRUPT (per-read fields: HCM_ECORRUPT or HCM_EAGAIN), never crash,
 * never hang, never copy out of bounds. The library calls run in a forked
 * child so a crash shows up as a signal, not as a dead test runner.
 *
 * The victim: a BYTES topic, 4 slots, max_payload 100 (stride 192, file
 * 1792 + 4 * 192 = 2560 bytes), one 64-byte sample published, publisher closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "segment/layout.h"

#define TOPIC "victim"
#define SLOTS 4u
#define MAXP 100u

static char seg_path[512];

static void make_victim(void)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    uint8_t buf[64];
    harness_payload_fill(buf, sizeof buf, 1, 0);
    CHECK_OK(hcm_publish(pub, buf, sizeof buf));
    hcm_publisher_close(pub);
    harness_segment_path(TOPIC, seg_path, sizeof seg_path);
}

static uint64_t file_size(void)
{
    struct stat st;
    if (stat(seg_path, &st) != 0)
        FAIL("stat %s: %s", seg_path, strerror(errno));
    return (uint64_t)st.st_size;
}

static void poke(uint64_t off, const void *data, size_t len)
{
    int fd = open(seg_path, O_RDWR);
    if (fd < 0)
        FAIL("open %s: %s", seg_path, strerror(errno));
    if (pwrite(fd, data, len, (off_t)off) != (ssize_t)len)
        FAIL("pwrite %s: %s", seg_path, strerror(errno));
    close(fd);
}

static void peek(uint64_t off, void *data, size_t len)
{
    int fd = open(seg_path, O_RDONLY);
    if (fd < 0)
        FAIL("open %s: %s", seg_path, strerror(errno));
    if (pread(fd, data, len, (off_t)off) != (ssize_t)len)
        FAIL("pread %s: %s", seg_path, strerror(errno));
    close(fd);
}

static void poke_u32(uint64_t off, uint32_t v) { poke(off, &v, sizeof v); }
static void poke_u64(uint64_t off, uint64_t v) { poke(off, &v, sizeof v); }

static uint64_t peek_u64(uint64_t off)
{
    uint64_t v;
    peek(off, &v, sizeof v);
    return v;
}

static void resize(uint64_t size)
{
    if (truncate(seg_path, (off_t)size) != 0)
        FAIL("truncate %s: %s", seg_path, strerror(errno));
}

#define H(field) ((uint64_t)offsetof(hcm_seg_header, field))
#define SLOT(i) ((uint64_t)HCM_SEG_HEADER_SIZE + (uint64_t)(i) * stride)

/* In a child: every way of opening the topic says HCM_ECORRUPT. */
static void expect_corrupt_everywhere(void)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_subscriber *sub = NULL;
        CHECK_RC(hcm_subscriber_open(&sub, TOPIC, NULL), HCM_ECORRUPT);
        CHECK(hcm_errmsg()[0] != '\0');
        hcm_subscriber_attr sa = harness_sub_attr(HCM_TYPE_BYTES);
        sub = NULL;
        CHECK_RC(hcm_subscriber_open(&sub, TOPIC, &sa), HCM_ECORRUPT);

        hcm_publisher_attr pa = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
        hcm_publisher *pub = NULL;
        CHECK_RC(hcm_publisher_open(&pub, TOPIC, &pa), HCM_ECORRUPT);

        hcm_topic_info info;
        memset(&info, 0, sizeof info);
        int rc = hcm_topic_stat(NULL, TOPIC, &info);
        if (rc == HCM_OK)
            CHECK_RC(info.error, HCM_ECORRUPT);
        else
            CHECK_RC(rc, HCM_ECORRUPT);

        hcm_topic_info *infos = NULL;
        size_t n = 0;
        CHECK_OK(hcm_topic_list(NULL, &infos, &n));
        CHECK_EQ(n, 1);
        CHECK(strcmp(infos[0].name, TOPIC) == 0);
        CHECK_RC(infos[0].error, HCM_ECORRUPT);
        hcm_topic_list_free(infos);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

/* A subscriber opened before the damage keeps failing its reads cleanly. */
static void expect_reads_fail_cleanly(hcm_subscriber *sub)
{
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t buf[4096];
        memset(buf, 0x5a, sizeof buf);
        hcm_sample_info info;
        CHECK_RC(hcm_subscriber_latest(sub, buf, sizeof buf, &info), HCM_ECORRUPT);
        CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, &info), HCM_ECORRUPT);
        const void *view = NULL;
        CHECK_RC(hcm_subscriber_view(sub, &view, &info), HCM_ECORRUPT);
        /* nothing past max_payload was copied */
        for (size_t i = MAXP; i < sizeof buf; i++)
            CHECK_EQ(buf[i], 0x5a);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
}

static void finish(void)
{
    CHECK_OK(hcm_topic_unlink(NULL, TOPIC));
}

/* ---- the header ---------------------------------------------------------- */

TEST(victim_segment_has_the_documented_layout)
{
    make_victim();
    CHECK_EQ_U64(file_size(), HCM_SEG_HEADER_SIZE + SLOTS * 192);
    CHECK_EQ_U64(peek_u64(H(magic)), HCM_SEG_MAGIC);
    hcm_seg_header h;
    peek(0, &h, sizeof h);
    CHECK_EQ(h.version, HCM_SEG_VERSION);
    CHECK_EQ(h.header_size, HCM_SEG_HEADER_SIZE);
    CHECK_EQ_U64(h.total_size, file_size());
    CHECK_EQ(h.slot_count, SLOTS);
    CHECK_EQ(h.slot_stride % 64, 0);
    CHECK(h.slot_stride >= HCM_SEG_SLOT_HEADER + MAXP);
    CHECK_EQ_U64(h.max_payload, MAXP);
    CHECK_EQ(h.seg_kind, HCM_SEG_KIND_TOPIC);
    CHECK_EQ(atomic_load(&h.state), HCM_SEG_STATE_LIVE);
    CHECK_EQ_U64(atomic_load(&h.write_seq), 1);
    CHECK_EQ(h.type.kind, HCM_TYPE_BYTES);
    uint64_t stride = h.slot_stride;
    CHECK_EQ_U64(peek_u64(SLOT(0)), 2); /* holds sample 0 */
    CHECK_EQ_U64(peek_u64(SLOT(0) + 16), 64);
    uint8_t payload[64];
    peek(SLOT(0) + HCM_SEG_SLOT_HEADER, payload, sizeof payload);
    CHECK(harness_payload_check(payload, sizeof payload, NULL, NULL));
    CHECK_EQ_U64(peek_u64(SLOT(1)), 0); /* never written */
    finish();
}

TEST(segment_truncated_inside_the_header_is_corrupt)
{
    make_victim();
    resize(100);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_truncated_inside_the_slots_is_corrupt)
{
    make_victim();
    resize(file_size() - 64);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_a_wrong_magic_is_corrupt)
{
    make_victim();
    poke_u64(H(magic), HCM_SEG_MAGIC ^ 1);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_a_wrong_version_is_corrupt)
{
    make_victim();
    poke_u32(H(version), HCM_SEG_VERSION + 1);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_a_wrong_header_size_is_corrupt)
{
    make_victim();
    poke_u32(H(header_size), 64);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_a_wrong_kind_is_corrupt)
{
    make_victim();
    poke_u32(H(seg_kind), 77);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_total_size_exceeds_the_file_is_corrupt)
{
    make_victim();
    poke_u64(H(total_size), file_size() + 4096);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_file_exceeds_its_total_size_is_corrupt)
{
    make_victim();
    resize(file_size() + 4096);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_zero_slots_is_corrupt)
{
    make_victim();
    poke_u32(H(slot_count), 0);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_a_huge_slot_count_is_corrupt)
{
    make_victim();
    poke_u32(H(slot_count), UINT32_MAX);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_more_slots_than_the_limit_is_corrupt)
{
    /* consistent sizes, but slot_count = HCM_MAX_SLOTS + 1 */
    make_victim();
    uint64_t stride = 192;
    uint64_t total = HCM_SEG_HEADER_SIZE + (uint64_t)(HCM_MAX_SLOTS + 1) * stride;
    resize(total);
    poke_u32(H(slot_count), HCM_MAX_SLOTS + 1);
    poke_u64(H(total_size), total);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_slot_stride_is_too_small_for_max_payload_is_corrupt)
{
    /* stride 64 < 32 + 100, with total_size and the file consistent */
    make_victim();
    uint64_t total = HCM_SEG_HEADER_SIZE + SLOTS * 64;
    poke_u32(H(slot_stride), 64);
    poke_u64(H(total_size), total);
    resize(total);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_slot_stride_is_not_a_multiple_of_64_is_corrupt)
{
    make_victim();
    uint64_t stride = 136; /* >= 32 + 100, multiple of 8 */
    uint64_t total = HCM_SEG_HEADER_SIZE + SLOTS * stride;
    poke_u32(H(slot_stride), (uint32_t)stride);
    poke_u64(H(total_size), total);
    resize(total);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_slot_count_times_stride_overflows_32_bits_is_corrupt)
{
    /* 4 * (2^30 + 192) = 2^32 + 768: in 32-bit arithmetic it wraps to 768,
     * which matches total_size (768 + 768) and the file. */
    make_victim();
    poke_u32(H(slot_stride), (1u << 30) + 192u);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_max_payload_overflows_the_slot_size_is_corrupt)
{
    /* 32 + (2^64 - 16) wraps to 16 <= stride */
    make_victim();
    poke_u64(H(max_payload), UINT64_MAX - 15);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_whose_max_payload_exceeds_the_limit_is_corrupt)
{
    make_victim();
    poke_u64(H(max_payload), HCM_MAX_PAYLOAD + 1);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_an_unterminated_type_name_is_corrupt)
{
    make_victim();
    char name[HCM_TYPE_NAME_MAX];
    memset(name, 'A', sizeof name);
    poke(H(type) + offsetof(hcm_type, name), name, sizeof name);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_an_unterminated_type_format_is_corrupt)
{
    make_victim();
    char fmt[HCM_TYPE_FORMAT_MAX];
    memset(fmt, 'd', sizeof fmt);
    poke(H(type) + offsetof(hcm_type, format), fmt, sizeof fmt);
    expect_corrupt_everywhere();
    finish();
}

TEST(segment_with_an_unknown_type_kind_is_corrupt)
{
    make_victim();
    poke_u32(H(type) + offsetof(hcm_type, kind), 99);
    expect_corrupt_everywhere();
    finish();
}

TEST(empty_file_with_the_topic_name_is_corrupt)
{
    make_victim();
    CHECK_OK(hcm_topic_unlink(NULL, TOPIC));
    int fd = open(seg_path, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    close(fd);
    expect_corrupt_everywhere();
    finish();
}

static void random_file(uint64_t size)
{
    make_victim();
    CHECK_OK(hcm_topic_unlink(NULL, TOPIC));
    int fd = open(seg_path, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    uint64_t x = 12345;
    uint8_t block[4096];
    for (uint64_t off = 0; off < size; off += sizeof block) {
        for (size_t i = 0; i < sizeof block; i += 8) {
            x = harness_mix64(x);
            memcpy(block + i, &x, 8);
        }
        size_t n = size - off < sizeof block ? (size_t)(size - off) : sizeof block;
        CHECK(write(fd, block, n) == (ssize_t)n);
    }
    close(fd);
}

TEST(file_of_random_bytes_with_the_topic_name_is_corrupt)
{
    random_file(1536);
    expect_corrupt_everywhere();
    finish();
}

TEST(large_file_of_random_bytes_with_the_topic_name_is_corrupt)
{
    random_file(1u << 20);
    expect_corrupt_everywhere();
    finish();
}

TEST(file_of_random_bytes_with_a_valid_magic_is_corrupt)
{
    random_file(1536);
    poke_u64(H(magic), HCM_SEG_MAGIC);
    poke_u32(H(version), HCM_SEG_VERSION);
    expect_corrupt_everywhere();
    finish();
}

/* ---- per-read fields ----------------------------------------------------- */

static hcm_subscriber *victim_with_subscriber(void)
{
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, TOPIC, NULL));
    uint8_t buf[64];
    harness_payload_fill(buf, sizeof buf, 1, 0);
    CHECK_OK(hcm_publish(pub, buf, sizeof buf));
    hcm_publisher_close(pub);
    harness_segment_path(TOPIC, seg_path, sizeof seg_path);
    return sub;
}

TEST(slot_len_larger_than_max_payload_fails_the_read_without_copying)
{
    hcm_subscriber *sub = victim_with_subscriber();
    uint64_t stride = 192;
    poke_u64(SLOT(0) + 16, MAXP + 1);
    expect_reads_fail_cleanly(sub);
    hcm_subscriber_close(sub);
    finish();
}

TEST(slot_len_of_uint64_max_fails_the_read_without_copying)
{
    hcm_subscriber *sub = victim_with_subscriber();
    uint64_t stride = 192;
    poke_u64(SLOT(0) + 16, UINT64_MAX);
    expect_reads_fail_cleanly(sub);
    hcm_subscriber_close(sub);
    finish();
}

/* One call; any of the listed codes. */
static void check_one_of(const char *what, int rc, int a, int b)
{
    if (rc != a && rc != b)
        FAIL("%s returned %s (%s), want %s or %s; errmsg \"%s\"", what, harness_errname(rc),
             hcm_strerror(rc), harness_errname(a), harness_errname(b), hcm_errmsg());
}

TEST(write_seq_of_uint64_max_fails_the_reads_of_an_attached_subscriber)
{
    hcm_subscriber *sub = victim_with_subscriber();
    uint8_t buf[4096];
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, NULL)); /* consume sample 0 */
    poke_u64(H(write_seq), UINT64_MAX);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_sample_info info;
        check_one_of("latest", hcm_subscriber_latest(sub, buf, sizeof buf, &info), HCM_ECORRUPT,
                     HCM_EAGAIN);
        for (int i = 0; i < 5; i++)
            check_one_of("take", hcm_subscriber_take(sub, buf, sizeof buf, &info), HCM_ECORRUPT,
                         HCM_EAGAIN);
        int rc = hcm_subscriber_wait(sub, 20000000ll);
        (void)rc; /* any code, but it returns */
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    finish();
}

TEST(subscriber_opened_after_write_seq_became_uint64_max_gets_no_old_sample)
{
    /* take() delivers only samples published after open; with the counter
     * damaged the open or the reads must fail, not restart at sample 0 */
    make_victim();
    poke_u64(H(write_seq), UINT64_MAX);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t buf[4096];
        hcm_sample_info info;
        hcm_subscriber *sub = NULL;
        int rc = hcm_subscriber_open(&sub, TOPIC, NULL);
        if (rc != HCM_OK) {
            CHECK_RC(rc, HCM_ECORRUPT);
            _exit(0);
        }
        check_one_of("latest", hcm_subscriber_latest(sub, buf, sizeof buf, &info), HCM_ECORRUPT,
                     HCM_EAGAIN);
        rc = hcm_subscriber_take(sub, buf, sizeof buf, &info);
        if (rc == HCM_OK)
            FAIL("take returned HCM_OK: seq %llu, len %llu, lost %llu, payload %s; that sample "
                 "was published before this subscriber opened",
                 (unsigned long long)info.seq, (unsigned long long)info.len,
                 (unsigned long long)info.lost,
                 harness_payload_check(buf, (size_t)info.len, NULL, NULL) ? "intact" : "garbage");
        check_one_of("take", rc, HCM_ECORRUPT, HCM_EAGAIN);
        hcm_subscriber_close(sub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    finish();
}

TEST(publisher_joining_after_write_seq_became_uint64_max_neither_crashes_nor_serves_garbage)
{
    make_victim();
    poke_u64(H(write_seq), UINT64_MAX);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t buf[4096];
        hcm_publisher_attr pa = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
        hcm_publisher *pub = NULL;
        int rc = hcm_publisher_open(&pub, TOPIC, &pa);
        if (rc != HCM_OK) {
            CHECK_RC(rc, HCM_ECORRUPT);
            _exit(0);
        }
        harness_payload_fill(buf, 80, 2, 0);
        rc = hcm_publish(pub, buf, 80);
        harness_log("publish after write_seq = UINT64_MAX: %s", harness_errname(rc));
        hcm_publisher_close(pub);
        /* whatever happened, a reader gets an intact sample or an error */
        hcm_subscriber *sub = NULL;
        CHECK_OK(hcm_subscriber_open(&sub, TOPIC, NULL));
        hcm_sample_info info;
        rc = hcm_subscriber_latest(sub, buf, sizeof buf, &info);
        if (rc == HCM_OK)
            CHECK(harness_payload_check(buf, (size_t)info.len, NULL, NULL));
        else
            check_one_of("latest", rc, HCM_ECORRUPT, HCM_EAGAIN);
        hcm_subscriber_close(sub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    finish();
}

TEST(slot_seq_from_the_future_neither_crashes_nor_hangs)
{
    /* slot 0 claims to hold sample 1000 while write_seq says 1 */
    hcm_subscriber *sub = victim_with_subscriber();
    uint64_t stride = 192;
    poke_u64(SLOT(0), 2 * 1000 + 2);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t buf[4096];
        hcm_sample_info info;
        check_one_of("latest", hcm_subscriber_latest(sub, buf, sizeof buf, &info), HCM_ECORRUPT,
                     HCM_EAGAIN);
        int rc = hcm_subscriber_take(sub, buf, sizeof buf, &info);
        if (rc == HCM_OK) {
            /* if delivered at all, only as sample 0, intact */
            CHECK_EQ_U64(info.seq, 0);
            CHECK(harness_payload_check(buf, (size_t)info.len, NULL, NULL));
        } else {
            check_one_of("take", rc, HCM_ECORRUPT, HCM_EAGAIN);
        }
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    finish();
}

/* ---- what a dead publisher leaves behind --------------------------------- */

/* The identity layout.h defines for a process: pid << 32 | start time (low
 * 32 bits of /proc/<pid>/stat field 22). */
static uint64_t process_identity(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        FAIL("open %s: %s", path, strerror(errno));
    if (fgets(line, sizeof line, f) == NULL)
        FAIL("read %s", path);
    fclose(f);
    char *p = strrchr(line, ')');
    CHECK(p != NULL);
    p += 2; /* field 3 */
    unsigned long long start = 0;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        CHECK(p != NULL);
        p++;
    }
    start = strtoull(p, NULL, 10);
    CHECK(start != 0);
    return ((uint64_t)(uint32_t)pid << 32) | (uint32_t)start;
}

/* A child that blocks until `go`, then exits; returns its identity. */
static pid_t sleeper(harness_gate *go, uint64_t *idp)
{
    harness_gate_init(go);
    pid_t pid = harness_fork();
    if (pid == 0) {
        harness_gate_wait(go, 40000);
        _exit(0);
    }
    *idp = process_identity(pid);
    return pid;
}

TEST(publisher_takes_over_the_write_lock_of_a_dead_holder_mid_write)
{
    hcm_subscriber *sub = victim_with_subscriber();
    uint8_t buf[4096];
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.seq, 0);

    /* a process that will be dead: it "held the lock while writing sample 1" */
    harness_gate go;
    uint64_t id = 0;
    pid_t pid = sleeper(&go, &id);
    harness_gate_pass(&go, 1);
    CHECK_CHILD_OK(pid);
    harness_gate_close(&go);
    uint64_t stride = 192;
    poke_u64(H(wlock), id);
    poke_u64(SLOT(1), 2 * 1 + 1); /* writing sample 1 */
    memset(buf, 0xcc, 64);
    poke(SLOT(1) + HCM_SEG_SLOT_HEADER, buf, 64); /* half-written garbage */

    /* readers see sample 0 only, never the half-written one */
    CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, &info), HCM_EAGAIN);
    CHECK_OK(hcm_subscriber_latest(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.seq, 0);
    CHECK(harness_payload_check(buf, (size_t)info.len, NULL, NULL));

    /* a new publisher steals the lock (well before its timeout) and rewrites sample 1 */
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    a.lock_timeout_ns = 2000000000ll;
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    harness_payload_fill(buf, 80, 2, 1);
    CHECK_OK(hcm_publish(pub, buf, 80));
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, TOPIC, &ti));
    CHECK_EQ_U64(ti.lock_steals, 1);
    CHECK_EQ_U64(ti.publish_count, 2);

    memset(buf, 0, sizeof buf);
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.seq, 1);
    CHECK_EQ_U64(info.lost, 0);
    CHECK_EQ_U64(info.len, 80);
    uint32_t wid = 0;
    CHECK(harness_payload_check(buf, 80, &wid, NULL));
    CHECK_EQ(wid, 2);
    hcm_publisher_close(pub);
    hcm_subscriber_close(sub);
    finish();
}

TEST(half_written_only_slot_is_never_returned_by_latest)
{
    /* one slot: the dead writer was overwriting the only sample */
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, 1, MAXP);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    uint8_t buf[4096];
    harness_payload_fill(buf, 64, 1, 0);
    CHECK_OK(hcm_publish(pub, buf, 64));
    hcm_publisher_close(pub);
    harness_segment_path(TOPIC, seg_path, sizeof seg_path);
    uint64_t stride = 192;
    poke_u64(SLOT(0), 2 * 1 + 1); /* writing sample 1 over sample 0 */
    memset(buf, 0xcc, 32);
    poke(SLOT(0) + HCM_SEG_SLOT_HEADER, buf, 32);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        hcm_subscriber *sub = NULL;
        CHECK_OK(hcm_subscriber_open(&sub, TOPIC, NULL));
        hcm_sample_info info;
        int rc = hcm_subscriber_latest(sub, buf, sizeof buf, &info);
        if (rc == HCM_OK)
            FAIL("latest returned a half-written sample (seq %llu)",
                 (unsigned long long)info.seq);
        harness_log("latest on a half-written only slot: %s", harness_errname(rc));
        hcm_subscriber_close(sub);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    finish();
}

TEST(live_write_lock_holder_past_the_timeout_gives_ebusy_until_it_dies)
{
    make_victim();
    harness_gate go;
    uint64_t id = 0;
    pid_t pid = sleeper(&go, &id);
    poke_u64(H(wlock), id); /* a live process "holds" the lock */

    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    a.lock_timeout_ns = 50000000ll; /* 50 ms */
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    uint8_t buf[64];
    harness_payload_fill(buf, 64, 3, 1);
    CHECK_RC(hcm_publish(pub, buf, 64), HCM_EBUSY);
    CHECK(hcm_errmsg()[0] != '\0');

    harness_kill_child(pid);
    harness_gate_close(&go);
    CHECK_OK(hcm_publish(pub, buf, 64));
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, TOPIC, &ti));
    CHECK_EQ_U64(ti.lock_steals, 1);
    hcm_publisher_close(pub);
    finish();
}

TEST(subscriber_waiting_for_a_topic_that_appears_corrupt_gets_ecorrupt_from_reads)
{
    /* learn the segment's file name, then remove it */
    make_victim();
    CHECK_OK(hcm_topic_unlink(NULL, TOPIC));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, TOPIC, NULL));
    uint8_t buf[4096];
    CHECK_RC(hcm_subscriber_latest(sub, buf, sizeof buf, NULL), HCM_EAGAIN);
    /* now a file of garbage appears under the topic's name */
    int fd = open(seg_path, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    memset(buf, 0xa5, 1536);
    CHECK(write(fd, buf, 1536) == 1536);
    close(fd);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        CHECK_RC(hcm_subscriber_latest(sub, buf, sizeof buf, NULL), HCM_ECORRUPT);
        CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, NULL), HCM_ECORRUPT);
        CHECK_RC(hcm_subscriber_wait(sub, 50000000ll), HCM_ECORRUPT);
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    finish();
}

TEST(geometry_changed_after_attach_is_ignored_by_attached_handles)
{
    /* attach copies the geometry; later header damage must not steer reads */
    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    hcm_subscriber *sub = NULL;
    CHECK_OK(hcm_subscriber_open(&sub, TOPIC, NULL));
    harness_segment_path(TOPIC, seg_path, sizeof seg_path);
    poke_u32(H(slot_count), UINT32_MAX);
    poke_u32(H(slot_stride), 64);
    poke_u64(H(max_payload), UINT64_MAX - 15);
    poke_u64(H(total_size), 1ull << 40);
    pid_t pid = harness_fork();
    if (pid == 0) {
        alarm(20);
        uint8_t buf[4096];
        for (uint64_t i = 0; i < 10; i++) {
            harness_payload_fill(buf, 100, 1, i);
            CHECK_OK(hcm_publish(pub, buf, 100));
            CHECK_RC(hcm_publish(pub, buf, 101), HCM_EMSGSIZE);
            hcm_sample_info info;
            memset(buf, 0, sizeof buf);
            CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
            CHECK_EQ_U64(info.seq, i);
            uint64_t counter = 99;
            CHECK(harness_payload_check(buf, (size_t)info.len, NULL, &counter));
            CHECK_EQ_U64(counter, i);
        }
        _exit(0);
    }
    CHECK_CHILD_OK(pid);
    hcm_subscriber_close(sub);
    hcm_publisher_close(pub);
    finish();
}

TEST(publisher_killed_while_holding_a_loan_does_not_block_the_next_one)
{
    hcm_subscriber *sub = victim_with_subscriber(); /* sample 0 published */
    harness_gate loaned;
    harness_gate_init(&loaned);
    pid_t pid = harness_fork();
    if (pid == 0) {
        hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
        hcm_publisher *pub = NULL;
        CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
        void *buf = NULL;
        CHECK_OK(hcm_publisher_loan(pub, 64, &buf)); /* holds the write lock */
        memset(buf, 0xdd, 64);                       /* half a sample */
        harness_gate_pass(&loaned, 1);
        for (;;)
            pause();
    }
    harness_gate_wait(&loaned, 20000);
    harness_kill_child(pid);

    uint8_t buf[4096];
    hcm_sample_info info;
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.seq, 0);
    CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, &info), HCM_EAGAIN);

    hcm_publisher_attr a = harness_pub_attr(HCM_TYPE_BYTES, SLOTS, MAXP);
    a.lock_timeout_ns = 2000000000ll;
    hcm_publisher *pub = NULL;
    CHECK_OK(hcm_publisher_open(&pub, TOPIC, &a));
    harness_payload_fill(buf, 72, 9, 1);
    CHECK_OK(hcm_publish(pub, buf, 72));
    hcm_topic_info ti;
    CHECK_OK(hcm_topic_stat(NULL, TOPIC, &ti));
    CHECK_EQ_U64(ti.lock_steals, 1);
    CHECK_EQ(ti.publishers, 1);

    memset(buf, 0, sizeof buf);
    CHECK_OK(hcm_subscriber_take(sub, buf, sizeof buf, &info));
    CHECK_EQ_U64(info.seq, 1);
    CHECK_EQ_U64(info.lost, 0);
    uint32_t id = 0;
    CHECK(harness_payload_check(buf, (size_t)info.len, &id, NULL));
    CHECK_EQ(id, 9);
    CHECK_RC(hcm_subscriber_take(sub, buf, sizeof buf, &info), HCM_EAGAIN);
    hcm_publisher_close(pub);
    hcm_subscriber_close(sub);
    harness_gate_close(&loaned);
    finish();
}
