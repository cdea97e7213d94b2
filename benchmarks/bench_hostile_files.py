"""Files that cost far more than their size: how fast the importer refuses them, and its peak memory.

A zip bomb (1.5 MB holding 1.5 GB of XML), a sheet declaring A1:XFD1048576 with a row at 1,048,576, and a real
300,000-row workbook (over the 250,000-row limit). Target: each refused within seconds, in bounded memory.
Run: .venv/bin/python benchmarks/bench_hostile_files.py
"""

from __future__ import annotations

import io
import re
import resource
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402

from core.payroll.file_import import parse_journal_file  # noqa: E402
from core.payroll.tables import COLUMNS  # noqa: E402

ROW = ["Jan", 1, 2026, 1, None, None, None, None, "4000", "Salaris", 1, None]


def workbook(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(COLUMNS))
    for _ in range(rows):
        sheet.append(ROW)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_sheet(data: bytes, write) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w") as part:
                    write(part, source.read(info).decode())
            else:
                target.writestr(info.filename, source.read(info))
    return out.getvalue()


def zip_bomb() -> bytes:
    def write(part, xml: str) -> None:
        head, tail = xml.split("</sheetData>")
        part.write((head + "</sheetData>").encode())
        chunk = b" " * (1 << 20)
        for _ in range(1500):
            part.write(chunk)
        part.write(tail.encode())
    return with_sheet(workbook(1), write)


def dimension_bomb() -> bytes:
    def write(part, xml: str) -> None:
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)
        part.write(xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                                "</c></row></sheetData>").encode())
    return with_sheet(workbook(1), write)


def main() -> None:
    for name, make in (("zip bomb", zip_bomb), ("dimension bomb", dimension_bomb),
                       ("300,000 real rows", lambda: workbook(300_000))):
        data = make()
        start = time.perf_counter()
        result = parse_journal_file("journaal.xlsx", data, company_code="BENCH")
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name:<18} {len(data) / 1e6:6.2f} MB on disk  refused in {seconds:6.2f} s  peak RSS so far "
              f"{peak:5.0f} MB  ({result.errors[0].message if result.errors else 'NOT REFUSED'})")


if __name__ == "__main__":
    main()
