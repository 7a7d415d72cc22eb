"""What findings tell the rest of ISMP. Sent inside the transaction that changed the findings, so a receiver's
writes (work items) commit or roll back with them."""

from django.dispatch import Signal

# The findings of some (system id, vulnerability pk) pairs were created, reopened, closed, confirmed or
# decided. Argument ``pairs``: set[tuple[int, int]]. The receiver reads the findings' current state.
findings_changed = Signal()
