"""Audio: ffmpeg (the one place that starts processes), probing, loudness, normalisation, encoding and the build cache."""
