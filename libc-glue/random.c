/*
 * RDRAND and a weak fallback. getentropy() (newlib's arc4random asks for it) accepts only
 * the hardware source: handing out TSC-derived bytes as entropy would be a lie.
 */
#include "libc-glue/random.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "kernel/x86.h"

#define CPUID_1_ECX_RDRAND (1u << 30)
#define RDRAND_RETRIES 10
/* POSIX (and OpenBSD, where it comes from) caps one getentropy() call at 256 bytes. */
#define GETENTROPY_MAX 256

bool random_hardware_available(void)
{
    uint32_t eax, ebx, ecx, edx;
    cpuid(1, 0, &eax, &ebx, &ecx, &edx);
    return (ecx & CPUID_1_ECX_RDRAND) != 0;
}

bool random_hardware_u64(uint64_t *out)
{
    static int available = -1; /* -1: not asked yet; racing CPUs compute the same answer */
    int known = __atomic_load_n(&available, __ATOMIC_RELAXED);
    if (known < 0) {
        known = random_hardware_available() ? 1 : 0;
        __atomic_store_n(&available, known, __ATOMIC_RELAXED);
    }
    if (!known)
        return false;
    for (int i = 0; i < RDRAND_RETRIES; i++) {
        uint64_t value;
        uint8_t ok;
        /* CF=1: a valid value was delivered (Intel SDM vol. 2, RDRAND). */
        __asm__ volatile("rdrand %0; setc %1" : "=r"(value), "=qm"(ok) : : "cc");
        if (ok) {
            *out = value;
            return true;
        }
    }
    return false;
}

uint32_t random_weak_u32(void)
{
    uint64_t value;
    if (random_hardware_u64(&value))
        return (uint32_t)(value >> 32);
    /* xorshift64* (Vigna 2016). The state is shared; a lost update between CPUs only
     * repeats a value, which is acceptable for what this is used for. */
    static uint64_t state;
    uint64_t x = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (x == 0)
        x = rdtsc() | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    __atomic_store_n(&state, x, __ATOMIC_RELAXED);
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

int getentropy(void *buffer, size_t length)
{
    if (length > GETENTROPY_MAX) {
        errno = EIO;
        return -1;
    }
    unsigned char *p = buffer;
    while (length > 0) {
        uint64_t value;
        if (!random_hardware_u64(&value)) {
            errno = ENOSYS; /* no hardware entropy source on this CPU */
            return -1;
        }
        size_t n = length < sizeof(value) ? length : sizeof(value);
        memcpy(p, &value, n);
        p += n;
        length -= n;
    }
    return 0;
}
