"""Every key of the workspace, show and episode files, declared once: its kind, default, check
and documentation. The readers read and validate through these declarations, and
docs/formats.md's key tables are generated from them (`scripts/formats-docs`).
"""

from __future__ import annotations

import re

from media_pipeline.config.declare import Key, Table
from media_pipeline.config.fields import URL_MAX

WORKSPACE = Table("", (
    Key("storage", kind="text", attr="storage_url", default="file://./public", limit=URL_MAX,
        doc=("Where published files go: `file://PATH`, a folder (`./public` is the workspace's `public/` folder), "
             "or `s3://bucket/prefix`.")),
    Key("public_url", kind="url", default="http://127.0.0.1:8000",
        doc=("The base URL listeners fetch the stored files from: the CDN or bucket URL in production, the address"
             " of `media-pipeline serve` for a local preview. A trailing `/` is removed.")),
    Key("timezone", kind="text", default="Europe/Helsinki",
        doc=("An IANA time zone name. Publish times written without an offset are read in this zone (see [Publish "
             "times](#publish-times)). An unknown name is an error.")),
    Key("cache_dir", kind="text", shown="`.media-pipeline/cache`",
        doc="Where processed files are kept between runs, relative to the workspace."),
    Key("site_title", kind="text", attr="title", default="Podcasts",
        doc=("The title of the listener site: its index page (`index.html`) and the header of every page. See "
             "[docs/site.md](site.md).")),
    Key("site_language", kind="text", attr="language", default="fi", choices=("fi", "sv", "en"),
        doc=("`fi`, `sv` or `en`: the language of the index page. Show and episode pages are in their show's "
             "`language`.")),
    Key("accessibility_organisation", kind="text", attr="organisation", default="",
        doc=("Who provides the site, named in the accessibility statement (`saavutettavuus/index.html`, law "
             "306/2019).")),
    Key("accessibility_email", kind="text", attr="contact_email", default="",
        doc="Where listeners send feedback on accessibility; shown in the statement. A public body must give one."),
    Key("accessibility_feedback_url", kind="url", attr="contact_url",
        doc="A feedback form, shown beside the address."),
    Key("accessibility_assessed", kind="text", attr="assessed", default="",
        doc=("The date of the latest accessibility assessment, `YYYY-MM-DD`; the statement says it was prepared "
             "then. Another form is an error.")),
    Key("accessibility_assessment", kind="text", attr="assessment", default="self", choices=("self", "third-party"),
        doc="How it was assessed: `self` (the provider's own assessment) or `third-party`."),
    Key("accessibility_compliance", kind="text", attr="compliance", default="partial",
        choices=("full", "partial", "none"),
        doc="`full`, `partial` or `none`: how far the site meets WCAG 2.1 A and AA, as the statement declares."),
    Key("accessibility_shortcomings", kind="texts", attr="shortcomings",
        doc=("The known shortcomings, one sentence each, listed in the statement as content that is not "
             "accessible. Write them in the site's language.")),
    Key("accessibility_shortcomings_sv", kind="texts",
        doc=("The shortcomings in Swedish, for the Swedish statement; without it, that statement lists "
             "`accessibility_shortcomings` marked as written in the site's language.")),
    Key("accessibility_shortcomings_en", kind="texts",
        doc="The same in English, for the English statement."),
    Key("accessibility_shortcomings_fi", kind="texts",
        doc="The same in Finnish, when the site's language is another."),
))

SHOW = Table("", (
    Key("title", kind="text", default="", required=True,
        doc="The show's name."),
    Key("subtitle", kind="text",
        doc="A one-line description (`itunes:subtitle`)."),
    Key("description", kind="text", default="", multiline=True, required=True,
        doc="What the show is about, for podcast apps and directories."),
    Key("language", kind="text", default="", required=True,
        doc="The language code of the show, e.g. `\"fi\"` (RSS `language`)."),
    Key("author", kind="text", default="", required=True,
        doc="Who makes the show, as apps show it (`itunes:author`)."),
    Key("link", kind="url", default="",
        doc=("The show's own website, for the feed's channel `<link>`. Leave it out to link to the show's page on "
             "the listener site (`<show>/index.html`), which is always published.")),
    Key("artwork", kind="path", required=True,
        doc="The cover: square JPEG or PNG, RGB, 1400 to 3000 px (Apple)."),
    Key("categories", kind="texts",
        doc=("Apple Podcasts categories, spelt exactly as Apple does; `\"Name > Subcategory\"` for a subcategory. "
             "A name or subcategory not on Apple's list is an error. Apple uses the first.")),
    Key("keywords", kind="texts",
        doc="Search words."),
    Key("apple_podcasts_url", kind="url",
        doc="The show in Apple Podcasts; a subscribe link on its site page."),
    Key("spotify_url", kind="url",
        doc="The show in Spotify; a subscribe link on its site page."),
    Key("directory_urls", kind="urls",
        doc=("The show in other podcast directories (Podcast Index, ...): more subscribe links, each named by its "
             "host.")),
    Key("explicit", kind="bool", default=False,
        doc=("Whether episodes contain explicit content; written as `true`/`false` (Apple). Episodes may override "
             "it.")),
    Key("type", kind="text", default="episodic", choices=("episodic", "serial"), attr="show_type",
        doc="`episodic` (newest first) or `serial` (meant to be heard in order) (`itunes:type`)."),
    Key("medium", kind="text", default="podcast",
        doc=("The Podcasting 2.0 `podcast:medium`: `podcast`, `music`, `video`, `film`, `audiobook`, `newsletter`,"
             " `blog`, `publisher`, `course`, `mixed`, or one of these with `L` appended for a list feed "
             "(`podcastL`, ...).")),
    Key("copyright", kind="text",
        doc="The copyright line."),
    Key("license", kind="text",
        doc=("The licence of the content (`podcast:license`): an SPDX identifier such as `\"CC-BY-4.0\"`, or a "
             "name.")),
    Key("license_url", kind="url",
        doc="Where the licence text is."),
    Key("public_url", kind="url",
        doc="Overrides the workspace's `public_url` for this show only."),
    Key("new_feed_url", kind="url",
        doc="The feed's new address when it has moved for good (`itunes:new-feed-url`)."),
    Key("podcast_guid", kind="text",
        doc="Pins the Podcasting 2.0 `podcast:guid`; without it the guid is the UUIDv5 of the feed URL."),
    Key("block", kind="bool", default=False,
        doc="`true` keeps the show out of Apple Podcasts (`itunes:block`)."),
    Key("complete", kind="bool", default=False,
        doc="`true` says no more episodes will come (`itunes:complete`)."),
    Key("locked", kind="bool", default=True,
        doc="`podcast:locked`: other hosting platforms may not import the feed."),
    Key("transcripts_required", kind="bool", default=False,
        doc="Every episode must come with a `transcript` (accessibility); an episode without one is an error."),
    Key("id3_version", kind="int", default=3,
        doc="`3` (ID3v2.3, read by every player) or `4` (ID3v2.4)."),
    Key("feed_cache_seconds", kind="int", default=300, minimum=0,
        doc="How long caches may keep `feed.xml` (Cache-Control max-age), at least 0."),
))

OWNER = Table("owner", (
    Key("name", kind="text", default="", required=True,
        doc="The owner's name."),
    Key("email", kind="text", default="", required=True,
        doc="The owner's e-mail address."),
))

FUNDING = Table("funding", (
    Key("url", kind="url", attr="funding_url",
        doc="Where listeners can support or learn about funding the show. Required when `text` is given."),
    Key("text", kind="text", attr="funding_text",
        doc="The link's text."),
))

PERSONS = Table("persons", (
    Key("name", kind="text", required=True,
        doc="The person's name."),
    Key("role", kind="text", default="host",
        doc="The role, e.g. `host`, `co-host`, `guest`, `producer`."),
    Key("group", kind="text", default="cast",
        doc="The role's group, e.g. `cast`, `creative direction`, `administration`."),
    Key("href", kind="url",
        doc="A web page about the person."),
    Key("img", kind="url",
        doc="The URL of a picture of the person."),
))

AUDIO = Table("audio", (
    Key("target_lufs", kind="number", default=-16.0,
        doc="Integrated loudness target in LUFS, from -40 to -5. Apple recommends -16; mono speech may use -19."),
    Key("true_peak", kind="number", default=-1.0, attr="true_peak_db",
        doc="True-peak ceiling in dBTP, at most 0."),
    Key("tolerance", kind="number", default=0.5, attr="tolerance_lu",
        doc="How many LU from the target still count as on target."),
    Key("channels", kind="int", default=2,
        doc="`1` (mono) or `2` (stereo) in the published audio."),
    Key("sample_rate", kind="int", default=44100,
        doc="Sample rate of the published audio in Hz. A webinar recorded at 48000 (as video is) is "
            "best published at 48000: its sound is then not resampled."),
    Key("bitrate", kind="int", default=128, minimum=32, attr="bitrate_kbps",
        doc="MP3 bit rate in kbit/s (constant bit rate), at least 32."),
    Key("formats", kind="texts", default=("mp3",),
        doc="Audio files to publish: `mp3`, `m4a`. An empty list means the default."),
    Key("highpass", kind="number", shown="none (off)", attr="highpass_hz",
        doc="High-pass filter frequency in Hz, against rumble."),
    Key("trim_silence", kind="bool", default=False,
        doc="Trim silence at the start and end."),
    Key("silence_threshold", kind="number", default=-50.0, attr="silence_threshold_db",
        doc="Below this level in dBFS counts as silence when trimming."),
    Key("silence_min_duration", kind="number", default=0.5, attr="silence_min_seconds",
        doc="Seconds of silence before trimming applies."),
    Key("intro", kind="path",
        doc="A clip played before every episode."),
    Key("outro", kind="path",
        doc="A clip played after every episode."),
    Key("video_audio_bitrate", kind="int", default=128, minimum=32, attr="video_audio_bitrate_kbps",
        doc="AAC bit rate in kbit/s of the audio in published MP4 video, at least 32."),
    Key("max_loudness_range", kind="number", shown="none (off)",
        doc=("Level the speech to at most this loudness range (LRA) in LU, from 3 to 20; `8` suits speech heard in"
             " a car or on a bus. See [audio.md](audio.md#speech-levelling).")),
))

VIDEO = Table("video", (
    Key("renditions", kind="texts", default=("720p", "360p"),
        doc=("Smaller H.264 renditions of a video episode beside the source-quality MP4, each named by the short "
             "side of its picture: `1080p`, `720p`, `480p`, `360p`, `240p`. None is made at or above the source's "
             "size. `[]` makes none. See [audio.md](audio.md#video-renditions).")),
))

TRANSCRIPTS = Table("transcripts", (
    Key("engine", kind="text", default="faster-whisper", choices=("faster-whisper",),
        doc=("The speech recognition engine; `faster-whisper` (CTranslate2 Whisper models) is the one supported. "
             "Needs `pip install 'media-pipeline[asr]'`.")),
    Key("model", kind="text", default="small",
        doc=("A model name the engine knows (`tiny`, `base`, `small`, `medium`, `large-v3`; fetched once into the "
             "engine's cache) or the path of a model folder, which keeps an offline machine offline. Finnish and "
             "Swedish need a multilingual model (not `*.en`).")),
    Key("allow_machine", kind="bool", default=False,
        doc=("Publish draft transcripts (`draft: true` in the episode) labelled as machine transcripts. With "
             "`false` a draft counts as missing in `check` and `publish`.")),
    Key("max_lines", kind="int", default=2, minimum=1,
        doc="Lines a cue may have (BBC, Netflix)."),
    Key("max_line_chars", kind="int", default=42, minimum=10,
        doc="Characters a line may have (Netflix; BBC uses 37 for teletext-sized screens)."),
    Key("max_cps", kind="number", default=17.0,
        doc="Characters a second, the reading speed (Netflix adult programmes; 20 is common for English)."),
    Key("min_duration", kind="number", default=1.0,
        doc="Seconds a cue stays on screen at least (BBC, EBU practice)."),
    Key("max_duration", kind="number", default=7.0,
        doc="Seconds a cue stays on screen at most (Netflix)."),
    Key("allow_overlap", kind="bool", default=False,
        doc="Whether a cue may start before the one before it ends."),
    Key("speakers", kind="bool", default=True,
        doc=("Once any cue names its speaker (`<v Name>`), every cue must: a cue without one may hide a change of "
             "speaker.")),
    Key("speaker_label", kind="text", default="name", choices=("name", "dash"),
        doc=("How caption text shows a change of speaker, since players do not show WebVTT voice names: `name` "
             "starts the new speaker's line with \"Aino Lehtonen: \", `dash` with \"– \" (BBC, Netflix). Used in the "
             "published WebVTT, SRT and the video's subtitle tracks; the line norms count it.")),
    Key("norms", kind="text", default="warning", choices=("warning", "error"),
        doc=("How `check` reports a broken norm: `warning` or `error` (then `publish` stops on it). A cue after "
             "the end of the audio is always an error.")),
    Key("undescribed_slides", kind="text", default="warning", choices=("warning", "error"),
        doc=("How `check` reports a slide change in a video with no description cue near it, when the episode does "
             "not say `slides_described_aloud`: `warning` or `error`. See [Audio description](#audio-description).")),
))

NOTIFY = Table("notify", (
    Key("hubs", kind="urls", web=True,
        doc=("WebSub hubs (public http(s) URLs): advertised in the feed with `<atom:link rel=\"hub\">` and told of"
             " every feed change.")),
    Key("podping", kind="env",
        doc=("The environment variable holding the podping.cloud token; the feed's changes are then sent to "
             "podping.")),
    Key("podping_url", kind="url", default="https://podping.cloud/",
        doc="The podping endpoint (another podping.cloud node)."),
    Key("slack", kind="env",
        doc="The environment variable holding a Slack incoming-webhook URL; one message per new episode."),
    Key("teams", kind="env",
        doc="The same for a Microsoft Teams webhook (a workflow's or an incoming webhook's URL)."),
    Key("mattermost", kind="env",
        doc="The same for a Mattermost incoming webhook."),
    Key("webhook", kind="env",
        doc="The same for any service taking the JSON documented in notifications.md."),
    Key("attempts", kind="int", default=5, minimum=1,
        doc="Runs that try a failing notification before it is given up, at least 1."),
))

EPISODE = Table("", (
    Key("title", kind="text", default="", required=True,
        doc="The episode's title."),
    Key("publish_at", kind="time", required=True,
        doc="When the episode goes public. See [Publish times](#publish-times)."),
    Key("order", kind="int", minimum=0,
        doc=("Among episodes with the same `publish_at`, the one with the higher `order` is listed as the newer "
             "(first in the feed and on the site); without it their guids decide. `import` writes it for items "
             "an old feed published at the same moment, so they keep the old feed's order.")),
    Key("source", kind="path", required=True,
        doc="The recording: any audio or video ffmpeg reads (WAV, FLAC, MP3, M4A, MP4, ...)."),
    Key("summary", kind="text", multiline=True,
        doc="A short plain-text description for episode lists; the notes are the long form."),
    Key("number", kind="int", minimum=0,
        doc="The episode number, 0 or more (`itunes:episode`)."),
    Key("season", kind="int", minimum=0,
        doc="The season number, 0 or more (`itunes:season`)."),
    Key("episode_type", kind="text", default="full", choices=("full", "trailer", "bonus"),
        doc="`full`, `trailer` or `bonus` (`itunes:episodeType`)."),
    Key("explicit", kind="bool", shown="the show's `explicit`",
        doc="Explicit content in this episode."),
    Key("persons", kind="tables",
        doc="The people heard, with `name`, `role`, `group`, `href`, `img` as in [[[persons]]](#persons)."),
    Key("chapters", kind="tables",
        doc="Chapter marks; see [Chapters](#chapters)."),
    Key("soundbites", kind="tables",
        doc=("Moments that present the episode, for apps to play as a preview (`podcast:soundbite`); see "
             "[Soundbites](#soundbites).")),
    Key("transcript", kind="transcript",
        doc=("The transcript: a WebVTT (`.vtt`) or SubRip (`.srt`) file in the show's language, or one table per "
             "language; see [Transcripts](#transcripts). Required when the show sets `transcripts_required`. Cue "
             "text is published as inert WebVTT: its own tags (`<v Name>`, `<i>`, `<b>`, `<u>`, `<c>`, `<lang>`, "
             "`<ruby>`, timestamps) are kept, any other markup such as `<script>` is escaped and shown as text, "
             "and a `-->` in the text is written `--&gt;`.")),
    Key("text_transcript", kind="transcript",
        doc=("A transcript without timing: an HTML (`.html`) or plain text (`.txt`) file, or one table per "
             "language with `file` and `language` as in [Transcripts](#transcripts). Published as it is beside "
             "the timed forms (`podcast:transcript` of type `text/html` or `text/plain`); HTML is sanitised as "
             "published notes are.")),
    Key("artwork", kind="path",
        doc="The episode's own cover, square JPEG or PNG, 1400 to 3000 px; else the show's."),
    Key("poster", kind="path",
        doc=("A video's poster on its page, any image (fitted into 16:9); else a representative frame of the video "
             "is chosen. The feed's artwork stays the square `artwork`.")),
    Key("alternates", kind="tables",
        doc=("Files of the episode kept elsewhere, offered in the feed as remote `podcast:alternateEnclosure` "
             "beside the renditions publishing makes; see [Alternate enclosures](#alternate-enclosures).")),
    Key("keywords", kind="texts",
        doc="Search words."),
    Key("location", kind="table",
        doc="The place the episode is about (`podcast:location`); see [Location](#location)."),
    Key("accept_damaged_source", kind="bool", default=False,
        doc=("Publish a recording that decodes only in part (see [Damaged recordings](#damaged-recordings)). Say "
             "so only after listening to it.")),
    Key("descriptions", kind="descriptions", default=(), shown="none",
        doc=("Audio description of the video (WCAG 1.2.5): a WebVTT file whose cues each describe what is shown and "
             "not said, or one table per language; see [Audio description](#audio-description). Publishes a "
             "descriptive transcript and a described version.")),
    Key("slides_described_aloud", kind="bool", default=False,
        doc=("The speakers say aloud what their slides show, so the video needs no description; the accessibility "
             "statement says so, and `check` does not ask for descriptions of its slide changes.")),
    Key("guid", kind="text",
        doc=("The episode's permanent id. Leave it out: it is assigned at the first publish and written into the "
             "file. Never change it afterwards, whatever happens to the title or the file name.")),
))

TRANSCRIPT = Table("transcript", (
    Key("file", kind="path", required=True,
        doc="A WebVTT (`.vtt`) or SubRip (`.srt`) file."),
    Key("language", kind="text", shown="the show's `language`",
        doc="Its language, a code like `fi`, `sv` or `en-GB`; one transcript per language."),
    Key("draft", kind="bool", default=False,
        doc=("A machine transcript nobody has checked yet; `transcribe` writes it. Published only when the show "
             "sets `allow_machine` in [[transcripts]](#transcripts), and then labelled. Remove it once a person "
             "has checked the file.")),
))

DESCRIPTIONS = Table("descriptions", (
    Key("file", kind="path", required=True,
        doc="A WebVTT (`.vtt`) file, each cue one description at the time it belongs to."),
    Key("language", kind="text", shown="the show's `language`",
        doc="Its language, a code like `fi`, `sv` or `en-GB`; one description file per language."),
    Key("clips", kind="path",
        doc=("A folder of the producer's recordings of the descriptions, each named by its cue's identifier "
             "(`slide-2.wav` for the cue `slide-2`; WAV, FLAC, MP3 or M4A). A cue without one is spoken by "
             "speech synthesis (espeak-ng).")),
))

CHAPTERS = Table("chapters", (
    Key("start", kind="duration", required=True,
        doc="Where the chapter starts in the published audio."),
    Key("title", kind="text", required=True,
        doc="The chapter's title."),
    Key("end", kind="duration", shown="the next chapter's start",
        doc="Where it ends; must be after `start`."),
    Key("url", kind="url",
        doc="A link shown with the chapter."),
    Key("image", kind="path",
        doc="A picture shown with the chapter."),
))

SOUNDBITES = Table("soundbites", (
    Key("start", kind="duration", required=True,
        doc="Where it starts in the published audio."),
    Key("duration", kind="duration", required=True,
        doc="How long it lasts, more than 0 (Podcasting 2.0 recommends 15 to 120 seconds)."),
    Key("title", kind="text", limit=128, shown="the episode's title",
        doc="What it is, at most 128 characters."),
))

LOCATION = Table("location", (
    Key("name", kind="text", required=True, limit=128,
        doc="The place as listeners read it, at most 128 characters: `Helsinki`, `Tampereen pääkirjasto`."),
    Key("geo", kind="text",
        doc="Its coordinates as a geo URI (RFC 5870): `geo:60.1699,24.9384`."),
    Key("osm", kind="text",
        doc="Its OpenStreetMap object: N (node), W (way) or R (relation) and the id, as `R34914`."),
))

ALTERNATES = Table("alternates", (
    Key("url", kind="url", required=True,
        doc="The file's http(s) URL (`podcast:source`)."),
    Key("type", kind="text", attr="mime_type", required=True,
        doc="Its media type, `audio/...` or `video/...`."),
    Key("length", kind="int", minimum=1,
        doc="Its size in bytes."),
    Key("title", kind="text", limit=32,
        doc="What apps show for it, at most 32 characters: `Korkea laatu`."),
    Key("bitrate", kind="number",
        doc="Its bit rate in bits per second."),
))

TEXT_TRANSCRIPT = Table("text_transcript", (
    Key("file", kind="path", required=True,
        doc="An HTML (`.html`) or plain text (`.txt`) file in UTF-8."),
    Key("language", kind="text", shown="the show's `language`",
        doc="Its language, a code like `fi`, `sv` or `en-GB`; one file per language."),
))

# Every table, by the file and the heading docs/formats.md documents it under.
TABLES: dict[str, Table] = {
    "workspace": WORKSPACE, "show": SHOW, "show.owner": OWNER, "show.funding": FUNDING, "show.persons": PERSONS,
    "show.audio": AUDIO, "show.video": VIDEO, "show.transcripts": TRANSCRIPTS, "show.notify": NOTIFY, "episode": EPISODE,
    "episode.transcript": TRANSCRIPT, "episode.descriptions": DESCRIPTIONS, "episode.chapters": CHAPTERS,
    "episode.transcript": TRANSCRIPT, "episode.chapters": CHAPTERS, "episode.soundbites": SOUNDBITES,
    "episode.location": LOCATION, "episode.alternates": ALTERNATES, "episode.text_transcript": TEXT_TRANSCRIPT,
}


_MARK = re.compile(r"^<!-- keys: ([a-z_.]+) .*-->\n(?:\|.*\n)*", re.M)


def render_docs(text: str) -> str:
    """docs/formats.md with the table after each `<!-- keys: NAME ... -->` line rendered from `TABLES`."""
    return _MARK.sub(lambda m: m.group(0).split("\n", 1)[0] + "\n" + TABLES[m.group(1)].markdown() + "\n", text)
