"""The pages in a real browser: headless Debian ``chromium`` driven by ``chromedriver`` (selenium),
against a real ``feeds serve`` process.

Checks what only a browser shows: the autodiscovery links a feed reader or browser extension
finds point at valid feeds, the Copy button (shown by the page's script) puts a subscribe link
on the clipboard, and the pages fit a phone's width.

Nothing is downloaded: the browser and the driver are Debian's (``apt-get install chromium
chromium-driver``, done by ``.ci/run``), selenium gets the driver's path, so Selenium Manager
never runs (and ``SE_OFFLINE`` forbids it to download if it did). Without them the tests skip
locally and fail in CI (``$CI`` set).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.servers import opener, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No connections of its own (updates, sync, safe browsing...): only the test's.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # the server is on loopback whatever $http_proxy says
    # Even so it looks up Google hosts (autofill, sign-in, extension updates) and its search
    # engine: resolve no name at all (the test uses 127.0.0.1), so it connects to nothing else.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--window-size=1280,900",
)
FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PHONE = (390, 844)  # CSS pixels, a current phone in portrait

_fetcher = opener


@pytest.fixture(scope="module")
def browser_installed() -> None:
    """Skip without Debian's chromium + chromedriver, unless in CI, where that is a failure."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        reason = (
            f"browser test needs {' and '.join(missing)}: "
            "apt-get install chromium chromium-driver (as .ci/run does)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def base_url(browser_installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``feeds serve`` process over the bundled samples, ready; SIGTERM afterwards."""
    with serving(tmp_path_factory.mktemp("serve")) as served:
        yield served.base
    assert served.process.returncode == 0, served.output()


@pytest.fixture(scope="module")
def driver(
    browser_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebDriver]:
    """Headless chromium with a fresh profile; quit afterwards."""
    tmp = tmp_path_factory.mktemp("chromium")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp / "chromedriver.log"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # Selenium Manager: never download a driver or browser
        browser = webdriver.Chrome(options=options, service=service)
        try:
            browser.set_page_load_timeout(15)
            browser.set_script_timeout(5)
            yield browser
        finally:
            browser.quit()


@pytest.fixture
def page(driver: WebDriver) -> WebDriver:
    """The browser at desktop size, as each test starts."""
    driver.set_window_size(1280, 900)
    return driver


def fetch(url: str) -> tuple[str, bytes]:
    with _fetcher.open(url, timeout=10) as response:
        assert response.status == 200, url
        return response.headers.get_content_type(), response.read()


def autodiscovery(driver: WebDriver) -> dict[str, str]:
    """The page's feed ``<link rel="alternate">``s: format (rss, atom, json) to href."""
    links = [
        (link.get_attribute("type"), link.get_attribute("href"))
        for link in driver.find_elements(By.CSS_SELECTOR, 'head link[rel~="alternate"]')
    ]
    feeds = [(FEED_TYPES[t], href) for t, href in links if t in FEED_TYPES]
    assert len(feeds) == len(links), f"alternate links of unknown type: {links}"
    formats = [fmt for fmt, _ in feeds]
    assert sorted(formats) == sorted(FEED_TYPES.values()), f"one link per format: {links}"
    return {fmt: str(href) for fmt, href in feeds}


def check_feed(fmt: str, url: str) -> list[str]:
    """Fetch ``url`` and check it is a valid feed with entries; return the entry titles."""
    content_type, body = fetch(url)
    # Served as the type the link announces, which is how readers pick a parser.
    assert FEED_TYPES.get(content_type) == fmt, f"{url}: served as {content_type}"
    if fmt == "json":
        feed = json.loads(body)
        assert feed["version"] == JSON_FEED_VERSION, url
        assert feed["items"], f"{url}: no items"
        assert feed.get("feed_url", url) == url
        return [item["title"] for item in feed["items"]]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, f"{url}: {parsed.get('bozo_exception')}"
    assert parsed.version.startswith(fmt), f"{url}: parsed as {parsed.version}"
    assert parsed.entries, f"{url}: no entries"
    return [entry.title for entry in parsed.entries]


def grant_clipboard(driver: WebDriver, origin: str) -> None:
    """Let pages of ``origin`` write and read the clipboard without a prompt (CDP)."""
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )


def write_clipboard(driver: WebDriver, text: str) -> None:
    error = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.writeText(arguments[0]).then(() => done(null), e => done(`${e}`));",
        text,
    )
    assert error is None, f"the clipboard is not available: {error}"


def read_clipboard(driver: WebDriver) -> str:
    """The clipboard's text, as the page reads it (needs the clipboard permissions)."""
    return str(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.clipboard.readText().then(done, e => done(`clipboard error: ${e}`));"
        )
    )


def test_index_autodiscovery_links_are_valid_feeds(page: WebDriver, base_url: str) -> None:
    page.get(f"{base_url}/")
    links = autodiscovery(page)
    assert links == {fmt: f"{base_url}/feeds/all.{fmt}" for fmt in links}
    titles = {fmt: check_feed(fmt, url) for fmt, url in links.items()}
    assert titles["rss"] == titles["atom"] == titles["json"]


def test_topic_autodiscovery_links_are_the_topic_feeds(page: WebDriver, base_url: str) -> None:
    page.get(f"{base_url}/topics/lupus")
    links = autodiscovery(page)
    assert links == {fmt: f"{base_url}/feeds/lupus.{fmt}" for fmt in links}
    titles = {fmt: check_feed(fmt, url) for fmt, url in links.items()}
    assert titles["rss"] == titles["atom"] == titles["json"]
    # The lupus feed, not everything: its entries are all tagged lupus.
    lupus = feedparser.parse(fetch(links["rss"])[1])
    assert all("lupus" in {t.term for t in e.tags} for e in lupus.entries)
    _, everything = fetch(f"{base_url}/feeds/all.rss")
    assert len(lupus.entries) < len(feedparser.parse(everything).entries)


def test_copy_button_puts_the_subscribe_link_on_the_clipboard(
    page: WebDriver, base_url: str
) -> None:
    page.get(f"{base_url}/topics/lupus")
    grant_clipboard(page, base_url)
    url = f"{base_url}/feeds/lupus.rss"
    field = page.find_element(By.ID, "sub-lupus-rss")
    assert field.get_attribute("value") == url
    assert field.get_attribute("readonly") is not None
    button = page.find_element(By.CSS_SELECTOR, 'button[data-copy="sub-lupus-rss"]')
    assert button.is_displayed(), "the page's script shows the Copy buttons"
    assert button.text == "Copy"

    # Something else on the clipboard first, so that the URL can only come from the click.
    write_clipboard(page, "before")
    assert read_clipboard(page) == "before"
    button.click()
    WebDriverWait(page, 5).until(lambda d: button.text == "Copied")
    assert read_clipboard(page) == url
    # The field is selected too: where the clipboard API is refused, the page falls back to
    # execCommand("copy"), which copies the selection.
    selected = page.execute_script(
        "const f = arguments[0]; return f.value.substring(f.selectionStart, f.selectionEnd);",
        field,
    )
    assert selected == url


def test_every_copy_button_is_shown_and_copies_its_own_link(page: WebDriver, base_url: str) -> None:
    page.get(f"{base_url}/")
    buttons = page.find_elements(By.CSS_SELECTOR, "button[data-copy]")
    # "All topics" and each of the two topics, in three formats each.
    assert len(buttons) == 9
    for button in buttons:
        target = button.get_attribute("data-copy")
        fields = page.find_elements(By.ID, target)
        assert len(fields) == 1, f"{target}: {len(fields)} elements with that id"
        assert fields[0].get_attribute("readonly") is not None
        value = fields[0].get_attribute("value")
        assert value is not None
        assert value.startswith(f"{base_url}/feeds/")
        assert button.is_displayed(), f"{target}: Copy button hidden"
    grant_clipboard(page, base_url)
    write_clipboard(page, "before")
    button = page.find_element(By.CSS_SELECTOR, 'button[data-copy="sub-car-t-atom"]')
    button.click()
    WebDriverWait(page, 5).until(lambda d: button.text == "Copied")
    assert read_clipboard(page) == f"{base_url}/feeds/car-t.atom"


@pytest.mark.parametrize("path", ["/", "/topics/lupus"])
def test_pages_fit_a_phone_screen(page: WebDriver, base_url: str, path: str) -> None:
    page.set_window_size(*PHONE)
    page.get(f"{base_url}{path}")
    inner_width, client_width, scroll_width = page.execute_script(
        "const root = document.documentElement;"
        "return [window.innerWidth, root.clientWidth, root.scrollWidth];"
    )
    assert inner_width == PHONE[0], "the window did not shrink to a phone's width"
    # No horizontal overflow. Desktop chromium keeps a classic vertical scrollbar (15 px) at
    # this size, so the page has clientWidth (innerWidth less the scrollbar), not innerWidth:
    # comparing with innerWidth would let up to 15 px of overflow through.
    assert scroll_width <= client_width <= inner_width, f"{path} scrolls sideways on a phone"
    button = page.find_element(By.CSS_SELECTOR, 'button[data-copy="sub-lupus-rss"]')
    assert button.is_displayed()
    rect = button.rect
    assert rect["x"] >= 0
    assert rect["x"] + rect["width"] <= client_width, "the Copy button is off screen"
