"""The small test guests of child partitions (images/guests/, README.md there): 32-bit
freestanding multiboot v1 kernels, one per folder, each linked with the runtime in
images/guests/lib/ into build/guests/<name>.elf. Ninja target `guests`.

The runtime reuses two generic, host-tested modules of the hypervisor compiled for i386:
kernel/format.c (the formatter) and kernel/cmdline.c (the command line syntax). There is
no 32-bit libgcc or libc here: lib/divide.c and lib/string.c provide what GCC calls.
"""
import glob
import os

GUESTS_DIR = "images/guests"
LIB_DIR = GUESTS_DIR + "/lib"
SHARED_SOURCES = ["kernel/format.c", "kernel/cmdline.c"]
LINKER_SCRIPT = LIB_DIR + "/guest.ld"


def guest_names():
    """Every folder of images/guests/ but lib/ that holds a source file."""
    names = []
    for d in sorted(glob.glob(os.path.join(GUESTS_DIR, "*", ""))):
        name = os.path.basename(os.path.dirname(d))
        if name != "lib" and sources_in(os.path.join(GUESTS_DIR, name)):
            names.append(name)
    return names


def sources_in(folder):
    return sorted(glob.glob(os.path.join(folder, "*.c")) + glob.glob(os.path.join(folder, "*.S")))


def emit(n, ctx):
    """Writes the rules and builds; returns the outputs the default target should build."""
    build = ctx["build"]
    # The child starts in 32-bit protected mode with paging off (issue 3), so: i386 code,
    # no FPU/SSE state assumed (-mgeneral-regs-only), absolute addresses (-fno-pic), no
    # libc (-ffreestanding, -nostdinc with GCC's own headers and lib/include for the few
    # string functions), and no loop turned into a call to memset/memcpy inside the
    # memset/memcpy of lib/string.c.
    cflags = ["-m32", "-ffreestanding", "-fno-pic", "-fno-pie", "-fno-stack-protector",
              "-mgeneral-regs-only", "-fno-asynchronous-unwind-tables", "-fno-common",
              "-fno-tree-loop-distribute-patterns", "-O2", "-g", "-std=gnu11", "-I.",
              "-nostdinc", "-isystem", ctx["gcc_include"], "-isystem", LIB_DIR + "/include"]
    n.variable("guest_cflags", " ".join(cflags + ctx["warnings"]))
    n.rule("guest_link", "ld -m elf_i386 -nostdlib -static -z max-page-size=0x1000 "
           "-z noexecstack --no-warn-rwx-segments -T $script -o $out $in -Map $out.map",
           description="LD $out")

    def compile_all(sources):
        objs = []
        for src in sources:
            o = os.path.join(build, "guests", "obj", os.path.splitext(src)[0] + ".o")
            rule = "as" if src.endswith(".S") else "cc"
            n.build(o, rule, src, variables={"cflags": "$guest_cflags"})
            objs.append(o)
        return objs

    lib_objs = compile_all(sources_in(LIB_DIR) + SHARED_SOURCES)
    elves = []
    for name in guest_names():
        objs = compile_all(sources_in(os.path.join(GUESTS_DIR, name)))
        elf = os.path.join(build, "guests", name + ".elf")
        n.build(elf, "guest_link", objs + lib_objs, implicit=[LINKER_SCRIPT],
                variables={"script": LINKER_SCRIPT})
        elves.append(elf)

    # Every guest header compiles on its own, as the firmware's do.
    headers = sorted(glob.glob(os.path.join(GUESTS_DIR, "**", "*.h"), recursive=True))
    stamps = []
    for h in headers:
        stamp = os.path.join(build, "hdrcheck", h + ".ok")
        n.build(stamp, "hdrcheck", h, variables={"cflags": "$guest_cflags"})
        stamps.append(stamp)
    n.build("guests", "phony", elves + stamps)
    n.newline()
    return elves + stamps
