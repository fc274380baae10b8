"""The labelled review set (review_set.json) and how the screening scores on it (CARE-3)."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from haven.care import screening

SET = Path(__file__).with_name("review_set.json")


@dataclass
class Score:
    language: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (
            self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
        )

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        disclosing = self.true_positives + self.false_negatives
        return self.true_positives / disclosing if disclosing else 1.0


def load() -> dict:
    return json.loads(SET.read_text(encoding="utf-8"))


def score() -> dict[str, Score]:
    """Screen every review of the set as the reviewer it names; scores by language and "all"."""
    data = load()
    scores = {language: Score(language) for language in screening.LANGUAGES} | {"all": Score("all")}
    for item in data["reviews"]:
        findings = screening.screen(
            item["text"],
            names=data["reviewer_names"],
            allowed=data["practice"],
            language=item["language"],
            check_roster=False,
        )
        flagged = bool(findings)
        for key in (item["language"], "all"):
            entry = scores[key]
            if item["discloses"] and flagged:
                entry.true_positives += 1
            elif item["discloses"]:
                entry.false_negatives += 1
                entry.misses.append(item["text"])
            elif flagged:
                entry.false_positives += 1
                entry.false_alarms.append(f"{item['text']} -> {[f.text for f in findings]}")
            else:
                entry.true_negatives += 1
    return scores
