"""The answer model: a cross-encoder that reads a question and a sentence together.

A MiniLM (all-MiniLM-L6-v2's encoder) fine-tuned here on RealTime QA 2020-2022 to say
whether a sentence answers a question (`training/`, `bot/answerers/model/MODEL_CARD.md`),
shipped as int8 ONNX inside the package and run with onnxruntime: no PyTorch, no
download. Its logit becomes a probability through the calibration fitted with it
(`calibration.json`): the chance that the sentence holds the answer.
"""

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from index.errors import ModelError

MODEL_DIR = Path(str(files("bot.answerers") / "model"))
_BATCH = 16  # pairs per forward pass: short pairs pad little
_REMEMBERED = 4096  # scores kept, so the answerer re-reads what reranking read for free


class Reader:
    """Scores (question, sentence) pairs: `chances` in 0..1, `logits` raw."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            calibration = json.loads((model_dir / "calibration.json").read_text())
            self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            self.session = ort.InferenceSession(
                str(model_dir / "reader.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(
                f"the answer model in {model_dir} can't be loaded ({exc}); reinstall newsbot"
            ) from exc
        self.max_length = int(calibration["max_length"])
        self.scale = float(calibration["scale"])
        self.bias = float(calibration["bias"])
        self.tokenizer.enable_truncation(self.max_length, strategy="longest_first")
        self.tokenizer.enable_padding()
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._scores: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()  # guards the dict only, never a model run

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The model's raw score of each sentence as an answer to the question."""
        with self._lock:
            known = {s: v for s in sentences if (v := self._scores.get((question, s))) is not None}
        missing = list(dict.fromkeys(s for s in sentences if s not in known))
        for s, v in zip(missing, self._run(question, missing), strict=True):
            known[s] = float(v)
        with self._lock:
            for s in sentences:
                self._scores[(question, s)] = known[s]
                self._scores.move_to_end((question, s))
            while len(self._scores) > _REMEMBERED:
                self._scores.popitem(last=False)
        return np.array([known[s] for s in sentences], dtype=np.float32)

    def _run(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        out: list[np.ndarray] = []
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for at in range(0, len(order), _BATCH):
            part = [sentences[i] for i in order[at : at + _BATCH]]
            encodings = self.tokenizer.encode_batch([(question, s) for s in part])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (scores,) = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            out.append(np.asarray(scores, dtype=np.float32).reshape(-1))
        if not out:
            return np.zeros(0, dtype=np.float32)
        logits = np.empty(len(sentences), dtype=np.float32)
        logits[order] = np.concatenate(out)
        return logits

    def chances(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The calibrated chance that each sentence holds the answer."""
        return self.calibrated(self.logits(question, sentences))

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Logits as calibrated probabilities."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.scale * logits + self.bias, -30, 30)))


@lru_cache(maxsize=1)
def load_reader() -> Reader:
    """The packaged answer model, loaded once per process."""
    return Reader()
