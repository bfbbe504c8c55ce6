"""Boot-path cases (issue 7; docs/boot.md): the media `ninja` builds, booted the way an
appliance boots them, each to the ready line. Keys as in tests/qemu/cases.py; `boot` says
how QEMU attaches the medium (tests/qemu/run).

The media carry `test.exit` themselves: build/tests/hvfw-test.iso and build/tests/pxe/ are
the ISO and PXE tree built with it (tools/build/images.py); for iPXE each case writes its
own script that sets it and chains the shipped boot.ipxe, so the shipped script is what runs.

What each firmware hands over is checked on the line kernel/main.c prints:
  boot: multiboot<N> (<EFI|multiboot> memory map, ACPI RSDP <from the loader|by BIOS area search>)
"""
import os
import shutil

from cases import CLEAN_REJECT, ready_line

TEST_ISO = os.path.join("build", "tests", "hvfw-test.iso")
PXE_TREE = os.path.join("build", "pxe")
TEST_PXE_TREE = os.path.join("build", "tests", "pxe")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"

# OVMF under TCG takes a few seconds to reach GRUB; GRUB's menu waits 3 s. Measured: about
# 5-12 s per case here; the timeouts leave room for a slow CI machine.
BIOS_TIMEOUT = 60
UEFI_TIMEOUT = 120


def need(path):
    if not os.path.exists(path):
        raise ValueError("%s does not exist; build it with ninja (target boot-images)" % path)
    return path


def uefi_firmware(case, out):
    """OVMF from pflash with a private copy of its variable store (OVMF writes to it)."""
    variables = os.path.join(out, case["name"] + ".OVMF_VARS.fd")
    shutil.copyfile(need(OVMF_VARS), variables)
    return ["-drive", "if=pflash,format=raw,readonly=on,file=" + need(OVMF_CODE),
            "-drive", "if=pflash,format=raw,file=" + variables]


def usb_stick(path):
    # read-only: cases run in parallel and QEMU locks a writable image against a second user.
    return ["-device", "qemu-xhci", "-device", "usb-storage,drive=stick",
            "-drive", "if=none,id=stick,format=raw,readonly=on,file=" + need(path)]


def boot_usb_bios(case, out):
    return usb_stick(TEST_ISO)


def boot_usb_uefi(case, out):
    return uefi_firmware(case, out) + usb_stick(TEST_ISO)


def boot_cdrom_bios(case, out):
    return ["-cdrom", need(TEST_ISO)]


def ipxe_boot(nic):
    def boot(case, out):
        """A TFTP root of its own: the shipped boot.ipxe and image, and a first script that
        adds the test settings and chains the shipped one."""
        tftp = os.path.join(out, case["name"] + ".tftp")
        os.makedirs(tftp, exist_ok=True)
        for name in ("boot.ipxe", "hvfw.elf"):
            shutil.copyfile(need(os.path.join(PXE_TREE, name)), os.path.join(tftp, name))
        with open(os.path.join(tftp, "test.ipxe"), "w") as f:
            f.write("#!ipxe\nset hvfw-extra %s\nchain boot.ipxe\n"
                    % ("test.exit " + case["append"]).strip())
        return ["-netdev", "user,id=n0,tftp=%s,bootfile=test.ipxe" % tftp,
                "-device", nic + ",netdev=n0", "-boot", "n"]
    return boot


def boot_pxe_grub_uefi(case, out):
    need(os.path.join(TEST_PXE_TREE, "grub", "x86_64-efi", "core.efi"))
    return uefi_firmware(case, out) + [
        "-netdev", "user,id=n0,tftp=%s,bootfile=grub/x86_64-efi/core.efi" % TEST_PXE_TREE,
        "-device", "virtio-net-pci,netdev=n0", "-boot", "n"]


MB1_BIOS = (r"^\[cpu0\] info: boot: multiboot1 \(multiboot memory map, "
            r"ACPI RSDP by BIOS area search\)$")
MB2_BIOS = r"^\[cpu0\] info: boot: multiboot2 \(multiboot memory map, ACPI RSDP from the loader\)$"
MB2_UEFI = r"^\[cpu0\] info: boot: multiboot2 \(EFI memory map, ACPI RSDP from the loader\)$"
# The MADT was read (so ACPI came through), and every CPU it lists was started.
ACPI_FROM_LOADER = r"^\[cpu0\] info: acpi: RSDP rev \d from the loader "
ALL_CPUS = r"^\[cpu0\] info: smp: 2 CPUs online"
GRUB_COMMAND_LINE = r'^\[cpu0\] info: booted by multiboot2; command line: "test\.exit"$'


def medium_case(name, boot, expect, timeout):
    return {"name": name, "boot": boot, "expect": expect + [ALL_CPUS], "ready": ready_line(),
            "timeout": timeout}


CASES = [
    medium_case("pxe-ipxe-e1000", ipxe_boot("e1000"), [
        MB1_BIOS,
        r'^\[cpu0\] info: booted by multiboot1; command line: '
        r'"tftp://10\.0\.2\.2/hvfw\.elf loglevel=info test\.exit"$',
    ], BIOS_TIMEOUT),
    medium_case("pxe-ipxe-virtio", ipxe_boot("virtio-net-pci"), [MB1_BIOS], BIOS_TIMEOUT),
    medium_case("pxe-grub-uefi", boot_pxe_grub_uefi,
                [MB2_UEFI, ACPI_FROM_LOADER, GRUB_COMMAND_LINE], UEFI_TIMEOUT),
    medium_case("usb-bios", boot_usb_bios, [MB2_BIOS, ACPI_FROM_LOADER, GRUB_COMMAND_LINE],
                BIOS_TIMEOUT),
    medium_case("usb-uefi", boot_usb_uefi, [MB2_UEFI, ACPI_FROM_LOADER, GRUB_COMMAND_LINE],
                UEFI_TIMEOUT),
    medium_case("cdrom-bios", boot_cdrom_bios, [MB2_BIOS, ACPI_FROM_LOADER], BIOS_TIMEOUT),
]

# Settings (kernel/settings.c): a bad configuration warns, falls back and still boots.
CASES += [
    {
        "name": "settings-bad",
        "append": "xyz=1 net.ip=999.1.1.1 net.dns=1.2.3 mgmt.token=sesame",
        "expect": [
            r'^\[cpu0\] warn: settings: unknown key "xyz" ignored$',
            r'^\[cpu0\] warn: settings: net\.ip="999\.1\.1\.1" is not an IPv4 address; '
            r'using DHCP$',
            r'^\[cpu0\] warn: settings: net\.dns="1\.2\.3" is not an IPv4 address; ',
            r'^\[cpu0\] warn: settings: mgmt\.token has 6 characters, want 16 to 128; '
            r'management stays locked$',
            r'^\[cpu0\] info: settings: network DHCP, management token absent, 4 problem\(s\)$',
            r'command line: ".* mgmt\.token=<hidden>"$',
        ],
        "reject": CLEAN_REJECT + [r"sesame"],  # a secret is never echoed
        "ready": ready_line(),
    },
    {
        "name": "settings-good",
        "append": "net.ip=10.0.2.15/24 net.gateway=10.0.2.2 mgmt.token=0123456789abcdef",
        "expect": [r'^\[cpu0\] info: settings: network static 10\.0\.2\.15/24, '
                   r'management token set, 0 problem\(s\)$'],
        "reject": CLEAN_REJECT + [r"settings: .*(ignored|not an IPv4|locked)",
                                  r"0123456789abcdef"],  # not even in the command line
        "ready": ready_line(),
    },
    {
        "name": "settings-recovery",
        "append": "recovery net.ip=10.0.2.15",
        "expect": [
            r'^\[cpu0\] warn: settings: recovery: net\.ip ignored; using DHCP$',
            r'^\[cpu0\] info: settings: recovery: log level debug, network by DHCP, '
            r'0 child partition\(s\) not started$',
            r'^\[cpu0\] debug: ',  # recovery raised the log level
        ],
        "ready": ready_line(),
    },
]
