"""Progress for batch commands: a rich progress bar on a terminal, plain lines in logs."""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


def raw_stream(stream):
    """The file under a management command's `self.stderr`: Django's OutputWrapper styles every
    write to stderr as an error (bold red on a terminal), which progress is not."""
    return getattr(stream, "_out", stream)


class Progress:
    """`with Progress(stream, total=..., label=...) as progress: progress.advance()`.

    On a terminal, a rich progress bar (count, bar, elapsed time); otherwise (CI, log files,
    pipes) a plain line at every 10% (or every `every` items when the total is unknown)."""

    def __init__(self, stream, *, total: int | None, label: str, every: int = 100):
        self.stream = raw_stream(stream)
        self.total = total
        self.label = label
        self.every = every
        self.done = 0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._next_report = self._step()
        self._bar: RichProgress | None = None
        self._task = None

    def _step(self) -> int:
        return max(self.total // 10, 1) if self.total else self.every

    def __enter__(self) -> "Progress":
        if self._tty:
            console = Console(file=self.stream, force_terminal=True)
            # A bar with a count when the total is known; a spinner and the count when it is not.
            columns = (
                (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
                if self.total
                else (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed}"))
            )
            self._bar = RichProgress(*columns, TimeElapsedColumn(), console=console)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.stop()
        self.stream.flush()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
        elif self.done >= self._next_report:
            total = f"/{self.total}" if self.total else ""
            self.stream.write(f"{self.label}: {self.done}{total}\n")
            while self._next_report <= self.done:
                self._next_report += self._step()
