#!/usr/bin/env python3
"""A minimal WebSocket-over-TLS client for the reverse-proxy test: Python's standard library only.

It verifies the server certificate against --cafile and --server-name (as a browser would), performs
the RFC 6455 handshake by hand, sends one masked text frame, waits for one text reply (the ack with
?ack=1) and closes. The result is one JSON line on stdout:
  {"status": 101, "accept_ok": true, "reply": "...", "tls": "TLSv1.3"}   or
  {"status": 401, "headers": {...}, "body": "..."}                         for a refused handshake.
Exit code 0 whenever a response was read; 2 on a transport or protocol error (message on stderr).
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("connection closed inside the response head")
        data += chunk
    lines = data.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


def frame(opcode, payload):
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock):
    first, second = read_exact(sock, 2)
    if second & 0x80:
        raise ValueError("server frame is masked")
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(sock, 8))[0]
    return first & 0x0F, read_exact(sock, length)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-name", default="localhost", help="SNI and the name the certificate must carry")
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--path", required=True, help="e.g. /send-message/global?ack=1")
    parser.add_argument("--source-address", help="local address to connect from, e.g. 127.0.0.2")
    parser.add_argument("--header", action="append", default=[], help="extra request header, Name: value")
    parser.add_argument("--message", default='{"sender":"alice","text":"hello over TLS","tag":"tls"}')
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    source = (args.source_address, 0) if args.source_address else None
    raw = socket.create_connection((args.host, args.port), timeout=15, source_address=source)
    with context.wrap_socket(raw, server_hostname=args.server_name) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        request = [
            "GET %s HTTP/1.1" % args.path,
            "Host: %s" % args.server_name,
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: %s" % key,
            "Sec-WebSocket-Version: 13",
        ] + args.header
        sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
        status, headers = read_head(sock)
        if status != 101:
            length = int(headers.get("content-length", "0"))
            body = read_exact(sock, length).decode() if length else ""
            print(json.dumps({"status": status, "headers": headers, "body": body, "tls": sock.version()}))
            return 0
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        accept_ok = headers.get("sec-websocket-accept") == expected
        sock.sendall(frame(0x1, args.message.encode()))
        reply = None
        while reply is None:
            opcode, payload = read_frame(sock)
            if opcode == 0x1:
                reply = payload.decode()
            elif opcode == 0x8:
                raise ConnectionError("server closed: %r" % payload)
        sock.sendall(frame(0x8, struct.pack("!H", 1000)))
        print(json.dumps({"status": status, "accept_ok": accept_ok, "reply": reply, "tls": sock.version()}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way to the test
        print("wss_client: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        sys.exit(2)
