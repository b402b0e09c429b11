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
from .base.schema import MessagesError, as_messages
from .findings.analyze import Findings
from .findings.run import analyze
from .findings.process import process_checks
from .findings.sessions import session_owner
from .findings.complaints import TaxonomyError, check_complaint, classify_complaints, complaint_signals, label_messages, load_taxonomy
from .ingest.filters import filter_messages
from .findings.violations import check_text, find_violations
from .ingest.load import LoadError, LoadReport, LoadResult, load_logs
from .ingest.sample import generate_sample, write_sample
from .ingest.profiles import ProfileError, available_profiles, load_profile
from .findings.rulebook import RulebookError, load_rulebook
from .tables.terms import Tokenizer
from .base.timeparse import NoTimestampsError, has_times, require_times
from .findings.timing import platform_metrics, reply_rounds
from .findings.politeness import politeness_checks

__version__ = config.VERSION

__all__ = [
    "analyze", "Findings", "process_checks", "session_owner", "as_messages", "MessagesError", "load_logs", "LoadResult", "LoadReport", "LoadError", "load_profile", "available_profiles",
    "ProfileError", "filter_messages", "generate_sample", "write_sample", "has_times", "require_times", "NoTimestampsError",
    "load_rulebook", "RulebookError", "find_violations", "check_text", "classify_complaints", "complaint_signals",
    "label_messages", "check_complaint", "load_taxonomy", "TaxonomyError", "Tokenizer", "reply_rounds",
    "platform_metrics", "politeness_checks", "__version__",
]
