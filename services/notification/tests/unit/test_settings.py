"""The service refuses to start without the key that encrypts borrower contact data."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from dunning_notification.config import Settings


def test_settings_without_a_pii_key_are_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFICATION_PII_KEY", raising=False)
    with pytest.raises(ValidationError, match="pii_key"):
        Settings(database_url="postgresql+asyncpg://x@/db", tokens_file=tmp_path / "tokens.json")


def test_settings_read_the_provider_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFICATION_PII_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NOTIFICATION_PROVIDER_URL", "http://127.0.0.1:18009")
    monkeypatch.setenv("NOTIFICATION_SMTP_PORT", "18025")
    settings = Settings(database_url="postgresql+asyncpg://x@/db", tokens_file=tmp_path / "tokens.json")
    assert settings.provider_url == "http://127.0.0.1:18009" and settings.smtp_port == 18025
    assert settings.http_port == 8003 and settings.source == "urn:dunning:notification"
