"""Content-addressed staging folders for CDK assets.

CDK hashes an asset's source folder. Pointing it at the repository root would walk ``.venv`` and
``node_modules`` and ship everything, so the files an asset needs are copied into a folder of their own under
``.build/`` (gitignored). The folder is named by the hash of what it contains and is published with an atomic
rename, so concurrent synths (pytest-xdist workers, two engineers in one tree) never see a half-written copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / ".build"
# The code every function ships with: the packages a handler may import, by their import names.
FUNCTION_CODE = {"shared": REPO_ROOT / "shared", "functions": REPO_ROOT / "functions"}
_IGNORED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_IGNORED_SUFFIXES = (".pyc", ".pyo")
# Staged copies nobody has published for this long are removed on the next stage of the same kind.
_STALE_AFTER_SECONDS = 24 * 3600


def _files(source: Path) -> Iterator[Path]:
    if source.is_file():
        yield source
        return
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        for name in sorted(names):
            if not name.endswith(_IGNORED_SUFFIXES):
                yield Path(root) / name


def stage(kind: str, sources: Mapping[str, Path], extra: Mapping[str, str] | None = None) -> Path:
    """Copy ``sources`` (destination name → file or folder) plus ``extra`` text files into one folder.

    Returns ``.build/<kind>/<sha256 of the content>``; the same content always yields the same folder.
    """
    entries: list[tuple[str, Path | str]] = []
    for dest, src in sorted(sources.items()):
        if not src.exists():
            raise FileNotFoundError(f"cannot stage {kind}: {src} does not exist")
        for file in _files(src):
            rel = dest if src.is_file() else f"{dest}/{file.relative_to(src).as_posix()}"
            entries.append((rel, file))
    entries.extend(sorted((extra or {}).items()))

    digest = hashlib.sha256()
    for rel, content in entries:
        data = content.read_bytes() if isinstance(content, Path) else content.encode()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())

    def fill(scratch: Path) -> None:
        for rel, content in entries:
            out = scratch / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copy2(content, out)
            else:
                out.write_text(content)

    return publish(BUILD_DIR / kind / digest.hexdigest()[:32], fill)


def publish(target: Path, fill: Callable[[Path], None]) -> Path:
    """``target``, filled once by ``fill`` (given an empty scratch folder) and published by an atomic rename.

    An existing ``target`` is reused as is; a ``fill`` that raises publishes nothing. Concurrent callers (pytest-xdist
    workers, two engineers in one tree) never see a half-written folder. Folders beside ``target`` that nobody has
    used for a day are removed.
    """
    if target.is_dir():
        os.utime(target)
        return target
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
    try:
        fill(scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not target.is_dir():  # another process published the same content first: use theirs
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _prune(parent, keep=target)
    return target


def _prune(parent: Path, keep: Path) -> None:
    cutoff = time.time() - _STALE_AFTER_SECONDS
    for entry in parent.iterdir():
        if entry != keep and entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def function_code() -> Path:
    """The staged folder of the functions' code asset."""
    return stage("lambda", FUNCTION_CODE)
