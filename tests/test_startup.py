"""What `newsbot telegram` says when it starts, at the default log level (WARNING)."""

from pathlib import Path

from harness.emulator_client import TelegramEmulator
from harness.newsbot import SAMPLE, NewsbotProcess, build_index


def test_the_bot_says_what_it_serves_at_the_default_log_level(
    emulator: TelegramEmulator, tmp_path: Path
) -> None:
    data_dir = build_index(tmp_path / "data", SAMPLE)
    bot = NewsbotProcess(
        tmp_path / "bot",
        emulator,
        {"data_dir": str(data_dir)},
        NEWSBOT_LOGGING__LEVEL="WARNING",  # the default, over the harness's DEBUG
    )
    try:
        bot.wait_ready()
        emulator.wait_for(
            lambda: " serves " in bot.output(), 30, interval=0.1, description="the start line"
        )
    finally:
        bot.stop()
    lines = [line for line in bot.output().splitlines() if " serves " in line]
    assert len(lines) == 1, bot.output()
    assert " INFO bot.telegram.app: @newsbot_test_bot serves 1 article (" in lines[0]
    assert "answer mode extractive; shared state SQLite; leading" in lines[0]
    assert "DEBUG" not in bot.output() and " INFO " not in bot.output().replace(lines[0], "")
