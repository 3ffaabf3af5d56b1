"""Does a supervised text model help the rules? Grouped cross-validation says whether.

Not a speed benchmark (so `make bench` does not run it): the experiment behind the
decision to leave a text model out of the tracker. Per area, a regularised logistic
regression on word (1–2) and character (3–5) n-grams of the title, programme, keywords
and description is trained on the labelled calls of four folds and scores the fifth,
with folds that keep programme families whole (tracker.matching.folds.group_folds, as
`tracker match evaluate --cross-validate` does). Two ways of using it are compared with
the rules alone:

- "add": the model's probability, centred at 0.5, moves the rule score by alpha × 100
  points before the engine's thresholds and strongest-areas choice decide;
- "stack": per area, a logistic regression over the rule score's distance to the
  threshold plus the n-grams (weighted by w), deciding at probability 0.5.

Needs scikit-learn, which the tracker does not depend on:
`.venv/bin/pip install scikit-learn`, then
`.venv/bin/python bench/text_model_cv.py --labels ../shared/strategy/dev-labels.jsonl
--labels ../shared/strategy/dev-labels-2.jsonl --calls ../shared/samples/real_calls.jsonl`.
Prints a table and writes bench/results/text_model_cv.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.matching.call import CallInput, programme_family  # noqa: E402
from tracker.matching.engine import compile_profile, match_call, strongest_areas  # noqa: E402
from tracker.matching.evaluate import figures  # noqa: E402
from tracker.matching.folds import group_folds  # noqa: E402
from tracker.matching.jsonl import read_calls, read_labels  # noqa: E402
from tracker.matching.profile import default_profile  # noqa: E402

FOLDS = 5
# An area with fewer relevant training calls than this gets no text model in that fold.
MIN_POSITIVES = 3


def _text(call: CallInput) -> str:
    parts = [call.title, call.title, call.programme, call.call_title, *call.keywords]
    return " ".join([*parts, *call.tags, call.description[:4000]])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", action="append", required=True)
    parser.add_argument("--calls", required=True)
    args = parser.parse_args(argv)
    try:
        import numpy as np
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("needs scikit-learn: .venv/bin/pip install scikit-learn", file=sys.stderr)
        return 2

    calls = {c.id: c for c in read_calls(args.calls)}
    gold: dict[str, frozenset[str]] = {}
    for path in args.labels:
        gold.update({k: frozenset(v.areas) for k, v in read_labels(path).items()})
    ids = sorted(i for i in gold if i in calls)
    compiled = compile_profile(default_profile())
    slugs = compiled.profile.slugs
    thresholds = {a.slug: a.threshold for a in compiled.areas}
    results = {i: match_call(compiled, calls[i], snippets="none") for i in ids}
    folds = group_folds({i: programme_family(calls[i]) for i in ids}, FOLDS)
    docs = [_text(calls[i]) for i in ids]
    truth = {s: np.array([s in gold[i] for i in ids]) for s in slugs}
    rule = {s: np.array([results[i].area(s).score for i in ids]) for s in slugs}
    gated = [results[i].gate is not None for i in ids]
    labelled = {i: gold[i] for i in ids}

    def features(train: Any, test: Any, weight: float) -> tuple[Any, Any]:
        words = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
        chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5), min_df=2)
        d_train = [d for d, t in zip(docs, train, strict=True) if t]
        d_test = [d for d, t in zip(docs, test, strict=True) if t]
        x_train = hstack([words.fit_transform(d_train), chars.fit_transform(d_train)])
        x_test = hstack([words.transform(d_test), chars.transform(d_test)])
        return x_train.tocsr() * weight, x_test.tocsr() * weight

    def run(score: Callable[[Any, Any, Any, Any, str], Any] | None) -> dict[str, Any]:
        predicted: dict[str, set[str]] = {i: set() for i in ids}
        for fold in range(FOLDS):
            train = np.array([folds[i] != fold for i in ids])
            test = ~train
            rows = np.where(test)[0]
            x_train, x_test = features(train, test, 1.0) if score else (None, None)
            scores = {
                s: (score(x_train, x_test, train, test, s) if score else rule[s][test])
                for s in slugs
            }
            for j, k in enumerate(rows):
                if gated[k]:
                    continue
                above = {s: float(v[j]) for s, v in scores.items() if v[j] >= thresholds[s]}
                predicted[ids[k]] = set(strongest_areas(above, thresholds, compiled.params))
        f = figures(predicted, labelled, slugs)
        return {
            "micro_f1": round(f.micro_f1, 4),
            "any_precision": round(f.any_precision, 4),
            "any_recall": round(f.any_recall, 4),
        }

    def add(alpha: float, c: float) -> Callable[[Any, Any, Any, Any, str], Any]:
        def score(x_train: Any, x_test: Any, train: Any, test: Any, slug: str) -> Any:
            y = truth[slug][train]
            if y.sum() < MIN_POSITIVES:
                return rule[slug][test]
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            model.fit(x_train, y)
            return rule[slug][test] + alpha * (model.predict_proba(x_test)[:, 1] - 0.5) * 100

        return score

    def stack(c: float, weight: float) -> Callable[[Any, Any, Any, Any, str], Any]:
        def score(x_train: Any, x_test: Any, train: Any, test: Any, slug: str) -> Any:
            distance = (rule[slug] - thresholds[slug]) / 10.0
            y = truth[slug][train]
            if y.sum() < MIN_POSITIVES:
                return rule[slug][test]
            a_train = hstack([csr_matrix(distance[train][:, None]), x_train * weight]).tocsr()
            a_test = hstack([csr_matrix(distance[test][:, None]), x_test * weight]).tocsr()
            model = LogisticRegression(C=c, max_iter=3000)
            model.fit(a_train, y)
            # Probability 0.5 becomes the area's threshold, so the engine decides as usual.
            p = model.predict_proba(a_test)[:, 1]
            return np.clip(thresholds[slug] + (p - 0.5) * 100, 0.0, 100.0)

        return score

    rows: list[tuple[str, dict[str, Any]]] = [("rules alone", run(None))]
    for c in (1.0, 10.0):
        for alpha in (0.1, 0.3):
            rows.append((f"add C={c:g} alpha={alpha:g}", run(add(alpha, c))))
    for c in (1.0, 10.0):
        for weight in (0.0, 0.5, 1.0):
            rows.append((f"stack C={c:g} w={weight:g}", run(stack(c, weight))))

    print(f"{len(ids)} labelled calls, {FOLDS} folds by programme family")
    print(f"{'variant':28} {'micro-F1':>9} {'any-P':>7} {'any-R':>7}")
    for name, r in rows:
        print(f"{name:28} {r['micro_f1']:9.3f} {r['any_precision']:7.3f} {r['any_recall']:7.3f}")
    out = ROOT / "bench" / "results" / "text_model_cv.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"calls": len(ids), "folds": FOLDS, "variants": dict(rows)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
