from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import accounts_service as service
from shared import api
from shared import vault_service as vault
from shared.domain.accounts import AccountKind, AccountPlatform, AccountStatus, DisclosureItem, StewardRole

router = APIGatewayRouter()

AccountId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The account id (32 hex digits)")]
Email = Annotated[str, Path(min_length=3, max_length=254, description="The steward's email address")]
Item = Annotated[DisclosureItem, Path(description="The disclosure item")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountRequest(_Body):
    platform: AccountPlatform
    handle: str = Field(min_length=1, max_length=300, description="The handle or the page's URL")
    school: str = Field(min_length=1, max_length=200, description="The school or department it speaks for")
    purpose: str = Field(min_length=1, max_length=1000)
    audience: str = Field(min_length=1, max_length=500)
    kind: AccountKind = Field(description="district, school, department, classroom or team")


class UnofficialRequest(_Body):
    platform: AccountPlatform
    handle: str = Field(min_length=1, max_length=300, description="The handle or the page's URL")
    school: str = Field(min_length=1, max_length=200, description="The school or department it concerns")
    purpose: str = Field(min_length=1, max_length=1000, description="What the page is about")
    audience: str = Field(min_length=1, max_length=500)


class ApprovalRequest(_Body):
    note: api.Reason = Field(default="", max_length=1000, description="Recorded with the approval")


class ReasonRequest(_Body):
    reason: api.Reason = Field(
        min_length=3, max_length=1000, description="Why: recorded with the change and audited"
    )


class OptionalReason(_Body):
    reason: api.Reason = Field(
        default="", max_length=1000, description="Why (optional): recorded and audited"
    )


class StewardRequest(_Body):
    email: str = Field(min_length=3, max_length=254, description="A district staff email address")
    role: StewardRole
    reason: api.Reason = Field(default="", max_length=1000)


class StewardRoleRequest(_Body):
    role: StewardRole
    reason: api.Reason = Field(default="", max_length=1000)


class ConfirmRequest(_Body):
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="The wording displayed, if not the district's text for the account",
    )


def _created(account: service.AccountView) -> Response[str]:
    return Response(status_code=201, content_type="application/json", body=account.model_dump_json())


@router.post("/accounts", **api.doc("POST", "/accounts", service.AccountView, ok_status=201))
def request_account(request: Annotated[AccountRequest, Body()]) -> Response[str]:
    return _created(service.request_account(api.caller(router), **request.model_dump(mode="json")))


@router.post(
    "/accounts/unofficial", **api.doc("POST", "/accounts/unofficial", service.AccountView, ok_status=201)
)
def record_unofficial(request: Annotated[UnofficialRequest, Body()]) -> Response[str]:
    return _created(service.record_unofficial(api.caller(router), **request.model_dump(mode="json")))


@router.get("/accounts", **api.doc("GET", "/accounts", service.AccountPage))
def search(
    school: Annotated[
        str | None, Query(max_length=200, description="School or department (exact, case-insensitive)")
    ] = None,
    platform: Annotated[AccountPlatform | None, Query(description="A platform")] = None,
    status: Annotated[AccountStatus | None, Query(description="A lifecycle status")] = None,
    steward: Annotated[str | None, Query(max_length=254, description="A steward's email address")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Accounts per page")] = 25,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> service.AccountPage:
    return service.search(
        school=school, platform=platform, status=status, steward=steward, limit=limit, cursor=cursor
    )


@router.get("/accounts/<account_id>", **api.doc("GET", "/accounts/{account_id}", service.AccountView))
def get_account(account_id: AccountId) -> service.AccountView:
    return service.get_account(account_id)


@router.post(
    "/accounts/<account_id>/approve",
    **api.doc("POST", "/accounts/{account_id}/approve", service.AccountView),
)
def approve(
    account_id: AccountId, request: Annotated[ApprovalRequest | None, Body()] = None
) -> service.AccountView:
    return service.approve(account_id, api.caller(router), request.note if request else "")


@router.post(
    "/accounts/<account_id>/reject", **api.doc("POST", "/accounts/{account_id}/reject", service.AccountView)
)
def reject(account_id: AccountId, request: Annotated[ReasonRequest, Body()]) -> service.AccountView:
    return service.move(account_id, "reject", api.caller(router), request.reason)


@router.post(
    "/accounts/<account_id>/activate",
    **api.doc("POST", "/accounts/{account_id}/activate", service.AccountView),
)
def activate(
    account_id: AccountId, request: Annotated[OptionalReason | None, Body()] = None
) -> service.AccountView:
    return service.move(account_id, "activate", api.caller(router), request.reason if request else "")


@router.post(
    "/accounts/<account_id>/dormant", **api.doc("POST", "/accounts/{account_id}/dormant", service.AccountView)
)
def dormant(
    account_id: AccountId, request: Annotated[OptionalReason | None, Body()] = None
) -> service.AccountView:
    return service.move(account_id, "dormant", api.caller(router), request.reason if request else "")


@router.post(
    "/accounts/<account_id>/abandon", **api.doc("POST", "/accounts/{account_id}/abandon", service.AccountView)
)
def abandon(account_id: AccountId, request: Annotated[ReasonRequest, Body()]) -> service.AccountView:
    return service.move(account_id, "abandon", api.caller(router), request.reason)


@router.post(
    "/accounts/<account_id>/retire", **api.doc("POST", "/accounts/{account_id}/retire", service.AccountView)
)
def retire(account_id: AccountId, request: Annotated[ReasonRequest, Body()]) -> service.AccountView:
    return service.move(account_id, "retire", api.caller(router), request.reason)


@router.post(
    "/accounts/<account_id>/stewards",
    **api.doc("POST", "/accounts/{account_id}/stewards", service.AccountView),
)
def add_steward(account_id: AccountId, request: Annotated[StewardRequest, Body()]) -> service.AccountView:
    return service.add_steward(account_id, api.caller(router), request.email, request.role, request.reason)


@router.patch(
    "/accounts/<account_id>/stewards/<email>",
    **api.doc("PATCH", "/accounts/{account_id}/stewards/{email}", service.AccountView),
)
def change_steward(
    account_id: AccountId, email: Email, request: Annotated[StewardRoleRequest, Body()]
) -> service.AccountView:
    return service.change_steward_role(
        account_id, api.caller(router), unquote(email), request.role, request.reason
    )


@router.delete(
    "/accounts/<account_id>/stewards/<email>",
    **api.doc("DELETE", "/accounts/{account_id}/stewards/{email}", service.AccountView),
)
def remove_steward(
    account_id: AccountId,
    email: Email,
    reason: Annotated[str, Query(max_length=1000, description="Why (optional): recorded and audited")] = "",
) -> service.AccountView:
    return service.remove_steward(account_id, api.caller(router), unquote(email), reason)


@router.get(
    "/accounts/<account_id>/disclosures",
    **api.doc("GET", "/accounts/{account_id}/disclosures", service.Checklist),
)
def disclosures(account_id: AccountId) -> service.Checklist:
    return service.checklist(account_id)


@router.post(
    "/accounts/<account_id>/disclosures/<item>/confirm",
    **api.doc("POST", "/accounts/{account_id}/disclosures/{item}/confirm", service.Checklist),
)
def confirm_disclosure(
    account_id: AccountId, item: Item, request: Annotated[ConfirmRequest | None, Body()] = None
) -> service.Checklist:
    text = request.text if request is not None else None
    return service.confirm_disclosure(account_id, item, api.caller(router), text)


# --------------------------------------------------------------------------------------------- the vault
class CheckoutRequest(_Body):
    reason: api.Reason = Field(
        min_length=3,
        max_length=500,
        description="Why the credential is needed: recorded, audited and notified",
    )


@router.put(
    "/accounts/<account_id>/credential",
    **api.doc("PUT", "/accounts/{account_id}/credential", vault.CredentialView),
)
def store_credential(
    account_id: AccountId,
    request: Annotated[
        dict[str, Any],
        Body(
            description="login_email (a district address), password, mfa_seed, recovery_codes and tokens "
            "(page_access_token, refresh_token, expires_at); validated, never echoed"
        ),
    ],
) -> vault.CredentialView:
    return vault.store(account_id, api.caller(router), request)


@router.get(
    "/accounts/<account_id>/credential",
    **api.doc("GET", "/accounts/{account_id}/credential", vault.CredentialView),
)
def get_credential(account_id: AccountId) -> vault.CredentialView:
    return vault.get(account_id)


@router.post(
    "/accounts/<account_id>/credential/checkout",
    **api.doc("POST", "/accounts/{account_id}/credential/checkout", vault.CheckoutView),
)
def checkout_credential(
    account_id: AccountId, request: Annotated[CheckoutRequest, Body()]
) -> vault.CheckoutView:
    return vault.checkout(account_id, api.caller(router), request.reason)
