"""The console's assets: found by name, shipped as package data, and free of inline script and HTML sinks."""

import re
import tomllib
from pathlib import Path

import pytest

from couponmint import console

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "layers" / "couponmint" / "couponmint" / "console" / "assets"
SCRIPTS = sorted(ASSETS.glob("*.js"))


def test_console_asset_gives_the_content_type_and_bytes_of_a_file() -> None:
    # When an asset and a name the console does not have are looked up
    found = console.asset("app.js")
    # Then the asset comes with its type and its file's bytes, the unknown name with nothing
    assert found == ("text/javascript; charset=utf-8", (ASSETS / "app.js").read_bytes())
    assert console.asset("../__init__.py") is None


def test_console_assets_are_package_data() -> None:
    # Given the project's setuptools configuration
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    # Then the assets folder ships inside the package, and every file in it is served
    assert setuptools["package-data"]["couponmint.console"] == ["assets/*"]
    assert {path.name for path in ASSETS.iterdir()} == {console.PAGE_ASSET} | {
        path.removeprefix(f"{console.PAGE_PATH}/") for path in console.PATHS - {console.PAGE_PATH}
    }


def test_console_page_has_no_inline_script_style_or_handler() -> None:
    # Given the console's page
    page = (ASSETS / "index.html").read_text()
    # Then every script is a file, and no element carries a style or an event handler (the policy forbids them)
    assert re.findall(r"<script\b[^>]*>", page) == ['<script type="module" src="console/app.js">']
    assert not re.search(r"\sstyle=|\son\w+=", page)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_console_scripts_write_text_never_html(script: Path) -> None:
    # Given one of the console's modules
    source = script.read_text()
    # Then it never parses strings as HTML or code: output goes through text nodes and DOM properties
    sinks = r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|localStorage|\.cookie"
    assert re.findall(sinks, source) == []
