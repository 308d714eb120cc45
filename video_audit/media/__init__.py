"""Media: PyAV probe, the shared sparse frame pass, exact-frame grabs and time codes."""
