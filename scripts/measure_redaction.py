"""Measure redaction on real CFPB narratives with injected personal data.

Real narratives (``../shared/data/cfpb/complaints.csv``; $COMPLAINTKIT_SHARED_DATA names another
data folder) get made-up e-mails, phones, card numbers, IBANs, SSNs, names, street addresses and dates of birth
inserted between their sentences, plus dates and times that are not personal data.

- recall of a kind: share of injected values that no longer appear after redaction;
- precision of a kind: caught / (caught + masks of that kind put on the same narratives
  *without* injections, which hold no such data: CFPB already blanks it as XXXX);
- dates and times kept: share of injected ``2023-11-05 12:30``-style stamps left intact.

Redactors compared in the same run: complaintkit's ``redact`` now, the redaction of the
previous release (``git show <ref>:src/complaintkit/redaction.py``, if git and the ref are
there), and scrubadub when ``--scrubadub-python`` names a Python where it is installed.

    python scripts/measure_redaction.py --rows 400 --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from complaintkit.redaction import luhn_valid, redact

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPLAINTKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
DATA = SHARED / "cfpb" / "complaints.csv"
FIRST = ["James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Ahmed", "Mei", "Carlos"]
LAST = ["Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Nguyen", "Okafor", "Kowalski"]
STREETS = ["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake View", "Sunset"]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Drive", "Dr", "Lane", "Boulevard", "Court"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def _card(rng: random.Random) -> str:
    while True:
        digits = "4" + "".join(rng.choice("0123456789") for _ in range(15))
        if luhn_valid(digits):
            return " ".join(digits[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else digits


def _name(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    template = rng.choice(["My name is {v}.", "Sincerely, {v}", "I spoke to Mr. {l} on the phone.",
                           "The agent, {v}, refused to help.", "This is {v} writing about my account."])
    value = last if "{l}" in template else f"{first} {last}"
    return template.format(v=value, l=last), value


GENERATORS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "email": lambda r: (f"Contact me at {(v := rng_word(r) + '.' + rng_word(r) + '@example.com')}.", v),
    "phone": lambda r: (f"Call me at {(v := r.choice(['({0}) {1}-{2}', '{0}-{1}-{2}', '+1 {0} {1} {2}']).format(r.randint(201, 989), r.randint(200, 999), r.randint(1000, 9999)))}.", v),  # noqa: E501
    "card": lambda r: (f"My card number is {(v := _card(r))}.", v),
    "iban": lambda r: (f"Wire it to IBAN {(v := 'DE' + str(r.randint(10, 99)) + ' ' + ' '.join(str(r.randint(1000, 9999)) for _ in range(4)) + ' ' + str(r.randint(10, 99)))}.", v),  # noqa: E501
    "ssn": lambda r: (f"My SSN is {(v := f'{r.randint(100, 899)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}')}.", v),
    "name": _name,
    "address": lambda r: (f"I live at {(v := f'{r.randint(1, 9999)} {r.choice(STREETS)} {r.choice(SUFFIXES)}')}.", v),
    "dob": lambda r: (r.choice(["My date of birth is {v}.", "I was born on {v}.", "DOB: {v}"]).format(
        v=(v := r.choice([f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(1940, 2004)}",
                          f"{r.choice(MONTHS)} {r.randint(1, 28)}, {r.randint(1940, 2004)}",
                          f"{r.randint(1940, 2004)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"]))), v),
}
STAMPS = ["2023-11-05 12:30", "11/05/2023 at 12:30", "at 10:45 am", "2024-02-29T08:15"]


def rng_word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))


def inject(text: str, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with one value of every kind and one date stamp inserted between sentences."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    injected = []
    for kind, make in GENERATORS.items():
        sentence, value = make(rng)
        sentences.insert(rng.randint(0, len(sentences)), sentence)
        injected.append((kind, value))
    stamp = rng.choice(STAMPS)
    sentences.insert(rng.randint(0, len(sentences)), f"It happened on {stamp} at the branch.")
    injected.append(("stamp", stamp))
    return " ".join(sentences), injected


def previous_redactor(ref: str) -> Callable[[str], str] | None:
    """``redact`` of ``ref``'s redaction.py, loaded as a separate module; ``None`` without git."""
    try:
        source = subprocess.run(["git", "show", f"{ref}:src/complaintkit/redaction.py"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("previous_redaction")
    exec(compile(source.replace("from .exceptions import InputError", "InputError = ValueError"),  # noqa: S102
                 "previous_redaction", "exec"), module.__dict__)
    return module.redact


def scrubadub_redactor(python: str | None) -> Callable[[list[str]], list[str]] | None:
    """scrubadub's default cleaner run in another Python (its dependencies stay out of this one)."""
    if not python:
        return None
    code = ("import json, sys, scrubadub; texts = json.load(sys.stdin); "
            "print(json.dumps([scrubadub.clean(t) for t in texts]))")

    def clean(texts: list[str]) -> list[str]:
        done = subprocess.run([python, "-c", code], input=json.dumps(texts), capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)

    return clean


def score(cleaned: list[str], clean_baseline: list[str], injected: list[list[tuple[str, str]]],
          token: Callable[[str], str]) -> dict[str, dict[str, float]]:
    """Recall and precision per kind, and the share of date stamps kept."""
    caught, total, false = Counter(), Counter(), Counter()
    for text, base, values in zip(cleaned, clean_baseline, injected, strict=True):
        for kind, value in values:
            total[kind] += 1
            if kind == "stamp":
                caught[kind] += value in text
            else:
                caught[kind] += value not in text
        for kind in GENERATORS:
            false[kind] += len(re.findall(re.escape(token(kind)), base))
    table = {}
    for kind in [*GENERATORS, "stamp"]:
        recall = caught[kind] / total[kind]
        precision = caught[kind] / (caught[kind] + false[kind]) if caught[kind] + false[kind] else float("nan")
        table[kind] = {"recall": recall, "precision": precision, "false_masks": false[kind]}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--previous", default="74c45d7",
                        help="git ref of the baseline: the redaction before names, addresses and dates of birth")
    parser.add_argument("--scrubadub-python", help="Python with scrubadub installed, for a comparison")
    args = parser.parse_args()
    frame = pd.read_csv(DATA, usecols=["narrative"]).dropna()
    texts = frame["narrative"].sample(args.rows, random_state=args.seed).tolist()
    rng = random.Random(args.seed)
    pairs = [inject(text, rng) for text in texts]
    dirty, injected = [p[0] for p in pairs], [p[1] for p in pairs]
    redactors: dict[str, tuple[Callable[[list[str]], list[str]], Callable[[str], str]]] = {
        "complaintkit": (lambda batch: [redact(t) for t in batch], lambda k: f"[{k}]")}
    old = previous_redactor(args.previous)
    if old is not None:
        redactors[f"previous ({args.previous})"] = (lambda batch: [old(t) for t in batch], lambda k: f"[{k}]")
    scrub = scrubadub_redactor(args.scrubadub_python)
    if scrub is not None:
        tokens = {"email": "{{EMAIL}}", "phone": "{{PHONE}}", "card": "{{CREDIT_CARD}}", "iban": "{{IBAN}}",
                  "ssn": "{{SOCIAL_SECURITY_NUMBER}}", "name": "{{NAME}}", "address": "{{ADDRESS}}", "dob": "{{DOB}}"}
        redactors["scrubadub (default detectors)"] = (scrub, lambda k: tokens[k])
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"{args.rows} CFPB narratives from {DATA}, seed {args.seed}; load average {load}")
    for name, (run, token) in redactors.items():
        table = score(run(dirty), run(texts), injected, token)
        print(f"\n{name}\n| kind | recall | precision | masks on clean text |\n|---|---|---|---|")
        for kind, row in table.items():
            label = "dates/times kept" if kind == "stamp" else kind
            precision = "-" if kind == "stamp" else f"{row['precision']:.3f}"
            print(f"| {label} | {row['recall']:.3f} | {precision} | {row['false_masks']} |")


if __name__ == "__main__":
    main()
