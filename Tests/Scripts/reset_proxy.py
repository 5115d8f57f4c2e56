#!/usr/bin/env python3
"""A transparent TCP relay that can reset every connection through it on command: test support for the
clients' fault tests (Tests/DaemonTests/ClientFaultTests.swift). Stdlib only.

    reset_proxy.py --upstream 127.0.0.1:8000

Listens on 127.0.0.1, port chosen by the system, and prints {"port": N} as its first stdout line. Each
accepted connection is relayed byte for byte to the upstream (half-closes passed on). Commands on stdin,
one a line:
  reset   aborts every live relayed connection with a TCP RST on both sides (SO_LINGER 0, then close),
          as a network failure would; answers {"reset": <connections reset>}
  (EOF)   exits
When the upstream refuses a connection, the client's side is reset at once. Loopback only: the upstream
must be a loopback address.
"""
import argparse
import asyncio
import ipaddress
import json
import socket
import struct
import sys
import time

STARTED = time.monotonic()


def log(text):
    print("%8.3f %s" % (time.monotonic() - STARTED, text), file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")), flush=True)


def abort_with_rst(writer):
    """SO_LINGER with a zero timeout makes close() send RST instead of FIN; abort() closes at once."""
    transport = writer.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


class Relay:
    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.live = set()  # (client writer, upstream writer) pairs
        self.accepted = 0

    async def handle(self, client_reader, client_writer):
        self.accepted += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        except OSError as error:
            log("upstream refused (%s): resetting the client" % error)
            abort_with_rst(client_writer)
            return
        pair = (client_writer, upstream_writer)
        self.live.add(pair)
        try:
            await asyncio.gather(
                self.pump(client_reader, upstream_writer), self.pump(upstream_reader, client_writer)
            )
        finally:
            self.live.discard(pair)
            for writer in pair:
                if not writer.transport.is_closing():
                    writer.close()

    @staticmethod
    async def pump(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    if writer.can_write_eof() and not writer.transport.is_closing():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            # One side was reset (by us or by its peer): the other side learns it the same way.
            abort_with_rst(writer)

    def reset(self):
        count = len(self.live)
        for client_writer, upstream_writer in list(self.live):
            abort_with_rst(client_writer)
            abort_with_rst(upstream_writer)
        self.live.clear()
        return count


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the relayed server (loopback)")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if not ipaddress.ip_address(host).is_loopback:
        parser.error("the upstream must be a loopback address")

    relay = Relay(host, int(port))
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    emit({"port": server.sockets[0].getsockname()[1]})

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            break
        command = line.decode().strip()
        if command == "reset":
            count = relay.reset()
            log("reset %d connections" % count)
            emit({"reset": count})
        elif command:
            log("unknown command: %r" % command)
    server.close()
    relay.reset()


if __name__ == "__main__":
    asyncio.run(main())
