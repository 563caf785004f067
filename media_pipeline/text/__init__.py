"""Text for listeners shared by feeds, pages and tags: show notes as sanitised HTML and plain text."""
