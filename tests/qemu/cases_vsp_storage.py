"""Issue 5's storage acceptance: Debian's hv_storvsc in a Linux child, served by the root's
storage VSP (vsp/storvsp.c, vsp/scsi.c) on its VMBus server (root/vmbus_server.c) over a
volume of the appliance disk (root/disk_block.c, root/disk.c) on the machine's virtio-blk
disk (drivers/virtio_blk.c).

  vsp-storage-linux   a blank 128 MiB disk image; the root formats it (disk.format=1) with a
                      96 MiB volume `data` given to child s (scsi.s=data). In s,
                      images/linux/init's hvfw.storage=cycle: hv_storvsc binds, sda appears
                      with the volume's size, Debian's mkfs.ext4 formats it, 64 MiB from
                      /dev/urandom go to /hvfw-test.bin (sha256 printed), sync, unmount,
                      reboot (a new partition: the root drops the old controller and offers
                      a new one); the second boot mounts it read-only and reads the same
                      sha256. The host then finds the volume's extent from the HVFWDISK
                      header in the image (docs/ARCHITECTURE.md, "The appliance disk") and
                      reads the file with debugfs (e2fsprogs): the same sha256.
                      Beside s, two hello children whose scsi.NAME the root refuses with a
                      line and starts anyway: one names a missing volume, one s's volume.
  vsp-storage-nodisk  no disk at all: scsi.h=data is refused with a line; h still runs.
"""
import hashlib
import os
import re
import shutil
import struct
import subprocess

from cases import CLEAN_REJECT, ready_line
from cases_linux import CHILD_REJECT, GUESTS, guest, linux_file

MIB = 1024 * 1024
SECTOR = 512
IMAGE_BYTES = 128 * MIB
VOLUME = "data"
VOLUME_MIB = 96
FILE_MIB = 64
OUT = os.path.join("build", "tests", "qemu")
# Debian package e2fsprogs (tools/setup)
DEBUGFS = shutil.which("debugfs") or "/usr/sbin/debugfs"


def image_path(case):
    return os.path.join(OUT, case["name"] + ".img")


def hello_module():
    path = os.path.join(GUESTS, "hello.elf")
    if not os.path.exists(path):
        raise ValueError("%s does not exist; build it with ninja" % path)
    return path


def boot_linux_disk(case, out):
    path = image_path(case)
    if os.path.exists(path):
        os.remove(path)
    with open(path, "wb") as f:
        f.truncate(IMAGE_BYTES)
    s = ("console=ttyS0 hvfw.action=poweroff hvfw.storage=cycle hvfw.storage.mib=%d"
         % FILE_MIB)
    append = ("exit_when_idle disk.format=1 disk.%s=%d "
              'child=s:vmlinuz:256:2 initrd.s=initramfs.cpio.gz cmdline.s="%s" scsi.s=%s '
              "child=m:hello.elf:4:1 scsi.m=missing child=t:hello.elf:4:1 scsi.t=%s"
              % (VOLUME, VOLUME_MIB, s, VOLUME, VOLUME))
    modules = [linux_file("vmlinuz"), linux_file("initramfs.cpio.gz"), hello_module()]
    return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
            "-initrd", ",".join(modules),
            "-drive", "file=%s,if=none,id=d0,format=raw" % path,
            "-device", "virtio-blk-pci,drive=d0"]


def volume_extent(image, name):
    """(start, length) in bytes of volume `name`, read from the first header copy as
    docs/ARCHITECTURE.md describes it (independently of root/disk.c)."""
    header = image[:4096]
    if header[0:8] != b"HVFWDISK":
        raise ValueError("no HVFWDISK header in the image")
    count = struct.unpack_from("<I", header, 32)[0]
    for i in range(min(count, 64)):
        raw, kind, _, start, length = struct.unpack_from("<24sIIQQ", header, 64 + 48 * i)
        if raw.rstrip(b"\0") == name.encode() and kind == 2:
            return start * SECTOR, length * SECTOR
    raise ValueError("no volume %s in the image's header" % name)


def file_on_disk(case):
    """The sha256 of /hvfw-test.bin in the volume's ext4 file system, read on the host."""
    path = image_path(case)
    with open(path, "rb") as f:
        image = f.read()
    start, length = volume_extent(image, VOLUME)
    if length != VOLUME_MIB * MIB:
        raise ValueError("volume %s is %d bytes, not %d MiB" % (VOLUME, length, VOLUME_MIB))
    extent = path + "." + VOLUME
    with open(extent, "wb") as f:
        f.write(image[start:start + length])
    result = subprocess.run([DEBUGFS, "-R", "cat /hvfw-test.bin", extent],
                            capture_output=True, timeout=60)
    os.remove(extent)
    if result.returncode != 0 or len(result.stdout) != FILE_MIB * MIB:
        raise ValueError("debugfs read %d bytes (exit status %d): %s"
                         % (len(result.stdout), result.returncode,
                            result.stderr.decode(errors="replace").strip()[-200:]))
    return hashlib.sha256(result.stdout).hexdigest()


def check_disk(case):
    """The file the child wrote and read back is in the image, byte for byte."""
    log = open(os.path.join(OUT, case["name"] + ".log"), "rb").read().decode(errors="replace")
    wrote = re.search(r"hvfw-guest: storage wrote (\d+) bytes sha256 ([0-9a-f]{64})", log)
    read = re.search(r"hvfw-guest: storage read (\d+) bytes sha256 ([0-9a-f]{64})", log)
    if not wrote or not read:
        return ["the child printed no write or no read-back line"]
    problems = []
    if int(wrote.group(1)) != FILE_MIB * MIB:
        problems.append("the child wrote %s bytes, not %d MiB" % (wrote.group(1), FILE_MIB))
    if read.group(2) != wrote.group(2):
        problems.append("the child read back sha256 %s after its reboot, not the %s it wrote"
                        % (read.group(2), wrote.group(2)))
    on_disk = file_on_disk(case)
    if on_disk != wrote.group(2):
        problems.append("the file in the disk image has sha256 %s, not the child's %s"
                        % (on_disk, wrote.group(2)))
    return problems


VOLUME_SECTORS = VOLUME_MIB * MIB // SECTOR

CASES = [{
    "name": "vsp-storage-linux",
    "smp": 2,
    "memory": "1G",
    "boot": boot_linux_disk,
    "exit_status": 0,
    "expect": [
        r"^root: disk: hvfw disk formatted \(disk\.format\): 128 MiB",
        r"^root: disk: volume %s created, %d MiB$" % (VOLUME, VOLUME_MIB),
        r"^root: scsi\.m=missing: the disk has no volume named missing; child m starts "
        r"without a SCSI disk$",
        r"^root: scsi\.t=%s: volume %s is child s's SCSI disk already; child t starts without "
        r"a SCSI disk$" % (VOLUME, VOLUME),
        r"^\[m\] hello: PASS$",
        r"^\[t\] hello: PASS$",
        r"^\[root/vp0\] info: vmbus: child s: SCSI disk volume %s, %d MiB$"
        % (VOLUME, VOLUME_MIB),
        # hv_storvsc bound, the SCSI scan found the LUN, sd read its capacity
        r"^\[s\] hvfw-guest: dmesg: .*scsi host\d+: storvsc_host_t",
        r"^\[s\] hvfw-guest: dmesg: .*sd 0:0:0:0: \[sda\] %d 512-byte logical blocks"
        % VOLUME_SECTORS,
        guest("s", r"storage disk sda sectors %d bytes %d driver sd$"
              % (VOLUME_SECTORS, VOLUME_MIB * MIB)),
        guest("s", r"storage: no ext4 file system on sda yet$"),
        guest("s", r"storage mkfs\.ext4 done \(mke2fs 1\.\d+"),
        guest("s", r"storage wrote %d bytes sha256 [0-9a-f]{64} " % (FILE_MIB * MIB)),
        guest("s", r"rebooting$"),
        r"^hvfw: child s restarting$",
        # the old partition's controller went with its connection, with its counters
        r"^\[root/vp0\] info: vmbus: child s: SCSI disk %s: \d+ requests, \d+ reads .*, "
        r"\d+ writes \(\d+ bytes\), \d+ flushes, 0 check conditions, 0 refused, \d+ busy, "
        r"0 media errors$" % VOLUME,
        guest("s", r"storage read %d bytes sha256 [0-9a-f]{64}$" % (FILE_MIB * MIB)),
        r"^hvfw: child s stopped reason=poweroff$",
        r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$",
    ],
    "reject": CHILD_REJECT + [
        r"hvfw-guest: .*(failed|not loaded|no sda|no ext4 file system on sda yet[\s\S]*"
        r"no ext4 file system on sda yet)",
        r"hvfw-guest: storage: no /hvfw-test.bin",
        # a channel the root closed (a forced close is a warning)
        r"^\[root/vp0\] (warn|error): vmbus: child \w+: .*clos",
        r"^\[root/vp0\] (warn|error): vmbus: child \w+: storvsp",
        r"virtio-blk: .*(not used|stopped)",
        r"\[s\] .*(I/O error|EXT4-fs error|Buffer I/O|blk_update_request)",
    ],
    "ready": ready_line(2, "1G"),
    "timeout": 600,
    "alone": True,
    "host": check_disk,
    "host_after": r"^\[s\] hvfw-guest: storage read ",
}, {
    "name": "vsp-storage-nodisk",
    "boot": lambda case, out: [
        "-kernel", os.path.join(out, "hvfw.elf"),
        "-append", "exit_when_idle child=h:hello.elf:4:1 scsi.h=data",
        "-initrd", hello_module()],
    "exit_status": 0,
    "expect": [
        r"^root: scsi\.h=data: there is no hvfw disk; child h starts without a SCSI disk$",
        r"^\[h\] hello: PASS$",
        r"^hvfw: child h stopped reason=poweroff exit_code=0$",
        r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$",
    ],
    "reject": CLEAN_REJECT + [r"reason=(error|triple-fault)", r"SCSI disk volume"],
    "timeout": 120,
}]
