"""Shared fixtures: temporary chat-log files and the bundled sample."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# loaded rulebooks are cached on disk between processes (findings.rulebook): the tests, and the notebook
# kernels they start, use a cache of their own rather than the user's ~/.cache, removed when the tests end
if "CS_ANALYTICS_CACHE" not in os.environ:
    os.environ["CS_ANALYTICS_CACHE"] = tempfile.mkdtemp(prefix="cs-analytics-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CS_ANALYTICS_CACHE"], ignore_errors=True)


@pytest.fixture(scope="session")
def sample_load():
    """The bundled sample export, loaded once for the whole test session."""
    from cs_analytics.base import config
    from cs_analytics import load_logs

    return load_logs(config.SAMPLE_EXPORT)


@pytest.fixture(scope="session")
def full_report(tmp_path_factory):
    """The whole report on the sample with buyer PII planted in it, run once for the session."""
    from report_runs import planted_pii_run

    return planted_pii_run(tmp_path_factory.mktemp("full_report"))


@pytest.fixture(scope="session")
def bare_report(tmp_path_factory):
    """The whole report on the JD sample without send times or agent accounts, run once for the session."""
    from report_runs import bare_run

    return bare_run(tmp_path_factory.mktemp("bare_report"))
