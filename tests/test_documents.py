"""Packing slips, pick lists and invoices: rendered, then read back from the PDF."""

from __future__ import annotations

import io
import re
import sys

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from backorder.config import StoreConfig
from backorder.documents.data import DocumentError, iter_orders
from backorder.documents.render import BUILTIN_TEMPLATES, KINDS, render_bytes, render_html
from backorder.documents.settings import TemplateSettings
from backorder.documents.templating import TemplateProblem
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.platforms import weasyprint_renderer
from backorder.plugins import BUILTIN_PLUGINS, make_manager

CATALOG = [
    ItemInput(sku="CREME", name="Crème brûlée set", on_hand=3, assigned=False),
    ItemInput(sku="KOFE", name="Кофемолка Ørsted", on_hand=0, assigned=False),
    ItemInput(sku="MUG", name="Zoë's mug", on_hand=50, assigned=False),
]


def make_store(**templates) -> StoreConfig:
    if templates:  # these tests' templates live in tmp_path, outside the working folder
        templates.setdefault("allow_outside_config", True)
    return StoreConfig(
        name="Café Straße",
        settings=StoreSettings(defaults=BackorderPolicy(threshold=100)),
        templates=TemplateSettings(**templates),
    )


@pytest.fixture
def shop(backorder_db):
    store = make_store()
    service = StoreService(backorder_db, store)
    service.upsert_catalog(CATALOG)
    service.assign([item.sku for item in CATALOG])
    service.place_order(  # CREME: 3 in stock + 2 backordered; KOFE: 4 backordered
        OrderIn(
            order_id="1001",
            customer_email="zoë@example.com",
            lines=[LineRequest(sku="CREME", qty=5), LineRequest(sku="KOFE", qty=4)],
        )
    )
    service.place_order(OrderIn(order_id="1002", lines=[LineRequest(sku="MUG", qty=2)]))
    return service


@pytest.fixture(scope="module")
def pm():
    """The built-in plugins only (the renderer among them)."""
    manager = make_manager(load_entry_points=False)
    return manager


def test_the_renderer_is_a_builtin_plugin(pm):
    assert pm.get_plugin("weasyprint") is weasyprint_renderer
    assert BUILTIN_PLUGINS["weasyprint"] == weasyprint_renderer.__name__


def orders(service, *ids):
    with service.db.transaction() as conn:
        return list(iter_orders(conn, service.name, list(ids)))


def pdf_pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    # one space for any run of whitespace: table cells and wrapped lines read as words
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pick_list_pdf_shows_backordered_quantities_and_the_message(shop, pm):
    html = render_html("pick-list", orders(shop, "1001", "1002"), shop.store)
    (text,) = pdf_pages(render_bytes(pm, html))
    assert "Café Straße · Pick list" in text
    assert "Qty Backordered" in text
    # on hand is now 3-5 = -2: "in stock now" never reads below 0
    no_date = r"\s+no date yet\s+"  # the Expected column: no receipt covers these lines
    # ordered, cancelled, shipped, to pick, backordered
    assert re.search(
        rf"Crème brûlée set\s+5\s+0\s+0\s+3\s+2{no_date}0 in stock, 2 backordered", text
    )
    assert re.search(
        rf"Кофемолка Ørsted\s+4\s+0\s+0\s+0\s+4{no_date}0 in stock, 4 backordered", text
    )
    assert re.search(r"Zoë's mug 2 0 0 2 0(?! \d+ in stock)", text)  # no backorder, no message
    assert "Page 1 of 1" in text


def test_pick_list_message_is_the_merchants(backorder_db, shop, pm):
    store = make_store(
        pick_list_message="[orderItemQtyInStock] now, [orderItemQtyBackordered] later "
        "(<b>[orderItemSku]</b>)"
    )
    html = render_html("pick-list", orders(shop, "1001"), store)
    assert "3 now, 2 later (&lt;b&gt;CREME&lt;/b&gt;)" in html  # text, escaped into HTML
    page = pdf_pages(render_bytes(pm, html))[0].replace("</ b>", "</b>")  # a narrower column
    assert "3 now, 2 later (<b>CREME</b>)" in page


def test_batch_pick_list_repeats_the_header_and_numbers_pages(backorder_db, pm):
    service = StoreService(backorder_db, make_store())
    service.upsert_catalog(CATALOG)
    service.assign(["CREME"])
    ids = [str(2000 + n) for n in range(90)]
    for order_id in ids:
        service.place_order(OrderIn(order_id=order_id, lines=[LineRequest(sku="CREME", qty=1)]))
    pages = pdf_pages(
        render_bytes(pm, render_html("pick-list", orders(service, *ids), service.store))
    )
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "Café Straße · Pick list" in text
        assert "Qty Backordered" in text  # the table header, repeated
        assert f"Page {number} of {len(pages)}" in text
    everything = "\n".join(pages)
    assert all(f"Order {order_id}" in everything for order_id in ids)
    assert "Pick list: 90 orders, 87 units backordered" in pages[0]  # 3 were in stock
    assert everything.count("0 in stock, 1 backordered") == 87


def test_invoice_has_qty_ordered_and_qty_backordered_columns(shop, pm):
    (text,) = pdf_pages(render_bytes(pm, render_html("invoice", orders(shop, "1001"), shop.store)))
    assert "Qty Ordered" in text and "Qty Backordered" in text
    assert re.search(r"1\s+CREME\s+Crème brûlée set\s+5\s+0\s+0\s+2", text)
    assert re.search(r"Total\s+9\s+0\s+0\s+6", text)


def test_packing_slips_one_per_order_with_the_backorder_notice(shop, pm):
    html = render_html("packing-slip", orders(shop, "1001", "1002"), shop.store)
    first, second = pdf_pages(render_bytes(pm, html))
    assert "Packing slip · order 1001" in first and "zoë@example.com" in first
    assert "6 item(s) of order 1001 are on backorder" in first
    assert "4 × Кофемолка Ørsted on backorder" in first  # the storefront's order note
    assert re.search(r"Total\s+9\s+0\s+0\s+3\s+6", first)
    assert "Packing slip · order 1002" in second and "on backorder" not in second
    assert "Page 2 of 2" in second


def test_unknown_orders_are_named(shop):
    with pytest.raises(DocumentError, match=r"no such order in store 'Café Straße': 999, 1000"):
        orders(shop, "1001", "999", "1000")


def test_store_override_directory_and_builtin_extends(shop, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "invoice.html").write_text(
        '{% extends "builtin/invoice.html" %}{% block content %}<p>Thanks from '
        "{{ store.name }}!</p>{{ super() }}{% endblock %}",
        encoding="utf-8",
    )
    html = render_html("invoice", orders(shop, "1001"), make_store(directory=folder))
    assert "<p>Thanks from Café Straße!</p>" in html and "Qty Backordered" in html


def test_store_override_single_file(shop, tmp_path):
    mine = tmp_path / "slip.html"
    mine.write_text("{% for o in orders %}[{{ o.order_id }}:{{ o.backordered }}]{% endfor %}")
    html = render_html(
        "packing-slip", orders(shop, "1001"), make_store(files={"packing_slip.html": mine})
    )
    assert html == "[1001:6]"


def test_template_errors_name_the_template_and_line(shop, tmp_path):
    mine = tmp_path / "pick.html"
    mine.write_text("<p>ok</p>\n<p>{{ orders[0].eta }}</p>\n")
    store = make_store(files={"pick_list.html": mine})
    with pytest.raises(TemplateProblem) as error:
        render_html("pick-list", orders(shop, "1001"), store)
    assert error.value.template == str(mine) and error.value.line == 2
    assert "eta" in str(error.value)
    mine.write_text("<p>\n{% for x in orders %}\n")
    with pytest.raises(TemplateProblem, match=rf"{re.escape(str(mine))} line \d+: .*endfor"):
        render_html("pick-list", orders(shop, "1001"), store)


def test_template_injection_is_refused_by_the_sandbox(shop, tmp_path):
    mine = tmp_path / "evil.html"
    mine.write_text("<p>{{ title }}</p>\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    store = make_store(files={"invoice.html": mine})
    with pytest.raises(TemplateProblem) as error:
        render_html("invoice", orders(shop, "1001"), store)
    assert error.value.line == 2 and "refused (sandbox)" in str(error.value)
    assert "__class__" in str(error.value)


def test_renderer_fetches_no_local_files(tmp_path, pm):
    secret = tmp_path / "leak.css"
    secret.write_text('body::before { content: "LEAKED-SECRET"; }')
    html = f'<html><head><link rel="stylesheet" href="{secret.as_uri()}"></head><body>x</body>'
    assert "LEAKED-SECRET" not in pdf_pages(render_bytes(pm, html))[0]
    import weasyprint  # the control: WeasyPrint left to itself would read it

    assert "LEAKED-SECRET" in pdf_pages(weasyprint.HTML(string=html).write_pdf())[0]


def test_no_renderer_is_a_clear_error():
    bare = make_manager(load_entry_points=False)
    bare.unregister(name="weasyprint")
    with pytest.raises(DocumentError, match="no renderer plugin makes 'pdf'"):
        render_bytes(bare, "<p>x</p>", "pdf")


def test_templates_ship_with_the_package():
    assert all((BUILTIN_TEMPLATES / name).is_file() for name, _ in KINDS.values())


@pytest.fixture
def cli_config(tmp_path, shop):
    config = tmp_path / "backorder.toml"
    config.write_text(
        f'database = "{shop.db.url}"\n[stores."Café Straße".settings.defaults]\nthreshold = 100\n'
        '[stores."Café Straße".templates]\n'
        'pick_list_message = "[cataloginventoryItemQty] here, [orderItemQtyBackordered] to come"\n',
        encoding="utf-8",
    )
    return config


def test_cli_renders_a_pick_list_pdf(cli_config, tmp_path):
    from backorder.commands import main

    out = tmp_path / "pick.pdf"
    result = CliRunner().invoke(
        main, ["--config", str(cli_config), "render", "pick-list", "--all", "--pdf", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "pick list for 2 order(s), 6 unit(s) backordered" in result.stdout
    (text,) = pdf_pages(out.read_bytes())
    assert "0 here, 2 to come" in text and "0 here, 4 to come" in text


def test_cli_pdf_without_the_pdf_extra_is_one_line_and_exit_2(cli_config, tmp_path, monkeypatch):
    from backorder.commands import main

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if not installed
    out = tmp_path / "pick.pdf"
    result = CliRunner().invoke(
        main, ["--config", str(cli_config), "render", "pick-list", "--all", "--pdf", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()
    assert [line for line in result.output.splitlines() if "error" in line] == [
        "error: backorder: its pdf needs the package 'weasyprint', which is not installed; "
        "run: pip install 'backorder[pdf]'"
    ]


def test_cli_html_to_stdout_and_errors(cli_config):
    from backorder.commands import main

    runner = CliRunner()
    html = runner.invoke(main, ["--config", str(cli_config), "render", "invoice", "1002"])
    assert html.exit_code == 0 and '<td class="num waiting">0</td>' in html.stdout
    missing = runner.invoke(main, ["--config", str(cli_config), "render", "invoice", "77"])
    assert missing.exit_code == 2 and "no such order" in missing.output and "77" in missing.output
    nothing = runner.invoke(main, ["--config", str(cli_config), "render", "invoice"])
    assert nothing.exit_code == 2 and "--all" in nothing.output


def words_past_the_right_margin(pdf: bytes, tmp_path) -> list[str]:
    """Words poppler places beyond the page's right margin (14 mm, see ``_style.css``)."""
    import shutil
    import subprocess
    import xml.etree.ElementTree as ET

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils, installed by `make setup`) is not on PATH")
    source, boxes = tmp_path / "doc.pdf", tmp_path / "doc.html"
    source.write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", str(source), str(boxes)], check=True)
    margin = 14 / 25.4 * 72  # points
    past = []
    for page in ET.parse(boxes).getroot().iter("{http://www.w3.org/1999/xhtml}page"):
        right = float(page.get("width")) - margin + 1  # a point for rounding
        for word in page.iter("{http://www.w3.org/1999/xhtml}word"):
            if float(word.get("xMax")) > right:
                past.append(word.text)
    return past


@pytest.mark.parametrize("kind", ["packing-slip", "pick-list", "invoice"])
def test_every_column_fits_the_page(shop, pm, kind, tmp_path):
    """A4 with every lifecycle column filled: nothing runs off the right edge (it once did)."""
    shop.cancel("1001", {"KOFE": 1})
    shop.ship("1002", {"MUG": 1})
    html = render_html(kind, orders(shop, "1001", "1002"), shop.store)
    assert words_past_the_right_margin(render_bytes(pm, html), tmp_path) == []
