"""Create every resource in the catalogue on moto (or any AWS endpoint), the way the CDK stack would.

Used by ``steward local`` and by the integration tests, so both run against the same shapes the cloud has:
tables with their indexes, versioned encrypted buckets with Object Lock where records live, queues with
dead-letter queues, SNS topics, secrets (with development values), and the Cognito user pool with one group per role.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from infrastructure.local.fake_platforms import FAKE_CLIENT_ID, FAKE_CLIENT_SECRET
from shared import catalogue
from shared.catalogue import Role
from shared.domain.accounts import default_config

PREFIX = "steward-local"
LOCAL_PASSWORD = "Steward-local-2026!"  # noqa: S105 - documented development password for seeded local users
LOCAL_USERS: dict[Role, str] = {
    Role.COMMUNICATIONS: "comms-director",
    Role.RECORDS: "records-officer",
    Role.IT: "it-admin",
    Role.MODERATORS: "moderator",
    Role.PRINCIPALS: "principal",
    Role.STAFF: "staff-member",
}


# Development values of the platform secrets, each overridable by the environment variable beside it, so anyone
# can sign a delivery and send it to a running `steward local` (the README lists them).
LOCAL_SECRETS: dict[str, dict[str, tuple[str, str]]] = {
    "meta-app": {
        "app_secret": ("STEWARD_META_APP_SECRET", "local-meta-app-secret"),
        "verify_token": ("STEWARD_META_VERIFY_TOKEN", "local-meta-verify-token"),
    },
    "x-app": {"consumer_secret": ("STEWARD_X_CONSUMER_SECRET", "local-x-consumer-secret")},
    "websub": {"secret": ("STEWARD_WEBSUB_SECRET", "local-websub-secret")},
    # The OAuth clients the rotation function refreshes tokens with: the fake platform server's one client.
    "oauth-clients": {
        f"{platform}_{part}": (f"STEWARD_OAUTH_{platform.upper()}_{part.upper()}", value)
        for platform, id_name in (("meta", "app"), ("x", "client"), ("google", "client"))
        for part, value in ((f"{id_name}_id", FAKE_CLIENT_ID), (f"{id_name}_secret", FAKE_CLIENT_SECRET))
    },
}


# The sample accounts of the fixtures and events (tests/fixtures/webhooks, events/): each gets a development
# access token in the ``platform-tokens`` secret, so Steward can act on their comments through the fake platform
# server (which accepts any token unless it is started with a list of them).
LOCAL_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("facebook", "1234567890321"),
    ("facebook", "448242228374517"),
    ("facebook", "889083480945134"),
    ("instagram", "17841478854980502"),
    ("x", "2975699229"),
    ("x", "3198576760"),
    ("x", "930524282358325248"),
    ("youtube", "UCKo6tYPZhWxgwU3prL2stfg"),
    ("youtube", "UCLozjflf3i84bu_2jLTK2rA"),
    ("youtube", "UCzNWVDZQ55bjq8uILZ7_wyQ"),
)


def local_platform_tokens() -> dict[str, str]:
    """``{"<platform>:<account id>": "<token>"}`` for the sample accounts (development values, not secrets)."""
    return {
        f"{platform}:{account}": f"local-token-{platform}-{account}" for platform, account in LOCAL_ACCOUNTS
    }


def local_secret_values(key: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    if key == "platform-tokens":
        return local_platform_tokens()
    env = os.environ if environ is None else environ
    return {field: env.get(var) or default for field, (var, default) in LOCAL_SECRETS[key].items()}


@dataclass
class Provisioned:
    """What was created: the environment a function needs to find it, and the identity pieces."""

    env: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)
    user_pool_id: str = ""
    client_id: str = ""
    users: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "queue_urls": self.queue_urls,
            "dlq_urls": self.dlq_urls,
            "topic_arns": self.topic_arns,
            "user_pool_id": self.user_pool_id,
            "client_id": self.client_id,
            "users": self.users,
        }


def name(key: str) -> str:
    return f"{PREFIX}-{key}"


def provision(session: boto3.session.Session, endpoint_url: str | None = None) -> Provisioned:
    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]

    out = Provisioned()
    ddb, s3, sqs = client("dynamodb"), client("s3"), client("sqs")
    for t in catalogue.TABLES:
        _table(ddb, t)
        out.env[t.env_var] = name(t.key)
    for b in catalogue.BUCKETS:
        _bucket(s3, b)
        out.env[b.env_var] = name(b.key)
    for q in catalogue.QUEUES:
        out.queue_urls[q.key], out.dlq_urls[q.key] = _queue(sqs, q)
        out.env[q.env_var] = out.queue_urls[q.key]
        out.env[q.dlq_env_var] = out.dlq_urls[q.key]
    sns = client("sns")
    for topic in catalogue.TOPICS:
        out.topic_arns[topic.key] = sns.create_topic(Name=name(topic.key))["TopicArn"]
        out.env[topic.env_var] = out.topic_arns[topic.key]
    secrets = client("secretsmanager")
    for secret in catalogue.SECRETS:
        secrets.create_secret(
            Name=name(secret.key),
            Description=secret.description,
            SecretString=json.dumps(local_secret_values(secret.key)),
        )
        out.env[secret.env_var] = name(secret.key)
    _identity(client("cognito-idp"), out)
    return out


def _table(ddb: Any, t: catalogue.Table) -> None:
    keys = [{"AttributeName": t.partition_key, "KeyType": "HASH"}]
    if t.sort_key:
        keys.append({"AttributeName": t.sort_key, "KeyType": "RANGE"})
    gsis = []
    for i in t.indexes:
        schema = [{"AttributeName": i.partition_key, "KeyType": "HASH"}]
        if i.sort_key:
            schema.append({"AttributeName": i.sort_key, "KeyType": "RANGE"})
        gsis.append({"IndexName": i.name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    args: dict[str, Any] = {
        "TableName": name(t.key),
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": k} for a, k in t.attribute_types.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
    }
    if gsis:
        args["GlobalSecondaryIndexes"] = gsis
    ddb.create_table(**args)
    if t.ttl_attribute:
        ddb.update_time_to_live(
            TableName=name(t.key), TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl_attribute}
        )


def _bucket(s3: Any, b: catalogue.Bucket) -> None:
    bucket = name(b.key)
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=b.object_lock)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    if b.object_lock and b.default_retention_days:
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": b.default_retention_days}},
            },
        )


def _queue(sqs: Any, q: catalogue.Queue) -> tuple[str, str]:
    retention = str(q.retention_days * 86400)
    dlq_url = sqs.create_queue(QueueName=name(q.dlq_key), Attributes={"MessageRetentionPeriod": retention})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name(q.key),
        Attributes={
            "VisibilityTimeout": str(q.visibility_timeout_seconds),
            "MessageRetentionPeriod": retention,
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": q.max_receive_count}
            ),
        },
    )["QueueUrl"]
    return url, dlq_url


def _identity(cognito: Any, out: Provisioned) -> None:
    pool = cognito.create_user_pool(
        PoolName=f"{PREFIX}-users",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": True, "RequireNumbers": True}},
        AutoVerifiedAttributes=["email"],
    )["UserPool"]
    out.user_pool_id = pool["Id"]
    out.client_id = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=f"{PREFIX}-api",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        # As the CDK's app client (every standard attribute): the ID token names the caller by email.
        ReadAttributes=["email", "email_verified"],
    )["UserPoolClient"]["ClientId"]
    domain = sorted(default_config().email_domains)[0]  # local users are district staff
    for role in Role:
        cognito.create_group(
            GroupName=role.value, UserPoolId=pool["Id"], Description=f"Steward role {role.value}"
        )
    for role, username in LOCAL_USERS.items():
        cognito.admin_create_user(
            UserPoolId=pool["Id"],
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": f"{username}@{domain}"},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool["Id"], Username=username, Password=LOCAL_PASSWORD, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool["Id"], Username=username, GroupName=role.value)
        out.users[role.value] = username
