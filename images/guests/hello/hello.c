/*
 * hello: the smallest child partition. It proves the start convention and the emulated
 * COM1: it prints a greeting and what it was started with, then exits with 0.
 */
#include "images/guests/lib/guest.h"

const char guest_name[] = "hello";

static const char *loader_name(enum guest_loader loader)
{
    switch (loader) {
    case GUEST_LOADER_HVFW:
        return "hvfw";
    case GUEST_LOADER_MULTIBOOT:
        return "multiboot";
    case GUEST_LOADER_UNKNOWN:
        break;
    }
    return "unknown";
}

int guest_main(const struct guest_boot *boot)
{
    guest_printf("hello from a child partition");
    guest_printf("started by %s (EAX=0x%08x EBX=0x%08x) on VP %u", loader_name(boot->loader),
                 boot->entry_eax, boot->entry_ebx, boot->vp_index);
    guest_printf("RAM %llu MiB (%s); image [0x%x-0x%x)",
                 (unsigned long long)(boot->ram_bytes >> 20), boot->ram_source,
                 boot->image_start, boot->image_end);
    guest_printf("command line \"%s\"", boot->cmdline);
    guest_printf("PASS");
    return GUEST_EXIT_PASS;
}
