"""SNS topics from ``catalogue.TOPICS``: encrypted with the data key, publishing over TLS only.

Subscriptions (the communications director's e-mail or phone) are made by an operator after deployment: an
address is personal data and changes with staff, so it is not part of the stack.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infrastructure.constructs.naming import construct_id
from shared import catalogue


class Topics(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id_)
        self.topics: dict[str, sns.Topic] = {
            t.key: sns.Topic(
                self,
                construct_id("Topic", t.key),
                display_name=f"Steward {t.key}",
                master_key=key,
                enforce_ssl=True,
            )
            for t in catalogue.TOPICS
        }
