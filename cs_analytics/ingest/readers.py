"""Format readers: turn an export file into batches of raw string records, nothing dropped.

Each reader yields ``RawBatch`` objects: the field names, the records as lists of strings (or None),
the source row of each record, and the rows it could not parse (``Malformed``) with a reason. The
loader (ingest/load.py) maps the fields onto the messages table. Readers stream: a file is never held as
both text and table at once.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

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
    rows: list[int] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    progress_bytes: int = 0         # bytes of the file consumed so far (for progress bars)


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
    text = sample.decode(encoding, errors="replace")
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return 1.0
    return sum(_common_char(ch) for ch in non_ascii) / len(non_ascii)


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
    """Iterates lines of a text stream while remembering the raw lines of the current record."""

    def __init__(self, stream: io.TextIOBase):
        self.stream = stream
        self.lines: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.stream)
        self.lines.append(line)
        return line


def _sniff_delimiter(path: Path, encoding: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",\t;|"}
        return max(counts, key=counts.get) if max(counts.values()) else ","


def read_delimited(path: Path, *, encoding: str | None, delimiter: str | None, quoting: str,
                   header: bool, fields: list[str], chunk_rows: int) -> Iterator[RawBatch]:
    """Stream a CSV/TSV file as raw batches. Line numbers are 1-based physical lines.

    A record whose field count is wrong is set aside as ``malformed_row``; when it spans several
    physical lines (an unclosed quote swallowing what follows), each of those lines is re-read on its
    own so one stray quote costs one row, not the rest of the file.
    """
    fmt = file_format(path)
    encoding = encoding or detect_encoding(path)
    delimiter = delimiter or _sniff_delimiter(path, encoding, fmt)
    quote_mode = csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL
    csv.field_size_limit(2**31 - 1)
    with open(path, "rb") as raw:
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        recorder = _LineRecorder(stream)
        reader = csv.reader(recorder, delimiter=delimiter, quoting=quote_mode, strict=False)
        names = list(fields)
        expected = len(names) if names else None
        batch = RawBatch(str(path), "", names)
        line_no = 0
        while True:
            recorder.lines = []
            start = line_no + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line_no += max(1, len(recorder.lines))
                batch.malformed.append(Malformed(start, "malformed_row", f"CSV error: {exc}", "".join(recorder.lines)))
                continue
            consumed = recorder.lines
            line_no += max(1, len(consumed))
            if not "".join(record).strip():
                continue  # blank line: nothing to keep
            if header and expected is None:
                names = [cell.strip() for cell in record]
                expected = len(names)
                batch.fields = names
                continue
            if len(record) == expected:
                batch.records.append(record)
                batch.rows.append(start)
            elif len(consumed) > 1:
                _reread_lines(consumed, start, delimiter, quote_mode, expected, batch)
            else:
                batch.malformed.append(Malformed(
                    start, "malformed_row",
                    f"expected {expected} fields, found {len(record)} (is a text cell containing "
                    f"{delimiter!r} left unquoted?)", "".join(consumed)))
            if len(batch.records) >= chunk_rows:
                batch.progress_bytes = raw.tell()
                yield batch
                batch = RawBatch(str(path), "", names)
        if header and expected is None:
            return
        batch.progress_bytes = raw.tell()
        yield batch


def _reread_lines(lines: list[str], start: int, delimiter: str, quote_mode: int, expected: int,
                  batch: RawBatch) -> None:
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        cells = next(csv.reader([line], delimiter=delimiter, quoting=quote_mode, strict=False), [])
        unbalanced = quote_mode != csv.QUOTE_NONE and line.count('"') % 2 == 1
        if len(cells) == expected and not unbalanced:
            batch.records.append(cells)
            batch.rows.append(start + offset)
        else:
            batch.malformed.append(Malformed(
                start + offset, "malformed_row",
                f"expected {expected} fields, found {len(cells)}; an unclosed quote (\") made this "
                f"record run over {len(lines)} lines", line))


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
