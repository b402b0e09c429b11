"""Deterministic synthetic chat-log exports with the ground truth they plant.

The content (shops, agents and their habits, customer and agent phrases, violations and their rates)
is data: resources/sample/scenarios.yaml. Same seed and spec, same bytes. The export is written the
way shops receive it: a GB18030 CSV with Chinese headers, sorted by time across sessions. The truth
tables say, for every row, what was planted: violations, complaint type, escalation, greeting,
closing, waits and apologies, and which rows the loader must set aside.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..base import config
from ..base.holidays import day_type
from ..base.layering import load_yaml



@dataclass
class Sample:
    """A generated sample: the export table (Chinese headers) and the truth it planted."""

    export: pd.DataFrame
    truth_messages: pd.DataFrame
    truth_sessions: pd.DataFrame
    jd_tsv: pd.DataFrame


def load_spec(path: str | Path | None = None) -> dict:
    """The generator's content spec (default: the packaged scenarios.yaml)."""
    path = Path(path) if path else config.SAMPLE_SPEC_DIR / "scenarios.yaml"
    return load_yaml(path.read_text(encoding="utf-8"))


def festive_kind(day: dt.date) -> str | None:
    """'holiday' on a Chinese statutory holiday, 'weekend' on a weekend rest day (调休 workdays: None)."""
    kind = day_type(day)
    return kind if kind in ("holiday", "weekend") else None


class _Generator:
    def __init__(self, spec: dict, seed: int):
        self.spec = spec
        self.rng = random.Random(seed)
        start, end = spec["period"]["start"], spec["period"]["end"]
        self.days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        self.rows: list[dict] = []
        self.sessions: list[dict] = []
        self.next_id = self.rng.randrange(10**11, 10**12)
        self.export = spec["export"]

    # -- small helpers -----------------------------------------------------------------
    def pick(self, items):
        return self.rng.choice(items)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def phone(self) -> str:
        digits = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
        form = self.rng.random()
        if form < 0.15:
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        if form < 0.25:
            return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
        return digits

    def fill(self, template: str, ctx: dict) -> str:
        return template.format(**ctx)

    def reply_delay(self, habit: dict, hour: int) -> float:
        if self.chance(habit["long_wait_rate"]):
            lo, hi = self.spec["long_wait_s"]
            return self.rng.uniform(lo, hi)
        median = habit["median_reply_s"] * (2.5 if hour < 8 else 1.0)
        return max(3.0, self.rng.lognormvariate(0, 0.7) * median)

    # -- one session ---------------------------------------------------------------------
    def session(self, number: int) -> None:
        spec, rng = self.spec, self.rng
        shop = self.pick(spec["shops"])
        agents = spec["agents"][shop["shop"]]
        agent = self.pick(sorted(agents))
        habit = spec["agent_profiles"][agents[agent]]
        day = self.pick(self.days)
        hour = rng.choices(range(24), weights=spec["hour_weights"])[0]
        t = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)))
        festive = festive_kind(day)
        complaint, inquiry = None, None
        draw = rng.random()
        if draw < spec["session_mix"]["complaint"]:
            complaint = self.pick(sorted(spec["complaints"]))
        elif draw < spec["session_mix"]["complaint"] + spec["session_mix"]["inquiry"]:
            inquiry = self.pick(sorted(spec["inquiries"]))
        presale = None if complaint or inquiry else self.pick(sorted(spec["customer"]["presale"]))
        topic = complaint or inquiry or presale
        sid = f"{shop['code'].upper()}{day:%m%d}{number:05d}"
        buyer = f"{shop['code']}_{rng.randrange(10**7):07d}"
        ctx = {"shop": shop["shop"], "product": self.pick(spec["products"]), "phone": self.phone(),
               "name": self.pick(spec["names"]), "address": spec["address_format"].format(street=self.pick(spec["cities"]), number=rng.randrange(1, 999)),
               "agent_name": agent.split(":")[-1].split("-")[-1]}
        sku = self.pick(shop["skus"])
        order = f"{rng.randrange(10**15, 10**16)}" if complaint else ""
        truth = {"session_id": sid, "shop": shop["shop"], "platform": shop["code"], "agent_id": agent,
                 "agent_habit": agents[agent], "scenario": complaint or ("inquiry" if inquiry else "presale"),
                 "contact_reason": topic, "is_complaint": bool(complaint), "festive_expected": festive or "",
                 "escalation": False, "non_threat": False, "anger": False, "compensation": False,
                 "greeting": False, "closing": False,
                 "anything_else": False, "festive_given": False, "long_waits": 0, "long_waits_apologized": 0,
                 "customer_pii": False}
        state = {"t": t, "pending_since": None, "seq": 0}

        def emit(role: str, text: str, **labels) -> dict:
            state["seq"] += 1
            self.next_id += rng.randrange(1, 50)
            row = {"message_id": str(self.next_id), "session_id": sid, "ts": state["t"],
                   "platform": shop["platform"], "platform_code": shop["code"], "shop": shop["shop"],
                   "agent": agent, "buyer": buyer, "sender": self.export["role_labels"][role], "text": text,
                   "sku": sku, "order": order, "role": role, "violations": "", "violation_phrases": "", "complaint_type": "",
                   "escalation": False, "anger": False, "compensation": False, "informal": False,
                   "reply_wait_s": None, "apology_wait": False, "keep": False,
                   "dirty": ""}
            row.update(labels)
            self.rows.append(row)
            return row

        def customer(texts: list[tuple[str, dict]]) -> None:
            """A burst of customer messages, each (text, the labels planted in that text)."""
            for i, (text, labels) in enumerate(texts):
                state["t"] += dt.timedelta(seconds=rng.uniform(3, 40) if (i or state["seq"]) else 0)
                if state["pending_since"] is None:
                    state["pending_since"] = state["t"]
                emit("customer", text, **{**labels, "keep": labels.get("keep", False) or i == len(texts) - 1})

        def agent_reply(parts: list[str], apologised: bool = False) -> None:
            """One agent reply; ``apologised``: its parts already say sorry (a refusal sent after it is not bare)."""
            wait = self.reply_delay(habit, state["t"].hour)
            state["t"] += dt.timedelta(seconds=wait)
            waited = (state["t"] - state["pending_since"]).total_seconds() if state["pending_since"] else 0.0
            state["pending_since"] = None
            labels = {"reply_wait_s": round(waited, 1)}
            prefix = []
            if waited >= spec["long_wait_s"][0]:
                truth["long_waits"] += 1
                if self.chance(habit["apologize"]):
                    prefix.append(self.pick(spec["agent"]["apology_wait"]))
                    labels["apology_wait"] = True
                    truth["long_waits_apologized"] += 1
                    apologised = True
            text = "".join(prefix) + "".join(parts)
            violations, phrases = [], []
            formal, informal = spec["informal_swap"]
            says_ni = lambda s: bool(re.search(f"{informal}(?!{spec['informal_not_before']})", s))  # noqa: E731
            alone = None   # a violation sent as a reply of its own: (text, labels)
            if self.chance(habit["violation_rate"]):
                category, sub, phrase, also = self.violation(shop["code"])
                planted = self.fill(phrase, ctx)
                kinds = ";".join([f"{category}:{sub}" if sub else category] + also)
                if spec["violations"][category].get("standalone"):
                    # a refusal right after an apology is not bare (tests/cases/real/README.md A): not planted there
                    if not (apologised and sub == "refusal"):
                        alone = (planted, {"violations": kinds, "violation_phrases": planted, "informal": says_ni(planted)})
                else:
                    violations.append(kinds)
                    phrases.append(planted)
                    text = text.rstrip("。") + "，" + planted
                    labels["informal"] = says_ni(planted)
            if self.chance(habit["informal_rate"]) and formal in text:
                text = text.replace(formal, informal)
                labels["informal"] = True
            labels.update(violations=";".join(violations), violation_phrases=";".join(phrases))
            emit("agent", text, **labels)
            if alone:
                state["t"] += dt.timedelta(seconds=rng.uniform(2, 8))
                emit("agent", alone[0], **alone[1])

        # opening burst, optional bot greeting
        opening = [(self.pick(spec["customer"]["opening"]), {})] if self.chance(0.5) else []
        lines = (spec["complaints"][complaint] if complaint else spec["inquiries"][inquiry] if inquiry
                 else spec["customer"]["presale"][presale])
        question = self.fill(self.pick(lines), ctx)
        customer(opening + [(question, {"complaint_type": complaint or "", "keep": True})])
        if shop["bot"]:
            state["t"] += dt.timedelta(seconds=rng.uniform(1, 3))
            row = emit("bot", self.fill(self.pick(spec["bot"]["text"]), ctx))
            row["agent"] = self.export["bot_account"].format(shop=shop["shop"])
        first_parts = []
        if self.chance(habit["greet"]):
            first_parts.append(self.fill(self.pick(spec["agent"]["greeting"]), ctx))
            truth["greeting"] = True
        apologised = bool(complaint) and self.chance(habit["apologize"])
        if apologised:
            first_parts.append(self.pick(spec["agent"]["apology_complaint"]) + self.pick(spec["agent"]["empathy"]))
        # the agent answers in general words or names the topic (its answer is evidence of the contact reason)
        answers = spec["agent"]["answer_complaint" if complaint or inquiry else "answer_presale"] + \
            spec["agent"]["answer_by_topic"][topic]
        first_parts.append(self.pick(answers))
        agent_reply(first_parts, apologised)

        rounds = rng.randint(1, 4 if complaint else 2)
        threat_round = rng.randrange(rounds) if complaint and self.chance(spec["escalation_rate"]) else None
        non_threat_round = rng.randrange(rounds) if complaint and self.chance(spec["non_threat_rate"]) else None
        pii_round = rng.randrange(rounds) if self.chance(spec["pii_rate"]) else None
        compensation_round = rng.randrange(rounds) if complaint and self.chance(spec["compensation_rate"]) else None
        for r in range(rounds):
            texts = []
            if complaint and self.chance(0.3):
                texts.append((self.pick(spec["customer"]["anger"]), {"anger": True}))
                truth["anger"] = True
            if r == pii_round:
                kind = self.pick(["phone", "address"])
                texts.append((self.fill(self.pick(spec["customer"]["pii"][kind]), ctx), {}))
                truth["customer_pii"] = True
            if r == threat_round:
                texts.append((self.pick(spec["customer"]["threats"]), {"escalation": True}))
                truth["escalation"] = True
            if r == non_threat_round:
                texts.append((self.pick(spec["customer"]["non_threats"]), {}))
                truth["non_threat"] = True
            if r == compensation_round:
                texts.append((self.pick(spec["customer"]["compensation"]), {"compensation": True}))
                truth["compensation"] = True
            if complaint and self.chance(0.5):
                texts.append((self.fill(self.pick(spec["complaints"][complaint]), ctx), {"complaint_type": complaint}))
            if not texts:
                texts.append((self.pick(spec["customer"]["followup"]), {}))
            customer(texts)
            parts = [self.pick(answers)]
            if self.chance(0.2):
                harmless = spec["agent"]["harmless"] + spec["agent"]["harmless_by_platform"].get(shop["code"], [])
                parts = [self.pick(harmless) + "，"] + parts
            agent_reply(parts)
            if r == pii_round and self.chance(spec["privacy_leak_rate"]):
                phrase = self.pick(spec["violations"]["privacy_leak"]["phrases"])
                state["t"] += dt.timedelta(seconds=rng.uniform(5, 30))
                emit("agent", self.fill(phrase, ctx), violations="privacy_leak",
                     violation_phrases=self.fill(phrase, ctx))
        if self.chance(0.6):
            customer([(self.pick(spec["customer"]["followup"]), {})])
        closing = []
        if self.chance(habit["close"]):
            closing.append(self.pick(spec["agent"]["anything_else"]))
            truth["anything_else"] = True
            closing.append(self.pick(spec["agent"]["closing"]))
            truth["closing"] = True
            if festive and self.chance(habit["festive"]):
                closing.append(self.pick(spec["agent"][festive]))
                truth["festive_given"] = True
        if closing:
            agent_reply(closing)
        truth["n_messages"] = state["seq"]
        self.sessions.append(truth)

    def violation(self, platform: str) -> tuple[str, str, str, list[str]]:
        """Pick a violation to plant on ``platform``: category, subcategory, phrase, other categories it breaks."""
        spec = self.spec["violations"]
        weights = {k: v for k, v in self.spec["category_weights"].items() if v > 0}
        category = self.rng.choices(sorted(weights), weights=[weights[k] for k in sorted(weights)])[0]
        entry = spec[category]
        if "subcategories" in entry:
            sub = self.pick(sorted(entry["subcategories"]))
            return category, sub, self.pick(entry["subcategories"][sub]), []
        phrases = [p if isinstance(p, dict) else {"text": p} for p in entry["phrases"]]
        phrase = self.pick([p for p in phrases if platform in p.get("platforms", [platform])])
        return category, "", phrase["text"], list(phrase.get("also", []))

    def plant_dirty_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        per10k = self.spec["dirty_rows"]
        # rows that carry planted truth stay clean: the buyer's question (the contact reason), and the last
        # message of each burst (it separates the agent's turns, which the politeness checks count)
        plain = frame.index[(frame["violations"] == "") & (frame["complaint_type"] == "") & ~frame["keep"]
                            & ~frame["escalation"] & ~frame["anger"] & ~frame["compensation"]
                            & (frame["role"] == "customer")].tolist()
        self.rng.shuffle(plain)
        take = {k: max(1, round(len(frame) * v / 10_000)) for k, v in per10k.items()}
        frame = frame.copy()
        frame["ts"] = frame["ts"].astype(object)
        bad = self.export["dirty_values"]
        for reason in ("empty_text", "unknown_role", "bad_timestamp"):
            for idx in plain[:take[reason]]:
                frame.at[idx, "dirty"] = reason
                if reason == "empty_text":
                    frame.at[idx, "text"] = ""
                elif reason == "unknown_role":
                    frame.at[idx, "sender"] = bad["unknown_role"]
                else:
                    frame.at[idx, "ts"] = bad["bad_timestamp"]
            plain = plain[take[reason]:]
        dups = frame.loc[plain[:take["duplicate"]]].copy()
        dups["dirty"] = "duplicate"
        frame = pd.concat([frame, dups])
        return frame

    def build(self, n_sessions: int) -> Sample:
        for number in range(1, n_sessions + 1):
            self.session(number)
        frame = pd.DataFrame(self.rows)
        frame["_t"] = pd.to_datetime(frame["ts"])
        frame = self.plant_dirty_rows(frame)
        frame = frame.sort_values(["_t", "session_id"], kind="stable").reset_index(drop=True)
        frame["ts"] = frame["ts"].map(lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else v)
        frame["source_row"] = frame.index + 2  # the header is line 1
        headers = self.export["columns"]
        export = frame[list(headers)].rename(columns=headers)
        truth = frame[["source_row", "message_id", "session_id", "role", "violations", "violation_phrases",
                       "complaint_type", "escalation", "anger", "compensation", "informal", "reply_wait_s", "apology_wait", "dirty"]]
        sessions = pd.DataFrame(self.sessions)
        return Sample(export, truth, sessions, self.jd_tsv(frame))

    def jd_tsv(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The JD shop's sessions in the headerless JD TSV layout, PII masked the way that corpus does."""
        masks = self.spec["jd_tsv_masks"]
        jd = frame[(frame["platform_code"] == "jd") & (frame["dirty"] == "") & frame["role"].isin(["customer", "agent"])]
        jd = jd[jd["session_id"].isin(jd["session_id"].drop_duplicates().head(300))]
        text = jd["text"].str.replace(r"1[3-9]\d[\d\s-]{8,11}\d", masks["phone"], regex=True)
        for name in self.spec["names"]:
            text = text.str.replace(name, masks["name"], regex=False)
        for city in self.spec["cities"]:
            pattern = re.escape(self.spec["address_format"]).replace(r"\{street\}", re.escape(city))
            text = text.str.replace(pattern.replace(r"\{number\}", r"\d+"), masks["address"], regex=True)
        text = text.str.replace(r"\d{15,16}", masks["order"], regex=True)
        repeat = jd.groupby("session_id")["text"].transform(lambda s: s.duplicated()).astype(int)
        return pd.DataFrame({
            "session_id": jd["session_id"], "user_id": jd["buyer"], "waiter_send": (jd["role"] == "agent").astype(int),
            "is_transfer": 0, "is_repeat": repeat, "sku": jd["sku"].where(jd["sku"] != "", "nan"),
            "content": text,
        })


def generate_sample(n_sessions: int = 3000, seed: int = 20251001, spec: dict | None = None) -> Sample:
    """Generate ``n_sessions`` synthetic sessions (deterministic for a seed and spec)."""
    return _Generator(spec or load_spec(), seed).build(n_sessions)


def write_sample(out_dir: str | Path = config.SAMPLE_DIR, n_sessions: int = 3000, seed: int = 20251001,
                 spec_path: str | Path | None = None) -> dict[str, Path]:
    """Write the export (GB18030 CSV), truth tables (UTF-8 CSV) and the JD-style TSV into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(n_sessions, seed, load_spec(spec_path))
    paths = {
        "export": out / config.SAMPLE_EXPORT.name,
        "truth": out / config.SAMPLE_TRUTH.name,
        "truth_sessions": out / config.SAMPLE_TRUTH_SESSIONS.name,
        "jd_tsv": out / config.SAMPLE_JD_TSV.name,
    }
    sample.export.to_csv(paths["export"], index=False, encoding="gb18030", lineterminator="\r\n")
    sample.truth_messages.to_csv(paths["truth"], index=False, encoding="utf-8", lineterminator="\n")
    sample.truth_sessions.to_csv(paths["truth_sessions"], index=False, encoding="utf-8", lineterminator="\n")
    sample.jd_tsv.to_csv(paths["jd_tsv"], index=False, header=False, sep="\t", encoding="utf-8",
                         lineterminator="\n")
    return paths
