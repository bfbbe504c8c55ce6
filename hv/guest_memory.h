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

#endif
