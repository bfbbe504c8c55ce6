/*
 * Children declared on the firmware command line (docs/boot.md, "Settings"):
 *
 *   child=NAME:MODULE:MEM_MIB:VPS      (repeatable, one per child)
 *
 * NAME    1..31 characters of [a-z0-9_-], unique among the declared children
 * MODULE  the file name of a boot module (QEMU `-initrd "path/hello.elf,..."` -> hello.elf)
 * MEM_MIB RAM in MiB, 1..3072 (the child's RAM must end below the PCI hole at 3 GiB)
 * VPS     virtual processors, 1..64 and at most 4 per physical CPU
 *
 * A bad declaration is reported and skipped; the others start. Pure and host-testable.
 */
#ifndef HVFW_ROOT_CHILD_CONFIG_H
#define HVFW_ROOT_CHILD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHILD_NAME_MAX 31
#define CHILD_MODULE_NAME_MAX 63
#define CHILD_MEMORY_MIB_MAX 3072u
#define CHILD_VPS_MAX 64u
#define CHILD_VPS_PER_CPU 4u
#define CHILD_WHY_MAX 128

struct child_config {
    char name[CHILD_NAME_MAX + 1];
    char module[CHILD_MODULE_NAME_MAX + 1];
    uint32_t memory_mib;
    uint32_t vp_count;
};

/*
 * Parses one `child=` value (what follows the '='). `cpu_count` bounds VPS. `taken` are
 * the children accepted so far (for the uniqueness of NAME), `modules` the names of the
 * boot modules. Returns false with the reason in `why` (CHILD_WHY_MAX bytes).
 */
bool child_config_parse(const char *value, uint32_t cpu_count, const struct child_config *taken,
                        size_t taken_count, const char *const *modules, size_t module_count,
                        struct child_config *out, char *why);

#endif
