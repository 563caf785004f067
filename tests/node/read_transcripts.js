// Prints each item's podcast:transcript tags as podcast-partytime reads them, as JSON.
const { parseFeed } = require("podcast-partytime");
const fs = require("fs");
const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"));
const items = (feed && feed.items) || [];
process.stdout.write(JSON.stringify(items.map((i) => ({ guid: i.guid, transcripts: i.podcastTranscripts || [] }))));
