"""The preview HTTP server over local storage, with byte ranges."""
