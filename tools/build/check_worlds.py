"""Checks that the root partition's code never refers to the hypervisor's memory.

The image holds two worlds (kernel/linker.ld): the root partition runs in guest mode and its
nested page tables do not map the hypervisor's parts of the image, so a call or a data
reference from root code to a hypervisor symbol would fault at run time. This check finds
such references at build time: every undefined symbol of a root object must resolve, in the
linked image, outside the hypervisor's ranges. Linker-script symbols (__name) are allowed:
the root uses a few as addresses only (its isolation self-test).

usage: check_worlds.py IMAGE STAMP ROOT_OBJECT...
"""
import subprocess
import sys


def symbols(image):
    out = subprocess.run(["nm", image], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = int(parts[0], 16)
    return table


def undefined(obj):
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def main():
    image, stamp, objects = sys.argv[1], sys.argv[2], sys.argv[3:]
    table = symbols(image)
    ranges = [
        (table["__text_start"], table["__shared_text_start"], "hypervisor text"),
        (table["__rodata_start"], table["__shared_rodata_start"], "hypervisor rodata"),
        (table["__data_start"], table["__root_data_start"], "hypervisor data"),
        (table["__bss_start"], table["__root_bss_start"], "hypervisor bss"),
    ]
    problems = []
    for obj in objects:
        for name in undefined(obj):
            if name.startswith("__") or name not in table:
                continue
            address = table[name]
            for start, end, what in ranges:
                if start <= address < end:
                    problems.append("%s refers to %s (%s at %#x)" % (obj, name, what, address))
    if problems:
        print("check_worlds: root code refers to hypervisor memory, which the root partition "
              "cannot reach:")
        for p in problems:
            print("  " + p)
        return 1
    open(stamp, "w").write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
