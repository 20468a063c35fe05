#!/usr/bin/env python3
"""The Rust SDK's public operations, for the other SDKs' parity tests.

Prints JSON: {"operations": {"Admin": [...], "Producer": [...], "Consumer": [...]},
"rust_only": {"Type.method": "reason", ...}}. `operations` lists every `pub fn` / `pub async
fn` of the inherent `impl Admin`, `impl Producer` and `impl Consumer` blocks anywhere under
sdk-rust/src (admin.rs, tenancy.rs, producer/, consumer/, ...), sorted, RUST_ONLY included;
`rust_only` is RUST_ONLY below. sdk-python/tests/test_parity.py and
sdk-node/test/parity.test.mjs expect every other operation, under their own names.

Needs only the Python standard library (3.9+). Parsing is deliberately small: comments,
strings and char literals are blanked, then each `impl <Type> {` block is delimited by brace
matching. Fails (exit 1) when a type has no operations or a RUST_ONLY entry names nothing,
so the list cannot silently go stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Dict, List

SRC = Path(__file__).resolve().parent / "src"
TYPES = ("Admin", "Producer", "Consumer")

#: Operations only the Rust SDK has, not expected in the other SDKs (one line of reason each).
RUST_ONLY: Dict[str, str] = {
    # Builder idiom: the other SDKs take every setting in the constructor.
    "Producer.builder": "builder idiom; the other SDKs take settings in the constructor",
    "Consumer.builder": "builder idiom; the other SDKs take settings in the constructor",
    # Raw batches: no other SDK exposes a RecordBatch v2 encoder or raw batches to relay.
    "Producer.send_batch": "sends pre-encoded RecordBatch v2 bytes (weir bench, relays); the "
    "other SDKs expose no batch encoding (Node's sendBatch is a list of records, not this)",
    # Building blocks of iterators that poll ahead (Node's `for await`), not operations.
    "Consumer.poll_ahead": "lets an iterator poll ahead (Node's for await calls it); iteration "
    "is the operation",
    "Consumer.put_back": "gives back what an iterator polled ahead (Node's for await calls it); "
    "iteration is the operation",
}

_BLANK = re.compile(
    r"""
      //[^\n]*                          # line comment
    | /\*.*?\*/                         # block comment (not nested; enough here)
    | r(\#*)".*?"\1                     # raw string
    | b?"(?:\\.|[^"\\])*"               # string
    | b?'(?:\\.|[^'\\])'                # char literal (lifetimes have no closing quote)
    """,
    re.S | re.X,
)
_IMPL = re.compile(r"\bimpl\s*(?:<[^>{]*>\s*)?(" + "|".join(TYPES) + r")\s*\{")
_PUB_FN = re.compile(r"\bpub\s+(?:(?:const|async|unsafe)\s+)*fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def _blank(match: "re.Match[str]") -> str:
    # Keep newlines and length, drop anything that could hold a brace.
    return re.sub(r"[^\n]", " ", match.group(0))


def _block_end(text: str, open_brace: int) -> int:
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def operations(src: Path = SRC) -> Dict[str, List[str]]:
    """Every public method of the inherent impl blocks of `TYPES` under `src`, by type."""
    found: Dict[str, set[str]] = {t: set() for t in TYPES}
    for path in sorted(src.rglob("*.rs")):
        text = _BLANK.sub(_blank, path.read_text())
        for impl in _IMPL.finditer(text):
            start = impl.end() - 1
            body = text[start : _block_end(text, start) + 1]
            found[impl.group(1)].update(_PUB_FN.findall(body))
    return {t: sorted(names) for t, names in found.items()}


def main() -> int:
    ops = operations()
    problems = [f"no public operations found for {t}" for t, names in ops.items() if not names]
    for entry in RUST_ONLY:
        kind, _, name = entry.partition(".")
        if name not in ops.get(kind, []):
            problems.append(f"RUST_ONLY names {entry}, which the Rust SDK does not have")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    json.dump({"operations": ops, "rust_only": RUST_ONLY}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
