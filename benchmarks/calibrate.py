"""Fit the extractive answerer's evidence models, and print their held-out figures.

    python benchmarks/calibrate.py --data-dir /work/bench-data/calibrate

On RealTime QA 2023, answerable and with a seeded sample's evidence withheld
(benchmarks/realtimeqa.py), every question's candidate sentences get the features the
answerer computes (`ExtractiveAnswerer.weigh`). Two logistic models are fitted:

1. the sentence likelihood, labelled by whether the sentence holds a gold answer;
2. the answer confidence, labelled by whether the answer the answerer would give
   (its best sentences under model 1) holds one.

Figures come from two-fold cross-validation by question: fitted on one half, measured
on the other. For each threshold: `answer_contained` and abstention on the answerable
questions, abstained and wrong on the withheld ones. Then the coefficients fitted on
everything, to paste into bot/answerers/evidence.py.
"""

import argparse
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from realtimeqa import add_arguments, question_sets
from report import print_table

from bot.answerers.evidence import MIN_LIKELIHOOD

THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def main() -> None:
    """Weigh every question's candidates, cross-validate, print the table and coefficients."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-calibrate-"))
    try:
        sets = question_sets(args.config, args.data_dir or scratch, args.withhold, args.seed)
        answerer = sets["answerable"][0].extractive
        weighed = {name: [_weigh(answerer, a) for a in asked] for name, (_, asked) in sets.items()}
        folds = [_fold(answerer, weighed, k) for k in (0, 1)]
        rows = []
        for t in THRESHOLDS:
            answerable = [o for f in folds for o in f["answerable"]]
            held = [o for f in folds for o in f["withheld"]]
            rows.append(
                (
                    f"min_evidence {t:.2f}",
                    f"answerable: contained {_share(answerable, t, 'right'):.3f}, abstained "
                    f"{_share(answerable, t, 'abstained'):.3f} | withheld: abstained "
                    f"{_share(held, t, 'abstained'):.3f}, wrong {_share(held, t, 'wrong'):.3f}",
                )
            )
        sentence, confidence = _fit(answerer, weighed, range(2))
        rows += [
            ("SENTENCE_WEIGHTS", _coefficients(sentence)),
            ("CONFIDENCE_WEIGHTS", _coefficients(confidence)),
        ]
        n = {name: len(v) for name, v in weighed.items()}
        print_table(
            f"Evidence calibration (held-out halves; {n['answerable']} answerable, "
            f"{n['withheld']} withheld questions)",
            rows,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _weigh(answerer: Any, asked: Any) -> tuple[Any, Any, np.ndarray]:
    """(query, weighed candidates or None, label per candidate)."""
    from bot.answerers import evidence
    from bot.evaluation.metrics import contains_answer

    weighed = answerer.weigh(evidence.Question.of(asked.query.question), asked.chunks)
    if weighed is None:
        return asked.query, None, np.zeros(0, dtype=bool)
    labels = np.array([contains_answer(c.text, asked.query.answers) for c in weighed.top])
    return asked.query, weighed, labels


def _fit(answerer: Any, weighed: dict[str, list[Any]], halves: Any) -> tuple[Any, Any]:
    """Both models fitted on the questions whose index falls in `halves` (mod 2)."""
    from sklearn.linear_model import LogisticRegression

    train = [w for items in weighed.values() for i, w in enumerate(items) if i % 2 in halves]
    x = np.vstack([w.features for _, w, _ in train if w is not None])
    y = np.concatenate([labels for _, w, labels in train if w is not None])
    sentence = LogisticRegression(max_iter=5000).fit(x, y)
    answers = [_answer(answerer, w, labels, sentence) for _, w, labels in train if w is not None]
    confidence = LogisticRegression(max_iter=5000).fit(
        np.array([features for features, _ in answers]), np.array([right for _, right in answers])
    )
    return sentence, confidence


def _answer(answerer: Any, weighed: Any, labels: np.ndarray, model: Any) -> tuple[Any, bool]:
    """The answer's confidence features, and whether its chosen sentences hold the answer.

    An answer whose best sentence is below MIN_LIKELIHOOD abstains whatever its
    confidence; it counts as not right.
    """
    chances = model.predict_proba(weighed.features)[:, 1]
    scored = [replace(c, score=float(p)) for c, p in zip(weighed.top, chances, strict=True)]
    ranked = sorted(scored, key=lambda c: -c.score)
    chosen = {_place(c) for c in answerer._chosen(ranked)}
    right = any(label for c, label in zip(weighed.top, labels, strict=True) if _place(c) in chosen)
    return weighed.confidence_features(chances), right


def _place(candidate: Any) -> tuple[str, int]:
    return candidate.meta["article_id"], candidate.start


def _fold(answerer: Any, weighed: dict[str, list[Any]], k: int) -> dict[str, list[Any]]:
    """Fit on the other half; (confidence, right) of each question of half k."""
    sentence, confidence = _fit(answerer, weighed, {1 - k})
    out: dict[str, list[Any]] = {}
    for name, items in weighed.items():
        out[name] = []
        for i, (_, w, labels) in enumerate(items):
            if i % 2 != k:
                continue
            if w is None:
                out[name].append((0.0, False))
                continue
            features, right = _answer(answerer, w, labels, sentence)
            sure = float(confidence.predict_proba([features])[0, 1])
            floor = features[0] < MIN_LIKELIHOOD  # the best sentence's likelihood
            out[name].append((0.0 if floor else sure, right))
    return out


def _share(outcomes: list[tuple[float, bool]], threshold: float, kind: str) -> float:
    counts = {
        "abstained": sum(sure < threshold for sure, _ in outcomes),
        "right": sum(sure >= threshold and right for sure, right in outcomes),
        "wrong": sum(sure >= threshold and not right for sure, right in outcomes),
    }
    return counts[kind] / max(1, len(outcomes))


def _coefficients(model: Any) -> str:
    weights = ", ".join(f"{w:.2f}" for w in model.coef_[0])
    return f"[{weights}], bias {model.intercept_[0]:.2f}"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser.parse_args()


if __name__ == "__main__":
    main()
