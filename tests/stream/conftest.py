"""Fixtures of the stream tests."""

from __future__ import annotations

import pytest
from stream_testkit import lively_snn

from microexp.models.snn import PaperSNN


@pytest.fixture(scope="session")
def snn() -> PaperSNN:
    return lively_snn()
