"""The RSS feed with its iTunes and Podcasting 2.0 elements, the OPML list, and the feed rules the gate applies."""
