"""cs-analytics: quality analytics for Chinese e-commerce customer-service chat logs (客服质检).

The public API:

- ``load_logs(path, profile=None, **options)`` -> ``LoadResult`` (``.messages``, ``.quarantine``, ``.report``)
- ``generate_sample(...)`` -> a deterministic synthetic export with its planted ground truth
- ``schema.describe()`` -> the canonical messages table, documented
"""
from .filters import filter_messages
from .logs import LoadError, LoadReport, LoadResult, load_logs
from .sample import generate_sample, write_sample
from .profiles import ProfileError, available_profiles, load_profile
from .timeparse import NoTimestampsError, has_times, require_times

__version__ = "0.1.0"

__all__ = [
    "load_logs", "LoadResult", "LoadReport", "LoadError", "load_profile", "available_profiles",
    "ProfileError", "filter_messages", "generate_sample", "write_sample", "has_times", "require_times", "NoTimestampsError", "__version__",
]
