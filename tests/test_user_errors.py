"""A user's mistakes through the CLI: one line saying what is wrong and where, exit status 2,
the store unchanged; never a traceback (issue 17, and issue 20 items 10-12)."""

from __future__ import annotations

import csv
import hashlib
import io
import time

import pytest
from click.testing import CliRunner
from core_support import PG_URL, pg_unavailable, sqlite_rows

from backorder.commands import main
from backorder.models import MAX_QTY


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")
    monkeypatch.delenv("BACKORDER_CONFIG", raising=False)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, **kwargs):
        return runner.invoke(main, [str(a) for a in args], **kwargs)

    return invoke


def store_digest(tmp_path) -> str:
    db = tmp_path / "backorder.db"
    return hashlib.sha256(db.read_bytes()).hexdigest() if db.exists() else ""


def refused(result, *needles: str) -> str:
    """The one error line of a refused command (asserting exit 2 and no traceback)."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)
    return lines[0]


@pytest.fixture
def shop(cli, tmp_path):
    """A store with three assigned items: A (3 on hand), B (-2), C (0)."""
    (tmp_path / "items.csv").write_text("SKU,Name,Stock\nA,Apple,3\nB,Bean,-2\nC,Corn,0\n")
    out = cli("import", "items.csv", "--mode", "assign")
    assert out.exit_code == 0, out.output
    return cli


# ------------------------------------------------------------------ huge quantities
@pytest.mark.parametrize(
    "args",
    [
        ("order", "1", "A=100000000000000000000000"),
        ("edit", "A", "--stock", "100000000000000000000000"),
        ("edit", "A", "--stock", str(MAX_QTY + 1)),
        ("edit", "A", "--incoming", "100000000000000000000000"),
    ],
)
def test_a_quantity_beyond_the_documented_maximum_is_refused(shop, tmp_path, args):
    before = store_digest(tmp_path)
    refused(shop(*args), "1000000000")
    assert store_digest(tmp_path) == before


# ------------------------------------------------------------------ CSV files
def write(tmp_path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return name


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        ("SKU,Stock\nA,100000000000000000000000\n", ["big.csv:row 2: column Stock", "1,000,"]),
        ("SKU,Stock\nA,3000000000\n", ["big.csv:row 2: column Stock", "1,000,000,000"]),
        ("SKU,Stock\nA,999999999999999999\n", ["big.csv:row 2: column Stock"]),
        ("SKU,Stock\nA,-3000000000\n", ["big.csv:row 2: column Stock", "-1000000000"]),
        ("SKU,Incoming Stock\nA,12345678901234567890\n", ["row 2: column Incoming Stock"]),
        ("SKU,Backorder Threshold\nA,3000000000\n", ["row 2: column Backorder Threshold"]),
        ("SKU,Stock\nA, 3000000000 \n", ["big.csv:row 2: column Stock"]),  # the slow path
        ("SKU,Name\nA,a\x00b\n", ["big.csv:row 2: column Name", "NUL"]),
        ("SKU,Name\nA\x00,x\n", ["big.csv:row 2: column SKU", "NUL"]),
        ("SKU,Name\nA," + "x" * 200_000 + "\n", ["big.csv:row 2: a cell longer than 131,072"]),
        ('SKU,Name\nA,"open quote\nB,x\n' + "y" * 140_000 + "\n", ["big.csv:row 4: a cell"]),
        (b"SKU,Name\nA,caf\xe9\n", ["big.csv: not UTF-8 text", "CSV UTF-8"]),
        ("SKU;Stock\nA;3\n", ["big.csv:row 1: the file looks ';'-delimited"]),
        ("SKU\tStock\nA\t3\n", ["big.csv:row 1: the file looks tab-delimited"]),
        ("SKU," + ",".join(f"c{i}" for i in range(5000)) + "\n", ["5,001 columns", "at most 200"]),
    ],
)
def test_a_csv_that_cannot_be_stored_is_refused_naming_row_and_column(
    shop, tmp_path, data, needles
):
    before = store_digest(tmp_path)
    result = shop("import", write(tmp_path, "big.csv", data), "--mode", "update")
    refused(result, *needles)
    assert "nothing was imported" in result.output
    assert store_digest(tmp_path) == before


def test_the_header_check_is_linear_in_the_number_of_columns(shop, tmp_path):
    """40,000 repeated columns took 19 s when each was counted over the whole header."""
    header = ",".join(["Stock"] * 40_000)
    from backorder.imports.reading import _check_header

    started = time.process_time()
    errors = _check_header(["SKU", *header.split(",")], "wide.csv", None)
    assert errors == ["wide.csv:row 1: column Stock: appears twice"]
    assert time.process_time() - started < 5  # quadratic: minutes; linear: milliseconds


def test_a_huge_header_is_refused_by_its_column_count(shop, tmp_path):
    name = write(tmp_path, "wide.csv", ",".join(["Stock"] * 300_000) + "\n")
    refused(shop("import", name, "--mode", "update"), "300,000 columns", "at most 200")


# ------------------------------------------------------------------ database URLs
@pytest.mark.parametrize(
    ("url", "needles"),
    [
        ("foo://x", ["database 'foo://x'", "unknown kind of database 'foo'"]),
        ("garbage", ["database 'garbage'", "not a database URL"]),
        ("postgresql+asyncpg://u:s3cret@localhost/x", ["no module 'asyncpg'", "u:***@"]),
        ("sqlite:///no/such/folder/x.db", ["sqlite:///no/such/folder/x.db", "cannot open it"]),
    ],
)
def test_a_database_url_that_cannot_work_is_one_line_naming_it(cli, url, needles):
    line = refused(cli("--db", url, "tick"), *needles)  # a command that opens the database
    assert "s3cret" not in line


def test_an_unreachable_postgresql_is_one_line_with_the_password_hidden(cli):
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/x"
    result = cli("--db", url, "status")
    line = refused(result, "postgres:***@127.0.0.1:1/x", "cannot open it")
    assert "s3cret" not in result.output and line.count("\n") == 0


def test_a_missing_postgresql_database_is_named(cli):
    if reason := pg_unavailable():
        pytest.skip(reason)
    missing = PG_URL.rsplit("/", 1)[0] + "/backorder_no_such_database"
    refused(cli("--db", missing, "status"), "backorder_no_such_database", "does not exist")


# ------------------------------------------------------------------ output paths
@pytest.mark.parametrize(
    "args",
    [
        ("export", "no/such/folder/out.csv"),
        ("report", "--csv", "no/such/folder/out.csv"),
        ("render", "packing-slip", "1", "--pdf", "no/such/folder/out.pdf"),
        ("render", "packing-slip", "1", "--html", "no/such/folder/out.html"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_first(shop, tmp_path, args):
    before = store_digest(tmp_path)
    refused(shop(*args), "no/such/folder/out", "cannot write there")
    assert store_digest(tmp_path) == before


def test_import_with_an_unwritable_change_log_changes_nothing(shop, tmp_path):
    """It used to apply the import, then crash writing the log: the changes were unlisted."""
    before = store_digest(tmp_path)
    name = write(tmp_path, "up.csv", "SKU,Stock\nA,7\n")
    result = shop("import", name, "--mode", "update", "--changes", "no/such/dir/changes.csv")
    refused(result, "--changes no/such/dir/changes.csv", "nothing was changed")
    assert store_digest(tmp_path) == before
    assert shop("import", name, "--mode", "update").exit_code == 0  # and it still applies


# ------------------------------------------------------------------ config
def test_backorder_config_naming_a_missing_file_is_an_error(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKORDER_CONFIG", str(tmp_path / "typo.toml"))
    refused(cli("status"), "typo.toml: no such config file", "BACKORDER_CONFIG")
    assert not (tmp_path / "backorder.db").exists()


def test_a_config_that_is_a_folder_is_one_line(cli, tmp_path):
    (tmp_path / "conf").mkdir()
    monkeypatched = cli("--config", "conf", "status")
    assert monkeypatched.exit_code == 2 and "Traceback" not in monkeypatched.output


# ------------------------------------------------------------------ CSV formula injection
FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def formula_shop(cli, tmp_path) -> None:
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["SKU", "Name", "Stock", "Category"])
    for n, text in enumerate(FORMULAS):
        writer.writerow([f"F{n}", text, -n, "=cat"])
    writer.writerow(["=SKU", "plain", 4, ""])
    (tmp_path / "evil.csv").write_text(rows.getvalue())
    out = cli("import", "evil.csv", "--mode", "assign")
    assert out.exit_code == 0, out.output


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_escapes_formulas_and_the_import_reads_them_back(cli, tmp_path):
    formula_shop(cli, tmp_path)
    assert cli("export", "out.csv").exit_code == 0
    rows = cells((tmp_path / "out.csv").read_text())
    names = {row[2]: row[3] for row in rows[1:]}
    for n, text in enumerate(FORMULAS):
        assert names[f"F{n}"] == "'" + text  # shown as text by a spreadsheet
    assert names["'=SKU"] == "plain"
    stock = {row[2]: row[4] for row in rows[1:]}
    assert stock["F2"] == "-2"  # a negative number is not a formula
    assert all(not cell.startswith(("=", "+", "@", "\t")) for row in rows for cell in row)
    before = store_digest(tmp_path)
    back = cli("import", "out.csv", "--mode", "update")
    assert back.exit_code == 0, back.output
    assert "0 changed, 5 unchanged" in back.output  # read back exactly as exported
    assert store_digest(tmp_path) != "" and cli("export", "again.csv").exit_code == 0
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "out.csv").read_text()
    assert before  # (the store existed)


def test_export_can_keep_formulas_when_asked(cli, tmp_path):
    formula_shop(cli, tmp_path)
    out = cli("export", "--keep-formulas")
    names = {row[2]: row[3] for row in cells(out.output)[1:]}
    assert names["F0"] == FORMULAS[0]


def test_the_change_log_escapes_formulas(cli, tmp_path):
    formula_shop(cli, tmp_path)
    write(tmp_path, "rename.csv", 'SKU,Name\nF1,"=1+1"\n')
    out = cli("import", "rename.csv", "--mode", "update", "--changes", "changes.csv")
    assert out.exit_code == 0, out.output
    rows = cells((tmp_path / "changes.csv").read_text())
    assert ["F1", "2", "name", "'" + FORMULAS[1], "'=1+1"] in rows


def test_the_report_escapes_formulas(cli, tmp_path):
    formula_shop(cli, tmp_path)
    out = cli("order", "1", "F0=1", "--email", "=evil@example.com")
    assert out.exit_code == 0, out.output
    report = cli("report", "--csv", "-")
    assert report.exit_code == 0, report.output
    flat = [cell for row in cells(report.output) for cell in row]
    assert "'" + FORMULAS[0] in flat and "'=evil@example.com" in flat
    assert not any(cell.startswith("=") for cell in flat)


# ------------------------------------------------------------------ read commands, the demo
def test_the_demo_never_writes_into_the_configured_store(cli, tmp_path):
    (tmp_path / "backorder.toml").write_text(
        f'database = "sqlite:///{tmp_path}/shop.db"\n[stores.shop]\nplatform = "core"\n'
    )
    out = cli("demo")
    assert out.exit_code == 0, out.output
    assert "backorder-demo.db" in out.output
    assert not (tmp_path / "shop.db").exists()
    assert (tmp_path / "backorder-demo.db").exists()


def test_render_shows_todays_promises_and_writes_nothing(cli, tmp_path):
    assert cli("demo").exit_code == 0
    db = tmp_path / "backorder-demo.db"
    before = sqlite_rows(db)
    out = cli("--db", f"sqlite:///{db}", "render", "packing-slip", "--all")
    assert out.exit_code == 0, out.output
    assert "D-1001" in out.output
    assert sqlite_rows(db) == before


# ------------------------------------------------------------------ silent or wrong
@pytest.fixture
def ny_shop(cli, tmp_path):
    """A store in New York: A and A2 variants of one product (3 each), B at 0."""
    (tmp_path / "backorder.toml").write_text(
        '[stores.demo.settings]\ntimezone = "America/New_York"\n'
    )
    (tmp_path / "items.csv").write_text(
        "Product ID,SKU,Name,Stock\n1,A,Apple,3\n1,A2,Apple 2,3\n2,B,Bean,0\n"
    )
    assert cli("import", "items.csv", "--mode", "assign").exit_code == 0
    return cli


def test_a_date_without_a_time_is_the_stores_local_day(ny_shop):
    out = ny_shop("edit", "B", "--incoming", "5", "--back-in-stock", "2026-12-24", "--json")
    assert out.exit_code == 0, out.output
    assert '"back_in_stock_date": "2026-12-24T00:00:00-05:00"' in out.output
    table = ny_shop("status")
    assert "2026-12-24" in table.output  # midnight UTC would show the 23rd in New York
    ny_shop("receipt", "B", "PO-1", "--qty", "3", "--expected", "2026-12-01")
    ny_shop("order", "7", "B=2")
    queue = ny_shop("fulfil-queue", "B")
    assert "expected 2026-12-01" in queue.output, queue.output


def test_enable_that_changes_nothing_says_why(ny_shop):
    out = ny_shop("enable", "A")
    assert out.exit_code == 0
    assert "A: nothing changed: on hand 3 is above the store's switch condition 0" in out.output
    again = ny_shop("enable", "B")
    assert "B: backorder was already on; nothing changed" in again.output


def test_unassign_lists_every_variant_it_unassigned(ny_shop):
    out = ny_shop("unassign", "A")
    assert out.exit_code == 0, out.output
    assert "A2" in out.output
    assert "also unassigned, as variants of the same product: A2" in out.output


def test_an_order_id_reused_with_other_lines_is_refused(ny_shop, tmp_path):
    assert ny_shop("order", "1001", "A=1").exit_code == 0
    before = store_digest(tmp_path)
    refused(ny_shop("order", "1001", "A=2"), "order 1001", "A 1 placed, 2 now")
    refused(ny_shop("order", "1001", "B=1"), "A 1 placed, 0 now", "B 0 placed, 1 now")
    assert store_digest(tmp_path) == before
    same = ny_shop("order", "1001", "A=1")
    assert same.exit_code == 0 and "already placed" in same.output


def test_storefront_without_qty_says_when_the_over_threshold_alert_applies(ny_shop):
    assert ny_shop("edit", "A", "--threshold", "0").exit_code == 0
    out = ny_shop("storefront", "A")
    assert out.exit_code == 0
    assert "(when more than 3 are added) Sorry, only 3 can be bought" in out.output
    with_qty = ny_shop("storefront", "A", "--qty", "9").output
    assert "over_threshold_alert   Sorry, only 3 can be bought" in with_qty


def test_the_packing_slip_notice_counts_only_units_still_waiting(cli, tmp_path):
    assert cli("demo").exit_code == 0
    db = f"sqlite:///{tmp_path}/backorder-demo.db"
    released = cli("--db", db, "render", "packing-slip", "D-1002")  # its unit is ready to ship
    assert released.exit_code == 0 and "ready to ship" in released.output
    assert "as soon as they are back in stock" not in released.output
    waiting = cli("--db", db, "render", "packing-slip", "D-1004")
    assert "6 item(s) of order D-1004 are on backorder" in waiting.output


def test_tick_reports_the_units_it_received(ny_shop):
    ny_shop("edit", "B", "--incoming", "5", "--back-in-stock", "2026-12-24")
    early = ny_shop("tick", "--now", "2026-12-23T12:00:00-05:00")
    assert "received" not in early.output
    out = ny_shop("tick", "--now", "2026-12-24T00:00:00-05:00")
    assert out.exit_code == 0, out.output
    assert "received 5 unit(s) of incoming stock for 1 item(s)" in out.output
    assert '"received": 0' in ny_shop("tick", "--now", "2026-12-25", "--json").output


def test_plan_limit_is_checked_before_any_row_is_applied(cli, tmp_path, monkeypatch):
    from backorder.imports import applying

    (tmp_path / "backorder.toml").write_text("[stores.demo.settings]\nplan_limit = 2\n")
    rows = "".join(f"{n},P{n},{n}\n" for n in range(1, 2001))
    (tmp_path / "many.csv").write_text("Product ID,SKU,Stock\n" + rows)

    def no_rounds(*args, **kwargs):
        raise AssertionError("a round of rows was planned before the plan limit was checked")

    monkeypatch.setattr(applying._Applier, "_round", no_rounds)
    result = cli("import", "many.csv", "--mode", "assign")
    refused(result, "plan limit: store 'demo' may assign 2 products", "at least 2000")


def test_status_pages_filters_and_streams_json(cli, tmp_path):
    import json

    rows = "".join(f"S{n:03},Item {n},{-1 if n % 3 == 0 else 5}\n" for n in range(60))
    (tmp_path / "many.csv").write_text("SKU,Name,Stock\n" + rows)
    assert cli("import", "many.csv", "--mode", "assign").exit_code == 0
    out = cli("status")
    lines = out.output.splitlines()
    assert lines[0] == "store 'demo' in sqlite:///backorder.db"
    assert lines[1] == "60 item(s): 20 backorder, 40 in stock"
    assert "S049" in out.output and "S050" not in out.output
    assert "showing 1-50 of 60; next: --offset 50" in out.output
    rest = cli("status", "--offset", "50")
    assert "S050" in rest.output and "S049" not in rest.output
    assert "showing 51-60 of 60" in rest.output
    only = cli("status", "--status", "backorder", "--search", "item 1")
    skus = {line.split()[0] for line in only.output.splitlines() if line.startswith("S0")}
    assert skus == {"S012", "S015", "S018"}
    everything = json.loads(cli("status", "--json").output)  # no header line in JSON
    assert [row["sku"] for row in everything] == [f"S{n:03}" for n in range(60)]
    assert len(json.loads(cli("status", "--json", "--limit", "5", "--offset", "58").output)) == 2


@pytest.mark.parametrize("command", [("export",), ("import", "x.csv", "--mode", "update")])
def test_an_unknown_dialect_lists_the_dialect_names(cli, tmp_path, monkeypatch, command):
    monkeypatch.delenv("BACKORDER_PLUGINS")
    (tmp_path / "x.csv").write_text("SKU\nA\n")
    refused(cli(*command, "--dialect", "magneto"), "no CSV dialect 'magneto'", "backorder, ")
    assert "magento" in cli(*command, "--dialect", "magneto").output


def test_tick_drains_a_backlog_in_batches_within_its_budget(monkeypatch):
    from backorder.worker import worker_pass

    class Backlog:
        """A store with 1,200 events and 250 pushes waiting, handed out a batch at a time."""

        name = "big"

        def __init__(self):
            self.events, self.pushes = 1200, 250
            self.outbox = self
            self.incoming = self

        def deliver(self, now=None):
            sent, self.pushes = min(100, self.pushes), max(self.pushes - 100, 0)
            return sent, 0

        def dispatch_events(self):
            done, self.events = min(500, self.events), max(self.events - 500, 0)
            return done

        def tick(self, now=None):
            return []

        def refresh(self, at=None):
            return []

    monkeypatch.setattr("backorder.worker.apply_deliveries", lambda service, now=None: (0, 0))
    monkeypatch.setattr("backorder.worker.readmodel.ensure", lambda service: False)
    one_batch = worker_pass(Backlog())  # the serve loop: one batch each, back in seconds
    assert (one_batch.pushes, one_batch.notified) == (100, 500)
    drained = worker_pass(Backlog(), budget=60)
    assert (drained.pushes, drained.notified) == (250, 1200)
    none = worker_pass(Backlog(), budget=0)  # the budget spent: one batch, then stop
    assert (none.pushes, none.notified) == (100, 500)


def test_a_platform_that_is_down_is_one_line_naming_platform_and_url(cli, tmp_path, monkeypatch):
    pytest.importorskip("backorder_magento")
    monkeypatch.delenv("BACKORDER_PLUGINS")
    monkeypatch.setenv("MG_TOKEN", "t0ken")
    (tmp_path / "m.toml").write_text(
        'database = "sqlite:///m.db"\n[stores.mg]\nplatform = "magento"\n'
        'connection = { base_url = "http://127.0.0.1:1/rest/default", token_env = "MG_TOKEN",'
        " retries = 0 }\n"
    )
    line = refused(cli("--config", "m.toml", "sync"), "Magento GET http://127.0.0.1:1/rest/")
    assert "no response" in line and "t0ken" not in line


def test_report_shows_todays_promises_and_writes_nothing(cli, tmp_path):
    assert cli("demo").exit_code == 0
    db = tmp_path / "backorder-demo.db"
    before = sqlite_rows(db)
    out = cli("--db", f"sqlite:///{db}", "report")
    assert out.exit_code == 0, out.output
    assert "ready to ship" in out.output and "D-1004" in out.output
    assert cli("--db", f"sqlite:///{db}", "report", "--csv", "-").exit_code == 0
    assert sqlite_rows(db) == before


def test_status_on_a_store_never_made_says_where_it_looked_and_creates_nothing(cli, tmp_path):
    assert cli("demo").exit_code == 0
    line = refused(cli("status"), "no database at backorder.db", "backorder-demo.db")
    assert "--db sqlite:///backorder-demo.db status" in line
    assert not (tmp_path / "backorder.db").exists()
    refused(cli("report"), "no database at backorder.db")
    assert cli("--db", "sqlite:///backorder-demo.db", "status").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("receipt", "B", "R9", "--qty", "100000000000000000000000", "--expected", "2026-12-30"),
        ("receipt", "B", "R9", "--qty", "3000000000", "--expected", "2026-12-30"),
        ("receipt", "B", "R9", "--arrived", "--qty", "100000000000000000000000"),
        ("storefront", "B", "--qty", "100000000000000000000000"),
    ],
)
def test_a_receipt_or_cart_beyond_the_maximum_is_refused(shop, tmp_path, args):
    before = store_digest(tmp_path)
    result = shop(*args)
    assert result.exit_code == 2 and "1000000000" in result.output, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OverflowError)
    assert store_digest(tmp_path) == before


def test_a_scenario_receipt_beyond_the_maximum_names_it(cli, tmp_path):
    (tmp_path / "s.yaml").write_text(
        "items: [{sku: A, on_hand: 1}]\nevents: [{at: 2026-01-01T00:00:00Z, type: receipt,"
        " sku: A, qty: 100000000000000000000000, expected_at: 2026-02-01T00:00:00Z}]\n"
    )
    out = cli("simulate", "s.yaml")  # an event the rules refuse is reported, the run goes on
    assert out.exit_code == 0 and '"accepted": false' in out.output, out.output
    assert "qty must be between 0 and 1,000,000,000" in out.output


# ------------------------------------------------------------------ the store header
HEADER = "store 'demo' in sqlite:///backorder.db"


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("report",),
        ("report", "--csv", "out.csv"),
        ("fulfil-queue", "B"),
        ("storefront", "B"),
        ("order", "9", "A=1"),
        ("receipt", "B", "PO-9", "--qty", "2", "--expected", "2026-12-30"),
        ("enable", "A"),
        ("tick",),
        ("render", "packing-slip", "1", "--html", "slip.html"),
        ("export", "items-out.csv"),
    ],
)
def test_a_command_that_opens_the_store_names_it_first(shop, args):
    assert shop("order", "1", "B=1").exit_code == 0
    out = shop(*args)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == HEADER


@pytest.mark.parametrize(
    "args",
    [
        ("export",),
        ("report", "--csv", "-"),
        ("render", "packing-slip", "1"),
    ],
)
def test_the_store_header_goes_to_stderr_when_stdout_is_the_document(shop, args):
    assert shop("order", "1", "B=1").exit_code == 0
    out = shop(*args)
    assert out.exit_code == 0, out.output
    assert HEADER in out.stderr.splitlines()
    assert HEADER not in out.stdout
    assert out.stdout.startswith(("Product ID,", "Product name,", "<!DOCTYPE", "<!doctype"))


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--json"),
        ("fulfil-queue", "B", "--json"),
        ("storefront", "B", "--json"),
        ("order", "9", "A=1", "--json"),
        ("tick", "--json"),
        ("report", "--json"),
    ],
)
def test_json_output_has_no_store_header(shop, args):
    import json

    out = shop(*args)
    assert out.exit_code == 0, out.output
    assert "store 'demo'" not in out.output
    json.loads(out.stdout)


def test_tick_over_every_store_names_them_and_the_database(cli, tmp_path):
    (tmp_path / "backorder.toml").write_text(
        '[stores.north]\nplatform = "core"\n[stores.south]\nplatform = "core"\n'
    )
    out = cli("tick", "--all-stores")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].startswith("stores ")
    assert "'north'" in out.output.splitlines()[0] and "'south'" in out.output.splitlines()[0]
    assert out.output.splitlines()[0].endswith(" in sqlite:///backorder.db")


@pytest.fixture
def backlog_shop(cli, tmp_path):
    """A store whose import of 400 items left 300 events waiting: the import hands out one
    batch of 500 (each item is assigned and switched to backorder) and leaves the rest."""
    (tmp_path / "backorder.toml").write_text(
        '[stores.shop]\nplatform = "core"\n[stores.shop.notifications]\n'
        'recipients = ["owner@shop.example"]\noutbox_dir = "outbox"\n'
    )
    rows = "".join(f"S{n},Item {n},-1\n" for n in range(400))
    (tmp_path / "items.csv").write_text("SKU,Name,Stock\n" + rows)
    assert cli("import", "items.csv", "--mode", "assign").exit_code == 0
    assert "pending: events pending 300" in cli("status").output
    return cli


def test_tick_drains_a_backlog_with_a_progress_bar(backlog_shop, monkeypatch):
    monkeypatch.setattr("click._termui_impl.isatty", lambda stream: True)  # draw it here too
    out = backlog_shop("tick", "--progress")
    assert out.exit_code == 0, out.output
    assert "Draining backlog" in out.stderr and "300/300" in out.stderr
    assert "Draining backlog" not in out.stdout
    assert "300 event(s) handed to notifiers" in out.stdout
    assert "pending" not in backlog_shop("status").output


def test_tick_shows_no_progress_bar_off_a_terminal(backlog_shop):
    out = backlog_shop("tick")  # cron: stderr is no terminal
    assert out.exit_code == 0, out.output
    assert "Draining backlog" not in out.output
    assert "300 event(s) handed to notifiers" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("fulfil-queue", "A"),
        ("storefront", "A"),
        ("export",),
        ("export", "out.csv"),
        ("render", "packing-slip", "1"),
        ("render", "packing-slip", "1", "--html", "slip.html"),
        ("report", "--csv", "-"),
    ],
)
def test_a_command_that_only_shows_things_creates_no_store(cli, tmp_path, args):
    line = refused(cli(*args), "no database at backorder.db")
    assert "backorder-demo.db" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no output file


def test_a_reader_that_leaves_early_is_no_error(tmp_path):
    """``backorder export | head -1``: the closed pipe ends the command quietly (status 141,
    as a command killed by SIGPIPE), not with "error: Broken pipe" or a traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "backorder"
    env = {**os.environ, "BACKORDER_PLUGINS": "core"}
    env.pop("BACKORDER_CONFIG", None)
    rows = "".join(f"S{n},Item {n},1\n" for n in range(3000))  # far beyond a pipe's buffer
    (tmp_path / "items.csv").write_text("SKU,Name,Stock\n" + rows)
    subprocess.run([command, "import", "items.csv", "--mode", "assign"], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    reader = subprocess.Popen([command, "export"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline().startswith(b"Product ID,")
    reader.stdout.close()
    errors = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 141, errors
    assert "error" not in errors.lower() and "Traceback" not in errors, errors


LONG_SKU = "S" * 20_000


@pytest.mark.parametrize(
    "args",
    [
        ("order", "9", f"{LONG_SKU}=1"),
        ("assign", LONG_SKU),
        ("assign", "A", LONG_SKU),
        ("edit", LONG_SKU, "--stock", "1"),
        ("enable", LONG_SKU),
        ("fulfil-queue", LONG_SKU),
        ("storefront", LONG_SKU),
        ("receipt", LONG_SKU, "R1", "--cancel"),
        ("cancel", "1", f"{LONG_SKU}=1"),
    ],
)
def test_a_sku_longer_than_any_platform_allows_is_refused_without_echoing_it(
    shop, tmp_path, args
):
    before = store_digest(tmp_path)
    line = refused(shop(*args), "(20,000 characters): longer than 255")
    assert len(line) < 200
    assert store_digest(tmp_path) == before


def test_render_to_an_html_file_says_what_it_wrote(shop, tmp_path):
    assert shop("order", "1", "B=1").exit_code == 0
    out = shop("render", "packing-slip", "1", "--html", "slip.html")
    assert out.exit_code == 0, out.output
    assert "wrote slip.html: packing slip for 1 order(s), 1 unit(s) backordered" in out.stdout
    assert "<html" in (tmp_path / "slip.html").read_text().lower()


def test_a_broken_yaml_catalog_or_scenario_is_one_line_with_line_and_column(cli, tmp_path):
    (tmp_path / "catalog.yaml").write_text("- {sku: A, on_hand: [\n")
    (tmp_path / "backorder.toml").write_text(
        '[stores.shop]\nplatform = "core"\nconnection = { catalog_file = "catalog.yaml" }\n'
    )
    line = refused(cli("sync"), "catalog.yaml: not valid YAML: line 2, column 1: expected")
    assert "^" not in line  # PyYAML's quoted text and caret are not echoed
    (tmp_path / "s.yaml").write_text("items:\n  - sku: A\n   on_hand: 1\n")
    result = cli("simulate", "s.yaml")
    refused(result, "s.yaml: not valid yaml: line 3, column 4:")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, option",
    [
        (("tick", "--now", "garbage"), "--now"),
        (("receipt", "A", "R", "--qty", "1", "--expected", "garbage"), "--expected"),
        (("report", "--from", "2026-13-01"), "--from"),
        (("edit", "A", "--back-in-stock", "2026-02-30"), "--back-in-stock"),
        (("edit", "A", "--threshold", "lots"), "--threshold"),
    ],
)
def test_a_bad_date_or_threshold_names_its_option(shop, tmp_path, args, option):
    before = store_digest(tmp_path)
    result = shop(*args)
    assert result.exit_code == 2 and f"Invalid value for {option}:" in result.output
    assert store_digest(tmp_path) == before
