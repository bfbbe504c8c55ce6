"""Linux children (issue 4): Debian's own kernel and the test initramfs of images/linux/
(`ninja linux`, built here when missing) booted in child partitions by the root's bzImage
loader (root/bzimage.c) with the child's ACPI tables (root/child_acpi.c), on the platform the
worker emulates (root/worker.h: COM1 with interrupts and console input, the IOAPIC, ACPI PM
and reset, PCI over an empty bus, the CMOS RTC, absent legacy devices).

The init script (images/linux/init) prints `hvfw-guest:` lines, then does what
`hvfw.action=` says. `test.console_input.NAME` types one line at each `hvfw-guest: shell`
line, so `hvfw.action=shell` with "reboot -f\\npoweroff -f\\n" reboots the child once (the
reset register: a new partition from the same declaration) and powers it off after the
second boot. Every line typed goes through the emulated 16550's receiver and IRQ 4.

Every boot checks issue 4's acceptance on the guest's own console: Hyper-V detected, the
TSC-page clocksource and the Hyper-V (stimer) clockevent on both CPUs, two CPUs online,
hv_vmbus loaded (VMBus 5.3 negotiated with the root's server, root/vmbus_server.c).
"""
import os
import subprocess

from cases import CLEAN_REJECT, ready_line

LINUX = os.path.join("build", "linux")
GUESTS = os.path.join("build", "guests")
TIMEOUT = 600

CHILD_REJECT = CLEAN_REJECT + [
    r"reason=(error|triple-fault|reset-failed)",
    r"^\[root/vp\d+\] (error|FATAL): ",
    r"^root: child .*; not (re)?started$",
    r"Kernel panic",
    r"^\[\w+\] \[ *[\d.]+\] BUG: ",
    # the CMOS RTC answers: no second of polling an absent chip
    r"Unable to read current time from RTC",
]


def linux_file(name):
    """build/linux/NAME, made by `ninja linux` (Debian's packages) the first time."""
    path = os.path.join(LINUX, name)
    if not os.path.exists(path):
        subprocess.run(["ninja", "linux"], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(path):
        raise ValueError("%s does not exist after `ninja linux`" % path)
    return path


def boot_linux(append, hello=False):
    """QEMU arguments: the runner's snapshot of the image, `append` as the whole command line,
    vmlinuz and initramfs.cpio.gz (and hello.elf) as boot modules."""
    def boot(case, out):
        modules = [linux_file("vmlinuz"), linux_file("initramfs.cpio.gz")]
        if hello:
            hello_path = os.path.join(GUESTS, "hello.elf")
            if not os.path.exists(hello_path):
                raise ValueError("%s does not exist; build it with ninja" % hello_path)
            modules.append(hello_path)
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
                "-initrd", ",".join(modules)]
    return boot


def linux_child(name, action, extra=""):
    return ('child=%s:vmlinuz:256:2 initrd.%s=initramfs.cpio.gz '
            'cmdline.%s="console=ttyS0 hvfw.action=%s%s"'
            % (name, name, name, action, extra))


def guest(name, text):
    return r"^\[%s\] hvfw-guest: %s" % (name, text)


def linux_case(name, append, expect, hello=False, exit_status=0, reject=None, alone=True):
    return {
        "name": name,
        "smp": 2,
        "memory": "1G",
        "boot": boot_linux(append, hello),
        "exit_status": exit_status,
        "expect": expect,
        "reject": CHILD_REJECT if reject is None else reject,
        "ready": ready_line(2, "1G"),
        "timeout": TIMEOUT,
        "alone": alone,
    }


def platform_seen(name):
    """What the kernel reports about the emulated platform, on its console."""
    kernel = r"^\[%s\] \[ *[\d.]+\] " % name
    return [
        kernel + r"Hypervisor detected: Microsoft Hyper-V$",
        kernel + r"ACPI: RSDP 0x[0-9A-F]+ 000024 \(v02 HVFW  \)$",
        kernel + r"ACPI: PM-Timer IO Port: 0x608$",
        kernel + r"IOAPIC\[0\]: apic_id 0, version 17, address 0xfec00000, GSI 0-23$",
        kernel + r"Using NULL legacy PIC$",
        kernel + r"serial8250: ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A$",
        kernel + r"smp: Brought up 1 node, 2 CPUs$",
        guest(name, r"cpus 2$"),
        guest(name, r"dmesg: .*clocksource: Switched to clocksource "
                    r"hyperv_clocksource_tsc_page$"),
        guest(name, r"hv_vmbus loaded$"),
        guest(name, r"dmesg: \[ *[\d.]+\] hv_vmbus: Vmbus version:5\.3$"),
        guest(name, r"clocksource/clocksource0/current_clocksource: "
                    r"hyperv_clocksource_tsc_page$"),
        guest(name, r"clockevents/clockevent0/current_device: Hyper-V clockevent$"),
        guest(name, r"clockevents/clockevent1/current_device: Hyper-V clockevent$"),
    ]


# With COM1's interrupts delivered into the child through the IOAPIC (root/worker.c,
# HvCallAssertVirtualInterrupt) and its APs started by INIT/SIPI. Measured: about 75 s and
# 65 s each on the build machine, run alone.
BOOTS = [
    # One child: boots, types "reboot -f" at its shell (interrupt-driven receive), restarts
    # from its declaration, boots again, types "poweroff -f", stops; the run ends cleanly.
    linux_case(
        "linux-reboot-poweroff",
        "exit_when_idle " + linux_child("l", "shell") +
        r' test.console_input.l="reboot -f\npoweroff -f\n"',
        platform_seen("l") + [
            r"^root: child l: Linux boot protocol 2\.\d+, kernel at 0x[0-9a-f]+, initrd \d+ "
            r"bytes at 0x[0-9a-f]+, ACPI RSDP at 0xfff0000$",
            guest("l", r"init started$"),
            guest("l", r"shell \(exit to power off\)$"),
            r"^\[root/vp0\] info: child l: typed 10 of 10 bytes of test console input$",
            r"^\[l\] \[ *[\d.]+\] reboot: Restarting system$",
            r"^hvfw: child l restarting$",
            r"^root: child l: partition \d+, 256 MiB, 2 VPs, entry 0x[0-9a-f]+$",
            r"^\[root/vp0\] info: child l: typed 12 of 12 bytes of test console input$",
            r"^\[l\] \[ *[\d.]+\] reboot: Power down$",
            r"^hvfw: child l stopped reason=poweroff$",
            r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$",
        ]),

    # Two Linux children (256 MiB, 2 VPs each) and a hello beside them on two CPUs.
    linux_case(
        "linux-two-and-hello",
        "exit_when_idle " + linux_child("a", "poweroff") + " " + linux_child("b", "poweroff") +
        " child=h:hello.elf:4:1",
        platform_seen("a") + platform_seen("b") + [
            r"^\[h\] hello: PASS$",
            r"^hvfw: child h stopped reason=poweroff exit_code=0$",
            guest("a", r"powering off$"),
            guest("b", r"powering off$"),
            r"^hvfw: child a stopped reason=poweroff$",
            r"^hvfw: child b stopped reason=poweroff$",
            r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$",
        ],
        hello=True),
]

CASES = BOOTS + [
    # Declarations the root refuses, each with its reason, while a hello beside them runs:
    # a kernel whose init_size does not fit the child's RAM, per-child settings for a child
    # or a module that does not exist. One child did not start: code 1 (QEMU status 3).
    linux_case(
        "linux-refused",
        "exit_when_idle child=l:vmlinuz:16:1 initrd.l=initramfs.cpio.gz "
        "child=m:vmlinuz:64:2 initrd.zz=hello.elf initrd.h=nope.img child=h:hello.elf:4:1",
        [r"^root: initrd\.zz: no child named zz is declared; ignored$",
         r"^root: initrd\.h: no boot module is named nope\.img; ignored$",
         r"^root: child l: module vmlinuz: the kernel needs \[0x1000000, \+0x[0-9a-f]+\) "
         r"\(init_size 0x[0-9a-f]+\): more than the child's 15 MiB of RAM below 0xff0000; "
         r"not started$",
         r"^root: child m: module vmlinuz: the kernel needs .*; not started$",
         r"^\[h\] hello: PASS$",
         r"^hvfw: child h stopped reason=poweroff exit_code=0$",
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 1\)$"],
        hello=True, exit_status=3, alone=False,
        reject=CLEAN_REJECT + [r"reason=(error|triple-fault)", r"^\[l\] ", r"^\[m\] "]),
]
