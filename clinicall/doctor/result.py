"""One check's answer: OK or FAIL, what was found, and what to do about a failure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    #: Lines shown under the check (a drift's diff), already limited in number.
    extra: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        head = f"{'OK' if self.ok else 'FAIL':<4}  {self.name:<9} {self.detail}"
        if self.fix and not self.ok:
            head += f" -> {self.fix}"
        return [head, *(f"      {line}" for line in self.extra)]


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str, extra: tuple[str, ...] = ()) -> Check:
    return Check(name, False, detail, fix, extra)
