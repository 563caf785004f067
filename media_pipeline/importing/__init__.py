"""Moving a show in: another host's feed read item by item into a show file and episode files,
its media, artwork, chapters and transcripts downloaded resumably and verified, guids kept."""
