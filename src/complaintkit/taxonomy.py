"""Root-cause taxonomies: causes with a description and example phrases, read from YAML."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import InputError


@dataclass(frozen=True)
class Cause:
    """One root cause of a taxonomy.

    Attributes
    ----------
    id : str
        The label predicted for it, e.g. ``billing_error``.
    name, description : str
        Human wording; the description is also embedded as a prototype.
    dimension : str or None
        The SERVQUAL dimension it mostly hurts.
    examples : dict of str to list of str
        Example phrases by language code.
    """

    id: str
    name: str
    description: str
    dimension: str | None = None
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def prototypes(self) -> list[str]:
        """The texts that stand for this cause: its description and every example."""
        return [self.description, *(text for texts in self.examples.values() for text in texts)]


@dataclass(frozen=True)
class Taxonomy:
    """An ordered list of causes, with the file it came from."""

    causes: tuple[Cause, ...]
    source: str = "<memory>"

    @property
    def ids(self) -> list[str]:
        """Cause ids in file order."""
        return [c.id for c in self.causes]

    @property
    def languages(self) -> list[str]:
        """Language codes that have examples, sorted."""
        return sorted({lang for c in self.causes for lang in c.examples})

    def prototype_table(self, languages: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
        """Every prototype text and the id of its cause, as two parallel lists.

        ``languages`` keeps only the examples in those languages (descriptions are always kept),
        e.g. ``["en"]`` for an English-only encoder, to which other languages are noise.
        """
        pairs = [(text, c.id) for c in self.causes
                 for text in ([c.description, *(t for lang, texts in c.examples.items()
                                                if languages is None or lang in languages for t in texts)])]
        return [p[0] for p in pairs], [p[1] for p in pairs]


def _cause(entry: Any, position: int, source: str) -> Cause:
    where = f"cause #{position + 1} in {source!r}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is a {type(entry).__name__}; expected a mapping with id, name, description.")
    missing = [k for k in ("id", "name", "description") if not str(entry.get(k) or "").strip()]
    if missing:
        raise InputError(f"{where} has no {', '.join(missing)}; every cause needs an id, a name and a description.")
    examples = entry.get("examples") or {}
    if not isinstance(examples, dict) or not all(isinstance(v, list) for v in examples.values()):
        raise InputError(f"{where} ({entry['id']}): examples must map a language code to a list of phrases, "
                         f"e.g. {{en: [...], it: [...]}}; found {type(examples).__name__}.")
    cleaned = {str(lang): [str(t).strip() for t in texts if str(t).strip()] for lang, texts in examples.items()}
    return Cause(id=str(entry["id"]).strip(), name=str(entry["name"]).strip(),
                 description=str(entry["description"]).strip(),
                 dimension=str(entry["dimension"]).strip() if entry.get("dimension") else None,
                 examples={lang: texts for lang, texts in cleaned.items() if texts})


def parse_taxonomy(document: Any, source: str = "<memory>") -> Taxonomy:
    """Validate a parsed taxonomy document (``{"causes": [...]}``) and return it.

    Raises
    ------
    InputError
        If causes are missing, malformed, fewer than two, or share an id.
    """
    causes = document.get("causes") if isinstance(document, dict) else None
    if not isinstance(causes, list):
        raise InputError(f"taxonomy {source!r} has no list under `causes:`; see the packaged default "
                         "taxonomy (data/taxonomy.yaml in the repository) for the format.")
    parsed = tuple(_cause(entry, i, source) for i, entry in enumerate(causes))
    if len(parsed) < 2:
        raise InputError(f"taxonomy {source!r} has {len(parsed)} cause(s); a classifier needs at least two.")
    ids = [c.id for c in parsed]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InputError(f"taxonomy {source!r} repeats the cause id(s) {repeated}; ids must be unique.")
    return Taxonomy(causes=parsed, source=source)


DEFAULT_TAXONOMY = "default"


def default_taxonomy_path() -> Path:
    """The taxonomy shipped inside the package (the ten causes; ``--taxonomy default``)."""
    return Path(__file__).resolve().parent / "taxonomies" / "default.yaml"


def load_taxonomy(path: str | os.PathLike) -> Taxonomy:
    """Read a taxonomy YAML file, or the packaged one when ``path`` is ``"default"``.

    Examples
    --------
    >>> load_taxonomy("default").ids[:3]
    ['billing_error', 'service_failure', 'slow_resolution']
    """
    import yaml

    file = default_taxonomy_path() if str(path) == DEFAULT_TAXONOMY else Path(path)
    if not file.is_file():
        raise InputError(f"taxonomy file {str(file)!r} does not exist; pass --taxonomy default for the packaged "
                         "taxonomy of ten causes, or the path of your own YAML file.")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"taxonomy file {str(file)!r} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_taxonomy(document, str(file))
