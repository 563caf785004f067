// Prints each item as podcast-partytime reads it (guid, title, date, chapters, transcripts,
// persons, soundbites, location, alternate enclosures), as JSON: the import tests compare an old host's feed with the one published after import.
const { parseFeed } = require("podcast-partytime");
const fs = require("fs");
const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"));
const items = (feed && feed.items) || [];
process.stdout.write(JSON.stringify(items.map((i) => ({
  guid: i.guid,
  title: i.title,
  pubDate: i.pubDate ? new Date(i.pubDate).toISOString() : null,
  chapters: i.podcastChapters || null,
  transcripts: i.podcastTranscripts || [],
  persons: i.podcastPeople || [],
  soundbites: i.podcastSoundbites || [],
  location: i.podcastLocation || null,
  alternates: (i.alternativeEnclosures || []).map((a) => ({
    type: a.type, length: a.length, bitrate: a.bitrate, title: a.title, height: a.height,
    uris: (a.source || []).map((s) => s.uri),
  })),
}))));
