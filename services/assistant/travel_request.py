"""What a traveller asks for, read from plain English by rules. No transport here.

"Plan 4 days in Lisbon from London in May for two, about 2000 euros, we love food and
museums" becomes a TravelRequest: where, from where, when or how long, who (adults,
children and their ages), budget and currency, interests, dietary and accessibility
needs, pace, no flying, rooms. What the rules cannot place is left unset, never guessed;
the offline assistant and the planner say what they assumed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "couple of": 2, "few": 3,
}  # fmt: skip
_NUMBER = r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen)"
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_PLACE = r"([A-Z][\w'.-]*(?:[ -](?:de |do |da |del |la |le |upon |on )?[A-Z][\w'.-]*){0,3})"

_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_LENGTH = re.compile(rf"\b{_NUMBER}[ -](day|night|week)s?\b", re.I)
_WEEK = re.compile(r"\b(?:a|one)\s+(?:[a-z-]+\s+)?week\b|\bweek-long\b", re.I)
_WEEKEND = re.compile(r"\bweekend\b", re.I)
_MONTH = re.compile(r"\b(?:in|during|this|next|for)\s+(" + "|".join(_MONTHS) + r")\b", re.I)
_ORIGIN = re.compile(rf"\bfrom\s+{_PLACE}")
_DESTINATION = re.compile(rf"\b(?:in|to|visit(?:ing)?|around|explore|exploring)\s+{_PLACE}")
_ADULTS = re.compile(rf"\b{_NUMBER}\s+(?:adults?|grown-?ups?|people|persons|travell?ers)\b", re.I)
_FOR_N = re.compile(
    rf"\bfor\s+{_NUMBER}\b(?!\s*(?:days?|nights?|weeks?|rooms?|euros?|dollars?))", re.I
)
_COUPLE = re.compile(r"\b(?:couple|my (?:wife|husband|partner)|the two of us)\b", re.I)
_SOLO = re.compile(r"\b(?:solo|alone|just me|by myself|on my own)\b", re.I)
_CHILDREN = re.compile(
    rf"\b{_NUMBER}\s+(?:children|child|kids?|sons?|daughters?|toddlers?|babies|baby)\b", re.I
)
_FAMILY_OF = re.compile(rf"\bfamily of\s+{_NUMBER}\b", re.I)
_AGES = re.compile(r"\b(?:aged?|ages)\s+((?:\d{1,2}(?:\s*(?:,|and|&)\s*)?)+)", re.I)
_BUDGET = re.compile(
    r"(?P<pre>[€$£])\s*(?P<a>\d[\d,.]*)\s*(?P<k>k)?\b"
    r"|\b(?P<b>\d[\d,.]*)\s*(?P<k2>k)?\s*(?P<unit>euros?|eur|dollars?|usd|pounds?|gbp|sterling)\b",
    re.I,
)
_ROOMS = re.compile(rf"\b{_NUMBER}\s+(?:hotel\s+)?rooms?\b", re.I)
_NO_FLYING = re.compile(
    r"\b(?:no fl(?:ying|ights?)|without fl(?:ying|ights?)|don'?t (?:want to )?fly|"
    r"not fly|by (?:train|rail|car|bus|ferry)|overland)\b",
    re.I,
)
_CURRENCIES = {
    "€": "EUR", "$": "USD", "£": "GBP", "euro": "EUR", "eur": "EUR", "dollar": "USD",
    "usd": "USD", "pound": "GBP", "gbp": "GBP", "sterling": "GBP",
}  # fmt: skip

INTERESTS = {
    "food": ("food", "foodie", "eat", "eating", "cuisine", "restaurants", "gastronomy"),
    "museums": ("museum", "museums", "galleries", "gallery"),
    "art": ("art", "arts"),
    "history": ("history", "historic", "historical", "castles", "ruins"),
    "architecture": ("architecture", "buildings", "churches", "cathedrals"),
    "beaches": ("beach", "beaches", "sea", "swimming"),
    "nature": ("nature", "hiking", "hikes", "parks", "gardens", "outdoors", "mountains"),
    "nightlife": ("nightlife", "bars", "clubs", "party"),
    "shopping": ("shopping", "markets", "shops"),
    "wine": ("wine", "wineries", "vineyards"),
    "music": ("music", "concerts", "fado", "jazz"),
}
DIETS = {
    "vegetarian": ("vegetarian", "veggie", "no meat", "don't eat meat"),
    "vegan": ("vegan",),
    "gluten-free": ("gluten-free", "gluten free", "coeliac", "celiac"),
    "halal": ("halal",),
    "kosher": ("kosher",),
    "pescatarian": ("pescatarian",),
    "nut allergy": ("nut allergy", "allergic to nuts", "peanut"),
}
ACCESS = {
    "wheelchair": ("wheelchair",),
    "step-free": ("step-free", "step free", "no stairs", "limited mobility", "reduced mobility"),
}
PACES = {
    "relaxed": ("relaxed", "slow", "easy", "laid-back", "laid back", "leisurely", "chill"),
    "packed": ("packed", "busy", "full days", "see everything", "intense", "fast-paced"),
}


@dataclass(frozen=True)
class TravelRequest:
    destination: str | None = None
    origin: str | None = None
    start: date | None = None
    end: date | None = None  # the last day
    adults: int | None = None
    children: int = 0
    child_ages: tuple[int, ...] = ()
    budget: Decimal | None = None
    currency: str | None = None
    interests: tuple[str, ...] = ()
    dietary: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    pace: str | None = None
    no_flying: bool = False
    rooms: int | None = None
    room_type: str | None = None  # e.g. "family", matched against the stays' room types
    amenities: tuple[str, ...] = ()  # every stay must have these, e.g. "wifi"

    @property
    def days(self) -> int | None:
        return (self.end - self.start).days + 1 if self.start and self.end else None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _found(text: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    lower = text.lower()
    return tuple(
        key for key, words in table.items()
        if any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lower) for w in words)
    )  # fmt: skip


def _not_a_month(place: str) -> bool:
    return place.split()[0].lower() not in _MONTHS


def _length_days(text: str) -> int | None:
    if match := _LENGTH.search(text):
        n, unit = _number(match.group(1)), match.group(2).lower()
        return n * 7 if unit == "week" else n + 1 if unit == "night" else n
    if _WEEK.search(text):
        return 7
    if _WEEKEND.search(text):
        return 2
    return None


def _dates(text: str, today: date) -> tuple[date | None, date | None]:
    explicit = []
    for found in _ISO.findall(text):
        try:
            explicit.append(date.fromisoformat(found))
        except ValueError:
            continue
    length = _length_days(text)
    if len(explicit) >= 2:
        return min(explicit), max(explicit)
    start = explicit[0] if explicit else None
    if start is None and (match := _MONTH.search(text)):
        month = _MONTHS[match.group(1).lower()]
        # The 10th, clear of month-end rushes; this month while days of it are left.
        start = date(today.year if month >= today.month else today.year + 1, month, 10)
        if month == today.month and start < today + timedelta(days=3):
            start = today + timedelta(days=3)
            if start.month != month:
                start = date(today.year + 1, month, 10)
    if start is None and length is not None:
        start = today + timedelta(days=28)
    if start is None:
        return None, None
    return start, start + timedelta(days=(length or 1) - 1) if length or explicit else None


def _budget(text: str) -> tuple[Decimal | None, str | None]:
    for match in _BUDGET.finditer(text):
        digits = (match.group("a") or match.group("b") or "").replace(",", "")
        try:
            amount = Decimal(digits)
        except InvalidOperation:
            continue
        if match.group("k") or match.group("k2"):
            amount *= 1000
        unit = (match.group("pre") or match.group("unit") or "").lower().rstrip("s")
        return amount, _CURRENCIES.get(unit, _CURRENCIES.get(unit[:3]))
    return None, None


def _travellers(text: str) -> tuple[int | None, int, tuple[int, ...]]:
    adults: int | None = None
    if match := _ADULTS.search(text):
        adults = _number(match.group(1))
    elif _SOLO.search(text):
        adults = 1
    elif _COUPLE.search(text):
        adults = 2
    elif match := _FOR_N.search(text):
        adults = _number(match.group(1))
    children = _number(m.group(1)) if (m := _CHILDREN.search(text)) else 0
    if match := _FAMILY_OF.search(text):
        total = _number(match.group(1))
        adults = adults or min(2, total)
        children = children or max(0, total - adults)
    ages = (
        tuple(int(a) for a in re.findall(r"\d{1,2}", m.group(1)))
        if (m := _AGES.search(text))
        else ()
    )
    if ages and not children:
        children = len(ages)
    return adults, children, ages[:children] if children else ()


def parse(text: str, today: date) -> TravelRequest:
    start, end = _dates(text, today)
    budget, currency = _budget(text)
    adults, children, ages = _travellers(text)
    found = next((m for m in _ORIGIN.finditer(text) if _not_a_month(m.group(1))), None)
    origin = found.group(1) if found else None
    # The origin's own words are no destination; the same city may be both.
    destination = next(
        (m.group(1) for m in _DESTINATION.finditer(text)
         if _not_a_month(m.group(1)) and not (found and m.start(1) == found.start(1))),
        None,
    )  # fmt: skip
    paces = _found(text, PACES)
    rooms = _number(m.group(1)) if (m := _ROOMS.search(text)) else None
    return TravelRequest(
        destination=destination,
        origin=origin,
        start=start,
        end=end,
        adults=adults,
        children=children,
        child_ages=ages,
        budget=budget,
        currency=currency,
        interests=_found(text, INTERESTS),
        dietary=_found(text, DIETS),
        accessibility=_found(text, ACCESS),
        pace=paces[0] if paces else None,
        no_flying=bool(_NO_FLYING.search(text)),
        rooms=rooms,
    )
