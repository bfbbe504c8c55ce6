"""Issue 5's hostile-VSC acceptance: images/guests/hostilevsc speaks VMBus to the root's
VMBus server (root/vmbus_server.c over vmbus/) and sends it malformed control messages, bad
GPADLs, bad opens, corrupt ring indices, oversized and malformed packets and floods, each
checked in the guest against the host's rules (an error reply, no reply, or a channel the
host closed: docs/ARCHITECTURE.md, "A hostile VSC"); it ends by proving the host still
serves it (UNLOAD, a fresh contact, an open and an NVSP round trip) and prints
`hostilevsc: PASS`. Two of them run at once (v and w: the same relids and GPADL handles
on two connections, floods and closes interleaved) beside memtest, which checks every word
of its own RAM. w also has a SCSI disk (a volume of a blank disk the root formats), so its
storage channel is a second channel: a corrupt ring closes that one only, the network
channel runs on.

The case checks both PASS lines and a few of v's observations, that the root logged the
refusals (one warn line of each kind), that memtest passed and all three children powered
off with exit code 0, and that the root stayed healthy to the end: exit_when_idle shuts it
down with code 0 once all have stopped.
"""
import os

from cases_children import CHILD_REJECT, boot_children, children_case, stopped

IMAGE_BYTES = 32 << 20
APPEND = ("exit_when_idle disk.format=1 disk.data=16 child=v:hostilevsc.elf:16:1 "
          "child=w:hostilevsc.elf:16:1 scsi.w=data child=m:memtest.elf:16:1")


def boot_with_disk(case, out):
    """The children, and a blank disk the root formats with a 16 MiB volume `data` that
    w gets as its SCSI disk (a second channel: storvsp)."""
    path = os.path.join(out, "hostilevsc.img")
    if os.path.exists(path):
        os.remove(path)
    with open(path, "wb") as f:
        f.truncate(IMAGE_BYTES)
    return boot_children(APPEND, ["hostilevsc", "memtest"])(case, out) + [
        "-drive", "file=%s,if=none,id=d0,format=raw" % path,
        "-device", "virtio-blk-pci,drive=d0"]


V = r"^\[v\] hostilevsc: "
W = r"^\[w\] hostilevsc: "
WARN = r"^\[root/vp\d+\] warn: vmbus: child v: "
REFUSED = WARN + r"vmbus: child "
CLOSED = WARN + r"vmbus: channel \d+ \(netvsp\) closed: "

CASE = children_case(
    "hostilevsc", 2, APPEND, ["hostilevsc", "memtest"],
    [V + r"\[\d+\] observed: HvPostMessage status 0x5 \(HV_STATUS_INVALID_PARAMETER\)$",
     V + r"\[\d+\] observed: VERSION_RESPONSE version_supported=1 msg_conn_id=1$",
     V + r"\[\d+\] observed: offer relid \d+ connection 0x4[0-9a-f]{2} type "
         r"f8615163-df3e-46c5-913f-f2d2f965ed0e \(network\)$",
     V + r"\[\d+\] observed: 40 OPENCHANNEL_RESULT in order in \d+ ms",
     V + r"\[\d+\] observed: 128 GPADL_TORNDOWN$",
     V + r"\[\d+\] observed: NVSP INIT completed: version 0x60001, status 1$",
     V + r"\[\d+\] observed: all \d+ packets read, the channel still open$",
     V + r"\[\d+\] observed: the host closed the channel in batch \d+ ",
     V + r"\[\d+\] observed: the host closed the channel; reopened on ring [01]$",
     V + r"\[\d+\] observed: GPADL_TORNDOWN, UNLOAD_RESPONSE$",
     V + r"PASS$",
     V + r"no storage channel offered: the second-channel steps are left out$",
     W + r"\[\d+\] observed: offer relid \d+ connection 0x4[0-9a-f]{2} type "
         r"ba6163d9-04a1-4d29-b605-72e2ffb1dc7f \(storage\)$",
     W + r"\[\d+\] observed: the host had closed the storage channel only$",
     W + r"PASS$",
     # the root's refusals, one of each kind
     REFUSED + r"message refused: shorter than the message header \(type <unknown>, 4 "
               r"bytes\)$",
     REFUSED + r"message refused: not a message type a child sends \(type OFFERCHANNEL, "
               r"196 bytes\)$",
     REFUSED + r"message refused: shorter than its type requires \(type "
               r"INITIATE_CONTACT, 16 bytes\)$",
     REFUSED + r"REQUESTOFFERS refused: no version negotiated$",
     REFUSED + r"INITIATE_CONTACT refused: not a VMBus message connection id$",
     WARN + r"message type 0x2 to connection 4 is not VMBus's; dropped$",
     WARN + r"vmbus: INITIATE_CONTACT 5\.3 refused: target VP does not exist$",
     WARN + r"vmbus: INITIATE_CONTACT 5\.3 refused: message SINT out of range$",
     REFUSED + r"REQUESTOFFERS refused: offers were already sent$",
     REFUSED + r"GPADL_HEADER refused: GPADL page is not the child's memory$",
     REFUSED + r"GPADL_HEADER refused: GPADL range has fewer PFNs than its bytes need$",
     REFUSED + r"GPADL_HEADER refused: GPADL handle already in use$",
     REFUSED + r"GPADL_HEADER refused: too many GPADLs$",
     REFUSED + r"GPADL_HEADER refused: GPADLs of this child exceed the page bound$",
     REFUSED + r"GPADL_BODY refused: GPADL data runs past the announced length$",
     REFUSED + r"GPADL_BODY refused: GPADL_BODY for no GPADL in progress$",
     REFUSED + r"GPADL_TEARDOWN refused: no such GPADL on that channel$",
     REFUSED + r"OPENCHANNEL refused: unknown channel$",
     REFUSED + r"OPENCHANNEL refused: downstream ring offset leaves a ring without data "
               r"pages$",
     REFUSED + r"OPENCHANNEL refused: ring GPADL is not whole pages$",
     REFUSED + r"OPENCHANNEL refused: ring too large or its indices are invalid$",
     REFUSED + r"OPENCHANNEL refused: channel already open$",
     CLOSED + r"child's ring indices or descriptor corrupt$",
     CLOSED + r"child's read index of the host ring is invalid$",
     CLOSED + r"packet longer than the device accepts$",
     CLOSED + r"unknown packet type$",
     CLOSED + r"GPA_DIRECT range count out of range$",
     CLOSED + r"netvsp: the child sends requests but does not read its completions$",
     CLOSED + r"its ring GPADL was torn down$",
     r"^\[root/vp\d+\] warn: vmbus: child w: vmbus: channel \d+ \(data\) closed: "
     r"child's ring indices or descriptor corrupt$",
     # the other child and the root
     r"^\[m\] memtest: PASS tested \d+ MiB",
     stopped("v"), stopped("w"), stopped("m"),
     r"^root: every child has stopped; exit_when_idle: shutting down \(code 0\)$"],
    reject=CHILD_REJECT + [r"^\[[vw]\] hostilevsc: .*FAIL", r"^\[m\] memtest: FAIL",
                           r"^\[root/vp\d+\] warn: vmbus: child m: "])
CASE["boot"] = boot_with_disk

CASES = [CASE]
