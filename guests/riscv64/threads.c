/* threads: POSIX threads on riscv64 Linux (static glibc), checking that an emulator keeps
 * guest atomics atomic across host threads and implements clone/futex well enough for
 * glibc's mutexes, condition variables, barriers and pthread_join:
 *   - atomics: NTHREADS threads each add to shared counters ITERS times with
 *     amoadd.d/amoadd.w (__atomic_fetch_add), LR/SC compare-and-swap loops
 *     (__atomic_compare_exchange_n, 64 and 32 bit), amoor/amoxor/amomax/amominu, and a
 *     test-and-set spinlock (amoswap.w) guarding plain non-atomic counters;
 *   - a bounded queue (mutex + two condition variables) with producers and consumers;
 *   - a barrier: phases where each thread reads what the others wrote in the previous one;
 *   - thread-local storage (__thread) and pthread_join return values;
 *   - many short-lived threads created and joined one after another.
 * Every total is exact: a lost update anywhere changes a printed number. Prints one line per
 * check and "failures: 0" at the end; exits 1 when a check fails. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define ITERS 100000

static int failures;

static void check(const char *what, unsigned long long got, unsigned long long want)
{
    if (got == want) {
        printf("ok   %s = %llu\n", what, got);
    } else {
        printf("FAIL %s = %llu, want %llu\n", what, got, want);
        failures++;
    }
}

/* ---- atomics ---- */

static uint64_t add64;
static uint32_t add32;
static uint64_t cas64;
static uint32_t cas32;
static uint64_t orbits;
static uint64_t xorbits;
static int64_t maxval;
static uint32_t minval = 0xffffffffu;
static uint32_t spin;     /* 0 free, 1 held */
static uint64_t plain_a;  /* guarded by spin */
static uint64_t plain_b;  /* guarded by spin */

static __thread uint64_t tls_count;
static __thread int tls_id = -1;

static void spin_lock(void)
{
    while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&spin, __ATOMIC_RELAXED))
            ;
}

static void spin_unlock(void)
{
    __atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
}

/* no __atomic builtin for max/min: the instructions themselves */
static int64_t amomax_d(int64_t *p, int64_t v)
{
    int64_t old;
    __asm__ volatile("amomax.d %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
    return old;
}

static uint32_t amominu_w(uint32_t *p, uint32_t v)
{
    uint32_t old;
    __asm__ volatile("amominu.w %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
    return old;
}

static void *atomic_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    tls_id = id;
    for (int i = 0; i < ITERS; i++) {
        __atomic_fetch_add(&add64, 3, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add32, 1, __ATOMIC_RELAXED);
        uint64_t old = __atomic_load_n(&cas64, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas64, &old, old + 5, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            ;
        uint32_t o32 = __atomic_load_n(&cas32, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas32, &o32, o32 + 7, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            ;
        if ((i & 63) == 0) {
            __atomic_fetch_or(&orbits, 1ull << ((id * 16 + (i >> 6)) & 63), __ATOMIC_RELAXED);
            __atomic_fetch_xor(&xorbits, (uint64_t)(i + 1 + id * ITERS) * 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED);
            amomax_d(&maxval, (int64_t)id * ITERS + i);
            amominu_w(&minval, 0x80000000u + (uint32_t)(ITERS * (NTHREADS - id)) - (uint32_t)i);
        }
        if ((i & 3) == 0) {
            spin_lock();
            plain_a += 1;
            plain_b += plain_a & 1;
            spin_unlock();
        }
        tls_count++;
    }
    /* TLS is per thread: each saw only its own increments and its own id */
    return (void *)(intptr_t)(tls_id == id && tls_count == ITERS ? 1000 + id : -1);
}

static void test_atomics(void)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, atomic_worker, (void *)(intptr_t)i);
    unsigned long long joined = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        joined += (unsigned long long)(intptr_t)r;
    }
    uint64_t want_xor = 0;
    for (int i = 0; i < ITERS; i += 64)
        for (int k = 0; k < NTHREADS; k++)
            want_xor ^= (uint64_t)(i + 1 + k * ITERS) * 0x9e3779b97f4a7c15ull;
    uint64_t want_or = 0;
    for (int k = 0; k < NTHREADS; k++)
        for (int i = 0; i < ITERS; i += 64)
            want_or |= 1ull << ((k * 16 + (i >> 6)) & 63);
    check("amoadd.d total", add64, 3ull * NTHREADS * ITERS);
    check("amoadd.w total", add32, (uint32_t)(NTHREADS * ITERS));
    check("lr/sc cas.d total", cas64, 5ull * NTHREADS * ITERS);
    check("lr/sc cas.w total", cas32, (uint32_t)(7u * NTHREADS * ITERS));
    check("amoor.d bits", orbits, want_or);
    check("amoxor.d value", xorbits, want_xor);
    check("amomax.d value", (unsigned long long)maxval, (unsigned long long)((NTHREADS - 1) * ITERS + (ITERS - 1) / 64 * 64));
    check("amominu.w value", minval, 0x80000000u + ITERS - (ITERS - 1) / 64 * 64);
    check("spinlock plain_a", plain_a, (unsigned long long)NTHREADS * ((ITERS + 3) / 4));
    check("spinlock plain_b", plain_b, (plain_a + 1) / 2);
    check("join values + tls", joined, 1000ull * NTHREADS + NTHREADS * (NTHREADS - 1) / 2);
    check("main thread tls", tls_count + (uint64_t)(tls_id + 1), 0);
}

/* ---- bounded queue: mutex + condition variables ---- */

#define QCAP 16
#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER 20000

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    uint64_t buf[QCAP];
    unsigned head, count;
    int producers_left;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, PRODUCERS };

static void *producer(void *arg)
{
    uint64_t base = (uint64_t)(intptr_t)arg * 1000000;
    for (uint64_t i = 1; i <= PER_PRODUCER; i++) {
        pthread_mutex_lock(&q.lock);
        while (q.count == QCAP)
            pthread_cond_wait(&q.not_full, &q.lock);
        q.buf[(q.head + q.count) % QCAP] = base + i;
        q.count++;
        pthread_cond_signal(&q.not_empty);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    if (--q.producers_left == 0)
        pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

struct consumed {
    uint64_t n, sum, sumsq;
};

static void *consumer(void *arg)
{
    struct consumed *c = arg;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.count == 0 && q.producers_left > 0)
            pthread_cond_wait(&q.not_empty, &q.lock);
        if (q.count == 0) {
            pthread_mutex_unlock(&q.lock);
            return c;
        }
        uint64_t v = q.buf[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        pthread_cond_signal(&q.not_full);
        pthread_mutex_unlock(&q.lock);
        c->n++;
        c->sum += v;
        c->sumsq += v * v;
    }
}

static void test_queue(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    struct consumed got[CONSUMERS] = { { 0, 0, 0 } };
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, &got[i]);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    uint64_t n = 0, sum = 0, sumsq = 0, returned = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        void *r;
        pthread_join(c[i], &r);
        returned += r == &got[i];
        n += got[i].n;
        sum += got[i].sum;
        sumsq += got[i].sumsq;
    }
    uint64_t wn = 0, wsum = 0, wsumsq = 0;
    for (uint64_t k = 1; k <= PRODUCERS; k++)
        for (uint64_t i = 1; i <= PER_PRODUCER; i++) {
            uint64_t v = k * 1000000 + i;
            wn++;
            wsum += v;
            wsumsq += v * v;
        }
    check("queue items", n, wn);
    check("queue sum", sum, wsum);
    check("queue sum of squares", sumsq, wsumsq);
    check("consumer join values", returned, CONSUMERS);
}

/* ---- barrier: phased computation ---- */

#define PHASES 200

static pthread_barrier_t barrier;
static uint64_t cells[NTHREADS];
static uint64_t phase_errors;

static void *phased(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int ph = 0; ph < PHASES; ph++) {
        cells[id] = (uint64_t)ph * 100 + id;
        pthread_barrier_wait(&barrier);
        /* everyone wrote this phase's value; nobody writes the next until all have read */
        for (int k = 0; k < NTHREADS; k++)
            if (cells[k] != (uint64_t)ph * 100 + k)
                __atomic_fetch_add(&phase_errors, 1, __ATOMIC_RELAXED);
        pthread_barrier_wait(&barrier);
    }
    return (void *)(intptr_t)(id * 2);
}

static void test_barrier(void)
{
    pthread_t t[NTHREADS];
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, phased, (void *)(intptr_t)i);
    long sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)(intptr_t)r;
    }
    pthread_barrier_destroy(&barrier);
    check("barrier phase errors", phase_errors, 0);
    check("barrier join values", (unsigned long long)sum, NTHREADS * (NTHREADS - 1));
}

/* ---- many short threads ---- */

static void *short_lived(void *arg)
{
    tls_count = (uint64_t)(intptr_t)arg;
    return (void *)(intptr_t)(tls_count * tls_count);
}

static void test_many_threads(void)
{
    unsigned long long sum = 0;
    for (int round = 0; round < 25; round++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, short_lived, (void *)(intptr_t)(round * 4 + i));
        for (int i = 0; i < 4; i++) {
            void *r;
            pthread_join(t[i], &r);
            sum += (unsigned long long)(intptr_t)r;
        }
    }
    /* sum of squares 0..99 */
    check("100 short threads", sum, 99ull * 100 * 199 / 6);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_atomics();
    test_queue();
    test_barrier();
    test_many_threads();
    printf("failures: %d\n", failures);
    return failures != 0;
}
