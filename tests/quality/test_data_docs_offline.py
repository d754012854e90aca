"""The Data Docs site renders with no network: vendored assets, rewritten pages, a real headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from coretelecoms.quality import QualityGate, Suite, docs_index
from coretelecoms.quality.docs_site import ASSETS_DIR, assets, remote_loads, verify_assets
from coretelecoms.quality.gx import key_checks, row_count_check
from coretelecoms.settings import Settings


def settings(tmp_path) -> Settings:
    return Settings(
        env="test",
        lake={"root": str(tmp_path / "lake"), "delta_engine": "delta-rs"},
        spark={},
        sources={"s3": {"uri": str(tmp_path)}, "postgres": {}, "gsheets": {}},
        warehouse={},
        data_dir=tmp_path,
    )


def gx_templates() -> str:
    import great_expectations

    folder = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    return "\n".join(p.read_text() for p in folder.glob("*.j2"))


def test_vendored_assets_are_the_pinned_bytes_and_cover_every_cdn_url_of_gx():
    assert verify_assets() == []
    templates = gx_templates()
    cdn = set(re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"(https://[^\"]+)\"", templates))
    replaced = {url for a in assets() for url in a.replaces}
    assert cdn and cdn <= replaced, f"GX pages load files not vendored: {sorted(cdn - replaced)}"
    # Where GX pins a subresource-integrity hash, the vendored file is exactly those bytes.
    pinned = re.findall(r"src=\"(https://[^\"]+)\" integrity=\"sha384-([^\"]+)\"", templates)
    assert pinned
    for url, digest in pinned:
        (asset,) = [a for a in assets() if url in a.replaces]
        data = (ASSETS_DIR / asset.file).read_bytes()
        assert base64.b64encode(hashlib.sha384(data).digest()).decode() == digest, url
    # Every font and image the vendored CSS points at is vendored beside it.
    for asset in assets():
        if asset.file.endswith(".css"):
            css = ASSETS_DIR / asset.file
            for ref in re.findall(r"url\(([^)\"']+)\)", css.read_text()):
                if not ref.startswith("data:"):
                    assert (css.parent / ref.split("?")[0].split("#")[0]).is_file(), (asset.file, ref)


@pytest.fixture(scope="module")
def site(spark, tmp_path_factory):
    """Two suites over three runs; the key suite fails in run r2."""
    tmp = tmp_path_factory.mktemp("docs")
    s = settings(tmp)
    gate = QualityGate(s)
    good = spark.createDataFrame([("1",), ("2",)], "id string")
    dup = spark.createDataFrame([("1",), ("1",)], "id string")
    keys = Suite("gold.things.table", "gold.things", "table", key_checks(["id"]))
    count = Suite("gold.things.batch", "gold.things", "batch", [row_count_check("rows", 2, "two rows")])
    for run in ("r1", "r2", "r3"):
        gate.validate(keys, dup if run == "r2" else good, run)
        gate.validate(count, good, run)
        gate.build_docs()
    return docs_index(s)


def test_every_page_loads_only_local_files(site):
    pages = list(site.parent.rglob("*.html"))
    assert len(pages) > 6
    for page in pages:
        assert remote_loads(page.read_text()) == [], page
    assert (site.parent / "static" / "vendor" / "jquery@3.7.1" / "dist" / "jquery.min.js").is_file()


def test_the_browser_has_no_network(browser, tmp_path):
    page = tmp_path / "online.html"
    page.write_text(
        '<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head>'
        '<body><div class="container-fluid"></div></body></html>'
    )
    report = browser.probe(page)
    assert report["jquery"] is False
    assert report["failed"] == ["https://code.jquery.com/jquery-3.7.1.min.js"]


def test_index_lists_every_validation_and_filters_the_failed_ones_offline(site, browser):
    report = browser.probe(site)
    assert report["failed"] == []
    assert report["jquery"] and report["bootstrapTable"]
    assert report["paddingLeft"] == "48px"  # Bootstrap's pl-5: the stylesheet applied
    assert report["fontAwesomeFaces"] >= 1
    assert report["rows"] == 6 and sorted(report["runNames"]) == ["r1", "r1", "r2", "r2", "r3", "r3"]
    assert report["rendered"] == 6
    assert set(report["filterOptions"]) >= {"Success", "Failed"}
    assert report["failedOnly"] == ["Failed"]
    assert report["failedRendered"] == 1


def test_a_validation_page_renders_styled_offline(site, browser):
    (page,) = (site.parent / "validations" / "gold" / "things" / "table" / "r2").rglob("*.html")
    report = browser.probe(page)
    assert report["failed"] == []
    assert report["jquery"] and report["paddingLeft"] == "48px"
    assert report["fontAwesomeFaces"] >= 1
