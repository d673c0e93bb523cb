"""Signals that documents sends, so apps above it take part without documents knowing them."""

from django.dispatch import Signal

# Sent by services.document_delete with `document` (its #META item) before anything is
# deleted. A receiver refuses the deletion by raising an ApplicationError, which reaches the
# caller unchanged: Signal.send() does not catch its receivers' exceptions. Assessments
# refuses while the document is linked (assessments/receivers.py).
document_deleting = Signal()
