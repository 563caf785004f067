"""media-pipeline: a producer's recording to a listener's podcast app."""

__version__ = "0.1.0"
