from haven.testing.access import STAFF, Rule

RULES = [
    Rule(
        "analytics:report",
        allow={STAFF["compliance"], STAFF["privacy_officer"], STAFF["administrator"]},
    ),
]
