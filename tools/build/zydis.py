"""Zydis: the x86 instruction decoder, built freestanding from Debian's zydis source package
(deps/zydis) with the zycore headers of libzycore-dev (deps/zycore), as the Ninja target
`zydis`. Our code reaches it only through libc-glue/decoder.h."""
import glob
import os

ZYDIS_DEFINES = ["-DZYDIS_STATIC_BUILD", "-DZYCORE_STATIC_BUILD", "-DZYAN_NO_LIBC"]


def emit(n, ctx):
    build = ctx["build"]
    includes = ["deps/zydis/include", "deps/zydis/src", "deps/zycore/include"]
    flags = (ctx["target_base"] + ["-std=gnu11", "-mgeneral-regs-only", "-w"] +
             ["-nostdinc", "-isystem", ctx["gcc_include"]] +
             ["-I" + i for i in includes] + ZYDIS_DEFINES)
    n.variable("zydis_cflags", " ".join(flags))
    objs = []
    for src in sorted(glob.glob("deps/zydis/src/*.c")):
        o = os.path.join(build, "zydis", os.path.basename(src)[:-2] + ".o")
        n.build(o, "cc", src, variables={"cflags": "$zydis_cflags"})
        objs.append(o)
    archive = os.path.join(build, "zydis", "libzydis.a")
    n.build(archive, "ar", objs)
    n.build("zydis", "phony", [archive])
    n.newline()
    return {"archive": archive, "includes": ["deps/zydis/include", "deps/zycore/include"],
            "defines": ZYDIS_DEFINES}
