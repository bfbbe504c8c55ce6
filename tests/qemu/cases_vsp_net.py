"""Issue 5's network acceptance: Debian's hv_netvsc in Linux children, served by the root's
network VSP (vsp/netvsp.c) on its VMBus server (root/vmbus_server.c), through the virtual
switch (vsp/vswitch.c) whose external port is the machine's virtio-net NIC on QEMU's
user-mode network (root/network.c).

One boot, two Linux children (images/linux/init's hvfw.net* words):
  a  DHCP from QEMU's user network (through netvsp, the switch and the NIC), reads a file
     from a TCP server on the host (10.0.2.2 is the host's loopback under user networking),
     sends it back to a second host server, pings b, then sends the file to b;
  b  a static address on the same subnet, takes one TCP connection and prints what came.
The host servers run in this process (started when the case boots, on free ports); the
host action checks the bytes a sent back. Every child line is checked against the file's
MD5, so a corrupt, short or reordered transfer fails the case.
"""
import hashlib
import os
import socket
import threading

from cases import ready_line
from cases_linux import CHILD_REJECT, guest, linux_file

TIMEOUT = 600
FILE_BYTES = 1 << 20
PEER_ADDRESS = "10.0.2.100"
PEER_PORT = 5001
# The machine's NIC under the switch; HVFW_VSP_NET_NIC=e1000e tries the 82574L by hand.
NIC = os.environ.get("HVFW_VSP_NET_NIC", "virtio-net-pci")


def pattern(size):
    """A file no two offsets of which repeat within 64 KiB: reordering shows in its MD5."""
    block = bytearray()
    counter = 0
    while len(block) < size:
        block += hashlib.sha256(counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(block[:size])


FILE = pattern(FILE_BYTES)
FILE_MD5 = hashlib.md5(FILE).hexdigest()

# case name -> its host servers (made when the case boots)
SERVERS = {}


class Server:
    """One TCP connection on 127.0.0.1: `send` is written then the socket closed, or what
    arrives is kept until the peer's end of stream."""

    def __init__(self, send=None):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.send = send
        self.received = bytearray()
        self.error = None
        self.done = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        try:
            connection, _ = self.listener.accept()
            with connection:
                connection.settimeout(TIMEOUT)
                if self.send is not None:
                    connection.sendall(self.send)
                    connection.shutdown(socket.SHUT_WR)
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    if self.send is None:
                        self.received += chunk
        except OSError as error:
            self.error = str(error)
        finally:
            self.listener.close()
            self.done.set()


def boot_children(case, out):
    get, put = Server(send=FILE), Server()
    SERVERS[case["name"]] = (get, put)
    a = ("console=ttyS0 hvfw.action=poweroff hvfw.net=dhcp hvfw.net.get=10.0.2.2:%d "
         "hvfw.net.put=10.0.2.2:%d hvfw.net.ping=%s hvfw.net.send=%s:%d"
         % (get.port, put.port, PEER_ADDRESS, PEER_ADDRESS, PEER_PORT))
    b = ("console=ttyS0 hvfw.action=poweroff hvfw.net=%s/24 hvfw.net.listen=%d"
         % (PEER_ADDRESS, PEER_PORT))
    append = ('exit_when_idle child=a:vmlinuz:256:1 initrd.a=initramfs.cpio.gz cmdline.a="%s" '
              'child=b:vmlinuz:256:1 initrd.b=initramfs.cpio.gz cmdline.b="%s"' % (a, b))
    modules = [linux_file("vmlinuz"), linux_file("initramfs.cpio.gz")]
    return ["-kernel", os.path.join(out, "hvfw.elf"), "-append", append,
            "-initrd", ",".join(modules),
            "-netdev", "user,id=n0", "-device", NIC + ",netdev=n0"]


def check_put(case):
    """The bytes child a sent back to the host are the file."""
    get, put = SERVERS[case["name"]]
    if not put.done.wait(60):
        return ["the host's put server has not seen the end of the child's stream"]
    problems = []
    for name, server in (("get", get), ("put", put)):
        if server.error:
            problems.append("host %s server: %s" % (name, server.error))
    if bytes(put.received) != FILE:
        problems.append("the child sent back %d bytes (md5 %s), not the %d-byte file"
                        % (len(put.received), hashlib.md5(put.received).hexdigest(),
                           FILE_BYTES))
    return problems


CASES = [{
    "name": "vsp-net-linux",
    "smp": 2,
    "memory": "1G",
    "boot": boot_children,
    "exit_status": 0,
    "expect": [
        r"^\[root/vp0\] info: vmbus: child a: network adapter mac=02(:[0-9a-f]{2}){5} on switch "
        r"port \d+$",
        guest("a", r"eth0 driver hv_netvsc mac 02(:[0-9a-f]{2}){5}$"),
        guest("a", r"net address 10\.0\.2\.\d+/24$"),
        guest("a", r"net get %d bytes md5 %s in " % (FILE_BYTES, FILE_MD5)),
        guest("a", r"net put done in "),
        guest("a", r"net ping %s ok: " % PEER_ADDRESS.replace(".", r"\.")),
        guest("a", r"net sent %d bytes md5 %s to " % (FILE_BYTES, FILE_MD5)),
        guest("b", r"eth0 driver hv_netvsc mac 02(:[0-9a-f]{2}){5}$"),
        guest("b", r"net address %s/24$" % PEER_ADDRESS.replace(".", r"\.")),
        guest("b", r"net received %d bytes md5 %s$" % (FILE_BYTES, FILE_MD5)),
        r"^hvfw: child a stopped reason=poweroff$",
        r"^hvfw: child b stopped reason=poweroff$",
        r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$",
    ],
    "reject": CHILD_REJECT + [
        r"hvfw-guest: .*(failed|not loaded|no eth0)",
        # a channel the root closed (a forced close is a warning; the orderly close at power
        # off is a debug line)
        r"^\[root/vp0\] (warn|error): vmbus: child \w+: .*clos",
        r"virtio-net: .*(broke|not used)",
        r"lwip: assertion",
    ],
    "ready": ready_line(2, "1G"),
    "timeout": TIMEOUT,
    "alone": True,
    "host": check_put,
    "host_after": r"^\[a\] hvfw-guest: net put ",
}]
