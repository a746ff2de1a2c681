"""Failure injection for tests, loaded only when a test puts this folder on PYTHONPATH.

A question containing $INJECT_FAIL_ON makes `AnsweringService.ask` and `.stream` raise,
so the bot's error handler meets a real exception inside answering. This is the test's
doing: newsbot itself has no such switch.
"""

import os

_MARKER = os.environ.get("INJECT_FAIL_ON")

if _MARKER:
    import importlib.abc
    import importlib.machinery
    import sys

    def _patch(module: object) -> None:
        service = module.AnsweringService  # type: ignore[attr-defined]
        ask, stream = service.ask, service.stream

        def failing_ask(self, question, *args, **kwargs):  # type: ignore[no-untyped-def]
            if _MARKER in question:
                raise RuntimeError("injected failure: the question contains the test's marker")
            return ask(self, question, *args, **kwargs)

        def failing_stream(self, question, *args, **kwargs):  # type: ignore[no-untyped-def]
            if _MARKER in question:
                raise RuntimeError("injected failure: the question contains the test's marker")
            yield from stream(self, question, *args, **kwargs)

        service.ask, service.stream = failing_ask, failing_stream

    class _PatchOnImport(importlib.abc.MetaPathFinder):
        """Patch bot.service as soon as newsbot imports it (never earlier)."""

        def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
            if name != "bot.service":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            original = spec.loader.exec_module

            def exec_module(module):  # type: ignore[no-untyped-def]
                original(module)
                _patch(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, _PatchOnImport())
