"""What the reading workers' forkserver loads once, so that every forked worker starts warm.

Imported (not called) by the forkserver of :mod:`pipeline.reading.limits`: it imports the readers and trains
the comb digit model (:func:`pipeline.reading.scan.digit_model.digit_model`, about a second) with the default settings,
which
each worker would otherwise do again for every document. A worker run with other ICR settings trains
its own model on first use, as before. The second text reader's recogniser
(:mod:`pipeline.reading.scan.second_reader`, about 1.5 s to load and check) is loaded here too, so are tesseract's
engines for the default languages (:func:`pipeline.reading.scan.strips.warm_up`, about 0.15 s), and so is the
given-name lexicon (:mod:`pipeline.reading.lexicon`, 86,000 dictionary lines read once, 0.1-0.2 s). So is the
blank form at the fixed resolutions registration, identification and the foreign-ink test compare pages with
(:func:`warm_templates`): rendering it and registering its fonts cost every worker 0.4-0.5 s of each document
(measured with cProfile in a forked worker on a 300 dpi devset page, 2026-12-04). So are the lexicons' and
the digit classifier's first-use caches (:func:`warm_lexicons`) and the modules a first document imported
(:func:`warm_imports`).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

import pipeline.deciding.decide  # noqa: F401 - imported for the forkserver to hold
import pipeline.reading.extract  # noqa: F401 - imported for the forkserver to hold
from pipeline.errors import OcrError
from pipeline.form.definition import FormDefinition, form_v1
from pipeline.form.template_image import blank_page_image
from pipeline.reading.field_lexicons import language_names, school_names, town_names, town_postcodes
from pipeline.reading.french_words import french_words
from pipeline.reading.lexicon import first_names
from pipeline.reading.register import FEATURE_DPI
from pipeline.reading.scan.digit_model import digit_model, digit_probabilities
from pipeline.reading.scan.foreign_ink import WORK_DPI, template_ink
from pipeline.reading.scan.second_reader import warm_up
from pipeline.reading.scan.strips import warm_up as warm_tesseract
from pipeline.settings import IcrSettings, OcrSettings, OmrSettings
from pipeline.settings.registration import IdentificationSettings
from schemas.referral import is_french_mobile


def warm_templates(definition: FormDefinition, identification: IdentificationSettings, omr: OmrSettings) -> None:
    """Render and cache the blank form's pages at the fixed resolutions the readers compare pages with.

    Fills the caches of :func:`~pipeline.form.template_image.blank_page_image` at ``FEATURE_DPI`` (registration)
    and ``identification.layout_dpi`` (a page told by its layout), and of
    :func:`~pipeline.reading.scan.foreign_ink.template_ink` at ``WORK_DPI`` with ``omr``'s tolerances. A worker
    with other settings fills its own entries on first use, as before.
    """
    for number in range(1, len(definition.pages) + 1):
        for dpi in (FEATURE_DPI, identification.layout_dpi):
            blank_page_image(number, dpi, definition.version)
        template_ink(definition.version, number, WORK_DPI, omr.foreign_template_tolerance_pt, omr.template_ink_grey_max)



def warm_lexicons(ocr: OcrSettings, icr: IcrSettings) -> None:
    """Load the given-name lexicon and the French dictionary (0.35 s), and build the lexicons' and the digit
    classifier's first-use caches, which every worker built again for each document: the given names without their
    accents
    (:meth:`~pipeline.reading.lexicon.Lexicon.lacks_an_accent`, 22 ms), scikit-learn's checks on a first prediction
    (21 ms), the language, town and school names of the constrained decoder (:mod:`pipeline.reading.field_lexicons`,
    about 35 ms) and libphonenumber's French metadata. Issue 19: measured with cProfile, first against second reading
    of one devset photo in one forked worker, 2026-12-06. The values are the same either way; a worker with other
    settings fills its own entries on first use.
    """
    first_names(ocr.first_names_file).lacks_an_accent("Anais")
    french_words(ocr.french_words_file)
    digit_probabilities([np.zeros(digit_model(icr.stroke_px).n_features_in_)], icr)
    language_names()
    town_names(ocr.constrained.towns_file)
    school_names(ocr.constrained.directory_file)
    town_postcodes(ocr.constrained.towns_file)
    is_french_mobile("0612345678")


def warm_imports() -> None:
    """Import now what a worker's first document imported on first use (Pillow's image plugins, pdfplumber's
    renderer, pypdf's filters, ``_strptime``): about 7 ms of every document (issue 19, same measure as
    :func:`warm_lexicons`)."""
    import pdfplumber.display  # noqa: F401
    import pypdf.filters  # noqa: F401
    from PIL import Image

    Image.init()
    datetime.strptime("05/12/2026", "%d/%m/%Y")


digit_model(IcrSettings().stroke_px)
warm_up()
try:
    warm_tesseract(OcrSettings())
except OcrError:
    pass  # a missing language model is reported by each page's reading, with its reason, not by the forkserver
warm_templates(form_v1(), IdentificationSettings(), OmrSettings())
warm_lexicons(OcrSettings(), IcrSettings())
warm_imports()
