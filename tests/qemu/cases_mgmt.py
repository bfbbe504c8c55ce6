"""QEMU cases of the management API (root/mgmt_*.c, docs/api.md): the appliance gets its
address by DHCP on QEMU's user-mode network, and a client on the HOST reaches the API
through a hostfwd port, with Python's http.client, raw sockets and curl: 401 without or
with a wrong token, 200 with it (/v1/host, /v1/partitions, /metrics), 404, 400 for
malformed HTTP, 413 for an oversized body, pipelined keep-alive requests, and 503 for one
connection over the limit while the API still answers. `test.mgmt_requests=N` powers the
appliance off after N answers, so the count of answers is checked too.
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess

from cases import CLEAN_REJECT, ready_line

API_PORT = 8080
CONNECTIONS_MAX = 8  # root/mgmt_server.h
TOKEN = "hvfw-qemu-test-token-0123456789"
TOKEN_SHA256 = hashlib.sha256(TOKEN.encode()).hexdigest()
# Every answer the host action below provokes; the appliance powers off after the last.
ANSWERS = 21

PORTS = {}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boot_mgmt(append):
    def boot(case, out):
        port = free_port()
        PORTS[case["name"]] = port
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-initrd",
                os.path.join("build", "guests", "hello.elf"), "-append", append,
                "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, API_PORT),
                "-device", "virtio-net-pci,netdev=n0"]
    return boot


def request(port, method, path, token=None, body=None):
    """(status, headers dict, body bytes) of one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + token} if token else {}
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def raw_exchange(port, data):
    """Sends raw bytes, reads until the server closes; the bytes it sent back."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            got += chunk


def error_code(body):
    return json.loads(body)["error"]["code"]


def api_check(case):
    port = PORTS[case["name"]]
    problems = []

    def expect(what, got, wanted):
        if got != wanted:
            problems.append("%s: got %r, expected %r" % (what, got, wanted))

    # 1-2: no token, a wrong token.
    status, headers, body = request(port, "GET", "/v1/host")
    expect("no token", (status, error_code(body)), (401, "unauthenticated"))
    expect("WWW-Authenticate", headers.get("WWW-Authenticate"), 'Bearer realm="hvfw"')
    status, _, body = request(port, "GET", "/v1/host", token="not-the-token-at-all")
    expect("wrong token", (status, error_code(body)), (401, "unauthenticated"))
    # 3: the host resource.
    status, headers, body = request(port, "GET", "/v1/host", token=TOKEN)
    expect("GET /v1/host", status, 200)
    host = json.loads(body)
    expect("cpus", host.get("cpus"), 2)
    expect("content type", headers.get("Content-Type"), "application/json")
    if not host.get("root_heap", {}).get("used_bytes"):
        problems.append("/v1/host has no root heap use: %r" % host)
    # 4-5: curl, with and without the token.
    if shutil.which("curl"):
        url = "http://127.0.0.1:%d/v1/host" % port
        out = subprocess.run(["curl", "-sS", "-H", "Authorization: Bearer " + TOKEN, url],
                             capture_output=True, text=True, timeout=30)
        expect("curl with token: cpus", json.loads(out.stdout or "{}").get("cpus"), 2)
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url],
                             capture_output=True, text=True, timeout=30)
        expect("curl without token", out.stdout, "401")
    else:
        request(port, "GET", "/v1/host", token=TOKEN)
        request(port, "GET", "/v1/host")
    # 6-7: partitions.
    status, _, body = request(port, "GET", "/v1/partitions", token=TOKEN)
    expect("GET /v1/partitions", status, 200)
    names = [p["name"] for p in json.loads(body).get("partitions", [])]
    expect("partition names", names, ["a"])
    status, _, body = request(port, "GET", "/v1/partitions/nobody", token=TOKEN)
    expect("unknown partition", (status, error_code(body)), (404, "not_found"))
    # 8-9: malformed HTTP and an oversized body: the error, and the connection closed.
    got = raw_exchange(port, b"GET /v1/host HTTP/1.1\r\nHost : x\r\n\r\n")
    expect("whitespace before colon", got.split(b"\r\n")[0], b"HTTP/1.1 400 Bad Request")
    got = raw_exchange(port, b"PUT /v1/host HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                       + TOKEN.encode() + b"\r\nContent-Length: 100000\r\n\r\n")
    expect("oversized body", got.split(b"\r\n")[0], b"HTTP/1.1 413 Content Too Large")
    # 10-11: two pipelined requests on one connection, then close.
    auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    got = raw_exchange(port, b"GET /v1/host HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
                       b"HEAD /v1/partitions HTTP/1.1\r\nHost: x\r\n" + auth +
                       b"Connection: close\r\n\r\n")
    expect("pipelined statuses", got.count(b"HTTP/1.1 200 OK\r\n"), 2)
    # 12-20: the connection limit. CONNECTIONS_MAX kept-alive connections each answered
    # once, then one more: 503 and closed; afterwards the API answers as before.
    held = []
    try:
        for _ in range(CONNECTIONS_MAX):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/v1/host", headers={"Authorization": "Bearer " + TOKEN})
            response = conn.getresponse()
            response.read()
            expect("held connection", response.status, 200)
            held.append(conn)
        got = raw_exchange(port, b"GET /v1/host HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n")
        expect("one connection too many", got.split(b"\r\n")[0],
               b"HTTP/1.1 503 Service Unavailable")
    finally:
        for conn in held:
            conn.close()
    # 21: metrics, after everything above.
    status, headers, body = request(port, "GET", "/metrics", token=TOKEN)
    expect("GET /metrics", status, 200)
    text = body.decode(errors="replace")
    for line in ['hvfw_api_requests_total{status="401"} 3',
                 'hvfw_api_requests_total{status="404"} 1',
                 'hvfw_api_requests_total{status="503"} 1',
                 "hvfw_api_auth_failures_total 1", 'hvfw_partitions{state="running"} ']:
        if line not in text:
            problems.append("/metrics lacks %r" % line)
    return problems


CASES = [
    {
        "name": "mgmt-api",
        "boot": boot_mgmt("net=dhcp child=a:hello.elf:16:1 mgmt.token_sha256=%s "
                          "test.mgmt_requests=%d" % (TOKEN_SHA256, ANSWERS)),
        "exit_status": 0,
        "expect": [
            r"^selftest: mgmt-api-loopback: ok statuses=401,200,404 ",
            r"^\[root/vp0\] info: mgmt: API token provisioned by mgmt.token_sha256$",
            r"^root: mgmt: API listening on TCP port 8080 ",
            r"^root: mgmt: TLS certificate CN=hvfw \(ECDSA P-256, self-signed, \d+ bytes, \d+ ms\) "
            r"sha256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}$",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 GET /v1/host -> 401: ",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 -> 400: malformed header field$",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 -> 413: ",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 -> 503: too many connections",
            r"^root: mgmt: %d requests answered \(test.mgmt_requests\); shutting down$" % ANSWERS,
        ],
        "reject": CLEAN_REJECT + [r"lwip: assertion", TOKEN],
        "ready": ready_line(),
        "timeout": 120,
        "host": api_check,
    },
    {
        # No token provisioned: every request is refused with 503 and the console says how.
        "name": "mgmt-api-no-token",
        "boot": boot_mgmt("net=dhcp test.mgmt_requests=1"),
        "exit_status": 0,
        "expect": [
            r"^\[root/vp0\] warn: mgmt: no API token: every API request is refused \(503\); "
            r"put mgmt.token_sha256=HEX",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 GET /v1/host -> 503: ",
        ],
        "reject": CLEAN_REJECT + [r"lwip: assertion"],
        "ready": ready_line(),
        "timeout": 120,
        "host": lambda case: (
            [] if request(PORTS[case["name"]], "GET", "/v1/host", token=TOKEN)[0] == 503
            else ["a request without a provisioned token was not refused with 503"]),
    },
]
