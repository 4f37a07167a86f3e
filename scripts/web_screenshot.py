"""Make docs/web-screenshot.png: the submission view of the web app with the real model, in headless Chromium.

    python scripts/web_screenshot.py [-o docs/web-screenshot.png]

Starts ``yanreform serve`` on a free 127.0.0.1 port, pastes a sample submission into the home page, submits it
and saves a 1280-pixel-wide screenshot of the result (cropped to ``--height`` pixels). Needs the web extra,
selenium and Debian's chromium + chromium-driver.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = """滨海县人民法院
打造“一站式”诉讼服务新模式
为破解群众诉讼难题，滨海县人民法院以诉讼服务中心建设为抓手，推动诉讼服务提质增效。
一是建设一站式诉讼服务中心。整合立案、缴费、调解、送达等功能，实现“一站通办”，群众办事只进一扇门。
二是推进诉前多元解纷。联合司法局、综治中心建立诉调对接机制，引导当事人选择人民调解，化解矛盾纠纷1200余件。
三是深化智慧法院建设。依托大数据平台上线网上立案、电子送达和在线庭审，案件平均审理周期缩短20%。"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default=str(REPO / "docs" / "web-screenshot.png"))
    ap.add_argument("--height", type=int, default=860, help="height of the picture in pixels (default 860)")
    args = ap.parse_args(argv)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "yanreform", "serve", "--port", str(port), "--read-only"]
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="yanreform-chromium-")
    driver = None
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if urllib.request.urlopen(base + "/healthz", timeout=5).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync",
                     f"--window-size=1280,{args.height}", f"--user-data-dir={profile}"):  # fmt: skip
            opts.add_argument(flag)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                  options=opts)  # fmt: skip
        driver.get(base + "/")
        driver.find_element(By.ID, "text").send_keys(SAMPLE)
        driver.find_element(By.ID, "analyse").click()
        WebDriverWait(driver, 300).until(ec.presence_of_element_located((By.CSS_SELECTOR, "article.case")))
        driver.save_screenshot(args.output)
        print(f"{args.output}: {Path(args.output).stat().st_size:,} bytes")
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(30)
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
