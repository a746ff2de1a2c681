"""Standalone questions for follow-ups in LLM mode: the condense prompt, with a safe fallback."""

import logging
from typing import Any

from langchain_core.output_parsers import StrOutputParser

from bot.conversation import Conversation, is_follow_up
from bot.llm.prompts import load_prompt

log = logging.getLogger(__name__)


class Condenser:
    """Rewrites follow-ups with the chat model; falls back to the heuristic on any trouble."""

    def __init__(self, model: Any, prompts_dir: Any = None, lock: Any = None) -> None:
        self.chain = load_prompt("condense", prompts_dir) | model | StrOutputParser()
        self.lock = lock

    def standalone(self, question: str, conversation: Conversation) -> str:
        """The follow-up rewritten to stand alone; unchanged when it isn't a follow-up."""
        heuristic = conversation.standalone(question)
        if heuristic == question or not is_follow_up(question):
            return question
        history = "\n".join(
            f"User: {turn.question}\nAssistant: {turn.answer.text}" for turn in conversation.turns
        )
        try:
            if self.lock:
                with self.lock:
                    raw = self.chain.invoke({"history": history, "question": question})
            else:
                raw = self.chain.invoke({"history": history, "question": question})
        except Exception as exc:  # the model is optional here: the heuristic still works
            log.warning("condense failed, using the heuristic: %s", exc)
            return heuristic
        rewritten = raw.strip().splitlines()[0].strip().strip('"') if raw.strip() else ""
        if not rewritten or len(rewritten) > 3 * len(question) + 120:
            return heuristic
        return rewritten
