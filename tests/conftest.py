"""Shared fixtures: temporary chat-log files and the bundled sample."""
from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def sample_load():
    """The bundled sample export, loaded once for the whole test session."""
    from cs_analytics.base import config
    from cs_analytics import load_logs

    return load_logs(config.SAMPLE_EXPORT)
