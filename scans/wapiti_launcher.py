"""Runs Debian's wapiti 3.0.4 with two of its limits made to work.

- Its crawler compiles each `-x` pattern as `...\\Z(?ms)`, which Python 3.11 refuses ("global
  flags not at the start"), so any exclusion stops the scan. The same pattern with the flags in
  front is what later wapiti releases compile.
- `--max-attack-time` is checked only between pages, after every payload for every field of a
  form: one large form can hold a module for minutes. Here the limit is also checked before each
  request a module sends, and the module ends there.

Run with /usr/bin/python3 (wapiti's own), with wapiti's arguments.
"""

import importlib
import re
import sys
import time

from wapitiCore.main.wapiti import wapiti_main
from wapitiCore.net import crawler


def wildcard_translate(pattern: str) -> re.Pattern:
    """`*` matches anything; everything else literally (as wapiti's own function)."""
    return re.compile("(?ms)" + ".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


class TimeUp(BaseException):
    """Not an Exception: wapiti's modules catch those around their requests."""


_module_deadline: list[float] = []


def _checked(send):
    def checked(self, *args, **kwargs):
        if _module_deadline and time.monotonic() > _module_deadline[0]:
            raise TimeUp
        return send(self, *args, **kwargs)

    return checked


def _limited(attack, seconds: float):
    def limited(self):
        _module_deadline[:] = [time.monotonic() + seconds]
        try:
            yield from attack(self)
        except TimeUp:
            print(f"Max attack time was reached for module {self.name}, stopping.")
        finally:
            _module_deadline.clear()

    return limited


def argument(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


crawler.wildcard_translate = wildcard_translate
for method in ("get", "post", "request", "send"):
    setattr(crawler.Crawler, method, _checked(getattr(crawler.Crawler, method)))
if argument("--max-attack-time") and argument("-m"):
    for name in argument("-m").split(","):
        module = importlib.import_module(f"wapitiCore.attack.mod_{name}")
        cls = getattr(module, f"mod_{name}")
        cls.attack = _limited(cls.attack, float(argument("--max-attack-time")))

if __name__ == "__main__":
    sys.argv[0] = "wapiti"
    sys.exit(wapiti_main())
