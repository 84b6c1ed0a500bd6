"""The contract PDF: warm render time (median of 30) beside a one-paragraph WeasyPrint document rendered in the
same run, and the cold time of the `forms render` command (a new process: imports, fonts, first render).
Target (issue 6): warm render under 200 ms."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app import create_app
from app.core.pdf import render_pdf
from app.forms import services
from app.forms.registry import get_form

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "employment-contract.json"
ROUNDS = 30


def median_ms(call) -> float:
    call()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="lotsen-bench-pdf-") as instance:
        app = create_app({"LOTSEN_INSTANCE_PATH": instance, "LOTSEN_ENV": "testing"})
        with app.app_context(), app.test_request_context():
            organisation = services.Organisation("Exempelkommun", "Stadshuset, 123 45 Exempelstad", "212000-0000")
            definition = get_form("employment-contract")
            baseline = median_ms(lambda: render_pdf("<html><body><p>Ett stycke text, åäö.</p></body></html>"))
            contract = median_ms(lambda: services.render_document(definition, data, organisation, draft=False))
        out = Path(instance) / "avtal.pdf"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "forms", "render", "employment-contract",
                        str(EXAMPLE), "--out", str(out)], cwd=ROOT, check=True, capture_output=True,
                       env={"LOTSEN_INSTANCE_PATH": instance, "PATH": "/usr/bin:/bin"})
        cold = (time.perf_counter() - started) * 1000
    print(f"pdf_one_paragraph_baseline_ms: {baseline:.1f}")
    print(f"pdf_contract_warm_ms: {contract:.1f}")
    print(f"pdf_contract_warm_ratio: {contract / baseline:.2f}")
    print(f"pdf_forms_render_cold_ms: {cold:.0f}", flush=True)
