"""Contact data is shown masked and stored sealed."""

import pytest
from cryptography.fernet import Fernet

from dunning_notification.adapters.vault import ContactVault
from dunning_notification.domain.contact import Contact, channel_for, mask_address, mask_email, mask_phone
from dunning_notification.domain.guard import Preferences


def test_a_phone_shows_only_its_prefix_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86*******5678"


def test_an_email_shows_only_its_first_letter_and_domain():
    assert mask_email("zhang.san@example.com") == "z***@example.com"


def test_a_letter_address_is_reduced_to_an_initial():
    assert mask_address("letter", "张三 北京市朝阳区") == "张**"


def test_the_vault_seals_and_opens_with_the_same_key_only():
    vault = ContactVault(Fernet.generate_key().decode())
    sealed = vault.seal("13812345678")
    assert b"13812345678" not in sealed and vault.open(sealed) == "13812345678"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        ContactVault(Fernet.generate_key().decode()).open(sealed)


def test_sealed_values_are_ascii_tokens_each_with_its_own_nonce():
    vault = ContactVault(Fernet.generate_key().decode())
    first, second = vault.seal("张三"), vault.seal("张三")
    assert first.isascii() and first.startswith(b"v2.") and first != second
    assert vault.open(first) == vault.open(second) == "张三"


def test_contact_data_sealed_with_fernet_before_still_opens():
    key = Fernet.generate_key()
    assert ContactVault(key.decode()).open(Fernet(key).encrypt("13812345678".encode())) == "13812345678"


def test_while_older_replicas_run_the_vault_seals_with_fernet_and_opens_both():
    key = Fernet.generate_key().decode()
    upgrading, upgraded = ContactVault(key, seal_with="fernet"), ContactVault(key)
    sealed = upgrading.seal("13812345678")
    assert Fernet(key.encode()).decrypt(sealed) == b"13812345678"
    assert upgrading.open(upgraded.seal("张三")) == "张三" and upgraded.open(sealed) == "13812345678"
    with pytest.raises(ValueError, match="pii_sealing"):
        ContactVault(key, seal_with="rot13")


@pytest.mark.parametrize("damage", [
    lambda token: token[:-2] + (b"A" if token[-2:-1] != b"A" else b"B") + token[-1:],  # the tag
    lambda token: token[:3] + token[4:],                                              # truncated
    lambda token: token[:3] + b"!" + token[4:],                                       # not base64
])
def test_a_damaged_token_is_refused(damage):
    vault = ContactVault(Fernet.generate_key().decode())
    with pytest.raises(ValueError, match="cannot be decrypted"):
        vault.open(damage(vault.seal("13812345678")))


def test_the_vault_refuses_a_key_that_is_not_a_fernet_key():
    with pytest.raises(ValueError, match="pii_key"):
        ContactVault("not-a-key")


BORROWER = Contact("b-1", "张三", "13812345678", "zhang.san@example.com", "zh-CN", "Asia/Shanghai", "CN")


def test_a_refused_channel_gives_way_to_the_borrowers_preferred_one():
    choices = Preferences(opted_out=frozenset({"sms"}), preferred_channel="email")
    assert channel_for("sms", choices, BORROWER) == "email"


def test_the_requested_channel_stays_when_it_is_not_refused():
    assert channel_for("sms", Preferences(preferred_channel="email"), BORROWER) == "sms"


def test_a_preferred_channel_without_an_address_or_itself_refused_changes_nothing():
    no_mail = Contact("b-2", "李四", "13900000000", None, "zh-CN", "Asia/Shanghai", "CN")
    assert channel_for("sms", Preferences(opted_out=frozenset({"sms"}), preferred_channel="email"), no_mail) == "sms"
    both = Preferences(opted_out=frozenset({"sms", "email"}), preferred_channel="email")
    assert channel_for("sms", both, BORROWER) == "sms"


class CountingVault(ContactVault):
    def __init__(self) -> None:
        super().__init__(Fernet.generate_key().decode())
        self.opened: list[str] = []

    def open(self, token):
        self.opened.append(plain := super().open(token))
        return plain


def sealed_contact(vault: CountingVault) -> Contact:
    name, phone, email = (vault.seal(text) for text in ("张三", "13812345678", "zhang.san@example.com"))
    return Contact("b-1", name, phone, email, "zh-CN", "Asia/Shanghai", "CN", reveal=vault.open)


def test_a_sealed_contact_decrypts_only_the_fields_a_message_reads_and_each_once():
    vault = CountingVault()
    contact = sealed_contact(vault)
    assert contact.address_for("sms") == "13812345678" and contact.name == "张三"
    assert contact.address_for("voice") == "13812345678"
    assert vault.opened == ["13812345678", "张三"], "the e-mail is never decrypted for an SMS"


def test_a_sealed_contact_without_an_address_for_a_channel_has_none():
    vault = CountingVault()
    contact = Contact("b-2", vault.seal("李四"), vault.seal("13900000000"), None, "zh-CN", "Asia/Shanghai", "CN", reveal=vault.open)
    assert contact.address_for("email") is None and vault.opened == []
    assert channel_for("sms", Preferences(opted_out=frozenset({"sms"}), preferred_channel="email"), contact) == "sms"
