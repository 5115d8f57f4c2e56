// Loaded with LD_PRELOAD by scripts/test-sanitizers, for ThreadSanitizer runs only.
//
// librdkafka uses C11 threads (thrd_create, mtx_lock, cnd_wait, ...). glibc implements those by calling its
// internal pthread functions directly, past the pthread_* entry points that ThreadSanitizer intercepts, and
// the TSan runtime in the Swift toolchain has no C11 interceptors. So, without this file:
// - TSan never sets up its per-thread state for librdkafka's threads, and the first malloc on one of them
//   crashes inside TSan's allocator (SEGV in sanitizer_allocator_local_cache.h, "nested bug in the same
//   thread"), which kills the test run as soon as a test starts librdkafka's mock cluster;
// - thrd_join would not be seen either (TSan then aborts on "sanitizer_thread_registry.cpp:186" when a new
//   thread reuses a joined thread's id), and librdkafka's locking would be invisible, so memory handed from
//   one librdkafka thread to another under its mutexes would look racy.
// Each function below does what glibc does (C11 types are the pthread types in glibc), through the public
// pthread_* symbols, which resolve to TSan's interceptors.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int result(int error) {
    switch (error) {
    case 0: return thrd_success;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    case ENOMEM: case EAGAIN: return thrd_nomem;
    default: return thrd_error;
    }
}

struct start {
    thrd_start_t function;
    void *argument;
};

static void *trampoline(void *raw) {
    struct start start = *(struct start *)raw;
    free(raw);
    return (void *)(intptr_t)start.function(start.argument);
}

int thrd_create(thrd_t *thread, thrd_start_t function, void *argument) {
    struct start *start = malloc(sizeof *start);
    if (start == NULL) return thrd_nomem;
    start->function = function;
    start->argument = argument;
    int error = pthread_create(thread, NULL, trampoline, start);
    if (error != 0) free(start);
    return result(error);
}

int thrd_join(thrd_t thread, int *value) {
    void *returned;
    int error = pthread_join(thread, &returned);
    if (error == 0 && value != NULL) *value = (int)(intptr_t)returned;
    return result(error);
}

int thrd_detach(thrd_t thread) { return result(pthread_detach(thread)); }

int mtx_init(mtx_t *mutex, int type) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    if (type & mtx_recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    int error = pthread_mutex_init((pthread_mutex_t *)mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return result(error);
}

int mtx_lock(mtx_t *mutex) { return result(pthread_mutex_lock((pthread_mutex_t *)mutex)); }
int mtx_trylock(mtx_t *mutex) { return result(pthread_mutex_trylock((pthread_mutex_t *)mutex)); }
int mtx_unlock(mtx_t *mutex) { return result(pthread_mutex_unlock((pthread_mutex_t *)mutex)); }
void mtx_destroy(mtx_t *mutex) { pthread_mutex_destroy((pthread_mutex_t *)mutex); }

int cnd_init(cnd_t *condition) { return result(pthread_cond_init((pthread_cond_t *)condition, NULL)); }
int cnd_signal(cnd_t *condition) { return result(pthread_cond_signal((pthread_cond_t *)condition)); }
int cnd_broadcast(cnd_t *condition) { return result(pthread_cond_broadcast((pthread_cond_t *)condition)); }
int cnd_wait(cnd_t *condition, mtx_t *mutex) {
    return result(pthread_cond_wait((pthread_cond_t *)condition, (pthread_mutex_t *)mutex));
}
int cnd_timedwait(cnd_t *restrict condition, mtx_t *restrict mutex, const struct timespec *restrict deadline) {
    return result(pthread_cond_timedwait((pthread_cond_t *)condition, (pthread_mutex_t *)mutex, deadline));
}
void cnd_destroy(cnd_t *condition) { pthread_cond_destroy((pthread_cond_t *)condition); }

void call_once(once_flag *flag, void (*function)(void)) { pthread_once((pthread_once_t *)flag, function); }
