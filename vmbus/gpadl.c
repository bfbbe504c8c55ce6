#include "vmbus/gpadl.h"

#include <stdlib.h>
#include <string.h>

/* Each range starts with one 8-byte head (byte_count, byte_offset). */
#define RANGE_HEAD_ENTRIES 1u

void vmbus_gpadl_table_init(struct vmbus_gpadl_table *table, vmbus_page_fn page, void *context)
{
    memset(table, 0, sizeof(*table));
    table->page = page;
    table->context = context;
}

struct vmbus_gpadl *vmbus_gpadl_find(struct vmbus_gpadl_table *table, uint32_t handle)
{
    for (uint32_t i = 0; i < VMBUS_GPADL_MAX; i++)
        if (table->entries[i].used && table->entries[i].handle == handle)
            return &table->entries[i];
    return NULL;
}

void vmbus_gpadl_remove(struct vmbus_gpadl_table *table, struct vmbus_gpadl *gpadl)
{
    table->pages_total -= gpadl->length / 8;
    free(gpadl->buffer);
    memset(gpadl, 0, sizeof(*gpadl));
}

void vmbus_gpadl_remove_channel(struct vmbus_gpadl_table *table, uint32_t relid)
{
    for (uint32_t i = 0; i < VMBUS_GPADL_MAX; i++) {
        struct vmbus_gpadl *g = &table->entries[i];
        if (g->used && (relid == 0 || g->child_relid == relid))
            vmbus_gpadl_remove(table, g);
    }
}

static uint32_t range_pages(uint64_t head)
{
    uint64_t count = (uint32_t)head;
    uint64_t offset = head >> 32;
    return (uint32_t)((offset + count + VMBUS_PAGE_SIZE - 1) / VMBUS_PAGE_SIZE);
}

/* Walks the complete range buffer: every range non-empty, starting inside its first page,
 * its PFNs present and child RAM, and nothing left over. */
static bool check_complete(struct vmbus_gpadl_table *table, struct vmbus_gpadl *g,
                           const char **why)
{
    uint32_t entries = g->length / 8;
    uint32_t at = 0, pages = 0;
    for (uint32_t r = 0; r < g->range_count; r++) {
        if (at >= entries) {
            *why = "GPADL has fewer ranges than announced";
            return false;
        }
        uint64_t head = g->buffer[at++];
        if ((uint32_t)head == 0 || (head >> 32) >= VMBUS_PAGE_SIZE) {
            *why = "GPADL range has no bytes or starts past its first page";
            return false;
        }
        uint32_t n = range_pages(head);
        if (n > entries - at) {
            *why = "GPADL range has fewer PFNs than its bytes need";
            return false;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (!table->page(table->context, g->buffer[at + i])) {
                *why = "GPADL page is not the child's memory";
                return false;
            }
        }
        at += n;
        pages += n;
    }
    if (at != entries) {
        *why = "GPADL range buffer is longer than its ranges";
        return false;
    }
    g->page_count = pages;
    g->complete = true;
    return true;
}

static enum vmbus_gpadl_progress append(struct vmbus_gpadl_table *table, struct vmbus_gpadl *g,
                                        const uint8_t *data, uint32_t data_size,
                                        const char **why)
{
    if (data_size % 8 != 0 || data_size > g->length - g->received) {
        *why = "GPADL data runs past the announced length";
        vmbus_gpadl_remove(table, g);
        return VMBUS_GPADL_FAILED;
    }
    memcpy((uint8_t *)g->buffer + g->received, data, data_size);
    g->received += data_size;
    if (g->received < g->length)
        return VMBUS_GPADL_INCOMPLETE;
    if (!check_complete(table, g, why)) {
        vmbus_gpadl_remove(table, g);
        return VMBUS_GPADL_FAILED;
    }
    return VMBUS_GPADL_COMPLETE;
}

enum vmbus_gpadl_progress vmbus_gpadl_begin(struct vmbus_gpadl_table *table, uint32_t relid,
                                            uint32_t handle, uint16_t range_count,
                                            uint16_t length, const uint8_t *data,
                                            uint32_t data_size, const char **why)
{
    if (vmbus_gpadl_find(table, handle)) {
        *why = "GPADL handle already in use";
        return VMBUS_GPADL_FAILED;
    }
    /* Each range needs its head and at least one PFN. */
    if (range_count == 0 || length % 8 != 0 || length < (uint32_t)range_count * 16) {
        *why = "GPADL range count and buffer length do not agree";
        return VMBUS_GPADL_FAILED;
    }
    if (table->pages_total + length / 8u > VMBUS_GPADL_MAX_PAGES_TOTAL) {
        *why = "GPADLs of this child exceed the page bound";
        return VMBUS_GPADL_FAILED;
    }
    struct vmbus_gpadl *g = NULL;
    for (uint32_t i = 0; i < VMBUS_GPADL_MAX && !g; i++)
        if (!table->entries[i].used)
            g = &table->entries[i];
    if (!g) {
        *why = "too many GPADLs";
        return VMBUS_GPADL_FAILED;
    }
    uint64_t *buffer = malloc(length);
    if (!buffer) {
        *why = "out of memory for the GPADL";
        return VMBUS_GPADL_FAILED;
    }
    *g = (struct vmbus_gpadl){
        .used = true,
        .handle = handle,
        .child_relid = relid,
        .range_count = range_count,
        .length = length,
        .buffer = buffer,
    };
    table->pages_total += length / 8u;
    return append(table, g, data, data_size, why);
}

enum vmbus_gpadl_progress vmbus_gpadl_continue(struct vmbus_gpadl_table *table, uint32_t handle,
                                               const uint8_t *data, uint32_t data_size,
                                               const char **why)
{
    struct vmbus_gpadl *g = vmbus_gpadl_find(table, handle);
    if (!g || g->complete) {
        *why = "GPADL_BODY for no GPADL in progress";
        return VMBUS_GPADL_IGNORED;
    }
    return append(table, g, data, data_size, why);
}

bool vmbus_gpadl_range(const struct vmbus_gpadl *gpadl, uint32_t index, uint32_t *byte_count,
                       uint32_t *byte_offset, const uint64_t **pfns, uint32_t *pfn_count)
{
    if (!gpadl->complete || index >= gpadl->range_count)
        return false;
    uint32_t at = 0;
    for (uint32_t r = 0; r < index; r++)
        at += RANGE_HEAD_ENTRIES + range_pages(gpadl->buffer[at]);
    uint64_t head = gpadl->buffer[at];
    *byte_count = (uint32_t)head;
    *byte_offset = (uint32_t)(head >> 32);
    *pfns = gpadl->buffer + at + RANGE_HEAD_ENTRIES;
    *pfn_count = range_pages(head);
    return true;
}

bool vmbus_gpadl_pages(const struct vmbus_gpadl *gpadl, const uint64_t **pfns,
                       uint32_t *page_count)
{
    uint32_t bytes, offset;
    if (gpadl->range_count != 1 || !vmbus_gpadl_range(gpadl, 0, &bytes, &offset, pfns,
                                                      page_count))
        return false;
    return offset == 0 && bytes % VMBUS_PAGE_SIZE == 0;
}
