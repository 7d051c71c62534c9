"""Terminal styling: colour only on a terminal, never when NO_COLOR is set (no-color.org)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, TextIO

ColorChoice = Literal["auto", "always", "never"]


@dataclass(frozen=True)
class Style:
    enabled: bool

    @classmethod
    def for_stream(cls, stream: TextIO, choice: ColorChoice = "auto") -> Style:
        if choice != "auto":
            return cls(choice == "always")
        plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
        return cls(not plain and stream.isatty())

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)

    def red(self, text: str) -> str:
        return self._paint("31", text)

    def yellow(self, text: str) -> str:
        return self._paint("33", text)

    def green(self, text: str) -> str:
        return self._paint("32", text)
