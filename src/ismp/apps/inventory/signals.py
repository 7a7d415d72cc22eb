"""What the inventory tells the rest of ISMP. Sent after the transaction that made the change commits."""

from django.dispatch import Signal

# A system's software changed (components added, changed or removed). Keyword: ``system_ids`` (list[int]).
components_changed = Signal()
