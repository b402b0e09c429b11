"""cs-analytics: quality analytics for Chinese e-commerce customer-service chat logs (客服质检).

The public API:

- ``load_logs(path, profile=None, **options)`` -> ``LoadResult`` (``.messages``, ``.quarantine``, ``.report``)
- ``analyze(messages, rulebook=None, taxonomy=None, recipes=None)`` -> ``Findings``: every finding below,
  each computed once when first asked (``.hits``, ``.complaint_sessions``, ``.reply_rounds``, ``.politeness`` …),
  with your layers passed to every step; ``.save(folder)`` / ``Findings.read(folder, messages)``
- ``session_owner(messages)`` -> per session, the agent who owns it (the first human agent who replied)
- ``as_messages(frame)`` -> a hand-built table with only session_id, role and text made canonical
- ``generate_sample(...)`` -> a deterministic synthetic export with its planted ground truth
- ``schema.describe()`` -> the canonical messages table, documented
- ``load_rulebook(*paths)`` -> the forbidden-phrase rulebook (defaults + your YAML layers)
- ``find_violations(messages, rulebook=None)`` -> the hits table (message id, rule, span, matched, suggestion)
- ``check_text(text, platform)`` -> the hits for one reply
- ``classify_complaints(messages)`` -> one row per session: contact reason, complaint or inquiry, primary/secondary complaint type, escalation, temperament
- ``complaint_signals(messages)`` / ``label_messages(messages)`` -> every finding / labels per customer message
- ``load_taxonomy(*paths)`` -> the complaint taxonomy (defaults + your YAML layers)
- ``reply_rounds(messages)`` / ``platform_metrics(messages)`` -> response times per reply round / the platforms' own metrics
- ``politeness_checks(messages, hits=None)`` -> one row per session: each politeness check, fatal, score
- ``process_checks(messages, hits=None, complaints=None)`` -> one row per session: each complaint-handling step
  (apology first, solution, deadline, refusals, abusive buyers, transfers, holds …) with evidence, handling score
- ``accuracy.trust_table(kind)`` -> how the detectors measured on hand-labelled real JD chats (held-back part)
- ``Tokenizer`` -> jieba (or rjieba) with the domain dictionary and stopwords, for term counts and word clouds
"""
from .base import config

# each public name and the module that defines it: imported when first used, so that loading an export
# (``from cs_analytics import load_logs``) does not wait for the analysis modules, and the reverse
_PUBLIC = {
    "MessagesError": ".base.schema",
    "as_messages": ".base.schema",
    "Findings": ".findings.analyze",
    "analyze": ".findings.run",
    "process_checks": ".findings.process",
    "session_owner": ".findings.sessions",
    "TaxonomyError": ".findings.complaints",
    "check_complaint": ".findings.complaints",
    "classify_complaints": ".findings.complaints",
    "complaint_signals": ".findings.complaints",
    "label_messages": ".findings.complaints",
    "load_taxonomy": ".findings.complaints",
    "filter_messages": ".ingest.filters",
    "check_text": ".findings.violations",
    "find_violations": ".findings.violations",
    "LoadError": ".ingest.load",
    "LoadReport": ".ingest.load",
    "LoadResult": ".ingest.load",
    "load_logs": ".ingest.load",
    "generate_sample": ".ingest.sample",
    "write_sample": ".ingest.sample",
    "ProfileError": ".ingest.profiles",
    "available_profiles": ".ingest.profiles",
    "load_profile": ".ingest.profiles",
    "RulebookError": ".findings.rulebook",
    "load_rulebook": ".findings.rulebook",
    "Tokenizer": ".tables.terms",
    "NoTimestampsError": ".base.timeparse",
    "has_times": ".base.timeparse",
    "require_times": ".base.timeparse",
    "platform_metrics": ".findings.timing",
    "reply_rounds": ".findings.timing",
    "politeness_checks": ".findings.politeness",
}


def __getattr__(name: str):
    """A public name, imported from its module when first asked for (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cs_analytics' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__version__ = config.VERSION

__all__ = [
    "analyze", "Findings", "process_checks", "session_owner", "as_messages", "MessagesError", "load_logs", "LoadResult", "LoadReport", "LoadError", "load_profile", "available_profiles",
    "ProfileError", "filter_messages", "generate_sample", "write_sample", "has_times", "require_times", "NoTimestampsError",
    "load_rulebook", "RulebookError", "find_violations", "check_text", "classify_complaints", "complaint_signals",
    "label_messages", "check_complaint", "load_taxonomy", "TaxonomyError", "Tokenizer", "reply_rounds",
    "platform_metrics", "politeness_checks", "__version__",
]
