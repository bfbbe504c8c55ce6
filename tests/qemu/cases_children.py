"""Child partitions (issue 3): the root's partition manager starts the children declared with
`child=NAME:MODULE:MEM_MIB:VPS` from boot modules (build/guests/*.elf), its worker emulates
their COM1, exit port, power off and test device, and `exit_when_idle` ends the run once all
have stopped: HvCallHvfwShutdown powers off (QEMU status 0) when every child powered off with
exit code 0, else writes code 1 to isa-debug-exit (QEMU status 3).

These runs must NOT carry `test.exit` (it ends QEMU at the ready line, before any child
runs), and the runner adds it to every -kernel case; so each case attaches the image itself
through the `boot` key (tests/qemu/run), with its own command line and -initrd.

The burner guest runs forever (burner_lines defaults to 0 and a child has no command line),
so it has no case here: an exit_when_idle run with it would never end.
"""
import os

from cases import CLEAN_REJECT, ready_line

GUESTS = os.path.join("build", "guests")
TIMEOUT = 120

# A clean children run: nothing the clean boots reject, no child stopped for an error, no
# worker error.
CHILD_REJECT = CLEAN_REJECT + [
    r"reason=error",
    r"^\[root/vp\d+\] (error|FATAL): ",
    r"not started$",
]


def need(path):
    if not os.path.exists(path):
        raise ValueError("%s does not exist; build it with ninja (target guests)" % path)
    return path


def garbage_module(out):
    """A boot module that is no ELF file, written next to the runner's other modules."""
    directory = os.path.join(out, "modules")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "garbage.elf")
    with open(path, "wb") as f:
        f.write(b"MZ this is not an ELF file" + bytes(100))
    return path


def boot_children(append, modules):
    """QEMU arguments: the runner's snapshot of the image, `append` as the whole command line,
    and `modules` (guest names, or "garbage") as -initrd."""
    def boot(case, out):
        paths = [garbage_module(out) if m == "garbage"
                 else need(os.path.join(GUESTS, m + ".elf")) for m in modules]
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
                "-initrd", ",".join(paths)]
    return boot


def stopped(name, reason="poweroff", exit_code=0):
    line = r"^hvfw: child %s stopped reason=%s" % (name, reason)
    return line + (r" exit_code=%d$" % exit_code if exit_code is not None else r"$")


def children_case(name, smp, append, modules, expect, exit_status=0, reject=None):
    return {
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
        [r"^\[h\] hostile: \[39\] triple-fault",
         r"^root: child h VP 0: access to unmapped GPA 0x[0-9a-f]+ at rip 0x[0-9a-f]+: #GP$",
         stopped("h", "triple-fault", None),
         r"^\[a\] hello: PASS$", stopped("a"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 1\)$"],
        exit_status=3,
        reject=CLEAN_REJECT + [r"^\[h\] hostile: FAIL", r"reason=error"]),

    # Bad declarations are reported and skipped; a module that is no ELF file does not
    # start (and makes the run's code 1); the good child runs.
    children_case(
        "child-bad-declarations", 2,
        'exit_when_idle child=x:missing.elf:16:1 child="bad name:hello.elf:16:1" '
        "child=b:hello.elf:0:1 child=v:hello.elf:4:99 child=ok:hello.elf:4:1 "
        "child=ok:hello.elf:4:1 child=g:garbage.elf:4:1", ["hello", "garbage"],
        [r"^root: child=x:missing\.elf:16:1: no boot module is named missing\.elf; skipped$",
         r"^root: child=bad name:hello\.elf:16:1: the name may hold only a-z, 0-9, '_' and "
         r"'-'; skipped$",
         r"^root: child=b:hello\.elf:0:1: MEM_MIB must be a number from 1 to 3072; skipped$",
         r"^root: child=v:hello\.elf:4:99: VPS must be a number from 1 to 8 \(2 CPUs\); "
         r"skipped$",
         r"^root: child=ok:hello\.elf:4:1: a child named ok is already declared; skipped$",
         r"^root: child g: module garbage\.elf: not an ELF file \(no \\177ELF magic\); "
         r"not started$",
         r"^\[ok\] hello: PASS$", stopped("ok"),
         r"^root: every child has stopped; exit_when_idle: shutting down \(code 1\)$"],
        exit_status=3,
        reject=CLEAN_REJECT + [r"reason=error", r"^\[root/vp\d+\] (error|FATAL): "]),
]
