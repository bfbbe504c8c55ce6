/*
 * Children declared on the firmware command line (docs/boot.md, "Settings"):
 *
 *   child=NAME:MODULE:MEM_MIB:VPS      (repeatable, one per child)
 *   initrd.NAME=MODULE                 the initrd of a bzImage child (a boot module)
 *   cmdline.NAME="..."                 the kernel command line of a bzImage child
 *   scsi.NAME=VOLUME                   a volume of the appliance disk (root/disk.h) as the
 *                                      child's SCSI disk (storvsp, root/vmbus_server.c);
 *                                      whether it exists and is free is the VMMS's check
 *   test.console_input.NAME="..."      tests: typed on the child's COM1, a line at each
 *                                      shell its init starts ("\n" is Enter; worker.h)
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

#include "root/disk.h"

#define CHILD_NAME_MAX 31
#define CHILD_MODULE_NAME_MAX 63
#define CHILD_MEMORY_MIB_MAX 3072u
#define CHILD_VPS_MAX 64u
#define CHILD_VPS_PER_CPU 4u
#define CHILD_WHY_MAX 128
/* A kernel command line as the firmware command line can carry it (CMDLINE_VALUE_MAX). */
#define CHILD_CMDLINE_MAX 511
#define CHILD_CONSOLE_INPUT_MAX 511

struct child_config {
    char name[CHILD_NAME_MAX + 1];
    char module[CHILD_MODULE_NAME_MAX + 1];
    uint32_t memory_mib;
    uint32_t vp_count;
    char initrd[CHILD_MODULE_NAME_MAX + 1];  /* "" = none */
    char cmdline[CHILD_CMDLINE_MAX + 1];      /* "" = empty */
    char console_input[CHILD_CONSOLE_INPUT_MAX + 1]; /* test input, "\n" already Enter */
    char scsi_volume[DISK_NAME_MAX]; /* the disk volume storvsp serves it, "" = none */
};

/* Kinds of per-child settings: the key's prefix before NAME. */
enum child_setting {
    CHILD_SETTING_NONE,    /* not a per-child key */
    CHILD_SETTING_INITRD,  /* initrd.NAME */
    CHILD_SETTING_CMDLINE, /* cmdline.NAME */
    CHILD_SETTING_CONSOLE_INPUT, /* test.console_input.NAME */
    CHILD_SETTING_SCSI,    /* scsi.NAME */
};

/*
 * Parses one `child=` value (what follows the '='). `cpu_count` bounds VPS. `taken` are
 * the children accepted so far (for the uniqueness of NAME), `modules` the names of the
 * boot modules. Returns false with the reason in `why` (CHILD_WHY_MAX bytes).
 */
bool child_config_parse(const char *value, uint32_t cpu_count, const struct child_config *taken,
                        size_t taken_count, const char *const *modules, size_t module_count,
                        struct child_config *out, char *why);

/* Which per-child setting `key` is, with the child's NAME in *name (inside key). */
enum child_setting child_config_setting(const char *key, const char **name);

/*
 * Applies one per-child setting (`key`=`value`, a kind child_config_setting recognised) to
 * the declared child it names among `children`. initrd.NAME must name a boot module;
 * cmdline.NAME and test.console_input.NAME must be printable ASCII that fits; scsi.NAME a
 * well-formed volume name (disk_name_valid's rules: [a-z0-9_-], 1..DISK_NAME_MAX-1). A later
 * setting for the same child replaces an earlier one. Returns false with the reason in
 * `why` (CHILD_WHY_MAX bytes) and changes nothing.
 */
bool child_config_apply(const char *key, const char *value, struct child_config *children,
                        size_t count, const char *const *modules, size_t module_count,
                        char *why);

#endif
