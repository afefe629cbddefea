"""The stack tells an operator every resource name under the variable the code reads it from."""

from __future__ import annotations

from shared import catalogue
from tests.infrastructure.support import Synth


def test_every_catalogue_resource_is_an_output_named_by_its_variable(synth: Synth) -> None:
    described = {o.get("Description") for o in synth.json["Outputs"].values()}
    wanted = {
        r.env_var for r in (*catalogue.TABLES, *catalogue.BUCKETS, *catalogue.QUEUES, *catalogue.TOPICS)
    }
    assert wanted <= described
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId"} <= set(synth.json["Outputs"])
