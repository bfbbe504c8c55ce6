"""The SynIC, synthetic timers and reference TSC page of child VPs and the messages and events
between children and the root (hv/synic.c, hv/stimer.c, hv/hyperv.c, root/child_messages.c;
issue 4): images/guests/synictest checks its SynIC MSRs and their refusals, STIMER0 in
message mode (one-shot, periodic without drift, redelivery after EOM) and direct mode, the
reference TSC page against TIME_REF_COUNT, HvCallPostMessage / HvCallSignalEvent statuses,
a flood bounded by HV_STATUS_INSUFFICIENT_BUFFERS, and the root's echo connection both
ways. loglevel=debug: the root logs each child message and signal at debug level.
"""
from cases_children import CHILD_REJECT, children_case, stopped

CASES = [
    children_case(
        "child-synictest", 2, "exit_when_idle loglevel=debug child=s:synictest.elf:16:1",
        ["synictest"],
        [r"^\[s\] synictest: features eax=0x00000a6e ebx=0x00000030 edx=0x00080100$",
         r"^\[s\] synictest: SynIC MSRs: SVERSION 1, SINT reset 0x10000, refusals #GP$",
         r"^\[s\] synictest: stimer0 one-shot message: vector 0xf3, late \d+ units$",
         r"^\[s\] synictest: stimer0 periodic message: 8 expiries \d+ periods apart",
         r"^\[s\] synictest: redelivery: timer 0 in the slot with MessagePending, timer 1 "
         r"after EOM$",
         r"^\[s\] synictest: stimer0 direct: one-shot and 10 periodic interrupts on vector "
         r"0xed$",
         r"^\[s\] synictest: reference TSC page: sequence \d+, page time within "
         r"TIME_REF_COUNT",
         r"^\[s\] synictest: HvCallPostMessage connection 1: status 0x0000$",
         r"^\[root/vp0\] debug: child messages: partition \d+ connection 1: message type "
         r"0x1, 16 bytes$",
         r"^\[s\] synictest: flood of 64 posts: \d+ accepted, \d+ "
         r"HV_STATUS_INSUFFICIENT_BUFFERS$",
         r"^\[s\] synictest: echo message back on SINT2: type 5, 8 bytes$",
         r"^\[s\] synictest: echo event: flag 2047 of SINT2$",
         r"^\[root/vp0\] debug: child messages: partition \d+ signalled connection 7$",
         r"^\[s\] synictest: PASS$",
         stopped("s")],
        reject=CHILD_REJECT + [r"^\[s\] synictest: FAIL"]),
]
