# temporary until dunning_platform.testing lands
import pytest

@pytest.fixture(scope="session")
def postgres_admin_url():
    return "postgresql://postgres:@/postgres?host=/tmp/leadpg/data"

@pytest.fixture(scope="module")
def kafka_bootstrap():
    return "127.0.0.1:19555"
