"""Behaviour of the simulated platform: sessions, the marketplace, churn — driven by `engine.Simulation`."""
