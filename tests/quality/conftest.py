"""A real headless Chromium with no network, for the Data Docs pages.

The browser runs in a network namespace of its own (`unshare -n`: no interface but a down loopback), so a
page that still needs a CDN cannot reach one; where namespaces are not allowed, every host name resolves
to nothing and every request goes to a closed proxy port instead. `make test` installs Debian's chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# Put first in <head>: records every resource that fails to load, then, once the page has loaded and its
# scripts ran, writes what a reader would see into <pre id="probe"> as JSON. On the index it also uses the
# Status column's filter control, as a reader does, and reports the rows left.
PROBE = """<script>
window.__failed = [];
window.addEventListener('error', function (e) {
  var t = e.target; if (t && (t.src || t.href)) { window.__failed.push(t.src || t.href); }
}, true);
function __write(out) {
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}
window.addEventListener('load', function () {
  var $ = window.jQuery;
  var out = {failed: window.__failed, jquery: !!$, bootstrapTable: !!($ && $.fn.bootstrapTable),
             paddingLeft: getComputedStyle(document.querySelector('.container-fluid')).paddingLeft};
  document.fonts.load('900 16px "Font Awesome 6 Free"').then(function (faces) {
    out.fontAwesomeFaces = faces.length;
    var table = $ ? $('table[id$="-body-table"]').filter(function () {
      return $(this).find('th[data-field="validation_success"]').length > 0; }) : [];
    if (!table.length) { __write(out); return; }
    var all = table.bootstrapTable('getData');
    out.rows = all.length;
    out.runNames = all.map(function (r) { return r.run_name; });
    out.rendered = table.find('tbody tr[data-index]').length;
    var select = $('select.bootstrap-table-filter-control-validation_success');
    out.filterOptions = select.find('option').map(function () { return this.value; }).get();
    select.val('Failed').trigger('change');
    setTimeout(function () {
      var left = table.bootstrapTable('getData');
      out.failedOnly = left.map(function (r) { return r._validation_success_text; });
      out.failedRendered = table.find('tbody tr[data-index]').length;
      __write(out);
    }, 2000);
  });
});
</script>"""


def _offline_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


class Browser:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.prefix = _offline_prefix()
        self.flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
        ]
        if not self.prefix:
            self.flags += ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9"]

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [*self.prefix, self.binary, *self.flags, *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def probe(self, page: Path) -> dict:
        """Open a copy of `page` (same folder, so its relative links hold) with the probe, return its report."""
        copy = page.with_name("_probe_" + page.name)
        copy.write_text(page.read_text().replace("<head>", "<head>\n" + PROBE, 1))
        try:
            dom = self._run("--dump-dom", copy.as_uri())
        finally:
            copy.unlink()
        found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        assert found, f"the probe never reported; the page's scripts did not run: {dom[-1500:]}"
        return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<"))

    def screenshot(self, page: Path, out: Path, size: str = "1400,1000") -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        self._run(f"--screenshot={out}", f"--window-size={size}", "--hide-scrollbars", page.as_uri())
        return out


@pytest.fixture(scope="session")
def browser() -> Browser:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    return Browser(binary)
