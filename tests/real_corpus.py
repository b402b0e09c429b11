"""The real JD chats used to measure the detectors: where they are, the tuning/held-back split, a reader.

The corpus is never copied into the project (../shared/data/real/README.md). It is found at
``$CS_ANALYTICS_REAL_CORPUS`` or ``../shared/data/real/jddc_dev_sessions.tsv`` beside the checkout.

    .venv/bin/python tests/real_corpus.py show --first 1 --count 20     # sessions for a labeller to read
    .venv/bin/python tests/real_corpus.py show --sessions id1,id2
    .venv/bin/python tests/real_corpus.py split                          # sessions per part

Labels live in tests/cases/real/ (keys only); the guide is tests/cases/real/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS_DIR = Path(__file__).resolve().parent / "cases" / "real"
HELDOUT_SALT = "cs-analytics-heldout:"


def corpus_path() -> Path:
    """Where the real corpus is expected (it may be absent: callers check ``exists()``)."""
    env = os.environ.get("CS_ANALYTICS_REAL_CORPUS")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "real" / "jddc_dev_sessions.tsv"


def part(session_id: str) -> str:
    """``heldout`` for about a third of the sessions (by a salted hash of the id), else ``tune``."""
    digest = hashlib.sha256((HELDOUT_SALT + session_id).encode("utf-8")).hexdigest()
    return "heldout" if int(digest, 16) % 3 == 0 else "tune"


@dataclass(frozen=True)
class Line:
    line: int          # 1-based line number in the corpus file (the loader's source_row)
    agent: bool
    transfer: bool
    text: str


def read_sessions(path: Path | None = None) -> dict[str, list[Line]]:
    """Session id → its lines, in file order."""
    path = path or corpus_path()
    sessions: dict[str, list[Line]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            fields = raw.rstrip("\n").split("\t")
            sessions.setdefault(fields[0], []).append(
                Line(number, fields[2] == "1", fields[3] == "1", fields[6] if len(fields) > 6 else ""))
    return sessions


def show(sessions: dict[str, list[Line]], ids: list[str], out=sys.stdout) -> None:
    """Print sessions for reading: a header per session, then ``line  A/C  text`` (T marks a transfer)."""
    for index, sid in enumerate(ids, start=1):
        lines = sessions[sid]
        out.write(f"=== session {sid} (lines {lines[0].line}-{lines[-1].line}, #{index})\n")
        for item in lines:
            role = "A" if item.agent else "C"
            out.write(f"{item.line:>6} {role}{'T' if item.transfer else ' '} {item.text}\n")
        out.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    view = sub.add_parser("show", help="print sessions with line numbers")
    view.add_argument("--first", type=int, default=1, help="first session (1-based, in file order)")
    view.add_argument("--count", type=int, default=10)
    view.add_argument("--sessions", help="comma-separated session ids (instead of --first/--count)")
    sub.add_parser("split", help="count sessions per part")
    args = parser.parse_args(argv)
    path = corpus_path()
    if not path.exists():
        print(f"no real corpus at {path}; set CS_ANALYTICS_REAL_CORPUS", file=sys.stderr)
        return 2
    sessions = read_sessions(path)
    order = list(sessions)
    if args.command == "split":
        parts = [part(s) for s in order]
        print({p: parts.count(p) for p in ("tune", "heldout")})
        return 0
    ids = args.sessions.split(",") if args.sessions else order[args.first - 1:args.first - 1 + args.count]
    show(sessions, ids)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
