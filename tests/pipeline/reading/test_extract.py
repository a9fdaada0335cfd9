"""Doubtful fields of a scan keep their crop for the review page; confident ones do not."""

from __future__ import annotations

import io
import random
from pathlib import Path

from pipeline.reading.extract import read_document
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from samples.scanner import random_scan
from schemas.directory import Directory
from schemas.document import MediaType


def test_only_doubtful_fields_keep_a_crop(tmp_path: Path, settings: Settings, directory: Directory,
                                          monkeypatch) -> None:  # noqa: ANN001
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 8, directory)[0]
    values, form_id = doc.truth["values"], doc.truth["form_id"]
    page = random_scan(values, form_id, 1, random.Random(3), dpi=200, mode="grey")
    path = tmp_path / "p1.png"
    buf = io.BytesIO()
    page.save(buf, format="PNG", dpi=(200, 200))
    path.write_bytes(buf.getvalue())
    # A threshold above every confidence makes every field doubtful; 0 makes none.
    for threshold, expect_crops in ((1.01, True), (0.0, False)):
        monkeypatch.setenv("CLAS_OCR__TEXT_CONFIDENCE_MIN", str(threshold))
        monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / f"data{threshold}"))
        s = Settings()
        [reading] = read_document(path, MediaType.PNG, s)
        crops_dir = s.data_dir / "crops" / form_id / "p1"
        crops = sorted(p.stem for p in crops_dir.glob("*.png")) if crops_dir.exists() else []
        if expect_crops:
            assert set(crops) == set(reading.fields)
            assert (crops_dir / "pupil_surname.png").stat().st_mode & 0o077 == 0
        else:
            assert crops == []


def test_a_fax_keeps_the_words_both_readers_read_alike_and_holds_the_others() -> None:
    from pipeline.form.definition import PageIdentity
    from pipeline.reading.extract import doubt_text_zones
    from pipeline.reading.scan.page import ScanPageResult
    from schemas.extraction import Doubt, ExtractedField, Reader, ReaderReading, Source, ZoneBox

    zone = ZoneBox(x0=0, top=0, x1=10, bottom=10)

    def field(name: str, value: str, rules: tuple[str, ...], read: tuple[str, str] | None = None) -> ExtractedField:
        tesseract, ppocr = read or (value, value)
        return ExtractedField(name=name, value=value, confidence=0.95, source=Source.OCR, page=2, zone=zone,
                              rules=rules, readings=(ReaderReading(reader=Reader.TESSERACT, value=tesseract),
                                                     ReaderReading(reader=Reader.PPOCR, value=ppocr)))

    fields = {"guardian1_surname": field("guardian1_surname", "RIOU", ("readers_agree",)),
              "guardian1_first_name": field("guardian1_first_name", "Anais", ("readers_differ", "first_name_lexicon")),
              "guardian1_email": field("guardian1_email", "honore.sauvage@free.tr", ("readers_agree",)),
              "guardian2_email": field("guardian2_email", "honore.sauvage@free.fr", ("fix_email", "readers_agree")),
              "guardian1_phone": field("guardian1_phone", "0612345678", ()),  # a comb: not a word
              # Two engines read these alike: but for a speck at one end, and Tesseract again at another scale.
              "guardian2_surname": field("guardian2_surname", "GILLET", ("readers_differ", "readers_agree_edges"),
                                         ("GILLET.", "GILLET")),
              # Agreed but for a speck, then replaced by a listed name (a handwritten zone's decoding): not as read.
              "guardian2_first_name": field("guardian2_first_name", "Marine",
                                            ("readers_differ", "readers_agree_edges", "handwriting_hold",
                                             "constrained_first_name"), ("Mrine.", "Mrine")),
              "referrer_name": field("referrer_name", "M. Laroche, directeur",
                                     ("readers_differ", "third_reading_agrees")),
              "home_languages": field("home_languages", "arabe, français", ("readers_differ", "language_lexicon"))}
    result = ScanPageResult(PageIdentity("FO-2026-000001", 1, 2, 2), 0, 100.0, 0.5, 5, fields)

    held = doubt_text_zones(result, 0.2).fields

    assert held["guardian1_surname"].confidence == 0.95 and held["guardian1_surname"].doubt is None
    assert held["guardian1_surname"].rules == ("readers_agree", "low_resolution_readers_agree")
    for name in ("guardian2_email", "guardian2_surname", "referrer_name"):  # two engines read them alike
        assert held[name].confidence == 0.95 and held[name].rules[-1] == "low_resolution_readers_agree", name
    # Chosen by a lexicon between two different readings; agreed on an unknown domain.
    for name in ("guardian1_first_name", "guardian1_email", "home_languages", "guardian2_first_name"):
        assert held[name].confidence == 0.2 and held[name].doubt is Doubt.LOW_RESOLUTION, name
        assert held[name].rules[-1] == "low_resolution_hold"
    assert held["guardian1_phone"] == fields["guardian1_phone"]
    # The same local part read by both, the known domain by one of them: agreed as an address on a known domain is.
    mail = {"guardian1_email": field("guardian1_email", "h.couturier@free.fr",
                                     ("readers_differ", "email_domain_lexicon"))}
    kept = doubt_text_zones(ScanPageResult(PageIdentity("FO-2026-000001", 1, 2, 2), 0, 100.0, 0.5, 5, mail), 0.2)
    assert kept.fields["guardian1_email"].confidence == 0.95
