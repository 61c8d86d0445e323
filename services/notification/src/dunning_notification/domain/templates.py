"""Message templates per channel and locale, rendered in a Jinja2 sandbox and linted when loaded."""

from dataclasses import dataclass

import re

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from dunning_notification.domain.wording import violations

DEFAULT_TEMPLATE = "overdue_reminder"
# A stage the scheduler names without a template we know falls back to the stage's usual wording.
STAGE_TEMPLATES = {
    "reminder": "overdue_reminder",
    "phone": "overdue_notice",
    "field_visit": "overdue_notice",
    # Only letters carry a pre-litigation notice; other channels of the legal stage keep the firm notice.
    "legal": "legal_notice",
}
# A stage's template where its channel has none (a legal-stage SMS): the next wording that fits.
STAGE_FALLBACKS = {"legal": "overdue_notice"}
SUBJECT_PREFIX = "Subject:"
# A voicemail may be heard by anyone near the phone: it names the lender and a number to call back, nothing
# of the debt (the same limited content as Regulation F's 1006.2(j)).
VOICE_VARIABLES = frozenset({"lender", "callback_number"})


class TemplateRefused(ValueError):
    """A template breaks the wording rules or does not compile; loading stops with the line named."""


class UnknownTemplate(LookupError):
    pass


@dataclass(frozen=True)
class TemplateKey:
    channel: str
    name: str
    locale: str


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None


def supported_locale(locale: str) -> str:
    return "zh-CN" if locale.lower().startswith("zh") else "en"


class TemplateCatalogue:
    def __init__(self, sources: dict[TemplateKey, str]) -> None:
        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self._templates = {key: self._compile(key, source) for key, source in sources.items()}

    def _compile(self, key: TemplateKey, source: str):
        found = violations(source)
        if found:
            raise TemplateRefused(f"{key.channel}/{key.name}.{key.locale}: " + "; ".join(map(str, found)))
        try:
            self._check_limited(key, source)
            return self._env.from_string(source)
        except TemplateSyntaxError as error:
            raise TemplateRefused(f"{key.channel}/{key.name}.{key.locale}: line {error.lineno}: {error}") from None

    def _check_limited(self, key: TemplateKey, source: str) -> None:
        if key.channel != "voice":
            return
        extra = sorted(meta.find_undeclared_variables(self._env.parse(source)) - VOICE_VARIABLES)
        if extra:
            where = "; ".join(f"line {_line_of(source, name)}: {name!r} is not limited content" for name in extra)
            raise TemplateRefused(f"{key.channel}/{key.name}.{key.locale}: {where} (a voicemail may use only "
                                  f"{', '.join(sorted(VOICE_VARIABLES))})")

    def keys(self) -> list[TemplateKey]:
        return sorted(self._templates, key=lambda k: (k.channel, k.name, k.locale))

    def resolve(self, channel: str, name: str, locale: str, stage: str | None = None) -> TemplateKey:
        """The template to use: the one named, else the stage's usual one, in the borrower's language."""
        language = supported_locale(locale)
        stage = stage or ""
        for candidate in (name, STAGE_TEMPLATES.get(stage), STAGE_FALLBACKS.get(stage), DEFAULT_TEMPLATE):
            key = TemplateKey(channel, candidate or "", language)
            if key in self._templates:
                return key
        raise UnknownTemplate(f"no template for channel {channel!r} in {language}")

    def render(self, key: TemplateKey, context: dict) -> Rendered:
        text = self._templates[key].render(**context).strip()
        if text.startswith(SUBJECT_PREFIX):
            subject, _, body = text.partition("\n")
            return Rendered(body=body.strip(), subject=subject[len(SUBJECT_PREFIX):].strip())
        return Rendered(body=text)


def _line_of(source: str, name: str) -> int:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return next((number for number, line in enumerate(source.splitlines(), 1) if pattern.search(line)), 1)


def sms_segments(text: str) -> int:
    """How many SMS parts a text needs: GSM-7 fits 160 (153 when split), UCS-2 (Chinese) 70 (67)."""
    gsm = all(ord(ch) < 128 for ch in text)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // multi)
