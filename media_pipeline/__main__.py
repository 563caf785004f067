"""`python -m media_pipeline` runs the command line."""

from .cli import main

main()
