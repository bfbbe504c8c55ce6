/*
 * The kernel page tables (4-level paging: AMD APM vol. 2, 5.3; Intel SDM vol. 3, 4.5),
 * which replace the boot tables of kernel/boot.S. Virtual = physical for everything mapped:
 *   - RAM (usable, ACPI reclaimable, ACPI NVS): read/write, no-execute, in 1 GiB or 2 MiB
 *     pages where aligned;
 *   - reserved regions below 4 GiB (firmware: QEMU's ACPI tables live there): read-only,
 *     no-execute; so are firmware ranges the memory map leaves out (iPXE lists RAM only),
 *     mapped on demand by paging_map_firmware;
 *   - the low 1 MiB read/write, no-execute, except page 0, which stays unmapped so null
 *     pointers fault (its BIOS data area is readable through paging_physical_pointer);
 *   - the image: .text read+execute, .rodata read-only, .data/.bss read/write, no-execute;
 *   - the xAPIC (0xFEE00000) and IOAPIC (0xFEC00000) pages and paging_map_mmio ranges:
 *     read/write, no-execute, uncached.
 * No page is both writable and executable (W^X); paging_init checks that before it returns.
 * Changes after paging_init flush the calling CPU's TLB only: make them before other CPUs
 * use the range (new mappings need no flush elsewhere).
 */
#ifndef HVFW_KERNEL_PAGING_H
#define HVFW_KERNEL_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Builds the tables from boot_info, loads them on this CPU, verifies W^X. After
 * page_alloc_init. */
void paging_init(void);

/* The kernel PML4's physical address, below 4 GiB so a 32-bit AP trampoline can load it. */
uint64_t paging_kernel_cr3(void);

/* Maps [pa, pa+size) identity, read/write, no-execute, uncached (PCD|PWT with the reset
 * PAT: UC). Before paging_init the range is remembered and mapped by it. False (logged) for
 * an empty, wrapping or beyond-physical-address range, or too many early requests. */
bool paging_map_mmio(uint64_t pa, uint64_t size);

/* Maps the unmapped pages of [pa, pa+size) identity, read-only, no-execute, write-back:
 * firmware tables (ACPI) that the memory map does not list. Pages already mapped keep their
 * rights. False (logged) before paging_init, or for an empty or wrapping range, one that
 * touches page 0 (which stays unmapped) or one that does not lie below 4 GiB. */
bool paging_map_firmware(uint64_t pa, uint64_t size);

/* Makes the mapped pages of [pa, pa+size) executable and read-only (W^X), or back to
 * read/write no-execute. Refused (logged, false) for the image and for unmapped pages. */
bool paging_set_executable(uint64_t pa, uint64_t size, bool executable);

/* Whether every byte of [va, va+size) is mapped in the current page tables (works with the
 * boot tables too). */
bool paging_is_mapped(uint64_t va, uint64_t size);

/* A pointer through which [pa, pa+len) can be read: the identity address when mapped, an
 * alias for page 0 (BIOS data area, e.g. the EBDA segment at 0x40E), else NULL. Fits the
 * `phys` accessors of kernel/bootinfo.h and kernel/acpi.h. */
const void *paging_physical_pointer(uint64_t pa, size_t len);

/* Every mapping, merged into runs of equal attributes, at log level debug. */
void paging_dump(void);

#endif
