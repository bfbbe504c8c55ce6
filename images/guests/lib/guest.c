#include "images/guests/lib/guest.h"

#include <stdarg.h>
#include <string.h>

#include "images/guests/lib/io.h"
#include "images/guests/lib/serial.h"
#include "images/guests/lib/trap.h"
#include "kernel/cmdline.h"
#include "kernel/format.h"
#include "kernel/multiboot.h"

#define TEST_EXIT_PORT 0xF4
/* ACPI 6.5, 4.8.3.2.1 "PM1 Control Registers": SLP_TYP in bits 10-12 (0 = S5 on QEMU's
 * chipsets), SLP_EN bit 13. PM1a_CNT_BLK is at 0x604 on QEMU q35 (PMBASE 0x600 + 4). */
#define PM1A_CONTROL_PORT 0x604
#define PM1_SLP_EN (1u << 13)

#define LINE_MAX 256
/* Spins before printing without the lock: a VP that faulted while printing must still be
 * able to report it. */
#define PRINT_LOCK_SPINS 10000000u

extern char __guest_image_start[], __guest_image_end[];

volatile uint32_t guest_vps_held = 1;
static volatile uint32_t print_lock;
static struct guest_boot boot;

void guest_printf(const char *fmt, ...)
{
    char line[LINE_MAX];
    int prefix = format_snprintf(line, sizeof(line), "%s: ", guest_name);
    va_list ap;
    va_start(ap, fmt);
    format_vsnprintf(line + prefix, sizeof(line) - (size_t)prefix - 1, fmt, ap);
    va_end(ap);
    size_t length = strlen(line);
    line[length++] = '\n';

    bool locked = false;
    for (uint32_t spins = 0; spins < PRINT_LOCK_SPINS; spins++) {
        if (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE) == 0) {
            locked = true;
            break;
        }
        cpu_relax();
    }
    serial_write(line, length);
    if (locked)
        __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

void guest_exit(uint32_t code)
{
    outl(TEST_EXIT_PORT, code);
    outw(PM1A_CONTROL_PORT, PM1_SLP_EN);
    cpu_park();
}

bool guest_cmdline_get(const struct guest_boot *b, const char *key, char *value, size_t size)
{
    return cmdline_get(b->cmdline, key, value, size);
}

static bool parse_number(const char *text, uint64_t *out)
{
    unsigned base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (!*text)
        return false;
    uint64_t value = 0;
    for (; *text; text++) {
        unsigned digit;
        if (*text >= '0' && *text <= '9')
            digit = (unsigned)(*text - '0');
        else if (base == 16 && *text >= 'a' && *text <= 'f')
            digit = (unsigned)(*text - 'a' + 10);
        else if (base == 16 && *text >= 'A' && *text <= 'F')
            digit = (unsigned)(*text - 'A' + 10);
        else
            return false;
        if (value > (UINT64_MAX - digit) / base)
            return false; /* overflow */
        value = value * base + digit;
    }
    *out = value;
    return true;
}

uint64_t guest_cmdline_number(const struct guest_boot *b, const char *key, uint64_t fallback)
{
    char text[32];
    if (!guest_cmdline_get(b, key, text, sizeof(text)))
        return fallback;
    uint64_t value;
    if (!parse_number(text, &value)) {
        guest_printf("command line: %s=%s is not a number; using %llu", key, text,
                     (unsigned long long)fallback);
        return fallback;
    }
    return value;
}

/* The multiboot info lies in RAM the loader chose; we copy what we need before the guest
 * may overwrite it (memtest does), and read only what lies below 4 GiB and is terminated. */
static void boot_read_multiboot(struct guest_boot *b, uint32_t info_address)
{
    if (info_address == 0 || info_address > UINT32_MAX - sizeof(struct mb1_info)) {
        guest_printf("multiboot info address 0x%x is not usable; using defaults",
                     info_address);
        return;
    }
    const struct mb1_info *info = (const struct mb1_info *)(uintptr_t)info_address;
    if ((info->flags & MB1_INFO_CMDLINE) && info->cmdline) {
        const char *source = (const char *)(uintptr_t)info->cmdline;
        size_t i = 0;
        while (i + 1 < sizeof(b->cmdline) && source[i])
            i++;
        if (source[i])
            guest_printf("command line longer than %u characters; truncated",
                         (unsigned)sizeof(b->cmdline) - 1);
        memcpy(b->cmdline, source, i);
        b->cmdline[i] = '\0';
    }
    if (info->flags & MB1_INFO_MEM) {
        /* mem_upper: KiB of contiguous RAM from 1 MiB (Multiboot spec 3.3). */
        b->ram_bytes = (1ull << 20) + (uint64_t)info->mem_upper * 1024;
        b->ram_source = "multiboot mem_upper";
    }
}

static void boot_read(uint32_t eax, uint32_t ebx)
{
    boot.entry_eax = eax;
    boot.entry_ebx = ebx;
    boot.image_start = (uint32_t)(uintptr_t)__guest_image_start;
    boot.image_end = (uint32_t)(uintptr_t)__guest_image_end;
    boot.ram_bytes = GUEST_DEFAULT_RAM_BYTES;
    boot.ram_source = "default";
    if (eax == GUEST_HVFW_MAGIC) {
        boot.loader = GUEST_LOADER_HVFW;
        boot.ram_bytes = ebx;
        boot.ram_source = "hvfw EBX";
    } else if (eax == MULTIBOOT1_LOADER_MAGIC) {
        boot.loader = GUEST_LOADER_MULTIBOOT;
        boot_read_multiboot(&boot, ebx);
    } else {
        boot.loader = GUEST_LOADER_UNKNOWN;
        guest_printf("unknown entry EAX=0x%08x EBX=0x%08x; using defaults", eax, ebx);
    }
    uint64_t mem_mib = guest_cmdline_number(&boot, "mem_mib", 0);
    if (mem_mib) {
        if (mem_mib > 4096) {
            guest_printf("mem_mib=%llu is above 4 GiB, the reach of 32-bit code; ignored",
                         (unsigned long long)mem_mib);
        } else {
            boot.ram_bytes = mem_mib << 20;
            boot.ram_source = "command line mem_mib";
        }
    }
}

__attribute__((weak)) void guest_secondary_main(const struct guest_boot *b, uint32_t vp_index)
{
    (void)b;
    (void)vp_index;
    cpu_park();
}

void guest_runtime_start(uint32_t eax, uint32_t ebx, uint32_t vp)
{
    trap_install();
    if (vp != 0) {
        guest_secondary_main(&boot, vp);
        cpu_park();
    }
    boot_read(eax, ebx);
    boot.vp_index = 0;
    __atomic_store_n(&guest_vps_held, 0, __ATOMIC_RELEASE);
    guest_exit((uint32_t)guest_main(&boot));
}
