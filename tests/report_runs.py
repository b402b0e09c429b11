"""Whole report runs the tests share (each takes about half a minute): the sample with buyer PII
planted in it, and the JD sample without send times or agent accounts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from cs_analytics.base import config
from cs_analytics.outputs.report import RunResult, run_report


@dataclass
class ReportRun:
    """A finished report run: its export, its folder and the runner's result and progress lines."""

    export: Path
    out: Path
    result: RunResult
    progress: list[str] = field(default_factory=list)
    planted: dict = field(default_factory=dict)


def id_number(region: str, birth: str, serial: str) -> str:
    """A well-formed 18-digit citizen ID (GB 11643 check digit)."""
    body = region + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def export_with_planted_pii(path) -> dict[str, list[str]]:
    """Write the sample export with buyer PII planted in every 40th customer message and every 60th
    agent message (phones plain, +86-dashed and full-width; ID numbers; labelled names); return the
    planted raw values."""
    frame = pd.read_csv(config.SAMPLE_EXPORT, encoding="gb18030", dtype=str, keep_default_na=False)
    names = yaml.safe_load((config.SAMPLE_SPEC_DIR / "scenarios.yaml").read_text(encoding="utf-8"))["names"]
    planted = {"phones": [], "ids": [], "names": list(names)}
    customer = frame.index[frame["发送方"] == "买家"][::40]
    agent = frame.index[frame["发送方"] == "客服"][::60]
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    for i, row in enumerate(list(customer) + list(agent)):
        phone = f"1{3 + i % 7}{i:09d}"
        ident = id_number("110105", f"19{70 + i % 30:02d}0{1 + i % 9}1{i % 10}", f"{i % 1000:03d}")
        name = names[i % len(names)]
        shown = [phone, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", phone.translate(full_width)][i % 3]
        if row in customer:
            text = f"收件人{name}，手机{shown}，身份证号{ident}，地址是上海市浦东新区张江路{i}号"
        else:
            text = f"好的亲，已登记：收货人 {name}，电话{shown}，身份证{ident}"
        frame.loc[row, "内容"] = text
        planted["phones"].append(phone)
        planted["ids"].append(ident)
    frame.to_csv(path, index=False, encoding="gb18030")
    return planted



def planted_pii_run(folder: Path) -> ReportRun:
    """The full report on the sample export with buyer PII planted in it, every chart as PNG and SVG."""
    export = folder / "export_with_pii.csv"
    planted = export_with_planted_pii(export)
    progress: list[str] = []
    result = run_report(export, folder / "run", figure_formats=["png", "svg"], log=progress.append)   # SVG on request
    return ReportRun(export, folder / "run", result, progress, planted)


def bare_run(folder: Path) -> ReportRun:
    """The full report on the JD sample: no send times, no agent accounts, charts as PNG only (the default)."""
    progress: list[str] = []
    result = run_report(config.SAMPLE_JD_TSV, folder / "run", profile="jd_tsv", log=progress.append)
    return ReportRun(Path(config.SAMPLE_JD_TSV), folder / "run", result, progress)
