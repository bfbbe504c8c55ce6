/*
 * Guest linear -> guest physical translation through a VP's own page tables, for the one
 * thing the hypervisor needs it for: fetching the instruction bytes of an intercept
 * (hv/intercept.c) when the hardware gives none (no decode assists under QEMU TCG). The
 * instruction at that address has just executed, so only presence matters, not
 * permissions; accessed/dirty bits are left alone. Every table entry is read through the
 * caller's reader (the checked guest-memory accessor), so tables outside the partition's
 * memory simply fail. Host-testable: no hypervisor state.
 */
#ifndef HVFW_HV_GUEST_PAGING_H
#define HVFW_HV_GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
    /* Reads `size` (4 or 8) bytes of guest physical memory at `gpa`; false if unreadable. */
    bool (*read)(void *context, uint64_t gpa, void *buffer, unsigned size);
    void *context;
};

/* The guest physical address of `linear`: identity without CR0.PG; 4-level long mode
 * (AMD APM vol. 2 §5.3), PAE (§5.2.2-5.2.3) or 32-bit paging with 4 MiB pages when
 * CR4.PSE (§5.2.1); 5-level paging (CR4.LA57) is refused (children never get it). False
 * when a level is not present, a reserved encoding is met or a table cannot be read. */
bool guest_paging_translate(const struct guest_paging *paging, uint64_t linear, uint64_t *gpa);

#endif
