"""The QEMU integration tests of hvfw, as data. tests/qemu/run boots each case and checks it.

A case is a dict:
  name         unique; the serial log goes to build/tests/qemu/<name>.log
  smp, memory  QEMU -smp and -m (as QEMU spells them: 2 or "2,maxcpus=4"; "128M", "4G")
  qemu_args    more QEMU arguments, after the runner's own (e.g. ["-machine", "q35"])
  append       firmware command line after "test.exit" (the runner always passes test.exit,
               so the image ends QEMU through isa-debug-exit instead of idling)
  modules      boot modules: (file name, content bytes, args); the runner writes the files
               to build/tests/qemu/modules/ and passes -initrd "path args,path args"
  exit_status  expected QEMU exit status: isa-debug-exit makes it 2 * code + 1, so
               1 = clean exit after the ready line, 3 = kernel_stop
  expect       regexes (re.MULTILINE) that must match the serial log
  reject       regexes that must not match it (default: CLEAN_REJECT for clean boots)
  ready        None, or {"cpus": n, "memory_mib": (low, high)}: the ready line must appear
               exactly once with these numbers (checked as integers, not as text)
  timeout      seconds before QEMU is killed and the case fails

Add a case by appending a dict to CASES; `tests/qemu/run --list` shows them all.
"""

READY = r"^hvfw: ready cpus=(\d+) memory_mib=(\d+)"

# What must never show up in a boot that is supposed to succeed.
CLEAN_REJECT = [
    r"FATAL",
    r"FAILED",
    r"^hvfw: stopped",
    r"^\[cpu\d+\] error: ",
]


def mib(memory):
    """QEMU -m spelling -> MiB."""
    unit = memory[-1].upper()
    scale = {"M": 1, "G": 1024}
    if unit not in scale:
        raise ValueError("memory size %r must end in M or G" % memory)
    return int(memory[:-1]) * scale[unit]


def ready_line(smp=2, memory="256M"):
    """The ready line of a clean boot with -smp/-m as given (the runner's defaults unless
    said): every CPU up and (nearly) all the RAM. The BIOS keeps a few hundred KiB below
    1 MiB and at the top of low memory, so usable RAM may be up to 8 MiB under -m."""
    m = mib(memory)
    return {"cpus": smp, "memory_mib": (m - 8, m)}


def boot_case(smp, memory):
    """Every CPU QEMU made is listed by the MADT and started (kernel/acpi.c, kernel/smp.c),
    and the ready line agrees."""
    return {
        "name": "smp%d-%s" % (smp, memory),
        "smp": smp,
        "memory": memory,
        "expect": [
            r"^\[cpu0\] info: acpi: MADT: %d CPUs \(%d enabled\)" % (smp, smp),
            r"^\[cpu0\] info: smp: %d CPUs online \(BSP APIC ID \d+, %d started, 0 failed\)$"
            % (smp, smp - 1),
        ],
        "ready": ready_line(smp, memory),
    }


CASES = [boot_case(smp, memory) for smp, memory in [
    (1, "128M"), (1, "1G"), (1, "4G"),
    (2, "128M"), (2, "1G"), (2, "4G"),
    (4, "128M"), (4, "1G"), (4, "4G"),
]]

CASES += [
    {
        # The other PC chipset QEMU has (MCFG, a reset register in the FADT).
        "name": "q35-smp4-2G",
        "smp": 4,
        "memory": "2G",
        "qemu_args": ["-machine", "q35"],
        "expect": [r"^\[cpu0\] info: smp: 4 CPUs online \(BSP APIC ID \d+, 3 started, 0 failed\)$"],
        "ready": ready_line(4, "2G"),
    },
    {
        # The MADT lists 4 CPUs, 2 of them present: start those 2, and nothing hangs on
        # the absent ones.
        "name": "smp2-maxcpus4",
        "smp": "2,maxcpus=4",
        "expect": [
            r"^\[cpu0\] info: acpi: MADT: 4 CPUs \(2 enabled\)",
            r"^\[cpu0\] info: smp: 2 CPUs online \(BSP APIC ID \d+, 1 started, 0 failed\)$",
        ],
        "ready": ready_line(2),
    },
    {
        # acpi.dump: every table as hex, the input of tests/unit/data/acpi/capture.py.
        "name": "acpi-dump",
        "append": "acpi.dump",
        "expect": [r"^acpi-table %s [0-9a-f]+ \d+$" % t
                   for t in ("RSDP", "RSDT", "FACP", "APIC", "DSDT")] +
                  [r"^acpi-dump APIC 0 41504943"],  # "APIC", the signature, first
        "ready": ready_line(),
    },
]

# Two boot modules, one with arguments; the first is not a multiple of the page size so a
# wrong end address shows up in the byte count. Names are basenames (kernel/bootinfo.c).
MODULE_A = bytes(range(256)) * 16 + b"hvfw module a\n"
MODULE_B = b"hvfw module b\n"

CASES += [
    {
        "name": "cmdline-modules",
        "append": 'hello=world cmdline.x="a b"',
        "modules": [("module-a.bin", MODULE_A, "arg1 arg2"), ("module-b.txt", MODULE_B, "")],
        "expect": [
            r'booted by multiboot1; command line: ".*\btest\.exit hello=world cmdline\.x="a b""$',
            r'^\[cpu0\] info: module 0: module-a\.bin \[[0-9a-f]+-[0-9a-f]+\) %d bytes '
            r'args "arg1 arg2"$' % len(MODULE_A),
            r'^\[cpu0\] info: module 1: module-b\.txt \[[0-9a-f]+-[0-9a-f]+\) %d bytes '
            r'args ""$' % len(MODULE_B),
        ],
        "reject": CLEAN_REJECT + [r"module 2:"],
        "ready": ready_line(),
    },
    {
        "name": "selftests",
        "expect": [
            r"selftest: decoder: ok\b",
            r"selftest: libc: ok\b",
            r"selftest: lwip-tcp-loopback: ok\b",
            r"selftest: lwip-tcp6-loopback: ok\b",
            r"selftest: hv-guest: ok\b",
            r"selftest: root-isolation: ok\b",
            r"selftest: hypercalls: ok\b",
            r"selftest: synthetic-timer: ok\b",
            # the root partition runs in guest mode and says so on the ready line
            r"^hvfw: ready cpus=\d+ memory_mib=\d+ root=guest-mode root_memory_mib=\d+",
            # each refused access of the root is reported by the hypervisor
            r"^\[cpu0\] warn: hv: root VP 0 write to hypervisor memory at GPA [0-9a-f]+ "
            r"\(rip [0-9a-f]+\): refused, #GP injected",
        ],
        "ready": ready_line(),
    },
    {
        "name": "paging-wx",
        "expect": [r"paging: W\^X ok"],
        "ready": ready_line(),
    },
    {
        "name": "loglevel-bogus",
        "append": "loglevel=bogus",
        "expect": [r"^\[cpu0\] warn: loglevel=bogus is not one of "],
        "ready": ready_line(),
    },
    {
        "name": "loglevel-debug",
        "append": "loglevel=debug",
        # The memory map is logged at debug level only: raising the level must show it.
        "expect": [r"^\[cpu0\] debug: memory [0-9a-f]{16}-[0-9a-f]{16} type 1$"],
        "ready": ready_line(),
    },
    {
        "name": "loglevel-warn",
        "append": "loglevel=warn",
        "reject": CLEAN_REJECT + [r"^\[cpu\d+\] (info|debug): "],
        "ready": ready_line(),
    },
]


def fault_case(kind, mnemonic, vector, extra_expect):
    """test.fault=<kind> makes the image fault on purpose (kernel/trap.c); the exception
    handler must print the report with registers, the decoded instruction and a stack trace,
    then stop cleanly (kernel_stop -> isa-debug-exit 1 -> status 3)."""
    return {
        "name": "fault-" + kind,
        "append": "test.fault=" + kind,
        "exit_status": 3,
        "expect": [
            r"^\[cpu0\] info: test\.fault=%s: raising" % kind,
            r"^hvfw: FATAL exception #%s \(vector %d\) error_code=0x[0-9a-f]+ on cpu0$"
            % (mnemonic, vector),
            r"^rip=0x[0-9a-f]{16} rsp=0x[0-9a-f]{16} ",
            r"^rax=0x[0-9a-f]{16} rbx=0x[0-9a-f]{16} ",
            r"^r12=0x[0-9a-f]{16} r13=0x[0-9a-f]{16} r14=0x[0-9a-f]{16} r15=0x[0-9a-f]{16}$",
            r"^cr0=0x[0-9a-f]+ cr2=0x[0-9a-f]+ cr3=0x[0-9a-f]+ cr4=0x[0-9a-f]+$",
            r"^instruction: \S",
            r"^stack trace:( 0x[0-9a-f]+)+$",
            r"^hvfw: stopped$",
        ] + extra_expect,
        "reject": [r"^hvfw: ready", r"FAILED", r"^instruction: <not decodable>"],
    }


CASES += [
    fault_case("ud", "UD", 6, [r"^instruction: ud2 \(2 bytes: 0f 0b\)$"]),
    fault_case("pf", "PF", 14, [
        r"^page fault: write to 0x[0-9a-f]+ \(a not-present page, supervisor mode\)$",
        r"^instruction: mov qword ptr \[\w+\], ",
    ]),
    fault_case("gp", "GP", 13, [r"error_code=0x0 on", r"^instruction: mov \w+, qword ptr \["]),
    fault_case("de", "DE", 0, [r"^instruction: div \w+ "]),
    # A call to unmapped memory: the instruction cannot be read, and the report says so.
    fault_case("rip", "PF", 14, [
        r"^page fault: instruction fetch from 0x[0-9a-f]+ ",
        r"^instruction: <unreadable at 0x[0-9a-f]+>$",
    ]),
    # RSP on an unmapped page: #UD cannot push its frame -> #DF on its IST stack. The saved
    # RIP of a #DF is undefined (Intel SDM vol. 3, 6.15), so no check of the instruction.
    fault_case("df", "DF", 8, []),
    {
        # A second fault while the first is reported: one line, then a clean stop.
        "name": "fault-nested",
        "append": "test.fault=nested",
        "exit_status": 3,
        "expect": [
            r"^hvfw: FATAL exception #UD \(vector 6\)",
            r"^hvfw: FATAL nested exception #UD \(vector 6\) at rip 0x[0-9a-f]+ while "
            r"reporting a fault; stopped$",
        ],
        "reject": [r"^hvfw: ready", r"^rip=0x"],
    },
    {
        # Not fatal: a registered #BP handler runs and iretq resumes; boot goes on.
        "name": "fault-bp",
        "append": "test.fault=bp",
        "expect": [r"^\[cpu0\] info: test\.fault=bp: handler ran, iretq resumed with "
                   r"rax=0x600dcafe$"],
        "ready": ready_line(),
    },
    {
        "name": "fault-bogus",
        "append": "test.fault=bogus",
        "expect": [r"^\[cpu0\] warn: test\.fault=bogus is not one of "],
        "ready": ready_line(),
    },
]
