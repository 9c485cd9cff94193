import pytest

from roster.queries import rota_for


@pytest.fixture
def rota(force):
    return rota_for(force)
