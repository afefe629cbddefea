"""The ``steward`` command line.

    steward local [--port 8080]            serve the whole system locally, on moto, in memory
    steward token --role records           print an ID token for the seeded local user of that role
    steward url [api|platforms|moto]       print the running local runtime's address of that server
    steward audit verify [--chain N]       verify the audit trail (exit 1 if anything was tampered with)
    steward audit anchor --reason TEXT     anchor the audit chain heads now
    steward schedule run audit-anchor      run a scheduled function now
    steward demo                           walk through the running local API with a token per role

Commands other than ``local`` act on the running local runtime, found by its state file: the only one running
(from any directory), ``--port N`` the one serving on that port, ``--state PATH`` the one whose state file that is.
With ``--aws`` they act on the deployed stack instead, through the usual AWS credentials and the STEWARD_*
resource variables.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from shared.catalogue import Role

URLS = {"api": "api_url", "platforms": "platforms_url", "moto": "endpoint"}


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """Point this process at the local runtime (default) or at AWS (--aws)."""
    if getattr(args, "aws", False):
        return {}
    from infrastructure.local.runtime import load_state

    return load_state(port=args.port, path=args.state)


def _self_command() -> str:
    """How the user who started this process can call it again (``.venv/bin/steward`` after ``make run``)."""
    exe = Path(sys.argv[0])
    if exe.name == "steward" and exe.exists():
        return shlex.quote(os.path.relpath(exe))
    return "python -m infrastructure.cli"


def cmd_local(args: argparse.Namespace) -> int:
    from infrastructure.local.runtime import LocalRuntime

    runtime = LocalRuntime(port=args.port, sample_data=not args.no_sample_data, state_file=args.state)
    state = runtime.start()
    api = state["api_url"]
    port = api.rpartition(":")[2]
    roles = ", ".join(r.value for r in Role)
    me = _self_command()
    print(
        f"""Steward is running locally at {api}
  Data lives in memory, on an embedded moto server ({state["endpoint"]}); it is gone when this stops.
  The platforms' APIs are a local fake at {state["platforms_url"]} (see /__calls, /__comments, /__echoes).
  Sample data: {json.dumps(state["sample_data"]) if state["sample_data"] else "none"}
  State file: {runtime.state_files[0]} (the other steward commands find it from any directory;
  while several runtimes run, tell them which with --port {port})

Try:
  curl {api}/health
  TOKEN=$({me} token --role records)
  curl -H "Authorization: Bearer $TOKEN" {api}/audit/verify
  curl -H "Authorization: Bearer $({me} token --role staff)" {api}/audit/verify    # 403
  {me} audit verify
  {me} demo

Roles (one seeded user each): {roles}
Press Ctrl+C to stop.""",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    return 0


def local_token(state: dict[str, Any], role: str) -> str:
    import boto3

    from infrastructure.local.provision import LOCAL_PASSWORD

    cognito = boto3.client("cognito-idp", endpoint_url=state["endpoint"], region_name=state["region"])
    result = cognito.initiate_auth(
        ClientId=state["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": state["users"][role], "PASSWORD": LOCAL_PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def cmd_token(args: argparse.Namespace) -> int:
    state = _target(args)
    print(local_token(state, args.role))
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    print(_target(args)[URLS[args.server]])
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    _target(args)
    from shared import audit

    report = audit.verify(args.chain)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        for chain in report.chains:
            status = "ok" if chain.ok else f"BROKEN: {chain.problem.message if chain.problem else ''}"
            print(
                f"chain {chain.chain}: {chain.entries} entries, {chain.anchors_checked} anchored heads checked, {status}"
            )
        print(f"anchors: {report.anchors.count}, latest {report.anchors.latest}")
        for problem in report.anchors.problems:
            print(f"anchor problem: {problem.message}")
        print("audit trail verified" if report.ok else "AUDIT TRAIL FAILED VERIFICATION")
    return 0 if report.ok else 1


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    _target(args)
    from shared import audit

    result = audit.anchor("operator:cli", args.reason)
    print(result.model_dump_json(indent=2))
    return 0


def cmd_schedule_run(args: argparse.Namespace) -> int:
    state = _target(args)
    from infrastructure.local.lambdas import Lambdas
    from infrastructure.local.scheduler import run_now

    result = run_now(
        args.schedule, Lambdas(state.get("region", "us-east-1")).invoke, state.get("region", "us-east-1")
    )
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    state = _target(args)
    from infrastructure.local.demo import Demo

    return Demo(state, lambda role: local_token(state, role)).run()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="steward", description="Steward: govern a district's official social media."
    )
    state_help = "the local runtime's state file (wins over --port)"
    p.add_argument("--state", type=Path, default=None, help=state_help)
    # The commands that act on a running local runtime: which one (default: the only one running).
    runtime = argparse.ArgumentParser(add_help=False)
    runtime.add_argument("--state", type=Path, default=argparse.SUPPRESS, help=state_help)
    runtime.add_argument(
        "--port", type=int, default=None, help="the local runtime serving its API on this port"
    )
    sub = p.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole system locally on moto (in memory)")
    local.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1 (0 picks a free one)")
    local.add_argument("--state", type=Path, default=argparse.SUPPRESS, help="also write the state file here")
    local.add_argument("--no-sample-data", action="store_true", help="start empty")
    local.set_defaults(func=cmd_local)

    token = sub.add_parser("token", parents=[runtime], help="print an ID token for a seeded local user")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.set_defaults(func=cmd_token)

    url = sub.add_parser("url", parents=[runtime], help="print an address of the running local runtime")
    url.add_argument(
        "server",
        nargs="?",
        default="api",
        choices=list(URLS),
        help="its API (default), the fake platforms, moto",
    )
    url.set_defaults(func=cmd_url)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser(
        "verify", parents=[runtime], help="verify every chain against itself and the anchors"
    )
    verify.add_argument("--chain", type=int, default=None)
    verify.add_argument("--json", action="store_true", help="print the full report as JSON")
    verify.add_argument("--aws", action="store_true", help="verify the deployed stack (STEWARD_* variables)")
    verify.set_defaults(func=cmd_audit_verify)
    anchor = audit.add_parser(
        "anchor", parents=[runtime], help="anchor the chain heads in the write-once bucket now"
    )
    anchor.add_argument("--reason", required=True)
    anchor.add_argument("--aws", action="store_true")
    anchor.set_defaults(func=cmd_audit_anchor)

    schedule = sub.add_parser("schedule", help="scheduled functions").add_subparsers(
        dest="schedule_command", required=True
    )
    run = schedule.add_parser(
        "run", parents=[runtime], help="run a scheduled function now, against the local runtime"
    )
    run.add_argument("schedule")
    run.set_defaults(func=cmd_schedule_run)

    demo = sub.add_parser("demo", parents=[runtime], help="call the running local API as several roles")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, OSError) as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return 2
    except LookupError as exc:  # no such runtime (NoRuntime), or no such key in its state
        print(f"steward: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
