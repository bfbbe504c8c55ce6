"""hvctl: the management CLI, a host program (tools/hvctl/*.c plus the API's JSON code
root/mgmt_json.c) linked with Debian's mbedTLS (libmbedtls-dev, tools/setup) as
build/hvctl. Our warnings; the system's mbedTLS headers with their default configuration
(not root/mbedtls_config.h, which is the appliance's)."""
import glob
import os

SOURCES = ["root/mgmt_json.c"]
LIBS = "-lmbedtls -lmbedx509 -lmbedcrypto"


def emit(n, ctx):
    build = ctx["build"]
    flags = ["-std=gnu11", "-O2", "-g", "-I.", "-D_GNU_SOURCE"] + ctx["warnings"]
    n.variable("hvctl_cflags", " ".join(flags))
    n.rule("hvctl_cc", "gcc -MD -MF $out.d $hvctl_cflags -c $in -o $out", depfile="$out.d",
           deps="gcc", description="HOSTCC $out")
    n.rule("hvctl_link", "gcc -o $out $in " + LIBS, description="HOSTLD $out")
    objs = []
    for src in sorted(glob.glob("tools/hvctl/*.c")) + SOURCES:
        o = os.path.join(build, "host", "hvctl", src[:-2] + ".o")
        n.build(o, "hvctl_cc", src)
        objs.append(o)
    exe = os.path.join(build, "hvctl")
    n.build(exe, "hvctl_link", objs)
    n.newline()
    return [exe]
