"""The reports in a real browser: headless Chromium, opened from a file:// URL with the network off.

Chromium is driven over the DevTools protocol (a websocket on loopback): the
test records every request the page makes, every console message and
uncaught error, measures each chart, and saves a full-page screenshot under
``$CACHETUNE_ARTIFACTS`` (default ``results/screenshots/``). Skipped only
when Chromium cannot be found outside CI; in CI (``CI=true``) a missing
browser is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from tests.report_runs import analyze_run, bench_run, bench_writes_run, mrc_run, optimize_run

IN_CI = os.environ.get("CI") == "true"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
VIEWPORT = {"width": 1366, "height": 900}
ARTIFACTS = Path(os.environ.get("CACHETUNE_ARTIFACTS", Path(__file__).resolve().parents[1] / "results" / "screenshots"))
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run; see .ci/chromium.sh)")
    pytest.skip(reason)


def _find_browser() -> str:
    for name in (os.environ.get("CHROMIUM"), *BROWSERS):
        found = name and shutil.which(name)
        if found:
            return found
    _missing("no Chromium found (apt-get install chromium)")
    raise AssertionError("unreachable")


class DevTools:
    """Just enough of the DevTools protocol: commands by id, events kept in order of arrival."""

    def __init__(self, url: str) -> None:
        import websocket

        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} within {timeout} s")
            message = json.loads(self.socket.recv())
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[str]:
    """A headless Chromium with networking features off; yields its DevTools HTTP address on loopback."""
    try:
        import websocket  # noqa: F401
    except ImportError:
        _missing("websocket-client is not installed (pip install -e '.[test]')")
    binary = _find_browser()
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{binary} did not start (exit code {process.poll()})")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


_MEASURE = """
Array.from(document.querySelectorAll("figure.chart")).map(function (figure) {
  var svg = figure.querySelector("svg");
  var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  var marks = svg ? Array.from(svg.querySelectorAll(".series rect, .series path, .series circle")) : [];
  var drawn = marks.filter(function (mark) { var b = mark.getBBox(); return b.width > 0 || b.height > 0; });
  return {id: figure.getAttribute("data-chart"), width: box.width, height: box.height,
          marks: marks.length, drawn: drawn.length,
          title: svg && svg.querySelector("title") ? svg.querySelector("title").textContent : ""};
})
"""


def open_report(address: str, report: Path, screenshot: Path) -> dict[str, Any]:
    """Load ``report`` offline in a fresh tab; returns charts, requests, errors and the table sort check."""
    with _Tab(address) as tab:
        page = DevTools(tab["webSocketDebuggerUrl"])
        for domain in ("Page", "Network", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                  uploadThroughput=-1)  # fmt: skip
        page.call("Emulation.setDeviceMetricsOverride", deviceScaleFactor=1, mobile=False, **VIEWPORT)
        page.call("Page.navigate", url=report.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        charts = page.evaluate(_MEASURE)
        sorted_ok = page.evaluate(_SORT_CHECK)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT["width"], height=height, deviceScaleFactor=1,
                  mobile=False)  # fmt: skip
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        page.call("Emulation.setEmulatedMedia", media="print")
        printed = page.evaluate(_MEASURE)
        page.socket.close()
    requests = [e["params"]["request"]["url"] for e in page.events if e["method"] == "Network.requestWillBeSent"]
    errors = [e for e in page.events if _is_error(e)]
    return {"charts": charts, "printed": printed, "requests": requests, "errors": errors, "sorted": sorted_ok}


class _Tab:
    """A new page target, closed afterwards."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __enter__(self) -> dict[str, Any]:
        with urlopen(Request(f"{self.address}/json/new?about:blank", method="PUT"), timeout=30) as response:
            self.tab = json.loads(response.read())
        return self.tab

    def __exit__(self, *_: object) -> None:
        with urlopen(f"{self.address}/json/close/{self.tab['id']}", timeout=30):
            pass


_SORT_CHECK = """
(function () {
  var table = Array.from(document.querySelectorAll("table.sortable")).find(function (t) {
    return t.tHead.querySelector("th.number") && t.tBodies[0].rows.length > 1;
  });
  var headers = Array.from(table.tHead.rows[0].cells);
  var column = headers.findIndex(function (h) { return h.classList.contains("number"); });
  headers[column].click();
  var values = Array.from(table.tBodies[0].rows).map(function (row) {
    return parseFloat(row.cells[column].getAttribute("data-value"));
  }).filter(function (v) { return !isNaN(v); });
  for (var i = 1; i < values.length; i++) { if (values[i - 1] > values[i]) { return false; } }
  return values.length > 0;
})()
"""


def _is_error(event: dict[str, Any]) -> bool:
    params = event["params"]
    if event["method"] == "Runtime.exceptionThrown":
        return True
    if event["method"] == "Runtime.consoleAPICalled":
        return params["type"] in ("error", "assert")
    if event["method"] == "Log.entryAdded":
        return params["entry"]["level"] == "error"
    return False


def check_report(address: str, folder: Path, kind: str, expected_charts: set[str]) -> dict[str, Any]:
    """The assertions every report must pass in the browser; returns what was seen."""
    screenshot = ARTIFACTS / f"{kind}-report.png"
    seen = open_report(address, folder / "report.html", screenshot)
    print(f"\n{kind} report screenshot: {screenshot}")
    charts = {chart["id"]: chart for chart in seen["charts"]}
    assert expected_charts <= set(charts), f"missing charts: {expected_charts - set(charts)}"
    for chart in [*seen["charts"], *seen["printed"]]:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] > 0 and chart["drawn"] == chart["marks"], chart
        assert chart["title"], chart
    outside = [url for url in seen["requests"] if not url.startswith(LOCAL_SCHEMES)]
    assert not outside, f"requests to other hosts: {outside}"
    assert not seen["errors"], f"console errors: {seen['errors']}"
    assert seen["sorted"], "clicking a numeric header did not sort the table"
    assert screenshot.stat().st_size > 10_000
    return seen


def test_bench_report_renders_offline(browser, tmp_path):
    folder = bench_run(tmp_path)
    seen = check_report(browser, folder, "bench", {"miss-ratio-bars", "miss-ratio-curves-objects"})
    timelines = [chart for chart in seen["charts"] if chart["id"].startswith("timeline-")]
    assert len(timelines) == 3  # one per cache size


def test_bench_report_with_writes_draws_backend_reads_and_writes(browser, tmp_path):
    folder = bench_writes_run(tmp_path / "writes")
    pairs = {f"backend-{kind}-objects-{size}" for size in (30, 120) for kind in ("reads", "writes")}
    seen = check_report(browser, folder, "bench-writes", {"miss-ratio-bars", *pairs})
    assert {chart["id"] for chart in seen["charts"] if chart["id"].startswith("backend-")} == pairs


def test_optimize_report_renders_offline(browser, tmp_path):
    folder = optimize_run(tmp_path)
    check_report(browser, folder, "optimize", {"optimization-history", "pareto-front", "parameter-importances"})


def test_analyze_report_renders_offline(browser, tmp_path):
    folder = analyze_run(tmp_path)
    check_report(browser, folder, "analyze", {"popularity", "reuse-distance", "lru-hit-ratio", "hourly"})


def test_mrc_report_renders_offline(browser, tmp_path):
    check_report(browser, mrc_run(tmp_path), "mrc", {"miss-ratio-curves-objects"})
