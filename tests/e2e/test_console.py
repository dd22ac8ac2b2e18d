"""The customer-service console in a real browser (Debian's headless Chromium driven by Selenium
through chromium-driver) against the six running services: a manager finds the order of a
delivered journey, follows it on one timeline, resolves a damaged-item claim with a refund and
the customer receives the refund email; an agent cannot replay dead letters. A screenshot of
each page is written under .cache/screenshots/ (named after the page)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jg_devstack.drivers import Fulfillment, Mailbox, Shop, eventually, plain, unique_email
from jg_devstack.launcher import CONSOLE, Platform
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".cache" / "screenshots"
STAFF_PASSWORD = "Console-Kintsugi-2026!"
MANAGER = ("claire.manager@japangoodz.test", "Claire Manager", "manager")
AGENT = ("hugo.agent@japangoodz.test", "Hugo Agent", "agent")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver are needed (`.ci/run` installs them)",
)


@pytest.fixture(scope="session")
def staff(platform: Platform) -> None:
    """The two team members, added as production adds its first manager (accounts' CLI)."""
    env = {
        **os.environ,
        **platform.config.service_env("accounts"),
        "ACCOUNTS_STAFF_PASSWORD": STAFF_PASSWORD,
    }
    for email, name, role in (MANAGER, AGENT):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "accounts.staff",
                "add",
                "--email",
                email,
                "--name",
                name,
                "--role",
                role,
            ],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
        "--lang=fr-FR",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def sign_in(browser: WebDriver, console: str, email: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{console}/connexion")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(STAFF_PASSWORD)
    shot(browser, "01-connexion")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert browser.find_element(By.ID, "q")  # the search page: signed in


def text(browser: WebDriver) -> str:
    return plain(browser.find_element(By.TAG_NAME, "main").text)


def text_once(browser: WebDriver, containing: str, timeout: float = 20.0) -> str:
    """The page's main text once it holds ``containing``: a click that submits a form or
    follows a link returns before the next page is there (the old page's elements go stale)."""

    def landed(driver: WebDriver) -> str | bool:
        try:
            found = text(driver)
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return found if containing in found else False

    try:
        return str(WebDriverWait(browser, timeout).until(landed))
    except TimeoutException:
        pytest.fail(f"the page never showed {containing!r}; it shows: {text(browser)[:500]!r}")


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (20, 40, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_manager_follows_a_delivered_order_and_refunds_a_damaged_item(
    platform: Platform,
    staff: None,
    shop: Shop,
    mailbox: Mailbox,
    fulfillment: Fulfillment,
    browser: WebDriver,
) -> None:
    console = platform.url(CONSOLE)
    email = unique_email("camille")
    order, _, tracking = await shop.delivered_order(email, [("NOREN-VAGUE-85", 1)])
    damaged = await fulfillment.claim(
        order["id"],
        kind="damaged_item",
        order_number=order["number"],
        items=[("NOREN-VAGUE-85", 1)],
        message="Le rideau est arrivé déchiré.",
        photos=[("noren.png", photo(), "image/png")],
    )
    assert damaged.status_code == 201, damaged.text
    claim_id = damaged.json()["claim_id"]

    sign_in(browser, console, MANAGER[0])
    browser.find_element(By.ID, "q").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    shot(browser, "02-recherche")
    browser.find_element(By.LINK_TEXT, order["number"]).click()

    # One timeline: checkout, payment, fulfillment (the parcel and its tracking) and the emails.
    page = text_once(browser, f"Colis expédié {tracking}")
    assert order["number"] in page
    assert "Confirmation de votre commande" in page
    assert "Suivre le colis" in page
    assert "ne répond pas" not in page  # every service answered
    shot(browser, "03-commande")

    browser.get(f"{console}/reclamations")
    shot(browser, "04-reclamations")
    browser.get(f"{console}/reclamations/{claim_id}")
    image = browser.find_element(By.CSS_SELECTOR, ".photos img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 96  # proxied
    browser.find_element(By.ID, "d-refund").click()
    browser.find_element(By.ID, "message").send_keys("Nous vous remboursons le rideau.")
    shot(browser, "05-reclamation")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/decision'] button").click()
    text_once(browser, "Le remboursement est demandé")  # the decision's answer page

    refunded = await mailbox.wait_for(email, "Votre remboursement de", timeout=60)
    assert "Votre remboursement de 34,90 €" in plain(refunded["Subject"])
    answer = await mailbox.wait_for(email, "Réponse à votre réclamation", timeout=60)
    assert "Nous vous remboursons le rideau." in plain(answer["Text"])

    browser.get(f"{console}/journal")
    trail = text(browser)
    assert f"{MANAGER[0]} Décision sur une réclamation" in trail
    shot(browser, "06-journal")
    # The refund shows on the order's timeline once payment has made it.
    await eventually(
        lambda: _reload(browser, f"{console}/commandes/{order['id']}"),
        lambda page: "Remboursement effectué" in page or "Avoir" in page,
        "the refund on the order's timeline",
        timeout=60,
    )
    for path, name in (
        ("/files", "07-files"),
        ("/inventaire", "08-inventaire"),
        ("/lettres-mortes", "09-lettres-mortes"),
        ("/messages-en-attente", "10-messages-en-attente"),
    ):
        browser.get(f"{console}{path}")
        assert "Introuvable" not in text(browser)
        shot(browser, name)


async def _reload(browser: WebDriver, url: str) -> str:
    browser.get(url)
    return text(browser)


async def test_an_agent_cannot_replay_dead_letters(
    platform: Platform, staff: None, browser: WebDriver
) -> None:
    console = platform.url(CONSOLE)
    sign_in(browser, console, AGENT[0])
    browser.get(f"{console}/lettres-mortes")
    assert not browser.find_elements(By.XPATH, "//button[contains(., 'Rejouer')]")
    shot(browser, "11-lettres-mortes-conseiller")
    # Posting anyway, with the session's own CSRF token: refused.
    status = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector("input[name=csrf_token]").value;
        fetch("/lettres-mortes/1/rejeu", {method: "POST", redirect: "manual",
              headers: {"Content-Type": "application/x-www-form-urlencoded"},
              body: "csrf_token=" + encodeURIComponent(csrf)}).then(r => done(r.status));
        """
    )
    assert status == 403
    browser.get(f"{console}/journal")
    assert "réservée aux responsables" in text(browser)
