"""A field's evidence as staff read it on the review desk: what each reader read, and what each rule did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.reading.rules import rules_fr

READER_LABELS_FR = {"acroform": "Le champ du PDF", "text_layer": "Le texte du PDF", "tesseract": "Tesseract",
                    "ppocr": "PP-OCRv6", "digit_model": "Le modèle de chiffres", "omr": "La lecture des cases",
                    "ppocr_constrained": "PP-OCRv6 contraint aux valeurs permises du champ",
                    "tesseract_rescaled": "Tesseract (zone relue seule, à une autre échelle)",
                    "ppocr_grey": "PP-OCRv6 (zone de la photo relue telle quelle, sans préparation)"}
"""French names of the readers (``schemas.extraction.Reader`` values)."""


def evidence_lines_fr(evidence: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A field's stored evidence (``FieldResultRow.evidence``) as French lines: one per reader, then one per rule.

    ``Tesseract a lu « Lucas » (94 %)``, ``PP-OCRv6 n'a rien lu``, then each rule's sentence
    (:func:`pipeline.reading.rules.rules_fr`). Empty when nothing was recorded (fields read before issue 16).
    """
    if not evidence:
        return ()
    lines = []
    for r in evidence.get("readings", []):
        who = READER_LABELS_FR.get(str(r.get("reader")), str(r.get("reader")))
        if r.get("value") is None:
            lines.append(f"{who} n'a rien lu.")
        else:
            score = f" ({r['score']:.0%})" if isinstance(r.get("score"), (int, float)) else ""
            lines.append(f"{who} a lu « {r['value']} »{score}.")
    rules = [str(n) for n in evidence.get("rules", [])]
    return (*lines, *(f"Règle : {line}" for line in rules_fr(rules)))
