#!/usr/bin/env python3
"""Writes the hand-made seed corpora in Tests/FuzzCorpus/<target>/ (one file per seed, named for what it
shows). Run it again after changing a seed here; the files are committed, so fuzzing needs no Python.

  message    the plain text of one WebSocket message (the target masks it itself)
  frames     byte 0: reader options, bytes 1-4: seed for split points and pauses, then the client's bytes
             (see Fuzz/Sources/fuzz-frames/FuzzFrames.swift)
  chat-name  a request URI, or a chat name alone (put after /send-message/chat/)
"""
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FuzzCorpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- message

VALID = b'{"sender":"alice","text":"hello","tag":"greeting"}'

MESSAGES = {
    "valid": b'{"sender": "alice", "text": "hello", "tag": "greeting"}',
    "valid-compact": VALID,
    "valid-id-string": b'{"id":"m-17","sender":"bob","text":"hi","tag":"x"}',
    "valid-id-number": b'{"sender":"bob","text":"hi","tag":"x","id":-12.5e+3}',
    "valid-extra-fields": b'{"sender":"a","meta":{"k":[1,2,{"x":null}],"b":true},"text":"t","tag":"g","n":false}',
    "valid-escapes": b'{"sender":"a\\"b\\\\c\\/d","text":"line1\\nline2\\ttab\\r\\b\\f","tag":"\\u00e9\\ud83d\\ude00"}',
    "valid-escaped-keys": b'{"\\u0073ender":"s","te\\u0078t":"t","\\u0074\\u0061\\u0067":"g"}',
    "valid-utf8": '{"sender":"José","text":"日本語 — 😀 \u2028 \uffff","tag":"Ω"}'.encode()[:-2]
    + b'\xf4\x8f\xbf\xbf"}',
    "valid-whitespace": b' \t\n{ "sender" : "a" ,\r\n "text":"b" , "tag" :"c" } \n',
    "valid-long-text": b'{"sender":"alice","text":"' + b"The quick brown fox jumps over the lazy dog. " * 6
    + b'caf\xc3\xa9","tag":"long"}',
    "valid-nesting-64": b'{"sender":"a","text":"b","tag":"c","x":' + b"[" * 64 + b"]" * 64 + b"}",
    "valid-numbers": b'{"sender":"a","text":"b","tag":"c","n":[0,-0,1.5,1e10,1E-5,-12.34e+56]}',
    "valid-empty-strings": b'{"sender":"","text":"","tag":""}',
    "nesting-65": b'{"sender":"a","text":"b","tag":"c","x":' + b"[" * 65 + b"]" * 65 + b"}",
    "missing-tag": b'{"sender":"a","text":"b","id":7}',
    "wrong-type": b'{"sender":1,"text":"b","tag":"c","id":"x"}',
    "duplicate-field": b'{"sender":"a","sender":"b","text":"c","tag":"d"}',
    "invalid-id-object": b'{"id":{},"sender":"a","text":"b","tag":"c"}',
    "invalid-id-too-long": b'{"id":"' + b"x" * 300 + b'","sender":"a","text":"b","tag":"c"}',
    "not-an-object-array": b'["sender","text","tag"]',
    "not-an-object-string": b'"hello"',
    "trailing-garbage": VALID + b"x",
    "lone-surrogate-escape": b'{"sender":"\\ud800","text":"b","tag":"c"}',
    "bad-escape": b'{"sender":"\\x41","text":"b","tag":"c"}',
    "raw-control-character": b'{"sender":"a\x01","text":"b","tag":"c"}',
    "utf8-overlong": b'{"sender":"\xc0\xaf","text":"b","tag":"c"}',
    "utf8-surrogate": b'{"sender":"\xed\xa0\x80","text":"b","tag":"c"}',
    "utf8-truncated": b'{"sender":"a","text":"\xe6\x97',
    "utf8-after-json-error": b'{"sender":"a",,"text":"\xff"}',
    "leading-zero": b'{"sender":"a","text":"b","tag":"c","n":01}',
    "bad-literal": b'{"sender":"a","text":"b","tag":"c","n":nul}',
    "empty": b"",
    "whitespace-only": b" \n\t",
}

# ---------------------------------------------------------------- frames

MASK = bytes([0x37, 0xFA, 0x21, 0x3D])
ZERO_MASK = bytes(4)


def frame(opcode, payload, fin=True, rsv=0, mask=MASK, length_form=None):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask is not None else 0
    n = len(payload)
    form = length_form or ("7" if n < 126 else "16" if n <= 0xFFFF else "64")
    if form == "7":
        head += bytes([mask_bit | n])
    elif form == "16":
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def frames_seed(stream, options=0, seed=0x2A17C0DE):
    return bytes([options]) + struct.pack("<I", seed) + stream


SMALL_MESSAGES = 1  # option bits 0-1: max message 125 bytes
ONE_FRAGMENT = 1 << 2  # option bits 2-3: max fragments 1
READER_UTF8 = 1 << 4

SMILE = "😀".encode()
FRAMES = {
    "text": frames_seed(frame(0x1, VALID)),
    "text-zero-mask": frames_seed(frame(0x1, VALID, mask=ZERO_MASK)),
    "texts-valid-and-invalid": frames_seed(
        frame(0x1, VALID)
        + frame(0x1, b'{"sender":"a","text":"b"}')
        + frame(0x1, b'{"id":"m-1","sender":"a\\"b","text":"\\u00e9","tag":"t"}')
        + frame(0x1, b"not json"),
        seed=7,
    ),
    "fragmented-text": frames_seed(
        frame(0x1, VALID[:10], fin=False) + frame(0x0, VALID[10:30], fin=False) + frame(0x0, VALID[30:]),
        seed=3,
    ),
    "fragmented-with-ping": frames_seed(
        frame(0x1, VALID[:20], fin=False) + frame(0x9, "are you there?") + frame(0x0, VALID[20:]),
        seed=11,
    ),
    "utf8-split-across-fragments": frames_seed(
        frame(0x1, b'{"sender":"a","text":"' + SMILE[:2], fin=False, mask=ZERO_MASK)
        + frame(0x0, SMILE[2:] + b'","tag":"t"}', mask=ZERO_MASK)
    ),
    "invalid-utf8-fragment": frames_seed(
        frame(0x1, b'{"sender":"\xc3', fin=False) + frame(0x0, b'(","text":"b","tag":"c"}')
    ),
    "invalid-utf8-single-frame": frames_seed(frame(0x1, b'{"sender":"\xed\xa0\x80","text":"b","tag":"c"}')),
    "invalid-utf8-reader-checks": frames_seed(frame(0x1, b'{"sender":"\xff"}'), options=READER_UTF8),
    "close-code-reason": frames_seed(frame(0x1, VALID) + frame(0x8, struct.pack(">H", 1000) + "bye ✓".encode())),
    "close-empty": frames_seed(frame(0x8, b"") + frame(0x1, VALID)),
    "close-invalid-code": frames_seed(frame(0x8, struct.pack(">H", 1005))),
    "close-one-byte": frames_seed(frame(0x8, b"\x03")),
    "ping-pong": frames_seed(frame(0x9, "hello") + frame(0xA, "") + frame(0x1, VALID)),
    "binary": frames_seed(frame(0x2, b"\x00\x01\x02binary") + frame(0x1, VALID)),
    "fragmented-binary": frames_seed(frame(0x2, b"\x00\x01", fin=False) + frame(0x0, b"\x02\x03")),
    "length-16": frames_seed(
        frame(0x1, b'{"sender":"alice","text":"' + b"x" * 200 + b'","tag":"t"}', mask=ZERO_MASK), seed=5
    ),
    "length-64-non-minimal": frames_seed(frame(0x1, VALID, length_form="64")),
    "length-16-non-minimal": frames_seed(frame(0x1, VALID, length_form="16")),
    "length-top-bit": frames_seed(b"\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01" + MASK),
    "reserved-bits": frames_seed(frame(0x1, VALID, rsv=4)),
    "unknown-opcode": frames_seed(frame(0x3, b"x")),
    "unmasked": frames_seed(frame(0x1, VALID, mask=None)),
    "too-big": frames_seed(frame(0x1, b'{"sender":"a","text":"' + b"y" * 130 + b'","tag":"t"}'), options=SMALL_MESSAGES),
    "too-many-fragments": frames_seed(frame(0x1, VALID[:5], fin=False) + frame(0x0, VALID[5:]), options=ONE_FRAGMENT),
    "continuation-without-message": frames_seed(frame(0x0, VALID)),
    "data-inside-fragmented": frames_seed(frame(0x1, VALID[:5], fin=False) + frame(0x1, VALID)),
    "fragmented-control": frames_seed(frame(0x9, "x", fin=False)),
    "control-too-long": frames_seed(frame(0x9, b"p" * 126)),
    "text-after-close": frames_seed(frame(0x8, struct.pack(">H", 4000)) + frame(0x1, VALID)),
    "incomplete-tail": frames_seed(frame(0x1, VALID) + frame(0x1, VALID)[:9]),
    "reader-utf8-valid": frames_seed(frame(0x1, VALID), options=READER_UTF8 | 2),
}

# ---------------------------------------------------------------- chat-name

CHAT_NAMES = {
    "plain": "general",
    "all-allowed-characters": "Room-1.a_b",
    "percent-letters": "%41%62%63",
    "percent-utf8": "Caf%C3%A9",
    "percent-slash": "a%2Fb",
    "percent-malformed": "%zz",
    "percent-truncated": "ab%4",
    "percent-invalid-utf8": "%FF%FE",
    "zero-width-space": "%E2%80%8B",
    "raw-utf8": "日本",
    "longest": "x" * 238,
    "too-long": "y" * 239,
    "dots": "..",
    "query-ack": "orders?ack=1",
    "query-ack-invalid": "orders?ack=maybe&x=1",
    "query-ack-bare": "orders?ack",
    "global": "/send-message/global",
    "global-ack": "/send-message/global?ack=true&ack=no",
    "chat-path": "/send-message/chat/orders?foo=bar&ack=yes",
    "chat-empty": "/send-message/chat/",
    "chat-subpath": "/send-message/chat/a/b",
    "health": "/health",
    "metrics-query": "/metrics?x=1",
    "unknown": "/send-message/other",
}


def main():
    for target, seeds in (("message", MESSAGES), ("frames", FRAMES), ("chat-name", CHAT_NAMES)):
        directory = os.path.join(ROOT, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in seeds.items():
            write(target, name, data)
        print(f"{directory}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
