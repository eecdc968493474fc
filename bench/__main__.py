"""`python -m bench`: every scenario, a markdown table on stdout, bench/results/latest.json.

    python -m bench                      # the full run (about 4 minutes on 2 cores, and teams' 2.5)
    python -m bench --size 10 --latency 0 --out /tmp/bench.json   # every scenario, tiny
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from . import backlog, capacity, latency, lifecycle, scale, teams, tracker
from .report import Metric, markdown, write_json

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SCENARIOS = ("latency", "dead_webhook", "lifecycle", "capacity", "backlog", "tracker", "scale", "teams")


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    sizes = _sizes(options.size)
    metrics: list[Metric] = []
    details: dict = {"sizes": sizes}
    durations: dict[str, float] = {}
    # The simulated bots log to this process's stderr; what they report is counted from the fakes instead.
    logging.getLogger("rcabot").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="rcabot-bench-") as work:
        home = Path(work)
        runs = {"latency": lambda: latency.run(sizes["cycles"], options.latency, home / "latency"),
                "dead_webhook": lambda: latency.run(sizes["cycles"], options.latency, home / "dead_webhook",
                                                    dead_webhook=True),
                "lifecycle": lambda: lifecycle.run(sizes["low_load"], sizes["burst"], options.latency,
                                                   home / "lifecycle"),
                "capacity": lambda: capacity.run(sizes["open"], options.latency, home / "capacity"),
                "backlog": lambda: backlog.run(sizes["open"], home / "backlog"),
                "tracker": lambda: tracker.run(sizes["tracker_rows"], options.latency, home / "tracker"),
                "scale": lambda: scale.run(sizes["scale"], options.latency, home / "scale", **sizes["scale_run"]),
                "teams": lambda: teams.run(sizes["teams"]["teams"],
                                           sizes["teams"]["burst"], options.latency, home / "teams",
                                           **sizes["teams"]["windows"])}
        for name in options.only:
            began = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            found, details[name] = runs[name]()
            metrics += found
            durations[name] = time.monotonic() - began
    durations["total"] = sum(durations.values())
    write_json(options.out, metrics, {"size": options.size, "latency_s": options.latency, "only": options.only},
               durations, details)
    print(markdown(metrics))
    print(f"\n{options.out} written; {durations['total']:.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in durations.items() if k != 'total')})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=None,
                        help="tickets per scenario (default: 1,000 cycles for latency, 20 lifecycles at low load, "
                             "a burst of 500, 10,000 open tickets; Trackers of 10,000, 100,000 and 1,000,000 rows, or of "
                             "20 times SIZE; "
                             "scale: 1,000, 10,000 and 100,000 open, or a tenth of SIZE and SIZE; "
                             "teams: 20 teams, one bursting 500, or 3 teams, one bursting SIZE, over seconds)")
    parser.add_argument("--latency", type=float, default=0.2,
                        help="seconds each Sheets and Chat call takes (default 0.2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS})")
    parser.add_argument("--only", type=lambda text: [s for s in text.split(",") if s], default=list(SCENARIOS),
                        help=f"comma-separated scenarios to run (default: {','.join(SCENARIOS)})")
    return parser


def _sizes(size: int | None) -> dict:
    if size is None:
        return {"cycles": 1000, "low_load": 20, "burst": 500, "open": 10_000, "tracker_rows": tracker.SIZES,
                "scale": scale.SIZES, "scale_run": {},
                "teams": {"teams": teams.TEAMS, "burst": teams.BURST, "windows": {}}}
    # scale: a tenth of `size` and `size` open; fewer rounds, over about one flush interval
    return {"cycles": size, "low_load": min(size, 20), "burst": size, "open": size, "tracker_rows": (size * 20,),
            "scale": tuple(sorted({max(2, size // 10), max(2, size)})),
            "scale_run": {"rounds": min(size, scale.ROUNDS), "window": 1.2 * scale.FLUSH_S},
            # teams: 3 teams, a burst of `size`, a few seconds each side
            "teams": {"teams": 3, "burst": size, "windows": {"baseline": 3.0, "window": 6.0, "gap": 1.0}}}


if __name__ == "__main__":
    sys.exit(main())
