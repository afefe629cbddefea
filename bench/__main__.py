"""``make bench``: every benchmark, a table on stdout and ``bench/results.json``.

Each figure is reported beside a floor measured in the same run on the same machine, and the ratio is what
matters: these machines are noisy, so absolute rates are only context.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import audit_bench, receiver_bench

RESULTS = Path(__file__).with_name("results.json")


def main() -> int:
    quick = "--quick" in sys.argv
    rows = audit_bench.run(entries=200 if quick else 1000, rounds=3)
    rows += receiver_bench.run(count=50 if quick else 300, rounds=3)
    print(f"{'benchmark':34} {'measured':>14} {'floor':>14} {'ratio':>8}  floor")
    for row in rows:
        unit = row.get("unit", "/s")
        measured, floor = (
            (row["seconds"], row["floor_seconds"]) if unit == "s" else (row["rate"], row["floor_rate"])
        )
        print(
            f"{row['name']:34} {measured:>12.3f}{unit:>2} {floor:>12.3f}{unit:>2} {row['ratio']:>8.2f}  {row['floor']}"
        )
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
