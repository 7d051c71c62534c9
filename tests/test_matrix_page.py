"""The page of ``createimage-contract matrix --html`` (createimage_contract._matrix_page): one
self-contained HTML file, every value of the report escaped, both views; then the page in a real
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which .ci/run installs),
driven by Selenium: a failing cell opens, nothing is fetched from anywhere, a screenshot.

``CREATEIMAGE_SCREENSHOT=PATH`` saves the browser test's screenshot to PATH too (the README's
picture, docs/matrix.png)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from test_matrix import Made, made  # noqa: F401 (the session's matrix, a fixture)

from createimage_contract._matrix_page import STATES, render

REPORT = Path(__file__).parent / "matrix" / "report.json"
"""A report as ``matrix --report-json`` writes it: the reference and moto, seven cells, three
disagreements; one of moto's bodies is an HTML page holding a script."""

HOSTILE = (
    '<script>window.__pwned = 1; document.title = "pwned"</script><img src=x onerror=alert(1)>'
)
QUOTED = '" onmouseover="window.__pwned = 2" x=\''


def report() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REPORT.read_text(encoding="utf-8"))
    return loaded


def parse(page: str) -> Any:
    return lxml.html.document_fromstring(page)


def text(element: Any) -> str:
    """Its text, the words of neighbouring elements apart."""
    return " ".join(" ".join(element.itertext()).split())


def hostile_report() -> dict[str, Any]:
    """Every string a target or the report could make up, hostile."""
    hostile = report()
    hostile["targets"][1]["name"] = f"moto{HOSTILE}"
    hostile["targets"][1]["endpoint"] = f"http://127.0.0.1:1/{HOSTILE}"
    hostile["substitutions"][0]["value"] = HOSTILE
    hostile["substitutions"][0]["target"] = f"moto{HOSTILE}"
    hostile["date"] = HOSTILE
    for cell in hostile["cells"]:
        results = cell["results"]
        results[f"moto{HOSTILE}"] = results.pop("moto")
        cell["rule"] = f"{cell['rule']}{QUOTED}"
        finding = results[f"moto{HOSTILE}"]["finding"]
        if finding:
            finding["message"] = HOSTILE
            finding["request"] = {"form": f"Name={HOSTILE}", "curl": f"curl '{HOSTILE}'"}
            finding["answer"]["body"] = HOSTILE
    for disagreement in hostile["disagreements"]:
        disagreement["rule"] = QUOTED
        answers = disagreement["answers"]
        answers[f"moto{HOSTILE}"] = answers.pop("moto")
        for answer in answers.values():
            answer.update(code=HOSTILE, shape=HOSTILE, body=f"</pre></details>{HOSTILE}")
    hostile["disagreements"][0]["kind"] = HOSTILE
    return hostile


# -------------------------------------------------------------------------------- the page


def test_hostile_values_are_text_never_markup() -> None:
    page = render(hostile_report())
    tree = parse(page)
    assert len(tree.xpath("//script")) == 1  # the page's own
    assert not tree.xpath("//img")
    assert not tree.xpath("//@onmouseover | //@onerror")
    assert "<script>window" not in page and "<img src=x" not in page
    bodies = [element.text_content() for element in tree.xpath("//pre[@class='body']")]
    assert set(bodies) == {HOSTILE, f"</pre></details>{HOSTILE}"}
    assert f"moto{HOSTILE}" in [th.text_content() for th in tree.xpath("//table//th")]
    rules = {td.get("data-rule") for td in tree.xpath("//td[@data-rule]")}
    assert f"name.charset{QUOTED}" in rules
    assert {td.get("data-target") for td in tree.xpath("//td[@data-target]")} == {
        "reference",
        f"moto{HOSTILE}",
    }
    (kind,) = tree.xpath("//section[@class='kind'][last()]")  # a kind of its own: the last
    assert kind.get("data-kind") == HOSTILE and text(kind.xpath("h3")[0]) == f"{HOSTILE} (1)"


def test_the_page_fetches_nothing_and_is_ascii() -> None:
    page = render(report())
    assert page.isascii()
    tree = parse(page)
    references = tree.xpath("//@src | //@href | //@action | //@srcset | //@poster | //@data")
    assert references and all(reference.startswith("#") for reference in references)
    assert not tree.xpath("//link | //img | //iframe | //object | //embed | //script[@src]")
    assert not re.search(r"@import|url\(|\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", page)
    # The endpoints are shown as text, never linked.
    assert "http://127.0.0.1:41231/" in text(tree.xpath("//table[@class='targets']")[0])


def test_the_policy_allows_only_the_pages_own_style_and_script() -> None:
    tree = parse(render(report()))
    policy = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    (style,) = tree.xpath("//style/text()")
    (script,) = tree.xpath("//script/text()")

    def allowed(source: str) -> str:
        digest = hashlib.sha256(source.encode()).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"

    assert "default-src 'none'" in policy
    assert f"style-src {allowed(style)};" in policy
    assert f"script-src {allowed(script)};" in policy


def test_the_header_names_the_run_and_every_target() -> None:
    tree = parse(render(report()))
    header = text(tree.xpath("//header")[0])
    assert "createimage-contract 0.1.0" in header
    assert "Seed 1" in header and "2026-11-30T06:00:00Z" in header
    rows = tree.xpath("//table[@class='targets']/tbody/tr")
    assert [text(row) for row in rows] == [
        "reference reference http://127.0.0.1:41231/ i-0123456789abcdef0 yes 7 pass",
        "moto moto http://127.0.0.1:41232/ i-0a1b2c3d4e5f67890 no "
        "1 pass, 2 fail, 2 warning, 2 skipped",
    ]
    substitution = tree.xpath("//ul[@class='substitutions']")[0].text_content()
    assert substitution == "moto: InstanceId = i-0a1b2c3d4e5f67890"


def test_without_substitutions_the_header_says_so() -> None:
    plain = report()
    plain["substitutions"] = []
    tree = parse(render(plain))
    assert "every target was sent the very same requests" in text(
        tree.xpath("//p[@class='substitutions']")[0]
    )


def test_the_legend_gives_each_state_a_symbol_and_a_word_not_only_a_colour() -> None:
    tree = parse(render(report()))
    items = tree.xpath("//ul[@class='legend']/li")
    assert [item.get("class") for item in items] == [f"status-{state}" for state in STATES]
    assert [text(item.xpath("span[@class='state']")[0]) for item in items] == [
        "\u2713 pass",
        "\u2717 fail",
        "! warning",
        "\u2013 skipped",
    ]


def test_a_cell_per_rule_check_and_target_with_its_state_and_counts() -> None:
    source = report()
    tree = parse(render(source))
    assert [th.text_content() for th in tree.xpath("//table[@class='matrix']/thead/tr/th")] == [
        "Rule",
        "Check",
        "reference",
        "moto",
    ]
    assert tree.xpath("//table[@class='matrix']//th[@scope='row']")
    for cell in source["cells"]:
        for target, result in cell["results"].items():
            (td,) = tree.xpath(
                "//td[@data-rule=$rule and @data-check=$check and @data-target=$target]",
                rule=cell["rule"],
                check=cell["check"],
                target=target,
            )
            assert td.get("data-status") == result["status"]
            symbol_and_word = text(td.xpath(".//span[@class='state']")[0])
            assert symbol_and_word.endswith(result["status"])
            counts = text(td.xpath(".//span[@class='counts']")[0])
            failed = f", {result['failed']} failed" if result["failed"] else ""
            assert counts == f"{result['sent']} sent{failed}"
            assert bool(td.xpath(".//details[@class='detail']")) == bool(result["finding"])
    rows = tree.xpath("//table[@class='matrix']/tbody/tr")
    assert [row.get("data-differs") for row in rows] == ["false"] + ["true"] * 6


def test_a_failing_cell_opens_onto_the_request_the_answers_and_the_curl() -> None:
    tree = parse(render(report()))
    (detail,) = tree.xpath(
        "//td[@data-rule='name.charset' and @data-target='moto']//details[@class='detail']"
    )
    assert "expected 400 InvalidAMIName.Malformed, got 200" in text(detail)
    form = detail.xpath(".//pre[@class='form']")[0].text_content()
    assert form.endswith("&Name=a%2Ab")
    answers = detail.xpath(".//table[@class='answers']")[0]
    assert [th.text_content() for th in answers.xpath("thead//th")] == ["reference", "moto"]
    status = answers.xpath("tbody/tr[@data-fact='status']")[0]
    assert text(status) == "Status \u2260 400 200" and status.get("class") == "differs"
    assert "InvalidAMIName.Malformed" in text(answers)
    assert detail.xpath(".//pre[@class='curl']")[0].text_content().startswith("curl -sS -X POST")
    assert detail.xpath(".//a/@href") == ["#disagreement-0"]


def test_without_a_disagreement_a_cell_shows_its_own_target_s_answer() -> None:
    alone = report()
    alone["disagreements"] = []
    tree = parse(render(alone))
    (detail,) = tree.xpath(
        "//td[@data-rule='name.length' and @data-check='status' and @data-target='moto']"
        "//details[@class='detail']"
    )
    answers = detail.xpath(".//table[@class='answers']")[0]
    assert [th.text_content() for th in answers.xpath("thead//th")] == ["moto"]
    assert text(answers.xpath("tbody/tr[@data-fact='status']")[0]) == "Status 500"
    assert "Internal Server Error" in answers.xpath(".//pre[@class='body']")[0].text_content()
    assert "Only this target's answer is in the report." in text(detail)


def test_the_differential_view_groups_the_disagreements_by_kind() -> None:
    source = report()
    tree = parse(render(source))
    (differential,) = tree.xpath("//section[@id='differential']")
    kinds = differential.xpath("section[@class='kind']")
    assert [(kind.get("data-kind"), text(kind.xpath("h3")[0])) for kind in kinds] == [
        ("status", "status (2)"),
        ("xml-shape", "xml-shape (1)"),
    ]
    articles = differential.xpath(".//article[@class='disagreement']")
    assert [article.get("data-kind") for article in articles] == ["status", "status", "xml-shape"]
    for article, disagreement in zip(articles, source["disagreements"], strict=True):
        assert (
            article.xpath("pre[@class='form']")[0].text_content()
            == (disagreement["request"]["form"])
        )
        assert (
            article.xpath("pre[@class='curl']")[0].text_content()
            == (disagreement["request"]["curl"])
        )
        answers = article.xpath(".//table[@class='answers']")[0]
        assert [th.text_content() for th in answers.xpath("thead//th")] == ["reference", "moto"]
        for fact in ("status", "code", "shape"):
            cells = answers.xpath(f"tbody/tr[@data-fact='{fact}']/td")
            assert [cell.text_content() for cell in cells] == [
                "none" if answer[fact] is None else str(answer[fact])
                for answer in disagreement["answers"].values()
            ]
        bodies = answers.xpath("tbody/tr[@data-fact='body']/td/details/pre")
        assert [body.text_content() for body in bodies] == [
            answer["body"] for answer in disagreement["answers"].values()
        ]
    assert "0 code" in text(differential) and "0 describe-images" in text(differential)


def test_disagreements_answered_alike_are_one_way_the_first_few_shown() -> None:
    alike = report()
    alike["disagreements"][1:1] = [copy.deepcopy(alike["disagreements"][0]) for _ in range(4)]
    tree = parse(render(alike))
    (kind,) = tree.xpath("//section[@data-kind='status']")
    assert text(kind.xpath("h3")[0]) == "status (6)"
    assert "2 ways:" in text(kind.xpath("p")[0])
    ways = kind.xpath("section[@class='way']")
    assert [text(way.xpath("h4")[0]) for way in ways] == [
        "5 \u00d7 reference 400 InvalidAMIName.Malformed | moto 200",
        "1 \u00d7 reference 400 InvalidAMIName.Malformed | moto 500",
    ]
    shown = ways[0].xpath("article[@class='disagreement']/@id")
    folded = ways[0].xpath("details[@class='more']/article[@class='disagreement']/@id")
    assert shown == ["disagreement-0", "disagreement-1", "disagreement-2"]
    assert folded == ["disagreement-3", "disagreement-4"]
    assert text(ways[0].xpath("details/summary")[0]) == "2 more requests answered this way"
    assert not ways[1].xpath("details[@class='more']")
    # A cell links to the first disagreement on its request.
    cell = tree.xpath("//td[@data-rule='name.charset' and @data-target='moto']")[0]
    assert cell.xpath(".//a/@href") == ["#disagreement-0"]


def test_when_the_targets_agreed_the_page_says_so() -> None:
    agreed = report()
    agreed["disagreements"] = []
    tree = parse(render(agreed))
    (differential,) = tree.xpath("//section[@id='differential']")
    assert not differential.xpath(".//article")
    assert text(differential.xpath("p[@class='agreed']")[0]).startswith("The targets agreed")


def test_a_long_body_is_cut_and_unknown_states_and_missing_results_still_show() -> None:
    odd = report()
    odd["cells"][3]["results"]["moto"]["finding"]["answer"]["body"] = "x" * 5000
    odd["disagreements"] = []
    odd["cells"].append({"rule": "valid", "check": "xml", "results": {"moto": {"status": "odd"}}})
    tree = parse(render(odd))
    cell = tree.xpath("//td[@data-rule='name.charset' and @data-target='moto']")[0]
    assert len(cell.xpath(".//pre[@class='body']")[0].text_content()) == 2000
    assert "and 3000 more characters" in text(cell)
    (unknown,) = tree.xpath("//td[@data-check='xml' and @data-target='moto']")
    assert unknown.get("data-status") == "odd" and "odd" in text(unknown)
    (missing,) = tree.xpath("//td[@data-check='xml' and @data-target='reference']")
    assert missing.get("data-status") == "none" and text(missing) == "? no result"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_colour_pair_has_enough_contrast_in_both_schemes() -> None:
    style = parse(render(report())).xpath("//style/text()")[0]
    light, dark = re.findall(r":root \{([^}]*)\}", style)
    pairs = [("fg", "bg"), ("muted", "bg"), ("link", "bg"), ("fg", "head"), ("fg", "differs")]
    pairs += [(f"{state}-fg", f"{state}-bg") for state in STATES]
    for scheme in (light, dark):
        colours = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", scheme))
        for foreground, background in pairs:
            ratio = _contrast(colours[foreground], colours[background])
            assert ratio >= 4.5, (foreground, background, ratio)
    assert "color-scheme: light dark" in style and "prefers-color-scheme: dark" in style


# ----------------------------------------------------------------------------- the browser

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def matrix_page(made: Made) -> Path:  # noqa: F811 (the fixture imported above)
    """The page of the session's real ``createimage-contract matrix`` (the reference and moto,
    the README's seed; ``tests/test_matrix.py`` makes it once for the whole session)."""
    assert made.page.exists()
    return made.page


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail(
            "the matrix page's browser test needs Chromium and its driver on the PATH "
            "(`chromium` and `chromedriver`): .ci/run installs them (Debian packages chromium "
            "and chromium-driver); `sudo apt-get install chromium chromium-driver` does here"
        )
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1000"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        try:
            driver = webdriver.Chrome(options=options, service=Service(chromedriver))
        except WebDriverException as error:
            pytest.fail(f"Chromium ({chromium}) did not start under {chromedriver}: {error}")
        try:
            yield driver
        finally:
            driver.quit()


def _open(driver: webdriver.Chrome, page: Path) -> str:
    """Load the page from its file, the logs emptied first; its URL."""
    driver.get("about:blank")
    _log(driver, "performance")
    _log(driver, "browser")
    url = page.as_uri()
    driver.get(url)
    return url


def _log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """The entries of a log (``browser``, ``performance``) since it was last read."""
    read: Callable[[str], list[dict[str, Any]]] = driver.get_log  # untyped in Selenium
    return read(kind)


def _requests(driver: webdriver.Chrome) -> list[tuple[str, str]]:
    """Every request the browser was about to send since the logs were last read: (the
    document that asked, the URL)."""
    sent = []
    for entry in _log(driver, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            sent.append((params.get("documentURL", ""), params["request"]["url"]))
    return sent


def _visible(element: WebElement) -> bool:
    return element.is_displayed() and element.size["height"] > 0


def test_the_page_in_a_real_browser(
    browser: webdriver.Chrome, matrix_page: Path, tmp_path: Path
) -> None:
    driver = browser
    url = _open(driver, matrix_page)
    assert driver.title.endswith("seed 1")

    # The style sheet and the script ran (the policy allows them by their hash).
    filter_ = driver.find_element(By.ID, "filter")
    assert filter_.is_displayed()
    passing = driver.find_element(By.CSS_SELECTOR, "td.cell[data-status='pass']")
    assert passing.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"

    # A failing cell opens onto its request, the answers and the curl.
    cell = driver.find_element(
        By.CSS_SELECTOR,
        "td.cell[data-status='fail']:has(details.detail), "
        "td.cell[data-status='warning']:has(details.detail)",
    )
    form = cell.find_element(By.CSS_SELECTOR, ".detail pre.form")
    curl = cell.find_element(By.CSS_SELECTOR, ".detail pre.curl")
    assert not _visible(form) and not _visible(curl)
    summary = cell.find_element(By.CSS_SELECTOR, "details.detail > summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    assert _visible(form) and form.text.startswith("Action=CreateImage")
    assert _visible(curl) and curl.text.startswith("curl -sS -X POST")
    answers = cell.find_element(By.CSS_SELECTOR, ".detail table.answers")
    assert _visible(answers)
    target = cell.get_attribute("data-target")
    assert target in [th.text for th in answers.find_elements(By.CSS_SELECTOR, "thead th")]
    # A request signed as usual (not a forged probe) was sent to the other target too.
    unforged = driver.find_element(
        By.CSS_SELECTOR, "td.cell[data-target='moto'][data-rule='name.charset'] details.detail"
    )
    driver.execute_script("arguments[0].open = true", unforged)
    columns = unforged.find_elements(By.CSS_SELECTOR, "table.answers thead th")
    assert [th.text for th in columns] == ["moto", "reference"]
    assert answers.find_element(By.CSS_SELECTOR, "tr[data-fact='status'] td").text

    # The filter keeps the rows where the targets differ (counted in the page: there are many).
    count_rows = (
        "const rows = [...document.querySelectorAll('table.matrix > tbody > tr')];"
        "return [rows.filter(row => row.dataset.differs === 'true').length,"
        " rows.filter(row => row.getClientRects().length > 0).length, rows.length];"
    )
    differing, shown, total = driver.execute_script(count_rows)
    assert shown == total > differing > 0
    driver.find_element(By.ID, "only-differences").click()
    assert driver.execute_script(count_rows) == [differing, differing, total]
    assert cell.is_displayed()

    # Nothing was fetched but the page itself, and nothing was refused or failed.
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    requests = _requests(driver)
    assert [sent for document, sent in requests if document == url] == [url]
    assert not [sent for _, sent in requests if re.match(r"(?:https?|wss?|ftp):", sent)]
    assert not [entry for entry in _log(driver, "browser") if entry["level"] == "SEVERE"]

    _screenshot(driver, tmp_path / "matrix.png")

    # A narrow window scrolls the table, not the page.
    driver.set_window_size(420, 900)
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    driver.set_window_size(1280, 1000)

    # The system's dark scheme.
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    body = driver.find_element(By.TAG_NAME, "body")
    assert body.value_of_css_property("background-color") == "rgba(22, 24, 28, 1)"
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_hostile_bodies_do_not_run_in_a_real_browser(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render(hostile_report()), encoding="ascii")
    _open(driver := browser, page)
    assert driver.title == "createimage-contract matrix, seed 1"
    assert driver.execute_script("return window.__pwned") is None
    for summary in driver.find_elements(By.CSS_SELECTOR, "details.detail > summary")[:1]:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
        summary.click()
    body = driver.find_element(By.CSS_SELECTOR, "details.detail[open] details.answer")
    body.find_element(By.TAG_NAME, "summary").click()
    assert body.find_element(By.CSS_SELECTOR, "pre.body").text == HOSTILE
    assert driver.execute_script("return window.__pwned") is None
    assert not [entry for entry in _log(driver, "browser") if entry["level"] == "SEVERE"]


def test_a_link_to_a_folded_disagreement_unfolds_it(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    alike = report()
    alike["disagreements"][1:1] = [copy.deepcopy(alike["disagreements"][0]) for _ in range(4)]
    page = tmp_path / "folded.html"
    page.write_text(render(alike), encoding="ascii")
    _open(driver := browser, page)
    assert not driver.find_element(By.ID, "disagreement-4").is_displayed()
    driver.get(f"{page.as_uri()}#disagreement-4")
    assert driver.find_element(By.ID, "disagreement-4").is_displayed()


def _screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The page from its top, with the filter on and the cell open: as tall as it is (within
    reason). Also to ``$CREATEIMAGE_SCREENSHOT``."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 140, 2400))
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.1)
    assert driver.save_screenshot(str(path))
    wanted = os.environ.get("CREATEIMAGE_SCREENSHOT")
    if wanted:
        Path(wanted).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, wanted)
    driver.set_window_size(1280, 1000)
