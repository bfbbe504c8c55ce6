#!/usr/bin/env python3
"""Captures QEMU's ACPI tables as binary files for tests/unit/test_acpi.c.

Boots build/hvfw.elf with `acpi.dump` (kernel/platform.c prints every table as hex) on each
machine below and writes tests/unit/data/acpi/<name>/<SIG>.bin plus tables.txt, one line
per table: "<SIG> <physical address, hex> <file>". The unit test rebuilds a sparse physical
memory from tables.txt and runs the whole discovery over it.

Run from the repository top after `ninja`:  python3 tests/unit/data/acpi/capture.py
"""
import os
import subprocess
import sys

MACHINES = {
    "pc-smp4": ["-machine", "pc", "-smp", "4"],
    "q35-smp4": ["-machine", "q35", "-smp", "4"],
    "q35-smp2-max4": ["-machine", "q35", "-smp", "2,maxcpus=4"],
}

HERE = os.path.dirname(os.path.abspath(__file__))


def capture(name, machine_args):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "EPYC", "-m", "256M",
           "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", "build/hvfw.elf", "-append", "test.exit acpi.dump"] + machine_args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    tables = {}   # (sig, address) -> bytearray
    order = []
    current = None
    for line in out.splitlines():
        words = line.strip().split()
        if len(words) == 4 and words[0] == "acpi-table":
            current = (words[1], int(words[2], 16))
            tables[current] = bytearray(int(words[3]))
            order.append(current)
        elif len(words) == 4 and words[0] == "acpi-dump" and current and words[1] == current[0]:
            offset = int(words[2], 16)
            data = bytes.fromhex(words[3])
            tables[current][offset:offset + len(data)] = data
    if not order:
        sys.exit("capture %s: no acpi-table lines in the output" % name)
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tables.txt"), "w") as manifest:
        seen = {}
        for sig, address in order:
            seen[sig] = seen.get(sig, 0) + 1
            file = sig + ("" if seen[sig] == 1 else str(seen[sig])) + ".bin"
            with open(os.path.join(folder, file), "wb") as f:
                f.write(tables[(sig, address)])
            manifest.write("%s %x %s\n" % (sig, address, file))
    print("%s: %s" % (name, ", ".join(s for s, _ in order)))


for name, args in MACHINES.items():
    capture(name, args)
