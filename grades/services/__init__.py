"""Writes for the grades app, one module per area: ``teaching`` (teaching data), ``entry``
(compositions, windows, grade sheets), ``imports`` (Excel), ``attempts`` (make-ups, clearing
exams), ``corrections``, ``exemptions``, ``transcripts`` and ``stations``."""
