"""QEMU cases of the root's disk (drivers/virtio_blk.c, root/disk.c, root/store.c,
root/stored_settings.c, root/storage.c): each makes its own disk image under
build/tests/qemu/ (truncate -s, as a new appliance disk would be) and attaches it as
virtio-blk.

  disk-persist      boot 1 (run from the case's boot function): disk.format=1 formats the
                    blank image, creates a volume, stores net=off and mgmt.port=8444 and
                    measures sequential write/read through the driver; the host then finds
                    the HVFWDISK magic (both header copies) and the stored values in the
                    image. Boot 2, same image, no disk.* keys: the settings come back from
                    the disk over the command line's and the API listens on 8444.
  disk-foreign      an image holding an MBR signature and data, no disk.format: reported
                    and left alone (the host checks every byte is unchanged).
  disk-host-made    an image written by this file from docs/ARCHITECTURE.md's description
                    (Python's zlib.crc32, not the firmware's code) with its first header
                    copy damaged: the firmware repairs it from the second, applies the
                    stored mgmt.port and reports the stored unknown and hypervisor-level
                    keys it ignores.
  disk-read-only    a read-only virtio-blk disk (VIRTIO_BLK_F_RO) with disk.format=1: the
                    format fails with a clear line, the boot goes on, nothing is written.
  disk-persist-nvme disk-persist with the image behind QEMU's NVMe controller
                    (drivers/nvme.c) instead of virtio-blk.
"""
import hashlib
import os
import re
import struct
import subprocess
import zlib

from cases import CLEAN_REJECT

MIB = 1024 * 1024
DISK_REJECT = CLEAN_REJECT + [r"(virtio-blk|nvme): .*(not used|stopped)"]


def image_path(out, name):
    return os.path.join(out, name + ".img")


def fresh_image(path, size):
    if os.path.exists(path):
        os.remove(path)
    with open(path, "wb") as f:
        f.truncate(size)


def drive(path, nvme=False):
    device = "nvme,drive=d0,serial=hvfw-test" if nvme else "virtio-blk-pci,drive=d0"
    return ["-drive", "file=%s,if=none,id=d0,format=raw" % path, "-device", device]


def kernel(out, append):
    return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", "test.exit " + append]


# --- disk-persist -----------------------------------------------------------------------

FIRST_APPEND = ("net=dhcp disk.format=1 disk.bench=32 disk.set.net=off disk.set.mgmt.port=8444 "
                "test.disk_bench=bench")
FIRST_DEVICE = {False: r"^virtio-blk: 64 MiB \(131072 sectors\)",
                True: r'^nvme: "QEMU NVMe Ctrl": 64 MiB, 512-byte blocks, requests of up to '
                      r'\d+ KiB, volatile write cache \(flushed\)$'}
FIRST_EXPECT = [
    r"^root: disk: hvfw disk formatted \(disk\.format\): 64 MiB, 1 extent\(s\)",
    r"^root: disk: volume bench created, 32 MiB$",
    r"^root: store: empty$",
    r"^root: settings: net stored on the disk$",
    r"^root: settings: mgmt\.port stored on the disk$",
    r"^root: settings: net=off from the disk \(the command line's dhcp overridden\)$",
    r"^selftest: disk-bench: ok: volume bench, 32 MiB sequential: write [\d.]+ MB/s, "
    r"read [\d.]+ MB/s",
]


def check_image_after_first_boot(path):
    problems = []
    with open(path, "rb") as f:
        data = f.read()
    if data[0:8] != b"HVFWDISK":
        problems.append("no HVFWDISK magic at offset 0 of the image")
    if data[4096:4104] != b"HVFWDISK":
        problems.append("no second header copy at offset 4096")
    header = data[0:4096]
    crc = struct.unpack_from("<I", header, 36)[0]
    if zlib.crc32(header[:36] + b"\0\0\0\0" + header[40:]) != crc:
        problems.append("the header CRC is not zlib's CRC-32 of the header")
    # The store extent starts at 1 MiB; its two slots each hold half of it (8 MiB).
    slots = [data[MIB:MIB + 4096], data[MIB + 4 * MIB:MIB + 4 * MIB + 4096]]
    if not any(s[0:8] == b"HVFWSTOR" for s in slots):
        problems.append("no store snapshot at 1 MiB or 5 MiB")
    newest = max((s for s in slots if s[0:8] == b"HVFWSTOR"),
                 key=lambda s: struct.unpack_from("<Q", s, 16)[0], default=b"")
    for needle in (b"setting.net", b"off", b"setting.mgmt.port", b"8444"):
        if needle not in newest:
            problems.append("%r not in the newest store snapshot" % needle)
    return problems


def boot_persist(case, out):
    nvme = case["name"].endswith("-nvme")
    path = image_path(out, case["name"])
    fresh_image(path, 64 * MIB)
    log_path = os.path.join(out, case["name"] + ".first.log")
    command = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "EPYC", "-smp", "2", "-m", "256M",
               "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
               "-serial", "file:" + log_path,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    command += kernel(out, FIRST_APPEND) + drive(path, nvme)
    status = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=120).returncode
    with open(log_path, "rb") as f:
        log = f.read().decode("utf-8", errors="replace").replace("\r\n", "\n")
    problems = [] if status == 1 else ["first boot: QEMU exit status %d" % status]
    problems += ["first boot: missing /%s/" % p for p in FIRST_EXPECT
                 if not re.search(p, log, re.MULTILINE)]
    if not re.search(FIRST_DEVICE[nvme], log, re.MULTILINE):
        problems.append("first boot: missing /%s/" % FIRST_DEVICE[nvme])
    problems += ["first boot: unwanted /%s/" % p for p in DISK_REJECT
                 if re.search(p, log, re.MULTILINE)]
    problems += check_image_after_first_boot(path)
    bench = re.search(r"^selftest: disk-bench: .*$", log, re.MULTILINE)
    if bench:
        print("    %s: %s" % (case["name"], bench.group(0)), flush=True)
    if problems:
        # run_case reports a ValueError as the case's failure.
        raise ValueError("; ".join(problems) + " (see %s)" % log_path)
    return kernel(out, "net=dhcp mgmt.port=8443") + drive(path, nvme)


# --- disk-foreign ----------------------------------------------------------------------

FOREIGN_DIGEST = {}


def boot_foreign(case, out):
    path = image_path(out, case["name"])
    fresh_image(path, 16 * MIB)
    with open(path, "r+b") as f:
        f.seek(446)
        f.write(bytes([0x80, 0, 2, 0, 0x83]) + b"\0" * 11)  # one partition entry
        f.seek(510)
        f.write(b"\x55\xaa")
        f.seek(MIB)
        f.write(b"someone's data" * 100)
    with open(path, "rb") as f:
        FOREIGN_DIGEST[case["name"]] = hashlib.sha256(f.read()).hexdigest()
    return kernel(out, "disk.set.net=off") + drive(path)


def foreign_unchanged(case):
    path = image_path(os.path.join("build", "tests", "qemu"), case["name"])
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return [] if digest == FOREIGN_DIGEST[case["name"]] else ["the foreign disk was written"]


# --- disk-host-made ---------------------------------------------------------------------

def host_made_image(path):
    """docs/ARCHITECTURE.md "The appliance disk", written independently of root/disk.c."""
    size = 32 * MIB
    fresh_image(path, size)
    header = bytearray(4096)
    header[0:8] = b"HVFWDISK"
    struct.pack_into("<IIQQI", header, 8, 1, 4096, size // 512, 5, 2)
    # extents: name[24], kind, reserved, start, length (sectors)
    struct.pack_into("<24sIIQQ", header, 64, b"store", 1, 0, 2048, 4 * 2048)
    struct.pack_into("<24sIIQQ", header, 64 + 48, b"data", 2, 0, 5 * 2048, 8 * 2048)
    struct.pack_into("<I", header, 36, zlib.crc32(bytes(header)))
    # the store: slot A at the store's start; records sorted by key
    records = [(b"setting.bogus", b"1"), (b"setting.loglevel", b"debug"),
               (b"setting.mgmt.port", b"8445")]
    body = b"".join(struct.pack("<HHI", len(k), 0, len(v)) + k + v for k, v in records)
    head = bytearray(32)
    head[0:8] = b"HVFWSTOR"
    struct.pack_into("<IIQI", head, 8, 1, len(records), 3, len(body))
    struct.pack_into("<I", head, 28, zlib.crc32(bytes(head) + body))
    damaged = bytearray(header)
    damaged[64 + 48 + 32] ^= 0x08  # the volume's start, with the old CRC: torn
    with open(path, "r+b") as f:
        f.write(damaged)
        f.seek(4096)
        f.write(header)
        f.seek(MIB)
        f.write(bytes(head) + body)


def boot_host_made(case, out):
    path = image_path(out, case["name"])
    host_made_image(path)
    return kernel(out, "mgmt.port=8443") + drive(path)


def host_made_repaired(case):
    path = image_path(os.path.join("build", "tests", "qemu"), case["name"])
    with open(path, "rb") as f:
        data = f.read(8192)
    return [] if data[0:4096] == data[4096:8192] else ["the first header copy was not repaired"]


def boot_read_only(case, out):
    path = image_path(out, case["name"])
    fresh_image(path, 16 * MIB)
    return kernel(out, "disk.format=1") + [
        "-drive", "file=%s,if=none,id=d0,format=raw,readonly=on" % path,
        "-device", "virtio-blk-pci,drive=d0"]


def read_only_untouched(case):
    path = image_path(os.path.join("build", "tests", "qemu"), case["name"])
    with open(path, "rb") as f:
        return [] if not any(f.read()) else ["the read-only image was written"]


CASES = [
    {
        "name": "disk-persist",
        "boot": boot_persist,
        "timeout": 150,
        "expect": [
            r"^root: disk: hvfw disk found: 64 MiB, 2 extent\(s\), generation 2$",
            r"^root: store: 2 records, sequence 2 in slot B$",
            r"^root: settings: mgmt\.port=8444 from the disk \(the command line's 8443 "
            r"overridden\)$",
            r"^root: settings: net=off from the disk \(the command line's dhcp overridden\)$",
            r"^root: settings: 0 root setting\(s\) from the command line, 2 from the disk$",
            r"^root: mgmt: API listening on TCP port 8444 ",
        ],
        "reject": DISK_REJECT + [r"stored on the disk", r"formatted"],
    },
    {
        "name": "disk-foreign",
        "boot": boot_foreign,
        "expect": [
            r"^root: disk: 16 MiB holding an MBR boot sector or partition table: not an hvfw "
            r"disk, left alone \(disk\.format=1 on the firmware command line formats it\)",
        ],
        "reject": DISK_REJECT + [r"^root: store", r"^root: settings"],
        "host": foreign_unchanged,
        "host_after": r"^hvfw: ready",
    },
    {
        "name": "disk-host-made",
        "boot": boot_host_made,
        "expect": [
            r"^root: disk: hvfw disk found: 32 MiB, 2 extent\(s\), generation 6; header copy "
            r"1 repaired \(header CRC",
            r"^root: disk:   volume   data +at 5 MiB, 8 MiB$",
            r"^root: store: 3 records, sequence 3 in slot A \(slot B: empty\)$",
            r"^root: settings: stored setting bogus ignored: unknown key$",
            r"^root: settings: stored setting loglevel ignored: read by the hypervisor",
            r"^root: settings: 0 root setting\(s\) from the command line, 1 from the disk$",
            r"^root: settings: mgmt\.port=8445 from the disk \(the command line's 8443 "
            r"overridden\)$",
            r"^root: mgmt: API listening on TCP port 8445 ",
        ],
        "reject": DISK_REJECT,
        "host": host_made_repaired,
        "host_after": r"^hvfw: ready",
    },
    {
        # VIRTIO_BLK_F_RO: disk.format=1 cannot write the header; the boot goes on.
        "name": "disk-read-only",
        "boot": boot_read_only,
        "expect": [
            r"^virtio-blk: 16 MiB \(32768 sectors\), read-only,",
            r"^virtio-blk: write refused: the disk is read-only$",
            r"^root: disk: writing the disk header failed; not used$",
        ],
        "reject": CLEAN_REJECT + [r"^root: store", r"^root: settings"],
        "ready": {"cpus": 2, "memory_mib": (248, 256)},
        "host": read_only_untouched,
        "host_after": r"^hvfw: ready",
    },
]

# The same two boots with the disk behind an NVMe controller (drivers/nvme.c).
CASES.append(dict(next(c for c in CASES if c["name"] == "disk-persist"),
                  name="disk-persist-nvme"))
