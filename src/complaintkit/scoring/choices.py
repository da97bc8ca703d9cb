"""The choices a scoring run accepts: plain constants, importable without any heavy library."""

ENGINES = ("local", "spark")
TOO_LONG_POLICIES = ("reject", "truncate")
TASKS = ("score", "embed")
