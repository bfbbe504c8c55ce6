"""newlib: the C library of the root partition, built from Debian's newlib-source with its
own configure and flags (tools/build/newlib.sh) as the Ninja target `newlib`."""
import os


def emit(n, ctx):
    build = ctx["build"]
    out = os.path.join(build, "newlib")
    stamp = os.path.join(out, "built.stamp")
    inst = os.path.join(out, "install", "x86_64-elf")
    libc_a = os.path.join(inst, "lib", "libc.a")
    libm_a = os.path.join(inst, "lib", "libm.a")
    # gcc's own libgcc.a supplies the few compiler helpers the freestanding code may need.
    flags = " ".join(ctx["target_base"] + ["-std=gnu99"])
    n.rule("newlib", "tools/build/newlib.sh deps/newlib %s %s '%s'" % (out, stamp, flags),
           description="NEWLIB (configure + make, see %s/make.log)" % out, pool="console")
    n.build([stamp], "newlib", implicit=["tools/build/newlib.sh", "deps/newlib/.hvfw-version"],
            implicit_outputs=[libc_a, libm_a])
    n.build("newlib", "phony", [stamp])
    n.newline()
    return {"stamp": stamp, "include": os.path.join(inst, "include"),
            "archives": [libc_a, libm_a]}
