"""Fuzz targets: every tests/fuzz/fuzz_NAME.c is a libFuzzer target built with clang
(-fsanitize=fuzzer,address,undefined) into build/fuzz/fuzz_NAME. Like the unit tests, a
target names the sources it links in its first lines (`// sources: libc-glue/decoder.c`).
Zydis is compiled once more here, with coverage instrumentation, so that libFuzzer sees
inside the decoder. Ninja target `fuzz`, not built by default; tools/fuzz runs them."""
import glob
import os

import zydis

CLANG = "clang"
SANITIZE = "-fsanitize=address,undefined -fno-sanitize-recover=all"


def sources_of(path):
    srcs = []
    with open(path) as f:
        for line in f.readlines()[:20]:
            line = line.strip()
            if line.startswith("// sources:"):
                srcs += line.split(":", 1)[1].split()
    return srcs


def emit(n, ctx):
    targets = sorted(glob.glob("tests/fuzz/fuzz_*.c"))
    if not targets:
        return []
    build = os.path.join(ctx["build"], "fuzz")
    zydis_flags = ["-std=gnu11", "-O1", "-g", "-w"] + \
        ["-I" + i for i in zydis.ZYDIS_INCLUDES] + zydis.ZYDIS_DEFINES
    ours = ["-std=gnu11", "-O1", "-g", "-I.", "-DHVFW_HOST_TEST",
            "-Wall", "-Wextra", "-Werror", "-Wno-unused-command-line-argument"] + \
        sum((["-isystem", i] for i in zydis.PUBLIC_INCLUDES), []) + zydis.ZYDIS_DEFINES
    n.variable("fuzz_zydis_cflags", " ".join(zydis_flags))
    n.variable("fuzz_cflags", " ".join(ours))
    n.rule("fuzz_cc", "%s -MD -MF $out.d -fsanitize=fuzzer-no-link %s $cflags -c $in -o $out"
           % (CLANG, SANITIZE), depfile="$out.d", deps="gcc", description="FUZZCC $out")
    n.rule("fuzz_link", "%s -fsanitize=fuzzer %s -o $out $in" % (CLANG, SANITIZE),
           description="FUZZLD $out")

    zydis_objs = []
    for src in zydis.zydis_sources():
        o = os.path.join(build, "zydis", os.path.basename(src)[:-2] + ".o")
        n.build(o, "fuzz_cc", src, variables={"cflags": "$fuzz_zydis_cflags"})
        zydis_objs.append(o)

    exes, built = [], set()
    for t in targets:
        objs = []
        for src in [t] + sources_of(t):
            o = os.path.join(build, os.path.splitext(src)[0] + ".o")
            if o not in built:
                n.build(o, "fuzz_cc", src, variables={"cflags": "$fuzz_cflags"})
                built.add(o)
            objs.append(o)
        exe = os.path.join(build, os.path.basename(t)[:-2])
        n.build(exe, "fuzz_link", objs + zydis_objs)
        exes.append(exe)
    n.build("fuzz", "phony", exes)
    n.newline()
    return exes
