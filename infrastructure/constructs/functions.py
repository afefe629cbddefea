"""Every Lambda function of ``catalogue.FUNCTIONS``, built by one helper.

``build_function`` turns a ``catalogue.Function`` into a python3.12 x86_64 function with JSON logs to its own
encrypted log group, active X-Ray tracing, the shared code asset and dependency layer, the environment variables
of exactly the resources it uses, and exactly the grants its ``Uses`` entries name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from aws_cdk import Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infrastructure import staging
from infrastructure.constructs import nag
from infrastructure.constructs.naming import construct_id
from infrastructure.constructs.policy_wildcards import acknowledge_grant_wildcards, vault_secrets_arn
from infrastructure.layer import DependencyLayer
from shared import catalogue

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
# Function logs answer "what happened to this delivery / request" questions during incident reviews and
# public-records disputes, which surface months later; the audit trail itself lives in DynamoDB and S3.
# One year covers a school year plus the following review, without keeping personal data in logs forever.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR
USER_POOL_ENV_VAR = "STEWARD_USER_POOL_ID"
# Cognito admin actions a function with ``uses_user_pool`` may call on the pool (offboarding and role look-ups).
USER_POOL_ACTIONS = (
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:ListUsers",
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)
# The credential vault's secrets (catalogue ``Function.vault``): read is the current version; write creates the
# account's secret on its first store (tagged with the account), puts versions and moves AWSCURRENT back when
# the record of a store could not be written.
VAULT_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "read": ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
    "write": (
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:TagResource",
    ),
}
COMMON_ENVIRONMENT: Mapping[str, str] = {
    "STEWARD_STAGE": "aws",
    "POWERTOOLS_SERVICE_NAME": "steward",
    "POWERTOOLS_METRICS_NAMESPACE": "Steward",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


_R = TypeVar("_R")


@dataclass(frozen=True)
class Resources:
    """What a function may be granted, by catalogue key."""

    key: kms.IKey
    tables: Mapping[str, dynamodb.Table]
    buckets: Mapping[str, s3.Bucket]
    queues: Mapping[str, sqs.Queue]
    dead_letter_queues: Mapping[str, sqs.Queue]
    secrets: Mapping[str, secretsmanager.ISecret]
    user_pool: cognito.IUserPool
    topics: Mapping[str, sns.ITopic]


def _grant(use: catalogue.Uses, read: Callable[[], object], write: Callable[[], object]) -> None:
    """Grant what the catalogue says the function does with the resource, and nothing more."""
    if use.access in ("read", "read_write"):
        read()
    if use.access in ("write", "read_write"):
        write()


def _lookup(items: Mapping[str, _R], key: str, kind: str, function: str) -> _R:
    try:
        return items[key]
    except KeyError:
        raise ValueError(
            f"function {function!r} uses {kind} {key!r}, which is not in the catalogue"
        ) from None


def build_function(
    scope: Construct,
    f: catalogue.Function,
    *,
    code: lambda_.Code,
    layer: lambda_.ILayerVersion,
    resources: Resources,
) -> lambda_.Function:
    """One Lambda function from its catalogue entry, with least-privilege grants."""
    fid = construct_id("Function", f.key)
    log_group = logs.LogGroup(
        scope,
        f"{fid}Logs",
        retention=LOG_RETENTION,
        encryption_key=resources.key,
        removal_policy=RemovalPolicy.RETAIN,
    )
    # An explicit role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
    role = iam.Role(
        scope,
        f"{fid}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Steward function {f.key}",
    )
    log_group.grant_write(role)

    environment = dict(COMMON_ENVIRONMENT)
    for use in f.tables:
        table = _lookup(resources.tables, use.resource, "table", f.key)
        environment[catalogue.table(use.resource).env_var] = table.table_name
        _grant(use, partial(table.grant_read_data, role), partial(table.grant_write_data, role))
    for use in f.buckets:
        bucket = _lookup(resources.buckets, use.resource, "bucket", f.key)
        environment[catalogue.bucket(use.resource).env_var] = bucket.bucket_name
        _grant(use, partial(bucket.grant_read, role), partial(bucket.grant_write, role))
    for use in f.queues:
        queue = _lookup(resources.queues, use.resource, "queue", f.key)
        environment[catalogue.queue(use.resource).env_var] = queue.queue_url
        _grant(use, partial(queue.grant_consume_messages, role), partial(queue.grant_send_messages, role))
    for use in f.secrets:
        secret = _lookup(resources.secrets, use.resource, "secret", f.key)
        environment[catalogue.secret(use.resource).env_var] = secret.secret_arn
        _grant(use, partial(secret.grant_read, role), partial(secret.grant_write, role))
    for use in f.topics:
        if use.access != "write":
            raise ValueError(
                f"function {f.key!r}: a topic can only be published to ('write'), not {use.access!r}"
            )
        topic = _lookup(resources.topics, use.resource, "topic", f.key)
        environment[catalogue.topic(use.resource).env_var] = topic.topic_arn
        topic.grant_publish(role)
    if f.consumes is not None:
        # A consumer moves a message it can never process to the dead-letter queue itself, with the reason.
        dead_letters = _lookup(resources.dead_letter_queues, f.consumes, "dead-letter queue", f.key)
        environment[catalogue.queue(f.consumes).dlq_env_var] = dead_letters.queue_url
        dead_letters.grant_send_messages(role)
    if f.vault is not None:
        environment[catalogue.VAULT_PREFIX_ENV_VAR] = catalogue.VAULT_SECRET_PREFIX
        environment[catalogue.VAULT_KEY_ENV_VAR] = resources.key.key_arn
        vault_arn = vault_secrets_arn(Stack.of(scope))

        def _vault(access: str, grant_key: Callable[[iam.IGrantable], object]) -> Callable[[], None]:
            def grant() -> None:
                role.add_to_policy(
                    iam.PolicyStatement(actions=list(VAULT_ACTIONS[access]), resources=[vault_arn])
                )
                grant_key(role)

            return grant

        # Secrets Manager encrypts and decrypts the vault's versions with the data key on the caller's behalf.
        _grant(
            catalogue.Uses("vault", f.vault),
            _vault("read", resources.key.grant_decrypt),
            _vault("write", resources.key.grant_encrypt_decrypt),
        )
    if f.uses_user_pool:
        environment[USER_POOL_ENV_VAR] = resources.user_pool.user_pool_id
        resources.user_pool.grant(role, *USER_POOL_ACTIONS)

    function = lambda_.Function(
        scope,
        fid,
        description=f.description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=f.handler,
        code=code,
        layers=[layer],
        memory_size=f.memory_mb,
        ephemeral_storage_size=Size.mebibytes(f.ephemeral_storage_mb),
        timeout=Duration.seconds(f.timeout_seconds),
        tracing=lambda_.Tracing.ACTIVE,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
        log_group=log_group,
        role=role,
        environment=environment,
    )

    if f.consumes is not None:
        queue_spec = catalogue.queue(f.consumes)
        if queue_spec.visibility_timeout_seconds < f.timeout_seconds:
            raise ValueError(
                f"function {f.key!r} consumes queue {f.consumes!r}, whose visibility timeout "
                f"({queue_spec.visibility_timeout_seconds}s) is shorter than the function timeout "
                f"({f.timeout_seconds}s): messages would be delivered twice"
            )
        function.add_event_source(
            event_sources.SqsEventSource(
                _lookup(resources.queues, f.consumes, "queue", f.key),
                batch_size=f.batch_size,
                report_batch_item_failures=True,
            )
        )

    if f.rotates_vault:
        # Only Secrets Manager, only for this account's secrets, may run the rotation steps.
        stack = Stack.of(scope)
        function.add_permission(
            "SecretsManagerRotation",
            principal=iam.ServicePrincipal("secretsmanager.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_account=stack.account,
        )

    nag.acknowledge(
        function,
        "AwsSolutions-L1",
        "python3.12 is the project's chosen Lambda runtime: the dependency layer is built from cp312 wheels "
        "for exactly this runtime, so runtime and layer must be upgraded together as a planned change, "
        "not silently.",
    )
    return function


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, resources: Resources) -> None:
        super().__init__(scope, construct_id_)
        code = lambda_.Code.from_asset(str(staging.function_code()))
        self.layer = DependencyLayer(self, "Dependencies").layer
        self.functions: dict[str, lambda_.Function] = {
            f.key: build_function(self, f, code=code, layer=self.layer, resources=resources)
            for f in catalogue.FUNCTIONS
        }
        self._resources = resources

    def acknowledge_policy_wildcards(self) -> None:
        """Acknowledge the grant wildcards of every function role; call once every grant has been made."""
        stack = Stack.of(self)
        for key, function in self.functions.items():
            role = function.role
            assert isinstance(role, iam.Role)
            acknowledge_grant_wildcards(stack, role, self._resources, function=key)
