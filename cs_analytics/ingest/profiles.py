"""Column-mapping profiles: how an export's headers, role values and times map onto the messages table.

Profiles are YAML files (see resources/profiles/generic.yaml). A user writes their own by copying one
and passes its path to ``load_logs(path, profile=...)``; no code changes needed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..base import config
from ..base.schema import MESSAGE_COLUMNS, PLATFORMS, ROLES


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileError(ValueError):
    """A profile file is missing or invalid; the message names the file and the key to fix."""


# Canonical columns a profile may map, plus ``sender`` (used to derive role/agent/customer).
MAPPABLE = tuple(c for c in MESSAGE_COLUMNS if c not in ("seq", "source_file", "source_row")) + ("sender",)


def fold_header(name: object) -> str:
    """Normalise a header for matching: NFKC (full/half width), lower case, no spaces/underscores/dashes."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


def fold_value(value: object) -> str:
    """Normalise a cell value (role, platform) for lookup: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


@dataclass
class Profile:
    """A parsed, validated profile. See resources/profiles/generic.yaml for the meaning of each field."""

    name: str
    path: Path | None = None
    description: str = ""
    source: str = ""
    header: bool = True
    fields: list[str] = field(default_factory=list)          # headerless files: column order
    columns: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    sender_roles: dict[str, list[str]] = field(default_factory=dict)
    platforms: dict[str, list[str]] = field(default_factory=dict)
    time_formats: list[str] = field(default_factory=list)
    timezone: str = config.DEFAULT_TIMEZONE
    null_values: list[str] = field(default_factory=lambda: [""])
    defaults: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    quoting: str = "minimal"
    extra_columns: list[str] = field(default_factory=list)
    boolean_columns: list[str] = field(default_factory=list)
    true_values: list[str] = field(default_factory=lambda: ["1", "true"])

    def role_lookup(self) -> dict[str, str]:
        """Folded role value -> canonical role."""
        return {fold_value(v): role for role, values in self.roles.items() for v in values}

    def platform_lookup(self) -> dict[str, str]:
        """Folded platform value -> canonical platform (canonical names map to themselves)."""
        table = {p: p for p in PLATFORMS}
        table.update({fold_value(v): p for p, values in self.platforms.items() for v in values})
        return table

    def header_lookup(self) -> dict[str, str]:
        """Folded header name -> canonical column (first listed column wins on a clash)."""
        table: dict[str, str] = {fold_header(c): c for c in MAPPABLE}
        for canonical, aliases in self.columns.items():
            for alias in [canonical, *aliases]:
                table.setdefault(fold_header(alias), canonical)
        for extra in self.extra_columns:
            table.setdefault(fold_header(extra), extra)
        return table


def available_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.stem for p in config.PROFILES_DIR.glob("*.yaml"))


def load_profile(profile: str | Path | dict | Profile | None = None) -> Profile:
    """Load a profile by shipped name (``"generic"``, ``"jd_tsv"``), by YAML path, or from a dict."""
    if isinstance(profile, Profile):
        return profile
    if profile is None:
        profile = config.DEFAULT_PROFILE
    path: Path | None = None
    if isinstance(profile, dict):
        data = profile
    else:
        candidate = Path(profile)
        shipped = config.PROFILES_DIR / f"{profile}.yaml"
        if candidate.suffix in (".yaml", ".yml") and candidate.exists():
            path = candidate
        elif shipped.exists():
            path = shipped
        else:
            raise ProfileError(
                f"profile {str(profile)!r} not found: give a YAML file path or one of {available_profiles()}"
            )
        return _load_profile_file(str(path.resolve()), path.stat().st_mtime_ns)
    return _validate(data, path)


@lru_cache(maxsize=32)
def _load_profile_file(path: str, mtime_ns: int) -> Profile:
    """Parse and validate a profile file once per modification time."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    return _validate(data, Path(path))


def _validate(data: dict, path: Path | None) -> Profile:
    where = str(path) if path else "profile"

    def fail(key: str, what: str) -> None:
        raise ProfileError(f"{where}: key {key!r}: {what}")

    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a mapping of keys (name, columns, roles, ...)")
    known = set(Profile.__dataclass_fields__) - {"path"}
    for key in data:
        if key not in known:
            fail(key, f"unknown key; known keys are {sorted(known)}")
    prof = Profile(name=str(data.get("name") or (path.stem if path else "custom")), path=path)
    for key in ("description", "source", "timezone", "quoting"):
        if key in data:
            setattr(prof, key, str(data[key]))
    if "delimiter" in data:
        prof.delimiter = str(data["delimiter"])
        if len(prof.delimiter) != 1:
            fail("delimiter", "must be a single character, e.g. ',' or '\\t'")
    prof.header = bool(data.get("header", True))
    for key in ("fields", "time_formats", "null_values", "extra_columns", "boolean_columns", "true_values"):
        if key in data:
            value = data[key] or []
            if not isinstance(value, list):
                fail(key, "must be a list")
            setattr(prof, key, [str(v) for v in value])
    for key in ("columns", "roles", "sender_roles", "platforms"):
        value = data.get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            fail(key, "must map a name to a list of values")
        setattr(prof, key, {str(k): [str(x) for x in v] for k, v in value.items()})
    prof.defaults = {str(k): str(v) for k, v in (data.get("defaults") or {}).items()}

    allowed = set(MAPPABLE) | set(prof.extra_columns)
    for col in prof.columns:
        if col not in allowed:
            fail("columns", f"{col!r} is not a canonical column; use one of {sorted(MAPPABLE)} or list it in extra_columns")
    for col in prof.fields:
        if col not in allowed and col != "ignore":
            fail("fields", f"{col!r} is not a canonical column or extra column")
    if not prof.header and not prof.fields:
        fail("fields", "a headerless profile (header: false) must list the column order in `fields`")
    for role in list(prof.roles) + list(prof.sender_roles):
        if role not in ROLES:
            fail("roles", f"{role!r} is not a role; roles are {list(ROLES)}")
    for platform in prof.platforms:
        if platform not in PLATFORMS:
            fail("platforms", f"{platform!r} is not a platform; platforms are {list(PLATFORMS)}")
    if prof.defaults.get("platform", "other") not in PLATFORMS:
        fail("defaults", f"platform must be one of {list(PLATFORMS)}")
    for role, patterns in prof.sender_roles.items():
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                fail("sender_roles", f"invalid regular expression {pattern!r} for {role}: {exc}")
    if prof.quoting not in ("minimal", "none"):
        fail("quoting", "must be 'minimal' (standard CSV quotes) or 'none'")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(prof.timezone)
    except Exception:
        fail("timezone", f"unknown time zone {prof.timezone!r}; use an IANA name such as Asia/Shanghai")
    return prof
