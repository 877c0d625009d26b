"""A labelled retrieval set: facts in eight near-identical variants that differ only in an
identifier and a value, plus filler sections. Two kinds of questions:

- exact: names the identifier ("What is the warranty of router RX-220?") — exactly one
  of the eight variants is relevant; telling them apart needs the identifier;
- paraphrase: asks for the fact in other words, without the identifier — every variant is
  relevant; lexical overlap is deliberately low;
- catalogue: names one part code listed with five similar parts in a section — the section
  is relevant; the code is a small part of the section's meaning.

The corpus is one Markdown document (a heading per section, so each section is one chunk).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (title, text with {code} and {v}, [(code, v) x3], exact question, paraphrase question)
FACTS: list[tuple[str, str, list[tuple[str, str]], str, str]] = [
    (
        "Router warranty",
        "The {code} router ships with a warranty of {v} years covering parts and labour.",
        [("RX-220", "three"), ("RX-310", "five"), ("RX-415", "two")],
        "How many years of warranty does the {code} have?",
        "For how long is the network device guaranteed against defects?",
    ),
    (
        "Annual leave",
        "Staff in the {code} agreement accrue {v} days of paid annual leave per year.",
        [("AGR-17", "25"), ("AGR-23", "28"), ("AGR-31", "30")],
        "How many leave days does agreement {code} give?",
        "How much vacation time do employees get every year?",
    ),
    (
        "Server room access",
        "Badge {code} opens the server room on floor {v} between 7am and 7pm.",
        [("BX-4471", "3"), ("BX-5582", "5"), ("BX-6693", "2")],
        "Which floor does badge {code} open?",
        "Where is the machine hall that an access card unlocks?",
    ),
    (
        "Pump maintenance",
        "Pump unit {code} must be serviced every {v} operating hours.",
        [("PU-901", "500"), ("PU-902", "750"), ("PU-903", "1000")],
        "What is the service interval of pump {code}?",
        "How often does the water circulation machine need upkeep?",
    ),
    (
        "Flight allowance",
        "Under travel rule {code}, employees may book business class on flights longer "
        "than {v} hours.",
        [("TR-8", "six"), ("TR-9", "eight"), ("TR-10", "ten")],
        "When does rule {code} allow business class?",
        "When may workers fly in a premium cabin?",
    ),
    (
        "Invoice terms",
        "Invoices issued under contract {code} are payable within {v} days.",
        [("CN-2041", "30"), ("CN-2042", "45"), ("CN-2043", "60")],
        "What is the payment term of contract {code}?",
        "How long does a customer have to settle a bill?",
    ),
    (
        "Backup retention",
        "Backups of system {code} are retained for {v} days before deletion.",
        [("SYS-ALPHA", "14"), ("SYS-BRAVO", "30"), ("SYS-CHARLIE", "90")],
        "How long are backups of {code} kept?",
        "For how many days are data copies stored before being erased?",
    ),
    (
        "Laptop refresh",
        "Laptops in pool {code} are replaced every {v} years.",
        [("LP-A1", "three"), ("LP-B2", "four"), ("LP-C3", "five")],
        "How often are laptops in pool {code} replaced?",
        "What is the renewal cycle for employee notebook computers?",
    ),
    (
        "Fire drill",
        "Building {code} holds its fire drill on the first {v} of each quarter.",
        [("HQ-NORTH", "Monday"), ("HQ-SOUTH", "Wednesday"), ("HQ-EAST", "Friday")],
        "On which day is the fire drill in building {code}?",
        "When do offices practise evacuating for emergencies?",
    ),
    (
        "Parking permit",
        "Parking permit {code} costs {v} euros per month.",
        [("PK-110", "40"), ("PK-220", "55"), ("PK-330", "70")],
        "How much does parking permit {code} cost?",
        "What is the monthly price for leaving a car at the site?",
    ),
    (
        "Password policy",
        "Accounts in domain {code} must change their password every {v} days.",
        [("DOM-EU", "60"), ("DOM-US", "90"), ("DOM-APAC", "120")],
        "How often must passwords change in domain {code}?",
        "How frequently do users have to rotate their login secret?",
    ),
    (
        "Coffee machine",
        "The coffee machine {code} is descaled every {v} weeks by facilities.",
        [("CM-7", "two"), ("CM-8", "four"), ("CM-9", "six")],
        "How often is coffee machine {code} descaled?",
        "How regularly is limescale removed from the espresso maker?",
    ),
    (
        "Training budget",
        "Cost centre {code} grants each engineer a training budget of {v} euros a year.",
        [("CC-4100", "1500"), ("CC-4200", "2000"), ("CC-4300", "2500")],
        "What training budget does cost centre {code} grant?",
        "How much money can a developer spend on courses annually?",
    ),
    (
        "Shipping cut-off",
        "Orders for warehouse {code} placed before {v} ship the same day.",
        [("WH-LYON", "2pm"), ("WH-OSLO", "3pm"), ("WH-RIGA", "4pm")],
        "What is the same-day cut-off for warehouse {code}?",
        "By what time must a purchase be made to be dispatched today?",
    ),
    (
        "Meeting rooms",
        "Room {code} seats {v} people and has a video conferencing screen.",
        [("MR-ORION", "8"), ("MR-LYRA", "12"), ("MR-VEGA", "20")],
        "How many people does room {code} seat?",
        "What is the capacity of the conference space with a camera setup?",
    ),
    (
        "Sick leave",
        "Under policy {code}, a doctor's note is required after {v} consecutive days of illness.",
        [("HR-S1", "three"), ("HR-S2", "four"), ("HR-S3", "five")],
        "When does policy {code} require a doctor's note?",
        "After how long being unwell must a staff member provide a medical certificate?",
    ),
    (
        "Data centre power",
        "Data centre {code} runs on a {v} kilowatt uninterruptible power supply.",
        [("DC-FRA", "400"), ("DC-AMS", "600"), ("DC-DUB", "800")],
        "What UPS capacity does data centre {code} have?",
        "How large is the battery backup for the computing facility?",
    ),
    (
        "Visitor policy",
        "Visitors to site {code} must be escorted and sign in at {v}.",
        [("ST-01", "reception"), ("ST-02", "the security desk"), ("ST-03", "gate B")],
        "Where do visitors sign in at site {code}?",
        "Where do guests register when they arrive at the premises?",
    ),
    (
        "Expense limit",
        "Meal expenses under grade {code} are reimbursed up to {v} euros per day.",
        [("GR-5", "35"), ("GR-6", "50"), ("GR-7", "65")],
        "What is the daily meal limit for grade {code}?",
        "How much can someone claim back for food on a work trip each day?",
    ),
    (
        "Release schedule",
        "Product line {code} publishes a new release every {v} weeks.",
        [("PL-NOVA", "two"), ("PL-ATLAS", "four"), ("PL-ZEPHYR", "six")],
        "How often does {code} release?",
        "What is the cadence of software version launches?",
    ),
    (
        "Noise limits",
        "Workshop {code} limits machine noise to {v} decibels during office hours.",
        [("WS-12", "70"), ("WS-14", "75"), ("WS-16", "80")],
        "What is the noise limit in workshop {code}?",
        "How loud may equipment be in the fabrication area during the working day?",
    ),
    (
        "Bike scheme",
        "Scheme {code} lends employees an electric bicycle for {v} months.",
        [("BK-GREEN", "12"), ("BK-BLUE", "24"), ("BK-RED", "36")],
        "For how long does scheme {code} lend a bicycle?",
        "How long can staff borrow an e-bike through the company programme?",
    ),
    (
        "Onboarding",
        "New hires in track {code} shadow a mentor for {v} weeks.",
        [("ON-DEV", "four"), ("ON-OPS", "six"), ("ON-SALES", "eight")],
        "How long do new hires in track {code} shadow a mentor?",
        "How many weeks of accompaniment by a senior colleague do recruits receive?",
    ),
    (
        "Cold storage",
        "Freezer {code} is kept at minus {v} degrees Celsius.",
        [("FZ-100", "18"), ("FZ-200", "25"), ("FZ-300", "80")],
        "At what temperature is freezer {code} kept?",
        "How cold is the refrigerated storage unit held?",
    ),
]

FILLER_TOPICS = [
    "gardening",
    "astronomy",
    "cooking",
    "sailing",
    "chess",
    "painting",
    "hiking",
    "music",
    "architecture",
    "pottery",
    "beekeeping",
    "photography",
    "cycling",
    "birdwatching",
]
FILLER_WORDS = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "that",
    "this",
    "which",
    "an",
    "be",
    "are",
    "it",
    "season",
    "light",
    "water",
    "stone",
    "wind",
    "craft",
    "practice",
    "method",
    "tool",
    "surface",
    "colour",
    "shape",
    "pattern",
    "early",
    "late",
    "history",
    "tradition",
    "region",
    "community",
    "skill",
    "patience",
    "detail",
    "process",
    "result",
]


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # exact | paraphrase
    relevant: frozenset[str]  # markers (identifiers) of the relevant sections


def variants_of(
    rng: random.Random, written: list[tuple[str, str]], total: int
) -> list[tuple[str, str]]:
    """The hand-written variants plus generated ones (same prefix, other suffix)."""
    out = list(written)
    prefix = written[0][0].rsplit("-", 1)[0]
    used = {c for c, _ in out}
    while len(out) < total:
        code = f"{prefix}-{rng.randint(10, 999)}"
        if code not in used:
            used.add(code)
            out.append((code, rng.choice(written)[1]))
    return out


PARTS = ["valve", "gasket", "bearing", "sensor", "bracket", "relay", "filter", "hinge"]
MATERIALS = ["steel", "brass", "nylon", "ceramic", "aluminium", "rubber"]


def catalogue(rng: random.Random, pages: int, per_page: int) -> list[tuple[str, str, list[str]]]:
    """Parts-catalogue sections: several similar part lines each; a question names one code
    buried among its neighbours — the case full-text search is for."""
    out = []
    used: set[str] = set()
    for p in range(pages):
        codes, lines = [], []
        for _ in range(per_page):
            code = f"{rng.choice('KMPTVZ')}{rng.choice('ABCDEFGH')}-{rng.randint(1000, 9999)}"
            if code in used:
                continue
            used.add(code)
            codes.append(code)
            lines.append(
                f"Part {code} is a {rng.choice(MATERIALS)} {rng.choice(PARTS)} for pumps, "
                f"priced at {rng.randint(3, 400)} euros."
            )
        out.append((f"Spare parts list {p + 1}", " ".join(lines), codes))
    return out


def build(seed: int = 7, fillers: int = 150, variants: int = 8) -> tuple[str, list[Question]]:
    rng = random.Random(seed)
    sections = []
    questions = []
    for title, text, written, exact_q, para_q in FACTS:
        all_variants = variants_of(rng, written, variants)
        for code, value in all_variants:
            sections.append((f"{title} ({code})", text.format(code=code, v=value)))
            questions.append(Question(exact_q.format(code=code), "exact", frozenset({code})))
        questions.append(Question(para_q, "paraphrase", frozenset(c for c, _ in all_variants)))
    for title, body, codes in catalogue(rng, 30, 6):
        sections.append((title, body))
        for code in codes[:2]:
            questions.append(
                Question(f"How much does part {code} cost?", "catalogue", frozenset({code}))
            )
    for i in range(fillers):
        topic = rng.choice(FILLER_TOPICS)
        words = " ".join(rng.choice(FILLER_WORDS) for _ in range(40))
        sections.append((f"Notes on {topic} {i}", f"About {topic}: {words}."))
    rng.shuffle(sections)
    md = "\n\n".join(f"## {t}\n\n{body}" for t, body in sections)
    return f"# Handbook\n\n{md}\n", questions
