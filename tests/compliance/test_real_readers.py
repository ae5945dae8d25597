"""The docx and xlsx reports opened in a real reader: LibreOffice (headless) converts them to PDF,
poppler reads the pages back. A4 on every page, no table running off the page, the Chinese text
present and drawn with a CJK font. Page images are kept under test-artifacts/reports/ (ignored by
git) to look at."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from cli.main import main
from tests.compliance.conftest import CONTRACTS, REPO
from tests.compliance.ledgers import MUNICIPAL_NOW, fault, municipal_month
from tests.peers import need_binary

ARTIFACTS = REPO / "test-artifacts" / "reports"
A4 = (595.3, 841.9)  # points, portrait
CM = 72 / 2.54
CAUSES = ["connection refused", "100% loss (3 sent)", "auth failed", "timed out after 2.0 s", "接入交换机端口故障"]


def busy_month() -> list[dict[str, object]]:
    """The municipal golden month plus 60 level-3 faults on devices with long names and English causes:
    a fault table over several pages and the appendix of raw causes."""
    lines = municipal_month()
    for i in range(60):
        day = 11 + i % 18
        lines.append(fault(f"X{i:02d}", 3, f"2026-09-{day:02d}T{8 + i % 10:02d}:15", f"2026-09-{day:02d}T{8 + i % 10:02d}:40",
                           f"2026-09-{day:02d}T{9 + i % 10:02d}:55", unit="gaj", system="tianyan",
                           device=f"tianyan-camera-crossroad-{i:03d}-north-entrance", cause=CAUSES[i % len(CAUSES)]))
    return lines


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    soffice = need_binary("soffice", "/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice")
    need_binary("pdftoppm", "/usr/bin/pdftoppm")
    tmp = tmp_path_factory.mktemp("readers")
    ledger = tmp / "month.jsonl"
    ledger.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in busy_month()), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for fmt in ("docx", "xlsx"):
        report = tmp / f"municipal-2026-09-{fmt}.{fmt}"  # one PDF name per format
        assert main(["report", "-q", "-c", str(tmp / "none.yaml"), "--contract", str(CONTRACTS / "municipal.yaml"),
                     "--period", "2026-09", "--ledger", str(ledger), "--now", MUNICIPAL_NOW, "-o", str(report)]) == 0
        # a private profile: no clash with a LibreOffice the user has open
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp / 'profile'}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp), str(report)], check=True, capture_output=True, timeout=240)
        pdf = report.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice wrote no PDF for {report.name}"
        for old in ARTIFACTS.glob(f"{fmt}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / fmt)], check=True, timeout=120)
        out[fmt] = pdf
    return out


def pages(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, xMin, xMax, word) of every word, from pdftotext's bounding boxes."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        for x_min, x_max, text in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)',
                                             page):
            found.append((number, float(x_min), float(x_max), text))
    return found


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_docx_pages_are_a4_portrait_and_nothing_runs_off_them(pdfs: dict[str, Path]) -> None:
    sizes = pages(pdfs["docx"])
    assert 4 <= len(sizes) <= 30, f"{len(sizes)} pages"
    assert all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in sizes)
    right_edge = A4[0] - 2.6 * CM  # the text area's right margin
    left_edge = 2.8 * CM
    outside = [(p, a, b, t) for p, a, b, t in words(pdfs["docx"]) if b > right_edge + 3 or a < left_edge - 3]
    # the footer's page number is centred; nothing else may leave the text area
    assert outside == [], outside[:5]
    assert len(list(ARTIFACTS.glob("docx-*.png"))) == len(sizes)


def test_docx_text_is_chinese_in_a_cjk_font(pdfs: dict[str, Path]) -> None:
    text = text_of(pdfs["docx"])
    compact = re.sub(r"\s+", "", text)  # a header cell may wrap: 未知时 / 长
    for expected in ("运维工作月报", "一、汇总", "市大数据局", "蓝天卫士", "在线率", "未知时",
                     "连接被拒绝", "附录：故障原因原文", "connectionrefused", "2026-09-15", "97.86%"):
        assert expected in compact, expected
    fonts = subprocess.run(["pdffonts", str(pdfs["docx"])], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK|WenQuanYi|Hei|Song|Ming", fonts), fonts
    # the fault table runs over pages with its header repeated on each
    fault_pages = [page for page in (re.sub(r"\s+", "", p) for p in text.split("\f")) if "north-entrance" in page
                   and "接入交换机" in page and "附录" not in page]
    assert len(fault_pages) >= 2 and all("发生时间" in page for page in fault_pages)


def test_xlsx_prints_on_a4_fitted_to_the_width(pdfs: dict[str, Path]) -> None:
    sizes = pages(pdfs["xlsx"])
    assert 5 <= len(sizes) <= 30, f"{len(sizes)} pages"
    assert sizes[0] == pytest.approx(A4, abs=1)  # 汇总: portrait
    assert all(w == pytest.approx(A4[1], abs=1) and h == pytest.approx(A4[0], abs=1) for w, h in sizes[1:])  # landscape
    for page, _a, x_max, word in words(pdfs["xlsx"]):
        assert x_max <= sizes[page - 1][0] - 20, (page, word)  # fitted to the page width
    text = text_of(pdfs["xlsx"])
    compact = re.sub(r"\s+", "", text)
    for expected in ("运维工作月报", "蓝天卫士", "设备在线率", "市大数据局", "连接被拒绝", "第1页", "99.95%", "48,437.50"):
        assert expected in compact, expected
    # the header row is repeated on every page of the long device list
    device_pages = [page for page in text.split("\f") if "lantian-0" in page]
    assert device_pages and all("在线（小时）" in page for page in device_pages)
