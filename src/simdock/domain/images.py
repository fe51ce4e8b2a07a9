"""Container images as simulation types: a run of image ``IMAGE`` is of type ``container:IMAGE``.

Seed 001 submits a ``container_image``; simdock keeps it as the run's simulation
type, so that listing, filtering and dispatch treat images and handlers alike,
and the executor for containers is chosen by the prefix.
"""

from __future__ import annotations

import re

from simdock.errors import ValidationError

CONTAINER_PREFIX = "container:"
IMAGE = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
                   r"(@sha256:[a-f0-9]{64})?$")
#: A container run is given its parameters as command-line flags (``--name value``), so
#: their names are flag names (use with ``fullmatch``: ``$`` also matches before a newline).
FLAG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def container_type(image: str) -> str:
    """The simulation type of runs of ``image``; refuses what is not an image reference."""
    if not isinstance(image, str) or len(image) > 255 or not IMAGE.fullmatch(image):
        raise ValidationError(f"not a container image reference: {image!r}")
    return CONTAINER_PREFIX + image


def image_of(simulation_type: str) -> str | None:
    """The image a simulation type runs, or None for a registered handler's type."""
    return simulation_type.removeprefix(CONTAINER_PREFIX) \
        if simulation_type.startswith(CONTAINER_PREFIX) else None
