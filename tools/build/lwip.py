"""lwIP: the TCP/IP stack of the root partition, built from Debian's lwip source package
(deps/lwip) with our port (libc-glue/lwip: lwipopts.h, arch/cc.h) as the Ninja target
`lwip`. Its own warning flags; the port and glue keep ours. altcp_tls_mbedtls (the
management API's TLS, root/mgmt_server.c) is built against mbedTLS with our configuration."""
import glob
import os

import mbedtls

PORT = "libc-glue/lwip"


def emit(n, ctx):
    build = ctx["build"]
    srcs = (glob.glob("deps/lwip/src/core/*.c") + glob.glob("deps/lwip/src/core/ipv4/*.c") +
            glob.glob("deps/lwip/src/core/ipv6/*.c") + ["deps/lwip/src/netif/ethernet.c"] +
            glob.glob("deps/lwip/src/apps/altcp_tls/*.c"))
    flags = (ctx["target_base"] + ["-std=gnu11", "-w"] + ctx["libc_includes"] +
             ["-I" + PORT, "-Ideps/lwip/src/include", "-I."] +
             ["-I" + i for i in mbedtls.INCLUDES] + mbedtls.DEFINES)
    n.variable("lwip_cflags", " ".join(flags))
    objs = []
    for src in sorted(srcs):
        rel = os.path.relpath(src, "deps/lwip/src")
        o = os.path.join(build, "lwip", rel[:-2] + ".o")
        cflags = "$lwip_cflags"
        if "altcp_tls" in src:
            # It takes the MBEDTLS_ERR_NET_* codes from mbedtls/net.h, which our
            # configuration's MBEDTLS_DEPRECATED_REMOVED empties: their real header.
            cflags += " -include mbedtls/net_sockets.h"
        n.build(o, "cc", src, order_only=[ctx["newlib"]["stamp"]],
                implicit=["root/mbedtls_config.h"] if "altcp_tls" in src else [],
                variables={"cflags": cflags})
        objs.append(o)
    archive = os.path.join(build, "lwip", "liblwip.a")
    n.build(archive, "ar", objs)
    n.build("lwip", "phony", [archive])
    n.newline()
    return {"archive": archive, "includes": [PORT, "deps/lwip/src/include"]}
