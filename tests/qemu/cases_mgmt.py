"""QEMU cases of the management API (root/mgmt_*.c, docs/api.md): the appliance gets its
address by DHCP on QEMU's user-mode network, and a client on the HOST reaches the API
through a hostfwd port, with Python's http.client, raw sockets and curl: 401 without or
with a wrong token, 200 with it (/v1/host, /v1/partitions, /metrics), 404, 400 for
malformed HTTP, 413 for an oversized body, pipelined keep-alive requests, and 503 for one
connection over the limit while the API still answers (these on plain HTTP,
mgmt.insecure_http=1, to reach the HTTP engine byte by byte). `test.mgmt_requests=N` powers
the appliance off after N answers, so the count of answers is checked too.

mgmt-hvctl: the API over TLS on 8443, driven by build/hvctl and checked with curl
(--cacert with the certificate fetched by Python's ssl, whose SHA-256 must be the console's
fingerprint): info, ls, stop/start/reset of a declared burner child, create + start + rm
of a hello child from the boot modules, 400/404/409, a wrong token (exit 4), a changed
fingerprint refused before anything is sent (exit 3), --json and metrics.
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

from cases import CLEAN_REJECT, ready_line

API_PORT = 8080
TLS_PORT = 8443
HVCTL = os.path.join("build", "hvctl")
OUT = os.path.join("build", "tests", "qemu")
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


def boot_mgmt(append, guest_port=API_PORT, modules=("hello.elf",)):
    def boot(case, out):
        port = free_port()
        PORTS[case["name"]] = port
        return ["-kernel", os.path.join(out, "hvfw.elf"), "-initrd",
                ",".join(os.path.join("build", "guests", m) for m in modules),
                "-append", append,
                "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, guest_port),
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


# Every answer mgmt-hvctl's host action provokes (the TLS-only probes get none).
HVCTL_ANSWERS = 18


def hvctl(case, *args, token=TOKEN, known_hosts=None):
    """(exit status, stdout, stderr) of build/hvctl against the case's appliance."""
    env = dict(os.environ, HVCTL_KNOWN_HOSTS=known_hosts or known_hosts_path(case))
    env.pop("HVCTL_TOKEN", None)
    command = [HVCTL, "--host", "127.0.0.1:%d" % PORTS[case["name"]]]
    if token:
        command += ["--token", token]
    out = subprocess.run(command + list(args), capture_output=True, text=True, env=env,
                         timeout=60)
    return out.returncode, out.stdout, out.stderr


def known_hosts_path(case):
    return os.path.join(OUT, case["name"] + ".known_hosts")


def console_fingerprint(case):
    with open(os.path.join(OUT, case["name"] + ".log"), errors="replace") as f:
        for line in f:
            if "TLS certificate CN=hvfw" in line:
                return line.split("sha256 fingerprint ")[1].strip()
    return None


def wait_for_line(case, text, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(os.path.join(OUT, case["name"] + ".log"), errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.5)
    return False


def hvctl_check(case):
    port = PORTS[case["name"]]
    problems = []
    pins = known_hosts_path(case)
    if os.path.exists(pins):
        os.remove(pins)

    def expect(what, got, wanted):
        if got != wanted:
            problems.append("%s: got %r, expected %r" % (what, got, wanted))

    def curl(method, path, body=None, token=TOKEN):
        """(HTTP status, body) by curl, trusting only the appliance's own certificate."""
        command = ["curl", "-sS", "--cacert", pem_path, "--resolve", "hvfw:%d:127.0.0.1" % port,
                   "-X", method, "-H", "Authorization: Bearer " + token,
                   "-w", "\n%{http_code}", "https://hvfw:%d%s" % (port, path)]
        if body is not None:
            command += ["-H", "Content-Type: application/json", "--data-binary", body]
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            problems.append("curl %s %s: %s" % (method, path, out.stderr.strip()))
            return 0, ""
        text, _, status = out.stdout.rpartition("\n")
        return int(status), text

    # 1: first use pins the certificate; it is the one the console printed.
    code, out, err = hvctl(case, "info")
    expect("hvctl info", code, 0)
    if "2 CPUs" not in out or "pinned its certificate" not in err:
        problems.append("hvctl info said %r / %r" % (out, err))
    fingerprint = console_fingerprint(case)
    with open(pins) as f:
        pinned = f.read().split()
    expect("pinned fingerprint", pinned, ["127.0.0.1:%d" % port, fingerprint])
    # The certificate by Python's TLS client (a handshake, no request): same fingerprint.
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    der = ssl.PEM_cert_to_DER_cert(pem)
    served = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
    expect("served certificate", served, fingerprint)
    pem_path = os.path.join(OUT, case["name"] + ".pem")
    with open(pem_path, "w") as f:
        f.write(pem)
    # 2-8: the declared burner child: ls, stop (twice), start, reset.
    code, out, _ = hvctl(case, "ls")
    expect("hvctl ls", code, 0)
    if not any(l.split()[:2] == ["a", "running"] for l in out.splitlines()):
        problems.append("hvctl ls: %r" % out)
    code, out, _ = hvctl(case, "stop", "a")
    expect("hvctl stop a", (code, "stopped" in out), (0, True))
    status, body = curl("GET", "/v1/partitions/a")
    expect("curl a after stop", (status, json.loads(body or "{}").get("state")),
           (200, "stopped"))
    code, _, err = hvctl(case, "stop", "a")
    expect("hvctl stop a again", code, 5)
    if "conflict" not in err:
        problems.append("hvctl stop a again said %r" % err)
    code, out, _ = hvctl(case, "start", "a")
    expect("hvctl start a", (code, "running" in out), (0, True))
    status, body = curl("POST", "/v1/partitions/a/reset")
    expect("curl reset a", (status, json.loads(body or "{}").get("state")), (202, "running"))
    # 9-14: a child made from the boot modules: create, refusals, start, rm.
    code, out, err = hvctl(case, "create", "b", "--kernel", "hello.elf", "--memory", "16",
                           "--vps", "1")
    expect("hvctl create b", code, 0)
    spec = '{"name":"b","memory_mib":16,"vps":1,"boot":{"kernel":"hello.elf"}}'
    status, body = curl("POST", "/v1/partitions", spec)
    expect("curl create b again", (status, error_code(body or "{}") if status >= 400 else ""),
           (409, "conflict"))
    status, body = curl("POST", "/v1/partitions", spec.replace('"b"', '"c"')
                        .replace("hello.elf", "nothere.elf"))
    expect("curl create with no such module", status, 400)
    code, out, _ = hvctl(case, "start", "b")
    expect("hvctl start b", code, 0)
    if not wait_for_line(case, "hvfw: child b stopped reason=poweroff exit_code=0", 60):
        problems.append("child b did not power off")
    code, out, _ = hvctl(case, "rm", "b")
    expect("hvctl rm b", (code, out), (0, "b: deleted\n"))
    status, _ = curl("GET", "/v1/partitions/b")
    expect("curl b after rm", status, 404)
    code, _, err = hvctl(case, "show", "b")
    expect("hvctl show b after rm", code, 5)
    # 15-16: a wrong token.
    code, _, err = hvctl(case, "ls", token="not-the-token-at-all")
    expect("hvctl with a wrong token", code, 4)
    status, _ = curl("GET", "/v1/host", token="not-the-token-at-all")
    expect("curl with a wrong token", status, 401)
    # A changed fingerprint: refused after the handshake, before the request (no answer).
    changed = pins + ".changed"
    with open(changed, "w") as f:
        f.write("127.0.0.1:%d %s\n" % (port, ":".join(["00"] * 32)))
    code, _, err = hvctl(case, "info", known_hosts=changed)
    expect("hvctl with a changed fingerprint", code, 3)
    if "CHANGED" not in err or fingerprint not in err:
        problems.append("hvctl with a changed fingerprint said %r" % err)
    # 17-18: --json and metrics.
    code, out, _ = hvctl(case, "--json", "ls")
    expect("hvctl --json ls", (code, [p["name"] for p in json.loads(out or "{}")
                                      .get("partitions", [])]), (0, ["a"]))
    code, out, _ = hvctl(case, "metrics")
    expect("hvctl metrics", code, 0)
    for line in ['hvfw_api_requests_total{status="201"} 1',
                 'hvfw_api_requests_total{status="204"} 1',
                 'hvfw_api_requests_total{status="409"} 2']:
        if line not in out:
            problems.append("metrics lack %r" % line)
    return problems


CASES = [
    {
        "name": "mgmt-api",
        "boot": boot_mgmt("net=dhcp child=a:hello.elf:16:1 mgmt.token_sha256=%s "
                          "mgmt.insecure_http=1 test.mgmt_requests=%d"
                          % (TOKEN_SHA256, ANSWERS)),
        "exit_status": 0,
        "expect": [
            r"^selftest: mgmt-api-loopback: ok statuses=401,200,404 ",
            r"^\[root/vp0\] info: mgmt: API token provisioned by mgmt.token_sha256$",
            r"^root: mgmt: API listening on TCP port 8080: PLAIN HTTP/1.1 "
            r"\(mgmt.insecure_http=1\)",
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
        "boot": boot_mgmt("net=dhcp mgmt.insecure_http=1 test.mgmt_requests=1"),
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
    {
        # The API over TLS, driven by hvctl and checked by curl (see the top).
        "name": "mgmt-hvctl",
        "boot": boot_mgmt("net=dhcp child=a:burner.elf:16:1 mgmt.token_sha256=%s "
                          "test.mgmt_requests=%d" % (TOKEN_SHA256, HVCTL_ANSWERS),
                          guest_port=TLS_PORT, modules=("burner.elf", "hello.elf")),
        "exit_status": 0,
        "expect": [
            r"^root: mgmt: API listening on TCP port 8443 \(HTTPS: TLS 1.2, HTTP/1.1\)$",
            r"^hvfw: child a stopped reason=hard-stop$",
            r"^hvfw: child a starting \(management API\)$",
            r"^hvfw: child a restarting \(management API\)$",
            r"^hvfw: child b created \(management API\): hello.elf, 16 MiB, 1 VPs$",
            r"^\[b\] hello: PASS$",
            r"^hvfw: child b deleted$",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 POST /v1/partitions/a/stop -> 409: ",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 POST /v1/partitions -> 409: ",
            r"^\[root/vp0\] warn: mgmt: 10\.0\.2\.2 GET /v1/partitions -> 401: ",
            r"^root: mgmt: %d requests answered \(test.mgmt_requests\); shutting down$"
            % HVCTL_ANSWERS,
        ],
        "reject": CLEAN_REJECT + [r"lwip: assertion", TOKEN],
        "ready": ready_line(),
        "timeout": 240,
        "host": hvctl_check,
    },
]
