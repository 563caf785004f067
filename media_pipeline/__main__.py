"""`python -m media_pipeline` runs the command line."""

from media_pipeline.cli import main

main()
