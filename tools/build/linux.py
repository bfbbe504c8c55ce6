"""The Linux test guest (issue 4; images/linux/README.md): Ninja target `linux`, NOT built by
default (it downloads Debian's kernel image package, about 70 MB).

  build/linux/vmlinuz             Debian 12's kernel (linux-image-amd64's candidate)
  build/linux/initramfs.cpio.gz   busybox-static, the Hyper-V guest modules,
                                  images/linux/init and Debian's mkfs.ext4
  build/linux/tools/              what images/linux/fetch-tools kept (mkfs.ext4, its
                                  libraries and loader, under root/)
  build/linux/kernel/             what images/linux/fetch-kernel kept of the package
  build/linux/deb/                the downloaded .deb, kept so a rebuild does not download

Measured on the build machine: download 1 s, unpacking and module selection 4 s, initramfs
under 1 s. bench/linux-boot boots the result directly under QEMU.
"""

FETCH = "images/linux/fetch-kernel"
FETCH_TOOLS = "images/linux/fetch-tools"
MKINITRAMFS = "images/linux/mkinitramfs"
MODULES = "images/linux/modules"
INIT = "images/linux/init"
BUSYBOX = "/bin/busybox"  # Debian package busybox-static (tools/setup)


def emit(n, ctx):
    build = ctx["build"] + "/linux"
    kernel_dir = build + "/kernel"
    n.rule("linux_fetch", "%s -o $dir --modules %s --busybox %s && cp $dir/vmlinuz $out"
           % (FETCH, MODULES, BUSYBOX), description="FETCH $out (Debian linux-image-amd64)")
    tools_dir = build + "/tools"
    n.rule("linux_fetch_tools", "%s -o $dir" % FETCH_TOOLS,
           description="FETCH $out (Debian e2fsprogs)")
    n.rule("linux_initramfs", "%s -o $out --kernel $dir --init %s --busybox %s --extra $extra"
           % (MKINITRAMFS, INIT, BUSYBOX), description="INITRAMFS $out")
    n.build(tools_dir + "/version", "linux_fetch_tools", [], implicit=[FETCH_TOOLS],
            variables={"dir": tools_dir})
    n.build(build + "/vmlinuz", "linux_fetch", [],
            implicit=[FETCH, MODULES], implicit_outputs=[kernel_dir + "/version"],
            variables={"dir": kernel_dir})
    n.build(build + "/initramfs.cpio.gz", "linux_initramfs", [],
            implicit=[MKINITRAMFS, INIT, BUSYBOX, kernel_dir + "/version",
                      tools_dir + "/version"],
            variables={"dir": kernel_dir, "extra": tools_dir + "/root"})
    outputs = [build + "/vmlinuz", build + "/initramfs.cpio.gz"]
    n.build("linux", "phony", outputs)
    n.newline()
    return outputs
