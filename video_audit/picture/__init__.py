"""The picture: measures per frame (noise, blur, black, frozen, cuts) and footage fingerprints."""
