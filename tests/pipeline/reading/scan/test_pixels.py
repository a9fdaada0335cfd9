"""Pixel helpers (``pipeline.reading.scan.pixels``): ink grown where a stroke is lighter than Otsu's level."""

from __future__ import annotations

import numpy as np

from pipeline.reading.scan.pixels import grow_ink


def test_grow_ink_completes_a_light_stroke_and_leaves_a_shadow_alone() -> None:
    """A photographed ballpoint "0" whose right half is lighter than Otsu's level, beside a grey shadow."""
    image = np.full((60, 120), 230, np.uint8)
    image[10:50, 10:14] = 40    # left stroke: dark ink
    image[10:14, 10:40] = 40    # top stroke: dark ink
    image[10:50, 36:40] = 150   # right stroke: light ink touching the top one
    image[10:50, 80:100] = 160  # a shadow on the paper, touching no ink
    mask = (image <= 60).astype(np.uint8)  # the dark strokes only, as Otsu's level keeps on a photo
    grown = grow_ink(image, mask, paper=230.0, growth=0.5)
    assert grown[30, 37] == 1  # the light stroke is made whole
    assert grown[30, 90] == 0  # the shadow stays paper
    assert np.all(grown >= mask)
