from haven.testing.access import ALL_STAFF, EVERYONE, Rule

RULES = [
    Rule("front:home", allow=EVERYONE),
    Rule("front:staff_home", allow=ALL_STAFF),
]
