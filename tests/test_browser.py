"""End to end: notebooks in a real JupyterLab, in headless Chromium, through the UI.

For a notebook: start ``jupyter lab`` (this environment's) on a free localhost port with a
token, in fast mode and with a temporary models folder; open the notebook; choose Run → Run
All Cells; wait for every cell's reply and an idle kernel; then check that no cell failed,
that the expected figure is really drawn, and that drawing on the drawing pad gives a
prediction. JupyterLab never saves the notebook (autosave is off in a temporary settings
folder): the server's log must show no save.

Under ``make test`` this runs on a small notebook made for it (01's figure helper and 12's
drawing pad), since nbval has just run the course's notebooks; its screenshot goes to a
temporary folder. ``make screenshots`` (``COURSE_SCREENSHOTS=1``) runs 01 and 12 themselves
and writes ``images/screenshots/jupyterlab_NN_name.png``, which the README shows.

How an error is seen: JupyterLab 4.6 renders an error output with the same mime type as
stderr (``application/vnd.jupyter.stderr``; its ``OutputModel`` adds the traceback under
that type), so the page alone cannot tell a warning from an error. The test therefore
listens to the kernel's messages on the page's websocket (``error`` messages and
``execute_reply`` statuses) and also looks for tracebacks in the rendered outputs.

Needs Chromium at ``/usr/bin/chromium`` (Debian: ``apt-get install chromium``; Playwright
never downloads a browser here) and the ``playwright`` package; skipped without them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from helpers import config

ROOT = config.REPO_ROOT
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "images" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
RUN_TIMEOUT_S = 180
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)
# Settings for a throwaway JupyterLab user: never save, no windowing (every cell stays in
# the page), no news or update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass(frozen=True)
class NotebookCase:
    """What to check in one notebook after Run All Cells."""

    notebook: str  # path from the repository root
    image_cell: str | None = None  # a code snippet: that cell must show a rendered image
    draw: bool = False  # draw a stroke on the (ipycanvas) canvas after running
    canvas: str = ".jp-OutputArea-output canvas"  # CSS selector; the last match is drawn on
    expect_text: str | None = None  # a regex that must appear in the outputs after drawing

    def screenshot(self) -> Path:
        """The README's picture of this notebook (written under ``make screenshots`` only)."""
        return SCREENSHOTS / f"jupyterlab_{Path(self.notebook).stem}.png"


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path


@dataclass
class RunResult:
    """What the kernel said while the notebook ran, and what the page shows."""

    statuses: list[str] = field(default_factory=list)  # one execute_reply status per cell
    kernel_errors: list[str] = field(default_factory=list)  # "Ename: evalue"
    error_outputs: list[str] = field(default_factory=list)  # rendered tracebacks


SCREENSHOT_RUN = os.environ.get("COURSE_SCREENSHOTS") == "1"
PAD = dict(canvas=".drawpad-canvas canvas, canvas.drawpad-canvas", expect_text=r"Prediction: \d")
# The course's own notebooks: make screenshots runs them through the UI for the README's
# pictures. Under make test, nbval has just run them, so the UI is checked on SMALL instead.
CASES = [
    pytest.param(NotebookCase("notebooks/01_data.ipynb", image_cell="plots.sample_grid("), id="01"),
    # helpers/drawpad.py gives the pad stable CSS classes for this test.
    pytest.param(NotebookCase("notebooks/12_your_own_digit.ipynb", draw=True, **PAD), id="12"),
]
# A small notebook made for the UI check: the figure helper of 01 and the drawing pad of 12,
# with an untrained model (the test reads that a prediction appears, not that it is right).
SMALL = NotebookCase("ui_check.ipynb", image_cell="plots.sample_grid(", draw=True, **PAD)
SMALL_CELLS = [
    "import numpy as np\nfrom IPython.display import display\n"
    "from helpers import drawpad, models, plots",
    "rng = np.random.default_rng(0)\n"
    "plots.sample_grid(rng.random((40, 28, 28)), np.arange(40) % 10, per_class=2)",
    "pad = drawpad.build_drawpad(models.build_article_cnn())\ndisplay(pad)",
]


def free_port() -> int:
    """Return a TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_environment(home: Path) -> dict[str, str]:
    """Return the server's environment: fast mode, temporary models, a throwaway Jupyter user."""
    for name, settings in LAB_SETTINGS.items():
        path = home / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update(
        {
            config.FAST_ENV: "1",
            config.MODELS_DIR_ENV: str(home / "models"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
        }
    )
    return env


@contextlib.contextmanager
def start_lab(
    root: Path, home: Path, timeout_s: float = 90, extra_env: dict[str, str] | None = None
) -> Iterator[LabServer]:
    """Run ``jupyter lab`` rooted at ``root`` until the block ends; yield where it listens."""
    port, token = free_port(), secrets.token_hex(16)
    log = home / "jupyter-lab.log"
    command = [
        *[sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"],
        *["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"],
        *[f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        # JSON kernel messages on the websocket, so the test can read them.
        "--ZMQChannelsWebsocketConnection.kernel_ws_protocol=",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "w") as out:
        process = subprocess.Popen(
            command,
            cwd=root,
            env={**lab_environment(home), **(extra_env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text()}")
            try:
                request = urllib.request.Request(
                    f"{url}/api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {timeout_s} s:\n{log.read_text()}")
                time.sleep(0.5)
        yield LabServer(url, token, root, log)
    finally:
        # SIGTERM makes the server shut its kernels down; then make sure it is gone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_idle_kernel(page, timeout_s: float = 90) -> None:
    """Wait until the status bar says the notebook's kernel is idle."""
    page.wait_for_function(
        """() => {
            const bar = document.querySelector('#jp-main-statusbar');
            return bar && /\\| Idle/.test(bar.innerText) && !/No Kernel/.test(bar.innerText);
        }""",
        timeout=timeout_s * 1000,
    )


def run_all_cells(page, lab: LabServer, notebook: str, timeout_s: float = RUN_TIMEOUT_S):
    """Open ``notebook`` in JupyterLab, run all its cells from the Run menu, wait for the end.

    Returns a ``RunResult``. Fails the test if the cells have not all replied in time.
    """
    n_code = sum(
        cell.cell_type == "code" for cell in nbformat.read(lab.root / notebook, as_version=4).cells
    )
    messages: list[dict] = []

    def on_websocket(websocket) -> None:
        if "/api/kernels/" not in websocket.url:
            return

        def on_frame(payload) -> None:
            if isinstance(payload, str):
                with contextlib.suppress(ValueError):
                    message = json.loads(payload)
                    if isinstance(message, dict) and "header" in message:
                        messages.append(message)

        websocket.on("framereceived", on_frame)

    page.on("websocket", on_websocket)
    # A workspace of its own, reset: only this notebook opens, whatever ran before.
    workspace = re.sub(r"\W", "-", Path(notebook).stem)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    wait_for_idle_kernel(page)
    # Fold the file browser away: more notebook in the screenshots.
    left_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if left_tab.count():
        left_tab.first.click()
    messages.clear()
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('#jp-mainmenu-run li[data-command="runmenu:run-all"]').click()

    def replies() -> list[dict]:
        return [m for m in messages if m["header"]["msg_type"] == "execute_reply"]

    deadline = time.monotonic() + timeout_s
    while len(replies()) < n_code:
        if any(m["content"].get("status") != "ok" for m in replies()):
            page.wait_for_timeout(2000)  # the kernel aborts the queued cells: let them reply
            break
        if time.monotonic() > deadline:
            pytest.fail(
                f"{notebook}: {len(replies())} of {n_code} code cells replied in {timeout_s} s "
                f"({len(messages)} kernel messages seen)"
            )
        page.wait_for_timeout(500)
    wait_for_idle_kernel(page)
    rendered = page.locator(
        '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).evaluate_all("nodes => nodes.map(node => node.textContent)")
    return RunResult(
        statuses=[m["content"].get("status", "") for m in replies()],
        kernel_errors=[
            f"{m['content'].get('ename')}: {m['content'].get('evalue')}"
            for m in messages
            if m["header"]["msg_type"] == "error"
        ],
        error_outputs=[text for text in rendered if TRACEBACK.search(text)],
    )


FIND_CELL = """snippet => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].find(
    cell => (cell.querySelector('.jp-InputArea-editor')?.textContent || '').includes(snippet))"""


def rendered_images(page, snippet: str) -> list[tuple[int, int]]:
    """Scroll to the code cell containing ``snippet``; return its images' natural sizes.

    Returns ``[]`` if there is no such cell or it shows no loaded image within 30 s.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    images = f"""snippet => {{
        const cell = ({FIND_CELL})(snippet);
        if (!cell) return null;
        cell.scrollIntoView({{block: 'start'}});
        return [...cell.querySelectorAll('.jp-OutputArea-output img')].filter(i => i.complete)
            .map(image => [image.naturalWidth, image.naturalHeight]);
    }}"""
    try:
        page.wait_for_function(f"s => ({images})(s)?.length > 0", arg=snippet, timeout=30_000)
    except PlaywrightTimeout:
        return []
    return page.evaluate(images, snippet)


OUTPUTS_TEXT = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea')]
    .map(area => area.innerText).join('\\n')"""


def draw_stroke(page, selector: str) -> None:
    """Draw a "7"-like stroke with the mouse on the last canvas matching ``selector``."""
    canvas = page.locator(selector).last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 0, f"no visible canvas matches {selector!r}"
    points = [(0.25, 0.25), (0.5, 0.25), (0.75, 0.25), (0.6, 0.5), (0.5, 0.75)]
    x0, y0 = points[0]
    page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
    page.mouse.up()


def draw_and_wait_for(page, selector: str, pattern: str, timeout_s: float = 60) -> None:
    """Draw a stroke (then press a "Predict" button if there is one); wait for ``pattern``.

    The text must be new in the outputs, so a prediction printed before drawing does not count.
    """
    before = page.evaluate(OUTPUTS_TEXT)
    draw_stroke(page, selector)
    predict = page.get_by_role("button", name=re.compile("predict", re.I))
    if predict.count():
        predict.first.click()
    page.wait_for_function(
        f"""([pattern, before]) => {{
            const text = ({OUTPUTS_TEXT})();
            return text !== before && new RegExp(pattern).test(text);
        }}""",
        arg=[pattern, before],
        timeout=timeout_s * 1000,
    )
    wait_for_settled_outputs(page)


def wait_for_settled_outputs(page, quiet_s: float = 3, timeout_s: float = 30) -> None:
    """Wait until the kernel is idle and the outputs' text has not changed for ``quiet_s``.

    Widgets can update after the kernel's reply (the canvas sends its pixels back later).
    """
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        wait_for_idle_kernel(page)
        text = page.evaluate(OUTPUTS_TEXT)
        if text != last:
            last, since = text, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(500)


def assert_no_errors(result: RunResult, notebook: str) -> None:
    failed = [i + 1 for i, status in enumerate(result.statuses) if status != "ok"]
    assert not result.kernel_errors, f"{notebook}: the kernel raised {result.kernel_errors}"
    assert not failed, f"{notebook}: code cells {failed} did not finish ok: {result.statuses}"
    assert not result.error_outputs, f"{notebook}: error outputs {result.error_outputs}"


def shut_down_kernels(lab: LabServer) -> None:
    """Stop every kernel of the server (closing a page leaves its kernel running)."""
    headers = {"Authorization": f"token {lab.token}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{lab.url}/api/kernels", headers=headers)
    ) as r:
        kernels = json.load(r)
    for kernel in kernels:
        request = urllib.request.Request(
            f"{lab.url}/api/kernels/{kernel['id']}", headers=headers, method="DELETE"
        )
        urllib.request.urlopen(request).close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright; skips the tests when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install it with apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed: pip install -r requirements.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def repo_lab(browser, tmp_path_factory):
    with start_lab(ROOT, tmp_path_factory.mktemp("jupyter-home")) as lab:
        yield lab


def check_notebook_in_lab(browser, lab: LabServer, case: NotebookCase, screenshot: Path) -> None:
    """Run all of ``case``'s cells in ``lab``; check no error, its figure, its drawing pad."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        result = run_all_cells(page, lab, case.notebook)
        assert_no_errors(result, case.notebook)
        if case.image_cell:
            sizes = rendered_images(page, case.image_cell)
            assert sizes and all(w > 0 and h > 0 for w, h in sizes), (
                f"{case.notebook}: the output of the cell with {case.image_cell!r} shows no "
                f"drawn image (natural sizes {sizes})"
            )
        if case.draw:
            draw_and_wait_for(page, case.canvas, case.expect_text)
        page.screenshot(path=str(screenshot))
    finally:
        page.close()
        shut_down_kernels(lab)
    # The server logs every save; there must be none (autosave is off, nothing saves).
    assert f"Saving file at /{case.notebook}" not in lab.log.read_text(), (
        f"JupyterLab saved {case.notebook} during the test"
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_figure_and_drawing_pad_work_in_jupyterlab(browser, tmp_path_factory, tmp_path):
    root = tmp_path_factory.mktemp("ui-check")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in SMALL_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    nbformat.write(notebook, root / SMALL.notebook)
    with start_lab(root, tmp_path_factory.mktemp("jupyter-home")) as lab:
        check_notebook_in_lab(browser, lab, SMALL, tmp_path / "ui_check.png")


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(
    not SCREENSHOT_RUN,
    reason="make screenshots runs the course's notebooks through the UI (nbval runs them "
    "under make test, and the UI is checked on a small notebook)",
)
@pytest.mark.parametrize("case", CASES)
def test_notebook_runs_in_jupyterlab(browser, repo_lab, case):
    check_notebook_in_lab(browser, repo_lab, case, case.screenshot())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_failing_cell_is_reported(browser, tmp_path_factory):
    """The checks above can fail: a cell that raises (after one that only warns) is caught."""
    root = tmp_path_factory.mktemp("failing")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(source)
        for source in ["print('before')", "import warnings; warnings.warn('only a warning')"]
        + ["1 / 0", "print('never runs')"]
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    nbformat.write(notebook, root / "failing.ipynb")
    with start_lab(root, tmp_path_factory.mktemp("jupyter-home")) as lab:
        page = browser.new_page(viewport=VIEWPORT)
        try:
            result = run_all_cells(page, lab, "failing.ipynb")
        finally:
            page.close()
    assert result.statuses == ["ok", "ok", "error", "aborted"]
    assert result.kernel_errors == ["ZeroDivisionError: division by zero"]
    assert len(result.error_outputs) == 1 and "ZeroDivisionError" in result.error_outputs[0]
    with pytest.raises(AssertionError, match="the kernel raised"):
        assert_no_errors(result, "failing.ipynb")


def binder_start_environment() -> dict[str, str]:
    """Return what the repository's ``start`` file (run by Binder) exports, at prefix ``/``."""
    env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": "/"}
    shown = subprocess.run(
        ["bash", str(ROOT / "start"), "env", "-0"], env=env, capture_output=True, check=True
    ).stdout.decode()
    exported = dict(item.split("=", 1) for item in shown.split("\0") if "=" in item)
    return {key: value for key, value in exported.items() if os.environ.get(key) != value}


def wait_for_frame_title(frame, word: str, timeout: float) -> bool:
    """Poll the frame's title until it contains ``word``; True if it did within ``timeout`` s.

    The frame is created at about:blank and then navigates to TensorBoard, so a read can
    land in a page that is being replaced: such a read is retried, not taken as failure.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if word in frame.evaluate("() => document.title"):
                return True
        except PlaywrightError:  # the frame is navigating; its old document is gone
            pass
        time.sleep(0.5)
    return False


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_tensorboard_magic_shows_tensorboard_through_the_proxy(browser, tmp_path_factory):
    """As on Binder: the %tensorboard frame loads TensorBoard through jupyter-server-proxy."""
    import jupyter_server_proxy  # noqa: F401  (pinned: Binder's JupyterLab serves ports with it)
    import psutil

    exported = binder_start_environment()
    assert exported.get("TENSORBOARD_PROXY_URL") == "/proxy/%PORT%/"
    root = tmp_path_factory.mktemp("tensorboard")
    (root / "logs").mkdir()
    port = free_port()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext tensorboard"),
        nbformat.v4.new_code_cell(f"%tensorboard --logdir logs --port {port}"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    nbformat.write(notebook, root / "tensorboard.ipynb")
    home = tmp_path_factory.mktemp("jupyter-home")
    env = {**exported, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    try:
        with start_lab(root, home, extra_env=env) as lab:
            page = browser.new_page(viewport=VIEWPORT)
            try:
                result = run_all_cells(page, lab, "tensorboard.ipynb")
                assert_no_errors(result, "tensorboard.ipynb")
                proxied = f"{lab.url}/proxy/{port}/"
                iframe = page.wait_for_function(  # .src is the resolved URL, whatever was set
                    "url => [...document.querySelectorAll('iframe')].find(f => f.src === url)",
                    arg=proxied,
                    timeout=60_000,
                ).as_element()
                assert wait_for_frame_title(iframe.content_frame(), "TensorBoard", timeout=60), (
                    f"the %tensorboard frame at {proxied} never showed TensorBoard"
                )
            finally:
                page.close()
                shut_down_kernels(lab)
    finally:  # the magic starts TensorBoard in the background: stop it
        for process in psutil.process_iter(["cmdline"]):
            if f"--port {port}" in " ".join(process.info["cmdline"] or []):
                process.terminate()
