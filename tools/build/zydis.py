"""Zydis: the x86 instruction decoder, built from Debian's zydis source package (deps/zydis)
with the zycore headers of libzycore-dev (deps/zycore). Our code reaches it only through
libc-glue/decoder.h.

Two archives come from the same sources and the same Zydis configuration:
  build/zydis/libzydis.a            freestanding, for the image (Ninja target `zydis`);
  build/host/zydis/libzydis-host.a  for the host unit tests (tests/unit/test_decoder.c).

Zydis 4.0.0 needs no generated export header: ZYDIS_STATIC_BUILD / ZYCORE_STATIC_BUILD make
ZYDIS_EXPORT empty (Zydis/Defines.h). ZYAN_NO_LIBC makes Zycore use compiler built-in
integer types and its own inline ZYAN_MEMSET/ZYAN_MEMCPY/... (Zycore/LibC.h), so the
archive references no C library symbol; the decoder and formatter never allocate (the
Zycore allocator and the Zycore String/Vector containers are not used by them).
"""
import glob
import os

ZYDIS_DEFINES = ["-DZYDIS_STATIC_BUILD", "-DZYCORE_STATIC_BUILD", "-DZYAN_NO_LIBC"]
ZYDIS_INCLUDES = ["deps/zydis/include", "deps/zydis/src", "deps/zycore/include"]
# What users of the public headers need (decoder.c); src/ is private to Zydis.
PUBLIC_INCLUDES = ["deps/zydis/include", "deps/zycore/include"]


def zydis_sources():
    return sorted(glob.glob("deps/zydis/src/*.c"))


def emit(n, ctx):
    build = ctx["build"]
    # Third-party code is quarantined: its own flags, warnings off (-w) since we do not
    # patch it (style-anchors.md, practice 12).
    flags = (ctx["target_base"] + ["-std=gnu11", "-mgeneral-regs-only", "-w"] +
             ["-nostdinc", "-isystem", ctx["gcc_include"]] +
             ["-I" + i for i in ZYDIS_INCLUDES] + ZYDIS_DEFINES)
    n.variable("zydis_cflags", " ".join(flags))
    objs = []
    for src in zydis_sources():
        o = os.path.join(build, "zydis", os.path.basename(src)[:-2] + ".o")
        n.build(o, "cc", src, variables={"cflags": "$zydis_cflags"})
        objs.append(o)
    archive = os.path.join(build, "zydis", "libzydis.a")
    n.build(archive, "ar", objs)
    n.build("zydis", "phony", [archive])
    n.newline()

    # The host copy: same sources and defines, the host compiler's defaults (PIE), no
    # sanitizers (the fuzz target builds its own instrumented copy, tools/build/fuzz.py).
    host_flags = ["-std=gnu11", "-O2", "-g", "-w"] + ["-I" + i for i in ZYDIS_INCLUDES] + \
        ZYDIS_DEFINES
    n.variable("zydis_host_cflags", " ".join(host_flags))
    n.rule("zydis_host_cc", "gcc -MD -MF $out.d $zydis_host_cflags -c $in -o $out",
           depfile="$out.d", deps="gcc", description="HOSTCC $out")
    host_objs = []
    for src in zydis_sources():
        o = os.path.join(build, "host", "zydis", os.path.basename(src)[:-2] + ".o")
        n.build(o, "zydis_host_cc", src)
        host_objs.append(o)
    host_archive = os.path.join(build, "host", "zydis", "libzydis-host.a")
    n.build(host_archive, "ar", host_objs)
    n.newline()
    return {"archive": archive, "includes": PUBLIC_INCLUDES, "defines": ZYDIS_DEFINES,
            "host_archive": host_archive,
            "host_cflags": sum((["-isystem", i] for i in PUBLIC_INCLUDES), []) + ZYDIS_DEFINES}
