"""Every finding of a partitioned dataset (``cs-analytics convert``) computed on a Dask cluster.

Each task reads one file of the dataset (whole sessions and buyers, see ``ingest.dataset``), computes
the same ``Findings`` the pandas path computes (``partitions.part_findings``) and either returns the
tables (``out=None``: they are gathered and combined here) or writes them next to each other under
``out/<finding>/part-NNNNN.parquet`` and returns only counts (the client never holds the findings).

What combines how:

- per-message, per-session and per-round tables (hits, complaint signals and sessions, reply rounds,
  politeness, process …): concatenated; nothing is estimated, every row is the row the pandas path
  gives, in the same order (by session id, then the session's own order);
- the platforms' response metrics: numerators and denominators added up per recipe (exact);
- the key of the messages (count and id hash, as ``Findings.key``): sums of per-file hashes (exact).

Statistics the notebooks compute from these tables (rates, medians, percentiles) are therefore exact.
Only ``cluster_response_summary``, which computes response-time percentiles on the cluster without
gathering the rounds, is approximate (Dask's quantiles); its test bounds the error.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..ingest.dataset import dataset_files, read_dataset, read_part
from .analyze import FINDINGS, MANIFEST, Findings, ids_hash
from .partitions import METRIC_COUNTS, PART_FINDINGS, concat_parts, order_by_session, part_findings
from .timing import finish_platform_metrics

ID_HASH_MASK = 2**63 - 1


def _analyze_file(index: int, path: str, layers: dict, out: str | None) -> dict:
    """One task: the findings of one dataset file, returned or written under ``out``."""
    messages = read_part(path)
    found = Findings(messages, workers=1, **layers)
    tables = part_findings(found)
    summary = {"index": index, "messages": len(messages), "ids_hash": ids_hash(messages), "timed": found.timed,
               METRIC_COUNTS: tables.pop(METRIC_COUNTS, None)}
    if out is None:
        return {**summary, "tables": tables}
    written = {}
    for name, table in tables.items():
        if table is None:
            written[name] = None
            continue
        folder = Path(out) / name
        folder.mkdir(parents=True, exist_ok=True)
        table.to_parquet(folder / f"part-{index:05d}.parquet", index=False)
        written[name] = len(table)
    return {**summary, "rows": written}


def connect(client=None, scheduler: str | None = None, workers: int | None = None):
    """A ``dask.distributed`` client: the one given, one for the scheduler at ``scheduler``
    (tcp://host:8786, or any address your cluster manager gives), or a new ``LocalCluster`` of
    ``workers`` single-threaded processes (default: one per core)."""
    from dask.distributed import Client, LocalCluster

    if client is not None:
        return client
    if scheduler:
        return Client(scheduler)
    return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))


def release(client, scheduler: str | None) -> None:
    """Close a client this module opened, and its LocalCluster when it started one (never a cluster
    it was pointed at)."""
    cluster = None if scheduler else client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def _layers(rulebook, taxonomy, recipes, scorecard, engine) -> dict:
    # loaded once here (a bad layer is an error before any task runs) and sent to the workers pickled
    probe = Findings(pd.DataFrame({"session_id": [], "role": [], "text": []}), rulebook=rulebook, taxonomy=taxonomy,
                     recipes=recipes, scorecard=scorecard, engine=engine)
    return {"rulebook": probe.rulebook, "taxonomy": probe.taxonomy, "recipes": probe.recipes,
            "scorecard": scorecard, "engine": engine}


def analyze_dataset(dataset: str | Path, *, rulebook=None, taxonomy=None, recipes=None, scorecard=None,
                    engine: str = "auto", client=None, scheduler: str | None = None, out: str | Path | None = None,
                    workers: int | None = None) -> "DatasetFindings":
    """Every finding of ``dataset`` computed on a Dask cluster (see ``connect``), one task per file.

    ``out=None``: the findings are gathered into this process (a ``DatasetFindings`` whose tables equal
    the pandas path's). ``out=FOLDER``: the workers write them under ``FOLDER`` (Parquet, one folder
    per finding, ``findings.json`` as ``Findings.save`` writes it, readable by ``Findings.read``) and
    only counts come back; the returned findings read those files when a table is first asked for."""
    files = [str(p) for p in dataset_files(dataset)]
    layers = _layers(rulebook, taxonomy, recipes, scorecard, engine)
    given = client
    client = connect(client, scheduler, workers)
    own_client = given is None
    try:
        shared = client.scatter(layers, broadcast=True)
        target = None if out is None else str(Path(out).resolve())
        futures = client.map(_analyze_file, range(len(files)), files, layers=shared, out=target,
                             key=[f"cs-analytics-file-{i}" for i in range(len(files))], pure=False)
        results = sorted(client.gather(futures), key=lambda r: r["index"])
    finally:
        if own_client:
            release(client, scheduler)
    found = DatasetFindings(dataset, results, layers)
    if out is not None:
        found.write_manifest(Path(out))
    return found


class DatasetFindings(Findings):
    """The findings of a dataset computed on a cluster. Same attributes as ``Findings``; the messages
    are read from the dataset only if a table needs them (``.messages``)."""

    def __init__(self, dataset, results: list[dict], layers: dict):   # noqa: D107 (no Findings.__init__: no messages here)
        self.dataset = Path(dataset)
        self.rulebook, self.taxonomy, self.recipes = layers["rulebook"], layers["taxonomy"], layers["recipes"]
        self.scorecard, self.engine, self.workers = layers["scorecard"], layers["engine"], 1
        self.results = results
        self.timed = any(r["timed"] for r in results)
        self.n_messages = sum(r["messages"] for r in results)
        self.ids_hash = str(sum(r["ids_hash"] for r in results) & ID_HASH_MASK)
        counts = [r[METRIC_COUNTS] for r in results if r[METRIC_COUNTS] is not None]
        self.__dict__["platform_metrics"] = (finish_platform_metrics(pd.concat(counts, ignore_index=True), self.recipes)
                                             if counts else None)
        if results and "tables" in results[0]:
            for name in PART_FINDINGS:
                tables = [r["tables"][name] for r in results if r["tables"][name] is not None]
                self.__dict__[name] = (order_by_session(concat_parts(tables), name)
                                       if tables and any(len(t) for t in tables) else
                                       (tables[0] if tables else None))

    @property
    def messages(self) -> pd.DataFrame:
        """The dataset's messages, read into this process (only when a table asks for them)."""
        if "_messages" not in self.__dict__:
            self.__dict__["_messages"] = read_dataset(self.dataset).messages
        return self.__dict__["_messages"]

    def key(self) -> dict:
        return {"messages": self.n_messages, "message_ids_hash": self.ids_hash, "rulebook": self.rulebook.version,
                "taxonomy": self.taxonomy.version, "recipes": str(self.recipes.get("version"))}

    def write_manifest(self, folder: Path) -> Path:
        """``findings.json`` for findings the workers wrote under ``folder``, plus the combined platform
        metrics, so ``Findings.read(folder, messages)`` reads them."""
        stored = {}
        for name in FINDINGS:
            if name == "platform_metrics":
                if self.__dict__["platform_metrics"] is None:
                    stored[name] = None
                else:
                    self.__dict__["platform_metrics"].to_parquet(folder / "platform_metrics.parquet", index=False)
                    stored[name] = "platform_metrics.parquet"
                continue
            rows = [r["rows"].get(name) for r in self.results]
            if all(n is None for n in rows):
                stored[name] = None
            else:
                stored[name] = name          # a folder of parts, read whole by pandas.read_parquet
        # the tables the workers wrote are read from there when first asked (not recomputed here)
        self._stored = {name: folder / file for name, file in stored.items()
                        if file is not None and name not in self.__dict__}
        self.__dict__.update({name: None for name, file in stored.items() if file is None})
        manifest = {"key": self.key(), "findings": stored, "about": {n: FINDINGS[n] for n in stored},
                    "computed_on": "dask", "files": len(self.results)}
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return folder


def cluster_response_summary(findings_folder: str | Path, client=None, scheduler: str | None = None) -> pd.DataFrame:
    """Response times per platform computed on the cluster from stored reply rounds (``out=`` of
    ``analyze_dataset``) without gathering them: rounds and answered rounds (exact counts), mean
    (exact), median and 90th percentile (approximate: Dask's per-partition quantiles merged)."""
    import dask.dataframe as dd

    own = client is None
    client = connect(client, scheduler)
    try:
        rounds = dd.read_parquet(str(Path(findings_folder) / "reply_rounds"), columns=["platform", "response_s"])
        answered = rounds.dropna(subset=["response_s"])
        counts = rounds.groupby("platform")["response_s"].size().compute().rename("rounds")
        stats = answered.groupby("platform")["response_s"].agg(["count", "mean"]).compute()
        quantiles = {p: answered[answered["platform"] == p]["response_s"].quantile([0.5, 0.9]).compute().to_numpy()
                     for p in stats.index}
    finally:
        if own:
            release(client, scheduler)
    out = pd.concat([counts, stats.rename(columns={"count": "answered", "mean": "mean_s"})], axis=1)
    out["median_s"] = [quantiles[p][0] if p in quantiles else np.nan for p in out.index]
    out["p90_s"] = [quantiles[p][1] if p in quantiles else np.nan for p in out.index]
    return out.reset_index().rename(columns={"index": "platform"})
