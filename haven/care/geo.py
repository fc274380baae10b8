"""Where someone searches from: the ZIP table Haven ships, geocoding of what the user types, the
approximate location of an IP address, and distances (CARE-1, CON-3, LOG-6).

Nothing here is looked up outside Haven. A typed ZIP code or city is found in
`ct_zip_centroids.json` (approximate town centres of the demo region, Connecticut); an IP address
is located only when the operator configures a MaxMind-format database (HAVEN_GEOIP_PATH), read
with the `maxminddb` package; set without it, Haven refuses to start (ImproperlyConfigured). No position is ever stored: callers use it for one search.
"""

import ipaddress
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

EARTH_RADIUS_MILES = 3958.8
MILES_PER_DEGREE_LATITUDE = 2 * math.pi * EARTH_RADIUS_MILES / 360
ZIP_TABLE = Path(__file__).with_name("ct_zip_centroids.json")
ZIP_PATTERN = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


class Source:
    ZIP = "zip"
    CITY = "city"
    PRECISE = "precise"
    APPROXIMATE = "approximate"


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    source: str
    # What the user typed, as found: "06103 (Hartford)" or "Hartford". Empty for positions from
    # the browser or the IP address, which are never shown back or kept.
    label: str = ""


def normalise(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: how names are stored and searched."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.lower().split())


def name_words(text: str) -> list[str]:
    """The words a name is found by: "Ji-woo Kim" gives ji, woo, jiwoo and kim."""
    words = []
    for part in normalise(text).split():
        pieces = [piece for piece in re.split(r"[^a-z0-9]+", part) if piece]
        joined = "".join(pieces)
        for word in [*pieces, joined]:
            if word and word not in words:
                words.append(word[:60])
    return words


def sort_name(first_name: str, last_name: str) -> str:
    """The order names are listed in: last name, then first name, normalised."""
    return normalise(f"{last_name} {first_name}")[:201]


@lru_cache(maxsize=1)
def zip_table() -> dict[str, tuple[str, float, float]]:
    data = json.loads(ZIP_TABLE.read_text(encoding="utf-8"))
    return {row[0]: (row[1], float(row[2]), float(row[3])) for row in data["rows"]}


@lru_cache(maxsize=1)
def city_table() -> dict[str, tuple[str, float, float]]:
    """Each city of the ZIP table at the mean of its ZIP codes' coordinates."""
    gathered: dict[str, list[tuple[str, float, float]]] = {}
    for city, latitude, longitude in zip_table().values():
        gathered.setdefault(normalise(city), []).append((city, latitude, longitude))
    return {
        key: (
            rows[0][0],
            sum(row[1] for row in rows) / len(rows),
            sum(row[2] for row in rows) / len(rows),
        )
        for key, rows in gathered.items()
    }


def geocode(text: str) -> Position | None:
    """A ZIP code or city of the shipped table in what the user typed (a whole address works: its
    ZIP code first, else the longest city name in it), or None."""
    table = zip_table()
    for match in reversed(ZIP_PATTERN.findall(text)):
        if match in table:
            city, latitude, longitude = table[match]
            return Position(latitude, longitude, Source.ZIP, f"{match} ({city})")
    words = f" {re.sub(r'[^a-z0-9]+', ' ', normalise(text))} "
    cities = city_table()
    for key in sorted(cities, key=len, reverse=True):
        if f" {key} " in words:
            city, latitude, longitude = cities[key]
            return Position(latitude, longitude, Source.CITY, city)
    return None


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(position: Position, miles: float) -> tuple[float, float, float, float]:
    """Latitude and longitude ranges that hold every point within `miles` of the position."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    dlon = miles / (
        MILES_PER_DEGREE_LATITUDE * max(0.01, math.cos(math.radians(position.latitude)))
    )
    return (
        position.latitude - dlat,
        position.latitude + dlat,
        position.longitude - dlon,
        position.longitude + dlon,
    )


def precise(latitude: float, longitude: float) -> Position | None:
    """The browser's position, if it is a real one."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Position(latitude, longitude, Source.PRECISE)


# --- Approximate location from the IP address (LOG-6) ------------------------------------------


@lru_cache(maxsize=2)
def _geoip_reader(path: str):
    """The operator's MaxMind-format database. Configured but unusable (the `maxminddb` package
    missing, or the file unreadable) is a mistake to fix, not a reason to go without quietly."""
    try:
        import maxminddb
    except ImportError as error:
        raise ImproperlyConfigured(
            "HAVEN_GEOIP_PATH is set but the maxminddb package is not installed: install it "
            "(pip install 'maxminddb>=2.6') or unset HAVEN_GEOIP_PATH."
        ) from error
    try:
        return maxminddb.open_database(path)
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(
            f"HAVEN_GEOIP_PATH={path!r} cannot be opened as a MaxMind database: {error}"
        ) from error


def geoip_check() -> None:
    """At start-up (CareConfig.ready): raise ImproperlyConfigured if HAVEN_GEOIP_PATH is set
    and cannot be used."""
    path = getattr(settings, "HAVEN_GEOIP_PATH", None)
    if path:
        _geoip_reader(str(path))


def geoip_configured() -> bool:
    path = getattr(settings, "HAVEN_GEOIP_PATH", None)
    return bool(path) and _geoip_reader(str(path)) is not None


def approximate_position(ip_address: str) -> Position | None:
    """Where an IP address roughly is (city level, rounded to about a mile), or None.

    Used only to sort one search by distance; never stored, logged or linked to an account.
    """
    path = getattr(settings, "HAVEN_GEOIP_PATH", None)
    if not path or not ip_address:
        return None
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return None
    if not address.is_global:
        return None
    reader = _geoip_reader(str(path))
    try:
        record = reader.get(str(address))
    except ValueError:
        return None
    location = (record or {}).get("location") or {}
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return Position(round(float(latitude), 2), round(float(longitude), 2), Source.APPROXIMATE)
