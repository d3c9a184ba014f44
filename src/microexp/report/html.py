"""A tiny, dependency-free HTML page builder for microexp reports.

Reports are static pages: headings, paragraphs, tables (from rows or CSV files) and images
referenced by relative path, so the folder can be zipped, served or opened from disk.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HtmlPage"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d2330;line-height:1.45}
h1{border-bottom:2px solid #3b6fd8;padding-bottom:.2em}h2{margin-top:1.8em;color:#23408e}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #c8cfdc;padding:.25em .6em;text-align:right}
th{background:#eef2fa}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #d5dbe6}
figcaption{font-size:.9em;color:#4a5368}caption{caption-side:top;text-align:left;font-weight:600;
padding:.2em 0}.note{background:#fff8e1;border-left:4px solid #f0b400;
padding:.4em .8em}.muted{color:#6b7385;font-size:.9em}code{background:#f2f4f8;padding:0 .2em}
"""


@dataclass
class HtmlPage:
    """An HTML page assembled section by section; ``write`` saves it as UTF-8."""

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str, *, level: int = 2) -> None:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, *, css_class: str = "") -> None:
        cls = f' class="{css_class}"' if css_class else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def note(self, text: str) -> None:
        """A highlighted paragraph (caveats, e.g. "synthetic data")."""
        self.paragraph(text, css_class="note")

    def table(
        self,
        rows: Sequence[Mapping[str, object]],
        *,
        columns: Sequence[str] | None = None,
        caption: str = "",
    ) -> None:
        if not rows:
            self.paragraph("(no rows)", css_class="muted")
            return
        cols = list(columns or rows[0].keys())
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c, '')))}</td>" for c in cols) + "</tr>"
            for r in rows
        )
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.parts.append(
            f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def csv_table(self, path: Path, *, max_rows: int = 200) -> None:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.table(rows[:max_rows])
        if len(rows) > max_rows:
            self.paragraph(f"… {len(rows) - max_rows} more rows in {path.name}", css_class="muted")

    def image(self, src: str, *, caption: str = "", width: int | None = None) -> None:
        w = f' width="{width}"' if width else ""
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(
            f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}"{w}>{cap}</figure>'
        )

    def items(self, entries: Iterable[str]) -> None:
        self.parts.append("<ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in entries) + "</ul>")

    def links(self, entries: Iterable[tuple[str, str]]) -> None:
        """A list of ``(relative href, text)`` links (e.g. to the outputs beside the page)."""
        self.parts.append(
            "<ul>"
            + "".join(
                f'<li><a href="{html.escape(href)}"><code>{html.escape(text)}</code></a></li>'
                for href, text in entries
            )
            + "</ul>"
        )

    def references(self) -> list[str]:
        """Every ``src``/``href`` the page refers to (to check they exist beside it)."""
        return [html.unescape(m) for m in re.findall(r'(?:src|href)="([^"]*)"', self.render())]

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n"
        )

    def write(self, path: Path) -> Path:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)
        return path


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
