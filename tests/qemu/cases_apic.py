"""The virtual local APIC of child VPs (hv/vlapic.c, issue 4): images/guests/apictest runs in
a child with 2 VPs and checks the x2APIC registers and their refusals (#GP), self-IPIs in
priority order and TPR masking, the one-shot, periodic and TSC-deadline timers against the
partition reference counter, an IPI to a halted VP and back, and INIT/SIPI starting VP 1 in
real mode at a trampoline below 1 MiB (so QEMU TCG runs a real-mode SVM guest). A hello
child runs beside it on the same CPUs, untouched by the other's interrupts.
"""
from cases_children import children_case, stopped

CASES = [
    children_case(
        "child-apictest", 2,
        "exit_when_idle child=t:apictest.elf:16:2 child=a:hello.elf:4:1",
        ["apictest", "hello"],
        [r"^root: child t: partition \d+, 16 MiB, 2 VPs, entry 0x[0-9a-f]+$",
         r"^\[t\] apictest: refusals: \d+ accesses #GP$",
         r"^\[t\] apictest: one-shot: 1 ms timer interrupt after \d+ us$",
         r"^\[t\] apictest: periodic: 20 ticks of 2000 us in \d+ us",
         r"^\[t\] apictest: tsc-deadline: interrupt \d+ us after the deadline$",
         r"^\[t\] apictest: ipi: VP 0 -> VP 1 \(halted, woken\) -> VP 0$",
         r"^\[t\] apictest: init-sipi: VP 1 started in real mode at 0900:0000, then 0a00:0000$",
         r"^\[t\] apictest: PASS$",
         r"^\[a\] hello: PASS$",
         stopped("t"),
         stopped("a")]),
]
