"""Borrower contact data as the service may show it: masked everywhere outside the send itself."""

from collections.abc import Callable

from dunning_notification.domain.guard import Preferences


def _as_is(value):
    return value


class Contact:
    """One borrower's entry in the contact book. `reveal` turns a stored name, phone or e-mail into its
    text the first time it is read (the contact book keeps them encrypted): a message needs its channel's
    address and, mostly, the name, so the other fields are never decrypted."""

    __slots__ = ("borrower_id", "locale", "timezone", "region", "_stored", "_revealed", "_reveal")

    def __init__(
        self, borrower_id: str, name, phone, email, locale: str, timezone: str, region: str,
        *, reveal: Callable[[object], str | None] = _as_is,
    ) -> None:
        self.borrower_id, self.locale, self.timezone, self.region = borrower_id, locale, timezone, region
        self._stored = {"name": name, "phone": phone, "email": email}
        self._revealed: dict[str, str | None] = {}
        self._reveal = reveal

    @property
    def name(self) -> str:
        return self._field("name") or ""

    @property
    def phone(self) -> str | None:
        return self._field("phone")

    @property
    def email(self) -> str | None:
        return self._field("email")

    def _field(self, key: str) -> str | None:
        if key not in self._revealed:
            stored = self._stored[key]
            self._revealed[key] = None if stored is None else self._reveal(stored)
        return self._revealed[key]

    def address_for(self, channel: str) -> str | None:
        """Where a message of `channel` goes; only the borrower's own data, never a third party's."""
        if channel in ("sms", "voice"):
            return self.phone
        if channel == "email":
            return self.email
        if channel == "push":
            return self.borrower_id
        if channel == "letter":
            return self.name
        return None


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email and "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_address(channel: str, address: str | None) -> str | None:
    if channel in ("sms", "voice"):
        return mask_phone(address)
    if channel == "email":
        return mask_email(address)
    if channel == "letter":
        return address and address[:1] + "**"
    return address


def channel_for(requested: str, preferences: Preferences, contact: Contact) -> str:
    """The channel to use: the one requested, unless the borrower refused it and named another they accept."""
    preferred = preferences.preferred_channel
    if requested not in preferences.opted_out or not preferred or preferred in preferences.opted_out:
        return requested
    return preferred if contact.address_for(preferred) else requested
