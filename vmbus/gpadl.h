/*
 * Guest Physical Address Descriptor Lists of one child connection: the page lists a child
 * describes with GPADL_HEADER + GPADL_BODY messages (Linux drivers/hv/channel.c
 * create_gpadl_header) for rings and VSP buffers. Handles are the child's choice; a GPADL
 * belongs to the channel named in its header but outlives that channel's open/close
 * (netvsc tears its buffers down after CLOSECHANNEL).
 *
 * The range buffer arrives in pieces: the header carries the first 8-byte entries, bodies
 * the rest, in order. Only when every announced byte has arrived is the buffer parsed
 * (ranges {u32 byte_count, u32 byte_offset, u64 pfn[]}) and each page checked to be the
 * child's RAM. Sizes are bounded per GPADL (the header's u16 length) and per connection.
 */
#ifndef HVFW_VMBUS_GPADL_H
#define HVFW_VMBUS_GPADL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/ring.h"

#define VMBUS_GPADL_MAX 128u
/* All GPADLs of one child together: 256 MiB of its memory (netvsc: 16 MiB receive and
 * 1 MiB send buffers per channel, rings of a few hundred KiB). */
#define VMBUS_GPADL_MAX_PAGES_TOTAL 65536u

struct vmbus_gpadl {
    bool used;
    bool complete;
    uint32_t handle;
    uint32_t child_relid;
    uint16_t range_count;
    uint32_t length;   /* bytes of range buffer announced */
    uint32_t received; /* bytes of range buffer arrived so far */
    uint32_t page_count; /* PFN entries, once complete */
    uint64_t *buffer;
};

struct vmbus_gpadl_table {
    struct vmbus_gpadl entries[VMBUS_GPADL_MAX];
    uint32_t pages_total;
    vmbus_page_fn page;
    void *context;
};

enum vmbus_gpadl_progress {
    VMBUS_GPADL_INCOMPLETE, /* more bodies expected */
    VMBUS_GPADL_COMPLETE,   /* parsed and checked: send GPADL_CREATED success */
    VMBUS_GPADL_FAILED,     /* refused and forgotten: send GPADL_CREATED failure */
    VMBUS_GPADL_IGNORED,    /* not about a GPADL in progress: log only */
};

void vmbus_gpadl_table_init(struct vmbus_gpadl_table *table, vmbus_page_fn page, void *context);
/* GPADL_HEADER: starts GPADL `handle` of channel `relid` with `length` bytes of range buffer
 * in `range_count` ranges, the first `data_size` bytes in `data`. FAILED for a handle in
 * use, a length that is not whole entries or below one range, too many pages, a full
 * table, or (when complete) a bad range or a page that is not child RAM. */
enum vmbus_gpadl_progress vmbus_gpadl_begin(struct vmbus_gpadl_table *table, uint32_t relid,
                                            uint32_t handle, uint16_t range_count,
                                            uint16_t length, const uint8_t *data,
                                            uint32_t data_size, const char **why);
/* GPADL_BODY: the next `data_size` bytes. IGNORED when no GPADL `handle` is in progress;
 * FAILED (and forgotten) when the bytes run past the announced length or the completed
 * buffer is bad. */
enum vmbus_gpadl_progress vmbus_gpadl_continue(struct vmbus_gpadl_table *table, uint32_t handle,
                                               const uint8_t *data, uint32_t data_size,
                                               const char **why);
/* A GPADL by handle, complete or not; NULL if unknown. */
struct vmbus_gpadl *vmbus_gpadl_find(struct vmbus_gpadl_table *table, uint32_t handle);
void vmbus_gpadl_remove(struct vmbus_gpadl_table *table, struct vmbus_gpadl *gpadl);
/* Forgets every GPADL of channel `relid`, or all of them for relid 0. */
void vmbus_gpadl_remove_channel(struct vmbus_gpadl_table *table, uint32_t relid);

/* Range `index` of a complete GPADL: bytes, offset into its first page, and its PFNs.
 * False if there is no such range. */
bool vmbus_gpadl_range(const struct vmbus_gpadl *gpadl, uint32_t index, uint32_t *byte_count,
                       uint32_t *byte_offset, const uint64_t **pfns, uint32_t *pfn_count);
/* The pages of a complete GPADL that is one page-aligned range of whole pages (what rings
 * are made of); false otherwise. */
bool vmbus_gpadl_pages(const struct vmbus_gpadl *gpadl, const uint64_t **pfns,
                       uint32_t *page_count);

#endif
