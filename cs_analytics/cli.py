"""Command line: ``cs-analytics report | check-pages | load | convert | check | complaint | rules | sample``."""
from __future__ import annotations

import argparse
import sys

from .base import config


def _report(args: argparse.Namespace) -> int:
    from .outputs.report import run_report

    result = run_report(args.logs, args.out, profile=args.profile, platforms=args.platform,
                        date_from=args.date_from, date_to=args.date_to, rules=args.rules,
                        taxonomy=args.taxonomy, recipes=args.recipes, scorecard=args.scorecard,
                        engine=args.engine, scheduler=args.scheduler,
                        figure_formats=["png", "svg"] if args.svg else None)
    print(f"outputs in {result.out_dir} (open index.html; deck.pptx, deck_full.pptx, workbook.xlsx, html/, figures/, run.json)")
    if not result.ok:
        for error in result.errors:
            print(f"error: {error}", file=sys.stderr)
        print("the other outputs were kept; fix the failing notebook and rerun", file=sys.stderr)
        return 1
    return 0


def _check_pages(args: argparse.Namespace) -> int:
    from .outputs.browser_check import BrowserUnavailable, check_run

    try:
        checks = check_run(args.run)
    except BrowserUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for check in checks:
        print(f"{'ok' if check.ok else 'PROBLEMS'}  {check.page}" + (f"  (screenshot {check.screenshot})" if check.screenshot else ""))
        for problem in check.problems:
            print(f"    {problem}")
    bad = sum(not c.ok for c in checks)
    print(f"{len(checks)} page(s) opened in headless Chromium; {bad} with problems")
    return 1 if bad else 0


def _load(args: argparse.Namespace) -> int:
    from .ingest.load import load_logs

    result = load_logs(args.path, args.profile, encoding=args.encoding, progress=True)
    print(result.report)
    if args.quarantine_out:
        result.quarantine.to_csv(args.quarantine_out, index=False, encoding="utf-8-sig")
        print(f"quarantined rows written to {args.quarantine_out}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .ingest.dataset import ROWS_PER_FILE, dataset_manifest, write_dataset
    from .ingest.load import load_logs

    loaded = load_logs(args.export, args.profile, progress=True)
    print(loaded.report)
    out = write_dataset(loaded, args.out, rows_per_file=args.rows_per_file or ROWS_PER_FILE)
    manifest = dataset_manifest(out)
    print(f"dataset in {out}: {manifest['rows']:,} messages in {len(manifest['files'])} file(s) "
          f"by platform and month; the load report and the rows set aside travel with it")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .findings.violations import check_text
    from .findings.rulebook import load_rulebook

    rulebook = load_rulebook(*(args.rules or []))
    hits = check_text(args.text, platform=args.platform, role=args.role, rulebook=rulebook)
    if hits.empty:
        print(f"没有发现违规 (no violations; {len(rulebook)} rules, platform {args.platform})")
        return 0
    marked, last = [], 0
    for start, end in sorted(set(zip(hits["start"], hits["end"]))):
        if start >= last:
            marked += [args.text[last:start], "【", args.text[start:end], "】"]
            last = end
    print("".join(marked + [args.text[last:]]))
    for hit in hits.itertuples(index=False):
        label = rulebook.categories[hit.category]["label"]
        sub = f"/{hit.subcategory}" if isinstance(hit.subcategory, str) else ""
        evasion = "  (变体/evasion)" if hit.evasion else ""
        print(f"- [{hit.severity}] {label} {hit.category}{sub}  {hit.rule_label} ({hit.rule_id})  "
              f"「{hit.matched}」 @{hit.start}-{hit.end}{evasion}")
        print(f"    建议说法: {hit.suggest}")
    return 0


def _complaint(args: argparse.Namespace) -> int:
    from .findings.complaints import check_complaint, load_taxonomy

    taxonomy = load_taxonomy(*(args.taxonomy or []))
    found = check_complaint(args.text, taxonomy)
    if found.empty:
        print(f"没有发现投诉信号 (no complaint signals; {len(taxonomy.types)} types)")
        return 0
    families = {"complaint": "投诉", "inquiry": "咨询", "escalation": "升级威胁", "anger": "情绪激动",
                "compensation": "索赔"}
    for row in found.itertuples(index=False):
        cue = f" + 提示词「{row.cue}」" if isinstance(row.cue, str) else ""
        print(f"- {families.get(row.family, row.family)} {row.family}: {taxonomy.labels.get(row.label, row.label)} "
              f"{row.label}  「{row.matched}」{cue} @{row.start}-{row.end} via {row.via}")
    return 0


def _rules(args: argparse.Namespace) -> int:
    from .findings.rulebook import load_rulebook

    rulebook = load_rulebook(*(args.rules or []))
    table = rulebook.table()
    print(f"rulebook {rulebook.version}: {len(rulebook)} rules from {len(rulebook.files)} file(s)"
          + (f"; disabled: {', '.join(rulebook.disabled)}" if rulebook.disabled else ""))
    counts = table.groupby("category").agg(rules=("rule_id", "size"), phrases=("phrases", "sum"),
                                           variants=("variants", "sum"))
    print(counts.to_string())
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .ingest.sample import write_sample

    paths = write_sample(args.out, n_sessions=args.sessions, seed=args.seed)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(prog="cs-analytics", description="客服质检分析 / customer-service QA analytics")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("report", help="run every notebook on an export and build the HTML reports, workbook and deck under reports/<run>/")
    rep.add_argument("--logs", default=str(config.SAMPLE_EXPORT), help="export file or folder (default: sample)")
    rep.add_argument("--profile", default=None, help="column profile name or YAML path (default: generic)")
    rep.add_argument("--platform", action="append", default=None,
                     help="only these platforms (taobao, tmall, jd, pdd, douyin); repeatable")
    rep.add_argument("--from", dest="date_from", default=None, help="first day, YYYY-MM-DD")
    rep.add_argument("--to", dest="date_to", default=None, help="last day, YYYY-MM-DD")
    rep.add_argument("--rules", action="append", default=None,
                     help="your rulebook YAML, layered on the default rules; repeatable")
    rep.add_argument("--taxonomy", action="append", default=None,
                     help="your complaint-taxonomy YAML, layered on the default; repeatable")
    rep.add_argument("--recipes", default=None,
                     help="your platform response-metric recipes YAML (default: the packaged ones)")
    rep.add_argument("--scorecard", default=None,
                     help="your agent-scorecard YAML: component weights, min_sessions, sla_s (default: the packaged one)")
    rep.add_argument("--out", default=None, help="output folder (default: reports/<timestamp>)")
    rep.add_argument("--engine", choices=("pandas", "dask"), default="pandas",
                     help="where the findings are computed: pandas (this machine, both cores) or dask (a Dask cluster)")
    rep.add_argument("--scheduler", default=None,
                     help="with --engine dask: the scheduler's address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    rep.add_argument("--svg", action="store_true",
                     help="save every chart as SVG too, for print (default: PNG only, for slides and pages)")
    rep.set_defaults(func=_report)

    pages = sub.add_parser("check-pages", help="open a report run's pages in headless Chromium, screenshot them and list "
                                               "broken images, script errors, empty KPI tiles, English column ids, overflow")
    pages.add_argument("run", help="a report run folder (the one holding index.html)")
    pages.set_defaults(func=_check_pages)

    convert = sub.add_parser("convert", help="write an export as a partitioned Parquet dataset (for --engine dask)")
    convert.add_argument("export", help="export file or folder")
    convert.add_argument("--out", required=True, help="a new folder for the dataset")
    convert.add_argument("--profile", default=None, help="column profile name or YAML path (default: generic)")
    convert.add_argument("--rows-per-file", type=int, default=None,
                         help="about this many messages per file (default 500,000)")
    convert.set_defaults(func=_convert)

    load = sub.add_parser("load", help="load an export and print the load report (rows kept / set aside)")
    load.add_argument("path")
    load.add_argument("--profile", default=None)
    load.add_argument("--encoding", default=None)
    load.add_argument("--quarantine-out", default=None, help="write the rows set aside to this CSV")
    load.set_defaults(func=_load)

    check = sub.add_parser("check", help="check one reply for forbidden phrases and print suggestions")
    check.add_argument("text", help="the reply text, e.g. \"亲，这个宝贝绝对是全网最低价\"")
    check.add_argument("--platform", default="taobao", help="taobao, tmall, jd, pdd, douyin or other (default: taobao)")
    check.add_argument("--role", default="agent", help="who says it (default: agent)")
    check.add_argument("--rules", action="append", default=None, help="your rulebook YAML, layered on the defaults; repeatable")
    check.set_defaults(func=_check)

    complaint = sub.add_parser("complaint", help="show the complaint types, escalation and temperament signals in one customer message")
    complaint.add_argument("text", help="the customer's message, e.g. \"快递怎么还没到，再不处理我就投诉了\"")
    complaint.add_argument("--taxonomy", action="append", default=None,
                           help="your complaint-taxonomy YAML, layered on the default; repeatable")
    complaint.set_defaults(func=_complaint)

    rules = sub.add_parser("rules", help="validate the rulebook (and your own rule files) and summarise it")
    rules.add_argument("--rules", action="append", default=None, help="your rulebook YAML, layered on the defaults; repeatable")
    rules.set_defaults(func=_rules)

    sample = sub.add_parser("sample", help="generate the synthetic sample export and its ground truth")
    sample.add_argument("--out", default=str(config.SAMPLE_DIR))
    sample.add_argument("--sessions", type=int, default=3000)
    sample.add_argument("--seed", type=int, default=20251001)
    sample.set_defaults(func=_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cs-analytics`` console script."""
    from .ingest.load import LoadError
    from .ingest.profiles import ProfileError
    from .findings.complaints import TaxonomyError
    from .findings.rulebook import RulebookError
    from .findings.timing import RecipeError
    from .tables.scorecards import ScorecardError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LoadError, ProfileError, RulebookError, TaxonomyError, RecipeError, ScorecardError, ValueError,
            FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
