from haven.testing.access import SIGNED_IN, Rule

RULES = [
    Rule("caregivers:grants", allow=SIGNED_IN),
    Rule("caregivers:switch", allow=SIGNED_IN),
]
