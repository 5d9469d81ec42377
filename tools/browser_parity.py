"""The browser against Python: the same word ids and logits from the same ONNX file, and a screenshot."""

import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, sync_playwright

from onnx_crossings.app.model import SentimentModel
from onnx_crossings.data import imdb
from onnx_crossings.plumbing import batching
from onnx_crossings.teaching import parity

CHROMIUM_ADVICE = (
    "install Debian's chromium: `sudo apt-get install chromium` (`make test` does it as root)"
)
# chapter 2's tolerance for its logits, which ONNX Runtime Web's WebAssembly kernels sum in their own order
LOGIT_RTOL, LOGIT_ATOL = 1e-5, 1e-4
CHUNK_REVIEWS = 250  # reviews scored per call into the page
# IMDb's test reviews hold accents, HTML breaks, digits and punctuation runs, but no emoji or rarer scripts:
# these sentences, written for the check, add them.
EDGE_CASES = (
    "Loved it 😀😀 10/10!!! Best film of 2023…",
    "ＦＵＬＬＷＩＤＴＨ letters and ４２ digits, Ⅻ roman numerals, ½ a star",
    "Ὀδυσσεύς ΟΔΥΣΣΕΥΣ: Greek capitals end in a final sigma when lowercased",
    "İSTANBUL and ǅ titlecase; the German ß and ẞ; déjà vu spelt de\u0301ja\u0300 vu",
    "Don’t, can´t, won`t and rock 'n' roll: apostrophes of every kind",
    "Line one<br/>line two<BR >line three<br\u3000/>line four<br\x1c>end",
    "?!?!... —— ***** ######## ......",
    "snake_case_words and under_scores_everywhere",
    "映画はとても良かった。 Фильм отличный! فيلم رائع",
    "   \t\n  ",
)


def features(reviews: list[str]) -> dict[str, int]:
    """How many reviews hold each kind of text the JavaScript port must treat as Python does."""
    patterns = {
        "html_line_breaks": r"<br\s*/?>",
        "accents_and_other_non_ascii": r"[^\x00-\x7f]",
        "emoji": r"[\U0001F300-\U0001FAFF]",
        "digits": r"\d",
        "punctuation_runs": r"[!?.*#-]{3,}",
    }
    return {
        name: sum(bool(re.search(pattern, review, re.IGNORECASE)) for review in reviews)
        for name, pattern in patterns.items()
    }


@contextmanager
def app_page(base_url: str) -> Iterator[Page]:
    """Debian's headless Chromium on the app's page, ready (window.sentimentApp set); page errors fail it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError(f"Chromium is missing: {CHROMIUM_ADVICE}")
    errors = []
    with sync_playwright() as playwright:
        # Chromium's sandbox cannot start as root, as in containers
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 640})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(base_url)
            page.wait_for_function("window.sentimentApp !== undefined", timeout=60_000)
            page.evaluate("sentimentApp.loadBrowserModel().then(() => true)")
            yield page
        finally:
            browser.close()
    if errors:
        raise AssertionError(f"the page raised errors: {errors}")


def score_in_page(page: Page, reviews: list[str]) -> list[dict]:
    """The browser's answers for reviews, each with its word ids (padding left out)."""
    answers = []
    for chunk in batching.batches(reviews, CHUNK_REVIEWS):
        answers += page.evaluate(
            """async (reviews) => (await sentimentApp.scoreInBrowser(reviews)).map(
                (answer) => ({ ...answer, ids: answer.ids.filter((id) => id !== 0) }))""",
            chunk,
        )
    return answers


def browser_latency_ms(page: Page, review: str, calls: int = 100) -> dict[str, float]:
    """Median and 99th percentile of scoring one review in the page (preprocessing included), in ms."""
    times = page.evaluate(
        """async ([review, calls]) => {
            const times = [];
            for (let call = 0; call < calls; call++) {
                const started = performance.now();
                await sentimentApp.scoreInBrowser([review]);
                times.push(performance.now() - started);
            }
            return times;
        }""",
        [review, calls],
    )
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p99_ms": round(float(np.percentile(times, 99)), 2),
    }


def compare_with_python(page: Page, model: SentimentModel, reviews: list[str]) -> dict:
    """Browser vs Python ONNX Runtime on reviews: identical ids, counts and unknown words; logits in tolerance."""
    started = time.perf_counter()
    browser = score_in_page(page, reviews)
    browser_seconds = time.perf_counter() - started
    python = model.score(reviews)
    ids = imdb.encode(reviews, model.vocabulary, model.sequence_length)
    different_ids = [
        number
        for number, (row, answer) in enumerate(zip(ids, browser, strict=True))
        if row[row != imdb.PADDING_ID].tolist() != answer["ids"]
    ]
    different_words = [
        number
        for number, (mine, answer) in enumerate(zip(python, browser, strict=True))
        if (mine.known_tokens, mine.unknown_tokens, mine.unknown_words)
        != (answer["known_tokens"], answer["unknown_tokens"], answer["unknown_words"])
    ]
    logits = parity.compare(
        np.array([[mine.logit] for mine in python]),
        np.array([[answer["logit"]] for answer in browser]),
        names=("Python", "browser"),
        quantity="logits",
    )
    parity.assert_parity(logits, rtol=LOGIT_RTOL, atol=LOGIT_ATOL)
    return {
        "reviews": len(reviews),
        "identical_token_ids": len(reviews) - len(different_ids),
        "first_different_ids": different_ids[:5],
        "identical_word_counts": len(reviews) - len(different_words),
        "max_abs_diff": logits.max_abs_diff,
        "tolerance": {"rtol": LOGIT_RTOL, "atol": LOGIT_ATOL},
        "share_of_tolerance": logits.share_of_tolerance(rtol=LOGIT_RTOL, atol=LOGIT_ATOL),
        "label_agreement": logits.label_agreement,
        "browser_reviews_per_second": round(len(reviews) / browser_seconds, 1),
    }


def character_differences(page: Page) -> dict[str, list[str]]:
    """Code points (assigned in Python's Unicode) where the port's word, space or lowercase rule differs."""
    tables = page.evaluate(
        """async () => {
            const { SPACE, WORD_CHARACTER } = await import("/static/preprocessing.js");
            const word = new RegExp(`^${WORD_CHARACTER}$`, "u"), space = new RegExp(`^${SPACE}$`, "u");
            const words = [], spaces = [], lowered = [];
            for (let point = 0; point <= 0x10ffff; point++) {
                const character = String.fromCodePoint(point);
                words.push(word.test(character) ? "1" : "0");
                spaces.push(space.test(character) ? "1" : "0");
                lowered.push(point && (point < 0xd800 || point > 0xdfff) ? character.toLowerCase() : "");
            }
            return [words.join(""), spaces.join(""), lowered.join("\\u0000")];
        }"""
    )
    words, spaces, lowered = tables[0], tables[1], tables[2].split("\0")
    differences = {"word": [], "space": [], "lowercase": []}
    for point in range(sys.maxunicode + 1):
        character = chr(point)
        # unassigned in Python's tables, or a surrogate
        if unicodedata.category(character) in ("Cn", "Cs"):
            continue
        if (words[point] == "1") != bool(re.match(r"[^\W_]", character)):
            differences["word"].append(f"U+{point:04X}")
        if (spaces[point] == "1") != bool(re.match(r"\s", character)):
            differences["space"].append(f"U+{point:04X}")
        if lowered[point] != character.lower() and point:
            differences["lowercase"].append(f"U+{point:04X}")
    return differences


def screenshot(page: Page, path: Path, review: str) -> Path:
    """The page scoring review on the server, saved as a PNG."""
    page.check("input[value=server]")
    page.fill("#review", review)
    page.wait_for_function("document.querySelector('#details').textContent.includes('ms')")
    page.wait_for_timeout(500)  # the bar slides to its width
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    return path
