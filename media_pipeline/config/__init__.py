"""Reading and validating the workspace, show and episode files; the episode file `new` writes."""
