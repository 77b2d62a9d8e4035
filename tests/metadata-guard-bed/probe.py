#!/usr/bin/python3
"""Tries to reach the instance metadata service, as whoever runs it, for the guard's test bed.

Each argument is PROTOCOL:FORM, all tried at once. FORM is how the address is written (the parser a client
uses turns each into the same kernel address): dotted, decimal, hex, octal, mapped
(IPv4-mapped IPv6) or ipv6. PROTOCOL is tcp (the whole IMDSv2 credentials flow), mptcp
(the same over Multipath TCP), udp (a datagram the service echoes) or icmp (an echo
request, through an ICMP datagram socket, which an unprivileged user may open where
net.ipv4.ping_group_range allows). One line per argument: "PROTOCOL:FORM OPEN detail" when
the service answered, "PROTOCOL:FORM REFUSED reason" when the guard's reject (or silence)
stopped it, "PROTOCOL:FORM FAILED reason" for any other error.

With the argument "held READY GO" it opens a TCP connection first, creates the file READY,
waits for the file GO, and only then asks for a token over that connection: a connection
opened before the guard loaded.
"""
import errno
import json
import os
import socket
import sys
import threading
import time

FORMS = {
    "dotted": "169.254.169.254",
    "decimal": "2852039166",
    "hex": "0xa9fea9fe",
    "octal": "0251.0376.0251.0376",
    "mapped": "::ffff:169.254.169.254",
    "ipv6": "fd00:ec2::254",
}
TIMEOUT = 2
IPPROTO_MPTCP = 262


def address(form, kind):
    # getaddrinfo, as clients resolve a numeric host (glibc accepts inet_aton's forms).
    family, _, _, _, sockaddr = socket.getaddrinfo(FORMS[form], 80, 0, kind)[0]
    return family, sockaddr


def request(sock, method, path, headers):
    lines = [f"{method} {path} HTTP/1.1", "Host: 169.254.169.254", *[f"{k}: {v}" for k, v in headers.items()], "Content-Length: 0", "", ""]
    sock.sendall("\r\n".join(lines).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed")
        head += chunk
    header, _, body = head.partition(b"\r\n\r\n")
    status = int(header.split(b" ")[1])
    length = int([l.split(b":")[1] for l in header.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += sock.recv(4096)
    if status != 200:
        raise ConnectionError(f"HTTP {status} for {method} {path}")
    return body.decode()


def credentials_flow(sock):
    token = request(sock, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    auth = {"X-aws-ec2-metadata-token": token}
    role = request(sock, "GET", "/latest/meta-data/iam/security-credentials/", auth)
    return json.loads(request(sock, "GET", f"/latest/meta-data/iam/security-credentials/{role}", auth))["AccessKeyId"]


def stream(form, protocol):
    family, sockaddr = address(form, socket.SOCK_STREAM)
    with socket.socket(family, socket.SOCK_STREAM, protocol) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(sockaddr)
        return f"credentials {credentials_flow(sock)}"


def datagram(form):
    family, sockaddr = address(form, socket.SOCK_DGRAM)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(b"metadata?", sockaddr)
        return f"echo {sock.recv(64).decode()}"


def echo_request(form):
    family, sockaddr = address(form, socket.SOCK_DGRAM)
    v6 = family == socket.AF_INET6
    kind = 128 if v6 else 8
    body = bytes([kind, 0, 0, 0, 0, 0, 0, 1]) + b"metadata?"
    if not v6:  # the kernel fills in the ICMPv6 checksum, not the ICMP one
        total = sum((body[i] << 8) + (body[i + 1] if i + 1 < len(body) else 0) for i in range(0, len(body), 2))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        checksum = ~total & 0xFFFF
        body = body[:2] + bytes([checksum >> 8, checksum & 0xFF]) + body[4:]
    with socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(body, sockaddr)
        reply = sock.recv(128)
        return f"echo reply type {reply[0]}"


def verdict(error):
    """REFUSED only for what the guard's reject does: the connection refused or the send not
    permitted (EPERM from the local reject), or, where the kernel reports nothing (an ICMPv6
    echo, a connection opened before the guard), no answer in time. Anything else (a
    permission the bed did not give, a bad address) is FAILED and proves nothing."""
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "REFUSED"
    if isinstance(error, OSError) and error.errno in (errno.ECONNREFUSED, errno.EPERM):
        return "REFUSED"
    return "FAILED"


def probe(spec):
    protocol, form = spec.split(":")
    started = time.monotonic()
    try:
        if protocol == "tcp":
            detail = stream(form, 0)
        elif protocol == "mptcp":
            detail = stream(form, IPPROTO_MPTCP)
        elif protocol == "udp":
            detail = datagram(form)
        elif protocol == "icmp":
            detail = echo_request(form)
        else:
            raise SystemExit(f"unknown protocol {protocol}")
        outcome = f"OPEN {detail}"
    except (OSError, ConnectionError, ValueError, IndexError) as error:
        outcome = f"{verdict(error)} {type(error).__name__}: {error}"
    return f"{spec} {outcome} ({(time.monotonic() - started) * 1000:.0f} ms)"


def held(ready, go):
    family, sockaddr = address("dotted", socket.SOCK_STREAM)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(sockaddr)
    open(ready, "w").close()
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.02)
    try:
        return f"held:dotted OPEN credentials {credentials_flow(sock)}"
    except (OSError, ConnectionError, ValueError) as error:
        return f"held:dotted {verdict(error)} {type(error).__name__}: {error}"


if sys.argv[1] == "held":
    print(held(sys.argv[2], sys.argv[3]), flush=True)
else:
    # All at once, one thread each: a refusal may take a timeout to show.
    lock = threading.Lock()

    def report(spec):
        line = probe(spec)
        with lock:
            print(line, flush=True)

    threads = [threading.Thread(target=report, args=(spec,)) for spec in sys.argv[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
