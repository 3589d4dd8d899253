"""Mail merge: one template, a recipient list, one personalised message per row.

``template`` reads the message with its ``{{field}}`` placeholders, ``recipients``
the list, ``render`` makes one row's bytes, ``plan`` checks and previews a run,
``batch`` queues it in one transaction and ``progress`` follows it.
"""
