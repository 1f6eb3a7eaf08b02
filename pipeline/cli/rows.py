"""`--batch ROWS.csv` (or .jsonl) and `--vary PATH=A,B`: one scene, many resolved scenes.

Each row (each combination of --vary's values) becomes a Job: the scene file and the values it
puts in it, as overrides (scene/templates.py) that say where they came from ('rows.csv:3'), so
every problem a row's value causes is reported at its line in the rows file. A column is one of
the scene's vars (`product`) or a dotted key path (`motion.zoom`, `output`); a CSV cell is read as
a YAML scalar, as `--set` reads its value; an empty cell leaves the scene's value.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..scene.errors import did_you_mean
from ..scene.schema import Scene, public_keys
from ..scene.templates import Override, TemplateError, read_scalar, read_var, scalar_text, split_path

MAX_ROWS_BYTES = 64 << 20
MAX_ROWS = 100_000
MAX_VARIANTS = 256


class RowsError(Exception):
    """The rows file cannot be used at all (unreadable, a bad header): one line, `file:line: message`."""


@dataclass
class Job:
    """One video of a batch: the scene file, the values put in it, and where they came from."""

    scene: Path
    own: list[Override] = field(default_factory=list)  # the row's and the variant's values
    row: str | None = None  # 'rows.csv:3', 'rows.csv:3 zoom=1.01', 'zoom=1.01'
    values: dict = field(default_factory=dict)  # column or path -> value, for the report and the grid
    problem: str | None = None  # a row that cannot become a scene (a line that lies about its columns)
    base: Path | None = None  # a variant's: the output it is named after, where the grid of its variants goes

    def overrides(self, given: list[Override]) -> list[Override]:
        """The row's values, then the command line's --set (which wins)."""
        return self.own + given

    def flags(self) -> list[str]:
        """The row's values as --set flags, for a child process or a Ray task."""
        return [part for o in self.own for part in ("--set", f"{o.dotted}={scalar_text(o.value)}")]


def column_path(name: str, declared: dict, what: str = "column") -> tuple:
    """The override path of a column: vars.NAME for one of the scene's vars, else the key path."""
    if name in declared:
        return ("vars", name)
    path = split_path(name)
    if path[0] == "vars" or path[0] in public_keys(Scene):
        return path
    choices = list(declared) + public_keys(Scene)
    raise TemplateError(f"{what} '{name}' is neither one of the scene's vars ({', '.join(declared) or 'none'}) "
                        f"nor a scene key{did_you_mean(name, choices)}")


def read_rows(file: Path, scene: Path, declared: dict) -> list[Job]:
    """The jobs of a .csv (header on line 1) or .jsonl (one object per line) file; RowsError when
    the file cannot be used; a row that cannot be read is a Job with its problem."""
    where = str(file)
    try:
        if file.stat().st_size > MAX_ROWS_BYTES:
            raise RowsError(f"{where}: is {file.stat().st_size} bytes; a rows file has at most {MAX_ROWS_BYTES}")
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RowsError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RowsError(f"{where}: cannot read: {error}") from None
    if "\0" in text:
        raise RowsError(f"{where}: holds NUL characters: it is not a CSV or JSON Lines text file")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        jobs = _csv_rows(text, file, scene, declared)
    elif suffix in (".jsonl", ".ndjson"):
        jobs = _jsonl_rows(text, file, scene, declared)
    else:
        raise RowsError(f"{where}: --batch takes a .csv file (a header of columns, then one row per video) or a "
                        ".jsonl file (one JSON object per line)")
    if not jobs:
        raise RowsError(f"{where}: has no rows: write a header line, then one line per video")
    if len(jobs) > MAX_ROWS:
        raise RowsError(f"{where}: has {len(jobs)} rows; a batch has at most {MAX_ROWS}")
    return jobs


def _csv_rows(text: str, file: Path, scene: Path, declared: dict) -> list[Job]:
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [name.strip() for name in header]
        for index, name in enumerate(names):
            if not name:
                raise RowsError(f"{file.name}:1: column {index + 1} has no name")
            if name in names[:index]:
                raise RowsError(f"{file.name}:1: column '{name}' appears twice")
        try:
            paths = [column_path(name, declared) for name in names]
        except TemplateError as error:
            raise RowsError(f"{file.name}:1: {error}") from None
        jobs = []
        line = reader.line_num + 1
        for cells in reader:
            row, line = f"{file.name}:{line}", reader.line_num + 1  # a quoted cell may span lines
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(names):
                jobs.append(Job(scene, row=row, problem=f"{len(cells)} values, but the header names {len(names)} "
                                                        f"columns ({', '.join(names)}): quote values that hold "
                                                        "commas"))
                continue
            values, problem = {}, None
            for name, path, cell in zip(names, paths, cells):
                try:
                    if cell != "":  # an empty cell leaves the scene's value
                        values[name] = read_var(cell) if path[0] == "vars" else read_scalar(cell)
                except TemplateError as error:
                    problem = problem or f"{name}: {error}"
            if problem:
                jobs.append(Job(scene, row=row, problem=problem))
                continue
            own = [Override(path, values[name], row, name) for name, path in zip(names, paths) if name in values]
            jobs.append(Job(scene, own, row, values))
    except csv.Error as error:
        raise RowsError(f"{file.name}:{reader.line_num}: not CSV: {error}") from None
    return jobs


def _jsonl_rows(text: str, file: Path, scene: Path, declared: dict) -> list[Job]:
    jobs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row = f"{file.name}:{number}"
        try:
            data = json.loads(line)
        except ValueError as error:
            jobs.append(Job(scene, row=row, problem=f"not JSON: {error}"))
            continue
        if not isinstance(data, dict):
            jobs.append(Job(scene, row=row, problem="write one JSON object per line, like {\"product\": \"tea.png\"}"))
            continue
        try:
            own = [Override(column_path(str(name), declared), value, row, str(name)) for name, value in data.items()]
        except TemplateError as error:
            jobs.append(Job(scene, row=row, problem=str(error)))
            continue
        jobs.append(Job(scene, own, row, {str(k): v for k, v in data.items()}))
    return jobs


def parse_vary(texts: list[str], declared: dict) -> list[tuple[tuple, str, list]]:
    """--vary PATH=A,B,... as (path, label, values); TemplateError naming the flag."""
    axes = []
    for text in texts:
        name, sep, listed = text.partition("=")
        try:
            if not sep or not listed.strip():
                raise TemplateError("write PATH=A,B,..., e.g. motion.zoom=1.01,1.02 or vars.product=tea.png,cat.png")
            path = column_path(name.strip(), declared, "the name")
            read = read_var if path[0] == "vars" else read_scalar
            values = [read(v.strip()) for v in next(csv.reader([listed], skipinitialspace=True))]
        except (TemplateError, csv.Error) as error:
            raise TemplateError(f"--vary {text}: {error}") from None
        if len(set(map(repr, values))) != len(values):
            raise TemplateError(f"--vary {text}: a value appears twice")
        axes.append((path, name.strip(), values))
    count = 1
    for _, _, values in axes:
        count *= len(values)
    if count > MAX_VARIANTS:
        raise TemplateError(f"--vary: {count} combinations; at most {MAX_VARIANTS} are rendered at once")
    return axes


def slug(value: Any) -> str:
    """A value as a file-name part that is safe on every filesystem: letters, digits, '.', '_' and '-'."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "x"
    return text[:40]


def variants(jobs: list[Job], axes: list[tuple[tuple, str, list]], output_of) -> list[Job]:
    """Every job once per combination of --vary's values, each written beside the job's output and
    named after it and its values: renders/logo.zoom-1.01.step-0.002.mp4. `output_of(job)` is the
    job's outputs as (key path, path) pairs (the output, or each deliverable's), or None when its
    scene cannot be loaded."""
    if not axes:
        return jobs
    found = []
    for job in jobs:
        outputs = output_of(job)
        output = outputs[0][1] if outputs else None
        for combination in itertools.product(*(values for _, _, values in axes)):
            values = {label: value for (_, label, _), value in zip(axes, combination)}
            said = " ".join(f"{label}={value}" for label, value in values.items())
            row = f"{job.row} {said}" if job.row else said
            own = list(job.own) + [Override(path, value, f"--vary {label}={value}", label)
                                   for (path, label, _), value in zip(axes, combination)]
            name = ".".join(f"{slug(label.split('.')[-1])}-{slug(value)}" for label, value in values.items())
            for key, each in outputs or []:
                # a PNG folder's name takes no dot: it would read as a suffix (frames-zoom-1_02)
                named = (each.with_name(f"{each.stem}.{name}{each.suffix}") if each.suffix
                         else each.with_name(f"{each.name}-{name.replace('.', '_')}"))
                own.append(Override(key, str(named), f"--vary ({said})", ".".join(map(str, key))))
            found.append(Job(job.scene, own, row, {**job.values, **values}, job.problem, output))
    return found
