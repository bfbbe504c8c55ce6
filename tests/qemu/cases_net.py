"""QEMU cases of the root's network (root/network.c, drivers/virtio_net.c): the root finds the
NIC on PCI, gets its address (DHCP from QEMU's user-mode network, or static), prints the
`hvfw: network` line, and a client on the HOST connects through a hostfwd port to the
test-only echo service (`test.echo_port`), sends bytes and checks they come back. After
`test.echo_sessions` connections the root shuts down (power off: QEMU exit status 0).

Each case picks a free host port when it boots, so cases may run side by side.
"""
import os
import socket
import threading
import time

from cases import CLEAN_REJECT, ready_line

ECHO_PORT = 7
TIMEOUT = 120
MAC = "52:54:00:12:34:56"  # QEMU's default for the first NIC
LINK_LOCAL = "fe80::5054:ff:fe12:3456"  # its EUI-64 (RFC 4291, appendix A)

# case name -> the host port its hostfwd uses (filled when the case boots)
PORTS = {}

NET_REJECT = CLEAN_REJECT + [r"virtio-net: .*(broke|not used)", r"lwip: assertion"]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boot_net(append, device):
    """-kernel with `append` as the whole command line, a user-mode network with a hostfwd
    to the echo port, and `device` (a QEMU -device NIC on netdev n0)."""
    def boot(case, out):
        port = free_port()
        PORTS[case["name"]] = port
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
                "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, ECHO_PORT),
                "-device", device + ",netdev=n0"]
    return boot


def pattern(size):
    return bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(size))


def echo_exchange(port, bulk_bytes, round_trips, timeout=60):
    """Connects, does `round_trips` 64-byte ping-pongs, then streams `bulk_bytes` while
    reading the echo. Returns (problems, round trip seconds list, bulk seconds)."""
    problems = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    try:
        for n in range(round_trips):
            message = bytes([n & 0xFF]) * 64
            t0 = time.monotonic()
            sock.sendall(message)
            got = b""
            while len(got) < len(message):
                chunk = sock.recv(len(message) - len(got))
                if not chunk:
                    return ["echo closed after %d round trips" % n], rtts, 0
                got += chunk
            rtts.append(time.monotonic() - t0)
            if got != message:
                return ["round trip %d: echoed bytes differ" % n], rtts, 0
        data = pattern(bulk_bytes)
        failure = []

        def send():
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError as error:
                failure.append("send: %s" % error)

        t0 = time.monotonic()
        sender = threading.Thread(target=send)
        sender.start()
        received = bytearray()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        bulk_seconds = time.monotonic() - t0
        sender.join()
        problems += failure
        if bytes(received) != data:
            first = next((i for i in range(min(len(received), len(data)))
                          if received[i] != data[i]), min(len(received), len(data)))
            problems.append("bulk echo: got %d of %d bytes, first difference at %d"
                            % (len(received), len(data), first))
        return problems, rtts, bulk_seconds
    finally:
        sock.close()


def echo_check(bulk_bytes=256 * 1024, round_trips=20):
    def host(case):
        problems, rtts, seconds = echo_exchange(PORTS[case["name"]], bulk_bytes, round_trips)
        if not problems:
            rtts.sort()
            print("    %s: %d round trips, median %.2f ms; %d bytes echoed in %.2f s "
                  "(%.0f KiB/s each way)" % (case["name"], len(rtts),
                                             1000 * rtts[len(rtts) // 2], bulk_bytes, seconds,
                                             bulk_bytes / 1024 / seconds), flush=True)
        return problems
    return host


def network_line(ipv4, how, nic="virtio-net"):
    return (r"^hvfw: network en\d mac=%s ipv4=%s ipv6=%s \(%s, %s\)$"
            % (MAC, ipv4.replace(".", r"\."), LINK_LOCAL, how, nic))


def net_case(name, append, device, expect, host=None, exit_status=0, reject=None):
    return {
        "name": name,
        "boot": boot_net(append, device),
        "exit_status": exit_status,
        "expect": expect,
        "reject": NET_REJECT if reject is None else reject,
        "ready": ready_line(),
        "timeout": TIMEOUT,
        "host": host,
    }


ECHO = "test.echo_port=%d test.echo_sessions=1" % ECHO_PORT
ECHO_DONE = r"^root: network: 1 echo sessions done; shutting down$"


def interrupt_line(nic):
    return (r"^root: network: %s receive interrupts through the hypervisor \(device interrupt 0\)$"
            % nic)

CASES = [
    # Transitional virtio-net (QEMU's default), DHCP: 10.0.2.15 from slirp.
    net_case("net-virtio-dhcp", "net=dhcp " + ECHO, "virtio-net-pci",
             [r"^virtio-net: 00:[0-9a-f]{2}\.0 device 1000$",
              r"^root: network: test echo service on TCP port 7$",
              interrupt_line("virtio-net"), network_line("10.0.2.15/24", "dhcp"), ECHO_DONE],
             host=echo_check()),

    # Modern-only virtio-net (device 0x1041), static address and gateway.
    net_case("net-virtio-static", "net.ip=10.0.2.15/24 net.gateway=10.0.2.2 " + ECHO,
             "virtio-net-pci,disable-legacy=on",
             [r"^virtio-net: 00:[0-9a-f]{2}\.0 device 1041$",
              network_line("10.0.2.15/24", "static"), ECHO_DONE],
             host=echo_check(bulk_bytes=64 * 1024, round_trips=5)),

    # A malformed net.ip: a warning, then DHCP; the NIC polled, not interrupt-driven.
    net_case("net-bad-ip", "net.ip=10.0.2.300/24 net.interrupts=off " + ECHO, "virtio-net-pci",
             [r"^root: network: net.ip=10.0.2.300/24 is not A.B.C.D\[/1-32\]; using DHCP$",
              r"^root: network: net.interrupts=off: the NIC is polled every 2 ms$",
              network_line("10.0.2.15/24", "dhcp"), ECHO_DONE],
             host=echo_check(bulk_bytes=4096, round_trips=2)),

    # The Intel 82574L (legacy descriptors), DHCP.
    net_case("net-e1000e-dhcp", "net=dhcp " + ECHO, "e1000e",
             [r"^e1000e: 00:[0-9a-f]{2}\.0 device 10d3 \(82574L\)$", interrupt_line("e1000e"),
              network_line("10.0.2.15/24", "dhcp", "e1000e"), ECHO_DONE],
             host=echo_check()),

    # No NIC: the root says so and runs on (exit_when_idle ends the run).
    {
        "name": "net-no-nic",
        "boot": lambda case, out: ["-kernel", os.path.join(out, "hvfw.elf"),
                                   "-append", "exit_when_idle net=dhcp"],
        "exit_status": 0,
        "expect": [r"^root: network: no usable NIC among \d+ PCI functions; no network$",
                   r"^selftest: root-ports: ok \(COM1 and the LAPIC refused with #GP, PCI "
                   r"configuration passed through\)$"],
        "reject": NET_REJECT + [r"^hvfw: network "],
        "ready": ready_line(),
        "timeout": 60,
    },
]
