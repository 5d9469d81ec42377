"""Chapter 2's model in the browser: the same ids and logits as Python, the page as a learner sees it.

It reads chapter 2's model from chapter 2's graded run in this session (the `chapter_2_model` fixture), or, where
tests write into the repository, from what `make chapters` wrote.
"""

import re
import struct

import numpy as np
import pytest

from onnx_crossings.app.model import SentimentModel
from onnx_crossings.data import imdb
from tools import browser_parity
from tools.local_server import running_server

REAL_REVIEWS = 600


def parity_reviews(texts: list[str], labels: np.ndarray, size: int, seed: int = 0) -> list[str]:
    """Real test reviews: the size // 5 with the most varied non-ASCII characters, a balanced sample of the rest."""
    varied = sorted(
        range(len(texts)), key=lambda index: -len({c for c in texts[index] if ord(c) > 127})
    )[: size // 5]
    sample = imdb.balanced_sample(labels, size - len(varied), seed, exclude=np.array(varied))
    return [texts[index] for index in [*varied, *sample]]


@pytest.fixture(scope="module")
def model(chapter_2_model) -> SentimentModel:
    return SentimentModel(*chapter_2_model)


@pytest.fixture(scope="module")
def page(model):
    with running_server() as base_url, browser_parity.app_page(base_url) as page:
        yield page


def test_the_browser_feeds_the_model_the_same_ids_and_gets_the_same_logits(page, model):
    data = imdb.load_imdb()
    real = parity_reviews(data.test_texts, data.test_labels, REAL_REVIEWS)
    reviews = real + list(browser_parity.EDGE_CASES)
    assert len(set(real)) == REAL_REVIEWS and set(real) <= set(data.test_texts)
    assert all(count > 0 for count in browser_parity.features(reviews).values())
    # it asserts the logits' parity within chapter 2's tolerance itself
    figures = browser_parity.compare_with_python(page, model, reviews)
    assert figures["identical_token_ids"] == len(reviews), figures["first_different_ids"]
    assert figures["identical_word_counts"] == len(reviews)
    assert figures["share_of_tolerance"] <= 1 and figures["label_agreement"] == 1.0


def test_the_ported_rules_treat_every_character_as_python_does(page):
    differences = browser_parity.character_differences(page)
    assert differences == {"word": [], "space": [], "lowercase": []}


def test_the_page_scores_what_is_typed_on_the_server_and_in_the_browser_alike(page, tmp_path):
    review = "A wonderful film, though the plot was thin. Cinematografy 9/10!"
    shot = browser_parity.screenshot(page, tmp_path / "web_app.png", review)
    on_server = page.inner_text("#details")
    page.check("input[value=browser]")
    page.wait_for_function("document.querySelector('#details').textContent.includes('browser')")
    in_browser = page.inner_text("#details")
    probability = re.compile(r"P\(positive\) = [\d.]+ · \d+ known and 1 unknown")
    assert probability.search(on_server).group() == probability.search(in_browser).group()
    assert "cinematografy" in page.inner_text("#unknown")
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # from the PNG header
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and width >= 800 and height >= 500
