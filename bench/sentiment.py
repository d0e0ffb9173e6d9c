"""`make bench-sentiment`: texts per second of the sentiment service on one core, without OpenAI.

Measured on the 4,200 tweets of the shipped human-rated set with every step the service runs: HTML
clean-up and truncation, PII scrub, the English check (word list, then py3langid where needed), VADER,
TextBlob, the learned combiner and the emotion lexicon. The process is pinned to one CPU and numeric
libraries to one thread. Loading the analysers (first call) is timed separately and excluded from the
rates. Two paths are timed, each as the median of `BENCH_REPEATS` (default 5) passes:
- batch: `sentiment_analyze(texts=…)` in batches of 1,000 (the API's largest batch and the processing
  step's path);
- one by one: `SentimentAnalysisService().analyze_text_sentiment(text)` per text (the documented face).
Target: ≥ 2,000 texts/s. It writes nothing but stdout; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["OPENAI_API_KEY"] = ""  # never OpenAI here
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import logging  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

TARGET = 2_000.0
BATCH = 1_000


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    django.setup()
    logging.getLogger("analytics").setLevel(logging.WARNING)
    from analytics.ai_services import SentimentAnalysisService
    from analytics.intelligence.sentiment.datasets import rated_set
    from analytics.intelligence.sentiment.service import sentiment_analyze

    texts = [item.text for item in rated_set("tweets")]
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    print(f"python {platform.python_version()} on {platform.machine()}, pinned to 1 CPU; {len(texts):,} tweets")

    started = time.perf_counter()
    sentiment_analyze(texts=texts[:50], use_openai=False)  # loads VADER, TextBlob, word lists, langid model
    print(f"load (first call): {time.perf_counter() - started:.2f} s")

    batch_rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            sentiment_analyze(texts=texts[start : start + BATCH], use_openai=False)
        batch_rates.append(len(texts) / (time.perf_counter() - started))

    service = SentimentAnalysisService(use_openai=False)
    single_rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            service.analyze_text_sentiment(text)
        single_rates.append(len(texts) / (time.perf_counter() - started))

    batch, single = statistics.median(batch_rates), statistics.median(single_rates)
    print(f"batch of {BATCH:,}: {batch:,.0f} texts/s (median of {repeats}; min {min(batch_rates):,.0f})")
    print(f"one by one: {single:,.0f} texts/s (median of {repeats}; min {min(single_rates):,.0f})")
    met = min(batch, single) >= TARGET
    print(f"target ≥ {TARGET:,.0f} texts/s: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
