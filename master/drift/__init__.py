"""Drift: reports from minions, their store, the fleet view and JUnit, and the drift events."""
