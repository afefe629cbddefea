"""The REST API: one method per catalogue route, Cognito on every non-public route, stage hardening."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.constructs.api import GATEWAY_RESPONSES
from shared import catalogue
from tests.infrastructure.support import Synth, refs


def _resource_paths(synth: Synth) -> dict[str, str]:
    """Logical id of every API resource (and of the root, via the RestApi) → its full path."""
    resources = synth.of_type("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def _methods(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    paths = _resource_paths(synth)
    methods = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = "/" if "Fn::GetAtt" in resource else paths[resource["Ref"]]
        methods[(props["HttpMethod"], path)] = props
    return methods


def test_methods_are_exactly_the_catalogue_routes(synth: Synth) -> None:
    assert set(_methods(synth)) == {r.key for r in catalogue.ROUTES}


@pytest.mark.parametrize("route", catalogue.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_authorization_and_integration(synth: Synth, route: catalogue.Route) -> None:
    props = _methods(synth)[route.key]
    if route.public:
        assert props["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in props
    else:
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        (authorizer,) = refs(props["AuthorizerId"])
        assert synth.resources[authorizer]["Type"] == "AWS::ApiGateway::Authorizer"
    integration = props["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    function_id = synth.logical_id(synth.stack.functions.functions[route.function])
    assert function_id in refs(integration["Uri"])
    assert refs(props["RequestValidatorId"]) == set(synth.of_type("AWS::ApiGateway::RequestValidator"))


def test_path_parameters_are_required(synth: Synth) -> None:
    props = _methods(synth)[("GET", "/audit/chains/{chain}")]
    assert props["RequestParameters"] == {"method.request.path.chain": True}


def test_authorizer_is_the_user_pool(synth: Synth) -> None:
    (authorizer,) = synth.of_type("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert refs(authorizer["Properties"]["ProviderARNs"]) == {
        synth.logical_id(synth.stack.identity.user_pool)
    }


def test_binary_media_types_and_regional_endpoint(synth: Synth) -> None:
    (api,) = synth.of_type("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == list(catalogue.BINARY_MEDIA_TYPES)
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_request_validator_checks_parameters_and_body(synth: Synth) -> None:
    (validator,) = synth.of_type("AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestParameters"] is True
    assert validator["Properties"]["ValidateRequestBody"] is True


def test_stage_logging_tracing_and_throttling(synth: Synth) -> None:
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["LoggingLevel"] in ("ERROR", "INFO")
    assert settings["DataTraceEnabled"] is False
    assert settings["MetricsEnabled"] is True
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]
    access = props["AccessLogSetting"]
    fields = json.loads(access["Format"])
    assert {"requestId", "status", "resourcePath", "user"} <= set(fields)
    assert refs(access["DestinationArn"]) == {synth.logical_id(synth.stack.api.access_logs)}
    log_group = synth.resource(synth.stack.api.access_logs)["Properties"]
    assert log_group["RetentionInDays"] == 365
    assert "KmsKeyId" in log_group


def test_execution_logging_has_the_account_role(synth: Synth) -> None:
    (account,) = synth.of_type("AWS::ApiGateway::Account").values()
    (role,) = refs(account["Properties"]["CloudWatchRoleArn"])
    assert synth.resources[role]["Type"] == "AWS::IAM::Role"


@pytest.mark.parametrize("kind", ["UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"])
def test_gateway_responses_are_json_errors(synth: Synth, kind: str) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert len(responses) == len(GATEWAY_RESPONSES)
    template = responses[kind]["ResponseTemplates"]["application/json"]
    body = json.loads(template.replace("$context.error.messageString", '"an error"'))
    assert body["message"] == "an error"
    assert body["code"]


def test_web_acl_with_managed_rules_guards_the_stage(synth: Synth) -> None:
    ((acl_id, acl),) = synth.of_type("AWS::WAFv2::WebACL").items()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Properties"]["Rules"]}
    assert "AWSManagedRulesCommonRuleSet" in groups
    (association,) = synth.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert refs(association["Properties"]["WebACLArn"]) == {acl_id}
    (stage_id,) = synth.of_type("AWS::ApiGateway::Stage")
    assert stage_id in refs(association["Properties"]["ResourceArn"])


def test_outputs(synth: Synth) -> None:
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId"} <= set(synth.json["Outputs"])


def test_stack_is_named_steward_env_agnostic_and_protected(synth: Synth) -> None:
    stack = synth.stack
    assert stack.stack_name == "Steward"
    assert stack.termination_protection is True
    assert stack.resolve(stack.region) == {"Ref": "AWS::Region"}
