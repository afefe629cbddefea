"""``make bench``: every benchmark, a table on stdout and ``bench/results.json``.

Each figure is reported beside a floor measured in the same run on the same machine, and the ratio is what
matters: these machines are noisy, so absolute rates are only context. Each row says what its ratio means and
the target it is held to.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import audit_bench, moderation_bench, offboarding_bench, processor_bench, receiver_bench

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


def main() -> int:
    quick = "--quick" in sys.argv
    rows = audit_bench.run(entries=200 if quick else 1000, rounds=3)
    rows += receiver_bench.run(count=50 if quick else 300, rounds=3)
    rows += processor_bench.run(comments=100 if quick else 400, rounds=3)
    rows += moderation_bench.run(
        comments=500 if quick else 2000, rounds=3, floor_sample=100 if quick else 200
    )
    rows += offboarding_bench.run(accounts=200, rounds=3 if quick else 5)
    print(f"{'benchmark':30} {'measured':>14} {'floor':>14} {'ratio':>8}  target")
    for row in rows:
        print(_line(row))
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
