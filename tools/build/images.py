"""The boot media of hvfw (issue 7; docs/boot.md): Ninja target `boot-images`, built by
default.

  build/hvfw.iso             hybrid GRUB image (BIOS + UEFI; CD or USB stick via dd)
  build/pxe/                 TFTP tree: boot.ipxe + hvfw.elf for iPXE clients, grub/ (GRUB
                             netboot: core.0 for BIOS PXE, core.efi for UEFI PXE), README.md
  build/tests/hvfw-test.iso  the ISO whose entries add `test.exit`, for tests/qemu only
  build/tests/pxe/           the PXE tree with `test.exit` in GRUB's menu, for tests/qemu only

The recipes are images/iso/mkiso (GRUB media) and images/pxe/ (iPXE script, README).
"""

MKISO = "images/iso/mkiso"
GRUB_CFG = "images/iso/grub.cfg.in"
IPXE_SCRIPT = "images/pxe/boot.ipxe"
PXE_README = "images/pxe/README.md"
# What tests/qemu passes so that a boot ends QEMU (kernel/main.c kernel_test_exit).
TEST_SETTINGS = "test.exit"


def emit(n, ctx):
    build = ctx["build"]
    image = build + "/hvfw.elf"
    tools = [MKISO, GRUB_CFG]
    n.rule("mkiso", "%s iso -o $out --settings '$settings' $in" % MKISO,
           description="ISO $out")
    # GRUB's netboot tree has hundreds of module files; one stamp stands for all of them.
    n.rule("mknetdir", "%s netdir -o $dir --settings '$settings' $in && touch $out" % MKISO,
           description="NETDIR $dir")
    n.rule("copy", "cp $in $out", description="COPY $out")

    outputs = []
    n.build(build + "/hvfw.iso", "mkiso", image, implicit=tools,
            variables={"settings": ""})
    outputs.append(build + "/hvfw.iso")
    n.build(build + "/tests/hvfw-test.iso", "mkiso", image, implicit=tools,
            variables={"settings": TEST_SETTINGS})
    outputs.append(build + "/tests/hvfw-test.iso")

    for tree, settings in ((build + "/pxe", ""), (build + "/tests/pxe", TEST_SETTINGS)):
        stamp = tree + "/.grub-netdir"
        n.build(stamp, "mknetdir", image, implicit=tools,
                implicit_outputs=[tree + "/hvfw.elf", tree + "/grub/grub.cfg"],
                variables={"settings": settings, "dir": tree})
        n.build(tree + "/boot.ipxe", "copy", IPXE_SCRIPT)
        outputs += [stamp, tree + "/boot.ipxe"]
    n.build(build + "/pxe/README.md", "copy", PXE_README)
    outputs.append(build + "/pxe/README.md")

    n.build("boot-images", "phony", outputs)
    n.default(["boot-images"])
    n.newline()
    return outputs
