"""Every catalogue function: runtime, tracing, logging, layer, code, environment."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.constructs.functions import COMMON_ENVIRONMENT
from shared import catalogue
from tests.infrastructure.support import Synth, refs

FUNCTION_KEYS = [f.key for f in catalogue.FUNCTIONS]


def _function(synth: Synth, key: str) -> dict[str, Any]:
    return synth.resource(synth.stack.functions.functions[key])["Properties"]  # type: ignore[no-any-return]


def test_one_lambda_function_per_catalogue_entry(synth: Synth) -> None:
    assert len(synth.of_type("AWS::Lambda::Function")) == len(catalogue.FUNCTIONS)


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_function_runtime_tracing_and_json_logs(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    props = _function(synth, key)
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["x86_64"]
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    assert props["EphemeralStorage"] == {"Size": spec.ephemeral_storage_mb}
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_function_has_its_own_encrypted_log_group_with_retention(synth: Synth, key: str) -> None:
    (log_group_id,) = refs(_function(synth, key)["LoggingConfig"]["LogGroup"])
    log_group = synth.resources[log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert refs(log_group["Properties"]["KmsKeyId"]) == {synth.logical_id(synth.stack.keys.key)}
    others = [f.key for f in catalogue.FUNCTIONS if f.key != key]
    assert all(refs(_function(synth, o)["LoggingConfig"]["LogGroup"]) != {log_group_id} for o in others)


def test_every_function_uses_the_one_layer_and_the_one_code_asset(synth: Synth) -> None:
    (layer_id,) = synth.of_type("AWS::Lambda::LayerVersion")
    layer = synth.resources[layer_id]["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["x86_64"]
    code_keys = set()
    for key in FUNCTION_KEYS:
        props = _function(synth, key)
        assert props["Layers"] == [{"Ref": layer_id}]
        code_keys.add(props["Code"]["S3Key"])
    assert len(code_keys) == 1


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_environment_names_only_the_resources_the_function_uses(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    env = _function(synth, key)["Environment"]["Variables"]
    expected: dict[str, Any] = dict(COMMON_ENVIRONMENT)
    for use in spec.tables:
        expected[catalogue.table(use.resource).env_var] = {
            "Ref": synth.logical_id(synth.stack.storage.tables[use.resource])
        }
    for use in spec.buckets:
        expected[catalogue.bucket(use.resource).env_var] = {
            "Ref": synth.logical_id(synth.stack.storage.buckets[use.resource])
        }
    for use in spec.queues:
        expected[catalogue.queue(use.resource).env_var] = {
            "Ref": synth.logical_id(synth.stack.queues.queues[use.resource])
        }
    for use in spec.secrets:
        expected[catalogue.secret(use.resource).env_var] = {
            "Ref": synth.logical_id(synth.stack.secrets.secrets[use.resource])
        }
    for use in spec.topics:
        expected[catalogue.topic(use.resource).env_var] = {
            "Ref": synth.logical_id(synth.stack.topics.topics[use.resource])
        }
    if spec.consumes:
        expected[catalogue.queue(spec.consumes).dlq_env_var] = {
            "Ref": synth.logical_id(synth.stack.queues.dead_letter_queues[spec.consumes])
        }
    if spec.uses_user_pool:
        expected["STEWARD_USER_POOL_ID"] = {"Ref": synth.logical_id(synth.stack.identity.user_pool)}
    if spec.vault is not None:
        expected[catalogue.VAULT_PREFIX_ENV_VAR] = catalogue.VAULT_SECRET_PREFIX
        expected[catalogue.VAULT_KEY_ENV_VAR] = {
            "Fn::GetAtt": [synth.logical_id(synth.stack.keys.key), "Arn"]
        }
    assert env == expected
    assert env["STEWARD_STAGE"] == "aws"


def test_queue_consumers_get_an_sqs_trigger_reporting_partial_failures(synth: Synth) -> None:
    mappings = list(synth.of_type("AWS::Lambda::EventSourceMapping").values())
    consumers = [f for f in catalogue.FUNCTIONS if f.consumes]
    assert len(mappings) == len(consumers)
    for f in consumers:
        function_id = synth.logical_id(synth.stack.functions.functions[f.key])
        queue_id = synth.logical_id(synth.stack.queues.queues[f.consumes or ""])
        (mapping,) = [m for m in mappings if refs(m["Properties"]["FunctionName"]) == {function_id}]
        assert refs(mapping["Properties"]["EventSourceArn"]) == {queue_id}
        assert mapping["Properties"]["BatchSize"] == f.batch_size
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
