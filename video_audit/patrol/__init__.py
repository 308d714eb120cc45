"""Live camera patrols (Annex 4 A4-1, A4-4): read a stream, measure it, keep exact frames."""
