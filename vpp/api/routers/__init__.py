"""One router per resource, mounted under ``/api``."""
