"""Transcripts: reading, caption norms, the published forms, MP4 subtitle tracks, offline speech recognition."""
