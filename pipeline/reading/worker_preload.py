"""What the reading workers' forkserver loads once, so that every forked worker starts warm.

Imported (not called) by the forkserver of :mod:`pipeline.reading.limits`: it imports the readers and trains
the comb digit model (:func:`pipeline.reading.scan.digit_model.digit_model`, about a second) with the default settings,
which
each worker would otherwise do again for every document. A worker run with other ICR settings trains
its own model on first use, as before. The second text reader's recogniser
(:mod:`pipeline.reading.scan.second_reader`, about 1.5 s to load and check) is loaded here too, and so is the
given-name lexicon (:mod:`pipeline.reading.lexicon`, 86,000 dictionary lines read once, 0.1-0.2 s).
"""

from __future__ import annotations

import pipeline.deciding.decide  # noqa: F401 - imported for the forkserver to hold
import pipeline.reading.extract  # noqa: F401 - imported for the forkserver to hold
from pipeline.reading.lexicon import first_names
from pipeline.reading.scan.digit_model import digit_model
from pipeline.reading.scan.second_reader import warm_up
from pipeline.settings import IcrSettings, OcrSettings

digit_model(IcrSettings().stroke_px)
warm_up()
first_names(OcrSettings().first_names_file)
