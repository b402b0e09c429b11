"""The bundled sample repeated to benchmark size (shared by bench_complaints.py and bench_timing.py)."""
from __future__ import annotations

import pandas as pd

from cs_analytics.base import config
from cs_analytics import load_logs


def repeated_sample(copies: int) -> pd.DataFrame:
    """The sample's messages ``copies`` times over, each copy with its own session and message ids."""
    sample = load_logs(config.SAMPLE_EXPORT, progress=False).messages
    return pd.concat([sample.assign(session_id=sample["session_id"] + f"-{i}", message_id=sample["message_id"] + f"-{i}")
                      for i in range(copies)], ignore_index=True)
