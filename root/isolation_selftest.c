/*
 * Each access below targets the hypervisor's part of the image (kernel/linker.ld), which
 * the root's nested page tables do not map. The hypervisor must refuse it (and report it
 * on its console) by injecting #GP; the access's fixup (root/cpu.c) resumes us. A success
 * of any of them is an isolation failure.
 */
#include "root/isolation_selftest.h"

#include <stdint.h>
#include <stdio.h>

#include "root/cpu.h"

/* Linker symbols of the hypervisor's sections: addresses only, never dereferenced except
 * through the fault-tolerant accessors. */
extern char __text_start[], __data_start[], __bss_start[];

#define VECTOR_GP 13

/* The root's devices (hv/root_partition.h): the hypervisor's COM1 port and its LAPIC page
 * (inside the MMIO hole the root otherwise gets) are refused with #GP; PCI configuration,
 * the root's, passes through. */
static bool ports_selftest(struct root_vp *vp)
{
    uint64_t before = vp->exceptions;
    uint32_t value = 0;
    if (root_try_inl(0x3F8, &value) || vp->exceptions != before + 1 ||
        vp->last_vector != VECTOR_GP) {
        printf("selftest: root-ports: FAILED: a read of the hypervisor's COM1 was not refused "
               "with #GP\n");
        return false;
    }
    before = vp->exceptions;
    uint64_t word = 0;
    if (root_try_read64(0xFEE00000u, &word) || vp->exceptions != before + 1 ||
        vp->last_vector != VECTOR_GP) {
        printf("selftest: root-ports: FAILED: a read of the LAPIC page was not refused with "
               "#GP\n");
        return false;
    }
    before = vp->exceptions;
    if (!root_try_inl(0xCF8, &value) || vp->exceptions != before) {
        printf("selftest: root-ports: FAILED: the PCI configuration address port faulted\n");
        return false;
    }
    printf("selftest: root-ports: ok (COM1 and the LAPIC refused with #GP, PCI configuration "
           "passed through)\n");
    return true;
}

bool isolation_selftest_run(void)
{
    struct {
        const char *what;
        uint64_t address;
        bool write;
    } attempts[] = {
        {"write to hypervisor text", (uint64_t)(uintptr_t)__text_start + 0x1000, true},
        {"read of hypervisor data", (uint64_t)(uintptr_t)__data_start, false},
        {"write to hypervisor bss", (uint64_t)(uintptr_t)__bss_start + 0x100, true},
    };
    struct root_vp *vp = root_this_vp();
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        uint64_t before = vp->exceptions, value = 0;
        bool completed = attempts[i].write ? root_try_write64(attempts[i].address, 0x5A5A)
                                           : root_try_read64(attempts[i].address, &value);
        if (completed) {
            printf("selftest: root-isolation: FAILED: %s at %#lx was allowed\n",
                   attempts[i].what, (unsigned long)attempts[i].address);
            return false;
        }
        if (vp->exceptions != before + 1 || vp->last_vector != VECTOR_GP) {
            printf("selftest: root-isolation: FAILED: %s faulted with vector %u, not #GP\n",
                   attempts[i].what, vp->last_vector);
            return false;
        }
    }
    printf("selftest: root-isolation: ok (%zu accesses to hypervisor memory refused with #GP)\n",
           sizeof(attempts) / sizeof(attempts[0]));
    return ports_selftest(vp);
}
