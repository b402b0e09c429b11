"""Sessions as readable transcripts for example tables ("买家: …" / "客服: …" lines). The text is kept as
it is; it is masked when the table leaves for an output (``base.privacy.export_safe``)."""
from __future__ import annotations

import pandas as pd

ROLE_LABELS = {"customer": "买家", "agent": "客服", "bot": "机器人", "system": "系统"}


def transcripts(messages: pd.DataFrame, session_ids, max_messages: int | None = None) -> dict[str, str]:
    """Session id → its messages in order as "买家: …" / "客服: …" lines; longer sessions are cut after
    ``max_messages`` lines with a "… (+N)" line."""
    wanted = set(session_ids)
    ordered = messages[messages["session_id"].isin(wanted)].sort_values(["session_id", "seq"], kind="stable")
    out = {}
    for sid, part in ordered.groupby("session_id", sort=False):
        lines = [f"{ROLE_LABELS.get(r, r)}: {t}" for r, t in zip(part["role"], part["text"])]
        if max_messages is not None and len(lines) > max_messages:
            lines = lines[:max_messages] + [f"… (+{len(lines) - max_messages})"]
        out[sid] = "\n".join(lines)
    return out
