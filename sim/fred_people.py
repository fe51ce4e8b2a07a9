"""The agents behind the FRED stand-in's SEIR counts: their age groups, and who moved.

The stand-in's model draws how many agents move between states each day; this module
says which ones, so that counts by age group and who exposed whom can be written as
FRED writes its tables and networks. It draws from a random stream of its own (seeded
from the run's seed), so the counts are the same whether or not anyone asks, and every
count by age group adds up to the model's count that day.

Each agent belongs to one of :data:`AGE_GROUPS` (a fixed share of the population each,
placed at random); each day the agents leaving a state are drawn among those in it at
the start of the day, and each newly exposed agent's infector among the infectious.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["AGE_GROUPS", "Exposure", "People", "follow"]

#: (first age, share of the population): under 5, 5-17, 18-49, 50-64, 65 and over.
AGE_GROUPS: tuple[tuple[int, float], ...] = ((0, 0.06), (5, 0.16), (18, 0.42), (50, 0.19),
                                             (65, 0.17))
_STATES = ("S", "E", "I", "R")
_NEXT = {"E": "S", "I": "E", "R": "I"}  # the state an agent entering a state leaves


@dataclass(frozen=True)
class Exposure:
    """Agent ``infector`` (None for the initial infections) exposed ``agent`` on ``day``."""

    day: int
    agent: int
    infector: int | None


@dataclass(frozen=True)
class People:
    """Every agent's age group, and per sim day, state and age group the counts:
    ``count[state][day][group]`` at the end of the day, ``new`` entries that day,
    ``total`` entries so far; ``exposures`` in the order they happened."""

    age_group: np.ndarray
    count: dict[str, np.ndarray]
    new: dict[str, np.ndarray]
    total: dict[str, np.ndarray]
    exposures: list[Exposure]

    @property
    def first_ages(self) -> list[int]:
        return [first for first, _ in AGE_GROUPS]


def age_groups(size: int, rng: np.random.Generator) -> np.ndarray:
    """Each of ``size`` agents' age group: the shares of :data:`AGE_GROUPS`, rounded by
    largest remainder, in random order."""
    shares = np.array([share for _, share in AGE_GROUPS]) * size
    counts = np.floor(shares).astype(int)
    leftover = size - int(counts.sum())
    counts[np.argsort(-(shares - counts), kind="stable")[:leftover]] += 1
    return rng.permutation(np.repeat(np.arange(len(AGE_GROUPS)), counts))


def follow(population: int, new: Mapping[str, Sequence[int]], seed: int) -> People:
    """The agents behind a run's daily entries into each state (``new[state][day]``, the
    model's counts): who moved, by age group, and who exposed whom."""
    rng = np.random.default_rng([seed, 1])  # a stream apart from the model's own
    groups = len(AGE_GROUPS)
    age = age_groups(population, rng)
    state = np.zeros(population, dtype=np.int8)  # an index into _STATES: everyone in S
    days = len(new["S"])
    count = {s: np.zeros((days, groups), dtype=np.int64) for s in _STATES}
    entered = {s: np.zeros((days, groups), dtype=np.int64) for s in _STATES}
    exposures: list[Exposure] = []
    entered["S"][0] = np.bincount(age, minlength=groups)
    seeded = rng.choice(population, size=new["I"][0], replace=False)
    state[seeded] = _STATES.index("I")
    entered["I"][0] = np.bincount(age[seeded], minlength=groups)
    exposures += [Exposure(0, int(agent), None) for agent in sorted(seeded)]
    for day in range(days):
        if day > 0:
            members = {s: np.flatnonzero(state == i) for i, s in enumerate(_STATES)}
            for target, source in _NEXT.items():
                movers = rng.choice(members[source], size=new[target][day], replace=False)
                state[movers] = _STATES.index(target)
                entered[target][day] = np.bincount(age[movers], minlength=groups)
                if target == "E" and len(movers):
                    infectors = rng.choice(members["I"], size=len(movers))
                    exposures += [Exposure(day, int(a), int(i))
                                  for a, i in sorted(zip(movers, infectors, strict=True))]
        for i, s in enumerate(_STATES):
            count[s][day] = np.bincount(age[state == i], minlength=groups)
    return People(age, count, entered, {s: np.cumsum(entered[s], axis=0) for s in _STATES},
                  exposures)
