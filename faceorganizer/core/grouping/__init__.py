"""Vectors to people: nearest-neighbour search, constraints, Chinese whispers, DBSCAN.

Modules, in the order a clustering uses them: arrays (shared helpers), search (exact
BLAS search), knn (neighbour lists and their graph), constraints (user edits), whispers,
merge (average-linkage refinement after whispers), dbscan (with its constraint repair),
cluster (the :func:`~faceorganizer.core.grouping.cluster.cluster` entry point), threshold
(automatic threshold), suggest ("Is this them?"), kernels (numba loops).
"""
