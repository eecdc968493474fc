"""The figures: what each scenario measured, against the issue's targets, as a markdown table and
as JSON (bench/results/latest.json)."""
from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Target:
    op: str  # "<", "<=", "==" against `bound`, or "" for none
    bound: float = 0.0
    text: str = ""  # how the table shows it; defaults to "op bound"

    def met(self, value: float) -> bool | None:
        if not self.op:
            return None
        return {"<": value < self.bound, "<=": value <= self.bound, "==": value == self.bound}[self.op]

    def shown(self, unit: str) -> str:
        if self.text or not self.op:
            return self.text
        return f"{self.op} {_number(self.bound)} {unit}".strip()


NO_TARGET = Target("")


@dataclass
class Metric:
    key: str
    label: str
    value: float
    unit: str = ""
    target: str = ""
    met: bool | None = None


def metric(key: str, label: str, value: float, unit: str = "", target: Target = NO_TARGET) -> Metric:
    return Metric(key, label, value, unit, target.shown(unit), target.met(value))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def markdown(metrics: Iterable[Metric]) -> str:
    lines = ["| metric | value | target | met? |", "|---|---|---|---|"]
    for m in metrics:
        met = {True: "yes", False: "**no**", None: "–"}[m.met]
        lines.append(f"| {m.label} | {_number(m.value)} {m.unit} | {m.target or '–'} | {met} |".replace("  ", " "))
    return "\n".join(lines)


def write_json(path: Path, metrics: list[Metric], options: dict, durations: dict, details: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"options": options, "machine": {"python": platform.python_version(), "cpus": _cpus(),
                                            "platform": platform.platform()},
            "durations_s": {k: round(v, 1) for k, v in durations.items()},
            "metrics": {m.key: asdict(m) for m in metrics}, "details": details}
    path.write_text(json.dumps(_plain(body), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _plain(value):
    """JSON has no NaN: a figure that could not be measured is null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 10:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
