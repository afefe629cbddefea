"""The credential vault: one Secrets Manager secret per official account, and the credential record beside it.

* **The secret** is named ``<prefix><account id>`` (prefix ``STEWARD_VAULT_PREFIX``, default
  :data:`shared.catalogue.VAULT_SECRET_PREFIX`; the function's grant covers exactly the secrets under it). It is
  created on the first store, encrypted with the stack's data key in AWS (``STEWARD_VAULT_KMS_KEY``; unset locally,
  where Secrets Manager's own key is used). Each version's ``SecretString`` is
  :meth:`~shared.domain.credentials.CredentialValues.to_secret_string`, and it is always read with
  ``VersionStage="AWSCURRENT"`` (moto returns no version at all without an explicit stage).
* **The record** (:class:`~shared.domain.credentials.Credential`, which holds no secret value) is its own item in
  the ``accounts`` table, ``pk = ACCOUNT#<id>``, ``sk = CREDENTIAL``, with a revision: it carries no index key, so
  it never shows in a register search. It is written conditionally, as a part of the audit entry's transaction.

Nothing here logs, and no error it raises carries a value: Secrets Manager's own error messages name the
operation and the secret, never the ``SecretString`` that was sent. Two libraries would, at DEBUG (botocore's
request and response bodies, Powertools' route-handler arguments): :mod:`shared.observability` filters those
loggers in every function, so turning DEBUG on never writes a value.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from shared import catalogue
from shared.domain.content import format_time
from shared.domain.credentials import Credential, CredentialValues, from_secret_string, next_due_at
from shared.errors import Conflict, Unavailable
from shared.store import aws, dynamo
from shared.store.account_store import TABLE, AccountRecord, account_key

CREDENTIAL = "CREDENTIAL"
PREFIX_ENV_VAR = catalogue.VAULT_PREFIX_ENV_VAR
KEY_ENV_VAR = catalogue.VAULT_KEY_ENV_VAR
CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
DUE_KEY = (
    "CREDENTIAL#DUE"  # the sparse partition of the by-status index holding credentials with something due
)


def prefix() -> str:
    return os.environ.get(PREFIX_ENV_VAR, "").strip() or catalogue.VAULT_SECRET_PREFIX


def secret_name(account_id: str) -> str:
    """The secret of an account: its id under the vault prefix."""
    return f"{prefix()}{account_id}"


def due_order_key(credential: Credential) -> str | None:
    """Where a credential sorts in the due partition: when it is next due (or when its token rotation started, so
    a failed automatic rotation is resumed), then its account id; None keeps it out of the partition."""
    rotation = credential.rotation
    if rotation is not None:
        if rotation.last_failure is None or str(rotation.kind) != "token":
            return None
        return f"{format_time(rotation.started_at)}#{credential.account_id}"
    when = next_due_at(credential)
    return None if when is None else f"{format_time(when)}#{credential.account_id}"


def new_version_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class StoredCredential:
    credential: Credential
    revision: int


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Vault:
    """The secrets (Secrets Manager) and the credential records (DynamoDB)."""

    def __init__(self) -> None:
        dynamo.bind(AccountRecord, TABLE)

    # ------------------------------------------------------------------------------------------- secrets
    def store(self, secret_id: str, values: CredentialValues, *, version_id: str, account_id: str) -> bool:
        """Write ``values`` as the AWSCURRENT version ``version_id`` of the secret, creating the secret on the
        first store. Returns True when the secret was created by this call."""
        client = aws.secretsmanager()
        payload = values.to_secret_string()
        try:
            try:
                kwargs: dict[str, object] = {}
                key = os.environ.get(KEY_ENV_VAR, "").strip()
                if key:
                    kwargs["KmsKeyId"] = key
                client.create_secret(
                    Name=secret_id,
                    Description=f"Steward: the credential of official account {account_id}",
                    SecretString=payload,
                    ClientRequestToken=version_id,
                    Tags=[{"Key": "steward:account", "Value": account_id}],
                    **kwargs,  # type: ignore[arg-type]
                )
                return True
            except ClientError as exc:
                if _code(exc) != "ResourceExistsException":
                    raise
            client.put_secret_value(
                SecretId=secret_id,
                SecretString=payload,
                ClientRequestToken=version_id,
                VersionStages=[CURRENT],
            )
            return False
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"the vault could not store the credential of account {account_id}") from exc

    def read(
        self, secret_id: str, *, account_id: str, district_domains: Collection[str]
    ) -> tuple[str, CredentialValues]:
        """(version id, values) of the AWSCURRENT version."""
        try:
            answer = aws.secretsmanager().get_secret_value(SecretId=secret_id, VersionStage=CURRENT)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                raise Conflict(f"the vault holds no secret for account {account_id}") from None
            raise Unavailable(f"the vault could not read the credential of account {account_id}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"the vault could not read the credential of account {account_id}") from exc
        values = from_secret_string(str(answer.get("SecretString", "")), district_domains=district_domains)
        return str(answer["VersionId"]), values

    def make_current(self, secret_id: str, *, version_id: str, instead_of: str) -> None:
        """Move AWSCURRENT back to ``version_id`` (undoing a store whose record could not be written)."""
        try:
            aws.secretsmanager().update_secret_version_stage(
                SecretId=secret_id,
                VersionStage=CURRENT,
                MoveToVersionId=version_id,
                RemoveFromVersionId=instead_of,
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the vault could not restore the current credential version") from exc

    def put_pending(self, secret_id: str, values: CredentialValues, *, version_id: str) -> None:
        """Write ``values`` as version ``version_id`` labelled AWSPENDING (createSecret). Writing the same values
        again under the same version id is a no-op in Secrets Manager, so a retried step succeeds."""
        try:
            aws.secretsmanager().put_secret_value(
                SecretId=secret_id,
                SecretString=values.to_secret_string(),
                ClientRequestToken=version_id,
                VersionStages=[PENDING],
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the vault could not write the pending credential version") from exc

    def read_version(
        self, secret_id: str, *, version_id: str, district_domains: Collection[str]
    ) -> CredentialValues | None:
        """The values of one version (by id, whatever its labels); None if it holds no value yet."""
        try:
            answer = aws.secretsmanager().get_secret_value(SecretId=secret_id, VersionId=version_id)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise Unavailable("the vault could not read the pending credential version") from exc
        except BotoCoreError as exc:
            raise Unavailable("the vault could not read the pending credential version") from exc
        text = answer.get("SecretString")
        if not text:
            return None
        return from_secret_string(str(text), district_domains=district_domains)

    def stages(self, secret_id: str) -> tuple[str, dict[str, list[str]]]:
        """(the secret's name, version id → staging labels)."""
        try:
            answer = aws.secretsmanager().describe_secret(SecretId=secret_id)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                raise Conflict("the vault holds no such secret") from None
            raise Unavailable("the vault could not describe the secret") from exc
        except BotoCoreError as exc:
            raise Unavailable("the vault could not describe the secret") from exc
        versions = answer.get("VersionIdsToStages") or {}
        return str(answer["Name"]), {str(k): [str(s) for s in v] for k, v in versions.items()}

    def promote(self, secret_id: str, *, version_id: str, current_version: str) -> None:
        """finishSecret: AWSCURRENT moves to ``version_id`` (Secrets Manager moves AWSPREVIOUS to the old current
        version), then AWSPENDING is taken off it. A retry after the move only removes the pending label."""
        _, versions = self.stages(secret_id)
        client = aws.secretsmanager()
        try:
            if CURRENT not in versions.get(version_id, []):
                client.update_secret_version_stage(
                    SecretId=secret_id,
                    VersionStage=CURRENT,
                    MoveToVersionId=version_id,
                    RemoveFromVersionId=current_version,
                )
            if PENDING in versions.get(version_id, []):
                client.update_secret_version_stage(
                    SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=version_id
                )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the vault could not make the new credential version current") from exc

    def drop_pending(self, secret_id: str, *, version_id: str) -> None:
        """Take AWSPENDING off ``version_id`` (a cancelled rotation); nothing to do if it is not there."""
        _, versions = self.stages(secret_id)
        if PENDING not in versions.get(version_id, []):
            return
        try:
            aws.secretsmanager().update_secret_version_stage(
                SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=version_id
            )
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable("the vault could not drop the pending credential version") from exc

    # ------------------------------------------------------------------------------------------- records
    def get_many(self, account_ids: Collection[str]) -> dict[str, Credential]:
        """The credential records of these accounts (those that have one; PynamoDB reads 100 keys to a batch)."""
        keys = [(account_key(a), CREDENTIAL) for a in dict.fromkeys(account_ids)]
        found: dict[str, Credential] = {}
        try:
            for record in AccountRecord.batch_get(keys, consistent_read=True):
                credential = Credential.model_validate_json(str(record.body))
                found[credential.account_id] = credential
        except PynamoDBException as exc:
            raise Unavailable("the credential records could not be read") from exc
        return found

    def get(self, account_id: str) -> StoredCredential | None:
        try:
            record = AccountRecord.get(account_key(account_id), CREDENTIAL, consistent_read=True)
        except AccountRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the credential record could not be read") from exc
        return StoredCredential(Credential.model_validate_json(str(record.body)), int(record.revision or 0))

    def due(self, now: datetime, *, limit: int = 500) -> Iterator[Credential]:
        """Credentials with something due at ``now`` (oldest first), from the sparse ``CREDENTIAL#DUE`` partition
        of the by-status index: never a Scan."""
        try:
            for record in AccountRecord.by_status.query(
                DUE_KEY,
                AccountRecord.order_key <= f"{format_time(now)}~",
                scan_index_forward=True,
                limit=limit,
            ):
                yield Credential.model_validate_json(str(record.body))
        except PynamoDBException as exc:
            raise Unavailable("the credential records could not be read") from exc

    def save_part(
        self, credential: Credential, before: StoredCredential | None
    ) -> Callable[[TransactWrite], None]:
        """The conditional write of the record (over ``before`` as read; None: only if there is none), as a part
        of the audit entry's transaction."""
        revision = (before.revision if before else 0) + 1
        condition = (
            AccountRecord.pk.does_not_exist() if before is None else AccountRecord.revision == before.revision
        )
        record = AccountRecord(
            pk=account_key(credential.account_id),
            sk=CREDENTIAL,
            revision=revision,
            body=credential.model_dump_json(),
        )
        due = due_order_key(credential)
        if due is not None:
            record.status_pk, record.order_key = DUE_KEY, due

        def part(tx: TransactWrite) -> None:
            tx.save(record, condition=condition)

        return part
