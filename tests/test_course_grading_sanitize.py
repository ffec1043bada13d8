"""segkit.course.grading.sanitize: every notebook the grader writes for people renders inert.

A catalogue of payload classes, each a submission notebook that carries one way for markup to
reach the page of whoever opens it, beside honest content that must come through. Each is
rendered by nbconvert's HTMLExporter (the lab template, and the classic one that formgrader and the
feedback page extend) with HTML sanitizing off, and the page is parsed: no script, event handler,
script URL or embedding element beyond the template's own may be left. Where nbconvert itself would
run the payload, the unsanitized page is checked to show it, so the check is seen to work.
"""
from __future__ import annotations

import base64
import copy
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config

from segkit.course.grading.sanitize import markdown_hazard, sanitize_notebook, shown_as_text
from segkit.course.nbgrader_settings import configure

REPO = Path(__file__).resolve().parents[1]
JS = "window.segkitMarker = 1"  # what each payload would run
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(40)).decode()
SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{JS}"><script>{JS}</script></svg>'

HONEST_MARKDOWN = ("## Results\n\nThe mean IoU is *0.71* for $k < 3$ classes, see "
                   "[the paper](https://arxiv.org/abs/1411.4038) and `iou_per_class(cm)`.\n\n"
                   "- a & b\n- 3 > 2\n\n```python\nif a < b: print('bold')\n```")
HONEST_CODE = "import torch\nx = torch.zeros(2)  # <script> in a comment is just code\nprint('<b>bold?</b>')\nx"


def _display(data: dict, metadata: dict | None = None) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def _honest() -> nbformat.NotebookNode:
    """A submission's honest content: markdown, code, plain text, a PNG, a JPEG, a table with text."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                            "language_info": {"name": "python", "version": "3.11.2"}})
    code = nbformat.v4.new_code_cell(HONEST_CODE, id="honest_code", execution_count=3)
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="<b>bold?</b>\n\x1b[31mred\x1b[0m loss 0.25\n"),
        nbformat.v4.new_output("execute_result", execution_count=3, data={"text/plain": "tensor([0., 0.])"}),
        _display({"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"}, {"image/png": {"width": 320, "height": 240}}),
        _display({"image/jpeg": JPEG, "text/plain": "<PIL.Image>"}),
        _display({"text/html": "<table><tr><td>0.71</td></tr></table>", "text/plain": "   iou\n0  0.71"}),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="IoU should be 1.0, got 0.5",
                               traceback=["\x1b[0;31mAssertionError\x1b[0m: IoU should be 1.0, got 0.5"]),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(HONEST_MARKDOWN, id="honest_md"), code]
    return nb


def _markdown(source: str, **extra) -> list:
    return [nbformat.v4.new_markdown_cell(source, id="payload", **extra)]


def _outputs(*outputs) -> list:
    cell = nbformat.v4.new_code_cell("show()", id="payload")
    cell.outputs = list(outputs)
    return [cell]


# name -> (cells added to the honest notebook, notebook metadata added, nbconvert 7.17 renders it live
# unsanitized; the others are caught by JupyterLab's or nbconvert's own escaping today, not by ours alone)
PAYLOADS = {
    # markdown cells
    "md-script-tag": (_markdown(f"Answer:\n\n<script>{JS}</script>"), {}, True),
    "md-event-handler": (_markdown(f'<img src="x" onerror="{JS}">\n\n<details open ontoggle="{JS}">x</details>'), {}, True),
    "md-svg-inline": (_markdown(f"Figure:\n\n{SVG}"), {}, True),
    "md-iframe-srcdoc": (_markdown(f'<iframe srcdoc="&lt;script&gt;{JS}&lt;/script&gt;"></iframe>'), {}, True),
    "md-form-base-meta": (_markdown(f'<base href="javascript:{JS}//">\n<form action="javascript:{JS}"><button>ok</button></form>\n'
                                    f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">'), {}, True),
    "md-javascript-link": (_markdown(f"[the paper](javascript:{JS})"), {}, False),
    "md-javascript-link-in-html": (_markdown(f'<a href="javascript:{JS}">the paper</a>'), {}, True),
    "md-vbscript-link": (_markdown("[the paper](vbscript:msgbox(1))"), {}, True),
    "md-data-html-link": (_markdown("[figure](data:text/html;base64,PHNjcmlwdD4xPC9zY3JpcHQ+)"), {}, True),
    "md-javascript-image": (_markdown(f"![plot](javascript:{JS})"), {}, False),
    "md-entity-scheme": (_markdown(f"[a](&#106;avascript:{JS}) [b](java&#x09;script:{JS}) [c](javascript&colon;{JS})"), {}, False),
    "md-escaped-scheme": (_markdown(f"[a](javascript\\:{JS})"), {}, False),
    "md-entity-tag-in-html": (_markdown(f'<a href="&#x6A;&#x61;vascript:{JS}">x</a>'), {}, True),
    "md-double-encoded-tag": (_markdown(f"&amp;lt;script&amp;gt;{JS}&amp;lt;/script&amp;gt;"), {}, False),
    "md-autolink": (_markdown(f"<javascript:{JS}>"), {}, False),
    "md-reference-link": (_markdown(f"See [the paper][ref].\n\n[ref]: javascript:{JS}"), {}, False),
    "md-comment-breakout": (_markdown(f"<!-- x --><img src=x onerror='{JS}'>"), {}, True),
    "md-tex-href": (_markdown(f"$\\href{{javascript:{JS}}}{{click}}$ and $$\\require{{http://x}}\\style{{color:red}}{{x}}$$"), {}, False),
    "md-attachment-svg": (_markdown("![plot](attachment:plot.svg) ![page](attachment:page.html)", attachments={
        "plot.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()},
        "page.html": {"text/html": base64.b64encode(f"<script>{JS}</script>".encode()).decode()}}), {}, True),
    "md-attachment-fake-png": (_markdown("![plot](attachment:plot.png)", attachments={
        "plot.png": {"image/png": base64.b64encode(SVG.encode()).decode()}}), {}, False),
    "raw-html-cell": ([nbformat.v4.new_raw_cell(f"<img src=x onerror='{JS}'><script>{JS}</script>", id="payload",
                                                metadata={"raw_mimetype": "text/html"})], {}, False),
    # rich outputs
    "out-html-script": (_outputs(_display({"text/html": f"<script>{JS}</script><img src=x onerror='{JS}'>"})), {}, True),
    "out-html-beside-text": (_outputs(_display({"text/html": f"<script>{JS}</script>", "text/plain": "a table"})), {}, True),
    "out-html-isolated": (_outputs(_display({"text/html": f"<script>{JS}</script>"}, {"text/html": {"isolated": True}})), {}, True),
    "out-svg": (_outputs(_display({"image/svg+xml": SVG})), {}, True),
    "out-javascript": (_outputs(_display({"application/javascript": JS})), {}, True),
    "out-markdown": (_outputs(_display({"text/markdown": f"<script>{JS}</script> [x](javascript:{JS})"})), {}, True),
    "out-latex-href": (_outputs(_display({"text/latex": f"$\\href{{javascript:{JS}}}{{click}}$"})), {}, False),
    "out-widget-view": (_outputs(_display({"application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "version_minor": 0},
                                           "text/plain": "HTML(value='...')"})),
                        {"widgets": {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {
                            "m1": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                                   "state": {"value": f"<img src=x onerror='{JS}'>"}}}}}}, True),
    "out-unknown-mime": (_outputs(_display({"application/x-course+html": f"<script>{JS}</script>"}),
                                  _display({"text/vnd.custom": f"<script>{JS}</script>", "text/plain": "x"})), {}, False),
    "out-image-size-attribute": (_outputs(_display({"image/png": PNG}, {"image/png": {"width": f"1 onerror={JS.replace(' ', '')}"}})), {}, True),
    "out-image-filenames": (_outputs(_display({"image/png": PNG}, {"filenames": {"image/png": f"javascript:{JS}"}})), {}, True),
    "out-image-data-breakout": (_outputs(_display({"image/png": f'iVBORw0KGgo" onerror="{JS}'}),
                                         _display({"image/jpeg": base64.b64encode(SVG.encode()).decode()})), {}, False),
    "out-terminal-hyperlink": (_outputs(nbformat.v4.new_output("stream", name="stdout", text=f"\x1b]8;;javascript:{JS}\x1b\\click\x1b]8;;\x1b\\\n")), {}, False),
    "out-error-markup": (_outputs(nbformat.v4.new_output("error", ename=f"<script>{JS}</script>", evalue=f"<img src=x onerror='{JS}'>",
                                                         traceback=[f"<script>{JS}</script>"])), {}, False),
    # metadata renderers trust
    "meta-notebook-title": ([], {"title": f"</title><script>{JS}</script>"}, False),
    "meta-cell-tags-and-trust": ([nbformat.v4.new_code_cell("x = 1", id="payload", metadata={
        "tags": [f'x" onmouseover="{JS}'], "trusted": True, "jupyter": {"source_hidden": f"<script>{JS}</script>"}})], {}, False),
    "meta-cell-id": ([nbformat.v4.new_code_cell("x = 1", id="payload")], {}, False),
}


class Page(HTMLParser):
    """The elements of a rendered page that can run code or embed another document."""

    EMBEDDING = {"script", "iframe", "frame", "object", "embed", "applet", "base", "form", "meta", "link", "svg", "math", "template"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc", "content"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.findings: list[str] = []
        self._script: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = [(k, v or "") for k, v in attrs]
        if tag in self.EMBEDDING:
            self.elements.append(f"<{tag} {sorted(attrs)}")
            if tag == "script":
                self._script = []
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value).lower()
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=...>")
            elif name in self.URL_ATTRIBUTES and re.search(r"^(?:[0-9;]*url=)?(?:javascript|vbscript|livescript):|^data:(?!image/(?:png|jpeg|gif))", url):
                self.findings.append(f"<{tag} {name}={url[:40]}>")

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.elements[-1] += "".join(self._script)
            self._script = None


@pytest.fixture(scope="module")
def exporters() -> dict[str, HTMLExporter]:
    # nbformat's default validator compiles its schema at each of the exporter's dozen validations
    # (0.2 s each); jsonschema's is built once.
    old, os.environ["NBFORMAT_VALIDATOR"] = os.environ.get("NBFORMAT_VALIDATOR"), "jsonschema"
    yield {name: HTMLExporter(template_name=name) for name in ("lab", "classic")}
    os.environ.pop("NBFORMAT_VALIDATOR") if old is None else os.environ.__setitem__("NBFORMAT_VALIDATOR", old)


def _executable(nb: nbformat.NotebookNode, exporter: HTMLExporter) -> list[str]:
    """Script, handler, script URL or embedding element on ``nb``'s page that the template itself lacks."""
    empty = nbformat.v4.new_notebook(metadata=_honest().metadata)
    template_elements = Page(exporter.from_notebook_node(empty)[0]).elements
    page = Page(exporter.from_notebook_node(nb)[0])
    extra = list(page.elements)
    for element in template_elements:
        if element in extra:
            extra.remove(element)
    return page.findings + extra


def _attacked(name: str) -> nbformat.NotebookNode:
    cells, metadata, _ = PAYLOADS[name]
    nb = _honest()
    nb.cells[1:1] = copy.deepcopy(cells)
    nb.metadata.update(copy.deepcopy(metadata))
    nbformat.validate(nb)
    return nb


@pytest.mark.parametrize("name", PAYLOADS)
def test_no_executable_construct_survives(name, exporters):
    raw = _attacked(name)
    clean, notes = sanitize_notebook(raw)
    nbformat.validate(clean)
    assert notes, "a change made for safety is reported"
    for template, exporter in exporters.items():
        assert _executable(clean, exporter) == [], (template, notes)
    if PAYLOADS[name][2]:  # the payload is live in nbconvert, so the check above can see it
        assert _executable(raw, exporters["lab"]) or _executable(raw, exporters["classic"])


@pytest.mark.parametrize("name", PAYLOADS)
def test_honest_content_survives(name):
    clean, _ = sanitize_notebook(_attacked(name))
    honest = _honest()
    cells = {c.id: c for c in clean.cells}
    assert cells["honest_md"].source == HONEST_MARKDOWN
    code = cells["honest_code"]
    assert code.source == HONEST_CODE and code.execution_count == 3
    want = honest.cells[1].outputs
    assert code.outputs[:4] == want[:4], "text, PNG (with its size) and JPEG outputs are kept as they were"
    assert code.outputs[4].data == {"text/plain": "   iou\n0  0.71"}, "a table keeps its text form"
    assert code.outputs[5] == want[5], "errors are kept"
    assert clean.metadata == honest.metadata


def test_the_rendered_page_shows_the_honest_content(exporters):
    clean, _ = sanitize_notebook(_attacked("md-script-tag"))
    html = exporters["classic"].from_notebook_node(clean)[0]
    for shown in ("the paper</a>", 'href="https://arxiv.org/abs/1411.4038"', "&lt;b&gt;bold?&lt;/b&gt;", f"data:image/png;base64,{PNG}"):
        assert shown in html
    assert "&lt;script&gt;window.segkitMarker = 1&lt;/script&gt;" in html, "the payload is shown to the instructor, as text"


@pytest.mark.parametrize("name", [n for n in PAYLOADS if n.startswith(("md-", "raw-"))])
def test_markdown_payloads_are_shown_as_their_source(name):
    raw = _attacked(name)
    clean, notes = sanitize_notebook(raw)
    original = raw.cells[1].source
    cell = next(c for c in clean.cells if c.id == "payload")
    assert cell.cell_type == "markdown"
    if markdown_hazard(original) or raw.cells[1].cell_type == "raw":
        assert cell.source == shown_as_text(original, re.search(r"as it holds (.*)\]\*", cell.source)[1])
        assert "\\href" not in cell.source and "\\require" not in cell.source, "TeX link commands are broken"
    assert all(m in ("image/png", "image/jpeg", "image/gif") for a in cell.get("attachments", {}).values() for m in a)
    assert "plot.png" not in cell.get("attachments", {}), "an SVG labelled PNG is not an image"


def test_rich_outputs_come_back_as_text_with_a_note():
    clean, notes = sanitize_notebook(_attacked("out-html-script"))
    output = next(c for c in clean.cells if c.id == "payload").outputs[0]
    assert output.data == {"text/plain": f"[the grader shows this text/html output as text]\n<script>{JS}</script><img src=x onerror='{JS}'>"}
    assert "cell payload: output of type text/html shown as text" in notes


def test_metadata_renderers_trust_is_dropped():
    clean, notes = sanitize_notebook(_attacked("meta-cell-tags-and-trust"))
    cell = next(c for c in clean.cells if c.id == "payload")
    assert cell.metadata == {"tags": []}
    clean, notes = sanitize_notebook(_attacked("out-widget-view"))
    assert "widgets" not in clean.metadata and "notebook metadata dropped: widgets" in notes
    raw = _attacked("meta-cell-id")
    raw.cells[1]["id"] = 'x"><script>1</script>'
    clean, _ = sanitize_notebook(raw)
    assert clean.cells[1].id == "cell-1"


def test_the_released_lessons_markdown_is_trusted_and_the_input_is_not_changed():
    lesson = nbformat.read(str(REPO / "lessons" / "03-measuring-quality" / "03-measuring-quality.ipynb"), as_version=4)
    before = copy.deepcopy(lesson)
    trusted = [c.source for c in lesson.cells if c.cell_type == "markdown"]
    clean, notes = sanitize_notebook(lesson, trusted_markdown=trusted)
    assert lesson == before
    assert notes == [] and clean.cells == lesson.cells and clean.metadata == lesson.metadata
    badge = next(c for c in lesson.cells if c.source.startswith("<a href="))
    assert markdown_hazard(badge.source) == "HTML", "untrusted, the same HTML would be shown as text"


@pytest.mark.parametrize("text", ["a < b and 3 > 2", "`x < y` costs 5 & 6", "$k < 3$", "Training data: 100 images",
                                  "see https://example.org/a?b=1&c=2", "JavaScript is not used here"])
def test_honest_markdown_has_no_hazard(text):
    assert markdown_hazard(text) == ""


def test_a_less_than_sign_in_math_is_written_as_lt():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("so $x<y$ and $$a<b$$", id="m")]
    clean, notes = sanitize_notebook(nb)
    assert clean.cells[0].source == "so $x\\lt y$ and $$a\\lt b$$" and notes == []


@pytest.mark.parametrize("text", ["`x<y` in a code span", "a line<br>break", "<https://example.org>"])
def test_honest_html_like_markdown_is_shown_as_text(text):
    """The rule's cost: a ``<`` that opens a tag is shown as source even in code or an autolink."""
    assert markdown_hazard(text) == "HTML"


def test_a_fence_is_longer_than_any_backtick_run_in_the_source():
    text = shown_as_text("````\n<script>1</script>\n````", "HTML")
    assert "\n`````text\n" in text and text.endswith("\n`````\n")


def test_a_cell_of_unknown_type_is_shown_as_text_and_its_type_is_not_echoed():
    nb = _honest()
    nb.cells.append(nbformat.from_dict({"cell_type": f"<script>{JS}</script>", "id": "odd", "metadata": {}, "source": "text"}))
    clean, notes = sanitize_notebook(nb)
    assert clean.cells[-1].source == shown_as_text("text", "a cell of unknown type")
    assert "cell odd: cell of unknown type shown as text" in notes and not any("<script>" in n for n in notes)


@pytest.fixture(scope="module")
def course_exporter(exporters) -> HTMLExporter:
    """The exporter with the course's settings (feedback page): the second layer, sanitize_html, on."""
    config = Config()
    configure(config, REPO)
    return HTMLExporter(config=config)


def test_the_second_layer_keeps_an_honest_page(course_exporter):
    lesson = nbformat.read(str(REPO / "lessons" / "03-measuring-quality" / "03-measuring-quality.ipynb"), as_version=4)
    html = course_exporter.from_notebook_node(lesson)[0] + course_exporter.from_notebook_node(_honest())[0]
    assert "&lt;p&gt;" not in html and "&lt;h2" not in html and "&lt;img" not in html, "nbconvert's own clean_html shows these as text"
    assert 'alt="Open In Colab"' in html and "<h2" in html and "the paper</a>" in html and f"data:image/png;base64,{PNG}" in html


@pytest.mark.parametrize("name", [n for n in PAYLOADS if n.startswith("md-") or n in ("out-html-script", "out-html-beside-text",
                                                                                      "out-html-isolated", "out-markdown", "out-javascript")])
def test_the_second_layer_alone_stops_markup_in_markdown_and_html(name, course_exporter):
    """Without grading.sanitize, sanitize_html still stops these (not SVG, widgets or image metadata)."""
    assert _executable(_attacked(name), course_exporter) == []
