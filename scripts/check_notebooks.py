#!/usr/bin/env python3
"""Checks the notebooks scripts/notebooks.sh executed: one verdict per notebook in notebooks/.

A notebook passes when its executed copy exists, is valid nbformat 4, is under 2 MB, has every code cell
executed with no error output, EdgeLlm's outputs carry text/plain beside their rich form, EdgeLlm's own values were shown by EdgeLlm's
formatters (the kernel's default tree view of an EdgeLlm object is a failure: that is how a 972 KB model output
happened), every figure has a PNG and Plotly's JSON mime type, no output embeds plotly.js, and no single output
but an image is over 100 KB.
"""
import base64, json, os, sys
import nbformat

MAX_NOTEBOOK = 2 * 1024 * 1024
MAX_OUTPUT = 100 * 1024
PLOTLY = "application/vnd.plotly.v1+json"


def text(value):
    return "".join(value) if isinstance(value, list) else value if isinstance(value, str) else json.dumps(value)


def problems(source, executed):
    if not os.path.exists(executed):
        return ["no executed copy (see the .log beside it)"]
    found = []
    size = os.path.getsize(executed)
    if size >= MAX_NOTEBOOK:
        found.append(f"executed notebook is {size} bytes (limit {MAX_NOTEBOOK})")
    nb = nbformat.read(executed, as_version=4)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        found.append(f"not valid nbformat: {e.message}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    expected = [c for c in nbformat.read(source, as_version=4).cells if c.cell_type == "code"]
    if len(code) != len(expected) or not code:
        found.append(f"{len(code)} code cells, the source has {len(expected)}")
    first = code[0].source if code else ""
    if '#r "nuget: EdgeLlm' not in first:
        found.append("the first code cell does not reference the EdgeLlm package")
    loaded = "".join(text(o.get("data", {}).get("text/plain", "")) for o in (code[0].outputs if code else []))
    if "edgellm/0.1.0/interactive-extensions/dotnet/extension.dib" not in loaded:
        found.append("the kernel did not load EdgeLlm's extension.dib (an EdgeLlm 0.1.0 without it was restored?)")
    figures = 0
    for i, cell in enumerate(code, 1):
        where = f"code cell {i}"
        if cell.get("execution_count") is None:
            found.append(f"{where} was not executed")
        for out in cell.outputs:
            kind = out.output_type
            if kind == "error":
                found.append(f"{where} raised {out.get('ename', '')}: {text(out.get('evalue', '')).splitlines()[0] if out.get('evalue') else ''}")
                continue
            if kind == "stream":
                if len(text(out.text)) > MAX_OUTPUT:
                    found.append(f"{where}: a {len(text(out.text))}-character stream output")
                continue
            data = out.get("data", {})
            html = text(data.get("text/html", ""))
            ours = 'class="edgellm-' in html or PLOTLY in data
            if ours and "text/plain" not in data:
                found.append(f"{where}: an EdgeLlm {kind} output without text/plain ({', '.join(data)})")
            for mime, value in data.items():
                n = len(text(value))
                if n > MAX_OUTPUT and not mime.startswith("image/"):
                    found.append(f"{where}: {mime} output of {n} characters (limit {MAX_OUTPUT})")
            if "dni-treeview" in html and "<code>EdgeLlm." in html:
                found.append(f"{where}: an EdgeLlm value fell back to the kernel's default formatter")
            if "Plotly.newPlot" in html or "plotly.js v" in html:
                found.append(f"{where}: an output embeds plotly.js")
            if text(data.get("text/plain", "")).startswith("Plotly figure"):
                figures += 1
                png = data.get("image/png")
                if not png or base64.b64decode(text(png))[:8] != b"\x89PNG\r\n\x1a\n":
                    found.append(f"{where}: a figure without a PNG")
                if PLOTLY not in data:
                    found.append(f"{where}: a figure without {PLOTLY}")
                else:
                    figure = data[PLOTLY] if isinstance(data[PLOTLY], dict) else json.loads(text(data[PLOTLY]))
                    if not figure.get("data"):
                        found.append(f"{where}: {PLOTLY} holds no traces")
                if "text/html" in data:
                    found.append(f"{where}: a figure with text/html (viewers would prefer it to the PNG)")
    source_text = "".join(c.source for c in expected)
    if ("PaperFigures." in source_text or "Charts." in source_text) and figures == 0:
        found.append("draws figures but no figure output was found")
    if not os.path.exists(executed[:-len(".ipynb")] + ".html"):
        found.append("no HTML export")
    return found


def main(source_dir, out_dir):
    passed = failed = 0
    times = {}
    if os.path.exists(os.path.join(out_dir, "times.tsv")):
        times = dict(line.rstrip("\n").split("\t") for line in open(os.path.join(out_dir, "times.tsv")))
    for name in sorted(f for f in os.listdir(source_dir) if f.endswith(".ipynb")):
        stem = name[:-len(".ipynb")]
        found = problems(os.path.join(source_dir, name), os.path.join(out_dir, name))
        took = f" ({times[stem]} s)" if stem in times else ""
        if found:
            failed += 1
            print(f"notebook {name}: FAILED{took}")
            for p in found:
                print(f"  {p}")
        else:
            passed += 1
            print(f"notebook {name}: passed{took}")
    print(f"notebooks: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
