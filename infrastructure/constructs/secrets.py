"""Secrets Manager secrets from ``catalogue.SECRETS``, encrypted with the data key.

A field Steward chooses itself (the Meta verify token, the WebSub secret) is generated at deployment; a field a
platform issues (Meta's app secret, X's consumer secret) starts as a placeholder that verifies nothing, so
deliveries are refused until an operator puts the real value in.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infrastructure.constructs import nag
from infrastructure.constructs.naming import construct_id
from shared import catalogue

PLACEHOLDER = catalogue.SECRET_PLACEHOLDER


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id_)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for spec in catalogue.SECRETS:
            template = {f: PLACEHOLDER for f in spec.fields if f != spec.generated}
            secret = secretsmanager.Secret(
                self,
                construct_id("Secret", spec.key),
                description=spec.description,
                encryption_key=key,
                removal_policy=RemovalPolicy.RETAIN,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps(template),
                    generate_string_key=spec.generated or "generated_unused",
                    exclude_punctuation=True,
                    password_length=48,
                ),
            )
            nag.acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Platform app secrets are issued and changed in the platform's developer console (Meta, X), and the "
                "WebSub secret changes when Steward re-subscribes; no Secrets Manager rotation function can change "
                "them on the platform's side.",
            )
            self.secrets[spec.key] = secret
