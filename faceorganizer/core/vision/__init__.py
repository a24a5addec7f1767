"""Pixels to vectors: decoding photos, finding faces and landmarks, aligning, embedding."""
