"""The period a question names: "last week", "on Monday", "in March 2023", "in 2004".

Relative phrases are read against the question's reference date (today, `--as-of`, or
an eval question's date). Weeks are the 7 days up to a day, as news uses them: asked on
2023-01-05, "this week" is 2022-12-30..2023-01-05 and "last week" 2022-12-23..29.
No period runs past the reference date ("this month" ends on 2023-01-05); "since
March" runs from March to it, and "before 2020" ends where 2020 begins.
The retriever then prefers articles inside the period instead of those nearest the
reference date: "What did Lavrov say in September 2004?" favours September 2004 even
when the index also holds this week's news.

A pattern finds the phrase and dateparser reads it, so a question with no such phrase
never imports dateparser.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# A month, named in full or cut to its first three letters ("Sept" too).
_MONTH = "|".join(
    rf"{name[:3]}t?(?:{name[4:]})?" if name == "september" else rf"{name[:3]}(?:{name[3:]})?"
    for name in (m.lower() for m in calendar.month_name[1:])
)
_WEEKDAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_UNIT = r"day|week|weekend|month|year"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_PREPOSITION = r"in|on|during|since|by|from|until|before|after"
# The phrases that name a time, found here and read by dateparser. Bare years and
# months need a preposition ("in 2004", "in March"): "the 2026 World Cup", "1900
# passengers" and "May the ..." are not dates of the question.
_PHRASE = re.compile(
    rf"""\b(?:(?:{_PREPOSITION})\s+)?(?:
        \d{{4}}-\d\d-\d\d
      | (?:{_MONTH})\.?\s+{_DAY}(?:,?\s+{_YEAR})?
      | {_DAY}\s+(?:{_MONTH})\.?(?:,?\s+{_YEAR})?
      | (?:{_MONTH})\.?,?\s+{_YEAR}
    )\b
    | \b(?:{_PREPOSITION}|early|late|mid)[\s-]+(?:{_MONTH}|{_YEAR})\b
    | \b(?:
        yesterday|today|tonight
      | (?:this|last)\s+(?:{_UNIT}|{_WEEKDAY})
      | (?:on|last)\s+(?:{_WEEKDAY})
      | (?:a|an|one|two|three|four|five|six|\d+)\s+(?:{_UNIT})s?\s+ago
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_LEADING_WORD = re.compile(rf"^(?:{_PREPOSITION}|early|late|mid)[\s-]+", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, inclusive, and the words that named them."""

    start: date
    end: date
    text: str

    def days_outside(self, day: date) -> int:
        """0 inside the period, else the days to its nearer end."""
        return max(0, (self.start - day).days, (day - self.end).days)


def mentioned_period(question: str, reference: date) -> Period | None:
    """The first period the question names, read as of `reference`; None if none."""
    phrases = [m.group(0) for m in _PHRASE.finditer(question)]
    if not phrases:
        return None
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": datetime.combine(reference, time()),
        "PREFER_DATES_FROM": "past",
        "RETURN_TIME_AS_PERIOD": True,
    }
    parser = DateDataParser(languages=["en"], settings=settings)  # type: ignore[arg-type]
    for text in phrases:
        found = parser.get_date_data(_LEADING_WORD.sub("", text))
        if found and found.date_obj:
            start, end = _span(found.date_obj.date(), found.period or "day")
            start, end = _open_ended(text.split()[0].lower(), start, end, reference)
            if start <= reference < end:  # nothing is published after the reference yet
                end = reference
            return Period(start, end, text)
    return None


def _open_ended(word: str, start: date, end: date, reference: date) -> tuple[date, date]:
    """ "since/after March": from March on; "before/until/by March": up to it."""
    day = timedelta(days=1)
    if word in ("since", "after"):
        return (start if word == "since" else end + day), max(reference, end + day)
    if word in ("before", "until", "by"):
        return date.min, (start - day if word == "before" else end)
    return start, end


def _span(day: date, unit: str) -> tuple[date, date]:
    if unit == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if unit == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    if unit == "week":  # news weeks roll: "this week" is the 7 days up to today
        return day - timedelta(days=6), day
    return day, day
