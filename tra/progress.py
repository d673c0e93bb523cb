"""Progress for batch commands: a bar on a terminal, plain lines in logs."""

import sys
import time


class Progress:
    """`with Progress(stream, total, label) as progress: progress.advance()`.

    On a terminal it redraws one line; otherwise (CI, log files) it writes a line
    at every 10% (or every `every` items when the total is unknown)."""

    def __init__(self, stream, *, total: int | None, label: str, every: int = 100):
        self.stream = stream
        self.total = total
        self.label = label
        self.every = every
        self.done = 0
        self._tty = hasattr(stream, "isatty") and stream.isatty()
        self._next_report = self._step()
        self._started = time.monotonic()

    def _step(self) -> int:
        return max(self.total // 10, 1) if self.total else self.every

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info) -> None:
        if self._tty:
            self.stream.write("\n")
        self.stream.flush()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._tty:
            if self.total:
                filled = int(30 * self.done / self.total)
                bar = "#" * filled + "." * (30 - filled)
                self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            else:
                self.stream.write(f"\r{self.label} {self.done}")
            self.stream.flush()
        elif self.done >= self._next_report:
            total = f"/{self.total}" if self.total else ""
            self.stream.write(f"{self.label}: {self.done}{total}\n")
            self._next_report += self._step()


def stderr_progress(total: int | None, label: str) -> Progress:
    return Progress(sys.stderr, total=total, label=label)
