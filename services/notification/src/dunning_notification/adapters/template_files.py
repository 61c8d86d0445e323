"""The template catalogue shipped with the package: templates/<channel>/<name>.<locale>.j2."""

from importlib.resources import files

from dunning_notification.domain.templates import TemplateCatalogue, TemplateKey


def load_catalogue() -> TemplateCatalogue:
    root = files("dunning_notification") / "templates"
    sources = {}
    for channel_dir in root.iterdir():
        if not channel_dir.is_dir():
            continue
        for entry in channel_dir.iterdir():
            if entry.name.endswith(".j2"):
                name, _, locale = entry.name.removesuffix(".j2").partition(".")
                sources[TemplateKey(channel_dir.name, name, locale)] = entry.read_text(encoding="utf-8")
    return TemplateCatalogue(sources)
