"""The city's directory: neighbourhoods, schools and CLAS carriers ("porteurs").

The directory is configuration, read once from ``pipeline/config/directory.toml``
(see ``pipeline.deciding.directory.load_directory``) and then passed, frozen, to the
validation and routing stages. Identifiers are stable slugs (``ee-jules-ferry``,
``asso-plume-cartable``) that the store and the routing decisions refer to.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
"""Directory identifiers are lowercase slugs."""


class ClassLevel(StrEnum):
    """A class level, valued as the option codes of ``form_definition.CLASS_LEVELS``."""

    CP = "CP"
    CE1 = "CE1"
    CE2 = "CE2"
    CM1 = "CM1"
    CM2 = "CM2"
    SIXIEME = "6E"
    CINQUIEME = "5E"
    QUATRIEME = "4E"
    TROISIEME = "3E"

    @property
    def years_after_cp(self) -> int:
        """How many school years this level comes after CP (CP → 0, 3e → 8)."""
        return list(ClassLevel).index(self)

    @property
    def label_fr(self) -> str:
        """The level as printed on the form (``"CM1"``, ``"6e"``)."""
        return self.value if self.value[0].isalpha() else self.value.lower()


ELEMENTARY_LEVELS: tuple[ClassLevel, ...] = (
    ClassLevel.CP, ClassLevel.CE1, ClassLevel.CE2, ClassLevel.CM1, ClassLevel.CM2,
)
COLLEGE_LEVELS: tuple[ClassLevel, ...] = (
    ClassLevel.SIXIEME, ClassLevel.CINQUIEME, ClassLevel.QUATRIEME, ClassLevel.TROISIEME,
)


class SchoolKind(StrEnum):
    """Kind of establishment, which decides the levels it may offer."""

    ELEMENTARY = "elementaire"
    COLLEGE = "college"

    @property
    def possible_levels(self) -> tuple[ClassLevel, ...]:
        """Levels an establishment of this kind can teach."""
        return ELEMENTARY_LEVELS if self is SchoolKind.ELEMENTARY else COLLEGE_LEVELS


class CarrierKind(StrEnum):
    """Who runs a carrier."""

    MUNICIPAL = "municipal"
    ASSOCIATION = "association"


class Neighbourhood(BaseModel):
    """A neighbourhood (quartier) of the city.

    Attributes:
        id: Slug, e.g. ``"val-argent-nord"``.
        name: Name as staff write it, e.g. ``"Val-d'Argent Nord"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)


class School(BaseModel):
    """An elementary school or a collège whose pupils may be referred.

    Attributes:
        id: Slug, e.g. ``"ee-jules-ferry"``; the canonical school id of a referral.
        name: Official name, e.g. ``"École élémentaire Jules Ferry"``.
        kind: Elementary school or collège.
        neighbourhood: Id of the neighbourhood the school lies in.
        levels: Levels taught; defaults to every level of its kind.
        aliases: Other ways teachers write the name (``"EE Jules Ferry"``, ``"J. Ferry"``).
        sender_domains: E-mail domains that only this school sends from.
        sender_addresses: E-mail addresses known to send this school's forms.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    kind: SchoolKind
    neighbourhood: str
    levels: tuple[ClassLevel, ...] = ()
    aliases: tuple[str, ...] = ()
    sender_domains: tuple[str, ...] = ()
    sender_addresses: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _default_levels(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("levels") and data.get("kind") in set(SchoolKind):
            data = {**data, "levels": SchoolKind(data["kind"]).possible_levels}
        return data

    @model_validator(mode="after")
    def _levels_fit_kind(self) -> School:
        wrong = [lv.value for lv in self.levels if lv not in self.kind.possible_levels]
        if wrong:
            raise ValueError(f"school {self.id}: levels {wrong} are not taught in a {self.kind.value}")
        return self

    def offers(self, level: ClassLevel) -> bool:
        """Whether the school teaches ``level``."""
        return level in self.levels


class Contact(BaseModel):
    """The person a carrier names for referrals (invented in the demo directory).

    Attributes:
        name: Person or role.
        email: Address referrals are sent to.
        phone: Phone number as written (display only).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None


class Carrier(BaseModel):
    """A CLAS carrier: a municipal service or an association running sessions.

    Attributes:
        id: Slug, e.g. ``"asso-plume-cartable"``.
        name: Name staff read in routing reasons.
        kind: Municipal service or association.
        schools: Ids of schools the carrier serves explicitly (preferred when routing).
        neighbourhoods: Ids of neighbourhoods whose schools the carrier also serves.
        levels: Class levels the carrier takes.
        places: Places for the school year (pupils it can take).
        priority: Routing order, 1 first; see ``pipeline.deciding.route``.
        contact: Who receives the referrals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    kind: CarrierKind
    schools: tuple[str, ...] = ()
    neighbourhoods: tuple[str, ...] = ()
    levels: tuple[ClassLevel, ...] = Field(min_length=1)
    places: int = Field(ge=0)
    priority: int = Field(ge=1)
    contact: Contact

    @model_validator(mode="after")
    def _serves_something(self) -> Carrier:
        if not self.schools and not self.neighbourhoods:
            raise ValueError(f"carrier {self.id} serves no school and no neighbourhood")
        return self

    def takes(self, level: ClassLevel) -> bool:
        """Whether the carrier takes pupils of ``level``."""
        return level in self.levels


def _duplicates(ids: list[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


class Directory(BaseModel):
    """The whole directory, checked for unique ids and dangling references.

    Attributes:
        city: City name, e.g. ``"Argenteuil"``.
        school_year: Year the places are counted for, ``AAAA-AAAA``.
        neighbourhoods: Every neighbourhood.
        schools: Every school and collège.
        carriers: Every carrier.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    city: str
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$")
    neighbourhoods: tuple[Neighbourhood, ...]
    schools: tuple[School, ...]
    carriers: tuple[Carrier, ...]

    @model_validator(mode="after")
    def _check_references(self) -> Directory:
        problems: list[str] = []
        for kind, ids in (("neighbourhood", [n.id for n in self.neighbourhoods]),
                          ("school", [s.id for s in self.schools]),
                          ("carrier", [c.id for c in self.carriers])):
            if dup := _duplicates(ids):
                problems.append(f"duplicate {kind} ids {dup}")
        quartiers = {n.id for n in self.neighbourhoods}
        schools = {s.id for s in self.schools}
        for s in self.schools:
            if s.neighbourhood not in quartiers:
                problems.append(f"school {s.id}: unknown neighbourhood {s.neighbourhood!r}")
        for c in self.carriers:
            problems += [f"carrier {c.id}: unknown school {x!r}" for x in c.schools if x not in schools]
            problems += [f"carrier {c.id}: unknown neighbourhood {x!r}" for x in c.neighbourhoods
                         if x not in quartiers]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def school(self, school_id: str) -> School:
        """Return the school with id ``school_id``.

        Raises:
            KeyError: No school has that id.
        """
        for s in self.schools:
            if s.id == school_id:
                return s
        raise KeyError(school_id)

    def carrier(self, carrier_id: str) -> Carrier:
        """Return the carrier with id ``carrier_id``.

        Raises:
            KeyError: No carrier has that id.
        """
        for c in self.carriers:
            if c.id == carrier_id:
                return c
        raise KeyError(carrier_id)

    def neighbourhood(self, neighbourhood_id: str) -> Neighbourhood:
        """Return the neighbourhood with id ``neighbourhood_id``.

        Raises:
            KeyError: No neighbourhood has that id.
        """
        for n in self.neighbourhoods:
            if n.id == neighbourhood_id:
                return n
        raise KeyError(neighbourhood_id)

    @classmethod
    def from_toml(cls, path: Path) -> Directory:
        """Read and check a directory TOML file.

        Args:
            path: A file shaped like ``pipeline/config/directory.toml``: top-level
                ``city`` and ``school_year``, then arrays of tables
                ``[[neighbourhoods]]``, ``[[schools]]``, ``[[carriers]]``.

        Raises:
            OSError: The file cannot be read.
            tomllib.TOMLDecodeError: The file is not valid TOML.
            pydantic.ValidationError: A record is malformed, an id is repeated or
                a reference points to nothing.
        """
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return cls.model_validate(data)
