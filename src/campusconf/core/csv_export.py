"""CSV downloads: cells a spreadsheet would run as formulas are defused, and no cache
keeps the file.

A cell that starts with ``= + - @``, a tab or a carriage return is read by Excel and
LibreOffice as a formula (OWASP, "CSV Injection"); names, reasons and vendor error
messages are free text that someone outside the university may have written. Such a
cell gets a leading apostrophe, which the spreadsheet shows as text and does not run.
The full-width forms are defused as well, as a precaution: Japanese input methods type
them, and a spreadsheet may read them as their ASCII forms.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.cache import add_never_cache_headers

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like that hands each written row back, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_download(
    filename: str,
    header: Iterable[str],
    rows: Iterable[Iterable[Any]],
    *,
    stream: bool = False,
) -> HttpResponse | StreamingHttpResponse:
    """A CSV attachment, every cell through ``safe_cell``; streamed for exports that can
    outgrow memory (the audit log), built whole otherwise."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([safe_cell(name) for name in header])
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    content_type = "text/csv; charset=utf-8"
    response: HttpResponse | StreamingHttpResponse
    if stream:
        response = StreamingHttpResponse(lines(), content_type=content_type)
    else:
        response = HttpResponse("".join(lines()), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response
