"""Child partitions (issue 3): the root's partition manager starts the children declared with
`child=NAME:MODULE:MEM_MIB:VPS` from boot modules (build/guests/*.elf), its worker emulates
their COM1, exit port, power off and test device, and `exit_when_idle` ends the run once all
have stopped: HvCallHvfwShutdown powers off (QEMU status 0) when every child powered off with
exit code 0, else writes code 1 to isa-debug-exit (QEMU status 3).

These runs must NOT carry `test.exit` (it ends QEMU at the ready line, before any child
runs), and the runner adds it to every -kernel case; so each case attaches the image itself
through the `boot` key (tests/qemu/run), with its own command line and -initrd.

The burner guest runs forever (burner_lines defaults to 0 and a child has no command line):
its case ends through the root's heartbeat (`test.heartbeats`), not exit_when_idle.
"""
import os
import struct

from cases import CLEAN_REJECT, ready_line

GUESTS = os.path.join("build", "guests")
TIMEOUT = 120

# A clean children run: nothing the clean boots reject, no child stopped for an error, no
# worker error.
CHILD_REJECT = CLEAN_REJECT + [
    r"reason=error",
    r"^\[root/vp\d+\] (error|FATAL): ",
    r"^root: child .*; not started$",
]


def need(path):
    if not os.path.exists(path):
        raise ValueError("%s does not exist; build it with ninja (target guests)" % path)
    return path


def le32(value):
    return struct.pack("<I", value)


def outsb_guest():
    """A hand-assembled 32-bit ELF child that prints through string I/O, which none of the
    images/guests uses: a REP OUTSB of 4500 bytes (45 lines of 99 'x', more than the worker's
    4096 bytes per intercept, so the rest is re-executed), 12 single OUTSB, a REP OUTSB with
    EFLAGS.DF set (the bytes are stored reversed), then an IN from COM2 (no device: must read
    0xFF) whose value XOR 0xFF is its exit code, and power off."""
    base, code_at, data_at = 0x100000, 0x80, 0x200
    lines = b"".join(b"x" * 99 + b"\n" for _ in range(45))
    forward = b"outsb: PASS\n"
    backward = b"outsb backward: PASS\n"[::-1]
    forward_at = data_at + len(lines)
    backward_at = forward_at + len(forward)
    code = b"".join([
        b"\xfc",                                         # cld
        b"\xbe" + le32(base + data_at),                  # mov esi, lines
        b"\xb9" + le32(len(lines)),                      # mov ecx, 4500
        b"\x66\xba\xf8\x03",                             # mov dx, 0x3f8
        b"\xf3\x6e",                                     # rep outsb
        b"\xbe" + le32(base + forward_at),               # mov esi, forward
        b"\x6e" * len(forward),                          # outsb, one byte each
        b"\xfd",                                         # std
        b"\xbe" + le32(base + backward_at + len(backward) - 1),
        b"\xb9" + le32(len(backward)),
        b"\xf3\x6e",                                     # rep outsb, downwards
        b"\xfc",                                         # cld
        b"\x66\xba\xf8\x02",                             # mov dx, 0x2f8
        b"\x31\xc0",                                     # xor eax, eax
        b"\xec",                                         # in al, dx
        b"\x34\xff",                                     # xor al, 0xff
        b"\xe7\xf4",                                     # out 0xf4, eax
        b"\x66\xba\x04\x06",                             # mov dx, 0x604
        b"\x66\xb8\x00\x20",                             # mov ax, 0x2000 (SLP_EN, S5)
        b"\x66\xef",                                     # out dx, ax
        b"\xfa\xf4",                                     # cli; hlt
    ])
    assert code_at + len(code) <= data_at
    data = lines + forward + backward
    size = data_at + len(data)
    header = (b"\x7fELF\x01\x01\x01" + bytes(9) +
              struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + code_at, 52, 0, 0, 52, 32, 1,
                          0, 0, 0) +
              struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 7, 0x1000))
    image = bytearray(size)
    image[:len(header)] = header
    image[code_at:code_at + len(code)] = code
    image[data_at:] = data
    return bytes(image)


# Modules made by the case itself rather than built by ninja.
GENERATED = {
    "garbage": lambda: b"MZ this is not an ELF file" + bytes(100),
    "outsb": outsb_guest,
}


def generated_module(out, name):
    directory = os.path.join(out, "modules")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + ".elf")
    with open(path, "wb") as f:
        f.write(GENERATED[name]())
    return path


def boot_children(append, modules):
    """QEMU arguments: the runner's snapshot of the image, `append` as the whole command line,
    and `modules` (guest names, built or GENERATED) as -initrd."""
    def boot(case, out):
        paths = [generated_module(out, m) if m in GENERATED
                 else need(os.path.join(GUESTS, m + ".elf")) for m in modules]
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
                "-initrd", ",".join(paths)]
    return boot


def stopped(name, reason="poweroff", exit_code=0):
    line = r"^hvfw: child %s stopped reason=%s" % (name, reason)
    return line + (r" exit_code=%d$" % exit_code if exit_code is not None else r"$")


def children_case(name, smp, append, modules, expect, exit_status=0, reject=None, alone=False):
    return {
        "alone": alone,
        "name": name,
        "smp": smp,
        "boot": boot_children(append, modules),
        "exit_status": exit_status,
        "expect": expect,
        "reject": CHILD_REJECT if reject is None else reject,
        "ready": ready_line(smp),
        "timeout": TIMEOUT,
    }


EIGHT = ["c%d" % i for i in range(1, 9)]

CASES = [
    children_case(
        "child-hello", 2, "exit_when_idle child=a:hello.elf:16:1", ["hello"],
        [r"^root: child a: partition \d+, 16 MiB, 1 VPs, entry 0x[0-9a-f]+$",
         r"^\[a\] hello: hello from a child partition",
         r"^\[a\] hello: PASS$",
         stopped("a"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$"]),

    # Eight at once on four CPUs: every line arrives whole, with its own child's prefix.
    children_case(
        "child-8-hellos", 4,
        "exit_when_idle " + " ".join("child=%s:hello.elf:4:1" % c for c in EIGHT), ["hello"],
        [r"^\[%s\] hello: PASS$" % c for c in EIGHT] + [stopped(c) for c in EIGHT],
        reject=CHILD_REJECT + [
            r"^\[c\d\] (?!hello: )",  # a prefixed line that is not one whole hello line
            r"^\[c\d\] .*\[c\d\]",    # two children's text in one line
        ]),

    children_case(
        "child-memtest", 2, "exit_when_idle child=m:memtest.elf:16:1", ["memtest"],
        [r"^\[m\] memtest: PASS tested \d+ MiB", stopped("m")]),

    children_case(
        "child-mmiotest", 2, "exit_when_idle child=t:mmiotest.elf:16:1", ["mmiotest"],
        [r"^\[t\] mmiotest: PASS 108 cases$", stopped("t")]),

    # The hostile child survives every attempt, its triple fault stops only itself (with a
    # report), and a hello next to it finishes. One child did not power off: code 1.
    children_case(
        "child-hostile", 2,
        "exit_when_idle child=h:hostile.elf:16:1 child=a:hello.elf:4:1", ["hostile", "hello"],
        # every attempt before the triple fault, the keyboard controller reset [14] too
        [r"^\[h\] hostile: \[%d\] survived: " % n for n in range(1, 39)] +
        # VMMCALL before the guest OS identity is reported: no hypercall, #UD (TLFS 3.13);
        # garbage control words: HV_STATUS_INVALID_HYPERCALL_INPUT; root-only calls from a
        # child: HV_STATUS_ACCESS_DENIED (before any of their arguments is looked at); a
        # misplaced input list: HV_STATUS_INVALID_ALIGNMENT
        [r"^\[h\] hostile: \[20\] survived: caught #UD ",
         r"^\[h\] hostile: \[21\] survived: write done$",
         r"^\[h\] hostile: \[22\] survived: write done$",
         r"^\[h\] hostile: \[23\] survived: status=0x0003 "] +
        [r"^\[h\] hostile: \[%d\] survived: status=0x0006 " % n for n in (24, 25, 26, 27)] +
        [r"^\[h\] hostile: \[28\] survived: status=0x0004 "] +
        [r"^\[h\] hostile: \[39\] triple-fault",
         # outside RAM: no device, all ones (logged once per page); the IOAPIC answers
         r"^\[root/vp0\] info: child h VP 0: GPA 0x40000000 \(rip 0x[0-9a-f]+\): no device "
         r"in page 0x40000000 \(reads all ones, writes dropped\)$",
         r"^\[h\] hostile: \[2\] survived: read 0xffffffff$",
         r"^\[h\] hostile: \[7\] survived: read 0x00170011$",
         stopped("h", "triple-fault", None),
         r"^\[a\] hello: PASS$", stopped("a"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 1\)$"],
        exit_status=3,
        reject=CLEAN_REJECT + [r"^\[h\] hostile: FAIL", r"reason=error"]),

    # The Hyper-V enlightenments the hypervisor gives a child (hv/hyperv.c): the CPUID
    # leaves, GUEST_OS_ID and the hypercall page (a call through it), VP_INDEX on both VPs,
    # TIME_REF_COUNT against RDTSC, the read-only MSRs and #UD for VMMCALL without a guest
    # OS identity; the guest checks each and prints PASS.
    children_case(
        "child-hvcpuid", 2, "exit_when_idle child=v:hvcpuid.elf:16:2", ["hvcpuid"],
        [r"^\[v\] hvcpuid: leaf 0x40000000: max 0x4000000a vendor \"Microsoft Hv\"$",
         r"^\[v\] hvcpuid: leaf 0x40000003: features eax=0x00000a6e ebx=0x00000030 "
         r"edx=0x00080100$",
         r"^\[v\] hvcpuid: vmmcall before GUEST_OS_ID: #UD$",
         r"^\[v\] hvcpuid: HYPERCALL 0x[0-9a-f]+001: page 0f 01 d9 c3$",
         r"^\[v\] hvcpuid: HvCallGetPartitionId through the page: status 0x0000, "
         r"partition id \d+$",
         r"^\[v\] hvcpuid: VP_INDEX: 0 on VP 0, 1 on VP 1$",
         r"^\[v\] hvcpuid: TIME_REF_COUNT \d+ -> \d+: \d+ units over \d+ units of RDTSC$",
         r"^\[v\] hvcpuid: PASS$", stopped("v")],
        reject=CHILD_REJECT + [r"^\[v\] hvcpuid: FAIL"]),

    # Four CPU burners on four CPUs (each also sharing a CPU with a root VP): the root's
    # heartbeat (a 100 ms synthetic timer) must still be taken within its bound every time;
    # after 20 beats the root ends the run (power off when all were on time). It runs alone:
    # the guest's CPUs are host threads, and another QEMU beside it delays them by itself.
    children_case(
        "child-burners-heartbeat", 4,
        "root.heartbeat_ms=100 test.heartbeats=20 " +
        " ".join("child=b%d:burner.elf:8:1" % i for i in range(4)), ["burner"],
        [r"^\[b%d\] burner: burning on VP 0" % i for i in range(4)] +
        [r"^root: heartbeat every 100 ms \(bound 60000 us\)$",
         r"^root: heartbeat 20 late_us=\d+$",
         r"^root: heartbeat: 20 beats, latest \d+ us after its time, 0 over the 60000 us "
         r"bound: on time$",
         r"^hvfw: shutdown requested by the root \(code 0\)$"],
        alone=True),

    # Bad declarations are reported and skipped; a module that is no ELF file does not
    # start (and makes the run's code 1); the good child runs.
    children_case(
        "child-bad-declarations", 2,
        'exit_when_idle child=x:missing.elf:16:1 child="bad name:hello.elf:16:1" '
        "child=b:hello.elf:0:1 child=v:hello.elf:4:99 child=ok:hello.elf:4:1 "
        "child=ok:hello.elf:4:1 child=g:garbage.elf:4:1 child=huge:hello.elf:3072:1",
        ["hello", "garbage"],
        [r"^root: child=x:missing\.elf:16:1: no boot module is named missing\.elf; skipped$",
         r"^root: child=bad name:hello\.elf:16:1: the name may hold only a-z, 0-9, '_' and "
         r"'-'; skipped$",
         r"^root: child=b:hello\.elf:0:1: MEM_MIB must be a number from 1 to 3072; skipped$",
         r"^root: child=v:hello\.elf:4:99: VPS must be a number from 1 to 8 \(2 CPUs\); "
         r"skipped$",
         r"^root: child=ok:hello\.elf:4:1: a child named ok is already declared; skipped$",
         r"^root: child g: module garbage\.elf: not an ELF file \(no \\177ELF magic\); "
         r"not started$",
         r"^root: child huge: no root memory for 3072 MiB \(\d+ MiB free\); not started$",
         r"^\[ok\] hello: PASS$", stopped("ok"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 1\)$"],
        exit_status=3,
        reject=CLEAN_REJECT + [r"reason=error", r"^\[root/vp\d+\] (error|FATAL): "]),

    children_case(
        "child-outsb", 2, "exit_when_idle child=s:outsb.elf:4:1", ["outsb"],
        [r"(?:^\[s\] x{99}\n){45}\[s\] outsb: PASS\n\[s\] outsb backward: PASS$",
         stopped("s")]),

    # A recovery boot starts no child (docs/boot.md); with exit_when_idle it ends at once.
    children_case(
        "child-recovery", 2, "exit_when_idle recovery child=a:hello.elf:4:1", ["hello"],
        [r"^root: recovery: 1 declared children not started$",
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$"],
        reject=CHILD_REJECT + [r"^\[a\] ", r"^root: child a: partition"]),
]
