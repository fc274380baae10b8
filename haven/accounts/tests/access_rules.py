from haven.testing.access import EVERYONE, SIGNED_IN, Rule

RULES = [
    Rule("accounts:login", allow=EVERYONE, ok=(200, 302), note="signed-in users are sent home"),
    Rule("accounts:logout", method="POST", allow=EVERYONE, ok=(302,)),
    Rule("accounts:two_factor", allow=SIGNED_IN, ok=(200, 302)),
    Rule("accounts:confirm_password", allow=SIGNED_IN),
    Rule("accounts:session_status", allow=SIGNED_IN),
    Rule("accounts:session_keepalive", method="POST", allow=SIGNED_IN),
    Rule("accounts:set_language", method="POST", allow=EVERYONE, ok=(302,)),
    Rule("accounts:profile", allow=SIGNED_IN),
    Rule("accounts:register", allow=EVERYONE, ok=(200, 302)),
]
