/* bench/refs.c - the references, measured in the same run as hcm.
 *
 * floor  (mailbox): one 64-byte line in the data mapping holds a 64-bit
 *        turn word and, for payloads <= 56 bytes, the payload; larger
 *        payloads live in a buffer right after the line. Both directions
 *        use it. The sender copies its payload in and bumps the turn
 *        (release); the receiver spins with `pause` until the turn moves
 *        (acquire) and copies the payload out.
 * futex  the same mailbox with a 32-bit turn word; the receiver checks the
 *        word once and otherwise sleeps at once in FUTEX_WAIT (shared, not
 *        PRIVATE: the word is in a MAP_SHARED page); the sender always
 *        FUTEX_WAKEs after bumping the turn.
 * uds    socketpair(AF_UNIX, SOCK_SEQPACKET): write + blocking read.
 * ring   SPSC ring: head (producer) and tail (consumer) each on its own
 *        line, each side caches the other's index and re-reads it only
 *        when the ring looks full/empty; slots of `size` bytes; spin with
 *        `pause`. Every message is copied in from a private buffer and out
 *        to another one.
 *
 * In every reference the first 8 bytes of the payload carry the counter;
 * A sends from one private buffer and receives into another, B echoes from
 * the buffer it received into (as hcm's rows do).
 */
#include "refs.h"

#include <errno.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_loops.h"

/* ---- mailbox (floor and futex) ------------------------------------------ */

typedef struct mailbox {
    alignas(BENCH_LINE) _Atomic uint64_t turn; /* floor: message count so far */
    _Atomic uint32_t turn32;                   /* futex: message count so far (wraps) */
    uint32_t pad;
    unsigned char small[48];                   /* payload when size <= 48 */
    unsigned char big[];                       /* payload otherwise, at offset 64 */
} mailbox;
_Static_assert(sizeof(mailbox) == BENCH_LINE, "one line");

typedef struct mb_side {
    mailbox *mb;
    unsigned char *data; /* mb->small or mb->big */
    size_t size;
    uint64_t seen;       /* turn value of the last message sent or received */
    unsigned char *src;  /* private send buffer */
    unsigned char *dst;  /* private receive buffer */
} mb_side;

size_t bench_ref_mailbox_bytes(size_t size)
{
    return sizeof(mailbox) + (size <= sizeof(((mailbox *)0)->small) ? 0 : size);
}

static int mb_init(bench_env *e, mb_side *s)
{
    s->mb = e->shared;
    s->size = e->p->size;
    s->data = s->size <= sizeof(s->mb->small) ? s->mb->small : s->mb->big;
    s->seen = 0;
    s->dst = bench_payload_alloc(s->size);
    s->src = e->role ? s->dst : bench_payload_alloc(s->size); /* B echoes what it received */
    if (!s->src || !s->dst)
        return bench_fail(e, "out of memory");
    return 0;
}

static void mb_fini(mb_side *s)
{
    if (s->src != s->dst)
        free(s->src);
    free(s->dst);
}

/* Payload copies with a compile-time size when the size is 8 (so the
 * reference is as tight as a hand-written one), memcpy otherwise. */
BENCH_INLINE void put_payload(unsigned char *to, unsigned char *src, size_t size, uint64_t c)
{
    memcpy(src, &c, sizeof c);
    if (size == 8)
        memcpy(to, src, 8);
    else
        memcpy(to, src, size);
}

BENCH_INLINE uint64_t get_payload(const unsigned char *from, unsigned char *dst, size_t size)
{
    uint64_t c;
    if (size == 8)
        memcpy(dst, from, 8);
    else
        memcpy(dst, from, size);
    memcpy(&c, dst, sizeof c);
    return c;
}

static int floor_send(void *t, uint64_t c)
{
    mb_side *s = t;
    put_payload(s->data, s->src, s->size, c);
    /* (F1) release: payload before turn; pairs with (F2) */
    atomic_store_explicit(&s->mb->turn, ++s->seen, memory_order_release);
    return 0;
}

static int floor_recv(void *t, uint64_t *c)
{
    mb_side *s = t;
    /* (F2) acquire: turn before payload; pairs with (F1) */
    while (atomic_load_explicit(&s->mb->turn, memory_order_acquire) == s->seen)
        bench_relax();
    s->seen++;
    *c = get_payload(s->data, s->dst, s->size);
    return 0;
}

int bench_ref_floor(bench_env *e)
{
    mb_side s;
    if (mb_init(e, &s))
        return -1;
    int rc;
    if (e->role == 0)
        rc = bench_ping(e, &s, floor_send, floor_recv);
    else
        rc = bench_echo(e, &s, floor_send, floor_recv);
    mb_fini(&s);
    return rc;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static int futex_send(void *t, uint64_t c)
{
    mb_side *s = t;
    put_payload(s->data, s->src, s->size, c);
    /* (X1) release: payload before turn; pairs with (X2) */
    atomic_store_explicit(&s->mb->turn32, (uint32_t)++s->seen, memory_order_release);
    futex(&s->mb->turn32, FUTEX_WAKE, 1);
    return 0;
}

static int futex_recv(void *t, uint64_t *c)
{
    mb_side *s = t;
    uint32_t old = (uint32_t)s->seen;
    /* (X2) acquire: turn before payload; pairs with (X1) */
    while (atomic_load_explicit(&s->mb->turn32, memory_order_acquire) == old) {
        if (futex(&s->mb->turn32, FUTEX_WAIT, old) < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
    }
    s->seen++;
    *c = get_payload(s->data, s->dst, s->size);
    return 0;
}

int bench_ref_futex(bench_env *e)
{
    mb_side s;
    if (mb_init(e, &s))
        return -1;
    int rc;
    if (e->role == 0)
        rc = bench_ping(e, &s, futex_send, futex_recv);
    else
        rc = bench_echo(e, &s, futex_send, futex_recv);
    mb_fini(&s);
    return rc;
}

/* ---- Unix socket ----------------------------------------------------------- */

typedef struct uds_side {
    int fd;
    size_t size;
    unsigned char *src, *dst;
} uds_side;

static int uds_send(void *t, uint64_t c)
{
    uds_side *s = t;
    memcpy(s->src, &c, sizeof c);
    return write(s->fd, s->src, s->size) == (ssize_t)s->size ? 0 : -1;
}

static int uds_recv(void *t, uint64_t *c)
{
    uds_side *s = t;
    ssize_t n;
    do
        n = read(s->fd, s->dst, s->size);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)s->size)
        return -1;
    memcpy(c, s->dst, sizeof *c);
    return 0;
}

int bench_ref_uds(bench_env *e)
{
    uds_side s = {e->fd, e->p->size, NULL, bench_payload_alloc(e->p->size)};
    s.src = e->role ? s.dst : bench_payload_alloc(e->p->size); /* B echoes what it received */
    int rc;
    if (!s.src || !s.dst)
        rc = bench_fail(e, "out of memory");
    else if (e->role == 0)
        rc = bench_ping(e, &s, uds_send, uds_recv);
    else
        rc = bench_echo(e, &s, uds_send, uds_recv);
    if (rc && !atomic_load(&e->ctl->failed))
        bench_fail(e, "uds: %s", strerror(errno));
    if (s.src != s.dst)
        free(s.src);
    free(s.dst);
    return rc;
}

/* ---- SPSC ring --------------------------------------------------------------- */

typedef struct ring {
    alignas(BENCH_LINE) _Atomic uint64_t head; /* written by the producer only */
    alignas(BENCH_LINE) _Atomic uint64_t tail; /* written by the consumer only */
    alignas(BENCH_LINE) unsigned char slots[];
} ring;

typedef struct ring_side {
    ring *r;
    size_t size;
    uint64_t slots;
    uint64_t mine;    /* my index (head for the producer, tail for the consumer) */
    uint64_t theirs;  /* cached copy of the other index */
    unsigned char *buf;
    _Atomic uint32_t *stop;
} ring_side;

size_t bench_ref_ring_bytes(size_t size, uint32_t slots)
{
    return sizeof(ring) + (size_t)slots * size;
}

BENCH_INLINE int ring_produce_n(ring_side *s, uint64_t c, size_t size)
{
    if (s->mine - s->theirs >= s->slots) {
        /* (R3) acquire: the consumer's copy-out is done before we overwrite; pairs with (R4) */
        while (s->mine - (s->theirs = atomic_load_explicit(&s->r->tail, memory_order_acquire)) >=
               s->slots) {
            if (atomic_load_explicit(s->stop, memory_order_relaxed)) /* a flag, no data */
                return 1;
            bench_relax();
        }
    }
    put_payload(s->r->slots + (s->mine % s->slots) * size, s->buf, size, c);
    /* (R1) release: slot before head; pairs with (R2) */
    atomic_store_explicit(&s->r->head, ++s->mine, memory_order_release);
    return 0;
}

BENCH_INLINE int ring_consume_n(ring_side *s, uint64_t *c, size_t size)
{
    if (s->mine == s->theirs) {
        /* (R2) acquire: head before slot; pairs with (R1) */
        while ((s->theirs = atomic_load_explicit(&s->r->head, memory_order_acquire)) == s->mine)
            bench_relax();
    }
    *c = get_payload(s->r->slots + (s->mine % s->slots) * size, s->buf, size);
    /* (R4) release: copy-out before tail; pairs with (R3) */
    atomic_store_explicit(&s->r->tail, ++s->mine, memory_order_release);
    return 0;
}

static int ring_produce8(void *t, uint64_t c) { return ring_produce_n(t, c, 8); }
static int ring_consume8(void *t, uint64_t *c) { return ring_consume_n(t, c, 8); }
static int ring_produce(void *t, uint64_t c) { return ring_produce_n(t, c, ((ring_side *)t)->size); }
static int ring_consume(void *t, uint64_t *c) { return ring_consume_n(t, c, ((ring_side *)t)->size); }

int bench_ref_ring(bench_env *e)
{
    ring_side s = {e->shared, e->p->size, e->p->slots, 0, 0, bench_payload_alloc(e->p->size),
                   &e->ctl->stop};
    if (!s.buf)
        return bench_fail(e, "out of memory");
    int rc;
    if (e->role == 0)
        rc = s.size == 8 ? bench_produce(e, &s, ring_produce8) : bench_produce(e, &s, ring_produce);
    else
        rc = s.size == 8 ? bench_consume(e, &s, ring_consume8) : bench_consume(e, &s, ring_consume);
    free(s.buf);
    return rc;
}
