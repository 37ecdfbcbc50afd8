from __future__ import annotations

import pytest

from cimaise.core.tests.personas import Cast
from cimaise.moves.tests.factories import Transfer, make_transfer


@pytest.fixture
def transfer(cast: Cast) -> Transfer:
    return make_transfer(cast)
