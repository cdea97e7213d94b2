"""Export status as pictures: the company × period pivot of the worst status, and the exports-per-period chart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import pandas as pd

from ui.status import EXPORT_STATUS_LOOKS, STATUS_LABELS, period_label

STATUS_ORDER = tuple(EXPORT_STATUS_LOOKS)  # the order the chart stacks them: not sent … sent, failed
WORST_FIRST = ("failed", "unconfirmed", "sending", "not_sent", "sent")


def status_pivot(grid: pd.DataFrame) -> pd.DataFrame:
    """Company × period (columns ``YYYY-MM``) with the worst status of the period's runs, plus ``failed`` and
    ``not sent`` counts; companies with failed runs first, then those with runs waiting."""
    frame = grid.copy()
    # one label per distinct (year, period), mapped onto the rows: tens of labels for tens of thousands of rows
    periods = frame["year"].astype("int64") * 100 + frame["period"].astype("int64")
    frame["period_label"] = periods.map({k: period_label(k // 100, k % 100) for k in periods.unique()})
    rank = {s: i for i, s in enumerate(WORST_FIRST)}
    frame["rank"] = frame["status"].map(rank).fillna(len(rank))
    worst = frame.sort_values("rank", kind="stable").drop_duplicates(["company_code", "period_label"])
    table = worst.pivot(index=["company_code", "company"], columns="period_label", values="status")
    table = table.reindex(sorted(table.columns), axis=1)
    table.columns.name = None
    failed = (table == "failed").sum(axis=1)
    waiting = (table == "not_sent").sum(axis=1)
    table.insert(0, "failed", failed)
    table.insert(1, "not sent", waiting)
    table = table.sort_values(["failed", "not sent"], ascending=False, kind="stable")
    return table.reset_index()


def exports_chart(counts: Iterable[Mapping[str, Any]]) -> alt.Chart | None:
    """Exports per period, stacked by outcome in the status colours (sent green, failed red, unconfirmed orange,
    not sent grey); None when there is nothing."""
    frame = pd.DataFrame(list(counts))
    if frame.empty:
        return None
    frame["period"] = [period_label(y, p) for y, p in zip(frame["year"], frame["period"], strict=True)]
    frame["outcome"] = frame["status"].map(lambda s: STATUS_LABELS.get(s, s))
    frame["order"] = frame["status"].map(lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 9)
    present = [s for s in STATUS_ORDER if s in set(frame["status"])]
    scale = alt.Scale(domain=[STATUS_LABELS[s] for s in present], range=[EXPORT_STATUS_LOOKS[s].hex for s in present])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:O", title="Period", sort="ascending"),
            y=alt.Y("sum(count):Q", title="Runs", axis=alt.Axis(format="d", tickMinStep=1)),  # runs are whole
            color=alt.Color("outcome:N", title="Outcome", scale=scale, sort=[STATUS_LABELS[s] for s in present]),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("period:O", title="Period"), alt.Tooltip("outcome:N", title="Outcome"),
                     alt.Tooltip("sum(count):Q", title="Runs")],
        )
        .properties(height=260)
    )
