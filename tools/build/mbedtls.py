"""mbedTLS: cryptography and TLS of the root partition (the management API), built from
Debian's mbedtls source package (deps/mbedtls, upstream 2.28) with our configuration header
root/mbedtls_config.h as the Ninja target `mbedtls`. Its own flags and warnings off, like
lwIP and Zydis (style-anchors.md, practice 12); our code keeps ours.

Two archives:
  build/mbedtls/libmbedtls.a             every library/*.c, freestanding against newlib
                                         (modules our configuration leaves out compile
                                         to nothing); for the image;
  build/host/mbedtls/libmbedtls-host.a   the same modules for the host unit tests.
"""
import glob
import os

INCLUDES = ["deps/mbedtls/include"]
# Single quotes: the value passes through the shell of the compile rule.
DEFINES = ["'-DMBEDTLS_CONFIG_FILE=\"root/mbedtls_config.h\"'"]
# Sockets and timing are POSIX-only; lwIP carries the bytes and the root has its own clock.
EXCLUDED = {"net_sockets.c", "timing.c"}


def library_sources():
    return sorted(s for s in glob.glob("deps/mbedtls/library/*.c")
                  if os.path.basename(s) not in EXCLUDED)


def emit(n, ctx):
    build = ctx["build"]
    flags = (ctx["target_base"] + ["-std=gnu11", "-w"] + ctx["libc_includes"] +
             ["-I" + i for i in INCLUDES] + ["-I."] + DEFINES)
    n.variable("mbedtls_cflags", " ".join(flags))
    objs = []
    for src in library_sources():
        o = os.path.join(build, "mbedtls", os.path.basename(src)[:-2] + ".o")
        n.build(o, "cc", src, order_only=[ctx["newlib"]["stamp"]],
                implicit=["root/mbedtls_config.h"], variables={"cflags": "$mbedtls_cflags"})
        objs.append(o)
    archive = os.path.join(build, "mbedtls", "libmbedtls.a")
    n.build(archive, "ar", objs)
    n.build("mbedtls", "phony", [archive])

    host_flags = ["-std=gnu11", "-O2", "-g", "-w", "-I."] + ["-I" + i for i in INCLUDES] + \
        DEFINES
    n.variable("mbedtls_host_cflags", " ".join(host_flags))
    n.rule("mbedtls_host_cc", "gcc -MD -MF $out.d $mbedtls_host_cflags -c $in -o $out",
           depfile="$out.d", deps="gcc", description="HOSTCC $out")
    host_objs = []
    for src in library_sources():
        o = os.path.join(build, "host", "mbedtls", os.path.basename(src)[:-2] + ".o")
        n.build(o, "mbedtls_host_cc", src, implicit=["root/mbedtls_config.h"])
        host_objs.append(o)
    host_archive = os.path.join(build, "host", "mbedtls", "libmbedtls-host.a")
    n.build(host_archive, "ar", host_objs)
    n.newline()
    return {"archive": archive, "includes": INCLUDES, "defines": DEFINES,
            "host_archive": host_archive,
            "host_cflags": sum((["-isystem", i] for i in INCLUDES), []) + DEFINES}
