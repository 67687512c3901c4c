"""Load the clinic YAML into a frozen :class:`ClinicConfig`, reporting every problem at once.

Three passes, each reporting :class:`ConfigProblem` values with the file and line:
YAML syntax (and keys given twice), field types and values (pydantic), and references between
sections (:mod:`clinicall.settings.crossref`).  Only a config with no errors is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import Node

from clinicall.settings import crossref, legacy, yamlmarks
from clinicall.settings.dburl import placed_database_url
from clinicall.settings.messages import describe
from clinicall.settings.models import ClinicConfig
from clinicall.settings.problems import ConfigError, ConfigProblem, Severity


@dataclass(frozen=True)
class ConfigReport:
    """The outcome of checking one file: the config (None if any error) and every problem."""

    path: str
    config: ClinicConfig | None
    problems: list[ConfigProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_config(path: str | PathLike[str]) -> ClinicConfig:
    """Return the validated config; raise :class:`ConfigError` listing every error found.

    Warnings (such as a menu nobody can reach) do not stop loading; use :func:`check_config`
    to see them.
    """
    report = check_config(path)
    if report.config is None:
        raise ConfigError(report.problems)
    return report.config


#: A clinic config is about 10 KB; anything past this is not one (and would cost seconds).
MAX_BYTES = 1 << 20


def check_config(path: str | PathLike[str]) -> ConfigReport:
    """Read and check ``path``; never raises for a bad config (only reports)."""
    name = str(path)
    try:
        with Path(path).open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        return _unusable(name, 0, 0, f"cannot read: {exc.strerror or exc}")
    if len(raw) > MAX_BYTES:
        return _unusable(name, 0, 0, f"larger than {MAX_BYTES >> 20} MB: not a clinic config")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw.count(0) > len(raw) // 4:
        return _unusable(name, 1, 1, "UTF-16 text (a UTF-16 byte-order mark, or a zero byte in "
                         "every other place); save the file as UTF-8")  # fmt: skip
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is fine
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return _unusable(name, line, column, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                         "save the file as UTF-8")  # fmt: skip
    report = check_text(text, name)
    if report.config is None:
        return report
    folder = Path(path).parent
    database, http = report.config.database, report.config.http
    config = report.config.model_copy(update={
        "database": database.model_copy(
            update={"url": placed_database_url(database.url, folder)}),
        "http": http.model_copy(
            update={"secret_file": str(folder.resolve() / http.secret_file)}),
    })
    return ConfigReport(name, config, report.problems)


def _unusable(name: str, line: int, column: int, message: str) -> ConfigReport:
    return ConfigReport(name, None, [ConfigProblem(name, line, column, "", message)])


def check_text(text: str, name: str) -> ConfigReport:
    """Check YAML ``text`` as if read from the file ``name`` (used in messages only)."""
    if len(text) > MAX_BYTES:
        return _unusable(name, 0, 0, f"larger than {MAX_BYTES >> 20} MB: not a clinic config")
    try:
        data, root = yamlmarks.parse(text)
    except yaml.YAMLError as exc:
        return ConfigReport(name, None, [_syntax_problem(name, exc, text)])
    problems = [
        ConfigProblem(name, line, col, _dotted(loc), "this key is given twice; remove one")
        for loc, line, col in yamlmarks.duplicate_keys(root)
    ]
    if not isinstance(data, dict):
        problems.append(ConfigProblem(name, 1, 1, "", "expected a mapping of sections "
                                      "(clinic:, queues:, ...) at the top of the file"))
        return ConfigReport(name, None, problems)
    upgraded, renamed = legacy.upgrade(name, root, data)
    problems += upgraded
    if any(p.severity == "error" for p in upgraded):
        return ConfigReport(name, None, _sorted(problems))
    try:
        config = ClinicConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        problems += [_field_problem(name, root, err, renamed) for err in errors[:MAX_PROBLEMS]]
        return ConfigReport(name, None, _sorted(problems, len(errors) - MAX_PROBLEMS))
    for finding in crossref.check(config):
        loc = _as_in_file(finding.loc, renamed)
        problems.append(_placed(name, root, loc, finding.message, finding.severity))
    has_errors = any(p.severity == "error" for p in problems)
    return ConfigReport(name, None if has_errors else config, _sorted(problems))


def _syntax_problem(name: str, exc: yaml.YAMLError, source: str) -> ConfigProblem:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (NUL, ...)
        line = source.count("\n", 0, exc.position) + 1
        column = exc.position - (source.rfind("\n", 0, exc.position) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        return ConfigProblem(name, line, column, "", f"character {char!r} is not allowed in "
                             "YAML; remove it")  # fmt: skip
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    prefix = "" if isinstance(exc, yamlmarks.RefusedYaml) else "YAML syntax error: "
    text = f"{prefix}{problem}" + (f" ({context})" if context else "")
    if mark is not None and _character_at(source, mark.line, mark.column) == "\t":
        text += "; a tab: YAML indents with spaces only"

    key = _dotted(exc.path) if isinstance(exc, yamlmarks.RefusedYaml) else ""
    if mark is None:
        return ConfigProblem(name, 0, 0, key, text)
    return ConfigProblem(name, mark.line + 1, mark.column + 1, key, text)


def _character_at(source: str, line: int, column: int) -> str:
    """The character at a 0-based line and column, '' past the end."""
    start = 0
    for _ in range(line):
        start = source.find("\n", start) + 1
        if start == 0:
            return ""
    end = source.find("\n", start)
    text = source[start:] if end < 0 else source[start:end]
    return text[column] if 0 <= column < len(text) else ""


#: Tagged unions: pydantic puts the tag into a location (``engine.asterisk.ami_secret``).
TAGGED = {"engine": frozenset({"asterisk", "freeswitch"})}


def _as_in_file(loc: yamlmarks.Loc, renamed: dict[str, str]) -> yamlmarks.Loc:
    """A model location as the file spells it: without a union's tag, and a section under
    its older name."""
    if len(loc) > 1 and isinstance(loc[0], str) and loc[1] in TAGGED.get(loc[0], ()):
        loc = (loc[0], *loc[2:])
    if loc and isinstance(loc[0], str) and loc[0] in renamed:
        return (renamed[loc[0]], *loc[1:])
    return loc


def _field_problem(name: str, root: Node | None, err: ErrorDetails,
                   renamed: dict[str, str]) -> ConfigProblem:
    original = err
    err = {**err, "loc": _as_in_file(err["loc"], renamed)}  # type: ignore[typeddict-item]
    loc = tuple(p for p in err["loc"] if p != yamlmarks.KEY_MARKER)
    if err["type"] == "missing":
        place = yamlmarks.locate(root, loc[:-1])
        parent = _dotted(loc[:-1]) or "the top level"
        return ConfigProblem(name, place.line, place.column, _dotted(loc),
                             f"missing key {loc[-1]!r} under {parent!r}")
    return _placed(name, root, err["loc"], describe(original, ClinicConfig))


def _placed(name: str, root: Node | None, loc: yamlmarks.Loc, message: str,
            severity: Severity = "error") -> ConfigProblem:
    place = yamlmarks.locate(root, loc)
    clean = [p for p in loc if p != yamlmarks.KEY_MARKER and (
        not isinstance(p, str) or not yamlmarks.is_type_tag(p) or p in place.found)]
    return ConfigProblem(name, place.line, place.column, _dotted(clean), message, severity)


def _dotted(loc: yamlmarks.Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: Problems listed for one file: past this, a file is not a clinic config with mistakes but
#: something else (and placing each problem costs time).
MAX_PROBLEMS = 100


def _sorted(problems: list[ConfigProblem], unplaced: int = 0) -> list[ConfigProblem]:
    """In file order, at most ``MAX_PROBLEMS``; ``unplaced`` more were found but not placed."""
    ordered = sorted(problems, key=lambda p: (p.line, p.column, p.key_path))
    more = max(unplaced, 0) + max(len(ordered) - MAX_PROBLEMS, 0)
    if not more:
        return ordered
    summary = ConfigProblem(ordered[0].file, 0, 0, "",
                            f"{more:,} more problems not listed; fix these first")  # fmt: skip
    return [*ordered[:MAX_PROBLEMS], summary]
