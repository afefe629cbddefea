"""``python -m bench.load``: a bounded load test of the webhook path on loopback against a fresh local runtime.

Signed Facebook, Instagram and X deliveries (duplicates and reordered edits among them) are sent by concurrent
senders; then the intake queue is waited on until it drains, and the system's records are compared with what was
sent: every item with exactly its versions, every distinct event archived once and audited, nothing
dead-lettered, the audit chain verified. Deliveries per second of the send phase, the senders' round-trip
latencies and the drain time go into ``bench/results.json`` under ``"load"``; the exit status is 1 if anything
was lost or duplicated or the audit chain does not verify.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load_support

RESULTS = Path(__file__).with_name("results.json")


def run(
    deliveries: int,
    senders: int,
    *,
    duplicate_share: float = 0.1,
    seed: int = 8,
    drain_deadline: float = 1800,
    state: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], load_support.Check, load_support.Plan]:
    """Plan, send, drain and check against ``state``'s runtime (a fresh one when None); returns the figures, the
    check and the plan."""
    if state is None:
        with load_support.local_runtime() as fresh:
            return run(
                deliveries,
                senders,
                duplicate_share=duplicate_share,
                seed=seed,
                drain_deadline=drain_deadline,
                state=fresh,
            )
    plan = load_support.plan(deliveries, senders, duplicate_share=duplicate_share, seed=seed)
    started = time.perf_counter()
    sent = load_support.send(state, plan)
    drained = load_support.wait_for_drain(state, drain_deadline)
    drain_seconds = time.perf_counter() - started
    checked = load_support.check(state, plan)
    latencies = sent.latencies
    figures = {
        "deliveries": plan.deliveries,
        "senders": senders,
        "distinct_deliveries": plan.deliveries - plan.duplicates,
        "duplicate_deliveries": plan.duplicates,
        "items": len(plan.items),
        "item_shapes": plan.shapes(),
        "expected_versions": sum(len(item.texts) for item in plan.items),
        "accepted": len(latencies),
        "not_accepted": len(sent.failed),
        "statuses": {str(k): v for k, v in sorted(sent.statuses.items())},
        "send_seconds": round(sent.wall_seconds, 2),
        "deliveries_per_second": round(len(latencies) / sent.wall_seconds, 1) if sent.wall_seconds else 0.0,
        "latency_p50_ms": round(load_support.percentile(latencies, 0.50) * 1000, 1),
        "latency_p99_ms": round(load_support.percentile(latencies, 0.99) * 1000, 1),
        "latency_max_ms": round(max(latencies, default=0.0) * 1000, 1),
        "slowest": [{"sent_at_s": round(at, 1), "ms": round(took * 1000, 1)} for at, took in sent.slowest()],
        "drained": drained,
        "end_to_end_seconds": round(drain_seconds, 2),
        **checked.summary(),
        "ok": checked.ok and drained and not sent.failed,
    }
    return figures, checked, plan


def write_results(figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Put ``figures`` under ``"load"`` in the results file, keeping every other benchmark's results."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    data["load"] = {
        "measured_at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        **figures,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def _report(figures: dict[str, Any], checked: load_support.Check) -> str:
    lines = [
        f"sent {figures['deliveries']} deliveries from {figures['senders']} senders "
        f"({figures['distinct_deliveries']} distinct, {figures['duplicate_deliveries']} duplicates; "
        f"{figures['items']} items: {figures['item_shapes']})",
        f"accepted {figures['accepted']}, not accepted {figures['not_accepted']}, answers {figures['statuses']}",
        f"throughput {figures['deliveries_per_second']} deliveries/s over {figures['send_seconds']} s; "
        f"latency p50 {figures['latency_p50_ms']} ms, p99 {figures['latency_p99_ms']} ms, "
        f"max {figures['latency_max_ms']} ms; slowest sent at "
        + ", ".join(f"{s['sent_at_s']} s ({s['ms']} ms)" for s in figures["slowest"]),
        f"drained: {figures['drained']}, end to end {figures['end_to_end_seconds']} s",
        f"lost {figures['lost']}, duplicated {figures['duplicated']} "
        f"(items {figures['lost_items']}, versions {figures['lost_versions']}/{figures['duplicated_versions']}, "
        f"archived events {figures['lost_events']}/{figures['duplicated_events']}, "
        f"unaudited {figures['unaudited_events']}, wrong texts {figures['wrong_versions']}); "
        f"dead-lettered {figures['dead_lettered']}; audited twice {figures['audited_twice']}",
        f"audit chain verified: {figures['audit_verified']}",
    ]
    lines += [f"  lost item {pk}" for pk in checked.lost_items[:10]]
    lines += [f"  wrong versions {pk}" for pk in checked.wrong_versions[:10]]
    lines += [f"  audit problem: {p}" for p in checked.audit_problems[:10]]
    lines.append("LOAD TEST PASSED" if figures["ok"] else "LOAD TEST FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of deliveries that are copies")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--drain-deadline", type=float, default=1800, help="seconds to wait for the queue")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file ('-' to write none)")
    args = parser.parse_args(argv)
    if args.deliveries < 1 or args.senders < 1 or not 0 <= args.duplicates < 1:
        parser.error("--deliveries and --senders must be at least 1, --duplicates in [0, 1)")
    figures, checked, _ = run(
        args.deliveries,
        args.senders,
        duplicate_share=args.duplicates,
        seed=args.seed,
        drain_deadline=args.drain_deadline,
    )
    print(_report(figures, checked), flush=True)
    if str(args.results) != "-":
        write_results(figures, args.results)
        print(f'written to {args.results} under "load"')
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
