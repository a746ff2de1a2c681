"""Citation markers: "[1]", "[2, 5]" in an answer point to numbered sources."""

import re

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
