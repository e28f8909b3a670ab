"""Read a control plane's ``/metrics`` over HTTP into samples keyed by name and labels."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True, slots=True)
class Scrape:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name`` with exactly ``labels``; None when absent."""
        return self.samples.get((name, frozenset(labels.items())))

    def matching(self, name: str, **labels: str) -> Iterator[tuple[dict[str, str], float]]:
        """Every sample ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        for (found, have), value in self.samples.items():
            if found == name and wanted <= have:
                yield dict(have), value

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def parse(text: str) -> Scrape:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples)


def scrape_sync(port: int) -> Scrape:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return parse(response.read().decode())


async def scrape(port: int) -> Scrape:
    """``/metrics`` of the server on ``port``, fetched off the event loop it runs on."""
    return await asyncio.to_thread(scrape_sync, port)
