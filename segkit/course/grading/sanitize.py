"""Making what the grader writes for people inert: no script from a submission runs in the
browser of whoever opens it (formgrader, the feedback HTML, JupyterLab, GitHub).

The rule is an allowlist, decided on the notebook itself so it holds whatever renders it:

- **Outputs** keep only ``text/plain`` and raster images (PNG, JPEG, GIF whose bytes are base64
  and start with the format's signature). Any other MIME type (``text/html``, ``image/svg+xml``,
  ``application/javascript``, ``text/markdown``, ``text/latex``, widget views, types nobody knows
  yet) is dropped; where nothing readable is left, its text comes back as ``text/plain`` under a
  one-line note, so the instructor sees what was printed, as text. Output metadata keeps only
  numeric image sizes (renderers paste ``width``, ``filenames``, ``isolated`` ... into tags);
  terminal escapes other than colours (OSC hyperlinks) are removed from text.
- **Markdown** (and raw cells) that could carry markup in any renderer (a ``<`` that opens a tag,
  comment or autolink; a ``javascript:``/``vbscript:``/``data:`` URL other than a raster image;
  a TeX command that makes links, loads extensions or sets styles, ``\\href``; each looked for
  after decoding HTML entities and markdown escapes) is shown as its source in a fenced code
  block under a note. Escaping inside markdown would depend on each renderer's parser; a code
  block is text in all of them. (A ``<`` inside ``$...$`` is first written ``\\lt``, which looks
  the same typeset and is no tag where it is not.) Markdown without such a construct renders as
  written, and so
  does markdown equal to a cell of the released lesson (``trusted_markdown``: the instructor's
  own, e.g. the Colab badge). Attachments keep raster images only.
- **Metadata**: cell metadata keeps nbgrader's fields (typed), tags and the editor flags; the
  notebook keeps ``kernelspec`` and ``language_info`` (plain strings); ``widgets`` (the state the
  HTML widget manager renders) and the rest go. Cell ids that are not nbformat ids are replaced.

The learner's code, plain-text outputs and raster images are never removed.
"""
from __future__ import annotations

import base64
import binascii
import copy
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import nbformat

RASTER = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8"}
SHOWN_AS_TEXT_LIMIT = 20_000  # characters of a dropped output's source kept as text

# A tag, end tag, comment, declaration, processing instruction or autolink opens with one of these.
MARKUP = re.compile(r"<[A-Za-z!/?]")
MARKUP_START = re.compile(r"<(?=[A-Za-z!/?])")
SCRIPT_URL = re.compile(r"(?:java|vb|live)script:|data:\s*(?!image/(?:png|jpe?g|gif|webp)\b)[a-z-]+/[a-z0-9.+-]+", re.I)
# TeX commands of MathJax that make links, load code or extensions, or set classes and styles.
TEX_COMMAND = re.compile(r"\\(?:href|url|require|class|cssId|style|unicode|data|html)(?![A-Za-z])", re.I)
URL_NOISE = re.compile(r"[\x00-\x1f\\]")  # what browsers and markdown escapes ignore inside a URL
# Terminal escapes other than CSI (colours): OSC (hyperlinks, titles), DCS, SOS, PM, APC.
NON_CSI_ESCAPE = re.compile(r"\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)", re.S)
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
ATTACHMENT = re.compile(r"attachment:([^\s)\]\"'>]+)")
CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
WORD = re.compile(r"[A-Za-z0-9_.:=+-]{1,100}")
PLAIN = re.compile(r"[A-Za-z0-9 ._+/()-]{0,100}")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")

NBGRADER_FIELDS = {"grade": bool, "solution": bool, "locked": bool, "task": bool, "points": (int, float),
                   "schema_version": int, "grade_id": str, "checksum": str, "cell_type": str}
CELL_FLAGS = ("deletable", "editable", "collapsed")
KERNELSPEC_FIELDS = ("name", "display_name", "language")
LANGUAGE_FIELDS = ("name", "version", "mimetype", "file_extension", "pygments_lexer", "nbconvert_exporter")


def sanitize_notebook(nb: Mapping[str, Any], *, trusted_markdown: Iterable[str] = ()) -> tuple[nbformat.NotebookNode, list[str]]:
    """A copy of ``nb`` that renders inert, and notes on what was changed (one line each).

    ``trusted_markdown``: markdown sources written by the instructor (the released lesson's), left
    as they are. ``nb`` itself is not modified.
    """
    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    trusted = set(trusted_markdown)
    notes: list[str] = []
    nb.metadata = _notebook_metadata(nb.get("metadata", {}), notes)
    used: set[str] = set()
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        cell = _cell(cell, index, trusted, notes)
        cid = cell.get("id")
        if not isinstance(cid, str) or not CELL_ID.fullmatch(cid) or cid in used:
            cid = f"cell-{index}"
            while cid in used:
                cid += "-x"
            cell["id"] = cid
        used.add(cid)
        cells.append(cell)
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, max(5, int(nb.get("nbformat_minor") or 5))
    return nb, list(dict.fromkeys(notes))


def markdown_hazard(source: str) -> str:
    """Why ``source`` could carry markup or a script in some markdown renderer ("" if it cannot)."""
    decoded = _decoded(source)
    if MARKUP.search(decoded):
        return "HTML"
    if TEX_COMMAND.search(decoded):
        return "a TeX link or style command"
    if SCRIPT_URL.search(URL_NOISE.sub("", decoded)):
        return "a script URL"
    return ""


def shown_as_text(source: str, why: str) -> str:
    """Markdown that shows ``source`` verbatim: a fenced code block longer than any backtick run in it."""
    source = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    source = TEX_COMMAND.sub(lambda m: "\\\u200b" + m[0][1:], source)  # inert even where math is typeset in code
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", source)), default=0))
    return f"*[shown as text by the grader, as it holds {why}]*\n\n{fence}text\n{source}\n{fence}\n"


def _decoded(text: str) -> str:
    """``text`` with HTML entities decoded until none is left (double encodings included)."""
    for _ in range(5):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _cell(cell: Mapping[str, Any], index: int, trusted: set[str], notes: list[str]) -> nbformat.NotebookNode:
    kind = cell.get("cell_type")
    source = _text(cell.get("source", ""))
    where = f"cell {cell['id'] if CELL_ID.fullmatch(str(cell.get('id'))) else index}"
    metadata = _cell_metadata(cell.get("metadata") or {}, where, notes)
    if kind == "code":
        out = nbformat.v4.new_code_cell(source, metadata=metadata)
        count = cell.get("execution_count")
        out.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
        out.outputs = [o for output in cell.get("outputs") or [] for o in _output(output, where, notes)]
    elif kind == "markdown":
        attachments = _attachments(cell.get("attachments") or {}, where, notes)
        if source not in trusted:
            source = MATH.sub(lambda m: MARKUP_START.sub(r"\\lt ", m[0]), source)  # $x<y$ is no tag, wherever math is not parsed
        why = "" if source in trusted else markdown_hazard(source)
        if not why and any(unquote(name) not in attachments for name in ATTACHMENT.findall(_decoded(source))):
            why = "a missing or non-image attachment"  # nbconvert fails on the whole page for one
        if why:
            notes.append(f"{where}: markdown holding {why} shown as text")
        out = nbformat.v4.new_markdown_cell(shown_as_text(source, why) if why else source, metadata=metadata)
        if attachments:
            out.attachments = attachments
    else:  # raw cells (nbconvert pastes text/html ones into the page) and anything unknown
        why = "raw cell" if kind == "raw" else "cell of unknown type"
        notes.append(f"{where}: {why} shown as text")
        out = nbformat.v4.new_markdown_cell(shown_as_text(source, f"a {why}"), metadata=metadata)
    out["id"] = cell.get("id")
    return out


def _cell_metadata(metadata: Mapping[str, Any], where: str, notes: list[str]) -> dict:
    out: dict[str, Any] = {}
    grading = metadata.get("nbgrader")
    if isinstance(grading, Mapping):
        kept = {k: v for k, v in grading.items() if k in NBGRADER_FIELDS and isinstance(v, NBGRADER_FIELDS[k])
                and not (isinstance(v, str) and not WORD.fullmatch(v))}
        if "grade_id" in grading and "grade_id" not in kept:
            notes.append(f"{where}: nbgrader metadata with an unsafe grade id dropped")
        elif kept:
            out["nbgrader"] = kept
    tags = metadata.get("tags")
    if isinstance(tags, list):
        out["tags"] = [t for t in tags if isinstance(t, str) and WORD.fullmatch(t)]
    out.update({k: metadata[k] for k in CELL_FLAGS if isinstance(metadata.get(k), bool)})
    if metadata.get("scrolled") in (True, False, "auto"):
        out["scrolled"] = metadata["scrolled"]
    jupyter = metadata.get("jupyter")
    if isinstance(jupyter, Mapping):
        flags = {k: jupyter[k] for k in ("source_hidden", "outputs_hidden") if isinstance(jupyter.get(k), bool)}
        if flags:
            out["jupyter"] = flags
    return out


def _plain(section: Any, fields: tuple[str, ...]) -> dict:
    """The ``fields`` of ``section`` that are short plain strings (names, versions)."""
    if not isinstance(section, Mapping):
        return {}
    return {k: section[k] for k in fields if isinstance(section.get(k), str) and PLAIN.fullmatch(section[k])}


def _notebook_metadata(metadata: Mapping[str, Any], notes: list[str]) -> dict:
    out = {"kernelspec": _plain(metadata.get("kernelspec"), KERNELSPEC_FIELDS),
           "language_info": _plain(metadata.get("language_info"), LANGUAGE_FIELDS)}
    mode = metadata["language_info"].get("codemirror_mode") if out["language_info"] else None
    if isinstance(mode, Mapping):
        mode = {**_plain(mode, ("name",)), **({"version": mode["version"]} if type(mode.get("version")) is int else {})}
    if mode and (isinstance(mode, dict) or (isinstance(mode, str) and PLAIN.fullmatch(mode))):
        out["language_info"]["codemirror_mode"] = mode
    if not {"name", "display_name"} <= set(out["kernelspec"]):
        out["kernelspec"] = {}  # nbformat's schema requires both
    dropped = sorted(str(k)[:40] for k in metadata if k not in ("kernelspec", "language_info"))
    if dropped:
        notes.append(f"notebook metadata dropped: {', '.join(dropped)}")
    return {k: v for k, v in out.items() if v}


def _raster(mime: str, data: Any) -> str | None:
    """``data`` as a base64 string if it is an image of type ``mime`` (checked by its signature)."""
    text = _text(data)
    if not BASE64.fullmatch(text or "-"):
        return None
    try:
        head = base64.b64decode(re.sub(r"\s", "", text)[:64] + "==", validate=False)
    except (binascii.Error, ValueError):
        return None
    return text if head.startswith(RASTER[mime]) else None


def _attachments(attachments: Mapping[str, Any], where: str, notes: list[str]) -> dict:
    kept = {}
    for name, bundle in attachments.items():
        images = {m: _raster(m, d) for m, d in bundle.items() if m in RASTER} if isinstance(bundle, Mapping) else {}
        images = {m: d for m, d in images.items() if d is not None}
        if isinstance(name, str) and WORD.fullmatch(name) and images:
            kept[name] = images
        if name not in kept or set(images) != set(bundle):
            notes.append(f"{where}: attachment {str(name)[:40]!r} kept as raster images only")
    return kept


def _clean_text(text: Any) -> str:
    return NON_CSI_ESCAPE.sub("", _text(text))


def _output(output: Mapping[str, Any], where: str, notes: list[str]) -> list[nbformat.NotebookNode]:
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return [nbformat.v4.new_output("stream", name=name, text=_clean_text(output.get("text", "")))]
    if kind == "error":
        trace = output.get("traceback") if isinstance(output.get("traceback"), list) else []
        return [nbformat.v4.new_output("error", ename=_clean_text(output.get("ename", "")),
                                       evalue=_clean_text(output.get("evalue", "")), traceback=[_clean_text(t) for t in trace])]
    if kind not in ("display_data", "execute_result"):
        notes.append(f"{where}: an output of type {str(kind)[:40]!r} removed")
        return []
    data = output.get("data") if isinstance(output.get("data"), Mapping) else {}
    kept: dict[str, str] = {}
    for mime, value in data.items():
        if mime == "text/plain":
            kept[mime] = _clean_text(value)
        elif mime in RASTER and _raster(mime, value) is not None:
            kept[mime] = _text(value)
    dropped = [m for m in data if m not in kept]
    if dropped:
        notes.append(f"{where}: output of type {', '.join(str(m)[:60] for m in dropped)} shown as text")
        if not kept:
            shown = next((_text(data[m]) for m in dropped if isinstance(data[m], (str, list))), "")
            if len(shown) > SHOWN_AS_TEXT_LIMIT:
                shown = shown[:SHOWN_AS_TEXT_LIMIT] + f"\n... ({len(shown) - SHOWN_AS_TEXT_LIMIT} more characters)"
            kept["text/plain"] = f"[the grader shows this {str(dropped[0])[:60]} output as text]\n" + _clean_text(shown)
    metadata = {}
    for mime in kept.keys() & RASTER.keys():
        sizes = (output.get("metadata") or {}).get(mime)
        sizes = {k: sizes[k] for k in ("width", "height") if isinstance(sizes, Mapping) and type(sizes.get(k)) in (int, float)
                 and 0 < sizes[k] < 100_000} if isinstance(sizes, Mapping) else {}
        if sizes:
            metadata[mime] = sizes
    if kind == "execute_result":
        count = output.get("execution_count")
        return [nbformat.v4.new_output("execute_result", data=kept, metadata=metadata,
                                       execution_count=count if type(count) is int else None)]
    return [nbformat.v4.new_output("display_data", data=kept, metadata=metadata)]
