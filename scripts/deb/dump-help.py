#!/usr/bin/env python3
"""The daemon's --experimental-dump-help, as swift-argument-parser's generate-manual (1.8.2) should read it.

scripts/build-deb passes generate-manual a wrapper that runs this instead of the daemon itself, because the
tool gets two things wrong for a command without subcommands:
  * it documents the `help` subcommand that ArgumentParser adds to every command, and therefore writes the
    synopsis as `kafka-chat-producer subcommand [options]`, as if a subcommand were required;
  * its escaping keeps ASCII characters only (`for character in self where character.isASCII`), so an arrow
    or an ellipsis in the help text vanishes without a trace; they are spelled in ASCII here instead.
Everything else is the binary's own dump, unchanged.

    dump-help.py BINARY --experimental-dump-help
"""
import json
import subprocess
import sys

ASCII = {"\u2192": "->", "\u2026": "...", "\u2013": "-", "\u2014": "--"}


def spell_ascii(value):
    if isinstance(value, str):
        for character, spelling in ASCII.items():
            value = value.replace(character, spelling)
        return value
    if isinstance(value, list):
        return [spell_ascii(item) for item in value]
    if isinstance(value, dict):
        return {key: spell_ascii(item) for key, item in value.items()}
    return value


def main():
    binary, arguments = sys.argv[1], sys.argv[2:]
    dump = json.loads(subprocess.run([binary, *arguments], check=True, capture_output=True).stdout)
    command = dump["command"]
    subcommands = [sub for sub in command.get("subcommands") or [] if sub.get("commandName") != "help"]
    if subcommands:
        command["subcommands"] = subcommands
    else:
        command.pop("subcommands", None)
    json.dump(spell_ascii(dump), sys.stdout)


if __name__ == "__main__":
    main()
