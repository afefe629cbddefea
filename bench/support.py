"""What several benchmarks share: a moto server in a process of its own, provisioned like the local runtime, with
the functions' clients pointed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from bench.audit_bench import REGION


@contextmanager
def moto_server() -> Iterator[str]:
    """The provisioned server's endpoint; the server stops and the settings are reset on exit."""
    from infrastructure.local.moto_process import MotoProcess
    from infrastructure.local.provision import provision
    from shared.settings import get_settings
    from shared.store import aws

    server = MotoProcess()
    endpoint = server.start()
    os.environ["STEWARD_AWS_ENDPOINT_URL"] = endpoint
    get_settings.cache_clear()
    try:
        provisioned = provision(boto3.session.Session(region_name=REGION), endpoint)
        os.environ.update(provisioned.env)
        aws.reset()
        yield endpoint
    finally:
        server.stop()
        os.environ.pop("STEWARD_AWS_ENDPOINT_URL", None)
        get_settings.cache_clear()
