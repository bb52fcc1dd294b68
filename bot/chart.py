"""The summary picture: mentions and urgent mentions per day (bars) and the median time to
claim (a line, minutes on the right axis), as a PNG for Slack.

matplotlib is imported lazily, through its object-oriented API with the Agg canvas: no pyplot,
no global backend switch, safe on the scheduler's and Bolt's worker threads, and `/mentions`
commands that draw nothing never pay for the import.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

WIDTH, HEIGHT, DPI = 1000, 500, 100  # pixels: what the tests and Slack's preview expect

_SEEN = "#9db4cf"
_URGENT = "#c0392b"
_CLAIM = "#1f3a5f"


def summary_chart(days: Sequence, title: str) -> bytes:
    """A WIDTH x HEIGHT PNG from `bot.summary.DayFigures` (day, seen, urgent, claim_median)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(days)))
    seen = [d.seen for d in days]
    urgent = [d.urgent for d in days]
    width = 0.4
    ax.bar([x - width / 2 for x in xs], seen, width, label="mentions", color=_SEEN)
    ax.bar([x + width / 2 for x in xs], urgent, width, label="urgent", color=_URGENT)
    ax.set_ylabel("mentions per day")
    step = max(1, len(days) // 15)  # 30 days: a label every other day
    ax.set_xticks(xs[::step])
    ax.set_xticklabels(
        [f"{d.day:%a} {d.day.day}" if len(days) <= 7 else f"{d.day.day} {d.day:%b}" for d in days][
            ::step
        ],
        fontsize=8,
    )
    ax.set_xlim(-0.6, max(len(days) - 0.4, 0.6))
    ax.set_ylim(bottom=0, top=max([*seen, 1]) * 1.15)
    ax.grid(axis="y", alpha=0.3)
    ax2 = ax.twinx()
    points = [(x, d.claim_median / 60) for x, d in zip(xs, days, strict=True) if d.claim_median]
    if points:
        ax2.plot(
            [x for x, _ in points],
            [y for _, y in points],
            color=_CLAIM,
            marker="o",
            linewidth=2,
            label="median time to claim (min)",
        )
    ax2.set_ylabel("median time to claim (minutes)")
    ax2.set_ylim(bottom=0, top=max([y for _, y in points] + [1]) * 1.2)
    handles = ax.get_legend_handles_labels()
    extra = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.92, top=0.9, bottom=0.1)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def upload_chart(
    client, summary, channel: str, *, thread_ts: str | None = None, comment: str | None = None
) -> str | None:
    """Draw `summary.days` and upload it with files_upload_v2 (getUploadURLExternal, the
    upload, completeUploadExternal); returns the file id."""
    period = summary.period
    from bot.blocks import period_title

    png = summary_chart(summary.days, f"Mentions: {period_title(period)}")
    response = client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        file=png,
        filename=f"mentions-{period.name}-{period.local(period.start):%Y-%m-%d}.png",
        title="Mentions, urgent mentions and median time to claim per day",
        initial_comment=comment,
    )
    return (response.get("file") or {}).get("id")
