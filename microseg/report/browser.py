"""Open the report in headless Chromium and check it: every chart drew its data, no console error,
no request left the file; and take a full-page screenshot.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON messages
separated by NUL bytes on file descriptors 3 and 4), so the check needs no Python package and opens
no port.

    python -m microseg.report.browser target/report.html --screenshot target/report.png
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Per chart: drawn marks (bar and marker paths, line paths, heatmap images) inside its Plotly div.
PROBE = """(() => {
  const charts = [...document.querySelectorAll('figure.chart')].map(fig => {
    const div = fig.querySelector('.plotly-graph-div');
    const count = sel => div ? div.querySelectorAll(sel).length : 0;
    return {key: fig.dataset.chart, expected_points: Number(fig.dataset.points),
            plotted: !!(div && div._fullLayout), has_svg: count('.main-svg') > 0,
            traces: div && div._fullData ? div._fullData.length : 0,
            marks: count('.point') + count('.js-line') + count('.hm image') + count('.bars path')};
  });
  const sections = [...document.querySelectorAll('section')].map(s => ({key: s.dataset.section,
    skipped: s.dataset.skipped === 'true', charts: s.querySelectorAll('figure.chart').length}));
  return JSON.stringify({charts, sections, height: document.documentElement.scrollHeight});
})()"""


def find_browser() -> str | None:
    """Path of a Chromium on PATH (or $MICROSEG_CHROMIUM), None when there is none."""
    explicit = os.environ.get("MICROSEG_CHROMIUM")
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@dataclass
class BrowserCheck:
    """What the browser saw: per-chart drawing, console errors, requests other than the file itself."""

    charts: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    load_seconds: float = 0.0

    @property
    def empty_charts(self) -> list[str]:
        return [c["key"] for c in self.charts if not (c["has_svg"] and c["traces"] > 0 and c["marks"] > 0)]

    @property
    def ok(self) -> bool:
        return bool(self.charts) and not self.empty_charts and not self.console_errors and not self.requests


class DevTools:
    """A DevTools protocol session with a Chromium child process over its debugging pipe."""

    def __init__(self, browser: str, profile_dir: str, width: int = 1280, height: int = 1000):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        args = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                f"--user-data-dir={profile_dir}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                # a request that does leave would go to a dead proxy: it fails fast and is still recorded
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                f"--window-size={width},{height}", "about:blank"]  # fmt: skip

        def wire_pipes() -> None:  # runs in the child: the protocol expects fd 3 (in) and fd 4 (out)
            # copies above 10 first, so that wiring one pipe cannot overwrite the other
            read_fd, write_fd = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_fd, 3)  # dup2 makes 3 and 4 inheritable: Chromium keeps them across exec
            os.dup2(write_fd, 4)

        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        close_fds=False, preexec_fn=wire_pipes)  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("browser: no answer from Chromium in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("browser: Chromium closed its debugging pipe (did it start?)")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20.0) -> dict:
        """Send one command and return its result; events read meanwhile go to ``self.events``."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"browser: {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 20.0) -> dict:
        """Read until an event ``method`` arrives (or one already did)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass


def _collect(events: list[dict], page_url: str) -> tuple[list[str], list[str]]:
    """Console errors (console.error, uncaught exceptions, browser log errors) and requests to anything
    but the page itself or in-page data/blob URLs."""
    errors, requests = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if url != page_url and not url.startswith(("data:", "blob:", "about:")):
                requests.append(url)
    return errors, requests


def _wait_until_drawn(tools: DevTools, session: str, deadline: float, poll_seconds: float) -> dict:
    """Probe the page until Plotly has laid out every chart and the drawn marks stopped changing between
    two probes (or the deadline passes). Plotly draws after the load event, later on a busy machine;
    a chart without data is laid out but never gets marks, and is reported as such."""
    previous = None
    while True:
        probe = tools.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=session)
        state = json.loads(probe["result"]["value"])
        drawn = [(c["plotted"], c["has_svg"], c["traces"], c["marks"]) for c in state["charts"]]
        if (all(d[0] for d in drawn) and drawn == previous) or time.monotonic() > deadline:
            return state
        previous = drawn
        time.sleep(poll_seconds)


def check_report(html_path: str | Path, screenshot: str | Path | None = None, browser: str | None = None,
                 poll_seconds: float = 0.25, timeout: float = 30.0) -> BrowserCheck:  # fmt: skip
    """Load ``html_path`` in headless Chromium, probe every chart, optionally save a full-page PNG."""
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("browser: no chromium on PATH (make setup installs Debian's chromium package)")
    page_url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="microseg-chromium-") as profile:
        tools = DevTools(browser, profile)
        try:
            target = tools.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.send(f"{domain}.enable", session=session)
            started = time.monotonic()
            tools.send("Page.navigate", {"url": page_url}, session=session, timeout=timeout)
            tools.wait_for("Page.loadEventFired", timeout=timeout)
            state = _wait_until_drawn(tools, session, started + timeout, poll_seconds)
            load_seconds = time.monotonic() - started
            if screenshot:
                width = 1280
                metrics = {"width": width, "height": int(state["height"]), "deviceScaleFactor": 1, "mobile": False}
                tools.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
                shot = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                  session=session, timeout=timeout)  # fmt: skip
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            errors, requests = _collect(tools.events, page_url)
        finally:
            tools.close()
    return BrowserCheck(charts=state["charts"], sections=state["sections"], console_errors=errors, requests=requests,
                        load_seconds=load_seconds)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microseg.report.browser", description=__doc__.splitlines()[0])
    parser.add_argument("html", help="report file to open")
    parser.add_argument("--screenshot", help="write a full-page PNG here")
    args = parser.parse_args(argv)
    try:
        result = check_report(args.html, args.screenshot)
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"charts drawn: {len(result.charts) - len(result.empty_charts)}/{len(result.charts)}, "
          f"console errors: {len(result.console_errors)}, requests: {len(result.requests)}, "
          f"load + draw: {result.load_seconds:.1f} s")  # fmt: skip
    for problem in result.empty_charts + result.console_errors + result.requests:
        print(f"  {problem}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
