"""`newsbot ask` starts without what it doesn't use.

A cold `ask` is measured against `import chromadb` (benchmarks/query.py). In extractive
mode with the packaged model, a question is embedded by the int8 ONNX copy, so neither
PyTorch nor sentence-transformers loads; the LLM modules load only in LLM mode, and
dateparser only for a question naming a time ("last week").
"""

import subprocess
import sys
from pathlib import Path

from harness.newsbot import clean_env

NOT_FOR_ASK = (
    "torch",
    "sentence_transformers",
    "transformers",
    "langchain_huggingface",
    "llama_cpp",
    "langchain_openai",
    "bot.llm.answerer",
    "bot.llm.prompts",
    "dateparser",
    "index.search.stories",  # newsbot digest's story grouping
)
ASK = """
import sys
from bot.main import main
data_dir, unwanted = sys.argv[1], sys.argv[2:]
sys.argv = ["newsbot", "ask", "--data-dir", data_dir, "What did Shalom cite?"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print("loaded:", *sorted(m for m in unwanted if m in sys.modules))
"""


def test_ask_imports_nothing_it_does_not_use(sample_data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ASK, str(sample_data_dir), *NOT_FOR_ASK],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Dolphinarium" in done.stdout  # it answered, from the sample article
    assert done.stdout.splitlines()[-1] == "loaded:"
