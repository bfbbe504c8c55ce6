"""The child platform under garbage (root/worker.h): images/guests/platform pokes every port
of COM1, the ACPI PM blocks, PCI mechanism #1, the CMOS RTC and absent legacy devices, and
the IOAPIC window, with random widths and values (sparing only power off and reset), then
checks that each device still answers as Linux's probes expect. Beside it a hello must
finish: the garbage stays inside its own child."""
from cases_children import CHILD_REJECT, children_case, stopped

CASES = [
    children_case(
        "child-platform-garbage", 2,
        "exit_when_idle child=p:platform.elf:16:1 child=a:hello.elf:4:1",
        ["platform", "hello"],
        [r"^\[p\] platform: garbage done: \d+ faults caught$",
         r"^\[p\] platform: PASS 3000 garbage accesses$",
         stopped("p"),
         r"^\[a\] hello: PASS$", stopped("a"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$"],
        reject=CHILD_REJECT + [r"^\[p\] platform: FAIL"]),
]
