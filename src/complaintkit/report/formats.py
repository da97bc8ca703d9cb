"""The formats a report can be written in (a constant, importable without the report's libraries)."""

FORMATS = ("html", "md", "json", "csv")
