/*
 * The runtime of the hvfw test guests: how a guest was started, its command line, its
 * console and how it ends. Each guest provides guest_name and guest_main; start.S and
 * guest.c do the rest. The entry conventions are the platform contract of
 * images/guests/README.md.
 *
 * Formatting goes through kernel/format.c, which reads %l and %z arguments as 64-bit:
 * in this 32-bit code print uint32_t with %u / %x and uint64_t with %llu / %llx only.
 */
#ifndef HVFW_GUESTS_GUEST_H
#define HVFW_GUESTS_GUEST_H

/* EAX at entry under hvfw: 'hvfw' in ASCII. EBX then holds the RAM size in bytes and ECX
 * the VP index. Under a multiboot loader EAX is 0x2BADB002 and EBX the info address. */
#define GUEST_HVFW_MAGIC 0x68766677

#define GUEST_MAX_VPS 8
#define GUEST_STACK_SIZE 16384

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_CMDLINE_MAX 256
/* RAM size assumed when neither hvfw nor the multiboot loader nor `mem_mib=` tells. */
#define GUEST_DEFAULT_RAM_BYTES (16u << 20)

/* Exit codes of guest_exit (the value written to the test exit port 0xF4). */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_FAIL 1

enum guest_loader {
    GUEST_LOADER_HVFW,      /* started by the hvfw root as a child partition */
    GUEST_LOADER_MULTIBOOT, /* QEMU -kernel or another multiboot v1 loader */
    GUEST_LOADER_UNKNOWN,   /* EAX held neither magic: nothing else is trusted */
};

struct guest_boot {
    enum guest_loader loader;
    uint32_t entry_eax, entry_ebx; /* as found at entry, for the record */
    uint32_t vp_index;
    uint64_t ram_bytes;             /* RAM from GPA 0 */
    const char *ram_source;         /* where ram_bytes came from, for the log */
    char cmdline[GUEST_CMDLINE_MAX]; /* "" when there is none */
    uint32_t image_start, image_end; /* the guest's own physical footprint */
};

/* Provided by each guest. */
extern const char guest_name[];
/* Runs on VP 0 with interrupts off and the runtime's GDT and IDT loaded; its return value
 * is passed to guest_exit. */
int guest_main(const struct guest_boot *boot);
/* Runs on every other VP (vp_index 1 .. GUEST_MAX_VPS - 1) once VP 0 has read the boot
 * information; the runtime's default parks the VP. */
void guest_secondary_main(const struct guest_boot *boot, uint32_t vp_index);

/* One line (a '\n' is added) through COM1 as "<guest_name>: <text>", whole even when
 * several VPs print at once. */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of `key=` on the command line parsed as a decimal or 0x-hex number of at most
 * 64 bits; `fallback` when absent. A malformed value is reported and gives `fallback`. */
uint64_t guest_cmdline_number(const struct guest_boot *boot, const char *key,
                              uint64_t fallback);
/* True when `key=value` is present; copies the value (truncated to size). */
bool guest_cmdline_get(const struct guest_boot *boot, const char *key, char *value,
                       size_t size);

/* Ends the guest: writes `code` to the test exit port 0xF4 (isa-debug-exit under QEMU; the
 * root worker reports it as exit_code=), then requests S5 through the PM1a control block
 * at 0x604, then parks with interrupts off in case neither stopped it. */
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* Entry from start.S on every VP once .bss is clear. */
__attribute__((noreturn)) void guest_runtime_start(uint32_t eax, uint32_t ebx, uint32_t vp);

/* Nonzero until VP 0 has read the boot information; the other VPs wait in start.S. */
extern volatile uint32_t guest_vps_held;

#endif /* !__ASSEMBLY__ */
#endif
