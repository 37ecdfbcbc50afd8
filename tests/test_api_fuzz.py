"""Schemathesis over /api/v1/openapi.json: no input, however odd, may produce a 5xx.

Every route documented in the OpenAPI schema is fuzzed as an authenticated registrar (with a
bearer token) and anonymously; the suite grows as later issues add routes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cimaise.config.wsgi import application
from cimaise.core.tests.personas import Cast

# Loading the schema touches no table, so it can happen at collection time.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_a_server_error(case: Any, cast: Cast) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {cast.registrar_a.token}"}, checks=[not_a_server_error]
    )
    case.call_and_validate(checks=[not_a_server_error])
