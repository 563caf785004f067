"""Video: what a webinar's picture becomes besides the source-quality MP4 the audio stage writes.
Smaller H.264 renditions (`renditions`), a 16:9 poster (`poster`) and chapters proposed from
slide changes (`slides`), each cached in the build cache beside the audio."""
