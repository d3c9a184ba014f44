"""The HTML page builder: escaping, tables from rows and CSV, links, and the reference list."""

from __future__ import annotations

from pathlib import Path

from microexp.report.html import HtmlPage


def test_text_is_escaped_and_references_are_listed(tmp_path: Path) -> None:
    page = HtmlPage("a <b> & c")
    page.note("synthetic <data>")
    page.table([{"x": 1.23456, "y": "<i>"}], caption="t & u")
    page.image("fig one.png", caption='say "hi"')
    page.links([("../data/m.csv", "m.csv"), ("../a&b.txt", "a&b")])
    html = page.render()
    assert "<title>a &lt;b&gt; &amp; c</title>" in html
    assert '<p class="note">synthetic &lt;data&gt;</p>' in html
    assert "<caption>t &amp; u</caption>" in html and "<td>1.235</td><td>&lt;i&gt;</td>" in html
    assert page.references() == ["fig one.png", "../data/m.csv", "../a&b.txt"]
    out = page.write(tmp_path / "index.html")
    assert out.read_text(encoding="utf-8") == html
    assert not (tmp_path / "index.html.tmp").exists()


def test_csv_table_caps_rows(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(5)), encoding="utf-8")
    page = HtmlPage("t")
    page.csv_table(csv_path, max_rows=3)
    html = page.render()
    assert html.count("<tr>") == 4  # header + 3 rows
    assert "… 2 more rows in t.csv" in html
    empty = HtmlPage("e")
    empty.table([])
    assert "(no rows)" in empty.render()
