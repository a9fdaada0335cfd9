"""Faults of the installation, not of a document: a file the readers need is missing.

Not a :class:`~pipeline.errors.ClasError`, so no reader turns one into a page that is "not the form": a run stops
before reading anything, with what to install (``clas-referrals run`` exits 4).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class MissingInstallError(RuntimeError):
    """A file of a Debian package the readers need is not installed (or not the one measured).

    Subclasses name the part in French and English (``part_fr``, ``part_en``) and the package that installs it
    (``default_package``).

    Attributes:
        path: The file looked for.
        package: Debian package that installs it.
    """

    part_fr: ClassVar[str] = "fichier d'installation absent"
    part_en: ClassVar[str] = "installed file missing"
    default_package: ClassVar[str] = ""

    def __init__(self, path: Path, package: str | None = None) -> None:
        """Create the error; see the class docstring for the attributes."""
        self.path = path
        self.package = package or self.default_package
        super().__init__(
            f"{self.part_fr} : {path} ; installer le paquet Debian {self.package} "
            f"(`make system` ou `apt-get install -y {self.package}`) / {self.part_en}: {path}; "
            f"install the Debian package {self.package} (`make system` or `apt-get install -y {self.package}`)")

    def __reduce__(self) -> tuple[type[MissingInstallError], tuple[Path, str]]:
        """Pickle from the attributes, so a worker process sends the error back whole."""
        return (type(self), (self.path, self.package))


class SecondReaderError(RuntimeError):
    """The second reader's model is missing or is not the file this version was measured with
    (:mod:`pipeline.reading.scan.second_reader`, which re-exports it).

    An installation fault, not a document's: not a :class:`~pipeline.errors.ClasError`, so no document is
    quarantined for it; the run stops before reading (:func:`pipeline.stages.run_context`).

    Attributes:
        path: Where the model was looked for.
        reason_fr: What staff are told.
    """

    def __init__(self, message: str, path: Path) -> None:
        """Create the error; see the class docstring for the attributes."""
        super().__init__(message)
        self.path = path
        self.reason_fr = (f"Le modèle du second lecteur (PP-OCRv6) est absent ou n'est pas celui qui a été mesuré "
                          f"({path}) : réinstaller le paquet Python rapidocr avec `make venv`.")

    def __reduce__(self) -> tuple[type[SecondReaderError], tuple[str, Path]]:
        """Pickle from the arguments, so a worker process sends the error back whole."""
        return (type(self), (str(self), self.path))
