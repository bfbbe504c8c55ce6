/*
 * The guest-shared halves of the SynIC (TLFS 11.9-11.10): the message page (SIMP: one
 * 256-byte HV_MESSAGE slot per SINT) and the event flags page (SIEFP: one 2048-bit flag
 * set per SINT, 256 bytes each). Both are GPAs in the VP's own partition, reached through
 * an accessor (the hypervisor's is hv/guest_memory.h; tests fake it), so this logic is
 * pure and host-tested.
 *
 * Slot protocol (TLFS 11.10.3): the hypervisor writes a slot only while its MessageType
 * is HvMessageTypeNone, payload first and the type last. The guest copies the message,
 * clears the type, then (after a full barrier) writes EOM if MessagePending was set. The
 * hypervisor's half of that race: it sets MessagePending in a busy slot and then reads the
 * type again (after a full barrier); if the guest freed the slot meanwhile it may never
 * see the flag, so the caller delivers at once instead of waiting for an EOM.
 */
#ifndef HVFW_HV_SYNIC_PAGE_H
#define HVFW_HV_SYNIC_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/intercept_abi.h"

#define SYNIC_SINT_COUNT 16
#define SYNIC_EVENT_FLAGS_BYTES 256u /* per SINT: HV_EVENT_FLAGS_COUNT bits */

struct synic_page_access {
    void *context;
    bool (*read)(void *context, uint64_t gpa, void *buffer, size_t length);
    bool (*write)(void *context, uint64_t gpa, const void *buffer, size_t length);
    /* Atomically ORs `bits` into the naturally aligned 32-bit word at `gpa`; *old gets
     * its previous value (the guest clears flags with locked instructions meanwhile). */
    bool (*fetch_or32)(void *context, uint64_t gpa, uint32_t bits, uint32_t *old);
    /* Stores the naturally aligned 32-bit word at `gpa` in one access: a slot's type, which
     * the guest polls (a byte-wise copy once showed the root 0x00010000 for 0x80010000). */
    bool (*store32)(void *context, uint64_t gpa, uint32_t value);
};

enum synic_slot_result {
    SYNIC_SLOT_DELIVERED,
    SYNIC_SLOT_BUSY,        /* a message the guest has not taken is there */
    SYNIC_SLOT_UNREACHABLE, /* the page is not (or no longer) the partition's RAM */
};

/* Writes `m` into `sint`'s slot of the message page at `page_gpa` (4 KiB aligned) if the
 * slot is free, with MessagePending set when `more_pending`. */
enum synic_slot_result synic_page_deliver(const struct synic_page_access *a, uint64_t page_gpa,
                                          unsigned sint, const struct hv_message *m,
                                          bool more_pending);
/* Marks `sint`'s busy slot MessagePending, then reads its type again: true if the slot is
 * free now (the caller must deliver: the guest may have missed the flag). */
bool synic_page_set_pending(const struct synic_page_access *a, uint64_t page_gpa,
                            unsigned sint);
/* Sets `flag` (< 2048) of `sint`'s flag set in the event flags page at `page_gpa`.
 * *was_clear: it was clear before (the SINT's interrupt is due). False if unreachable. */
bool synic_page_signal(const struct synic_page_access *a, uint64_t page_gpa, unsigned sint,
                       unsigned flag, bool *was_clear);

#endif
