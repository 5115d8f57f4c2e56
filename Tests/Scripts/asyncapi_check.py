#!/usr/bin/env python3
"""Checks the daemon's AsyncAPI document, and checks it against a running daemon.

    asyncapi_check.py DOCUMENT                                  # the document alone
    asyncapi_check.py DOCUMENT --live ws://127.0.0.1:PORT --chat NAME

The document alone:
  * it is an AsyncAPI 3.0 document by the `asyncapi3` models (PyPI; every object and field of the 3.0
    specification, unknown fields refused unless they are `x-` extensions);
  * what JSON-level validation cannot see: every local `$ref` resolves; each channel's `{parameters}`
    match its address; each operation's messages, and its reply's, belong to the channel it names;
  * every message example validates against that message's payload schema (JSON Schema draft 7 via
    `jsonschema`, with the document's `$ref`s resolved).

--live, against a daemon started on an embedded or mock broker:
  * every `chatMessage` example is sent to both channels with `?ack=1`; each reply must validate
    against the `ack` schema (and carry the example's `id`, or the message number when it has none);
  * each `error` example is provoked (a message missing `tag` with the example's id; a binary frame) and
    the reply must equal the example exactly.

Prints one JSON line per check and a final `{"ok": …, "records": {topic: [values]}}` with the record
values Kafka must now hold, for the caller to read back. Exit status 0 when everything held.
"""
import argparse
import copy
import json
import re
import sys
import warnings


def fail(problems, message):
    problems.append(message)
    print(json.dumps({"problem": message}, ensure_ascii=False))


def resolve_pointer(document, ref):
    """The object a local `#/a/b` reference names, or None."""
    if not ref.startswith("#/"):
        return None
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def walk_refs(node, path="#"):
    if isinstance(node, dict):
        if "$ref" in node:
            yield path, node["$ref"]
        for key, value in node.items():
            yield from walk_refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_refs(value, f"{path}/{index}")


def inline_refs(document, node, seen=()):
    """A copy of `node` with every local `$ref` replaced by its target (schemas here are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}")
            return inline_refs(document, resolve_pointer(document, ref), seen + (ref,))
        return {key: inline_refs(document, value, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [inline_refs(document, value, seen) for value in node]
    return node


def check_document(document, problems):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from asyncapi3 import AsyncAPI3
        try:
            AsyncAPI3.model_validate(copy.deepcopy(document))
            print(json.dumps({"check": "asyncapi3 model", "ok": True}))
        except Exception as error:  # pydantic's ValidationError lists every problem
            fail(problems, f"not a valid AsyncAPI 3.0 document: {error}")

    if document.get("asyncapi") != "3.0.0":
        fail(problems, f"asyncapi is {document.get('asyncapi')!r}, not 3.0.0")

    refs = list(walk_refs(document))
    for path, ref in refs:
        if resolve_pointer(document, ref) is None:
            fail(problems, f"{path}: $ref {ref} does not resolve")
    print(json.dumps({"check": "references resolve", "count": len(refs)}))

    channels = document.get("channels", {})
    for name, channel in channels.items():
        named = set(re.findall(r"\{([^}]+)\}", channel.get("address", "")))
        declared = set(channel.get("parameters", {}))
        if named != declared:
            fail(problems, f"channel {name}: address parameters {sorted(named)} but declared {sorted(declared)}")

    for name, operation in document.get("operations", {}).items():
        channel_ref = operation.get("channel", {}).get("$ref", "")
        for message in operation.get("messages", []):
            if not message.get("$ref", "").startswith(channel_ref + "/messages/"):
                fail(problems, f"operation {name}: message {message} is not one of {channel_ref}'s")
        reply = operation.get("reply")
        if reply:
            reply_channel = reply.get("channel", {}).get("$ref", "")
            for message in reply.get("messages", []):
                if not message.get("$ref", "").startswith(reply_channel + "/messages/"):
                    fail(problems, f"operation {name}: reply message {message} is not one of {reply_channel}'s")

    from jsonschema import Draft7Validator

    examples = 0
    for name, message in document.get("components", {}).get("messages", {}).items():
        schema = inline_refs(document, message["payload"])
        Draft7Validator.check_schema(schema)
        validator = Draft7Validator(schema)
        for example in message.get("examples", []):
            examples += 1
            errors = [error.message for error in validator.iter_errors(example["payload"])]
            if errors:
                fail(problems, f"message {name}, example {example.get('name')}: {errors}")
    print(json.dumps({"check": "examples match their payload schemas", "count": examples}))


def canonical_record(payload):
    """The Kafka record value the daemon publishes for a message sent with `json.dumps` below."""
    return json.dumps({key: payload[key] for key in ("sender", "text", "tag")}, ensure_ascii=False, separators=(",", ":"))


def check_live(document, base, chat, problems):
    from jsonschema import Draft7Validator
    from websockets.sync.client import connect

    messages = document["components"]["messages"]
    ack_schema = Draft7Validator(inline_refs(document, messages["ack"]["payload"]))
    records = {}
    addresses = {
        "kafka.chat.global": document["channels"]["global"]["address"],
        f"kafka.chat.{chat}": document["channels"]["chat"]["address"].replace("{chat}", chat),
    }
    for topic, address in addresses.items():
        with connect(f"{base}{address}?ack=1", open_timeout=10, close_timeout=5) as socket:
            for number, example in enumerate(messages["chatMessage"]["examples"], start=1):
                payload = example["payload"]
                socket.send(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
                reply = json.loads(socket.recv(timeout=20))
                print(json.dumps({"channel": address, "example": example["name"], "reply": reply}, ensure_ascii=False))
                errors = [error.message for error in ack_schema.iter_errors(reply)]
                if errors:
                    fail(problems, f"{address}, example {example['name']}: reply {reply} is not an ack: {errors}")
                    continue
                expected_id = payload.get("id", number)
                if reply["ack"] != expected_id:
                    fail(problems, f"{address}, example {example['name']}: ack id {reply['ack']!r}, expected {expected_id!r}")
                records.setdefault(topic, []).append(canonical_record(payload))

    # The error examples, provoked for real: their replies must be exactly what the document shows.
    by_name = {example["name"]: example["payload"] for example in messages["error"]["examples"]}
    with connect(f"{base}{addresses['kafka.chat.global']}", open_timeout=10, close_timeout=5) as socket:
        provoked = {
            "missingField": json.dumps({"sender": "alice", "text": "hello", "id": by_name["missingField"].get("id")}),
            "binaryFrame": b'{"sender":"alice","text":"hello","tag":"t"}',
        }
        for name, frame in provoked.items():
            socket.send(frame)
            reply = json.loads(socket.recv(timeout=20))
            print(json.dumps({"error_example": name, "reply": reply}, ensure_ascii=False))
            if reply != by_name[name]:
                fail(problems, f"error example {name}: the daemon answered {reply}, the document shows {by_name[name]}")
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("document")
    parser.add_argument("--live", metavar="WS_BASE_URL", help="ws://127.0.0.1:PORT of a running daemon")
    parser.add_argument("--chat", default="asyncapi-examples", help="chat used for the chat channel's examples")
    arguments = parser.parse_args()

    with open(arguments.document, encoding="utf-8") as file:
        document = json.load(file)
    problems = []
    check_document(document, problems)
    records = {}
    if arguments.live and not problems:
        records = check_live(document, arguments.live.rstrip("/"), arguments.chat, problems)
    print(json.dumps({"ok": not problems, "problems": problems, "records": records}, ensure_ascii=False))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
