# ruff: noqa: RUF001 - disguised spellings use look-alike characters on purpose
"""Moderation engine throughput and recall beside ``better_profanity`` measured in the same run.

The corpus (``corpus()``) is generated, deterministic and realistic in length: school-district comments
(thanks, questions, logistics), sharp criticism of the district with no violation, ordinary words that trap naive
filters (Scunthorpe, class, assessment, Sussex...), and profanity cases, a third of them plain and the rest
disguised (leetspeak, masking, spacing, repeated letters, punctuation, Cyrillic and fullwidth look-alikes,
zero-width characters).

Both subjects see the same corpus; rounds alternate (engine, better_profanity, engine, ...) and medians are
compared, so a noisy neighbour hurts both alike. Recall is over the profanity cases; the false-positive rate is over
the clean ones (criticism included; better_profanity's over the clean cases of its timing slice).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

TARGET_RATE = 20_000  # comments/s on one core
TARGET_SPEEDUP = 20.0  # times better_profanity's contains_profanity

_SCHOOLS = [
    "Lincoln Elementary",
    "Roosevelt Middle",
    "Jefferson High",
    "Maple Grove",
    "Eastside",
    "Valley View",
]
_CLEAN = [
    "Thank you to all the teachers at {school} for a wonderful spring concert! My daughter loved it.",
    "When will the {year}-{next} calendar be posted? We need to plan around spring break.",
    "Bus {n} was {m} minutes late again this morning. Who do I contact about this?",
    "Congrats to the {school} robotics team on making state!! So proud of these kids",
    "Is there a late start on Wednesday or is that only for the high schools?",
    "Where can I find the supply list for 3rd grade at {school}?",
    "Great job to the class of {year}! Graduation was beautiful.",
    "Will the pool be open for summer swim lessons this year?",
    "Thank you for posting the board meeting recording, very helpful for those of us who work nights.",
    "The assessment results for {school} look much better than last year, nice work.",
    "Our family moved here from Sussex last year and the ELL staff have been amazing.",
    "Dick's Sporting Goods donated new jerseys to the {school} soccer team, thank you!",
    "The shiitake mushroom salad at the farm-to-school lunch was a hit with my picky eater.",
    "Can we get more class analysis on the math curriculum pilot before it is adopted?",
    "Is the pass/fail option still available for PE this semester?",
    "My son graduated summa cum laude thanks to the teachers at {school}.",
    "Hello! Is the cocktail fundraiser for the PTA still on Friday at 7pm?",
    "Press the button at the front office to be buzzed in, new security system works great.",
    "Scunthorpe exchange students visited {school} today, what a great program.",
    "Who is the school therapist at {school} this year? The website still lists last year's.",
    "Grape juice and cookies after the concert, please bring a plate to share!",
    "How many snow days do we have left before the year gets extended?",
    "Great",
    "Thank you!",
    "Go Tigers!!!",
    "What time does early pickup start on the 22nd?",
    "Love this! 😍",
    "Please fix the crosswalk light on 5th street, kids are crossing in traffic.",
]
_CRITICISM = [
    "The board ignored every parent who spoke last night. Shameful. Vote them all out in November.",
    "WHY IS THE SUPERINTENDENT GETTING A RAISE WHILE WE CUT TEACHERS??? RESIGN NOW!",
    "This budget is killing our schools. {school} has had a leaking roof for three years.",
    "Oh great, another consultant. Because the last five did so much for test scores.",
    "Principal Jones has lost the trust of this community and should step down.",
    "Measure B will raise my property taxes by $240 a year and I don't trust this board to spend it well.",
    "You people are clueless. The bus situation is a disgrace and nobody is accountable.",
    "Recall the entire board. They lied about the boundary changes.",
    "What the hell is going on with the lunch lines? Kids get 10 minutes to eat. Pathetic.",
    "Incompetent leadership from top to bottom. We deserve better.",
]
_PROFANE_PLAIN = [
    "fucking",
    "shit",
    "bullshit",
    "asshole",
    "bitch",
    "fuck",
    "motherfucker",
    "dumbass",
    "pussy",
]
_PROFANE_DISGUISED = [
    "f*cking", "sh1t", "bullsh!t", "a$$hole", "b!tch", "f u c k", "fuuuuuck", "f.u.c.k", "s-h-i-t",
    "fu\u0441k", "ｆｕｃｋ", "sh\u200bit", "B I T C H", "$hit", "a55hole", "mother f*cker", "fück", "5h1t",
    "bιtch", "ass\u200bhole", "f-u-c-k-i-n-g", "d u m b a s s",
]  # fmt: skip
_PROFANE_TEMPLATES = [
    "This {p} board doesn't care about our kids",
    "what a load of {p}",
    "{p} this district",
    "the bus was late again, {p}",
    "you are a {p}",
    "{p}!!!",
    "Honestly the new schedule is {p} and everyone knows it",
]


def corpus(size: int = 2000, seed: int = 1114) -> list[tuple[str, bool]]:
    """``(text, is_profane)`` pairs; about a fifth profane, of which two thirds disguised."""
    rng = random.Random(seed)
    out: list[tuple[str, bool]] = []
    for i in range(size):
        roll = rng.random()
        if roll < 0.2:
            word = rng.choice(_PROFANE_PLAIN if i % 3 == 0 else _PROFANE_DISGUISED)
            out.append((rng.choice(_PROFANE_TEMPLATES).format(p=word), True))
        else:
            template = rng.choice(_CRITICISM if roll < 0.35 else _CLEAN)
            year = rng.randint(2024, 2027)
            text = template.format(
                school=rng.choice(_SCHOOLS),
                year=year,
                next=year + 1,
                n=rng.randint(1, 60),
                m=rng.randint(5, 50),
            )
            out.append((text, False))
    return out


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(comments: int = 2000, rounds: int = 3, floor_sample: int = 200) -> list[dict[str, Any]]:
    """``better_profanity`` runs at tens of comments per second, so its rate is timed on the first
    ``floor_sample`` comments of the corpus (the engine is timed on the same slice for the ratio, and on the whole
    corpus for the rate); recall of both is over every profanity case."""
    from better_profanity import profanity  # type: ignore[import-untyped]

    from shared.domain.moderation import Category, engine

    cases = corpus(comments)
    texts = [t for t, _ in cases]
    sample = texts[:floor_sample]
    moderator = engine.default_moderator()  # load and compile outside the timing, as a warm Lambda would
    profanity.load_censor_words()

    def ours(batch: list[str]) -> list[bool]:
        return [bool(moderator.moderate(t)) for t in batch]

    def theirs(batch: list[str]) -> list[bool]:
        return [profanity.contains_profanity(t) for t in batch]

    full_times, our_times, their_times = [], [], []
    for _ in range(rounds):
        full_times.append(_timed(lambda: ours(texts)))
        our_times.append(_timed(lambda: ours(sample)))
        their_times.append(_timed(lambda: theirs(sample)))

    profane_category = {Category.OBSCENE_PROFANE_SEXUAL, Category.HARASSMENT_DISCRIMINATION}
    positives = [t for t, bad in cases if bad]
    negatives = [t for t, bad in cases if not bad]
    recall = _share([any(m.category in profane_category for m in moderator.moderate(t)) for t in positives])
    floor_recall = _share(theirs(positives))
    sample_clean = [t for t, bad in cases[:floor_sample] if not bad]

    rate = len(texts) / statistics.median(full_times)
    sample_rate = len(sample) / statistics.median(our_times)
    floor_rate = len(sample) / statistics.median(their_times)
    speedup = sample_rate / floor_rate
    return [
        {
            "name": "moderation engine",
            "entries": len(texts),
            "rate": round(rate, 1),
            "floor": f"better_profanity.contains_profanity, same corpus (first {len(sample)})",
            "floor_rate": round(floor_rate, 1),
            "ratio": round(floor_rate / sample_rate, 4),
            "speedup": round(speedup, 1),
            "target": ">= 20,000/s and >= 20x faster than the floor, with at least its recall",
            "recall": recall,
            "floor_recall": floor_recall,
            "false_positive_rate": _share(ours(negatives)),
            "floor_false_positive_rate": _share(theirs(sample_clean)),
            "profane_cases": len(positives),
            "clean_cases": len(negatives),
            "target_rate": TARGET_RATE,
            "target_speedup": TARGET_SPEEDUP,
            "ok": rate >= TARGET_RATE and speedup >= TARGET_SPEEDUP and recall >= floor_recall,
        }
    ]


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


if __name__ == "__main__":  # pragma: no cover - ``python -m bench.moderation_bench``
    for row in run():
        print(row)
