"""Faces: detect, track, embed and cluster people in face-roll clips; match them to the roster."""
