/*
 * The one way the hypervisor reads or writes a partition's memory: by GPA, through the
 * partition's own second-level translation, page by page, with the access the partition
 * itself has (a read needs a readable mapping, a write a writable one). Overflow-safe; a
 * GPA range that is not wholly mapped is refused without a partial copy being trusted.
 * Guest data is copied into hypervisor memory first and validated there (MISSION.md,
 * decision 7).
 */
#ifndef HVFW_HV_GUEST_MEMORY_H
#define HVFW_HV_GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partition;

bool guest_memory_read(struct partition *p, uint64_t gpa, void *buffer, size_t length);
/* Whether [gpa, gpa+length) is mapped with read (and, if `write`, write) access. */
bool guest_memory_accessible(struct partition *p, uint64_t gpa, size_t length, bool write);
bool guest_memory_write(struct partition *p, uint64_t gpa, const void *buffer, size_t length);
/* Atomically ORs `bits` into the naturally aligned 32-bit word at `gpa` (it needs write
 * access); *old gets the word's previous value. For memory the guest updates with locked
 * instructions at the same time (SynIC event flags, TLFS 11.9.4). */
bool guest_memory_fetch_or32(struct partition *p, uint64_t gpa, uint32_t bits, uint32_t *old);
/* Stores the naturally aligned 32-bit word at `gpa` in one access (release order): for a
 * field the guest polls while the hypervisor writes it, such as a SynIC message slot's
 * type, which a byte-wise copy would show half-written. Same rules as a write. */
bool guest_memory_store32(struct partition *p, uint64_t gpa, uint32_t value);

#endif
