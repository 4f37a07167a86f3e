"""The web app in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by
selenium) against the app served by uvicorn on a free 127.0.0.1 port (fake model: what is checked is the
page, not the model).

Pastes a submission, checks that tag chips, evidence highlights and related cases appear, that pasted HTML
stays text, that the chip filter script runs and that the console stays clean; uploads a file; renders the
API docs (Swagger UI from the package, under the app's CSP). Screenshots are kept as test artifacts under
pytest's temporary folder (paths printed). Skipped, with the reason, only where Chromium and its driver
are missing and ``scripts/system-deps.sh`` cannot install them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("uvicorn", reason="the web extra is not installed")
pytest.importorskip("selenium", reason="selenium is not installed (dev extra)")

pytestmark = pytest.mark.slow  # a browser start takes seconds

REPO = Path(__file__).resolve().parent.parent
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1280,900",
)
SUBMISSION = """滨海县人民法院
打造“一站式”诉讼服务新模式
为破解群众诉讼难题<script>window.__pwned = 1</script>，滨海县人民法院以诉讼服务中心建设为抓手，推动提质增效。
一是建设一站式诉讼服务中心。整合立案、缴费、调解、送达等功能，实现“一站通办”。
二是推进诉前多元解纷。联合司法局建立诉调对接机制，引导当事人选择人民调解，化解矛盾纠纷1200余件。
三是深化智慧法院建设。依托大数据平台上线网上立案、电子送达和在线庭审。"""


def _find(name: str, fallback: str) -> str | None:
    found = shutil.which(name) or (fallback if Path(fallback).exists() else None)
    return found


def _browser_paths() -> tuple[str, str]:
    chromium, driver = _find("chromium", "/usr/bin/chromium"), _find("chromedriver", "/usr/bin/chromedriver")
    script = REPO / "scripts" / "system-deps.sh"
    if (chromium is None or driver is None) and script.exists():
        subprocess.run(["bash", str(script)], capture_output=True, timeout=900, check=False)
        chromium, driver = (
            _find("chromium", "/usr/bin/chromium"),
            _find("chromedriver", "/usr/bin/chromedriver"),
        )
    if chromium is None or driver is None:
        pytest.skip(
            "headless Chromium is not available: Debian packages chromium and chromium-driver are not "
            "installed and could not be installed here (scripts/system-deps.sh installs them where apt works)"
        )
    return chromium, driver


class _Server:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@pytest.fixture(scope="module")
def server(fake_encoder, fake_tagger) -> Iterator[_Server]:
    from yanreform.apps.web import create_app
    from yanreform.corpus import load_corpus
    from yanreform.search.index import CaseIndex

    index = CaseIndex.from_corpus(load_corpus(), encoder=fake_encoder, tagger=fake_tagger)
    with _Server(create_app(tagger=fake_tagger, index=index)) as s:
        yield s


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    chromium, chromedriver = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in FLAGS:
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="yanreform-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(chromedriver), options=opts)
    d.set_page_load_timeout(60)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-screenshots")


def _wait(driver: Any, css: str, timeout: float = 60) -> list[Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, css)))
    return driver.find_elements(By.CSS_SELECTOR, css)


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _shot(driver: Any, artifacts: Path, name: str) -> Path:
    path = artifacts / name
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 4000)")
    driver.set_window_size(1280, max(900, int(height)))
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    print(f"screenshot: {path}")
    assert path.stat().st_size > 10_000
    return path


def test_paste_a_submission_and_see_tags_evidence_and_related_cases(server, driver, artifacts) -> None:
    from selenium.webdriver.common.by import By

    driver.get(server.base + "/")
    box = _wait(driver, "textarea#text")[0]
    box.send_keys(SUBMISSION)
    # the counter script ran
    assert driver.find_element(By.ID, "count").text.startswith(f"({len(SUBMISSION)}")
    driver.find_element(By.ID, "analyse").click()
    cases = _wait(driver, "article.case")
    assert driver.current_url == server.base + "/submit"
    assert len(cases) == 1
    assert driver.find_element(By.CSS_SELECTOR, ".case-head h2").text == "打造“一站式”诉讼服务新模式"
    assert len(driver.find_elements(By.CSS_SELECTOR, ".passage.kind-initiative")) == 3
    chips = driver.find_elements(By.CSS_SELECTOR, ".case .summary .chip")
    codes = [c.get_attribute("data-code") for c in chips]
    assert "one_stop_service" in codes
    marks = driver.find_elements(By.CSS_SELECTOR, ".passage mark")
    assert len(marks) >= 5 and any(m.text == "一站式" for m in marks)
    related = driver.find_elements(By.CSS_SELECTOR, ".related-case")
    assert len(related) == 5
    assert all(r.find_element(By.CSS_SELECTOR, ".level").text for r in related)
    # pasted HTML is text: no script element from the submission, and it did not run
    assert driver.execute_script("return window.__pwned === undefined")
    assert driver.execute_script("return document.querySelectorAll('.passage script').length") == 0
    assert "<script>window.__pwned = 1</script>" in driver.find_element(By.CSS_SELECTOR, ".kind-lead").text
    # progressive enhancement: a chip shows only its own evidence
    first = next(c for c in chips if c.get_attribute("data-code") == "one_stop_service")
    first.click()
    assert "focus" in cases[0].get_attribute("class")
    on = driver.find_elements(By.CSS_SELECTOR, ".case mark.on")
    assert on and {m.get_attribute("data-code") for m in on} == {"one_stop_service"}
    first.click()
    assert "focus" not in cases[0].get_attribute("class")
    assert _console_errors(driver) == []
    _shot(driver, artifacts, "submission.png")


def test_upload_a_collection_file(server, driver, artifacts, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    path = tmp_path / "盐城2024.txt"
    path.write_bytes(
        (REPO / "corpus" / "yancheng-2024-reform-cases.txt").read_text("utf-8").encode("gb18030")
    )
    driver.get(server.base + "/")
    _wait(driver, "input#file")[0].send_keys(str(path))
    assert "盐城2024.txt" in driver.find_element(By.ID, "file-note").text
    driver.find_element(By.CSS_SELECTOR, "select[name=k] option[value='3']").click()
    driver.find_element(By.ID, "analyse").click()
    cases = _wait(driver, "article.case")
    assert len(cases) == 10
    assert len(driver.find_elements(By.CSS_SELECTOR, ".passage.kind-initiative")) == 34
    assert len(driver.find_elements(By.CSS_SELECTOR, ".related-case")) == 30
    assert "盐城2024.txt" in driver.find_element(By.CSS_SELECTOR, ".sub-head").text
    assert _console_errors(driver) == []
    _shot(driver, artifacts, "upload.png")


def test_api_docs_render_offline_under_the_csp(server, driver, artifacts) -> None:
    driver.get(server.base + "/docs")
    ops = _wait(driver, ".opblock", timeout=60)
    paths = {o.get_attribute("id") for o in ops}
    assert any("api_tag" in (p or "") for p in paths) and len(ops) >= 8
    assert _console_errors(driver) == []
    _shot(driver, artifacts, "docs.png")


def test_case_page_and_404_page(server, driver) -> None:
    from selenium.webdriver.common.by import By

    driver.get(server.base + "/cases/yc2024-05")
    _wait(driver, "article.case")
    assert driver.find_element(By.CSS_SELECTOR, ".case-head h2").text == "构建“法治好参谋”数字平台"
    assert len(driver.find_elements(By.CSS_SELECTOR, ".related-case")) == 5
    driver.get(server.base + "/cases/nope")
    assert "404" in driver.find_element(By.TAG_NAME, "h1").text
