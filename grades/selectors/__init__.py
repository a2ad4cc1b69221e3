"""Reads for the grades app. Modules: ``records`` (a student's results, GPA, counted attempts)
and one module per area (entry, dashboards, transcripts, stations)."""
