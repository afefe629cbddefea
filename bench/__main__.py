"""``make bench``: every benchmark, a table on stdout and ``bench/results.json``.

Each figure is reported beside a floor measured in the same run on the same machine, and the ratio is what
matters: these machines are noisy, so absolute rates are only context. Each row says what its ratio means and
the target it is held to.
"""

from __future__ import annotations

import importlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def _line(row: dict[str, Any]) -> str:
    unit = row.get("unit", "/s")
    measured, floor = (
        (row["seconds"], row["floor_seconds"]) if unit == "s" else (row["rate"], row["floor_rate"])
    )
    digits = 3 if unit == "s" else 1
    extra = ""
    if "speedup" in row:
        extra = f"; speedup {row['speedup']}x, recall {row.get('recall')} vs {row.get('floor_recall')}"
    return (
        f"{row['name']:30} {measured:>12.{digits}f}{unit:>2} {floor:>12.{digits}f}{unit:>2} {row['ratio']:>8.3f}"
        f"  {row.get('target', '')}{extra}\n{'':30} floor: {row['floor']}"
    )


# Each benchmark runs in a process of its own: one left behind a large heap (moto's state, a thousand audit
# entries) slows the next through the garbage collector, which would measure the order of the runs, not the code.
MARKER = "BENCH-ROWS "


def _benchmarks(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("audit_bench", {"entries": 200 if quick else 1000, "rounds": 3}),
        ("receiver_bench", {"count": 50 if quick else 300, "rounds": 3}),
        ("processor_bench", {"comments": 100 if quick else 400, "rounds": 3}),
        (
            "moderation_bench",
            {"comments": 500 if quick else 2000, "rounds": 3, "floor_sample": 100 if quick else 200},
        ),
        ("offboarding_bench", {"accounts": 200, "rounds": 3 if quick else 5}),
        (
            "disposition_bench",
            # Items read is exact, not timed: one round (moto's GSI walks the whole table, so each takes ~25 s).
            {"items": 20_000 if quick else 100_000, "eligible": 200 if quick else 1000, "rounds": 1},
        ),
        # Items read is exact, not timed: one round (each page of a search is a GSI query moto answers by walking
        # the whole table).
        ("search_bench", {"items": 20_000 if quick else 100_000, "rounds": 1}),
        # Peak memory of a 20k-item export beside a 2k one (moto in a process of its own, outside the traced heap);
        # one round: every archived object is a request to the moto server (~6 ms each on these machines).
        # Read requests per account are exact; the time is held to 3x a floor of plain get_item calls.
        ("sweep_bench", {"accounts": 1000, "stale": 10, "rounds": 1 if quick else 3}),
        ("export_bench", {"small": 1000 if quick else 2000, "large": 10_000 if quick else 20_000}),
    ]


def _one(module: str, kwargs: str) -> int:
    """In the child: run one benchmark and print its rows on a marked line (the rest of stdout is its logs)."""
    rows = importlib.import_module(f"bench.{module}").run(**json.loads(kwargs))
    print(MARKER + json.dumps(rows))
    return 0


def _run(module: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--one", module, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith(MARKER)]
    if out.returncode != 0 or not lines:
        sys.stderr.write(out.stdout[-2000:] + out.stderr[-4000:])
        raise SystemExit(f"benchmark {module} failed (exit {out.returncode})")
    rows: list[dict[str, Any]] = json.loads(lines[-1].removeprefix(MARKER))
    return rows


def main() -> int:
    if sys.argv[1:2] == ["--one"]:
        return _one(sys.argv[2], sys.argv[3])
    quick = "--quick" in sys.argv
    rows: list[dict[str, Any]] = []
    for module, kwargs in _benchmarks(quick):
        print(f"running {module} ...", flush=True)
        rows += _run(module, kwargs)
    print(f"{'benchmark':30} {'measured':>14} {'floor':>14} {'ratio':>8}  target")
    for row in rows:
        print(_line(row))
    # Other sections of the file (``load``: ``make load``) are kept: they are measured by their own commands.
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    kept.update(
        {
            "measured_at": datetime.now(UTC).isoformat(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "results": rows,
        }
    )
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
