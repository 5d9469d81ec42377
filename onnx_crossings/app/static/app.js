// The page: score the review as it is typed, on the server (POST /predict) or in this tab (onnxruntime-web).
import { checkedPreprocessing, cleanReview, encode } from "./preprocessing.js";

const DEBOUNCE_MS = 250;
ort.env.wasm.wasmPaths = "/ort/"; // served by the app from node_modules: no CDN
ort.env.wasm.numThreads = 1; // threads need a cross-origin-isolated page; one review needs one

let browserModel = null; // the session and preprocessing, loaded on first use

function loadBrowserModel() {
  browserModel ??= Promise.all([
    ort.InferenceSession.create("/model/review_sentiment.onnx", { executionProviders: ["wasm"] }),
    fetch("/model/preprocessing.json").then((answer) => answer.json()).then(checkedPreprocessing),
  ]).then(([session, settings]) => ({ session, settings }));
  return browserModel;
}

/** Score reviews in this tab in one run, with the same fields as the server's answer, plus the word ids. */
export async function scoreInBrowser(reviews) {
  const { session, settings } = await loadBrowserModel();
  const length = settings.sequence_length;
  const encoded = reviews.map((review) => encode(review, settings));
  const ids = new Int32Array(reviews.length * length);
  encoded.forEach((review, row) => ids.set(review.ids, row * length));
  const tokens = new ort.Tensor("int32", ids, [reviews.length, length]);
  const outputs = await session.run({ [session.inputNames[0]]: tokens });
  const logits = outputs[session.outputNames[0]].data; // the model's output: the log odds of "positive"
  return encoded.map((review, row) => ({
    logit: logits[row],
    probability: 1 / (1 + Math.exp(-logits[row])),
    label: logits[row] >= 0 ? "positive" : "negative",
    known_tokens: review.known,
    unknown_tokens: review.unknown,
    unknown_words: review.unknownWords,
    ids: Array.from(review.ids),
  }));
}

/** Score one review on the server; a refusal (4xx) becomes an Error carrying the server's explanation. */
export async function scoreOnServer(review) {
  const answer = await fetch("/predict", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ review }),
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.detail);
  return body;
}

const page = {
  review: document.querySelector("#review"),
  label: document.querySelector("#label"),
  certainty: document.querySelector("#certainty"),
  fill: document.querySelector("#bar-fill"),
  details: document.querySelector("#details"),
  unknown: document.querySelector("#unknown"),
  status: document.querySelector("#status"),
};
let latest = 0; // number of the latest request: answers to older ones are dropped

function where() {
  return document.querySelector("input[name=where]:checked").value;
}

function show(prediction, milliseconds, place) {
  const positive = prediction.probability;
  page.label.textContent = prediction.label;
  page.label.className = prediction.label;
  // the sigmoid's output for the label shown: a score, not a calibrated chance of being right
  page.certainty.textContent = `score ${Math.max(positive, 1 - positive).toFixed(3)}`;
  page.fill.style.width = `${(100 * positive).toFixed(1)}%`;
  page.fill.className = prediction.label;
  page.details.textContent =
    `P(positive) = ${positive.toFixed(4)} · ${prediction.known_tokens} known and ` +
    `${prediction.unknown_tokens} unknown words read · ${milliseconds.toFixed(1)} ms ${place}`;
  page.unknown.textContent = prediction.unknown_words.length
    ? `Not in the vocabulary (read as one "unknown" token): ${prediction.unknown_words.join(", ")}`
    : "Every word is in the model's vocabulary.";
}

async function scoreWhatIsTyped() {
  const number = ++latest;
  const review = page.review.value;
  if (!review.trim()) {
    page.details.textContent = "Type a review to see its score.";
    return;
  }
  const place = where() === "server" ? "on the server (round trip)" : "in your browser";
  const started = performance.now();
  try {
    const prediction =
      where() === "server" ? await scoreOnServer(review) : (await scoreInBrowser([review]))[0];
    if (number === latest) show(prediction, performance.now() - started, place);
  } catch (error) {
    if (number === latest) page.details.textContent = `Not scored: ${error.message}`;
  }
}

let timer;
page.review.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(scoreWhatIsTyped, DEBOUNCE_MS);
});
for (const choice of document.querySelectorAll("input[name=where]")) {
  choice.addEventListener("change", scoreWhatIsTyped);
}

const health = await (await fetch("/health")).json();
page.status.textContent =
  `Model ${health.model_version} (sha256 prefix of the ONNX file) · micro-batching ` +
  `${health.micro_batching ? "on" : "off"} · ONNX Runtime Web ${ort.env.versions.web} (WebAssembly)`;
window.sentimentApp = { cleanReview, encode, scoreInBrowser, scoreOnServer, loadBrowserModel };
