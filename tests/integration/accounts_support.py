"""Official accounts for integration tests, made through the services the way people make them: requested,
approved, two admin stewards, every disclosure confirmed, activated, linked to a platform id, with the platform's
tokens in the vault; and the account's own post as the platform would deliver it."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared import accounts_service, vault_service
from shared.catalogue import Role
from shared.domain.content import Change, ContentEvent
from shared.identity import Identity

DOMAIN = "district.example.org"
DIRECTOR = Identity(
    subject="sub-director.kim",
    username="director.kim",
    email=f"director.kim@{DOMAIN}",
    roles=frozenset({Role.COMMUNICATIONS}),
)
TECH = Identity(
    subject="sub-tech.ortiz", username="tech.ortiz", email=f"tech.ortiz@{DOMAIN}", roles=frozenset({Role.IT})
)


def active_account(
    platform: str,
    platform_id: str,
    *,
    linked: bool = True,
    tokens: tuple[str, str | None] | None = None,
) -> str:
    """An active school account (two admins, every disclosure), linked to ``platform_id`` unless ``linked`` is
    False, with ``tokens`` (access, refresh) stored in the vault when given; its id."""
    account = accounts_service.request_account(
        DIRECTOR,
        platform=platform,
        handle=f"yelm-{uuid.uuid4().hex[:10]}",
        school="Yelm High School",
        purpose="School news and events",
        audience="Families and the community",
        kind="school",
    ).id
    accounts_service.approve(account, DIRECTOR)
    accounts_service.add_steward(account, DIRECTOR, f"director.kim@{DOMAIN}", "admin")
    accounts_service.add_steward(account, DIRECTOR, f"tech.ortiz@{DOMAIN}", "admin")
    for item in accounts_service.checklist(account).missing:
        accounts_service.confirm_disclosure(account, item, DIRECTOR)
    assert accounts_service.move(account, "activate", DIRECTOR).status == "active"
    if linked:
        accounts_service.link_platform(account, TECH, platform_id)
    if tokens is not None:
        access, refresh = tokens
        vault_service.store(
            account,
            TECH,
            {
                "login_email": f"social.{uuid.uuid4().hex[:8]}@{DOMAIN}",
                "password": f"Pw-{uuid.uuid4().hex}-Horse!",
                "tokens": {"page_access_token": access, **({"refresh_token": refresh} if refresh else {})},
            },
        )
    return account


def own_post(
    platform: str, account_id: str, item_id: str, at: datetime, text: str = "Picture day is Friday"
) -> ContentEvent:
    """A post the account itself published at ``at``."""
    return ContentEvent.create(
        platform=platform,
        account_id=account_id,
        item_id=item_id,
        change=Change.ADDED,
        occurred_at=at,
        kind="post",
        text=text,
        created_at=at,
        author={"id": account_id, "name": "Yelm High School"},
        author_is_account=True,
    )
