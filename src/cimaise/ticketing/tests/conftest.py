from __future__ import annotations

import pytest

from cimaise.core.tests.personas import Cast
from cimaise.ticketing.tests.factories import Shop, make_shop


@pytest.fixture
def shop(cast: Cast) -> Shop:
    return make_shop(cast.institution_a, cast.site_a)
