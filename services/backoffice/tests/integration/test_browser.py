"""The console's pages in a real browser (Debian's headless Chromium through chromium-driver),
the console served by uvicorn on a real port, the five services played by the stand-ins: a
member signs in with the keyboard, finds an order, reads its timeline and refunds a claim; the
browser keeps the session cookie and the forms carry their CSRF token. Screenshots under
.cache/screenshots/console-*.png. (tests/e2e/test_console.py does the same against the real
services.)"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from backoffice.app import create_app
from jg_devstack.launcher import free_port
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from .conftest import PASSWORD, Console
from .test_console import CLAIM_ID, ORDER_ID, PHOTO_ID, _serve_order

REPO = Path(__file__).resolve().parents[4]
SCREENSHOTS = REPO / ".cache" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Debian's chromium and chromium-driver are needed (`.ci/run` installs them)",
    ),
]


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


class Served:
    """The console on a real port, in a thread of its own (its own event loop)."""

    def __init__(self, console: Console) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        app = create_app(console.settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the console did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"console-{name}.png"))


async def test_a_member_works_through_the_console_in_a_browser(
    console: Console, browser: WebDriver
) -> None:
    _serve_order(console)
    claim = {
        "claim_id": CLAIM_ID,
        "order_id": ORDER_ID,
        "kind": "damaged_item",
        "status": "open",
        "items": [{"sku": "NOREN-VAGUE-85", "quantity": 1}],
        "message": "Le rideau est déchiré.",
        "opened_at": "2026-11-13T08:00:00Z",
        "photos": [{"photo_id": PHOTO_ID, "content_type": "image/png", "erased": False}],
    }
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f80f000001010001a5f645400000000049454e44ae426082"
    )
    f = console.stand_ins["fulfillment"]
    f.on("GET", "/operator/claims", lambda r, m: (200, [claim]))
    f.on("GET", f"/operator/claims/{CLAIM_ID}", lambda r, m: (200, claim))
    f.on("GET", f"/operator/claims/{CLAIM_ID}/photos/{PHOTO_ID}", lambda r, m: (200, png))
    f.on(
        "POST",
        f"/operator/claims/{CLAIM_ID}/resolution",
        lambda r, m: (200, claim | {"status": "resolved"}),
    )
    with Served(console) as served:
        browser.get(f"{served.url}/commandes/{ORDER_ID}")  # not signed in: the sign-in page
        assert browser.find_element(By.TAG_NAME, "h1").text == "Connexion à la console"
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        # keyboard only: the e-mail field has the focus, Tab to the password, Enter to send
        active = browser.switch_to.active_element
        assert active.get_attribute("id") == "email"
        active.send_keys("manager@japangoodz.test", Keys.TAB)
        browser.switch_to.active_element.send_keys(PASSWORD)
        shot(browser, "connexion")
        browser.switch_to.active_element.send_keys(Keys.ENTER)
        # back where they were going, signed in
        assert browser.find_element(By.TAG_NAME, "h1").text == "Commande JG-2026-000123"
        cookie = browser.get_cookie("jg_console_session")
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert browser.execute_script("return document.cookie") == ""  # invisible to scripts
        page = browser.find_element(By.TAG_NAME, "main").text
        assert "Colis expédié EJ123456789JP" in page and "Facture F-2026-000001" in page
        shot(browser, "commande")

        browser.get(f"{served.url}/?q=camille@example.fr")
        browser.find_element(By.LINK_TEXT, "JG-2026-000123")
        shot(browser, "recherche")

        browser.get(f"{served.url}/reclamations/{CLAIM_ID}")
        image = browser.find_element(By.CSS_SELECTOR, ".photos img")
        assert browser.execute_script("return arguments[0].naturalWidth", image) == 1
        browser.find_element(By.CSS_SELECTOR, "label[for=d-refund]").click()  # labels work
        browser.find_element(By.ID, "amount").send_keys("19,90")
        browser.find_element(By.ID, "message").send_keys("Nous vous remboursons le rideau.")
        shot(browser, "reclamation")
        browser.find_element(By.CSS_SELECTOR, "form[action$='/decision'] button").click()
        flash = browser.find_element(By.CSS_SELECTOR, ".flash.ok")
        assert flash.get_attribute("role") == "status"
        assert "Le remboursement est demandé" in flash.text
        sent = f.asked("POST", f"/operator/claims/{CLAIM_ID}/resolution")
        assert [r["body"]["amount"] for r in sent] == ["19.90"]

        browser.get(f"{served.url}/journal")
        assert "Décision sur une réclamation" in browser.find_element(By.TAG_NAME, "main").text
        shot(browser, "journal")
        for path in ("files", "inventaire", "lettres-mortes", "messages-en-attente"):
            browser.get(f"{served.url}/{path}")
            shot(browser, path)
        browser.find_element(By.CSS_SELECTOR, "form[action='/deconnexion'] button").click()
        assert "Vous êtes déconnecté" in browser.find_element(By.TAG_NAME, "main").text
        browser.get(f"{served.url}/journal")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Connexion à la console"
