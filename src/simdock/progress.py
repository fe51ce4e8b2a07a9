"""Progress bars for waiting on jobs, in a terminal or in Jupyter (tqdm.auto)."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


class JobProgressBar:
    """A bar from 0 to 100 % with the job's run counts as its postfix."""

    def __init__(self, job_id: str) -> None:
        self._bar = tqdm(total=100, desc=job_id, unit="%",
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}")
        self._shown = 0.0

    def update_to(self, fraction: float, view: Any) -> None:
        target = round(100 * fraction, 1)
        if target > self._shown:
            self._bar.update(target - self._shown)
            self._shown = target
        counts = {s.value: n for s, n in view.counts.items() if n}
        self._bar.set_postfix(counts, refresh=False)

    def close(self) -> None:
        self._bar.close()
