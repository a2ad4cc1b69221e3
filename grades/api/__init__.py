"""The grades REST API (mounted under /api/grades/): ``entry`` (sheets: composition, entry, submit,
confirm) and ``records`` (a student's own grades)."""
