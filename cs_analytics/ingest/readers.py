"""Format readers: turn an export file into batches of raw string records, nothing dropped.

Each reader yields ``RawBatch`` objects: the field names, the records as lists of strings (or None) or,
from the CSV/TSV reader, as one Arrow string array per field, the source row of each record, and the
rows it could not parse (``Malformed``) with a reason. The loader (ingest/load.py) maps the fields onto
the messages table. Readers stream: a file is never held as both text and table at once.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..base.arrays import ranges
from .transcode import splits_raw, to_utf8

SUPPORTED_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet",
}
REPLACEMENT = "\ufffd"


class ReadError(ValueError):
    """A file cannot be read at all; the message names the file and what to do."""


@dataclass
class Malformed:
    """A row the reader could not parse into fields."""

    source_row: int
    reason: str
    detail: str
    raw: str = ""


@dataclass
class RawBatch:
    """A batch of raw records from one file (or one sheet of a workbook)."""

    source_file: str
    part: str                       # sheet name for workbooks, else ""
    fields: list[str]
    records: list[list[str | None]] = field(default_factory=list)
    rows: list[int] | np.ndarray = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    progress_bytes: int = 0         # bytes of the file consumed so far (for progress bars)
    columns: list[pa.Array] | None = None   # the records as one string array per field (then records is empty)
    may_hold_replacement: bool = True       # False when the reader saw no U+FFFD in the text of these records

    def __len__(self) -> int:
        """Number of records (malformed rows not counted)."""
        return len(self.rows)


def file_format(path: Path) -> str:
    """The reader for a path, by suffix; raises ReadError for unsupported files."""
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        hint = " (save old .xls workbooks as .xlsx)" if path.suffix.lower() == ".xls" else ""
        raise ReadError(
            f"{path}: unsupported file type {path.suffix!r}{hint}; supported: {sorted(SUPPORTED_SUFFIXES)}"
        )
    return fmt


# ---------------------------------------------------------------- encodings

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _count_errors(path: Path, encoding: str, limit: int | None = None) -> int:
    """Number of undecodable byte runs in the file for an encoding (stops early past ``limit``)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    errors = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            errors += decoder.decode(block).count(REPLACEMENT)
            if limit is not None and errors > limit:
                return errors
        errors += decoder.decode(b"", final=True).count(REPLACEMENT)
    return errors


@lru_cache(maxsize=65536)
def _common_char(ch: str) -> bool:
    """A character typical of Chinese chat text: a GB2312 level-1 hanzi or CJK/full-width punctuation."""
    if "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
        return True
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


def _plausibility(sample: bytes, encoding: str) -> float:
    """Share of the non-ASCII characters that read as common Chinese when decoded with ``encoding``."""
    counts = Counter(sample.decode(encoding, errors="replace"))      # each distinct character judged once
    non_ascii = {ch: n for ch, n in counts.items() if ord(ch) > 127}
    if not non_ascii:
        return 1.0
    return sum(n for ch, n in non_ascii.items() if _common_char(ch)) / sum(non_ascii.values())


def detect_encoding(path: Path, sample_bytes: int = 512 << 10) -> str:
    """Guess a text file's encoding: a BOM, else UTF-8 or GB18030 (covers GBK/GB2312).

    Valid UTF-8 holding any character beyond U+07FF (hanzi, emoji) is UTF-8: GBK bytes almost
    never form such sequences. Otherwise (short GBK text can be valid 2-byte UTF-8, and a UTF-8
    file may hold a pasted GBK line) the two are compared by how much of the decoded text reads
    as common Chinese; mojibake does not. When neither reads well, charset-normalizer's guess is
    taken if it decodes the file cleanly. Rows holding bytes the chosen encoding cannot decode are
    set aside by the loader as ``encoding_error``.
    """
    with open(path, "rb") as fh:
        sample = fh.read(sample_bytes)
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if sample.isascii():
        return "utf-8"
    if len(sample) == sample_bytes:           # cut at a line end so no character is split
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        text = sample.decode("utf-8")
        if any(ord(ch) > 0x7FF for ch in text):
            return "utf-8"
    except UnicodeDecodeError:
        pass
    scores = {name: _plausibility(sample, name) for name in ("utf-8", "gb18030")}
    best = max(scores, key=lambda name: (scores[name], name == "utf-8"))
    if scores[best] >= 0.3:
        return best
    from charset_normalizer import from_bytes

    guess = from_bytes(sample).best()
    if guess is not None and guess.encoding and _count_errors(path, guess.encoding, limit=0) == 0:
        return guess.encoding
    return best


# ---------------------------------------------------------------- delimited text


class _LineRecorder:
    """Feeds lines to the csv module while remembering the raw lines of the current record."""

    def __init__(self):
        self.source: Iterator[str] = iter(())
        self.lines: list[str] = []
        self.exhausted = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            line = next(self.source)
        except StopIteration:
            self.exhausted = True
            raise
        self.lines.append(line)
        return line


DELIMITERS = ",\t;|"


def _sniff_delimiter(path: Path, encoding: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        guess = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        guess = None
    # The header line separates the column names: a guess it does not hold is the Sniffer misreading a
    # message (";'" in a text made it pick ; as the delimiter and ' as the quote), so the header decides.
    header = sample.splitlines()[0] if sample else ""
    in_header = {d: header.count(d) for d in DELIMITERS}
    if guess and (in_header[guess] or not any(in_header.values())):
        return guess
    counts = in_header if any(in_header.values()) else {d: sample.count(d) for d in DELIMITERS}
    return max(counts, key=counts.get) if max(counts.values()) else ","


# A physical line as Python's text files split them (newline=""): ends at \r\n, \r or \n.
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


@lru_cache(maxsize=1)
def _blank_cell() -> str:
    """A regex for a cell of nothing but characters str.strip() removes (Arrow's own idea of whitespace
    differs); built on first use, not at import (it scans every code point)."""
    return "^[" + "".join(f"\\x{{{c:x}}}" for c in range(sys.maxunicode + 1) if chr(c).isspace()) + "]*$"


def _may_be_blank(cells: pa.Array) -> bool:
    """False when no cell can be whitespace only, by a cheap look at each cell's first character: every
    character str.isspace() holds for is at most U+0020 or beyond ASCII, so cells starting with a
    printable ASCII character are not blank (then the whitespace regex need not run)."""
    first = pc.utf8_slice_codeunits(cells, 0, 1)
    return bool(pc.any(pc.or_(pc.less_equal(first, " "), pc.greater_equal(first, "\x80"))).as_py())


def _one_piece(column: pa.ChunkedArray) -> pa.Array:
    """A chunked column as one array (copied only when it has several chunks)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


class _NeedMore(Exception):
    """A record runs past the end of the text decoded so far."""


class _DelimitedParser:
    """Turns decoded text, fed a block of whole lines at a time, into records with their line numbers.

    Runs of plain lines (no quote, the expected number of fields, not empty) are parsed by pyarrow.csv;
    every other line, and any line a quoted field runs over, goes through the csv module exactly as
    a line-by-line read would, so both give the same records, line numbers and malformed rows.
    """

    def __init__(self, path: str, delimiter: str, quote_mode: int, header: bool, fields: list[str], fast: bool):
        self.path, self.delimiter, self.quote_mode, self.header = path, delimiter, quote_mode, header
        self.names = list(fields)
        self.expected = len(self.names) if self.names else None
        self.fast = fast and delimiter.isascii() and delimiter not in '"\r\n'
        self.recorder = _LineRecorder()
        self.reader = csv.reader(self.recorder, delimiter=delimiter, quoting=quote_mode, strict=False)
        self.lines_done = 0                          # physical lines fully processed
        self.slow_records: list[list[str]] = []
        self.slow_rows: list[int] = []
        self.fast_parts: list[tuple[list, np.ndarray]] = []
        self.malformed: list[Malformed] = []
        self.saw_replacement = False                 # some text fed since the last take() holds U+FFFD

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, text: str, final: bool) -> str:
        """Parse the whole lines in ``text``; returns the tail holding a record not yet complete."""
        self.saw_replacement = self.saw_replacement or REPLACEMENT in text
        if self.expected is None:
            try:
                text = self._find_header(text, final)
            except _NeedMore as more:
                return more.args[0]
        if not text:
            return ""
        return self._feed_bytes(text.encode("utf-8"), "utf-8", final).decode("utf-8")

    def feed_raw(self, data: bytes, encoding: str, final: bool) -> bytes:
        """``feed`` for the file's own bytes in a CSV-safe ``encoding`` (transcode.splits_raw), whole
        lines: cells are split on the bytes and only those needing it decoded. Not for a final block
        ending in an unfinished character (decode that one and ``feed`` it)."""
        if self.expected is None:
            before = self.lines_done
            try:
                self._find_header(self._decoded(data, encoding), final)
                tail = None
            except _NeedMore:
                tail = True
            done = self.lines_done - before
            data = data[_line_bounds(data)[1][done - 1]:] if done else data
            if tail:
                return data
        if not data:
            return b""
        return self._feed_bytes(data, encoding, final)

    def _feed_bytes(self, data: bytes, encoding: str, final: bool) -> bytes:
        """Whole lines in ``encoding`` (the header read); returns the bytes of a record not yet complete."""
        if self.fast and self._plain(data):
            lines = data.count(b"\n") + (not data.endswith(b"\n"))
            columns = self._parse_plain(data, encoding)
            if columns is not None and len(columns[0]) == lines:
                self._add_fast(columns, self.lines_done + 1 + np.arange(lines))
                self.lines_done += lines
                return b""
        return self._feed_mixed(data, encoding, final)

    def _decoded(self, data: bytes, encoding: str) -> str:
        """Whole lines in ``encoding`` as text, undecodable bytes as U+FFFD, as decoding the file in one
        stream gives them: a character left unfinished at the end is ended by the line end after it,
        not by the end of input (three newlines added, then cut off)."""
        if encoding == "utf-8":
            return data.decode("utf-8")
        text = (data + b"\n\n\n").decode(encoding, errors="replace")[:-3]
        self.saw_replacement = self.saw_replacement or REPLACEMENT in text
        return text

    def _plain(self, data: bytes) -> bool:
        """True when pyarrow can read the block as it is: no quotes, NULs or lone carriage returns."""
        if self.quote_mode != csv.QUOTE_NONE and b'"' in data:
            return False
        if b"\x00" in data or data.startswith(codecs.BOM_UTF8):    # pyarrow would drop a BOM
            return False
        return b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")

    def _find_header(self, text: str, final: bool) -> str:
        """Read records the csv way until the header (or the end of ``text``); returns the rest."""
        pos = 0
        lines = (m.group() for m in _PHYSICAL_LINE.finditer(text))
        while self.expected is None:
            try:
                consumed = self._slow_record(lines, final)
            except _NeedMore:
                raise _NeedMore(text[pos:]) from None
            if not consumed:
                return ""
            pos += sum(len(line) for line in consumed)
        return text[pos:]

    def _feed_mixed(self, data: bytes, encoding: str, final: bool) -> bytes:
        """A block with some lines the csv module must read: those by csv, the other lines by pyarrow."""
        starts, ends = _line_bounds(data)
        safe = self._plain_lines(data, starts, ends) if self.fast else np.zeros(len(starts), dtype=bool)
        by_csv = np.zeros(len(starts), dtype=bool)
        line = 0
        cut = len(starts)
        for first in np.flatnonzero(~safe):
            if first < line:
                continue                              # already read as part of a multi-line record
            line = int(first)
            lines = (self._decoded(data[starts[k]:ends[k]], encoding) for k in range(line, len(starts)))
            try:
                consumed = self._slow_record(lines, final, first_line=self.lines_done + line + 1)
            except _NeedMore:
                cut = line
                break
            by_csv[line:line + len(consumed)] = True
            line += len(consumed)
        plain = np.flatnonzero(~by_csv[:cut])
        if len(plain):
            lengths = ends[plain] - starts[plain]
            chunk = np.frombuffer(data, dtype=np.uint8)[starts[plain].repeat(lengths) + ranges(lengths)]
            columns = self._parse_plain(chunk.tobytes(), encoding)
            if columns is None or len(columns[0]) != len(plain):
                raise AssertionError(f"{self.path}: {len(plain)} plain lines did not parse into as many rows")
            self._add_fast(columns, self.lines_done + 1 + plain)
        self.lines_done += cut
        return data[starts[cut]:] if cut < len(starts) else b""

    def _plain_lines(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per line: pyarrow reads it as the csv module would (no quote/NUL/lone CR, right field count)."""
        raw = np.frombuffer(data, dtype=np.uint8)
        line_of = lambda positions: np.searchsorted(starts, positions, side="right") - 1  # noqa: E731
        content = ends - starts - (raw[ends - 1] == 10) - (raw[ends - 1] == 13) \
            - ((ends - starts >= 2) & (raw[ends - 1] == 10) & (raw[np.maximum(ends - 2, 0)] == 13))
        delimiters = np.bincount(line_of(np.flatnonzero(raw == ord(self.delimiter))), minlength=len(starts))
        safe = (content > 0) & (delimiters == self.expected - 1) & (raw[ends - 1] != 13)
        troubles = [0] if self.quote_mode == csv.QUOTE_NONE else [0, ord('"')]
        for byte in troubles:
            safe[line_of(np.flatnonzero(raw == byte))] = False
        if data.startswith(codecs.BOM_UTF8):
            safe[0] = False
        return safe

    def _parse_plain(self, data: bytes, encoding: str) -> list | None:
        """pyarrow.csv on lines without quotes: one string array per field, or None if it cannot (one
        parse block, so the columns come out in one piece, as the large strings pandas keeps). Bytes in
        another encoding than UTF-8 are split as binary and each column decoded on its own."""
        names = [f"f{i}" for i in range(self.expected)]
        cell_type = pa.large_string() if encoding == "utf-8" else pa.large_binary()
        try:
            table = pacsv.read_csv(
                pa.py_buffer(data),
                read_options=pacsv.ReadOptions(column_names=names, block_size=len(data) + 1, use_threads=False),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter, quote_char=False, escape_char=False,
                                                 newlines_in_values=False, ignore_empty_lines=True),
                convert_options=pacsv.ConvertOptions(column_types={n: cell_type for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
        except pa.ArrowInvalid:
            return None
        columns = [_one_piece(table.column(i)) for i in range(self.expected)]
        if encoding != "utf-8":
            del table
            for i, column in enumerate(columns):
                columns[i], replaced = to_utf8(column, encoding)
                self.saw_replacement = self.saw_replacement or replaced
        return columns

    def _add_fast(self, columns: list, rows: np.ndarray) -> None:
        if _may_be_blank(columns[0]):               # rows of nothing but whitespace are skipped
            blank = pc.match_substring_regex(columns[0], _blank_cell())
            for column in columns[1:]:
                blank = pc.and_(blank, pc.match_substring_regex(column, _blank_cell()))
            keep = pc.invert(blank)
            columns = [c.filter(keep) for c in columns]
            rows = rows[keep.to_numpy(zero_copy_only=False)]
        self.fast_parts.append((columns, rows))

    # -- the csv module, one record at a time ------------------------------------------------------

    def _slow_record(self, lines: Iterator[str], final: bool, first_line: int | None = None) -> list[str]:
        """Read one record from ``lines`` with the csv module; returns the physical lines it took.

        Raises _NeedMore when the record runs past the last line and more text will follow.
        """
        start = first_line if first_line is not None else self.lines_done + 1
        self.recorder.source, self.recorder.lines, self.recorder.exhausted = lines, [], False
        try:
            record = next(self.reader)
        except StopIteration:
            if self.recorder.lines and not final:
                raise _NeedMore from None
            return self.recorder.lines
        except csv.Error as exc:
            if self.recorder.exhausted and not final:
                raise _NeedMore from None
            consumed = self.recorder.lines
            self.malformed.append(Malformed(start, "malformed_row", f"CSV error: {exc}", "".join(consumed)))
            return self._advance(consumed, first_line)
        if self.recorder.exhausted and not final:
            raise _NeedMore from None
        consumed = self.recorder.lines
        if not "".join(record).strip():
            pass                                     # blank line: nothing to keep
        elif self.header and self.expected is None:
            self.names = [cell.strip() for cell in record]
            self.expected = len(self.names)
        elif len(record) == self.expected:
            self.slow_records.append(record)
            self.slow_rows.append(start)
        elif len(consumed) > 1:
            self._reread_lines(consumed, start)
        else:
            self.malformed.append(Malformed(
                start, "malformed_row",
                f"expected {self.expected} fields, found {len(record)} (is a text cell containing "
                f"{self.delimiter!r} left unquoted?)", "".join(consumed)))
        return self._advance(consumed, first_line)

    def _advance(self, consumed: list[str], first_line: int | None) -> list[str]:
        consumed = consumed or [""]
        if first_line is None:                     # header search: count lines as they are read
            self.lines_done += len(consumed)
        return consumed

    def _reread_lines(self, lines: list[str], start: int) -> None:
        for offset, line in enumerate(lines):
            if not line.strip():
                continue
            cells = next(csv.reader([line], delimiter=self.delimiter, quoting=self.quote_mode, strict=False), [])
            unbalanced = self.quote_mode != csv.QUOTE_NONE and line.count('"') % 2 == 1
            if len(cells) == self.expected and not unbalanced:
                self.slow_records.append(cells)
                self.slow_rows.append(start + offset)
            else:
                self.malformed.append(Malformed(
                    start + offset, "malformed_row",
                    f"expected {self.expected} fields, found {len(cells)}; an unclosed quote (\") made this "
                    f"record run over {len(lines)} lines", line))

    # -- batches -----------------------------------------------------------------------------------

    def pending(self) -> int:
        """Records parsed and not yet taken."""
        return len(self.slow_rows) + sum(len(rows) for _, rows in self.fast_parts)

    def take(self, progress_bytes: int) -> RawBatch:
        """The records and malformed rows parsed since the last call, in file order."""
        parts = list(self.fast_parts)
        if self.slow_rows:
            columns = [pa.array([record[i] for record in self.slow_records], pa.large_string())
                       for i in range(self.expected)]
            parts.append((columns, np.asarray(self.slow_rows, dtype=np.int64)))
        batch = RawBatch(self.path, "", list(self.names), malformed=self.malformed, progress_bytes=progress_bytes,
                         may_hold_replacement=self.saw_replacement)
        if parts:
            rows = np.concatenate([r for _, r in parts]).astype(np.int64)
            # parts side by side, not copied (a column is one array or a chunked array of the parts)
            columns = [parts[0][0][i] if len(parts) == 1 else pa.chunked_array([c[i] for c, _ in parts])
                       for i in range(self.expected)]
            if self.slow_rows and len(parts) > 1:
                order = np.argsort(rows, kind="stable")
                rows, columns = rows[order], [c.take(pa.array(order)) for c in columns]
            batch.columns, batch.rows = columns, rows
        self.fast_parts, self.slow_records, self.slow_rows, self.malformed = [], [], [], []
        self.saw_replacement = False
        return batch


def _line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets of each physical line (ends at \\r\\n, \\r or \\n, kept in the line)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10) + 1
    if b"\r" in data:
        cr = np.flatnonzero(raw == 13)
        lone = cr[(cr + 1 == len(raw)) | (raw[np.minimum(cr + 1, len(raw) - 1)] != 10)]
        ends = np.union1d(ends, lone + 1)
    if not len(ends) or ends[-1] != len(raw):
        ends = np.append(ends, len(raw))
    return np.concatenate([[0], ends[:-1]]).astype(np.int64), ends.astype(np.int64)


def read_delimited(path: Path, *, encoding: str | None, delimiter: str | None, quoting: str,
                   header: bool, fields: list[str], chunk_rows: int, fast: bool = True) -> Iterator[RawBatch]:
    """Stream a CSV/TSV file as raw batches of about ``chunk_rows`` records. Line numbers are 1-based
    physical lines.

    A record whose field count is wrong is set aside as ``malformed_row``; when it spans several
    physical lines (an unclosed quote swallowing what follows), each of those lines is re-read on its
    own so one stray quote costs one row, not the rest of the file. The file is read in blocks of
    whole lines; plain lines are parsed by pyarrow.csv, the rest by the csv module (``fast=False``: all
    lines by the csv module, the reference the fast path is tested against). A GB18030/GBK file with a
    delimiter no character can hold a byte of is split into cells on its own bytes and only the cells'
    non-ASCII columns decoded (ingest/transcode.py); any other file is decoded first.
    """
    fmt = file_format(path)
    encoding = encoding or detect_encoding(path)
    delimiter = delimiter or _sniff_delimiter(path, encoding, fmt)
    quote_mode = csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL
    csv.field_size_limit(2**31 - 1)
    parser = _DelimitedParser(str(path), delimiter, quote_mode, header, fields, fast)
    block_bytes = max(1 << 16, min(chunk_rows * 128, 1 << 24))
    blocks = _raw_blocks if fast and splits_raw(encoding, delimiter) else _text_blocks
    with open(path, "rb") as raw:
        for final in blocks(raw, parser, encoding, block_bytes):
            if parser.expected is not None and (parser.pending() >= chunk_rows or final):
                yield parser.take(raw.tell())


def _text_blocks(raw, parser: _DelimitedParser, encoding: str, block_bytes: int) -> Iterator[bool]:
    """Feed ``parser`` the file decoded, a block of whole lines at a time; yields after each block whether
    it was the last."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    final = False
    while not final:
        chunk = raw.read(block_bytes)
        final = not chunk
        text = carry + decoder.decode(chunk, final=final)
        cut = len(text) if final else text.rfind("\n") + 1
        carry = parser.feed(text[:cut], final) + text[cut:] if cut else text
        yield final


def _raw_blocks(raw, parser: _DelimitedParser, encoding: str, block_bytes: int) -> Iterator[bool]:
    """``_text_blocks`` for a CSV-safe encoding: the parser is fed the file's own bytes. When the file's
    last bytes may be an unfinished character, its last line is decoded first and fed as text: the
    whole-stream decoder ends such a character at the end of the file, taking a line end with it."""
    size = os.fstat(raw.fileno()).st_size
    carry = b""
    final = False
    while not final:
        chunk = raw.read(block_bytes)
        final = not chunk
        data = carry + chunk
        if raw.tell() >= size and max(data[-3:], default=0) >= 0x80:
            cut = data.rfind(b"\n", 0, max(len(data) - 3, 0)) + 1
            head = parser.feed_raw(data[:cut], encoding, False) if cut else b""
            parser.feed((head + data[cut:]).decode(encoding, errors="replace"), True)
            yield True
            return
        cut = len(data) if final else data.rfind(b"\n") + 1
        carry = parser.feed_raw(data[:cut], encoding, final) + data[cut:] if cut else data
        yield final


# ---------------------------------------------------------------- workbooks


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path, *, sheet: str | int | None, header: bool, fields: list[str],
              chunk_rows: int) -> Iterator[RawBatch]:
    """Stream every sheet (or one) of an XLSX workbook. Rows are the sheet's own row numbers."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(f"{path}: not a readable .xlsx workbook ({exc}); re-save it from Excel/WPS") from None
    try:
        names = workbook.sheetnames
        if sheet is not None:
            if isinstance(sheet, int):
                if not 0 <= sheet < len(names):
                    raise ReadError(f"{path}: sheet index {sheet} out of range; sheets are {names}")
                names = [names[sheet]]
            elif sheet not in names:
                raise ReadError(f"{path}: no sheet named {sheet!r}; sheets are {names}")
            else:
                names = [sheet]
        for name in names:
            ws = workbook[name]
            columns = list(fields)
            batch = RawBatch(str(path), name, columns)
            for row_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values]
                if all(c is None or not str(c).strip() for c in cells):
                    continue
                if header and not columns:
                    columns = [str(c).strip() if c is not None else "" for c in cells]
                    while columns and not columns[-1]:
                        columns.pop()
                    batch.fields = columns
                    continue
                width = len(columns)
                extra = [c for c in cells[width:] if c is not None and str(c).strip()]
                if extra:
                    batch.malformed.append(Malformed(row_no, "malformed_row",
                                                     f"{len(extra)} value(s) beyond the {width} header columns",
                                                     "\t".join("" if c is None else c for c in cells)))
                    continue
                batch.records.append((cells + [None] * width)[:width])
                batch.rows.append(row_no)
                if len(batch.records) >= chunk_rows:
                    yield batch
                    batch = RawBatch(str(path), name, columns)
            yield batch
    finally:
        workbook.close()


# ---------------------------------------------------------------- JSON, JSON Lines, Parquet

_LIST_KEYS = ("messages", "msgs", "records", "data", "items", "rows", "chats", "消息", "聊天记录", "对话")
# keys under which a record holds its session's messages; a list under any other key (such as a
# Taobao message's "attributes": [{"key": …, "value": …}]) is a field of the message, read as JSON text
_SESSION_LIST_KEYS = _LIST_KEYS + ("conversation", "conversations", "dialog", "dialogue", "message_list",
                                   "msg_list", "chat_records", "会话消息", "消息列表")


def _flatten(records: list, parent: dict | None = None) -> Iterator[dict]:
    """Yield message dicts; a record holding a list of message dicts under a message-list key
    (``_SESSION_LIST_KEYS``: a session) passes its other fields down to each of them."""
    for rec in records:
        if not isinstance(rec, dict):
            yield {"__invalid__": rec}
            continue
        nested = next((k for k, v in rec.items() if str(k).lower() in _SESSION_LIST_KEYS and isinstance(v, list)
                       and v and isinstance(v[0], dict)), None)
        if nested is None:
            yield {**(parent or {}), **rec}
        else:
            inherited = {**(parent or {}), **{k: v for k, v in rec.items() if k != nested}}
            yield from _flatten(rec[nested], inherited)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _dict_batches(path: Path, items: Iterator[tuple[int, object]], chunk_rows: int) -> Iterator[RawBatch]:
    """Group (row, dict-or-Malformed) items into batches whose fields are the union of keys seen."""
    batch = RawBatch(str(path), "", [])
    dicts: list[dict] = []

    def flush() -> RawBatch:
        keys: dict[str, None] = {}
        for d in dicts:
            keys.update(dict.fromkeys(d))
        batch.fields = list(keys)
        batch.records = [[_json_text(d.get(k)) for k in batch.fields] for d in dicts]
        return batch

    for row, item in items:
        if isinstance(item, Malformed):
            batch.malformed.append(item)
            continue
        if "__invalid__" in item:
            batch.malformed.append(Malformed(row, "malformed_row", "record is not a JSON object",
                                             _json_text(item["__invalid__"]) or ""))
            continue
        dicts.append(item)
        batch.rows.append(row)
        if len(dicts) >= chunk_rows:
            yield flush()
            batch, dicts = RawBatch(str(path), "", []), []
    yield flush()


def read_json(path: Path, *, encoding: str | None, chunk_rows: int) -> Iterator[RawBatch]:
    """A JSON array of messages, an object holding one (e.g. {"messages": [...]}) or of sessions."""
    encoding = encoding or detect_encoding(path)
    try:
        with open(path, encoding=encoding, errors="strict") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ReadError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                        f"for one object per line, name the file .jsonl") from None
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not valid {encoding} ({exc.reason} at byte {exc.start}); "
                        f"pass encoding='gb18030' or re-save as UTF-8") from None
    if isinstance(data, dict):
        key = next((k for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
        if key is None:
            key = next((k for k, v in data.items() if isinstance(v, list)), None)
        if key is None:
            raise ReadError(f"{path}: a JSON object without a list of messages; expected e.g. "
                            f"{{\"messages\": [...]}} or a top-level array")
        data = data[key]
    if not isinstance(data, list):
        raise ReadError(f"{path}: expected a JSON array of messages")
    yield from _dict_batches(path, enumerate(_flatten(data), start=1), chunk_rows)


def read_jsonl(path: Path, *, encoding: str | None, chunk_rows: int) -> Iterator[RawBatch]:
    """JSON Lines: one message object per line; a line that is not valid JSON is set aside."""
    encoding = encoding or detect_encoding(path)

    def items() -> Iterator[tuple[int, object]]:
        with open(path, encoding=encoding, errors="replace") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield line_no, Malformed(line_no, "malformed_row", f"invalid JSON: {exc.msg}", line)
                    continue
                objs = list(_flatten([obj])) if isinstance(obj, dict) else [{"__invalid__": obj}]
                for o in objs:
                    yield line_no, o

    yield from _dict_batches(path, items(), chunk_rows)


def read_parquet(path: Path, *, chunk_rows: int) -> Iterator[RawBatch]:
    """A Parquet table, streamed in record batches; every value is read as text."""
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:
        raise ReadError(f"{path}: not a readable Parquet file ({exc})") from None
    row = 0
    for rb in pfile.iter_batches(batch_size=chunk_rows):
        frame = rb.to_pandas()
        names = [str(c) for c in frame.columns]
        batch = RawBatch(str(path), "", names)
        for values in frame.itertuples(index=False, name=None):
            row += 1
            batch.records.append([_parquet_text(v) for v in values])
            batch.rows.append(row)
        yield batch


def _parquet_text(value: object) -> str | None:
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return _json_text(value)
