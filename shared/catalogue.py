"""The one definition of Steward's resources and routes.

Both the CDK constructs (``infrastructure/``) and the local runtime (``infrastructure/local/``) read this
module, so the cloud and the laptop cannot drift apart. The functions read it too: the route table is the
single source of truth for which roles may call which route.

Everything here is plain data: no AWS calls, no CDK imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeVar
from urllib.parse import unquote


class Role(StrEnum):
    """Cognito groups. A user's roles are the groups they belong to."""

    COMMUNICATIONS = "communications"
    RECORDS = "records"
    IT = "it"
    MODERATORS = "moderators"
    PRINCIPALS = "principals"
    STAFF = "staff"


ALL_ROLES: frozenset[Role] = frozenset(Role)

# Request bodies of these types reach a function base64-encoded, byte for byte (API Gateway's binaryMediaTypes;
# the local gateway does the same, and also base64-encodes any body that is not valid UTF-8). Text bodies
# arrive as the exact UTF-8 text that was sent, so signatures over them still verify.
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "application/octet-stream",
    "application/zip",
    "multipart/form-data",
    "image/*",
)
# API Gateway's hard limit on a request body.
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024

Access = Literal["read", "write", "read_write"]


# --------------------------------------------------------------------------------------------- resources
def resource_env_var(kind: str, key: str) -> str:
    """The environment variable that carries a resource's name, e.g. ``STEWARD_BUCKET_AUDIT_ANCHORS``."""
    return f"STEWARD_{kind}_{key.upper().replace('-', '_')}"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    key: str
    partition_key: str
    sort_key: str | None = None
    # DynamoDB attribute types for every key attribute (table and indexes): "S" or "N".
    attribute_types: dict[str, Literal["S", "N"]] = field(default_factory=dict)
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    description: str = ""

    @property
    def env_var(self) -> str:
        return resource_env_var("TABLE", self.key)


@dataclass(frozen=True)
class Bucket:
    key: str
    # Object Lock (COMPLIANCE) for buckets where records live; versioning is always on.
    object_lock: bool = False
    # Default COMPLIANCE retention in days for new objects (only with object_lock).
    default_retention_days: int | None = None
    # Lifecycle: objects under each prefix are deleted this many days after they were written.
    expire: tuple[tuple[str, int], ...] = ()
    description: str = ""

    @property
    def env_var(self) -> str:
        return resource_env_var("BUCKET", self.key)


@dataclass(frozen=True)
class Queue:
    key: str
    visibility_timeout_seconds: int = 60
    # Receives before a message is moved to the queue's dead-letter queue.
    max_receive_count: int = 5
    retention_days: int = 14
    description: str = ""

    @property
    def env_var(self) -> str:
        return resource_env_var("QUEUE", self.key)

    @property
    def dlq_key(self) -> str:
        return f"{self.key}-dlq"

    @property
    def dlq_env_var(self) -> str:
        return resource_env_var("QUEUE", self.dlq_key)


# What a platform-issued secret field holds until an operator puts the platform's value in.
SECRET_PLACEHOLDER = "set-me-to-the-value-the-platform-issued"  # noqa: S105 (a marker, not a secret)


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret holding a JSON object with these fields."""

    key: str
    fields: tuple[str, ...]
    # The field the deployment generates at random (a value Steward chooses and gives the platform); the
    # others hold a placeholder until an operator puts in the value the platform issued.
    generated: str | None = None
    description: str = ""

    @property
    def env_var(self) -> str:
        return resource_env_var("SECRET", self.key)


@dataclass(frozen=True)
class Topic:
    """An SNS topic (encrypted with the data key, TLS only); its ARN reaches a function as ``env_var``."""

    key: str
    description: str = ""

    @property
    def env_var(self) -> str:
        return resource_env_var("TOPIC", self.key)


@dataclass(frozen=True)
class Uses:
    """A function's access to one resource; the CDK grants exactly this and nothing else."""

    resource: str
    access: Access


@dataclass(frozen=True)
class Function:
    key: str
    # Dotted module path of the handler module; the Lambda handler is ``<module>.handler``.
    module: str
    description: str
    tables: tuple[Uses, ...] = ()
    buckets: tuple[Uses, ...] = ()
    queues: tuple[Uses, ...] = ()
    secrets: tuple[Uses, ...] = ()
    # SNS topics: "write" is publish (a function never subscribes or reads a topic).
    topics: tuple[Uses, ...] = ()
    # Cognito admin access, for the least-privilege policy.
    uses_user_pool: bool = False
    # The credential vault: the per-account secrets named under ``VAULT_SECRET_PREFIX`` (created on first use, so
    # not catalogue secrets), encrypted with the stack's data key.
    vault: Access | None = None
    # Secrets Manager may invoke it as the vault secrets' rotation function (createSecret ... finishSecret).
    rotates_vault: bool = False
    memory_mb: int = 512
    timeout_seconds: int = 29
    # Lambda's /tmp (ephemeral storage), for a function that builds large files on disk.
    ephemeral_storage_mb: int = 512
    # SQS trigger, if any. A consumer may move a message it can never process to the queue's dead-letter queue
    # itself, with the reason as a message attribute (SQS's own redrive carries no reason).
    consumes: str | None = None
    batch_size: int = 10

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"


@dataclass(frozen=True)
class Schedule:
    key: str
    function: str
    # EventBridge schedule expression, e.g. "rate(1 hour)" or "cron(0 6 * * ? *)".
    expression: str
    # How often the local runtime runs it (seconds); the cloud uses ``expression``.
    local_every_seconds: int
    description: str = ""


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    function: str
    # Roles allowed to call the route. Empty with ``public=True`` means no token is needed.
    roles: frozenset[Role]
    public: bool = False
    summary: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


# --------------------------------------------------------------------------------------------- the catalogue
AUDIT_READERS = frozenset({Role.RECORDS, Role.COMMUNICATIONS, Role.IT})
# Who works the moderation queue (decides cases), and who may also read cases and reports. Sensitive cases
# (content involving minors, abuse disclosures) are shown to communications only (shared.moderation_service).
MODERATION_DECIDERS = frozenset({Role.MODERATORS, Role.COMMUNICATIONS})
MODERATION_READERS = MODERATION_DECIDERS | {Role.RECORDS}
# The official-account registry (shared.accounts_service; the domain, shared.domain.accounts, checks the finer
# rules: which approval is next, who may reject at which step, that an unofficial page is retired by it too).
ACCOUNT_REQUESTERS = frozenset({Role.STAFF, Role.PRINCIPALS, Role.COMMUNICATIONS, Role.IT})
ACCOUNT_READERS = frozenset({Role.RECORDS, Role.COMMUNICATIONS, Role.IT, Role.PRINCIPALS})
ACCOUNT_APPROVERS = frozenset({Role.PRINCIPALS, Role.COMMUNICATIONS})
ACCOUNT_KEEPERS = frozenset({Role.COMMUNICATIONS, Role.IT})  # activate, dormant, stewards, disclosures
# The credential vault (shared.vault_service): who stores and checks out an account's credential, and who may see
# its redacted view (which parts exist, never a value).
CREDENTIAL_KEEPERS = frozenset({Role.IT, Role.COMMUNICATIONS})
CREDENTIAL_READERS = CREDENTIAL_KEEPERS | {Role.RECORDS}
# Records management (shared.records_service): the records officer governs retention, holds and disposition.
RECORDS_KEEPERS = frozenset({Role.RECORDS})
RECORDS_READERS = frozenset({Role.RECORDS, Role.COMMUNICATIONS})
# Compliance reports and the scheduled runs' records.
REPORT_READERS = frozenset({Role.COMMUNICATIONS, Role.RECORDS, Role.IT})
# Who receives a new password and confirms it was set on the platform (the assisted rotation).
PASSWORD_SETTERS = frozenset({Role.IT})
# One Secrets Manager secret per official account, named ``<prefix><account id>``; a function with ``vault``
# access gets the prefix and the data key's ARN in these variables (the prefix is configurable locally).
VAULT_SECRET_PREFIX = "steward/accounts/"  # noqa: S105 (a name prefix, not a secret)
VAULT_PREFIX_ENV_VAR = "STEWARD_VAULT_PREFIX"
VAULT_KEY_ENV_VAR = "STEWARD_VAULT_KMS_KEY"

CONTENT_TABLE = Table(
    key="content",
    partition_key="pk",
    sort_key="sk",
    attribute_types={
        "pk": "S",
        "sk": "S",
        "thread_pk": "S",
        "thread_sk": "S",
        "account_pk": "S",
        "account_sk": "S",
        "author_pk": "S",
        "author_sk": "S",
        "retention_pk": "S",
        "retention_sk": "S",
    },
    indexes=(
        Index(name="by-thread", partition_key="thread_pk", sort_key="thread_sk"),
        Index(name="by-account", partition_key="account_pk", sort_key="account_sk"),
        Index(name="by-author", partition_key="author_pk", sort_key="author_sk"),
        # Sparse: an item is in it (partition = its series) only while its retention end is known and no hold is
        # on it, sorted by that date: the disposition sweep reads exactly the items whose retention is met.
        Index(name="by-retention", partition_key="retention_pk", sort_key="retention_sk"),
    ),
    description="Every content item with its version history and retention state; read by item, thread, account "
    "by date, author, and by retention date per series.",
)

RECORDS_TABLE = Table(
    key="records",
    partition_key="pk",
    sort_key="sk",
    attribute_types={"pk": "S", "sk": "S"},
    description="Records management: every version of the retention schedule, legal holds, disposition batches "
    "and the destruction log.",
)

CASES_TABLE = Table(
    key="cases",
    partition_key="pk",
    sort_key="sk",
    attribute_types={
        "pk": "S",
        "sk": "S",
        "state_pk": "S",
        "state_sk": "S",
        "account_pk": "S",
        "account_sk": "S",
        "category_pk": "S",
        "category_sk": "S",
    },
    indexes=(
        Index(name="by-state", partition_key="state_pk", sort_key="state_sk"),
        Index(name="by-account", partition_key="account_pk", sort_key="account_sk"),
        Index(name="by-category", partition_key="category_pk", sort_key="category_sk"),
    ),
    ttl_attribute="expires_at",
    description="Moderation cases (listed by state, account and category) and the platform actions awaiting "
    "their echo (per item; they expire).",
)

ACCOUNTS_TABLE = Table(
    key="accounts",
    partition_key="pk",
    sort_key="sk",
    attribute_types={
        "pk": "S",
        "sk": "S",
        "order_key": "S",
        "school_pk": "S",
        "platform_pk": "S",
        "status_pk": "S",
        "steward_pk": "S",
    },
    indexes=(
        Index(name="by-school", partition_key="school_pk", sort_key="order_key"),
        Index(name="by-platform", partition_key="platform_pk", sort_key="order_key"),
        Index(name="by-status", partition_key="status_pk", sort_key="order_key"),
        Index(name="by-steward", partition_key="steward_pk", sort_key="order_key"),
    ),
    description="The official-account registry: each account with its approvals, stewards, disclosures and "
    "history (searched by school, platform, status), and one item per steward (searched by steward email).",
)

TABLES: tuple[Table, ...] = (
    Table(
        key="audit",
        partition_key="pk",
        sort_key="sk",
        attribute_types={"pk": "S", "sk": "S", "resource": "S", "at": "S"},
        indexes=(Index(name="by-resource", partition_key="resource", sort_key="at"),),
        description="Hash-chained audit trail: one partition per chain, entries ordered by sequence number.",
    ),
    CONTENT_TABLE,
    CASES_TABLE,
    ACCOUNTS_TABLE,
    RECORDS_TABLE,
    Table(
        key="runs",
        partition_key="pk",
        sort_key="sk",
        attribute_types={"pk": "S", "sk": "S"},
        description="Scheduled runs: one record per run of each sweep (what it saw, did and met), and each "
        "sweep's cursors (where it got to per subject).",
    ),
)

# How long a public-records export package stays downloadable (a request is answered well within it).
EXPORT_PACKAGE_DAYS = 30

BUCKETS: tuple[Bucket, ...] = (
    Bucket(
        key="intake",
        object_lock=True,
        default_retention_days=30,
        description="Raw webhook deliveries exactly as received, write-once (authenticated deliveries are evidence).",
    ),
    Bucket(key="archive", object_lock=True, description="Write-once archive of every content version."),
    Bucket(
        key="exports",
        # A public-records package can be downloaded for EXPORT_PACKAGE_DAYS; S3 deletes it a day after that.
        expire=(("exports/", EXPORT_PACKAGE_DAYS + 1),),
        description="Public-records export packages (kept for a month) and transfer packages to the state "
        "archives.",
    ),
    Bucket(
        key="audit-anchors",
        object_lock=True,
        default_retention_days=3653,
        description="Write-once anchors of the audit chain heads.",
    ),
)

SECRETS: tuple[Secret, ...] = (
    Secret(
        key="meta-app",
        fields=("app_secret", "verify_token"),
        generated="verify_token",
        description="Meta app secret (signs Facebook and Instagram webhooks) and the webhook verify token.",
    ),
    Secret(
        key="x-app", fields=("consumer_secret",), description="X app consumer secret (signs webhooks, CRC)."
    ),
    Secret(
        key="websub",
        fields=("secret",),
        generated="secret",
        description="WebSub hub.secret Steward gives the YouTube hub when it subscribes.",
    ),
    Secret(
        key="platform-tokens",
        fields=(),
        description='Platform access tokens Steward acts with, a JSON map {"<platform>:<account id>": "<token>"}; '
        "until the credential vault replaces it.",
    ),
    Secret(
        key="oauth-clients",
        fields=(
            "meta_app_id",
            "meta_app_secret",
            "x_client_id",
            "x_client_secret",
            "google_client_id",
            "google_client_secret",
        ),
        description="The district's OAuth clients on each platform, with which the rotation function refreshes "
        "account tokens (Meta long-lived token exchange, X and Google refresh-token grants).",
    ),
)

TOPICS: tuple[Topic, ...] = (
    Topic(
        key="incidents",
        description="Critical moderation incidents for the communications director (threats, content involving "
        "minors, suspected abuse), with the reporting contacts the policy names.",
    ),
    Topic(
        key="account-notices",
        description="Account and credential notices for the communications director, IT and stewards: requests "
        "awaiting approval, approvals, lifecycle changes, rotation steps, passwords ready for hand-over and "
        "offboardings (never a secret value). Attributes kind, category and account_id allow filtered "
        "subscriptions.",
    ),
)

WEBHOOK_SECRETS = (Uses("meta-app", "read"), Uses("x-app", "read"), Uses("websub", "read"))

QUEUES: tuple[Queue, ...] = (
    Queue(key="intake", visibility_timeout_seconds=180, description="Pointers to stored webhook deliveries."),
    Queue(
        key="rotations",
        visibility_timeout_seconds=300,
        description="Credential rotations to start or to drive through their automatic steps (offboarding, the "
        "rotation schedule, token refresh).",
    ),
    Queue(
        key="retention",
        visibility_timeout_seconds=900,
        description="Records-management jobs: apply or release a legal hold on every archived version in its "
        "scope, carry out an approved disposition batch.",
    ),
    Queue(
        key="exports",
        visibility_timeout_seconds=900,
        max_receive_count=3,
        description="Public-records export packages to build.",
    ),
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        key="health",
        module="functions.health.handler",
        description="Liveness: answers without touching any resource.",
        memory_mb=256,
        timeout_seconds=5,
    ),
    Function(
        key="docs",
        module="functions.docs.handler",
        description="The OpenAPI document and the caller's identity.",
        memory_mb=512,
        timeout_seconds=10,
    ),
    Function(
        key="webhooks",
        module="functions.webhooks.handler",
        description="Platform webhooks: handshakes, signature checks, raw delivery to intake, pointer to the queue.",
        buckets=(Uses("intake", "write"),),
        queues=(Uses("intake", "write"),),
        secrets=WEBHOOK_SECRETS,
        memory_mb=512,
        timeout_seconds=10,
    ),
    Function(
        key="processor",
        module="functions.processor.handler",
        description="Reads queued deliveries: normalize, archive each new event write-once, index, audit, "
        "moderate and act on the platform.",
        # records: the retention schedule and the legal holds, which every archived version follows; archive:
        # read_write, since a removal extends the Object Lock of the item's earlier versions.
        tables=(
            Uses("content", "read_write"),
            Uses("audit", "read_write"),
            Uses("cases", "read_write"),
            Uses("records", "read"),
        ),
        buckets=(Uses("intake", "read"), Uses("archive", "read_write")),
        secrets=(Uses("platform-tokens", "read"),),
        topics=(Uses("incidents", "write"),),
        consumes="intake",
        batch_size=10,
        memory_mb=1024,
        timeout_seconds=120,
    ),
    Function(
        key="audit-api",
        module="functions.audit_api.handler",
        description="Audit trail verification and anchors on demand.",
        tables=(Uses("audit", "read_write"), Uses("runs", "read_write")),
        buckets=(Uses("audit-anchors", "read_write"),),
        timeout_seconds=29,
    ),
    Function(
        key="moderation-api",
        module="functions.moderation_api.handler",
        description="The moderation queue: cases with their archived evidence, confirm / overturn (restores the "
        "comment on the platform) / escalate, the removals report and the published rule set.",
        # cases: the queue and decisions; content: the item now, and the restore in its history; audit: every
        # decision; archive: the evidence (read) and the restore event (written once, like every event).
        tables=(
            Uses("cases", "read_write"),
            Uses("content", "read_write"),
            Uses("audit", "read_write"),
            Uses("records", "read"),
        ),
        buckets=(Uses("archive", "read_write"),),
        secrets=(Uses("platform-tokens", "read"),),
        # incidents: an escalation notifies the communications director.
        topics=(Uses("incidents", "write"),),
        timeout_seconds=29,
    ),
    Function(
        key="accounts-api",
        module="functions.accounts_api.handler",
        description="The official-account registry: requests, approvals, lifecycle, stewards, required "
        "disclosures and unofficial pages, each change audited in one transaction with it.",
        # accounts: the registry and the credential records; audit: every change, written in the same
        # transaction; the vault: the per-account credential secrets (password rotation steps run here: they
        # need no platform); incidents: the checkout notices; account-notices: every other change; rotations:
        # token rotations and offboarding's rotations are handed to the rotation function.
        tables=(Uses("accounts", "read_write"), Uses("audit", "read_write")),
        topics=(Uses("incidents", "write"), Uses("account-notices", "write")),
        queues=(Uses("rotations", "write"),),
        vault="read_write",
        timeout_seconds=29,
    ),
    Function(
        key="credential-rotation",
        module="functions.rotation.handler",
        description="Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret) for "
        "the account credentials; also drives queued rotations and the rotation schedule.",
        # accounts: the credential records; audit: every step; the vault: AWSPENDING/AWSCURRENT; oauth-clients:
        # token refresh on the platforms; rotations: consumed (and refilled by the schedule); account-notices:
        # rotation steps and hand-overs ready.
        tables=(Uses("accounts", "read_write"), Uses("audit", "read_write"), Uses("runs", "read_write")),
        secrets=(Uses("oauth-clients", "read"),),
        topics=(Uses("account-notices", "write"),),
        queues=(Uses("rotations", "read_write"),),
        vault="read_write",
        consumes="rotations",
        rotates_vault=True,
        batch_size=5,
        memory_mb=512,
        timeout_seconds=120,
    ),
    Function(
        key="records-api",
        module="functions.records_api.handler",
        description="Records management: the retention schedule (versioned), each item's retention state, legal "
        "holds and disposition batches with the destruction log.",
        # records: schedule, holds, batches, destruction log, requests, exports; content: retention states and
        # search; audit: every change; archive: each version's Object Lock as S3 holds it (read only); exports:
        # read, since the download link it signs reads the package as this function; retention and exports: jobs
        # for the workers.
        tables=(Uses("records", "read_write"), Uses("content", "read"), Uses("audit", "read_write")),
        buckets=(Uses("archive", "read"), Uses("exports", "read")),
        queues=(Uses("retention", "write"), Uses("exports", "write")),
        timeout_seconds=29,
    ),
    Function(
        key="export-worker",
        module="functions.export_worker.handler",
        description="Builds public-records export packages: a BagIt bag of the items found (every version, thread "
        "pages, attachments, redactions, chain of custody), zipped into the exports bucket.",
        # records: the export and its request; content: the search; audit: the chain of custody and its
        # verification (read), the export.built entry (write); archive: every version's object and attachments;
        # exports: the package.
        tables=(Uses("records", "read_write"), Uses("content", "read"), Uses("audit", "read_write")),
        buckets=(Uses("archive", "read"), Uses("exports", "write")),
        queues=(Uses("exports", "read_write"),),
        consumes="exports",
        batch_size=1,
        memory_mb=1024,
        timeout_seconds=900,
        ephemeral_storage_mb=4096,
    ),
    Function(
        key="retention-worker",
        module="functions.retention_worker.handler",
        description="Applies and releases legal holds on archived versions, carries out approved disposition "
        "batches (deletion or transfer package), and proposes batches on schedule.",
        tables=(
            Uses("records", "read_write"),
            Uses("content", "read_write"),
            Uses("audit", "read_write"),
            Uses("runs", "read_write"),
        ),
        buckets=(Uses("archive", "read_write"), Uses("exports", "write")),
        queues=(Uses("retention", "read_write"),),
        consumes="retention",
        batch_size=1,
        memory_mb=1024,
        timeout_seconds=900,
        # A transfer package is built on local disk (every archived version of up to 1,000 items).
        ephemeral_storage_mb=2048,
    ),
    Function(
        key="account-sweep",
        module="functions.account_sweep.handler",
        description="Scheduled: finds abandoned official accounts (no post, no active steward, a stale or dead "
        "credential, missing disclosures), warns, marks them abandoned after the grace period and proposes "
        "their retirement.",
        # accounts: the registry and credential records; content: each account's latest post; audit: every
        # step; runs: the run record; account-notices: warnings and escalations; rotations: the retirement's
        # credential rotation.
        tables=(
            Uses("accounts", "read_write"),
            Uses("content", "read"),
            Uses("audit", "read_write"),
            Uses("runs", "read_write"),
        ),
        topics=(Uses("account-notices", "write"),),
        queues=(Uses("rotations", "write"),),
        memory_mb=512,
        timeout_seconds=600,
    ),
    Function(
        key="youtube-poller",
        module="functions.youtube_poller.handler",
        description="Scheduled: pages through each active YouTube channel's comment threads since its cursor and "
        "feeds them to the processor through intake, as webhooks do (YouTube sends no comment webhooks).",
        # accounts: the active YouTube channels; the vault: each channel's token (read only); runs: the run
        # record and each channel's cursor; intake: the polled page, kept as received, and its pointer.
        tables=(Uses("accounts", "read"), Uses("runs", "read_write")),
        buckets=(Uses("intake", "write"),),
        queues=(Uses("intake", "write"),),
        vault="read",
        memory_mb=512,
        timeout_seconds=600,
    ),
    Function(
        key="reconciler",
        module="functions.reconciler.handler",
        description="Scheduled: re-reads the recent threads of each active linked account on its platform and "
        "records the deletions, edits, hides and comments the webhooks missed.",
        # accounts: the active accounts (and their credential records); the vault: each account's token (read
        # only); content: the recent threads, and the recorded events; audit: each recorded event; records: the
        # retention schedule and holds every archived version follows; archive: the write-once versions (and a
        # removal extends their Object Lock); runs: the run record and its resume cursor.
        tables=(
            Uses("accounts", "read"),
            Uses("content", "read_write"),
            Uses("audit", "read_write"),
            Uses("records", "read"),
            Uses("runs", "read_write"),
        ),
        buckets=(Uses("archive", "read_write"),),
        vault="read",
        memory_mb=512,
        timeout_seconds=600,
    ),
    Function(
        key="reports-api",
        module="functions.reports_api.handler",
        description="Compliance reports per month and account (activity, comments captured, moderation by "
        "category and action, disclosures, credential age, records requests) as JSON or CSV, and the scheduled "
        "runs' records.",
        tables=(
            Uses("accounts", "read"),
            Uses("content", "read"),
            Uses("cases", "read"),
            Uses("records", "read"),
            Uses("runs", "read"),
        ),
        timeout_seconds=29,
    ),
    Function(
        key="audit-anchor",
        module="functions.audit_anchor.handler",
        description="Scheduled: writes every audit chain head to the write-once anchor bucket.",
        tables=(Uses("audit", "read_write"), Uses("runs", "read_write")),
        buckets=(Uses("audit-anchors", "read_write"),),
        timeout_seconds=60,
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        key="abandoned-accounts",
        function="account-sweep",
        expression="cron(0 7 * * ? *)",
        local_every_seconds=900,
        description="Find abandoned official accounts (Procedure 4007 (004); NIST SP 800-53 AC-2(3)): warn, "
        "escalate after the grace period, propose retirement.",
    ),
    Schedule(
        key="youtube-poll",
        function="youtube-poller",
        expression="rate(15 minutes)",
        local_every_seconds=120,
        description="Capture new YouTube comments (no webhooks exist for them), quota-aware and resumable.",
    ),
    Schedule(
        key="reconciliation",
        function="reconciler",
        expression="rate(1 hour)",
        local_every_seconds=600,
        description="Re-read recent threads and record the deletions and edits the webhooks missed.",
    ),
    Schedule(
        key="audit-anchor",
        function="audit-anchor",
        expression="rate(1 hour)",
        local_every_seconds=300,
        description="Anchor the audit chain heads in the write-once bucket.",
    ),
    Schedule(
        key="disposition-sweep",
        function="retention-worker",
        expression="cron(0 9 * * ? *)",
        local_every_seconds=600,
        description="Propose disposition batches, per series, of items whose retention is met and no hold covers.",
    ),
    Schedule(
        key="credential-rotation",
        function="credential-rotation",
        expression="rate(1 hour)",
        local_every_seconds=300,
        description="Rotation schedule per credential kind: tokens refreshed before they expire; passwords only "
        "when an event asks (checkout after its grace period, compromise, offboarding), never by age.",
    ),
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", frozenset(), public=True, summary="Liveness check"),
    Route("GET", "/openapi.json", "docs", ALL_ROLES, summary="OpenAPI 3.1 document of every route"),
    Route("GET", "/me", "docs", ALL_ROLES, summary="The caller's identity and roles"),
    *(
        route
        for platform, name in (
            ("meta", "Meta (Facebook, Instagram)"),
            ("x", "X"),
            ("youtube", "YouTube WebSub"),
        )
        for route in (
            Route(
                "GET",
                f"/webhooks/{platform}",
                "webhooks",
                frozenset(),
                public=True,
                summary=f"{name} handshake",
            ),
            Route(
                "POST",
                f"/webhooks/{platform}",
                "webhooks",
                frozenset(),
                public=True,
                summary=f"{name} delivery",
            ),
        )
    ),
    Route("GET", "/audit/verify", "audit-api", AUDIT_READERS, summary="Verify every audit chain"),
    Route(
        "GET",
        "/runs/{sweep}",
        "reports-api",
        REPORT_READERS,
        summary="A scheduled sweep's latest runs: what each saw, did and met, newest first",
    ),
    Route("GET", "/runs/{sweep}/{run_id}", "reports-api", REPORT_READERS, summary="One run of a sweep"),
    Route(
        "GET",
        "/reports/{month}",
        "reports-api",
        REPORT_READERS,
        summary="The district's compliance report for a month (YYYY-MM), a row per account; JSON or CSV",
    ),
    Route(
        "GET",
        "/reports/{month}/accounts/{account_id}",
        "reports-api",
        REPORT_READERS,
        summary="One account's compliance report for a month: activity, comments captured, moderation by "
        "category and action, disclosures, credential age, records requests; JSON or CSV",
    ),
    Route("GET", "/audit/chains/{chain}", "audit-api", AUDIT_READERS, summary="Verify one audit chain"),
    Route("GET", "/audit/anchors", "audit-api", AUDIT_READERS, summary="List audit anchors"),
    Route(
        "POST",
        "/audit/anchors",
        "audit-api",
        frozenset({Role.RECORDS, Role.IT}),
        summary="Anchor the audit chain heads now",
    ),
    Route(
        "GET",
        "/moderation/cases",
        "moderation-api",
        MODERATION_READERS,
        summary="The moderation queue, filtered by state, account and category",
    ),
    Route(
        "GET",
        "/moderation/cases/{case_id}",
        "moderation-api",
        MODERATION_READERS,
        summary="A moderation case with its archived evidence",
    ),
    *(
        Route(
            "POST",
            f"/moderation/cases/{{case_id}}/{decision}",
            "moderation-api",
            MODERATION_DECIDERS,
            summary=summary,
        )
        for decision, summary in (
            ("confirm", "Confirm a case: the action stands"),
            ("overturn", "Overturn a case: the comment is restored on the platform"),
            ("escalate", "Escalate a case to the communications director"),
        )
    ),
    Route(
        "GET",
        "/moderation/reports/removals",
        "moderation-api",
        MODERATION_READERS,
        summary="Cases opened, hidden, confirmed and overturned per month and category",
    ),
    Route(
        "GET", "/moderation/ruleset", "moderation-api", ALL_ROLES, summary="The published moderation rule set"
    ),
    Route(
        "POST",
        "/accounts",
        "accounts-api",
        ACCOUNT_REQUESTERS,
        summary="Request an official account (classroom and team accounts need the principal's approval first)",
    ),
    Route(
        "POST",
        "/accounts/unofficial",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Record an unofficial page that links to the district (it is not official)",
    ),
    Route(
        "GET",
        "/accounts",
        "accounts-api",
        ACCOUNT_READERS,
        summary="Search the account registry by school, platform, status and steward",
    ),
    Route("GET", "/accounts/{account_id}", "accounts-api", ACCOUNT_READERS, summary="One account"),
    Route(
        "POST",
        "/accounts/{account_id}/approve",
        "accounts-api",
        ACCOUNT_APPROVERS,
        summary="Give the next approval (the principal's, then the communications director's final one)",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/reject",
        "accounts-api",
        ACCOUNT_APPROVERS,
        summary="Reject an account request, with a reason",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/activate",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Make an approved or dormant account active (all disclosures, two admin stewards)",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/dormant",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Mark an account dormant",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/abandon",
        "accounts-api",
        frozenset({Role.COMMUNICATIONS}),
        summary="Mark a dormant account abandoned, with a reason",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/retire",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Retire an account (taken down; an unofficial page leaves the register), with a reason",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/retirement",
        "accounts-api",
        frozenset({Role.COMMUNICATIONS}),
        summary="Confirm the retirement the abandoned-account sweep proposed: retired, stewards removed, "
        "credential rotated",
    ),
    Route(
        "PUT",
        "/accounts/{account_id}/platform-id",
        "accounts-api",
        frozenset({Role.COMMUNICATIONS, Role.IT}),
        summary="Link the account to its id on the platform (its content and cases are filed under it)",
    ),
    Route(
        "GET",
        "/sweeps/abandoned-accounts/thresholds",
        "accounts-api",
        ACCOUNT_READERS,
        summary="The abandoned-account sweep's thresholds (default and per platform)",
    ),
    Route(
        "PUT",
        "/sweeps/abandoned-accounts/thresholds",
        "accounts-api",
        frozenset({Role.COMMUNICATIONS}),
        summary="Set the abandoned-account sweep's thresholds (refused whole if any is zero, negative, or the "
        "grace is not shorter than every threshold)",
    ),
    Route(
        "POST", "/accounts/{account_id}/stewards", "accounts-api", ACCOUNT_KEEPERS, summary="Add a steward"
    ),
    Route(
        "PATCH",
        "/accounts/{account_id}/stewards/{email}",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Change a steward's role (admin or editor)",
    ),
    Route(
        "DELETE",
        "/accounts/{account_id}/stewards/{email}",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Remove a steward",
    ),
    Route(
        "GET",
        "/accounts/{account_id}/disclosures",
        "accounts-api",
        ACCOUNT_READERS,
        summary="The required disclosures checklist with the district's text for the account",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/disclosures/{item}/confirm",
        "accounts-api",
        ACCOUNT_KEEPERS,
        summary="Confirm a required disclosure is displayed on the platform",
    ),
    Route(
        "PUT",
        "/accounts/{account_id}/credential",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Store or replace an account's credential in the vault (returns the redacted view)",
    ),
    Route(
        "GET",
        "/accounts/{account_id}/credential",
        "accounts-api",
        CREDENTIAL_READERS,
        summary="An account's credential, redacted: which parts exist, never a value",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/checkout",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Check out an account's credential with a reason: the values once, audited, notified, "
        "and the credential flagged for rotation",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/compromise",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Report a credential compromised: every kind is rotated at once",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/rotations",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Start a rotation of the password (assisted) or the platform tokens (automatic); 409 while "
        "another is in progress",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/rotations/{version_id}/handover",
        "accounts-api",
        PASSWORD_SETTERS,
        summary="Hand the new password over, once, to the IT person who sets it on the platform",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/rotations/{version_id}/confirm",
        "accounts-api",
        PASSWORD_SETTERS,
        summary="Confirm the new password is set on the platform: it is tested and becomes current",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/rotations/{version_id}/cancel",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Cancel a rotation before the platform uses the new values: the current ones stay",
    ),
    Route(
        "POST",
        "/accounts/{account_id}/credential/rotations/{version_id}/resume",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Run a rotation's next steps again after a failure",
    ),
    Route(
        "GET",
        "/retention/schedule",
        "records-api",
        RECORDS_READERS,
        summary="The retention schedule in force",
    ),
    Route(
        "GET",
        "/retention/schedule/versions/{version}",
        "records-api",
        RECORDS_READERS,
        summary="One earlier version of the retention schedule",
    ),
    Route(
        "PUT",
        "/retention/series/{dan}",
        "records-api",
        RECORDS_KEEPERS,
        summary="Add or change a retention series (a new schedule version, audited)",
    ),
    Route(
        "PUT",
        "/retention/default",
        "records-api",
        RECORDS_KEEPERS,
        summary="The series for accounts without an assignment",
    ),
    Route(
        "PUT",
        "/retention/assignments/{platform}/{account_id}",
        "records-api",
        RECORDS_KEEPERS,
        summary="Map an account to its retention series",
    ),
    Route(
        "GET",
        "/content/{platform}/{account_id}/{item_id}/retention",
        "records-api",
        RECORDS_READERS,
        summary="An item's retention: series, schedule version, retention end, Object Lock date, holds",
    ),
    Route("POST", "/holds", "records-api", RECORDS_KEEPERS, summary="Place a legal hold on a matter's scope"),
    Route("GET", "/holds", "records-api", RECORDS_READERS, summary="Legal holds, active and released"),
    Route("GET", "/holds/{hold_id}", "records-api", RECORDS_READERS, summary="One legal hold"),
    Route(
        "POST",
        "/holds/{hold_id}/release",
        "records-api",
        RECORDS_KEEPERS,
        summary="Release a hold, with a reason (versions no other hold covers lose their legal hold)",
    ),
    Route(
        "POST",
        "/disposition/sweep",
        "records-api",
        RECORDS_KEEPERS,
        summary="Propose disposition batches now (the schedule does it daily)",
    ),
    Route("GET", "/disposition/batches", "records-api", RECORDS_KEEPERS, summary="Disposition batches"),
    Route(
        "GET",
        "/disposition/batches/{batch_id}",
        "records-api",
        RECORDS_KEEPERS,
        summary="One disposition batch",
    ),
    Route(
        "POST",
        "/disposition/batches/{batch_id}/approve",
        "records-api",
        RECORDS_KEEPERS,
        summary="Approve a batch: every version is deleted (or transferred) and the destruction log written",
    ),
    Route(
        "POST",
        "/disposition/batches/{batch_id}/reject",
        "records-api",
        RECORDS_KEEPERS,
        summary="Reject a batch, with a reason",
    ),
    Route("GET", "/disposition/log", "records-api", RECORDS_READERS, summary="The destruction log"),
    Route(
        "GET",
        "/search",
        "records-api",
        RECORDS_KEEPERS,
        summary="Search the archived record by account or author, date range, item state and keyword (every "
        "version's text, case- and accent-insensitive), with each hit's thread",
    ),
    Route(
        "POST",
        "/requests",
        "records-api",
        RECORDS_KEEPERS,
        summary="Log a public-records request: its statutory due date, and a hold on its scope while it is open",
    ),
    Route(
        "GET",
        "/requests",
        "records-api",
        RECORDS_KEEPERS,
        summary="The request log (RCW 40.14.026(4)), by status; overdue requests",
    ),
    Route("GET", "/requests/{request_id}", "records-api", RECORDS_KEEPERS, summary="One records request"),
    Route(
        "PUT",
        "/requests/{request_id}/scope",
        "records-api",
        RECORDS_KEEPERS,
        summary="Set a request's scope: its automatic hold follows",
    ),
    Route(
        "POST",
        "/requests/{request_id}/exports",
        "records-api",
        RECORDS_KEEPERS,
        summary="Export what a search finds as a verifiable package (BagIt, zipped), optionally redacted; built "
        "by a job",
    ),
    Route(
        "GET", "/requests/{request_id}/exports", "records-api", RECORDS_KEEPERS, summary="A request's exports"
    ),
    Route(
        "GET",
        "/requests/{request_id}/exports/{export_id}",
        "records-api",
        RECORDS_KEEPERS,
        summary="One export: its state and, once built, the package's SHA-256, size and counts",
    ),
    Route(
        "POST",
        "/requests/{request_id}/exports/{export_id}/download",
        "records-api",
        RECORDS_KEEPERS,
        summary="A download link to the package, valid for minutes (every download audited)",
    ),
    *(
        Route("POST", f"/requests/{{request_id}}/{step}", "records-api", RECORDS_KEEPERS, summary=summary)
        for step, summary in (
            ("acknowledge", "Acknowledge the request"),
            ("start", "Start work on the request"),
            ("clarification", "Ask the requester to clarify (the clock does not make it overdue meanwhile)"),
            ("clarified", "Record the requester's clarification"),
            ("extend", "Extend the due date with a written reason (CA: once, at most 14 days)"),
            ("installments", "Record an installment provided to the requester"),
            ("withheld", "Record records redacted or withheld, each with its exemption and explanation"),
            ("close", "Close the request (its automatic hold is released)"),
        )
    ),
    Route(
        "POST",
        "/offboardings",
        "accounts-api",
        CREDENTIAL_KEEPERS,
        summary="Offboard a staff member: removed from every account's stewards, every credential they could "
        "reach rotated; reports accounts left below two admins (idempotent)",
    ),
)


# --------------------------------------------------------------------------------------------- look-ups
_T = TypeVar("_T", Table, Bucket, Queue, Secret, Topic, Function, Schedule)


def _by_key(items: tuple[_T, ...], key: str, kind: str) -> _T:
    for item in items:
        if item.key == key:
            return item
    raise KeyError(f"no {kind} named {key!r} in the catalogue")


def table(key: str) -> Table:
    return _by_key(TABLES, key, "table")


def bucket(key: str) -> Bucket:
    return _by_key(BUCKETS, key, "bucket")


def queue(key: str) -> Queue:
    return _by_key(QUEUES, key, "queue")


def secret(key: str) -> Secret:
    return _by_key(SECRETS, key, "secret")


def topic(key: str) -> Topic:
    return _by_key(TOPICS, key, "topic")


def function(key: str) -> Function:
    return _by_key(FUNCTIONS, key, "function")


def routes_of(function_key: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.function == function_key)


def find_route(method: str, resource_path: str) -> Route | None:
    """The route for an API Gateway resource path (the template, e.g. ``/audit/chains/{chain}``)."""
    for r in ROUTES:
        if r.method == method and r.path == resource_path:
            return r
    return None


def match_path(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Match a concrete request path to a route template, returning the path parameters."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for r in ROUTES:
        if r.method != method:
            continue
        template = r.path.split("/")
        if len(template) != len(parts):
            continue
        params: dict[str, str] = {}
        for t, p in zip(template, parts, strict=True):
            if t.startswith("{") and t.endswith("}"):
                if not p:
                    break
                params[t[1:-1]] = unquote(p)
            elif t != p:
                break
        else:
            return r, params
    return None


def methods_for(path: str) -> set[str]:
    """Methods registered for a concrete path (to tell 405 from 404)."""
    return {r.method for r in ROUTES if match_path(r.method, path) is not None}
