/* segment/owner.c - see owner.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "segment/owner.h"

/* Reads the start time (clock ticks since boot) of a task from `path`
 * (/proc/<pid>/stat or /proc/<pid>/task/<tid>/stat). 0 if unreadable. */
static uint64_t read_start_time_state(const char *path, char *statep)
{
    char buf[1024];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *p;
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and ')'; skip past the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    p++;
    if (statep != NULL && p[0] == ' ')
        *statep = p[1];
    /* p is at the space before field 3 (state); move to the one before
     * field 22 (start time). */
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return 0;
    }
    return strtoull(p + 1, NULL, 10);
}

static uint64_t read_start_time(const char *path)
{
    return read_start_time_state(path, NULL);
}

static uint64_t make_id(uint32_t pid, uint64_t start)
{
    uint32_t lo = (uint32_t)start;
    if (lo == 0)
        lo = 1;
    return ((uint64_t)pid << 32) | lo;
}

/* The caches below must not cost a system call per use (the publisher asks
 * for its thread identity on every publish), so instead of comparing
 * getpid()/gettid() they compare a fork generation that an atfork handler
 * bumps in the child. */
static _Atomic unsigned fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    /* relaxed: the child runs single-threaded right after fork */
    atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void install_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

static unsigned current_generation(void)
{
    pthread_once(&atfork_once, install_atfork);
    /* relaxed: only this thread's own fork history matters */
    return atomic_load_explicit(&fork_generation, memory_order_relaxed);
}

static _Atomic uint64_t process_id_cache;
static _Atomic unsigned process_id_generation;

uint64_t hcm__self_process_id(void)
{
    unsigned gen = current_generation();
    /* acquire: pairs with the release store below, so a thread that sees the
     * generation also sees the cached id. Racing threads store equal values. */
    if (atomic_load_explicit(&process_id_generation, memory_order_acquire) != gen) {
        char path[64];
        pid_t pid = getpid();
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        atomic_store_explicit(&process_id_cache, make_id((uint32_t)pid, read_start_time(path)),
                              memory_order_relaxed);
        atomic_store_explicit(&process_id_generation, gen, memory_order_release);
    }
    return atomic_load_explicit(&process_id_cache, memory_order_relaxed);
}

static _Thread_local uint64_t thread_id_cache;
static _Thread_local unsigned thread_id_generation;

uint64_t hcm__self_thread_id(void)
{
    unsigned gen = current_generation();
    if (thread_id_generation != gen) {
        char path[96];
        pid_t tid = (pid_t)syscall(SYS_gettid);
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)getpid(), (int)tid);
        thread_id_cache = make_id((uint32_t)tid, read_start_time(path));
        thread_id_generation = gen;
    }
    return thread_id_cache;
}

int hcm__id_alive(uint64_t id)
{
    uint32_t pid = hcm__id_pid(id);
    char path[64];
    uint64_t start;
    int saved = errno;
    if (id == 0 || pid == 0 || pid > (uint32_t)INT32_MAX)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        errno = saved;
        return 0;
    }
    errno = saved;
    /* /proc/<tid>/stat resolves thread ids too. */
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    char state = 0;
    start = read_start_time_state(path, &state);
    if (start == 0)
        return access(path, F_OK) == 0 ? 1 : 0; /* unreadable but present: alive */
    /* A zombie (killed, not yet reaped by its parent) runs no more code:
     * it holds no lock and will answer no call. */
    if (state == 'Z' || state == 'X' || state == 'x')
        return 0;
    return make_id(pid, start) == id;
}
