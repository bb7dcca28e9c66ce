"""Rewrite the text between two marker comments, as the README's generated tables are."""

from __future__ import annotations

from pathlib import Path


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """Return ``text`` with everything between ``start`` and ``end`` replaced by ``body``.

    Raises ``ValueError`` naming the markers if one is missing, repeated, or the end comes
    first.
    """
    starts, ends = text.count(start), text.count(end)
    if starts != 1 or ends != 1:
        raise ValueError(
            f"expected one {start} and one {end} (markers), found {starts} and {ends}; "
            "add them around the generated text"
        )
    head, rest = text.split(start)
    if end not in rest:
        raise ValueError(f"{end} comes before {start}")
    _, tail = rest.split(end)
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"


def rewrite_file(path: Path, start: str, end: str, body: str) -> Path:
    """Replace the text between the markers of the file at ``path``; return the path.

    Raises ``ValueError`` naming the file if its markers are missing or out of order.
    """
    path = Path(path)
    try:
        new = replace_between(path.read_text(), start, end, body)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    path.write_text(new)
    return path
