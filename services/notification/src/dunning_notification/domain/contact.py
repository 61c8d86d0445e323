"""Borrower contact data as the service may show it: masked everywhere outside the send itself."""

from dataclasses import dataclass

from dunning_notification.domain.guard import Preferences


@dataclass(frozen=True)
class Contact:
    borrower_id: str
    name: str
    phone: str | None
    email: str | None
    locale: str
    timezone: str
    region: str

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
