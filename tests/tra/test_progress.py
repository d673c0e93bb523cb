"""Progress of batch commands: a rich bar on a terminal, plain lines otherwise, never error-red."""

import io

from django.core.management.base import OutputWrapper
from django.core.management.color import color_style

from tra.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


RED = "\x1b[31"


def test_on_a_terminal_progress_is_a_bar_not_styled_as_an_error():
    terminal = Terminal()
    stderr = OutputWrapper(terminal)
    stderr.style_func = color_style(force_color=True).ERROR  # what BaseCommand does to self.stderr
    with Progress(stderr, total=40, label="documents summarised") as progress:
        for _ in range(40):
            progress.advance()
    text = terminal.getvalue()
    assert "documents summarised" in text and "40/40" in text
    assert RED not in text and "\x1b[1;31" not in text


def test_off_a_terminal_progress_is_a_plain_line_every_tenth():
    log = io.StringIO()
    with Progress(OutputWrapper(log), total=50, label="documents summarised") as progress:
        for _ in range(50):
            progress.advance()
    lines = log.getvalue().splitlines()
    assert lines == [f"documents summarised: {n}/50" for n in range(5, 51, 5)]
    assert "\x1b" not in log.getvalue()


def test_without_a_total_a_plain_line_every_so_many_items():
    log = io.StringIO()
    with Progress(log, total=None, label="items scanned", every=500) as progress:
        for _ in range(3):
            progress.advance(400)
    assert log.getvalue().splitlines() == ["items scanned: 800", "items scanned: 1200"]


def test_on_a_terminal_an_unknown_total_shows_a_count():
    terminal = Terminal()
    with Progress(terminal, total=None, label="items scanned") as progress:
        progress.advance(250)
    text = terminal.getvalue()
    assert "items scanned" in text and "250" in text and RED not in text
