"""Times, weekdays and counts written out in words, per language, for text-to-speech.

espeak reads ``08:00-20:00`` as a string of digits, and it cannot decline a weekday after a
preposition; so the clinic's hours are spelled here the way a receptionist would say them:
"з понеділка по п'ятницю з восьмої до двадцятої", "с понедельника по пятницу с восьми до
двадцати", "Monday to Friday, from eight in the morning to eight in the evening".  Plain counts
(prices, minutes) stay digits: espeak reads those correctly in each language.

Intervals are seconds since local midnight, as in :mod:`routing.hours` (86400 = midnight).
"""

from __future__ import annotations

from collections.abc import Sequence

# --- Ukrainian -----------------------------------------------------------------------------
# Hours as "з восьмої до двадцятої" (ordinal, feminine genitive: "години" is implied).
_UK_HOUR = (
    "півночі", "першої", "другої", "третьої", "четвертої", "п'ятої", "шостої", "сьомої",
    "восьмої", "дев'ятої", "десятої", "одинадцятої", "дванадцятої", "тринадцятої",
    "чотирнадцятої", "п'ятнадцятої", "шістнадцятої", "сімнадцятої", "вісімнадцятої",
    "дев'ятнадцятої", "двадцятої", "двадцять першої", "двадцять другої", "двадцять третьої",
    "півночі",
)  # fmt: skip
_UK_UNITS_GEN = ("", "однієї", "двох", "трьох", "чотирьох", "п'яти", "шести", "семи", "восьми",
                 "дев'яти")  # fmt: skip
_UK_TEENS_GEN = (
    "десяти", "одинадцяти", "дванадцяти", "тринадцяти", "чотирнадцяти", "п'ятнадцяти",
    "шістнадцяти", "сімнадцяти", "вісімнадцяти", "дев'ятнадцяти",
)  # fmt: skip
_UK_TENS_GEN = ("", "", "двадцяти", "тридцяти", "сорока", "п'ятдесяти")
_UK_DAY_ACC = ("понеділок", "вівторок", "середу", "четвер", "п'ятницю", "суботу", "неділю")
_UK_DAY_GEN = ("понеділка", "вівторка", "середи", "четверга", "п'ятниці", "суботи", "неділі")

# --- Russian -------------------------------------------------------------------------------
# Hours as "с восьми до двадцати" (cardinal, genitive).
_RU_HOUR = (
    "полуночи", "часа", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми",
    "девяти", "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати",
    "пятнадцати", "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати", "двадцати",
    "двадцати одного", "двадцати двух", "двадцати трёх", "полуночи",
)  # fmt: skip
_RU_UNITS_GEN = ("", "одной", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми",
                 "девяти")  # fmt: skip
_RU_TEENS_GEN = (
    "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати", "пятнадцати",
    "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати",
)  # fmt: skip
_RU_TENS_GEN = ("", "", "двадцати", "тридцати", "сорока", "пятидесяти")
_RU_DAY_ACC = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")
_RU_DAY_GEN = ("понедельника", "вторника", "среды", "четверга", "пятницы", "субботы",
               "воскресенья")  # fmt: skip

# --- English -------------------------------------------------------------------------------
_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty")
_EN_DAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_AND = {"uk": "та", "ru": "и", "en": "and"}
_CLOSED_DAY = {"uk": "вихідний", "ru": "выходной", "en": "closed"}


def _genitive(n: int, units: Sequence[str], teens: Sequence[str], tens: Sequence[str]) -> str:
    """1..59 in the genitive, from the language's tables."""
    if n < 10:
        return units[n]
    if n < 20:
        return teens[n - 10]
    return f"{tens[n // 10]} {units[n % 10]}".strip()


def _en_number(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    tens, ones = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def clock(language: str, seconds: int) -> str:
    """A wall-clock time as said after "from"/"to" ("з восьмої тридцяти", "nine thirty in the
    morning")."""
    hour, minute = divmod(seconds // 60, 60)
    if language == "en":
        return _en_clock(hour, minute)
    if language == "ru":
        words, minutes = _RU_HOUR[hour], _genitive(minute, _RU_UNITS_GEN, _RU_TEENS_GEN,
                                                   _RU_TENS_GEN)  # fmt: skip
        zero = "ноль"
    else:
        words, minutes = _UK_HOUR[hour], _genitive(minute, _UK_UNITS_GEN, _UK_TEENS_GEN,
                                                   _UK_TENS_GEN)  # fmt: skip
        zero = "нуль"
    if minute == 0:
        return words
    return f"{words} {zero} {minutes}" if minute < 10 else f"{words} {minutes}"


def _en_clock(hour: int, minute: int) -> str:
    if minute == 0 and hour in (0, 24):
        return "midnight"
    if minute == 0 and hour == 12:
        return "noon"
    h12 = hour % 12 or 12
    part = "in the morning" if hour < 12 else "in the afternoon" if hour < 17 else "in the evening"
    if minute == 0:
        return f"{_en_number(h12)} {part}"
    mins = f"oh {_en_number(minute)}" if minute < 10 else _en_number(minute)
    return f"{_en_number(h12)} {mins} {part}"


def join(language: str, items: Sequence[str]) -> str:
    """A list as said: "a, b та c" / "a, b и c" / "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[language]} {items[-1]}"


def interval(language: str, start: int, end: int) -> str:
    """One interval: "з восьмої до двадцятої" / "с восьми до двадцати" / "from eight ..."."""
    a, b = clock(language, start), clock(language, end)
    if language == "en":
        return f"from {a} to {b}"
    if language == "ru":
        return f"с {a} до {b}"
    return f"з {a} до {b}"


def intervals(language: str, spans: Sequence[tuple[int, int]]) -> str:
    """Several opening intervals of one day, or the word for a day off."""
    if not spans:
        return _CLOSED_DAY[language]
    return join(language, [interval(language, s, e) for s, e in spans])


def _runs(days: Sequence[int]) -> list[list[int]]:
    """Consecutive weekdays grouped: [0, 1, 2, 4] -> [[0, 1, 2], [4]]."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _on(language: str, names: Sequence[str]) -> str:
    """Days listed after "on": "у понеділок, середу та п'ятницю"."""
    listed = join(language, names)
    if language == "en":
        return f"on {listed}"
    if language == "ru":
        return f"{'во' if listed.startswith('вт') else 'в'} {listed}"
    return f"у {listed}"


def _span(language: str, first: int, last: int) -> str:
    """A range: "з понеділка по п'ятницю", "с понедельника по пятницу", "Monday to Friday"."""
    if language == "en":
        return f"{_EN_DAY[first]} to {_EN_DAY[last]}"
    if language == "ru":
        start = _RU_DAY_GEN[first]
        return f"{'со' if start.startswith(('вт', 'ср')) else 'с'} {start} по {_RU_DAY_ACC[last]}"
    return f"з {_UK_DAY_GEN[first]} по {_UK_DAY_ACC[last]}"


def _day_names(language: str) -> Sequence[str]:
    return {"en": _EN_DAY, "ru": _RU_DAY_ACC}.get(language, _UK_DAY_ACC)


def weekdays(language: str, days: Sequence[int]) -> str:
    """Weekdays (0 = Monday) as said: three or more in a row become a range."""
    runs = _runs(days)
    names = _day_names(language)
    if all(len(run) < 3 for run in runs):
        return _on(language, [names[d] for run in runs for d in run])
    pieces: list[str] = []
    for run in runs:
        if len(run) >= 3:
            pieces.append(_span(language, run[0], run[-1]))
        else:
            pieces.extend(_on(language, [names[d]]) for d in run)
    return join(language, pieces)


def weekly(language: str, week: Sequence[Sequence[tuple[int, int]]]) -> str:
    """The weekly schedule (index 0 = Monday): consecutive days with equal hours together."""
    groups: list[tuple[list[int], Sequence[tuple[int, int]]]] = []
    for day, spans in enumerate(week):
        if groups and groups[-1][1] == spans:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    sep = ", " if language == "en" else " — "
    return "; ".join(f"{weekdays(language, d)}{sep}{intervals(language, s)}" for d, s in groups)


def plural(language: str, n: int, forms: tuple[str, str, str]) -> str:
    """The noun form after ``n``: (one, few, many) for uk/ru; English uses one and many."""
    if language == "en":
        return forms[0] if n == 1 else forms[2]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]
