"""The one catalogue of interface strings in Finnish, Swedish and English: the listener site's
pages and accessibility statement, the notes published with transcripts, and messages to listeners;
with the number, size, duration and date formats of each language. Text in another language gets
the English strings.

A Python table rather than gettext catalogues: three languages, a few hundred strings written by the
project itself, no translators' tooling to feed, and a test can read every key in every language
(tests/test_strings.py) where a missing .po entry would fall back silently."""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("fi", "sv", "en")

STRINGS: dict[str, dict[str, str]] = {
    "fi": {
        "skip": "Siirry sisältöön",
        "home": "Etusivu",
        "shows": "Ohjelmat",
        "episodes": "Jaksot",
        "no_episodes": "Jaksoja ei ole vielä julkaistu.",
        "subscribe": "Tilaa",
        "rss": "RSS-syöte podcast-sovellukselle",
        "rss_hint": "Kopioi syötteen osoite podcast-sovellukseesi.",
        "apple": "Apple Podcasts",
        "spotify": "Spotify",
        "listen": "Kuuntele",
        "watch": "Katso",
        "no_media": "Selaimesi ei voi toistaa tätä tiedostoa. Lataa se alta.",
        "chapters": "Luvut",
        "slide": "Dia",
        "transcript": "Tekstivastine",
        "transcript_video": "Tekstivastine (samat tekstit kuin tekstityksessä)",
        "no_transcript": "Tälle jaksolle ei ole tekstivastinetta.",
        "notes": "Jakson tiedot",
        "persons": "Tekijät",
        "downloads": "Lataa",
        "licence": "Lisenssi",
        "published": "Julkaistu",
        "duration": "Kesto",
        "episode_n": "Jakso {n}",
        "season_n": "Kausi {n}",
        "captions": "Tekstitys",
        "audio": "Ääni",
        "video": "Video",
        "back_to_show": "Kaikki jaksot",
        "statement": "Saavutettavuusseloste",
        "feed_of": "{title}: RSS-syöte",
        "chapter_at": "kohdasta {time}",
        "footer": "Sivut toimivat ilman JavaScriptiä eivätkä lataa mitään muilta palvelimilta.",
        "transcript_pages": "Tekstivastine sivuna",
        "funding": "Tue ohjelmaa",
        "search": "Haku",
        "search_label": "Hae jaksoista ja tekstivastineista",
        "search_button": "Hae",
        "search_found": "{n} jaksoa löytyi.",
        "search_none": "Mitään ei löytynyt.",
        "search_failed": "Haku ei nyt toimi. Jaksot löytyvät ohjelmien sivuilta.",
        "play_from": "Toista kohdasta {time}",
        "moment_link": "Linkki tähän kohtaan",
        "moment_hint": "Jaa linkki, niin kuuntelija pääsee suoraan tähän kohtaan.",
        "more_episodes": "Muut jaksot",
        "previous_episode": "Edellinen jakso",
        "next_episode": "Seuraava jakso",
        "opml": "Kaikkien ohjelmien syötteet OPML-tiedostona",
        "opml_hint": "Podcast-sovellukset voivat tuoda tämän tiedoston ja tilata kaikki ohjelmat kerralla.",
        "roles.host": "juontaja", "roles.guest": "vieras", "roles.producer": "tuottaja",
        # published with a machine transcript, wherever its text appears
        "draft_note": "Tämä tekstitys on tehty puheentunnistuksella eikä ihminen ole tarkistanut sitä.",
        "draft_caption": "Konetekstitys: ihminen ei ole tarkistanut sitä.",
        # chat messages of a new episode: "Uusi jakso: <title>", a duration "1 t 2 min"
        "new_episode": "Uusi jakso", "unit.h": "t", "unit.min": "min", "unit.s": "s",
        "described_offer": "Tästä videosta on kuvailutulkattu versio, jossa kuvien sisältö kerrotaan puheena:",
        "described_video": "Kuvailutulkattu video",
        "described_audio": "Kuvailutulkattu ääni",
        "descriptions": "Kuvailutulkkaus",
        "description": "Kuvailu",
        "transcript_described": "Kuvaileva tekstivastine (tekstitys ja kuvailutulkkaus)",
    },
    "sv": {
        "skip": "Hoppa till innehållet",
        "home": "Startsida",
        "shows": "Program",
        "episodes": "Avsnitt",
        "no_episodes": "Inga avsnitt har publicerats ännu.",
        "subscribe": "Prenumerera",
        "rss": "RSS-flöde för podcastappar",
        "rss_hint": "Kopiera flödets adress till din podcastapp.",
        "apple": "Apple Podcasts",
        "spotify": "Spotify",
        "listen": "Lyssna",
        "watch": "Titta",
        "no_media": "Din webbläsare kan inte spela upp filen. Ladda ner den nedan.",
        "chapters": "Kapitel",
        "slide": "Bild",
        "transcript": "Textversion",
        "transcript_video": "Textversion (samma text som i textningen)",
        "no_transcript": "Det här avsnittet har ingen textversion.",
        "notes": "Om avsnittet",
        "persons": "Medverkande",
        "downloads": "Ladda ner",
        "licence": "Licens",
        "published": "Publicerat",
        "duration": "Längd",
        "episode_n": "Avsnitt {n}",
        "season_n": "Säsong {n}",
        "captions": "Textning",
        "audio": "Ljud",
        "video": "Video",
        "back_to_show": "Alla avsnitt",
        "statement": "Tillgänglighetsutlåtande",
        "feed_of": "{title}: RSS-flöde",
        "chapter_at": "från {time}",
        "footer": "Sidorna fungerar utan JavaScript och laddar inget från andra servrar.",
        "transcript_pages": "Textversionen som sida",
        "funding": "Stöd programmet",
        "search": "Sök",
        "search_label": "Sök i avsnitt och texter",
        "search_button": "Sök",
        "search_found": "{n} avsnitt hittades.",
        "search_none": "Inget hittades.",
        "search_failed": "Sökningen fungerar inte just nu. Avsnitten finns på programmens sidor.",
        "play_from": "Spela från {time}",
        "moment_link": "Länk till det här stället",
        "moment_hint": "Dela länken så kommer lyssnaren direkt till det här stället.",
        "more_episodes": "Andra avsnitt",
        "previous_episode": "Föregående avsnitt",
        "next_episode": "Nästa avsnitt",
        "opml": "Alla programs flöden som en OPML-fil",
        "opml_hint": "Poddappar kan importera filen och prenumerera på alla program på en gång.",
        "roles.host": "programledare", "roles.guest": "gäst", "roles.producer": "producent",
        # published with a machine transcript, wherever its text appears
        "draft_note": "Den här texten är gjord med taligenkänning och har inte granskats av en människa.",
        "draft_caption": "Maskintextning, inte granskad av en människa.",
        "new_episode": "Nytt avsnitt", "unit.h": "tim", "unit.min": "min", "unit.s": "s",
        "described_offer": "Den här videon finns i en syntolkad version där innehållet i bilderna berättas i tal:",
        "described_video": "Syntolkad video",
        "described_audio": "Syntolkat ljud",
        "descriptions": "Syntolkning",
        "description": "Syntolkning",
        "transcript_described": "Beskrivande textversion (textning och syntolkning)",
    },
    "en": {
        "skip": "Skip to content",
        "home": "Home",
        "shows": "Shows",
        "episodes": "Episodes",
        "no_episodes": "No episodes have been published yet.",
        "subscribe": "Subscribe",
        "rss": "RSS feed for podcast apps",
        "rss_hint": "Copy the feed's address into your podcast app.",
        "apple": "Apple Podcasts",
        "spotify": "Spotify",
        "listen": "Listen",
        "watch": "Watch",
        "no_media": "Your browser cannot play this file. Download it below.",
        "chapters": "Chapters",
        "slide": "Slide",
        "transcript": "Transcript",
        "transcript_video": "Transcript (the same text as the captions)",
        "no_transcript": "This episode has no transcript.",
        "notes": "About this episode",
        "persons": "People",
        "downloads": "Download",
        "licence": "Licence",
        "published": "Published",
        "duration": "Duration",
        "episode_n": "Episode {n}",
        "season_n": "Season {n}",
        "captions": "Captions",
        "audio": "Audio",
        "video": "Video",
        "back_to_show": "All episodes",
        "statement": "Accessibility statement",
        "feed_of": "{title}: RSS feed",
        "chapter_at": "from {time}",
        "footer": "These pages work without JavaScript and load nothing from other servers.",
        "transcript_pages": "The transcript as a page",
        "funding": "Support the show",
        "search": "Search",
        "search_label": "Search episodes and transcripts",
        "search_button": "Search",
        "search_found": "{n} episodes found.",
        "search_none": "Nothing found.",
        "search_failed": "Search does not work right now. The episodes are on the shows' pages.",
        "play_from": "Play from {time}",
        "moment_link": "Link to this moment",
        "moment_hint": "Share the link and a listener starts right here.",
        "more_episodes": "More episodes",
        "previous_episode": "Previous episode",
        "next_episode": "Next episode",
        "opml": "Every show's feed as an OPML file",
        "opml_hint": "Podcast apps can import this file to subscribe to every show at once.",
        "roles.host": "host", "roles.guest": "guest", "roles.producer": "producer",
        # published with a machine transcript, wherever its text appears
        "draft_note": "This transcript was made by speech recognition and has not been checked by a person.",
        "draft_caption": "Machine captions, not checked by a person.",
        "new_episode": "New episode", "unit.h": "h", "unit.min": "min", "unit.s": "s",
        "described_offer": "This video has an audio-described version in which what the pictures show is spoken:",
        "described_video": "Audio-described video",
        "described_audio": "Audio-described audio",
        "descriptions": "Audio description",
        "description": "Description",
        "transcript_described": "Descriptive transcript (captions and audio description)",
    },
}

LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
OG_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def ui_language(language: str) -> str:
    code = (language or "").split("-", 1)[0].lower()
    return code if code in STRINGS else "en"


def strings(language: str) -> dict[str, str]:
    return STRINGS[ui_language(language)]


def text(language: str, key: str) -> str:
    """One string of the catalogue in `language` (English when the catalogue does not have it)."""
    return strings(language)[key]


def role(language: str, name: str) -> str:
    return strings(language).get(f"roles.{name}", name)


def format_date(moment: dt.date | dt.datetime, language: str) -> str:
    """12.2.2026 in Finnish and Swedish (as written in Finland), 12 February 2026 in English."""
    if ui_language(language) == "en":
        return f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"
    return f"{moment.day}.{moment.month}.{moment.year}"


def format_clock(seconds: float) -> str:
    """A player's clock: 0:45, 12:05, 1:02:03."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_size(length: int, language: str) -> str:
    """Decimal units with the language's decimal mark: 1,2 Mt, 1,2 MB, 1.2 MB; below a megabyte
    whole kilobytes (2 kt, 2 kB), never "0,00 Mt"."""
    lang = ui_language(language)
    if length < 1_000_000:
        return f"{max(1, round(length / 1000))}\u00a0{'kt' if lang == 'fi' else 'kB'}"
    value = f"{length / 1_000_000:.1f}"
    unit = "Mt" if lang == "fi" else "MB"
    if lang != "en":
        value = value.replace(".", ",")
    return f"{value}\u00a0{unit}"


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration for schema.org and <time datetime>: PT1H2M3S."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


# The accessibility statement (law 306/2019, section 16): compliance status, non-accessible content,
# how and when it was assessed, feedback, and the supervisory authority (Traficom since 2025).
STATEMENT: dict[str, dict[str, str]] = {
    "fi": {
        "intro": "Tämä saavutettavuusseloste koskee sivustoa {site} ja sen podcast- ja videojaksoja. "
                 "Palvelua koskee laki digitaalisten palvelujen tarjoamisesta (306/2019).",
        "status": "Vaatimustenmukaisuus",
        "status.full": "Sivusto täyttää WCAG 2.1 -kriteeristön A- ja AA-tason vaatimukset.",
        "status.partial": "Sivusto täyttää osittain WCAG 2.1 -kriteeristön A- ja AA-tason vaatimukset.",
        "status.none": "Sivusto ei täytä WCAG 2.1 -kriteeristön A- ja AA-tason vaatimuksia.",
        "shortcomings": "Sisältö, joka ei ole saavutettavaa",
        "no_shortcomings": "Tunnettuja puutteita ei ole.",
        "assessment": "Miten saavutettavuus on arvioitu",
        "assessment.self": "Arvio on tehty itsearviona. Sivupohjat tarkistetaan automaattisesti "
                           "julkaisuohjelmiston testeissä axe-core- ja Nu HTML Checker -työkaluilla.",
        "assessment.third-party": "Arvion on tehnyt ulkopuolinen asiantuntija.",
        "assessed": "Seloste on laadittu {date}.",
        "feedback": "Palaute saavutettavuudesta",
        "feedback_text": "Huomasitko puutteen? Kerro siitä meille, niin korjaamme sen tai toimitamme "
                         "sisällön sinulle saavutettavassa muodossa.",
        "email": "Sähköposti",
        "form": "Palautelomake",
        "supervisor": "Valvontaviranomainen",
        "supervisor_text": "Jos et ole tyytyväinen saamaasi vastaukseen tai et saa vastausta kahden viikon "
                           "kuluessa, voit tehdä ilmoituksen valvontaviranomaiselle.",
        "supervisor_name": "Liikenne- ja viestintävirasto Traficom, saavutettavuusvalvonta",
        "organisation": "Palvelun tarjoaja",
        "description.video": "Videoiden kuvailutulkkaus",
        "description.described": "Näistä jaksoista on kuvailutulkattu versio (WCAG 2.1, 1.2.5):",
        "description.aloud": "Näissä jaksoissa puhujat kertovat diojen sisällön itse puheessaan:",
        "description.undescribed": "Näistä videojaksoista puuttuu kuvailutulkkaus:",
        "privacy": "Tietosuoja",
        "privacy_text": "Sivusto ja sen jaksot eivät käytä evästeitä, seurantaa eivätkä kolmansien osapuolten "
                        "palveluita. Latauskerrat lasketaan tallennuspalvelun omista lokeista IAB:n "
                        "podcast-mittausohjeen mukaan. IP-osoitteita ja selaintunnisteita ei tallenneta: saman "
                        "päivän pyynnöt yhdistetään tiivisteellä, joka tehdään sitä päivää varten arvotulla "
                        "avaimella, ja avain poistetaan päivän päätyttyä. Tallessa ovat vain lukumäärät.",
    },
    "sv": {
        "intro": "Detta tillgänglighetsutlåtande gäller webbplatsen {site} och dess podd- och videoavsnitt. "
                 "Lagen om tillhandahållande av digitala tjänster (306/2019) gäller tjänsten.",
        "status": "Överensstämmelse",
        "status.full": "Webbplatsen uppfyller kraven på nivå A och AA i WCAG 2.1.",
        "status.partial": "Webbplatsen uppfyller delvis kraven på nivå A och AA i WCAG 2.1.",
        "status.none": "Webbplatsen uppfyller inte kraven på nivå A och AA i WCAG 2.1.",
        "shortcomings": "Innehåll som inte är tillgängligt",
        "no_shortcomings": "Inga kända brister.",
        "assessment": "Hur tillgängligheten har bedömts",
        "assessment.self": "Bedömningen är en självvärdering. Sidmallarna kontrolleras automatiskt i "
                           "publiceringsprogrammets tester med axe-core och Nu HTML Checker.",
        "assessment.third-party": "Bedömningen har gjorts av en extern expert.",
        "assessed": "Utlåtandet har upprättats {date}.",
        "feedback": "Respons om tillgängligheten",
        "feedback_text": "Har du upptäckt en brist? Berätta för oss, så rättar vi den eller ger dig "
                         "innehållet i tillgänglig form.",
        "email": "E-post",
        "form": "Responsformulär",
        "supervisor": "Tillsynsmyndighet",
        "supervisor_text": "Om du inte är nöjd med svaret eller inte får svar inom två veckor kan du "
                           "anmäla det till tillsynsmyndigheten.",
        "supervisor_name": "Transport- och kommunikationsverket Traficom, tillgänglighetstillsynen",
        "organisation": "Tjänsteleverantör",
        "description.video": "Syntolkning av videor",
        "description.described": "Dessa avsnitt finns i en syntolkad version (WCAG 2.1, 1.2.5):",
        "description.aloud": "I dessa avsnitt berättar talarna själva vad bilderna visar:",
        "description.undescribed": "Dessa videoavsnitt saknar syntolkning:",
        "privacy": "Dataskydd",
        "privacy_text": "Webbplatsen och avsnitten använder inga kakor, ingen spårning och inga tjänster från "
                        "tredje part. Nedladdningar räknas i lagringstjänstens egna loggar enligt IAB:s "
                        "riktlinjer för poddmätning. IP-adresser och webbläsaridentifierare sparas inte: en dags "
                        "förfrågningar förs samman med en hash under en slumpmässig nyckel för den dagen, och "
                        "nyckeln raderas när dagen är slut. Endast antal sparas.",
    },
    "en": {
        "intro": "This accessibility statement applies to the website {site} and its podcast and video "
                 "episodes. The Act on the Provision of Digital Services (306/2019) applies to it.",
        "status": "Compliance status",
        "status.full": "The website meets the level A and AA requirements of WCAG 2.1.",
        "status.partial": "The website partially meets the level A and AA requirements of WCAG 2.1.",
        "status.none": "The website does not meet the level A and AA requirements of WCAG 2.1.",
        "shortcomings": "Content that is not accessible",
        "no_shortcomings": "There are no known shortcomings.",
        "assessment": "How accessibility was assessed",
        "assessment.self": "This is a self-assessment. The page templates are checked automatically with "
                           "axe-core and the Nu HTML Checker in the publishing software's tests.",
        "assessment.third-party": "The assessment was made by an external expert.",
        "assessed": "This statement was prepared on {date}.",
        "feedback": "Feedback on accessibility",
        "feedback_text": "Did you notice a shortcoming? Tell us and we will fix it or give you the content "
                         "in an accessible form.",
        "email": "Email",
        "form": "Feedback form",
        "supervisor": "Supervisory authority",
        "supervisor_text": "If you are not satisfied with the reply, or get none within two weeks, you can "
                           "notify the supervisory authority.",
        "supervisor_name": "Finnish Transport and Communications Agency Traficom, accessibility monitoring",
        "organisation": "Provider",
        "description.video": "Audio description of videos",
        "description.described": "These episodes have an audio-described version (WCAG 2.1, 1.2.5):",
        "description.aloud": "In these episodes the speakers describe their slides aloud:",
        "description.undescribed": "These video episodes have no audio description:",
        "privacy": "Privacy",
        "privacy_text": "The site and its episodes use no cookies, no tracking and no third-party services. "
                        "Downloads are counted from the storage service's own logs, following the IAB podcast "
                        "measurement guidelines. No IP address or user agent is kept: a day's requests are "
                        "linked by a hash under a random key made for that day, and the key is deleted when "
                        "the day is over. Only counts are kept.",
    },
}
SUPERVISOR_URL = "https://www.saavutettavuusvaatimukset.fi/"
SUPERVISOR_EMAIL = "saavutettavuus@traficom.fi"
