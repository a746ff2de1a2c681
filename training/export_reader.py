"""Ship the trained answer model: int8 ONNX, its tokenizer, and its calibration.

    python training/export_reader.py --model /work/bench-data/reader/model \
        --pairs /work/bench-data/reader/pairs.jsonl

1. Exports the fine-tuned cross-encoder to ONNX (opset 17, dynamic batch and length) and
   quantises its weights to int8 with onnxruntime's dynamic quantiser, into
   `bot/answerers/model/reader.onnx`, with `tokenizer.json` beside it.
2. Calibrates the *quantised* model on the `calibration` split of the pairs (questions
   never trained on): Platt scaling of the best candidate's logit against "the best
   candidate holds the answer", over answerable groups whose answer is in the candidates
   and withheld groups (none is), each kind weighted to half, so 0.5 means even odds
   when a question is as likely answerable as not. `calibration.json` holds the scale,
   bias and the input length.
3. Prints the figures of the calibration split: how the best candidate's chance
   separates answerable from withheld (ROC AUC), top-1 accuracy, and abstention at a
   few thresholds, against the bi-encoder's sentence cosine, the baseline to beat.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "bot" / "answerers" / "model"


def main() -> None:
    """Export, quantise, calibrate and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "training"))
    from train_reader import MAX_LENGTH

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    _export(args.model, MODEL_DIR / "reader.onnx")
    shutil.copy(args.model / "tokenizer.json", MODEL_DIR / "tokenizer.json")
    (MODEL_DIR / "calibration.json").write_text(
        json.dumps({"max_length": MAX_LENGTH, "scale": 1.0, "bias": 0.0})
    )
    groups = [
        g
        for line in args.pairs.read_text(encoding="utf-8").splitlines()
        if (g := json.loads(line))["split"] == "calibration"
    ]
    scale, bias = _calibrate(groups)
    (MODEL_DIR / "calibration.json").write_text(
        json.dumps({"max_length": MAX_LENGTH, "scale": round(scale, 4), "bias": round(bias, 4)})
        + "\n"
    )
    print(f"calibration: scale {scale:.3f}, bias {bias:.3f}")
    print(f"{MODEL_DIR / 'reader.onnx'}: {(MODEL_DIR / 'reader.onnx').stat().st_size / 1e6:.1f} MB")


def _export(model_dir: Path, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sample = tokenizer(["who won?"], ["Someone won the prize."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "reader-fp32.onnx"
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(full),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "length"} for n in names} | {"logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(full), str(target), weight_type=QuantType.QInt8)


def _calibrate(groups: list[dict]) -> tuple[float, float]:
    """Platt scaling of the best logit; prints the calibration split's figures."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from bot.answerers.reader import Reader
    from index.embedding.models import packaged_minilm_dir
    from index.embedding.onnx import OnnxMiniLMEmbeddings

    reader = Reader(MODEL_DIR)
    encoder = OnnxMiniLMEmbeddings(packaged_minilm_dir())  # the baseline: bi-encoder cosine
    best, label, kind, top1, cos_best, cos_top1, paraphrased = [], [], [], [], [], [], []
    for g in groups:
        cands = g["candidates"]
        if not cands:
            continue
        if g["kind"] == "answerable" and not any(c["label"] for c in cands):
            # paraphrased (or not retrieved): whether the best is right is unknown
            paraphrased.append(
                float(reader.logits(g["question"], [c["text"] for c in cands]).max())
            )
            continue
        texts = [c["text"] for c in cands]
        logits = reader.logits(g["question"], texts)
        cosine = np.array(encoder.embed_documents(texts)) @ np.array(
            encoder.embed_query(g["question"])
        )
        i, j = int(np.argmax(logits)), int(np.argmax(cosine))
        best.append(float(logits[i]))
        cos_best.append(float(cosine[j]))
        label.append(int(cands[i]["label"]))
        kind.append(g["kind"])
        if g["kind"] == "answerable":
            top1.append(int(cands[i]["label"]))
            cos_top1.append(int(cands[j]["label"]))
    x, y = np.array(best), np.array(label)
    answerable = np.array([k == "answerable" for k in kind])
    weights = np.where(answerable, 0.5 / answerable.sum(), 0.5 / (~answerable).sum())
    platt = LogisticRegression(C=1e4).fit(x[:, None], y, sample_weight=weights)
    scale, bias = float(platt.coef_[0][0]), float(platt.intercept_[0])
    print(f"calibration split: {answerable.sum()} answerable, {(~answerable).sum()} withheld")
    print(
        f"top-1 (best candidate holds the answer) on answerable: model {np.mean(top1):.3f}, "
        f"bi-encoder cosine {np.mean(cos_top1):.3f}"
    )
    print(
        "ROC AUC answerable vs withheld by the best candidate: "
        f"model {roc_auc_score(answerable, x):.3f}, "
        f"bi-encoder cosine {roc_auc_score(answerable, cos_best):.3f}"
    )
    p = 1 / (1 + np.exp(-(scale * x + bias)))
    q = 1 / (1 + np.exp(-(scale * np.array(paraphrased) + bias)))
    every = np.concatenate([p[answerable], q])
    print(f"(and {len(q)} answerable questions whose answer string no candidate holds)")
    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        print(
            f"min_evidence {t:.2f}: abstains on {np.mean(p[answerable] < t):.3f} answerable "
            f"(answer among the candidates), {np.mean(every < t):.3f} of all answerable, "
            f"{np.mean(p[~answerable] < t):.3f} withheld; wrong among withheld "
            f"{np.mean((p[~answerable] >= t) & (y[~answerable] == 0)):.3f}"
        )
    return scale, bias


if __name__ == "__main__":
    main()
