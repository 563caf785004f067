"""Small shared mechanisms: atomic file writes, workspace-relative paths, redaction of secrets."""
