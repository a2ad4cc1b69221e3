"""Forms of the grades pages, one module per area like the views: ``entry`` (compositions,
windows, sheets), ``records`` (make-ups, filters), ``stations``, ``transcripts``
and ``imports``. Forms check only the shape of the input; the services decide."""
