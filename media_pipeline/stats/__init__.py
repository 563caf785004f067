"""Reach without tracking: downloads and page views counted from the storage's own access logs by
the IAB Tech Lab podcast measurement rules, keeping counts and no IP address or user agent."""
