"""CSV downloads that Swedish Excel opens as they are: semicolons, a byte-order mark, and text that a spreadsheet
would read as a formula (a department named ``=HYPERLINK(...)``) kept as text."""

from __future__ import annotations

import csv
import io

from flask import Response


def safe_cell(value):
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def csv_response(name: str, header: list[str], rows: list[list]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows([[safe_cell(value) for value in row] for row in rows])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
