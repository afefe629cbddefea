"""The REST API, generated from ``catalogue.ROUTES``.

Every route becomes a method on its (nested) resource with a Lambda proxy integration to its function. Routes
that are not ``public`` require a Cognito user pool token; the authorizer only authenticates, the function
authorizes from the same route table (``shared.api``). Errors API Gateway answers itself (bad token, throttling,
unknown route, WAF) carry the same JSON body as the functions' errors: ``{"message": ..., "code": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infrastructure.constructs import nag
from shared import catalogue

STAGE_NAME = "prod"
# Steady-state and burst request rates for the whole stage. Webhook deliveries come in bursts (a viral post);
# the platforms retry throttled deliveries, so the limit protects the functions and DynamoDB without losing data.
THROTTLE_RATE = 100
THROTTLE_BURST = 200
ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_YEAR
_PATH_PARAM = re.compile(r"^\{([A-Za-z0-9_]+)\+?\}$")

# API Gateway's own error responses: (status code, error code as shared.errors names them).
GATEWAY_RESPONSES: Mapping[apigw.ResponseType, tuple[str, str]] = {
    apigw.ResponseType.UNAUTHORIZED: ("401", "unauthorized"),
    apigw.ResponseType.EXPIRED_TOKEN: ("401", "unauthorized"),
    apigw.ResponseType.INVALID_SIGNATURE: ("401", "unauthorized"),
    apigw.ResponseType.ACCESS_DENIED: ("403", "forbidden"),
    apigw.ResponseType.WAF_FILTERED: ("403", "forbidden"),
    # Without IAM authorization this is what API Gateway answers for a path or method that does not exist.
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: ("404", "not_found"),
    apigw.ResponseType.RESOURCE_NOT_FOUND: ("404", "not_found"),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: ("400", "bad_request"),
    apigw.ResponseType.BAD_REQUEST_BODY: ("400", "bad_request"),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("413", "payload_too_large"),
    apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE: ("415", "unsupported_media_type"),
    apigw.ResponseType.THROTTLED: ("429", "too_many_requests"),
    apigw.ResponseType.QUOTA_EXCEEDED: ("429", "too_many_requests"),
    apigw.ResponseType.INTEGRATION_TIMEOUT: ("504", "unavailable"),
    apigw.ResponseType.DEFAULT_4_XX: ("", "bad_request"),
    apigw.ResponseType.DEFAULT_5_XX: ("", "internal_error"),
}

# One JSON object per request (AWS's documented JSON access log format, plus the caller and WAF outcome).
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "user": "$context.authorizer.claims.sub",
    "authorizerError": "$context.authorizer.error",
    "wafStatus": "$context.waf.status",
    "xrayTraceId": "$context.xrayTraceId",
    "error": "$context.error.message",
}


# Why a route may go without a Cognito token, by exact path or by prefix ending in "/". A public route that
# matches none of them fails the synth: somebody has to write down why it is safe.
PUBLIC_ROUTE_REASONS: Mapping[str, str] = {
    "/health": "it is the liveness check; it returns no data and touches no resource.",
    "/webhooks/": (
        "social platforms deliver webhooks without a Cognito token; the function authenticates every delivery "
        "by verifying the platform's signature over the raw body before storing anything."
    ),
}


def public_reason(route: catalogue.Route) -> str:
    for pattern, reason in PUBLIC_ROUTE_REASONS.items():
        if route.path == pattern or (pattern.endswith("/") and route.path.startswith(pattern)):
            return reason
    raise ValueError(f"public route {route.method} {route.path} has no reason in PUBLIC_ROUTE_REASONS")


def access_log_format() -> apigw.AccessLogFormat:
    return apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS, separators=(",", ":")))


def error_template(code: str) -> str:
    return '{"message":$context.error.messageString,"code":"' + code + '"}'


def path_parameters(path: str) -> dict[str, bool]:
    """``method.request.path.<name>: True`` (required) for every ``{name}`` segment of ``path``."""
    params = {}
    for segment in path.strip("/").split("/"):
        match = _PATH_PARAM.match(segment)
        if match:
            params[f"method.request.path.{match.group(1)}"] = True
    return params


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        user_pool: cognito.IUserPool,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id_)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=ACCESS_LOG_RETENTION,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Steward API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=list(catalogue.BINARY_MEDIA_TYPES),
            # Execution logging needs the account-level API Gateway CloudWatch role; kept when the stack goes,
            # because the setting is shared by every API of the account and region.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=access_log_format(),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                # Full request/response logging would copy tokens and records into the logs.
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST,
            ),
        )
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        nag.acknowledge(
            cloud_watch_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "This is API Gateway's account-level logging role, assumable only by apigateway.amazonaws.com; AWS "
            "documents this managed policy for it and maintains it as the log actions API Gateway needs change.",
        )

        for response_type, (status, code) in GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                f"Response{response_type.response_type}",
                type=response_type,
                status_code=status or None,
                templates={"application/json": error_template(code)},
            )

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            identity_source="method.request.header.Authorization",
        )
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )

        integrations: dict[str, apigw.LambdaIntegration] = {}
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in catalogue.ROUTES:
            if route.function not in functions:
                raise ValueError(
                    f"route {route.method} {route.path} names unknown function {route.function!r}"
                )
            integration = integrations.setdefault(
                route.function, apigw.LambdaIntegration(functions[route.function], allow_test_invoke=False)
            )
            resource = self.rest_api.root.resource_for_path(route.path)
            method = resource.add_method(
                route.method,
                integration,
                operation_name=route.summary or None,
                request_validator=self.validator,
                request_parameters=path_parameters(route.path) or None,
                authorization_type=apigw.AuthorizationType.NONE
                if route.public
                else apigw.AuthorizationType.COGNITO,
                authorizer=None if route.public else self.authorizer,
            )
            self.methods[route.key] = method
            if route.public:
                reason = public_reason(route)
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    nag.acknowledge(
                        method, rule, f"{route.method} {route.path} is public by design: {reason}"
                    )

    @property
    def url(self) -> str:
        return self.rest_api.url
