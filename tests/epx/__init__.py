"""The real Epistemix client (epx 1.2.2), run from a virtualenv of its own."""
