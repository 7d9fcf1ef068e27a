"""Simulated IS 15959-2 meters and fleets built on the public dlmskit API."""
