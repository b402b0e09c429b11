"""``analyze``: the findings of a messages table or of a dataset, computed where they should be.

A table (or a ``LoadResult``) gives a ``Findings`` computed in this process or, from 200,000 messages
on, in worker processes on every core (``Findings.compute``). A dataset folder (``cs-analytics
convert``) with ``engine="dask"`` is analysed on a Dask cluster (``distributed.analyze_dataset``);
with any other engine it is read into this process.
"""
from __future__ import annotations

from pathlib import Path

from ..ingest.dataset import read_dataset
from .analyze import Findings
from .distributed import analyze_dataset


def analyze(messages, *, rulebook=None, taxonomy=None, recipes=None, scorecard=None, engine: str = "auto",
            workers="auto", client=None, scheduler: str | None = None) -> Findings:
    """The findings of ``messages`` (a messages table, or a ``LoadResult``), each computed once when
    first asked: ``hits``, ``complaint_signals``, ``message_labels``, ``complaint_sessions``, ``owners``,
    ``reply_rounds``, ``session_times``, ``long_waits``, ``platform_metrics``, ``politeness``, ``process``.

    ``rulebook``/``taxonomy``: a loaded object, your YAML layer path(s) (laid on the packaged
    defaults), or None for the defaults. ``recipes``: a recipe file or dict. ``scorecard``: carried
    for the scorecard tables. ``workers``: processes for ``Findings.compute``/``save`` ("auto": both
    cores from 200,000 messages on; 1: this process only). ``engine``: the phrase-matching engine
    (auto, hyperscan, pyahocorasick), or "dask": ``messages`` is then a dataset folder
    (``cs-analytics convert``) analysed on a Dask cluster (``client``, or ``scheduler`` an address,
    or a LocalCluster; see ``distributed.analyze_dataset``). A dataset folder with another engine is
    read into this process and analysed here."""
    if isinstance(messages, (str, Path)):
        if engine == "dask":
            return analyze_dataset(messages, rulebook=rulebook, taxonomy=taxonomy, recipes=recipes,
                                   scorecard=scorecard, client=client, scheduler=scheduler)
        messages = read_dataset(messages)
    elif engine == "dask":
        raise ValueError("engine='dask' analyses a dataset folder: write one with `cs-analytics convert EXPORT "
                         "--out DATASET` (or ingest.dataset.write_dataset) and pass its path")
    messages = getattr(messages, "messages", messages)
    return Findings(messages, rulebook=rulebook, taxonomy=taxonomy, recipes=recipes, scorecard=scorecard,
                    engine=engine, workers=workers)
