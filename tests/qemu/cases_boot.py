"""Boot-path cases (issue 7; docs/boot.md): the media `ninja` builds, booted the way an
appliance boots them, each to the ready line. Keys as in tests/qemu/cases.py; `boot` says
how QEMU attaches the medium (tests/qemu/run).

The media carry `test.exit` themselves: build/tests/hvfw-test.iso and build/tests/pxe/ are
the ISO and PXE tree built with it (tools/build/images.py); for iPXE each case writes its
own script that sets it and chains the shipped boot.ipxe, so the shipped script is what runs.

What each firmware hands over is checked on the line kernel/main.c prints:
  boot: multiboot<N> (<EFI|multiboot> memory map, ACPI RSDP <from the loader|by BIOS area search>)

The management API in each boot path (issue 7): the iPXE cases (e1000 and virtio-net: the
NIC iPXE booted from is then the appliance's own) and the USB stick on SeaBIOS and OVMF boot
with a token provisioned the way a site does it, as mgmt.token_sha256 among the loader's
settings (the iPXE hvfw-extra variable; an ISO made by images/iso/mkiso --settings at test
time from the image under test), and test.mgmt_requests in place of test.exit. QEMU's user
network forwards a host port to 8443; from the host, the served certificate must be the one
whose fingerprint the console printed, curl (trusting only that certificate) gets 401
without the token and 200 with it from /v1/host, and hvctl info pins it and answers. After
those three answers the appliance powers off.

Bad configuration in each loader: unknown keys, a bad static address and a missing or short
token given through iPXE and through GRUB each print their warning, the network falls back
to DHCP, the API refuses every request with 503 and says why, and the boot reaches the ready
line and powers off after the host's request: no hang, nothing stopped.
"""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess

from cases import CLEAN_REJECT, ready_line

TEST_ISO = os.path.join("build", "tests", "hvfw-test.iso")
MKISO = os.path.join("images", "iso", "mkiso")
HVCTL = os.path.join("build", "hvctl")
OUT = os.path.join("build", "tests", "qemu")
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
    # bootindex: the stick first, before any NIC the case adds.
    return ["-device", "qemu-xhci", "-device", "usb-storage,drive=stick,bootindex=0",
            "-drive", "if=none,id=stick,format=raw,readonly=on,file=" + need(path)]


# --- management API through the boot paths ------------------------------------------------

MGMT_PORT = 8443  # root/mgmt_server.h, HTTPS
TOKEN = "hvfw-boot-path-token-0123456789"
TOKEN_SHA256 = hashlib.sha256(TOKEN.encode()).hexdigest()
MGMT_ANSWERS = 3  # mgmt_check: 401, 200, hvctl info
# What a site puts among its loader settings to provision the token (docs/boot.md), and
# what ends the test run once the host got its answers.
MGMT_SETTINGS = "mgmt.token_sha256=%s test.mgmt_requests=%d" % (TOKEN_SHA256, MGMT_ANSWERS)
PORTS = {}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def forward(case):
    """A free host port for the case, forwarded to the appliance's API port."""
    port = free_port()
    PORTS[case["name"]] = port
    return "hostfwd=tcp:127.0.0.1:%d-:%d" % (port, MGMT_PORT)


def nic(model, case):
    """The appliance's NIC on a user network with the API forwarded. No option ROM: the
    firmware must boot the stick, not try the network first."""
    return ["-netdev", "user,id=n0," + forward(case),
            "-device", model + ",netdev=n0,romfile="]


def settings_iso(case, out, settings):
    """An ISO made the way a site makes its own (images/iso/mkiso --settings), from the
    image under test (the runner's copy), for this case alone."""
    path = os.path.join(out, case["name"] + ".iso")
    result = subprocess.run([MKISO, "iso", "-o", path, "--settings", settings,
                             os.path.join(out, "hvfw.elf")], capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError("mkiso: " + (result.stderr or result.stdout).strip())
    return path


def settings_usb(settings, model, uefi=False):
    def boot(case, out):
        firmware = uefi_firmware(case, out) if uefi else []
        return firmware + usb_stick(settings_iso(case, out, settings)) + nic(model, case)
    return boot


# OVMF puts 64-bit BARs (virtio-net-pci's) in its 64-bit PCI window at the top of the
# physical address space (0xE000000000 with 40 address bits), beyond the 32 GiB above RAM
# that the hypervisor maps for the root (hv/root_partition.c, map_device_memory): the root
# faults when it touches them. Until the root's device memory follows the BARs, the UEFI
# case uses the e1000e, whose BAR is 32-bit, so OVMF places it below 4 GiB.
UEFI_NIC = "e1000e"


def console_fingerprint(case):
    with open(os.path.join(OUT, case["name"] + ".log"), errors="replace") as f:
        for line in f:
            if "TLS certificate CN=hvfw" in line and "sha256 fingerprint " in line:
                return line.split("sha256 fingerprint ")[1].strip()
    return None


def mgmt_check(case):
    """From the host: the certificate served is the console's; curl gets 401 without the
    token and 200 with it from /v1/host; hvctl info pins the certificate and answers."""
    port = PORTS[case["name"]]
    problems = []
    pem = ssl.get_server_certificate(("127.0.0.1", port))  # a handshake, no request
    served = ":".join("%02X" % b for b in hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest())
    if served != console_fingerprint(case):
        problems.append("served certificate %s is not the console's %s"
                        % (served, console_fingerprint(case)))
    pem_path = os.path.join(OUT, case["name"] + ".pem")
    with open(pem_path, "w") as f:
        f.write(pem)

    def curl(*headers):
        command = ["curl", "-sS", "--cacert", pem_path, "--resolve",
                   "hvfw:%d:127.0.0.1" % port, "-w", "\n%{http_code}"]
        for header in headers:
            command += ["-H", header]
        out = subprocess.run(command + ["https://hvfw:%d/v1/host" % port],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            problems.append("curl: %s" % out.stderr.strip())
            return 0, ""
        body, _, status = out.stdout.rpartition("\n")
        return int(status), body

    status, _ = curl()
    if status != 401:
        problems.append("curl /v1/host without the token: %s, want 401" % status)
    status, body = curl("Authorization: Bearer " + TOKEN)
    if status != 200 or '"cpus":2' not in body:
        problems.append("curl /v1/host with the token: %s %r, want 200 and 2 CPUs"
                        % (status, body[:200]))
    known_hosts = os.path.join(OUT, case["name"] + ".known_hosts")
    if os.path.exists(known_hosts):
        os.remove(known_hosts)
    env = dict(os.environ, HVCTL_KNOWN_HOSTS=known_hosts)
    env.pop("HVCTL_TOKEN", None)
    out = subprocess.run([HVCTL, "--host", "127.0.0.1:%d" % port, "--token", TOKEN, "info"],
                         capture_output=True, text=True, env=env, timeout=60)
    if out.returncode != 0 or "2 CPUs" not in out.stdout:
        problems.append("hvctl info: exit %d, %r %r" % (out.returncode, out.stdout, out.stderr))
    return problems


def refused_check(case):
    """From the host: with no usable token provisioned, the API refuses with 503."""
    port = PORTS[case["name"]]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the refusal is what is checked, not the identity
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"GET /v1/host HTTP/1.1\r\nHost: hvfw\r\nAuthorization: Bearer "
                        + TOKEN.encode() + b"\r\nConnection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                answer += chunk
    status_line = answer.split(b"\r\n")[0]
    if status_line != b"HTTP/1.1 503 Service Unavailable":
        return ["GET /v1/host with no provisioned token: %r, want 503" % status_line]
    return []


def boot_cdrom_bios(case, out):
    return ["-cdrom", need(TEST_ISO)]


def ipxe_boot(model, settings="test.exit", api=False):
    def boot(case, out):
        """A TFTP root of its own: the shipped boot.ipxe and image, and a first script that
        adds the test settings and chains the shipped one (as a per-machine script would:
        images/pxe/boot.ipxe). With `api`, the API port is forwarded on the same NIC."""
        tftp = os.path.join(out, case["name"] + ".tftp")
        os.makedirs(tftp, exist_ok=True)
        for name in ("boot.ipxe", "hvfw.elf"):
            shutil.copyfile(need(os.path.join(PXE_TREE, name)), os.path.join(tftp, name))
        with open(os.path.join(tftp, "test.ipxe"), "w") as f:
            f.write("#!ipxe\nset hvfw-extra %s\nchain boot.ipxe\n"
                    % (settings + " " + case["append"]).strip())
        netdev = "user,id=n0,tftp=%s,bootfile=test.ipxe" % tftp
        if api:
            netdev += "," + forward(case)
        return ["-netdev", netdev, "-device", model + ",netdev=n0", "-boot", "n"]
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


GRUB_MGMT_COMMAND_LINE = (r'^\[cpu0\] info: booted by multiboot2; command line: "%s"$'
                          % MGMT_SETTINGS.replace(".", r"\."))
# The API served over TLS, with the token the settings provisioned, reached from the host.
API_UP = [
    r"^\[root/vp0\] info: mgmt: API token provisioned by mgmt.token_sha256$",
    r"^root: mgmt: API listening on TCP port 8443 \(HTTPS: TLS 1.2, HTTP/1.1\)$",
    r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 GET /v1/host -> 401: ",
    r"^root: mgmt: %d requests answered \(test.mgmt_requests\); shutting down$" % MGMT_ANSWERS,
]
# DHCP from QEMU's user network on the NIC named.
def dhcp_line(nic_name):
    return (r"^hvfw: network en\d mac=[0-9a-f:]{17} ipv4=10\.0\.2\.15/24 .*\(dhcp, %s\)$"
            % nic_name)


def medium_case(name, boot, expect, timeout):
    return {"name": name, "boot": boot, "expect": expect + [ALL_CPUS], "ready": ready_line(),
            "timeout": timeout}


def api_case(name, boot, expect, timeout):
    """A boot medium whose appliance serves the API to the host, then powers off."""
    case = medium_case(name, boot, expect + API_UP, timeout)
    case.update({"exit_status": 0, "host": mgmt_check,
                 "reject": CLEAN_REJECT + [r"lwip: assertion", TOKEN]})
    return case


CASES = [
    api_case("pxe-ipxe-e1000", ipxe_boot("e1000", MGMT_SETTINGS, api=True), [
        MB1_BIOS,
        r'^\[cpu0\] info: booted by multiboot1; command line: '
        r'"tftp://10\.0\.2\.2/hvfw\.elf loglevel=info %s"$' % MGMT_SETTINGS.replace(".", r"\."),
        r"^e1000e: 00:[0-9a-f]{2}\.0 device 100e \(82540EM\)$",
        dhcp_line("e1000e"),
    ], BIOS_TIMEOUT),
    api_case("pxe-ipxe-virtio", ipxe_boot("virtio-net-pci", MGMT_SETTINGS, api=True),
             [MB1_BIOS, dhcp_line("virtio-net")], BIOS_TIMEOUT),
    medium_case("pxe-grub-uefi", boot_pxe_grub_uefi,
                [MB2_UEFI, ACPI_FROM_LOADER, GRUB_COMMAND_LINE], UEFI_TIMEOUT),
    api_case("usb-bios", settings_usb(MGMT_SETTINGS, "virtio-net-pci"),
             [MB2_BIOS, ACPI_FROM_LOADER, GRUB_MGMT_COMMAND_LINE, dhcp_line("virtio-net")],
             BIOS_TIMEOUT),
    api_case("usb-uefi", settings_usb(MGMT_SETTINGS, UEFI_NIC, uefi=True),
             [MB2_UEFI, ACPI_FROM_LOADER, GRUB_MGMT_COMMAND_LINE, dhcp_line(UEFI_NIC)],
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

# Bad configuration through each loader (docs/boot.md, "Bad settings never stop the boot"):
# every problem is one warning and a fallback, the network comes up by DHCP, the API refuses
# every request with 503 and says how to provision a token, and the boot reaches the ready
# line; the host's refused request ends the run (test.mgmt_requests=1).
REFUSED_SETTINGS = "test.mgmt_requests=1"


def refused_case(name, boot, expect, timeout, secret=None):
    case = medium_case(name, boot, expect + [
        r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 GET /v1/host -> 503: ",
        r"^root: mgmt: 1 requests answered \(test.mgmt_requests\); shutting down$",
    ], timeout)
    case.update({"exit_status": 0, "host": refused_check,
                 "reject": CLEAN_REJECT + [r"lwip: assertion", r"^hvfw: network .*\(static"] +
                           ([secret] if secret else [])})
    return case


CASES += [
    # iPXE: an unknown key, an address with a bad prefix, a token too short to be one.
    refused_case("pxe-ipxe-bad-settings",
                 ipxe_boot("virtio-net-pci", "colour=blue net.ip=10.0.2.15/33 mgmt.token=sesame "
                           + REFUSED_SETTINGS, api=True), [
        r'^\[cpu0\] warn: settings: unknown key "colour" ignored$',
        r'^\[cpu0\] warn: settings: net\.ip="10\.0\.2\.15/33" is not an IPv4 address; '
        r'using DHCP$',
        r'^\[cpu0\] warn: settings: mgmt\.token has 6 characters, want 16 to 128; '
        r'management stays locked$',
        r"^\[cpu0\] info: settings: network DHCP, management token absent, 3 problem\(s\)$",
        r'command line: ".* mgmt\.token=<hidden> ',
        r"^root: network: net.ip=10.0.2.15/33 is not A.B.C.D\[/1-32\]; using DHCP$",
        dhcp_line("virtio-net"),
        r"^\[root/vp0\] warn: mgmt: mgmt.token must have 16 to 128 characters: every API "
        r"request is refused \(503\); put mgmt.token_sha256=HEX",
    ], BIOS_TIMEOUT, secret=r"sesame"),
    # GRUB (the USB stick on SeaBIOS): an unknown key, a malformed address and gateway, and
    # no token at all.
    refused_case("usb-bios-bad-settings",
                 settings_usb("colour=blue net.ip=999.1.1.1 net.gateway=10.0.2 "
                              + REFUSED_SETTINGS, "virtio-net-pci"), [
        r'^\[cpu0\] warn: settings: unknown key "colour" ignored$',
        r'^\[cpu0\] warn: settings: net\.ip="999\.1\.1\.1" is not an IPv4 address; using DHCP$',
        r'^\[cpu0\] warn: settings: net\.gateway="10\.0\.2" is not an IPv4 address; ',
        r"^\[cpu0\] info: settings: network DHCP, management token absent, 3 problem\(s\)$",
        dhcp_line("virtio-net"),
        r"^\[root/vp0\] warn: mgmt: no API token: every API request is refused \(503\); "
        r"put mgmt.token_sha256=HEX",
    ], BIOS_TIMEOUT),
]
