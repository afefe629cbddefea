"""Which local runtime a ``steward`` command acts on: its state file, found from any directory.

Each ``steward local`` writes ``$XDG_STATE_HOME/steward/local-<port>.json``; the other commands take ``--state
PATH`` (wins), else ``--port N``, else the only runtime running. A runtime is running when the process its state
names is alive and its API port accepts a connection (here: this test process and a listening socket)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infrastructure import cli
from infrastructure.local.runtime import NoRuntime, find_state, load_state, running, state_dir, state_path

pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state directory of this test's own; the process environment as it was afterwards (load_state sets the
    runtime's environment in this process, as it does in the ``steward`` command)."""
    saved = dict(os.environ)
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    yield home
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def listening() -> Iterator[Any]:
    """Listening sockets on loopback, one per call: the API ports of pretend runtimes."""
    sockets: list[socket.socket] = []

    def open_port() -> int:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        sockets.append(server)
        return int(server.getsockname()[1])

    yield open_port
    for server in sockets:
        server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def runtime_state(port: int, pid: int | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "api_url": f"http://127.0.0.1:{port}",
        "endpoint": "http://127.0.0.1:1",
        "platforms_url": f"http://127.0.0.1:{port + 1}",
        "region": "us-east-1",
        "env": {"STEWARD_MARK": f"runtime-{port}"},
        "users": {"records": "records-officer"},
    }
    if pid is not None:
        state["pid"] = pid
    return state


def write(path: Path, state: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))
    return path


def started(port: int, pid: int | None = None) -> Path:
    """The state file a runtime serving on ``port`` writes (pid: this live process by default)."""
    return write(state_path(port), runtime_state(port, os.getpid() if pid is None else pid))


def steward(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------------ where
def test_state_files_live_under_xdg_state_home_named_by_port(state_home: Path) -> None:
    assert state_dir() == state_home / "steward"
    assert state_path(9090) == state_home / "steward" / "local-9090.json"


@pytest.mark.parametrize("value", [None, "", "relative/dir"], ids=["unset", "empty", "relative"])
def test_without_an_absolute_xdg_state_home_they_live_in_the_home_directory(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if value is None:
        monkeypatch.delenv("XDG_STATE_HOME")
    else:
        monkeypatch.setenv("XDG_STATE_HOME", value)
    assert state_dir() == tmp_path / ".local" / "state" / "steward"


def test_the_state_directory_does_not_depend_on_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state_dir()
    monkeypatch.chdir(tmp_path)
    assert state_dir() == before


# ------------------------------------------------------------------------------------------------ running
def test_a_state_whose_process_is_alive_and_port_open_is_running(listening: Any) -> None:
    assert running(runtime_state(listening(), os.getpid()))
    assert running(runtime_state(listening()))  # no pid recorded: the open port is enough


def test_a_state_left_by_a_dead_process_or_on_a_closed_port_is_not_running(listening: Any) -> None:
    assert not running(runtime_state(listening(), dead_pid()))
    assert not running(runtime_state(closed_port(), os.getpid()))


# ------------------------------------------------------------------------------------------------ discovery
def test_the_only_running_runtime_is_found_without_options(listening: Any) -> None:
    path = started(listening())
    assert find_state() == path


def test_stale_and_unreadable_state_files_are_passed_over(listening: Any) -> None:
    started(listening(), pid=dead_pid())
    started(closed_port())
    (state_dir() / "local-1.json").write_text("{half a fi")
    live = started(listening())
    assert find_state() == live


def test_no_runtime_says_to_start_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NoRuntime, match=r"no local runtime is running .*start one with `make run`"):
        find_state()
    code, out, err = steward(capsys, "token", "--role", "records")
    assert (code, out) == (2, "")
    assert err.startswith("steward: no local runtime is running")
    assert "make run" in err
    assert "Traceback" not in err


def test_several_runtimes_need_a_port_and_the_error_names_them(
    listening: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = sorted((listening(), listening()))
    started(first)
    started(second)
    with pytest.raises(NoRuntime, match=rf"2 local runtimes are running \(ports {first}, {second}\).*--port"):
        find_state()
    code, _, err = steward(capsys, "url")
    assert code == 2
    assert "--port" in err
    assert "Traceback" not in err
    assert find_state(port=second) == state_path(second)


def test_port_picks_that_runtime(listening: Any, capsys: pytest.CaptureFixture[str]) -> None:
    port = listening()
    started(listening())
    started(port)
    code, out, err = steward(capsys, "url", "platforms", "--port", str(port))
    assert (code, err) == (0, "")
    assert out.strip() == f"http://127.0.0.1:{port + 1}"


def test_a_port_without_a_live_runtime_is_an_error_naming_the_port(
    listening: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started(listening())  # another runtime is running: not a fallback
    stale = closed_port()
    started(stale)
    for port in (stale, closed_port()):
        with pytest.raises(NoRuntime, match=rf"on port {port} .*`make run PORT={port}`"):
            find_state(port=port)
    code, out, err = steward(capsys, "token", "--role", "records", "--port", str(stale))
    assert (code, out) == (2, "")
    assert f"make run PORT={stale}" in err


def test_state_wins_over_port_and_discovery(listening: Any, tmp_path: Path) -> None:
    started(listening())
    other = listening()
    started(other)
    port = listening()
    chosen = write(tmp_path / "elsewhere.json", runtime_state(port))
    assert find_state(path=chosen) == chosen
    assert find_state(port=other, path=chosen) == chosen
    assert load_state(port=other, path=chosen)["api_url"] == f"http://127.0.0.1:{port}"


def test_a_missing_state_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = steward(capsys, "--state", str(tmp_path / "nope.json"), "url")
    assert (code, out) == (2, "")
    assert err == f"steward: no local runtime state file at {tmp_path / 'nope.json'}\n"


def test_loading_a_state_applies_its_environment(listening: Any) -> None:
    port = listening()
    started(port)
    state = load_state()
    assert state["api_url"] == f"http://127.0.0.1:{port}"
    assert os.environ["STEWARD_MARK"] == f"runtime-{port}"
    assert os.environ["STEWARD_AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


# ------------------------------------------------------------------------------------------------ the command line
RUNTIME_COMMANDS = [
    ["token", "--role", "records"],
    ["url"],
    ["audit", "verify"],
    ["audit", "anchor", "--reason", "now"],
    ["schedule", "run", "audit-anchor"],
    ["demo"],
]


@pytest.mark.parametrize("command", RUNTIME_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_runtime_command_takes_port_and_state(command: list[str]) -> None:
    args = cli.parser().parse_args([*command, "--port", "9090", "--state", "s.json"])
    assert (args.port, args.state) == (9090, Path("s.json"))
    args = cli.parser().parse_args(["--state", "g.json", *command])  # the global form still works
    assert (args.port, args.state) == (None, Path("g.json"))
    args = cli.parser().parse_args(command)
    assert (args.port, args.state) == (None, None)


def test_local_keeps_its_port_and_may_also_write_a_state_file() -> None:
    args = cli.parser().parse_args(["local", "--port", "9090", "--state", "s.json"])
    assert (args.port, args.state) == (9090, Path("s.json"))
    assert cli.parser().parse_args(["local"]).state is None
