"""``python -m complaintkit``."""

from .cli import main

main(prog_name="complaintkit")
