"""The period a question names: "last week", "on Monday", "in March 2023", "in 2004".

Relative phrases are read against the question's reference date (today, `--as-of`, or
an eval question's date), so "last week" asked on 2023-01-05 is 2022-12-26..2023-01-01.
The retriever then prefers articles inside the period instead of those nearest the
reference date: "What did Lavrov say in September 2004?" favours September 2004 even
when the index also holds this week's news.

dateparser finds and reads the phrase. Matches that are rarely dates in a question
("May the ...", a bare month without a preposition) are ignored, and questions with no
time word at all skip dateparser (and its import) entirely.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_RELATIVE = (
    r"yesterday|today|tonight|week|weekend|month|year|ago"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_YEAR = r"(?:19|20)\d\d"
_CANDIDATE = re.compile(rf"\b(?:{_MONTH}|{_RELATIVE}|{_YEAR})\b", re.IGNORECASE)
_TRUSTED = re.compile(rf"\b(?:{_RELATIVE}|{_YEAR})\b|\d{{4}}-\d\d-\d\d", re.IGNORECASE)
_MONTH_AFTER_PREPOSITION = re.compile(
    rf"^(?:in|on|since|during|of|by|until|from|early|late|mid)\b.*\b(?:{_MONTH})\b",
    re.IGNORECASE,
)


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
    if not _CANDIDATE.search(question):
        return None
    from dateparser.date import DateDataParser
    from dateparser.search import search_dates

    settings = {
        "RELATIVE_BASE": datetime.combine(reference, time()),
        "PREFER_DATES_FROM": "past",
        "RETURN_TIME_AS_PERIOD": True,
    }
    parser = DateDataParser(languages=["en"], settings=settings)  # type: ignore[arg-type]
    for text, _ in search_dates(question, languages=["en"], settings=settings) or []:
        if not (_TRUSTED.search(text) or _MONTH_AFTER_PREPOSITION.match(text.strip())):
            continue
        found = parser.get_date_data(text)
        if found and found.date_obj:
            start, end = _span(found.date_obj.date(), found.period or "day")
            return Period(start, end, text.strip())
    return None


def _span(day: date, unit: str) -> tuple[date, date]:
    if unit == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if unit == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    if unit == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day, day
