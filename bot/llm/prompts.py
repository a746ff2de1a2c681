"""Load the prompt templates in `prompts/` (or `llm.prompts_dir`) as chat prompts."""

import re
from importlib import resources
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from index.errors import NewsbotError

_SECTION = re.compile(r"^### (system|human)\s*$", re.M)


def load_prompt(name: str, directory: Path | None = None) -> ChatPromptTemplate:
    """The chat prompt in `<name>.txt`, split into its `### system` and `### human` parts."""
    try:
        if directory is not None:
            text = (directory / f"{name}.txt").read_text(encoding="utf-8")
        else:
            text = resources.files("prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    except OSError as exc:
        where = directory or "the packaged prompts"
        raise NewsbotError(f"can't read prompt '{name}.txt' in {where}: {exc}") from None
    parts = _SECTION.split(text)
    messages = [(role, body.strip()) for role, body in zip(parts[1::2], parts[2::2], strict=True)]
    if [role for role, _ in messages] != ["system", "human"]:
        raise NewsbotError(f"prompt '{name}.txt' needs a '### system' then a '### human' section")
    return ChatPromptTemplate.from_messages(messages)
