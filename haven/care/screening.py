"""Screening public text, reviews and practices' answers, for what identifies a person or tells
about their health (CARE-3, CARE-4).

Recognisers run in presidio-analyzer on blank spaCy pipelines (tokenisers only: no model is
downloaded or loaded): presidio's own pattern recognisers for phone numbers, e-mail addresses,
dates and identity numbers, and Haven's own, written as presidio pattern recognisers too: street
addresses and written-out dates in English, Spanish and Italian, member IDs, names given with a
family relation ("my husband John"), the health-term lexicon of health_terms.toml (conditions,
medications, procedures in the three languages), and per call the names of the reviewer and their
family. Text is matched with its accents folded, so "cancer" also finds "cáncer".

Presidio and spaCy load on first use (a few seconds), once per process.
"""

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LANGUAGES = ("en", "es", "it")
LEXICON = Path(__file__).with_name("health_terms.toml")
SCORE_THRESHOLD = 0.35
MIN_NAME_LENGTH = 3


class Kind(models.TextChoices):
    NAME = "name", gettext_lazy("a name")
    DATE = "date", gettext_lazy("a date")
    PHONE = "phone", gettext_lazy("a phone number")
    EMAIL = "email", gettext_lazy("an e-mail address")
    ADDRESS = "address", gettext_lazy("a street address")
    IDENTIFIER = "identifier", gettext_lazy("an ID or account number")
    CONDITION = "condition", gettext_lazy("a health condition")
    MEDICATION = "medication", gettext_lazy("a medication")
    PROCEDURE = "procedure", gettext_lazy("a test, treatment or procedure")


# Presidio's entity names, and Haven's, mapped to what the writer is asked to remove.
ENTITIES = {
    "PHONE_NUMBER": Kind.PHONE,
    "EMAIL_ADDRESS": Kind.EMAIL,
    "DATE_TIME": Kind.DATE,
    "US_SSN": Kind.IDENTIFIER,
    "CREDIT_CARD": Kind.IDENTIFIER,
    "IBAN_CODE": Kind.IDENTIFIER,
    "ES_NIF": Kind.IDENTIFIER,
    "ES_NIE": Kind.IDENTIFIER,
    "IT_FISCAL_CODE": Kind.IDENTIFIER,
    "HAVEN_MEMBER_ID": Kind.IDENTIFIER,
    "HAVEN_ADDRESS": Kind.ADDRESS,
    "HAVEN_DATE": Kind.DATE,
    "HAVEN_RELATIVE_NAME": Kind.NAME,
    "HAVEN_PERSON_NAME": Kind.NAME,
    "HAVEN_CONDITION": Kind.CONDITION,
    "HAVEN_MEDICATION": Kind.MEDICATION,
    "HAVEN_PROCEDURE": Kind.PROCEDURE,
}


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    start: int
    end: int


def fold(text: str) -> str:
    """The text with accents removed, character for character (offsets stay valid)."""
    folded = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)
        plain = "".join(part for part in base if not unicodedata.combining(part))
        folded.append(plain[:1] if len(plain) >= 1 else char)
    return "".join(folded)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, list[str]]:
    """The health terms by category, every language together, folded and with plural forms."""
    data = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    terms: dict[str, list[str]] = {}
    for category in ("conditions", "medications", "procedures"):
        words: set[str] = set()
        for language in LANGUAGES:
            for term in data[category][language]:
                term = fold(term.strip().lower())
                if term:
                    words.add(term)
                    if term[-1].isalpha() and " " not in term:
                        words.add(term + "s")
        terms[category] = sorted(words, key=len, reverse=True)
    return terms


# --- Haven's own recognisers ---------------------------------------------------------------------

WORD = r"[A-Z][\w'’-]+"
STREET_EN = (
    r"(?i:street|st|avenue|ave|road|rd|lane|ln|drive|boulevard|blvd|court|place|way|terrace|"
    r"circle|highway|hwy|parkway|pkwy|turnpike|tpke)\.?"
)
ADDRESS_PATTERNS = [
    # 123 Maple Street, 45 N Main St.
    rf"\b\d{{1,5}}\s+(?:[NSEW]\.?\s+)?(?:{WORD}\s+){{1,3}}{STREET_EN}(?=\W|$)",
    # I live on Maple Street / we live at Oak Lane
    rf"(?i:\blive[sd]?\s+(?:on|at))\s+(?:{WORD}\s+){{1,3}}{STREET_EN}(?=\W|$)",
    # apartment and unit numbers
    r"(?i:\b(?:apartment|apt|unit|suite|piso|apartamento|interno|scala)\.?\s*#?\s*\d+[a-z]?\b)",
    # a state and a ZIP code
    r"\b(?:CT|NY|MA|RI|NJ|Connecticut)\s+\d{5}(?:-\d{4})?\b",
    # calle, avenida, plaza ... with a number
    r"(?i:\b(?:calle|c/|avenida|avda\.?|paseo|plaza|camino|carrera))\s+[\w'’.\s-]{2,40}?,?\s*(?i:n[º°o]\.?\s*)?\d{1,4}\b",
    # via, viale, piazza, corso ... with a number
    r"(?i:\b(?:via|viale|piazza|piazzale|corso|largo|vicolo|strada))\s+(?:[A-Z][\w'’.-]*\s+|(?i:di|del|della|dei|delle|degli|san|santa)\s+){1,4},?\s*(?i:n\.?\s*)?\d{1,4}\b",
]
MONTHS_EN = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
MONTHS_ES = r"(?i:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
MONTHS_IT = r"(?i:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre)"
DATE_PATTERNS = [
    rf"\b{MONTHS_EN}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b",
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS_EN}(?:,?\s+\d{{4}})?\b",
    rf"\b\d{{1,2}}\s+(?i:de)\s+{MONTHS_ES}(?:\s+(?i:de|del)\s+\d{{4}})?",
    rf"\b\d{{1,2}}[º°]?\s+{MONTHS_IT}(?:\s+\d{{4}})?",
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
    # born in 1980, nacido en 1980, nata nel 1980
    r"(?i:\b(?:born|nac[ií]d[oa]|naci|nat[oa])\s+(?:in|en|el|nel|il|on)?\s*)\d{4}\b",
]
RELATIONS_EN = (
    r"husband|wife|spouse|partner|son|daughter|child|kid|baby|mother|mom|mum|father|dad|"
    r"brother|sister|grandmother|grandma|grandfather|grandpa|grandson|granddaughter|aunt|"
    r"uncle|niece|nephew|cousin|boyfriend|girlfriend|fianc[eé]e?|stepson|stepdaughter"
)
RELATIONS_ES = (
    r"esposo|esposa|marido|mujer|pareja|hijo|hija|hijito|hijita|beb[eé]|madre|mam[aá]|padre|"
    r"pap[aá]|hermano|hermana|abuela|abuelo|nieto|nieta|t[ií]a|t[ií]o|sobrina|sobrino|primo|"
    r"prima|novio|novia|suegra|suegro"
)
RELATIONS_IT = (
    r"marito|moglie|compagno|compagna|figlio|figlia|figlioletto|bambino|bambina|madre|mamma|"
    r"padre|pap[aà]|fratello|sorella|nonna|nonno|nipote|zia|zio|cugino|cugina|fidanzato|"
    r"fidanzata|suocera|suocero"
)
NAME_PATTERNS = [
    rf"(?i:\b(?:my|our)\s+(?:little\s+|older\s+|younger\s+|elderly\s+)?(?:{RELATIONS_EN}))\s*,?\s+[A-Z][a-zà-ÿ'’-]+",
    rf"(?i:\b(?:mi|mis|nuestr[oa]s?)\s+(?:{RELATIONS_ES}))\s*,?\s+[A-Z][a-zà-ÿ'’-]+",
    rf"(?i:\b(?:mio|mia|miei|mie|nostr[oaie])\s+(?:{RELATIONS_IT}))\s*,?\s+[A-Z][a-zà-ÿ'’-]+",
    rf"(?i:\b(?:il\s+mio|la\s+mia)\s+(?:{RELATIONS_IT}))\s*,?\s+[A-Z][a-zà-ÿ'’-]+",
    r"(?i:\b(?:my\s+name\s+is|me\s+llamo|mi\s+nombre\s+es|mi\s+chiamo|il\s+mio\s+nome\s+[eè]))\s+[A-Z][a-zà-ÿ'’-]+(?:\s+[A-Z][a-zà-ÿ'’-]+)?",
    r"(?i:\b(?:patient|paciente|paziente))\s*:\s*[A-Z][a-zà-ÿ'’-]+(?:\s+[A-Z][a-zà-ÿ'’-]+)?",
]
MEMBER_ID_PATTERNS = [
    # Haven's member IDs (HVN and seven digits) and IDs in the same shape.
    r"\b[A-Z]{2,4}-?\d{6,10}\b",
    # A social security number's shape, valid or not (presidio's own checks validity).
    r"\b\d{3}-\d{2}-\d{4}\b",
    # An ID given after its name, in the three languages.
    r"(?i:\b(?:member|subscriber|policy|insurance|patient|medical\s+record|mrn)\s*(?:id|number|no\.?|#)"
    r"|\bn[uú]mero\s+de\s+(?:afiliad[oa]|soci[oa]|p[oó]liza|miembro|paciente|historia)"
    r"|\bnumero\s+(?:di\s+)?(?:tessera|polizza|socio|paziente)|\btessera\s+sanitaria"
    r"|\bcodice\s+(?:fiscale|assistito|socio))\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}",
]


def _recognisers(language: str) -> list:
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        EmailRecognizer,
        EsNieRecognizer,
        EsNifRecognizer,
        IbanRecognizer,
        ItFiscalCodeRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recogniser, checking domains against the suffix list its
        dependency ships instead of fetching the current one."""

        def validate_result(self, pattern_text: str):
            return _domain_suffixes()(pattern_text).suffix != ""

    def patterns(entity: str, regexes: list[str], flags=None) -> PatternRecognizer:
        options = {"global_regex_flags": flags} if flags is not None else {}
        return PatternRecognizer(
            supported_entity=entity,
            supported_language=language,
            name=f"{entity.title()}Recognizer",
            patterns=[Pattern(entity.lower(), regex, 0.8) for regex in regexes],
            **options,
        )

    import regex

    case_sensitive = regex.DOTALL | regex.MULTILINE
    terms = lexicon()
    found = [
        PhoneRecognizer(supported_language=language, supported_regions=("US", "ES", "IT")),
        OfflineEmailRecognizer(supported_language=language),
        DateRecognizer(supported_language=language),
        UsSsnRecognizer(supported_language=language),
        CreditCardRecognizer(supported_language=language),
        IbanRecognizer(supported_language=language),
        patterns("HAVEN_ADDRESS", ADDRESS_PATTERNS, case_sensitive),
        patterns("HAVEN_DATE", DATE_PATTERNS, case_sensitive),
        patterns("HAVEN_RELATIVE_NAME", NAME_PATTERNS, case_sensitive),
        patterns("HAVEN_MEMBER_ID", MEMBER_ID_PATTERNS, case_sensitive),
    ]
    for entity, category in (
        ("HAVEN_CONDITION", "conditions"),
        ("HAVEN_MEDICATION", "medications"),
        ("HAVEN_PROCEDURE", "procedures"),
    ):
        found.append(
            PatternRecognizer(
                supported_entity=entity,
                supported_language=language,
                name=f"{entity.title()}Recognizer",
                deny_list=terms[category],
            )
        )
    if language == "es":
        found += [
            EsNifRecognizer(supported_language="es"),
            EsNieRecognizer(supported_language="es"),
        ]
    if language == "it":
        found.append(ItFiscalCodeRecognizer(supported_language="it"))
    return found


@lru_cache(maxsize=1)
def _domain_suffixes():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=1)
def analyzer():
    """Presidio on blank spaCy pipelines, with every recogniser above, for each language."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SlimSpacyNlpEngine

    class BlankNlpEngine(SlimSpacyNlpEngine):
        """Tokenisers only (spacy.blank per language): no model is downloaded or loaded."""

        def __init__(self):
            super().__init__(
                models=[{"lang_code": "en", "model_name": "blank"}], auto_download=False
            )
            self.models = []
            self._blank_languages = set(LANGUAGES)

    engine = BlankNlpEngine()
    engine.load()
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        for recogniser in _recognisers(language):
            registry.add_recognizer(recogniser)
    return AnalyzerEngine(
        nlp_engine=engine,
        registry=registry,
        supported_languages=list(LANGUAGES),
        default_score_threshold=SCORE_THRESHOLD,
    )


def _name_recogniser(names: Iterable[str], language: str):
    from presidio_analyzer import PatternRecognizer

    words = set()
    for name in names:
        folded = fold(name.strip())
        if len(folded) >= MIN_NAME_LENGTH:
            words.add(folded)
        for part in re.split(r"[\s-]+", folded):
            if len(part) >= MIN_NAME_LENGTH:
                words.add(part)
    if not words:
        return None
    return PatternRecognizer(
        supported_entity="HAVEN_PERSON_NAME",
        supported_language=language,
        name="ReviewerNameRecognizer",
        deny_list=sorted(words, key=len, reverse=True),
    )


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _allowed(finding_text: str, allowed: Iterable[str]) -> bool:
    """The practice's own public details (its name, address, phone) may be written."""
    folded = fold(finding_text).lower().strip(" .,")
    digits = _digits(finding_text)
    for item in allowed:
        other = fold(item).lower()
        if folded and folded in other:
            return True
        if len(digits) >= 7 and digits == _digits(item)[-len(digits) :]:
            return True
    return False


def _known_member_ids(text: str) -> list[Finding]:
    """Words that are a member ID on Haven's roster, whatever their shape."""
    from haven.plans.models import Member

    candidates = {
        match.group(0): match
        for match in re.finditer(
            r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b|\b[A-Za-z]*\d[A-Za-z0-9]{4,}\b", text
        )
    }
    if not candidates:
        return []
    known = set(
        Member.objects.filter(member_id__in=list(candidates)).values_list("member_id", flat=True)
    )
    return [
        Finding(Kind.IDENTIFIER, word, match.start(), match.end())
        for word, match in candidates.items()
        if word in known
    ]


def screen(
    text: str,
    *,
    names: Iterable[str] = (),
    allowed: Iterable[str] = (),
    language: str = "",
    check_roster: bool = True,
) -> list[Finding]:
    """What in the text identifies someone or tells about their health, in order of appearance.

    `names` are the reviewer's and their family's; `allowed` the practice's own public details.
    """
    from django.utils.translation import get_language

    if not text.strip():
        return []
    language = language or (get_language() or "en")[:2]
    language = language if language in LANGUAGES else "en"
    allowed = list(allowed)
    allowed_words = {fold(word).lower() for item in allowed for word in re.split(r"[\s,.-]+", item)}
    names = [
        name
        for name in names
        if name and not all(fold(part).lower() in allowed_words for part in name.split())
    ]
    folded = fold(text)
    ad_hoc = [recogniser for recogniser in [_name_recogniser(names, language)] if recogniser]
    results = analyzer().analyze(text=folded, language=language, ad_hoc_recognizers=ad_hoc)
    findings = [
        Finding(
            ENTITIES[result.entity_type], text[result.start : result.end], result.start, result.end
        )
        for result in results
        if result.entity_type in ENTITIES
    ]
    if check_roster:
        findings += _known_member_ids(text)
    findings = [finding for finding in findings if not _allowed(finding.text, allowed)]
    return _without_overlaps(findings)


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: the longest; in order of appearance."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def explain(findings: list[Finding]) -> list[str]:
    """What to remove, in plain words, in the active language (CARE-3)."""
    labels = dict(Kind.choices)
    lines = [
        _(
            "Reviews are public, so they cannot say who you are or anything about your or your "
            "family's health. Please remove:"
        )
    ]
    for finding in findings:
        lines.append(
            _("%(what)s: “%(text)s”")
            % {"what": str(labels[finding.kind]).capitalize(), "text": finding.text}
        )
    return lines


def allowed_for(practitioner) -> list[str]:
    """A practice's own public details, which a review may mention."""
    values = [
        practitioner.first_name,
        practitioner.last_name,
        practitioner.address_line,
        practitioner.city,
        practitioner.phone,
    ]
    if practitioner.facility_id:
        facility = practitioner.facility
        values += [facility.name, facility.address_line, facility.phone]
    return [value for value in values if value]
