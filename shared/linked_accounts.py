"""The official accounts a platform sweep works through (YouTube polling, reconciliation): those still live on
their platform (active, and dormant or abandoned ones, whose pages are still up and still commented on), read
through the registry's by-status index (never a Scan), newest first, resumable after an order key; the retired
ones whose final capture is waiting; and each account's platform token, or why there is none (not linked, no
token: a skip; a token that cannot be read: a problem of the run)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from shared import runs, vault_service
from shared.domain.accounts import Account, AccountPlatform, AccountStatus, CaptureState
from shared.errors import StewardError
from shared.store.account_store import AccountStore, status_key

# Accounts whose pages are still on the platform: their comments are captured and reconciled until retirement.
LIVE = (AccountStatus.ACTIVE, AccountStatus.DORMANT, AccountStatus.ABANDONED)


def live(
    platform: AccountPlatform | None = None, *, after: str | None = None
) -> Iterator[tuple[str, Account]]:
    """(order key, account) of every live account (of ``platform``), newest first across the live states, after
    ``after`` if given (order keys are unique across the registry, so one key resumes the merged listing)."""
    store = AccountStore()
    yield from heapq.merge(
        *(
            store.newest_first(
                "status", status_key(status), before=after, platform=str(platform) if platform else None
            )
            for status in LIVE
        ),
        key=lambda found: found[0],
        reverse=True,
    )


def awaiting_final_capture() -> Iterator[Account]:
    """Retired accounts whose final capture is waiting (the retired partition of the by-status index)."""
    for _, account in AccountStore().newest_first("status", status_key(AccountStatus.RETIRED)):
        if account.final_capture is not None and account.final_capture.state is CaptureState.PENDING:
            yield account


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
