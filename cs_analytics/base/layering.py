"""YAML layers: the packaged defaults, then the user's files in order, each a mapping read with errors
that name the file. The rulebook and the complaint taxonomy are built this way; their loaders are
cached on the files' modification times, so an edited layer is read again."""
from __future__ import annotations

from pathlib import Path

import yaml

# libyaml's C parser where PyYAML was built with it (the PyPI wheels are): the same documents, parsed
# about ten times faster than the pure-Python loader
FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """A YAML document (safe types only), parsed with libyaml where available."""
    return yaml.load(text, Loader=FAST_SAFE_LOADER)


def layer_files(defaults: list[Path], paths, use_defaults: bool = True) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The files to lay on one another (defaults first, then ``paths``) and their modification times
    (0 for a file that does not exist: reading it then raises the loader's own error): a cache key."""
    files = tuple(str(p) for p in ([*defaults] if use_defaults else []) + [Path(p) for p in paths])
    return files, tuple(Path(f).stat().st_mtime_ns if Path(f).exists() else 0 for f in files)


def read_layer(path: str | Path, error: type[Exception], what: str, keys_hint: str,
               loader: type = FAST_SAFE_LOADER) -> dict:
    """One layer file as a mapping; ``error`` (naming the file) when it is missing, not YAML, or not a
    mapping. ``what`` names the kind of file ("rulebook"), ``keys_hint`` the keys it may hold."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise error(f"{path}: no such {what} file") from None
    except (yaml.YAMLError, ValueError) as exc:   # ValueError: an impossible date such as 2026-13-01
        raise error(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} file must be a mapping ({keys_hint})")
    return data
