"""The management API under load, from the host (asyncio + ssl): used by the QEMU case
mgmt-load (tests/qemu/cases_console.py, small counts) and bench/mgmt-load (the full counts).

  concurrent(port, n):  n connections opened at once, each sends GET /v1/host as soon as
      its TLS handshake is done; each ends as 200, 503 (over the connection limit) or a
      failure; the latency from connect to the whole answer.
  sequential(port, n, pipeline, per_connection): n requests, `pipeline` written at once on a
      keep-alive connection, a new connection (and TLS handshake) every `per_connection`.
  heap(port): hvfw_root_heap_bytes by kind from /metrics ({"used": break, "allocated":
      bytes in allocated blocks, "size": the heap}), read on a connection of its own.
"""
import asyncio
import re
import socket
import ssl
import time

TOKEN = "hvfw-qemu-test-token-0123456789"


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # pinning is hvctl's; this measures the server
    return context


def request_bytes(path, close=False):
    return ("GET %s HTTP/1.1\r\nHost: hvfw\r\nAuthorization: Bearer %s\r\n%s\r\n"
            % (path, TOKEN, "Connection: close\r\n" if close else "")).encode()


async def read_response(reader):
    """(status, body) of one response; raises on EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"\r\nContent-Length: (\d+)\r\n", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    return status, body


async def one_connection(sock, timeout):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(sock=sock, ssl=tls_context(), server_hostname="hvfw"),
            timeout)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
        return "connect: %s" % type(error).__name__, time.monotonic() - started
    try:
        writer.write(request_bytes("/v1/host", close=True))
        await writer.drain()
        status, _ = await asyncio.wait_for(read_response(reader), timeout)
        result = status
    except (OSError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
        result = "request: %s" % type(error).__name__
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 5)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            pass
    return result, time.monotonic() - started


def concurrent(port, n, timeout=60):
    """[(result, seconds)] of n connections open at once: their TCP connections are made one
    after the other (QEMU's user-mode network listens on a hostfwd port with a backlog of 1:
    simultaneous connects overflow the host's accept queue and wait for SYN retransmissions,
    1 + 2 + 4 + 8 + 16 s, which is the harness, not the appliance), then every TLS handshake
    and request runs at once."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=timeout) for _ in range(n)]
    for s in socks:
        s.setblocking(False)

    async def run():
        return await asyncio.gather(*(one_connection(s, timeout) for s in socks))
    return asyncio.run(run())


def sequential(port, n, pipeline=10, per_connection=100, timeout=60):
    """(statuses counted, max seconds per batch, seconds in all) of n requests."""
    async def run():
        counts, worst, done = {}, 0.0, 0
        started = time.monotonic()
        while done < n:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port, ssl=tls_context()), timeout)
            on_this = 0
            while done < n and on_this < per_connection:
                batch = min(pipeline, n - done, per_connection - on_this)
                last = done + batch == n or on_this + batch == per_connection
                t0 = time.monotonic()
                writer.write(b"".join(request_bytes("/v1/partitions" if i % 2 else "/v1/host",
                                                    close=last and i == batch - 1)
                                      for i in range(batch)))
                await writer.drain()
                for _ in range(batch):
                    status, _ = await asyncio.wait_for(read_response(reader), timeout)
                    counts[status] = counts.get(status, 0) + 1
                worst = max(worst, time.monotonic() - t0)
                done += batch
                on_this += batch
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 5)
            except (OSError, ssl.SSLError, asyncio.TimeoutError):
                pass
        return counts, worst, time.monotonic() - started
    return asyncio.run(run())


def heap(port, timeout=60):
    async def run():
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=tls_context()), timeout)
        writer.write(request_bytes("/metrics", close=True))
        await writer.drain()
        status, body = await asyncio.wait_for(read_response(reader), timeout)
        writer.close()
        kinds = dict(re.findall(rb'\nhvfw_root_heap_bytes\{kind="(\w+)"\} (\d+)', body))
        return {k.decode(): int(v) for k, v in kinds.items()} if status == 200 else {}
    return asyncio.run(run())


def summarize(results):
    """'200 x8, 503 x92; max 1.2 s' for concurrent()'s results."""
    counts = {}
    for result, _ in results:
        counts[result] = counts.get(result, 0) + 1
    text = ", ".join("%s x%d" % (k, v) for k, v in sorted(counts.items(), key=str))
    return counts, "%s; max %.2f s" % (text, max(s for _, s in results))
