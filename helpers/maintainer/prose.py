"""Check that every measured figure a notebook's prose states is shown by its outputs.

Prose drifts: a notebook is re-run, the outputs move, and a sentence still narrates the
old run. This tool reads every markdown cell, finds the figures that describe a run
(percentages, speed-ups such as "8.0x" or "5 times", seconds, minutes, MB and GB) and
reports each one that no output of the same notebook shows at the written precision.

A figure is not a claim about this run, and is skipped, when its sentence names where it
comes from: the article, a paper ("et al."), another notebook ("notebook 09"), the README
or ``make course``, a ``python -m`` command, a link, or Binder/Colab's own limits; or when
it is a target ("target 99.65%"). Counts and shapes (28x28, 10 classes, 3x3) are not
figures. Inline code, maths and links are ignored.

``python -m helpers.maintainer.prose notebooks/*.ipynb`` lists what it finds and exits 1
if there is any; ``tests/test_prose.py`` runs it on every notebook.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

NUMBER = r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
UNITS = {
    "percent": r"\s?%",
    "times": r"(?:\s?[x×](?![\w×])|\s(?:times|fold)\b)",
    "seconds": r"(?:\s(?:s|sec|seconds?)|sec|seconds?)\b",  # not "9s", plural nines
    "minutes": r"\s?(?:min|minutes?)\b",
    "bytes": r"\s?(?:[kKMGT]i?B)\b",
}
FIGURE = re.compile(
    NUMBER + r"(?P<unit>" + "|".join(f"(?P<{k}>{v})" for k, v in UNITS.items()) + ")"
)
SHAPE = re.compile(r"\d[\d,]*\s?[x×]\s?\d")  # 28x28, 3 x 3: sizes, not speed-ups
SOURCE = re.compile(
    r"\barticle(?:'s)? (?:says|said|reports|reported|writes|wrote|gives|gave|claims|claimed|"
    r"states|reached|reaches|got|gets|quotes|lists|figure|number|claim)|\*\*Note: the article|"
    r"et al\.|\bpaper\b|\bnotebooks? \d\d|\b\d\d_[a-z_]+|README|make course|"
    r"python -m|https?://|\]\(|\bBinder\b|\bColab\b|\bquot|\breported\b|\baccording to\b",
    re.I,
)
TARGET = re.compile(r"\b(?:targets?|goal|aim|aims)\b[^.%]{0,25}$", re.I)
STRIP = [
    re.compile(r"```.*?```", re.S),  # fenced code
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$", re.S),  # display maths
    re.compile(r"\$[^$\n]*\$"),  # inline maths
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),  # images
    re.compile(r"<[^>\n]+>"),  # HTML tags
]
SENTENCE_END = re.compile(
    r"(?<!\bal\.)(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?;:])\s+(?=[A-Z(*>-])|\n\s*\n|\n(?=\s*(?:[-*]|\d+\.|>|\|)\s)"
)


@dataclass(frozen=True)
class Figure:
    text: str  # as written, e.g. "98.69%"
    unit: str  # one of UNITS
    digits: str  # the number as written, without thousands separators, e.g. "98.69"
    sentence: str


@dataclass(frozen=True)
class Unshown:
    cell: int  # index of the markdown cell in the notebook
    figure: Figure

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.figure.text!r} in {self.figure.sentence.strip()[:160]!r}"


def _clean(markdown: str) -> str:
    for pattern in STRIP:
        markdown = pattern.sub(" ", markdown)
    return markdown


def sentences(markdown: str) -> list[str]:
    """Split markdown into sentences, list items and table rows (roughly)."""
    return [s for s in SENTENCE_END.split(_clean(markdown)) if s and s.strip()]


def figures(markdown: str) -> list[Figure]:
    """Return the figures in a markdown text that claim something about a run."""
    found = []
    for sentence in sentences(markdown):
        if SOURCE.search(sentence):
            continue
        shapes = [m.span() for m in SHAPE.finditer(sentence)]
        for match in FIGURE.finditer(sentence):
            if any(a <= match.start() < b for a, b in shapes):
                continue
            if TARGET.search(sentence[: match.start()]):
                continue
            unit = next(k for k in UNITS if match.group(k))
            whole = match.group(1).replace(",", "")
            digits = whole + (f".{match.group(2)}" if match.group(2) else "")
            found.append(Figure(match.group(0).strip(), unit, digits, sentence))
    return found


def output_text(nb: nbformat.NotebookNode) -> str:
    """Return the text of the code cells' outputs, then of their sources.

    A figure found in the code is a setting the code states ("the first 20% of the
    steps" next to ``warmup=0.2``), not a measurement that can drift.
    """
    parts = [
        re.sub(r"(?<![\w.])0\.\d+\b", lambda m: f"{float(m[0]) * 100:g}%", c.source)
        for c in nb.cells
        if c.cell_type == "code"
    ]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append(output["text"])
            for kind in ("text/plain", "text/markdown", "text/html", "text/latex"):
                value = output.get("data", {}).get(kind)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def _decimals(number: str) -> int:
    return len(number.partition(".")[2])


def _values(outputs: str, unit: str) -> list[tuple[float, int]]:
    """Return the (value, decimals) pairs the outputs show with ``unit``."""
    number = r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    cell = number + r"\s*</td>"  # a table cell: its column header names the unit
    forms = {
        "percent": [number + r"\s?%", cell],
        "times": [number + r"\s?(?:[x×]|times|-fold)", cell],
        "seconds": [number + r"\s?(?:s|sec|seconds?)\b", cell],
        "minutes": [number + r"\s?(?:min|minutes?)\b", cell],
        "bytes": [number + r"\s?(?:[kKMGT]i?B)\b", cell],
    }
    values = []
    for form in forms[unit]:
        for match in re.finditer(form, outputs):
            text = match.group(1).replace(",", "") + (match.group(2) or "")
            values.append((float(text), _decimals(text)))
    if unit == "percent":  # accuracies printed as fractions, 0.9869
        for match in re.finditer(r"(?<![\d.])([01])\.(\d{2,})(?!\d)", outputs):
            text = f"{match[1]}.{match[2]}"
            values.append((float(text) * 100, max(_decimals(text) - 2, 0)))
    return values


def is_shown(figure: Figure, outputs: str) -> bool:
    """Whether ``outputs`` shows ``figure`` at the precision it is written with.

    Percentages and speed-ups may be rounded from a more precise output ("98.7%" under
    "98.69%"); seconds, minutes and sizes must appear with the digits as written. Each
    must appear with its unit ("10 s", not a bare 10 such as ``epochs = 10``), or in a
    table cell.
    """
    written = float(figure.digits)
    decimals = _decimals(figure.digits)
    for value, shown_decimals in _values(outputs, figure.unit):
        if figure.unit in ("percent", "times"):
            if shown_decimals >= decimals and round(value, decimals) == round(written, decimals):
                return True
        elif shown_decimals == decimals and value == written:
            return True
    return False


def unshown_figures(path: Path) -> list[Unshown]:
    """Return the figures in ``path``'s markdown that none of its outputs shows."""
    nb = nbformat.read(path, as_version=4)
    outputs = output_text(nb)
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for figure in figures(cell.source):
            if not is_shown(figure, outputs):
                missing.append(Unshown(index, figure))
    return missing


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintainer.prose NOTEBOOK...``: list figures no output shows."""
    parser = argparse.ArgumentParser(prog="python -m helpers.maintainer.prose")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        for problem in unshown_figures(path):
            print(f"{path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
