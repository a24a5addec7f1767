"""Vectors to people: nearest-neighbour search, constraints, Chinese whispers, DBSCAN."""
