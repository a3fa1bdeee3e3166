"""Template paths from the config stay inside the config's folder (issue 20, item 14):
``directory = "/etc"`` is refused unless explicitly allowed, relative paths are taken
from the config's folder, and no template file is read through a link out of its
folder."""

from __future__ import annotations

import os

import pytest

from backorder.config import load_config
from backorder.documents import settings as doc_settings
from backorder.documents.render import _environment
from backorder.documents.templating import TemplateProblem, render_template
from backorder.errors import ConfigError


@pytest.fixture(autouse=True)
def forget_the_config_folder():
    yield
    doc_settings.set_config_folder(None)


def write_config(folder, templates: str):
    path = folder / "backorder.toml"
    path.write_text(
        f'database = "sqlite:///{folder}/db.sqlite"\n'
        '[stores.shop]\nplatform = "core"\n'
        f"[stores.shop.templates]\n{templates}\n"
    )
    return path


def test_a_template_directory_outside_the_config_folder_is_refused(tmp_path):
    config = write_config(tmp_path, 'directory = "/etc"')
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert str(config) in message and "templates.directory: /etc is outside" in message
    assert "allow_outside_config" in message


def test_climbing_out_with_dots_or_a_file_is_refused_too(tmp_path):
    (tmp_path / "cfg").mkdir()
    for line in ('directory = "../"', 'files = { "invoice.html" = "/etc/passwd" }'):
        with pytest.raises(ConfigError, match="outside the config's folder"):
            load_config(write_config(tmp_path / "cfg", line))


def test_a_directory_that_is_a_link_out_of_the_config_folder_is_refused(tmp_path):
    (tmp_path / "cfg").mkdir()
    os.symlink("/etc", tmp_path / "cfg" / "brand")
    with pytest.raises(ConfigError, match="it leads to /etc"):
        load_config(write_config(tmp_path / "cfg", 'directory = "brand"'))


def test_relative_paths_are_taken_from_the_config_folder_and_render(tmp_path, monkeypatch):
    monkeypatch.chdir("/")  # not where the config is
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "invoice.html").write_text("mine: {{ title }}")
    store = load_config(write_config(tmp_path, 'directory = "brand"')).store("shop")
    assert store.templates.directory == tmp_path / "brand"
    html = render_template(_environment(store), "invoice.html", {"title": "Invoice"})
    assert html == "mine: Invoice"


def test_a_template_that_links_out_of_its_directory_is_not_read(tmp_path):
    (tmp_path / "brand").mkdir()
    os.symlink("/etc/passwd", tmp_path / "brand" / "invoice.html")
    store = load_config(write_config(tmp_path, 'directory = "brand"')).store("shop")
    with pytest.raises(TemplateProblem, match=r"leads to /etc/passwd, outside .*: refused"):
        render_template(_environment(store), "invoice.html", {})


def test_a_link_made_after_the_config_was_read_is_refused_at_render(tmp_path):
    (tmp_path / "mine.html").write_text("fine")
    store = load_config(write_config(tmp_path, 'files = { "invoice.html" = "mine.html" }'))
    shop = store.store("shop")
    assert render_template(_environment(shop), "invoice.html", {}) == "fine"
    (tmp_path / "mine.html").unlink()
    os.symlink("/etc/passwd", tmp_path / "mine.html")
    with pytest.raises(TemplateProblem, match="outside"):
        render_template(_environment(shop), "invoice.html", {})


def test_an_explicit_setting_allows_a_folder_elsewhere(tmp_path):
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    (elsewhere / "invoice.html").write_text("shared")
    (tmp_path / "cfg").mkdir()
    config = write_config(
        tmp_path / "cfg", f'directory = "{elsewhere}"\nallow_outside_config = true'
    )
    store = load_config(config).store("shop")
    assert render_template(_environment(store), "invoice.html", {}) == "shared"
