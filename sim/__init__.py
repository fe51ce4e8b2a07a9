"""Sample simulations: the 1-D heat equation and a Monte Carlo estimate of pi.

The solver modules depend only on numpy so they can run alone (``python
sim/run_sim.py``) or in a container; :mod:`simdock_sim.handlers` plugs them
into simdock.
"""
