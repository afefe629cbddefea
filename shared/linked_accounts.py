"""The active official accounts a platform sweep works through (YouTube polling, reconciliation): read through the
registry's by-status index (never a Scan), newest first, resumable after an order key; and each account's
platform token, or why there is none (not linked, no token: a skip; a token that cannot be read: a problem of
the run)."""

from __future__ import annotations

from collections.abc import Iterator

from shared import runs, vault_service
from shared.domain.accounts import Account, AccountPlatform, AccountStatus
from shared.errors import StewardError
from shared.store.account_store import AccountStore, status_key


def active(
    platform: AccountPlatform | None = None, *, after: str | None = None
) -> Iterator[tuple[str, Account]]:
    """(order key, account) of every active account (of ``platform``), newest first, after ``after`` if given."""
    yield from AccountStore().newest_first(
        "status", status_key(AccountStatus.ACTIVE), before=after, platform=str(platform) if platform else None
    )


def token(account: Account, run: runs.Recorder, skipped: dict[str, list[str]]) -> str | None:
    """The linked account's current platform token; None when there is none to use, with the reason: listed under
    ``skipped["no_platform_id"]`` or ``skipped["no_token"]``, or a problem of the run when it cannot be read."""
    if not account.platform_id:
        skipped.setdefault("no_platform_id", []).append(account.id)
        return None
    try:
        found = vault_service.platform_token(account.id)
    except StewardError as exc:  # a record without its secret, a secret that cannot be read
        run.problem(f"account {account.id}", f"its token could not be read: {exc.message}")
        return None
    if found is None:
        skipped.setdefault("no_token", []).append(account.id)
    return found


def skip_summary(skipped: dict[str, list[str]]) -> dict[str, object]:
    return {
        "skipped": sum(len(v) for v in skipped.values()),
        "skipped_accounts": {k: v for k, v in skipped.items() if v},
    }
