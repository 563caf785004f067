"""Tags inside the media files (ID3, MP4), JSON chapters and artwork rules."""
