"""What every notebook does first: load the export, apply the parameters, set up charts and output."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import config
from .filters import filter_messages
from .logs import LoadResult, load_logs
from .plots import save_figure, setup_style

OUTPUT_ENV = "CS_ANALYTICS_OUTPUT_DIR"


@dataclass
class Context:
    """A notebook's data and output folder."""

    result: LoadResult
    messages: pd.DataFrame
    out_dir: Path

    @property
    def figures_dir(self) -> Path:
        return self.out_dir / "figures"

    def save(self, fig, name: str) -> Path:
        """Save a figure for decks (PNG + SVG) under the run's figures folder; returns the PNG path."""
        return save_figure(fig, name, self.figures_dir)["png"]


def output_dir(requested: str | Path | None) -> Path:
    """The run folder: the parameter, else $CS_ANALYTICS_OUTPUT_DIR, else reports/interactive."""
    chosen = requested or os.environ.get(OUTPUT_ENV) or (config.REPORTS_DIR / "interactive")
    path = Path(chosen)
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepare(logs, profile=None, platforms=None, date_from=None, date_to=None, output=None) -> Context:
    """Load ``logs`` with ``profile``, keep the requested platforms and dates, set the chart style."""
    setup_style()
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
    result = load_logs(logs, profile)
    messages = filter_messages(result.messages, platforms=platforms, date_from=date_from, date_to=date_to)
    return Context(result, messages, output_dir(output))
