class ApplicationError(Exception):
    """A domain rule refused the action; ``message`` is shown to the user as is."""

    def __init__(self, message, extra=None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def __str__(self):
        return str(self.message)
