"""The rulebook: forbidden-phrase rules loaded from YAML, validated, layered.

The default rulebook is every ``*.yaml`` file in ``resources/rules/`` (``categories.yaml`` declares
the categories, severities and roles; the other files hold rules). ``load_rulebook(*paths)`` loads
the defaults and lays the user's files on top, in order. A user file may hold:

- ``categories:`` new categories (or subcategories of existing ones),
- ``rules:`` new rules (an id that already exists is an error: use ``override`` or ``disable``),
- ``disable: [rule ids]`` to switch rules off,
- ``override: {rule id: {field: value}}`` to change any field but the id (severity, suggest …),
- ``phrase_sets: {name: {phrases: [...], regex: [...], source: ...}}`` named context lists that rules
  name in ``unless`` (a later file's set of the same name adds its phrases to it).

A rule (all fields documented in resources/rules/README.md):

``id, label, category, subcategory, severity, roles, platforms / exclude_platforms, phrases, variants,
templates, pinyin, regex, pii, exceptions, exception_regex, unless, min_repeats, suggest, source,
effective_from, effective_to``. ``label`` is the rule's short Chinese name (推诿:不知道), what charts,
tables and the deck show instead of the id; a new rule needs one and no two rules share one (an
``override`` keeps the rule's label unless it gives a new one).

``exceptions`` cancel a match they cover (最近 covers 最); ``unless`` looks at the whole message: a
match is not a violation when the same message also holds a phrase of one of the named phrase sets
outside the match (a refusal that comes with an apology, a reason or an alternative);
``unless_previous`` names the phrase sets that count in the agent's previous message of the session
(the reason given just before a bare 不可以的). ``max_chars``
limits a rule to short messages (a bare 不可以的哦 is a refusal; the same words inside a long
explanation are not).

Every problem is reported with the file, line, rule id and what to fix (``RulebookError``).
Regexes must be linear-time safe: nested quantifiers ("(a+)+", "(a*)*") and backreferences are
rejected, because Python's engine can backtrack catastrophically on them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from ..base import config
from ..base.layering import FAST_SAFE_LOADER, load_yaml, layer_files, read_layer
from ..base.schema import PLATFORMS, ROLES
from ..textmatch.normalize import normalize
from ..textmatch.safe_regex import check_regex

RULES_DIR = config.RESOURCES_DIR / "rules"
SEVERITIES = ("fatal", "high", "medium", "low")
RULE_FIELDS = {
    "id", "label", "category", "subcategory", "severity", "roles", "platforms", "exclude_platforms", "phrases",
    "variants", "templates", "pinyin", "regex", "pii", "exceptions", "exception_regex", "unless", "unless_previous",
    "max_chars", "min_repeats",
    "suggest", "source", "effective_from", "effective_to", "note",
}
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class RulebookError(ValueError):
    """A rulebook file is wrong; the message names the file, line and rule and says how to fix it."""


def _canonical(value):
    """``value`` with every set sorted and every dataclass a dict, at any depth, so its JSON (and the
    rulebook version hashed from it) does not depend on the process's string-hash seed."""
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if is_dataclass(value):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ExceptionContext:
    """A context in which a rule's match is not a violation: a phrase that covers the match."""

    phrase: str
    platforms: frozenset[str] | None = None   # None: on every platform


@dataclass(frozen=True)
class ExceptionPattern:
    """A regex on the folded text whose match, covering a rule's match, makes it not a violation."""

    pattern: str
    platforms: frozenset[str] | None = None   # None: on every platform


@dataclass(frozen=True)
class ContextSet:
    """A named list of context phrases and regexes (``phrase_sets`` in a rule file), named by a rule's
    ``unless`` / ``unless_previous`` (not to be confused with ``textmatch.engines.PhraseSet``, which finds phrases)."""

    name: str
    phrases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    source: str = ""


@dataclass
class Rule:
    """One rule, validated. ``patterns`` are the normalised phrases it matches, each with its kind."""

    id: str
    category: str
    subcategory: str | None
    severity: str
    roles: frozenset[str]
    platforms: frozenset[str]
    suggest: str
    source: str
    label: str = ""                      # short Chinese name shown to readers instead of the id
    phrases: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    regex: tuple[tuple[str, str | None], ...] = ()   # (pattern, prefilter or None)
    exceptions: tuple[ExceptionContext, ...] = ()
    exception_regex: tuple[ExceptionPattern, ...] = ()
    unless: tuple[ContextSet, ...] = ()   # context in the same message that makes a match not a violation
    unless_previous: tuple[ContextSet, ...] = ()   # context in the agent's previous message of the session
    max_chars: int | None = None         # the rule judges only messages this short (a bare reply)
    min_repeats: int = 1
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    origin: str = ""                     # file:line the rule came from

    def patterns(self) -> list[tuple[str, str, bool]]:
        """(normalised phrase, the phrase as written, is it an evasion variant) for every phrase."""
        seen: dict[str, tuple[str, str, bool]] = {}
        for written, variant in [(p, False) for p in self.phrases] + [(v, True) for v in self.variants]:
            key = normalize(written)
            if key and key not in seen:
                seen[key] = (key, written, variant)
        return list(seen.values())


@dataclass(eq=False)
class Rulebook:
    """Validated rules and categories, plus where each came from."""

    rules: list[Rule]
    categories: dict[str, dict]
    files: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    phrase_sets: dict[str, ContextSet] = field(default_factory=dict)

    @cached_property
    def version(self) -> str:
        """A short hash of the effective rules: two rulebooks with the same rules have the same version.
        Computed once: a rulebook is not changed after loading (layer a file to change rules)."""
        payload = [{k: _canonical(v) for k, v in vars(r).items() if k != "origin"} for r in self.rules]
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"no rule {rule_id!r} in the rulebook")

    def table(self):
        """One row per rule: id, label, category, subcategory, severity, platforms, phrase count, suggest, source."""
        import pandas as pd

        return pd.DataFrame([{
            "rule_id": r.id, "rule_label": r.label, "category": r.category, "category_label": self.categories[r.category]["label"],
            "subcategory": r.subcategory, "severity": r.severity,
            "platforms": ",".join(sorted(r.platforms)), "roles": ",".join(sorted(r.roles)),
            "phrases": len(r.phrases), "variants": len(r.variants), "regex": len(r.regex),
            "exceptions": len(r.exceptions) + len(r.exception_regex), "unless": ",".join(s.name for s in r.unless + r.unless_previous),
            "suggest": r.suggest, "source": r.source,
        } for r in self.rules])

    def __len__(self) -> int:
        return len(self.rules)


# --------------------------------------------------------------------------------------- YAML ---
class _LineLoader(FAST_SAFE_LOADER):
    """A YAML loader (libyaml's parser where installed) that records the line of every mapping as
    ``__line__``."""


def _construct_mapping(loader, node, deep=False):
    mapping = FAST_SAFE_LOADER.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read(path: Path) -> dict:
    return read_layer(path, RulebookError, "rulebook", "with 'rules', 'categories', 'disable' or 'override' keys",
                      loader=_LineLoader)


# ------------------------------------------------------------------------------- validation ---
def _where(path: Path, entry: dict, rule_id: str | None = None) -> str:
    rid = f", rule {rule_id!r}" if rule_id else ""
    return f"{path}:{entry.get('__line__', '?')}{rid}"


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _parse_date(value, where: str, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RulebookError(f"{where}: {key} {value!r} is not a date; write it as YYYY-MM-DD") from None


@lru_cache(maxsize=1)
def _pii_patterns() -> dict[str, tuple[str, str | None]]:
    spec = load_yaml((config.RESOURCES_DIR / "pii.yaml").read_text(encoding="utf-8"))
    return {p["id"]: (p["regex"], p.get("prefilter")) for p in spec["patterns"]}


def _pinyin_forms(phrase: str, forms: list[str]) -> list[str]:
    """Full pinyin (weixin) and initials (wx) of a Chinese phrase, via pypinyin."""
    from pypinyin import Style, lazy_pinyin

    if not re.fullmatch(r"[\u4e00-\u9fff]{2,}", phrase):
        return []
    out = []
    if "full" in forms:
        out.append("".join(lazy_pinyin(phrase)))
    if "initials" in forms:
        out.append("".join(lazy_pinyin(phrase, style=Style.FIRST_LETTER)))
    return out


def _exception_patterns(value, where: str) -> list[ExceptionPattern]:
    """``exception_regex`` items: a pattern, or ``{pattern: …, platforms: [...]}`` to limit it to platforms."""
    out = []
    for item in _as_list(value):
        if isinstance(item, dict):
            if "pattern" not in item:
                raise RulebookError(f"{where}: an exception_regex given as a mapping needs 'pattern' (and optional 'platforms')")
            plats = _as_list(item.get("platforms"))
            bad = set(plats) - set(PLATFORMS)
            if bad:
                raise RulebookError(f"{where}: exception_regex {item['pattern']!r} names unknown platform(s) {sorted(bad)}")
            out.append(ExceptionPattern(str(item["pattern"]), frozenset(plats) if plats else None))
        else:
            out.append(ExceptionPattern(str(item)))
    return out


def _phrase_set(name: str, spec, where: str) -> ContextSet:
    if not isinstance(spec, dict) or not (spec.get("phrases") or spec.get("regex")):
        raise RulebookError(f"{where}: phrase set {name!r} is a mapping with 'phrases' and/or 'regex' (and 'source')")
    regex = tuple(str(r) for r in _as_list(spec.get("regex")))
    for pattern in regex:
        try:
            check_regex(pattern)
        except ValueError as exc:
            raise RulebookError(f"{where}: phrase set {name!r}: {exc}") from None
    return ContextSet(name, tuple(str(p) for p in _as_list(spec.get("phrases"))), regex, str(spec.get("source", "")).strip())


def _context_sets(value, where: str, phrase_sets: dict[str, ContextSet], key: str) -> list[ContextSet]:
    """``unless`` / ``unless_previous`` items: names of phrase sets, or inline ``{phrases: […], regex: […]}``."""
    out = []
    for i, item in enumerate(_as_list(value)):
        if isinstance(item, dict):
            out.append(_phrase_set(f"inline{i + 1}", item, where))
        elif str(item) in phrase_sets:
            out.append(phrase_sets[str(item)])
        else:
            raise RulebookError(f"{where}: {key} names unknown phrase set {item!r}; declared sets: "
                                f"{sorted(phrase_sets)} (declare it under 'phrase_sets:')")
    return out


def _build_rule(entry: dict, path: Path, categories: dict, phrase_sets: dict[str, ContextSet]) -> Rule:
    rid = entry.get("id")
    where = _where(path, entry, rid if isinstance(rid, str) else None)
    if not isinstance(rid, str) or not _ID.match(rid):
        raise RulebookError(f"{where}: every rule needs an 'id' of lower-case letters, digits, '_' and '.' "
                            f"(got {rid!r})")
    unknown = set(entry) - RULE_FIELDS - {"__line__"}
    if unknown:
        raise RulebookError(f"{where}: unknown field(s) {sorted(unknown)}; known fields: {sorted(RULE_FIELDS)}")
    category = entry.get("category")
    if category not in categories:
        raise RulebookError(f"{where}: unknown category {category!r}; declared categories: {sorted(categories)} "
                            "(declare new ones under 'categories:')")
    cat = categories[category]
    sub = entry.get("subcategory")
    if sub is not None and sub not in cat.get("subcategories", {}):
        raise RulebookError(f"{where}: unknown subcategory {sub!r} of {category!r}; declared: "
                            f"{sorted(cat.get('subcategories', {}))}")
    severity = entry.get("severity", cat["severity"])
    if severity not in SEVERITIES:
        raise RulebookError(f"{where}: severity {severity!r} is not one of {SEVERITIES}")
    roles = _as_list(entry.get("roles", cat.get("roles", ["agent"])))
    if set(roles) - set(ROLES):
        raise RulebookError(f"{where}: unknown role(s) {sorted(set(roles) - set(ROLES))}; roles are {ROLES}")
    platforms = entry.get("platforms", "all")
    platforms = list(PLATFORMS) if platforms == "all" else _as_list(platforms)
    excluded = _as_list(entry.get("exclude_platforms"))
    bad = (set(platforms) | set(excluded)) - set(PLATFORMS)
    if bad:
        raise RulebookError(f"{where}: unknown platform(s) {sorted(bad)}; platforms are {PLATFORMS}")
    platforms = [p for p in platforms if p not in excluded]
    for key in ("suggest", "source"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise RulebookError(f"{where}: '{key}' is required (the phrasing to use instead / the seed document "
                                "or platform rule the entry comes from)")
    label = entry.get("label")
    if not isinstance(label, str) or not label.strip():
        raise RulebookError(f"{where}: 'label' is required: add `label: <short Chinese name>` (what a trainer would "
                            "call the rule, e.g. `label: 推诿:不知道`; charts, tables and the deck show it instead of the id)")
    phrases = [str(p) for p in _as_list(entry.get("phrases"))]
    for parts in _as_list(entry.get("templates")):
        if not isinstance(parts, list) or not all(isinstance(p, list) for p in parts):
            raise RulebookError(f"{where}: 'templates' is a list of templates, each a list of alternatives lists "
                                "(e.g. [[加, 加我], [微信, vx]])")
        phrases += ["".join(map(str, combo)) for combo in itertools.product(*parts)]
    variants = [str(v) for v in _as_list(entry.get("variants"))]
    pinyin = _as_list(entry.get("pinyin"))
    if set(pinyin) - {"full", "initials"}:
        raise RulebookError(f"{where}: pinyin takes 'full' and/or 'initials'")
    if pinyin:
        variants += [form for p in phrases for form in _pinyin_forms(p, pinyin)]
    regexes = []
    for item in _as_list(entry.get("regex")):
        if isinstance(item, dict):
            if "pattern" not in item:
                raise RulebookError(f"{where}: a regex given as a mapping needs 'pattern' (and optional 'prefilter')")
            regexes.append((str(item["pattern"]), item.get("prefilter")))
        else:
            regexes.append((str(item), None))
    for pii_id in _as_list(entry.get("pii")):
        if pii_id not in _pii_patterns():
            raise RulebookError(f"{where}: unknown pii pattern {pii_id!r}; patterns in pii.yaml: "
                                f"{sorted(_pii_patterns())}")
        regexes.append(_pii_patterns()[pii_id])
    exception_regex = _exception_patterns(entry.get("exception_regex"), where)
    unless = _context_sets(entry.get("unless"), where, phrase_sets, "unless")
    for pattern in [r for pair in regexes for r in pair if r] + [e.pattern for e in exception_regex]:
        try:
            check_regex(pattern)
        except ValueError as exc:
            raise RulebookError(f"{where}: {exc}") from None
    if not phrases and not variants and not regexes:
        raise RulebookError(f"{where}: a rule needs 'phrases', 'templates', 'variants', 'regex' or 'pii'")
    empty = [p for p in phrases + variants if not normalize(p)]
    if empty:
        raise RulebookError(f"{where}: phrase(s) {empty} are empty after normalisation (only separators)")
    exceptions = []
    for item in _as_list(entry.get("exceptions")):
        if isinstance(item, dict):
            if "phrase" not in item:
                raise RulebookError(f"{where}: an exception given as a mapping needs 'phrase' (and optional 'platforms')")
            plats = item.get("platforms")
            bad = set(_as_list(plats)) - set(PLATFORMS)
            if bad:
                raise RulebookError(f"{where}: exception {item['phrase']!r} names unknown platform(s) {sorted(bad)}")
            exceptions.append(ExceptionContext(str(item["phrase"]), frozenset(_as_list(plats)) if plats else None))
        else:
            exceptions.append(ExceptionContext(str(item)))
    unless_previous = _context_sets(entry.get("unless_previous"), where, phrase_sets, "unless_previous")
    max_chars = entry.get("max_chars")
    if max_chars is not None and (not isinstance(max_chars, int) or max_chars < 1):
        raise RulebookError(f"{where}: max_chars must be a whole number ≥ 1 (the longest message the rule judges)")
    min_repeats = entry.get("min_repeats", 1)
    if not isinstance(min_repeats, int) or min_repeats < 1:
        raise RulebookError(f"{where}: min_repeats must be a whole number ≥ 1")
    start = _parse_date(entry.get("effective_from"), where, "effective_from")
    end = _parse_date(entry.get("effective_to"), where, "effective_to")
    if start and end and end < start:
        raise RulebookError(f"{where}: effective_to {end} is before effective_from {start}")
    return Rule(
        id=rid, category=category, subcategory=sub, severity=severity, roles=frozenset(roles),
        platforms=frozenset(platforms), suggest=entry["suggest"].strip(), source=entry["source"].strip(),
        label=label.strip(), phrases=tuple(phrases), variants=tuple(variants), regex=tuple(regexes), exceptions=tuple(exceptions),
        exception_regex=tuple(exception_regex), unless=tuple(unless), unless_previous=tuple(unless_previous),
        max_chars=max_chars, min_repeats=min_repeats, effective_from=start,
        effective_to=end, origin=f"{path}:{entry.get('__line__', '?')}",
    )


def _merge_categories(categories: dict, data: dict, path: Path) -> None:
    for cid, spec in (data.get("categories") or {}).items():
        if cid == "__line__":
            continue
        where = f"{path}:{spec.get('__line__', '?') if isinstance(spec, dict) else '?'}, category {cid!r}"
        if not isinstance(spec, dict):
            raise RulebookError(f"{where}: a category is a mapping with label, severity, source")
        if cid in categories:
            subs = {k: v for k, v in (spec.get("subcategories") or {}).items() if k != "__line__"}
            categories[cid].setdefault("subcategories", {}).update(subs)
            continue
        for key in ("label", "severity", "source"):
            if key not in spec:
                raise RulebookError(f"{where}: a new category needs '{key}'")
        if spec["severity"] not in SEVERITIES:
            raise RulebookError(f"{where}: severity {spec['severity']!r} is not one of {SEVERITIES}")
        clean = {k: v for k, v in spec.items() if k != "__line__"}
        clean["subcategories"] = {k: v for k, v in (spec.get("subcategories") or {}).items() if k != "__line__"}
        categories[cid] = clean


def _check_labels_unique(rules) -> None:
    """Each rule's label names it in charts and tables, so no two rules may share one."""
    owners: dict[str, Rule] = {}
    for rule in rules:
        first = owners.setdefault(rule.label, rule)
        if first is not rule:
            raise RulebookError(f"{rule.origin}, rule {rule.id!r}: label {rule.label!r} is already the label of rule "
                                f"{first.id!r} ({first.origin}); give each rule its own label (charts and tables name "
                                "rules by it)")


def default_rule_files() -> list[Path]:
    """The packaged rulebook files, categories first."""
    files = sorted(RULES_DIR.glob("*.yaml"))
    return sorted(files, key=lambda p: p.name != "categories.yaml")


def load_rulebook(*paths: str | Path, defaults: bool = True) -> Rulebook:
    """Load the default rulebook and lay ``paths`` (the user's YAML files) on top, in order."""
    return _load(*layer_files(default_rule_files(), paths, defaults))


def cache_folder() -> Path:
    """Where loaded rulebooks are kept between runs ($CS_ANALYTICS_CACHE, else ~/.cache/cs-analytics)."""
    return Path(os.environ.get("CS_ANALYTICS_CACHE") or Path.home() / ".cache" / "cs-analytics")


def cache_key(*paths: str | Path, extra: str = "") -> str:
    """What a cached object depends on: ``paths`` (names and bytes), the data files of the matching (PII
    patterns, normalisation tables), the code of the textmatch package and of this module (a cached
    object holds their objects), the cs-analytics and pypinyin versions (pinyin variants), and ``extra``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pinyin = version("pypinyin")
    except PackageNotFoundError:
        pinyin = "none"
    digest = hashlib.sha256(f"{config.VERSION}\0{pinyin}\0{extra}\0".encode())
    code = sorted((config.PACKAGE_DIR / "textmatch").glob("*.py"))
    data = [config.RESOURCES_DIR / "pii.yaml", config.RESOURCES_DIR / "normalization.yaml"]
    for path in (*paths, *data, *code, Path(__file__)):
        digest.update(str(path).encode("utf-8") + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def disk_cached(kind: str, key: str, build):
    """``build()``, kept in ``cache_folder()`` as ``<kind>-<key>.pickle`` and read from there when a process
    asked for it before. A cache that fails to load for any reason (missing, partial, or from another
    machine: Hyperscan checks the CPU) is built again; an unwritable cache folder is skipped."""
    import pickle

    cached = cache_folder() / f"{kind}-{key}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except Exception:
        pass
    value = build()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(cached)                      # whole or not at all, also with processes writing at once
    except OSError:
        pass
    return value


@lru_cache(maxsize=8)
def _load(files: tuple[str, ...], _mtimes: tuple[int, ...]) -> Rulebook:
    """The rulebook of ``files``, from the disk cache when these very files were loaded before (building
    it, pinyin variants included, takes about half a second)."""
    try:
        key = cache_key(*files)
    except OSError:                       # a layer file that cannot be read: the loader says why
        return _build(files)
    return disk_cached("rulebook", key, lambda: _build(files))


def _build(files: tuple[str, ...]) -> Rulebook:
    categories: dict[str, dict] = {}
    rules: dict[str, Rule] = {}
    raw: dict[str, dict] = {}
    disabled: list[str] = []
    phrase_sets: dict[str, ContextSet] = {}
    datas = [(Path(f), _read(Path(f))) for f in files]
    for path, data in datas:
        unknown = set(data) - {"categories", "rules", "disable", "override", "phrase_sets", "version", "source", "__line__"}
        if unknown:
            raise RulebookError(f"{path}: unknown top-level key(s) {sorted(unknown)}; use categories, rules, "
                                "disable, override, phrase_sets")
        _merge_categories(categories, data, path)
        for name, spec in (data.get("phrase_sets") or {}).items():
            if name == "__line__":
                continue
            where = f"{path}:{spec.get('__line__', '?') if isinstance(spec, dict) else '?'}"
            new = _phrase_set(str(name), spec, where)
            old = phrase_sets.get(new.name)
            phrase_sets[new.name] = new if old is None else ContextSet(
                new.name, old.phrases + new.phrases, old.regex + new.regex, "; ".join(filter(None, [old.source, new.source])))
    if not categories:
        raise RulebookError(f"no categories declared in {list(files)}; the default categories.yaml is missing")
    for path, data in datas:
        for entry in _as_list(data.get("rules")):
            if not isinstance(entry, dict):
                raise RulebookError(f"{path}: each item under 'rules' is a mapping (got {entry!r})")
            rule = _build_rule(entry, path, categories, phrase_sets)
            if rule.id in rules:
                raise RulebookError(f"{_where(path, entry, rule.id)}: duplicate rule id (first defined at "
                                    f"{rules[rule.id].origin}); to change a rule use 'override', to replace it "
                                    "'disable' it and add a rule with a new id")
            rules[rule.id] = rule
            raw[rule.id] = entry
        for rid in _as_list(data.get("disable")):
            if rid not in rules:
                raise RulebookError(f"{path}: cannot disable unknown rule {rid!r}")
            del rules[rid]
            disabled.append(rid)
        overrides = data.get("override") or {}
        for rid, changes in overrides.items():
            if rid == "__line__":
                continue
            if rid not in rules:
                raise RulebookError(f"{path}:{overrides.get('__line__', '?')}: cannot override unknown rule {rid!r}")
            if not isinstance(changes, dict) or "id" in changes:
                raise RulebookError(f"{path}: override of {rid!r} must be a mapping of fields other than 'id'")
            merged = {**raw[rid], **changes, "__line__": changes.get("__line__", raw[rid].get("__line__"))}
            rules[rid] = _build_rule(merged, path, categories, phrase_sets)
            raw[rid] = merged
    _check_labels_unique(rules.values())
    return Rulebook(rules=list(rules.values()), categories=categories, files=list(files), disabled=disabled,
                    phrase_sets=phrase_sets)
