"""Demo discs: generated classes, demo faces and the camera-clock overlay they draw."""
