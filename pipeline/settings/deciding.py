"""Settings of the deciding stage: how the form's structure vouches for doubtful readings.

A section of :class:`pipeline.settings.Settings` (``CLAS_STRUCTURE__*``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StructureSettings(BaseModel):
    """Thresholds of the cross-field checks (``CLAS_STRUCTURE__*``, ``pipeline.deciding.crosscheck``): what the
    form states twice (the pupil's name on both pages, a name in its e-mail or its family) and its structure
    (issue 3's "the school matched against the directory": :func:`~pipeline.deciding.crosscheck.vouch_school`,
    :func:`~pipeline.deciding.crosscheck.vouch_town`,
    :func:`~pipeline.deciding.crosscheck.doubt_combs_of_impossible_dates`). The structural ones were measured on
    generated handwritten forms of seed 7 (30 forms) and on 18 handwritten names of schools that are not in
    the directory (db4d160).
    """

    model_config = ConfigDict(frozen=True)

    school_min_score: float = 80.0
    """A doubtful school name designates a directory school only when ``pipeline.deciding.directory.match_school``'s
    similarity (rapidfuzz, 0-100) reaches this (validation accepts 85 from a confident reading). Measured: of 30
    handwritten names of directory schools, 8 score 80 or more (all of the right school), the others 45-81;
    18 handwritten names of schools outside the directory that share a name with one of it ("École Romain
    Rolland de Sannois", "École Langevin-Wallon") score 40-80, the highest at 80.0."""
    school_margin: float = 15.0
    """... and every other school scores more than this many points (0-100) lower (validation: 6; the 8 right
    matches above lead by 29-58 points)."""
    school_read_coverage_min: float = 0.8
    """... and at least this share (0-1) of the read name's letters (kind words aside) belong to the school's
    name: the right matches above cover 0.83-1.00, the unknown schools with the highest scores 0.50-0.67
    (their extra words, "de Sayoïs" for "de Sannois")."""
    town_min_score: float = 80.0
    """A word of a school name this close (0-100) to a town of the lexicon other than the directory's city
    names that town (the school is not the city's); a town read this close to one town of the lexicon
    designates it (:func:`~pipeline.deciding.crosscheck.vouch_town`). Source: db4d160."""
    town_margin: float = 15.0
    """... when every other town is more than this many points (0-100) further. Source: db4d160."""
    town_words_max: int = 3
    """Most consecutive words of a school name joined up and compared with the lexicon's towns
    (``pipeline.deciding.towns.names_another_town``: ``Saint-Leu-la-Forêt`` written in three words). Not
    measured: set by hand in db4d160."""
    town_letters_min: int = 4
    """Fewest letters of such a word or run of words compared with the towns: shorter ones (``de``, ``la``)
    match parts of too many names. Not measured: set by hand in db4d160."""
    surname_chosen_confidence: float = 0.80
    """Confidence (0-1) of a surname whose two readers differ when exactly one of their readings is the spelling
    both readers agreed on in another surname field of the form (``crosscheck.choose_surname_by_family``). As
    ``OcrSettings.readers_chosen_confidence``: above the review threshold, under two readers' agreement. Measured
    at 815c8ce: typed 3/3 right on the devset; handwritten 12/14 on both corpora (held by the handwriting hold)."""
    surname_email_confidence: float = 0.80
    """Confidence (0-1) of a handwritten surname both readers agree on that a family e-mail's reading spells
    (``crosscheck.vouch_surname_by_email``): above the review threshold, at ``surname_chosen_confidence``'s level,
    since two zones of different glyphs read alike, each by two readers. Measured with the rule (its docstring)."""
    surname_email_letters_min: int = Field(default=4, ge=1)
    """Fewest letters (folded: no accent, space or hyphen) a surname must have for an e-mail address holding them
    to witness it: a short name (``Roy``, ``Ba``) is met by chance inside unrelated addresses (``troyes``,
    ``barbara``). Not measured: the shortest handwritten surname it lifted on both corpora has five letters
    (``MUNOZ``)."""
    email_domain_letters_per_edit: int = Field(default=7, ge=1)
    """A misread mail domain is taken for a long known one (``crosscheck.repair_domain``) when its letters are that
    domain's but for one substituted letter per this many (``ac-versailles.fr``, 14 letters: 2). Measured
    2026-12-07 on every e-mail reading of both corpora and five variants of the devset's typed referrals: 37
    readings repaired, all right (the figures are in ``repair_domain``'s docstring)."""
    email_domain_repair_letters_min: int = Field(default=10, ge=1)
    """Fewest letters (dots and hyphens aside) a known domain must have for a misread letter of it to be repaired:
    real domains lie one letter from the short ones (``ymail.com`` and ``email.com`` beside ``gmail.com``, 8
    letters), found by a review on 2026-12-07. 10 keeps ``laposte.net`` and ``ac-versailles.fr`` in reach and
    every 8- and 9-letter consumer domain out."""
    vouched_confidence: float = 0.9
    """Confidence (0-1) given to a vouched value, never above its witnesses'. Not measured: set by hand in
    db4d160."""
    impossible_date_confidence: float = 0.2
    """Confidence (0-1) every comb of a form is held to when one of its dates, read confidently, is impossible
    for the form (:func:`~pipeline.deciding.crosscheck.doubt_combs_of_impossible_dates`): below every review
    threshold. Not measured: set by hand in ebf59af."""
    birth_year_slack: int = 1
    """Years beyond ``validate.expected_birth_years``' range (itself one year either side of the level's cohort)
    a birth date may lie before it is impossible rather than implausible: two years ahead or behind happens
    (newly arrived pupils) and is for validation to question, not a sign of misread digits. Not measured: set
    by hand in ebf59af."""
    repeat_conflict_share: float = 0.9
    """Two confident readings of one name that disagree (a name and its page-2 repeat, or a near miss) are held
    at this share (0-1) of the review threshold: under it, so a person decides, with the percentage shown to
    staff still saying the reading was nearly sure. Not measured: set by hand in 95192ab."""
    short_form_min: int = 4
    """Shortest first-name short form (letters) accepted in an address (``nath``, ``fred``); three letters would
    let too many unrelated words pass as the start of some name. Not measured: set by hand in 5a1d042."""
    short_form_cut: int = 3
    """Letters a short form leaves out at least: a name missing its last letter or two (``gregoir``) is a
    misreading to show a person, not a short form. Not measured: set by hand in 5a1d042."""
    near_miss_min_letters: int = 4
    """Shortest folded word (letters) compared for a near miss: titles and initials (``mme``, ``a``) are not
    names. Not measured: set by hand in b69bfbd."""
    near_miss_one_edit_max_letters: int = 8
    """Longest name (letters) two spellings of which may differ by one letter only and still be one name
    misread; longer names may differ by two (``leclerca`` for ``leclercq``, issue 3). Two different family
    names two letters apart (``PELTIER``, ``POTIER``) met on one invented form in 3,000. Source: b69bfbd."""
