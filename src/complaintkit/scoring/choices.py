"""The choices a scoring run accepts: plain constants, importable without any heavy library."""

ENGINES = ("local", "spark")
TOO_LONG_POLICIES = ("reject", "truncate")
TASKS = ("score", "embed")
CASCADE_CHOICES = ("on", "off")  # a cascade bundle's fast head for the rows it is sure of, or its full head for all
