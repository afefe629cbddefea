"""The Steward stack: one construct per capability, every resource generated from ``shared.catalogue``."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infrastructure.constructs import naming
from infrastructure.constructs.alarms import Alarms
from infrastructure.constructs.api import Api
from infrastructure.constructs.firewall import Firewall
from infrastructure.constructs.functions import Functions, Resources
from infrastructure.constructs.identity import Identity
from infrastructure.constructs.keys import Keys
from infrastructure.constructs.queues import Queues
from infrastructure.constructs.schedules import Schedules
from infrastructure.constructs.secrets import Secrets
from infrastructure.constructs.storage import Storage
from infrastructure.constructs.topics import Topics
from shared import catalogue


class StewardStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.keys = keys = Keys(self, "Keys")
        self.storage = storage = Storage(self, "Storage", key=keys.key)
        self.queues = queues = Queues(self, "Queues", key=keys.key)
        self.secrets = secrets = Secrets(self, "Secrets", key=keys.key)
        self.identity = identity = Identity(self, "Identity")
        self.topics = topics = Topics(self, "Topics", key=keys.key)
        self.functions = functions = Functions(
            self,
            "Functions",
            resources=Resources(
                key=keys.key,
                tables=storage.tables,
                buckets=storage.buckets,
                queues=queues.queues,
                dead_letter_queues=queues.dead_letter_queues,
                secrets=secrets.secrets,
                user_pool=identity.user_pool,
                topics=topics.topics,
            ),
        )
        self.api = api = Api(
            self, "Api", functions=functions.functions, user_pool=identity.user_pool, key=keys.key
        )
        self.firewall = Firewall(self, "Firewall", stage_arn=api.rest_api.deployment_stage.stage_arn)
        self.schedules = Schedules(self, "Schedules", functions=functions.functions, keys=keys)
        self.alarms = Alarms(self, "Alarms", topics=topics.topics, functions=functions.functions, keys=keys)
        functions.acknowledge_policy_wildcards()

        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of the Steward API (stage included)")
        CfnOutput(
            self, "UserPoolId", value=identity.user_pool.user_pool_id, description="Cognito user pool id"
        )
        CfnOutput(
            self,
            "UserPoolClientId",
            value=identity.client.user_pool_client_id,
            description="API app client id",
        )
        # Every resource name under the variable the functions (and `steward ... --aws`) read it from.
        named: list[
            tuple[str, catalogue.Table | catalogue.Bucket | catalogue.Queue | catalogue.Topic, str]
        ] = [
            *(("Table", t, storage.tables[t.key].table_name) for t in catalogue.TABLES),
            *(("Bucket", b, storage.buckets[b.key].bucket_name) for b in catalogue.BUCKETS),
            *(("Queue", q, queues.queues[q.key].queue_url) for q in catalogue.QUEUES),
            *(("Topic", t, topics.topics[t.key].topic_arn) for t in catalogue.TOPICS),
        ]
        for kind, spec, value in named:
            CfnOutput(self, naming.construct_id(kind, spec.key), value=value, description=spec.env_var)
