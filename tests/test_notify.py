"""Notifications after a run (issue 15): WebSub hubs, podping and chat webhooks on real HTTP
receivers on 127.0.0.1, each change sent exactly once whatever the runs do."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from conftest import SHOW_TOML
from lxml import etree

from media_pipeline import notify
from media_pipeline.layout import notifications_key
from media_pipeline.notify import delivery, messages
from media_pipeline.publishing.lock import lock_path, locked

from notify_support import FAST, Receiver, notify_toml
from publish_support import feed_guids, load, manifest_of, run_cli, start_cli, stored_feed, use_s3

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=timezone.utc)
CHATS = ("slack", "teams", "mattermost", "webhook")
FEED = "http://127.0.0.1:8000/testi/feed.xml"
LINK = "http://127.0.0.1:8000/testi/e1/index.html"  # the episode's page on the listener site
TOKEN = "podping-t0ken-Zq81"


def secret_env(chat: dict[str, Receiver]) -> dict[str, str]:
    """Webhook URLs with secret paths, as Slack and Teams hand them out, and the podping token."""
    env = {f"TEST_{kind.upper()}_URL": f"{r.url}/services/T0SECRET{kind}/B0SECRET/xoxs{kind}K3y"
           for kind, r in chat.items()}
    return {**FAST, **env, "TEST_PODPING_TOKEN": TOKEN}


def secrets(env: dict[str, str]) -> list[str]:
    return [TOKEN] + [v.split("/services/", 1)[1] for k, v in env.items() if k.endswith("_URL")]


def stage(workspace, slugs, *, hours=(1,), toml: str, env: dict[str, str]) -> None:
    workspace.show(toml=toml)
    for slug, h in zip(slugs, hours):
        workspace.episode(slug, title=f"Jakso {slug} äö", publish_at=(T0 + timedelta(hours=h)).isoformat(), seconds=3)
    staged = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat(), env=env)
    assert staged.code == 0, staged.err


@pytest.fixture
def receivers():
    with Receiver() as hub1, Receiver() as hub2, Receiver() as podping, Receiver() as slack, \
            Receiver() as teams, Receiver() as mattermost, Receiver() as webhook:
        yield {"hub1": hub1, "hub2": hub2, "podping": podping, "slack": slack, "teams": teams,
               "mattermost": mattermost, "webhook": webhook}


def full_toml(r: dict[str, Receiver], **kw) -> str:
    return notify_toml(hubs=[r["hub1"].url + "/hub", r["hub2"].url + "/"], podping_url=r["podping"].url,
                       chats=CHATS, **kw)


def chat_receivers(r):
    return {kind: r[kind] for kind in CHATS}


def test_a_release_sends_one_websub_publish_per_hub_one_podping_and_one_message_per_chat_webhook(workspace,
                                                                                                   receivers):
    env = secret_env(chat_receivers(receivers))
    stage(workspace, ["e1"], toml=full_toml(receivers), env=env)
    # staging wrote a feed with no episode yet: its hubs and podping were told of it
    for name in ("hub1", "hub2", "podping"):
        assert len(receivers[name].accepted) == 1
        receivers[name].seen.clear()
    assert all(not receivers[k].seen for k in CHATS), "nothing went live, so no chat message"

    released = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(), env=env)
    assert released.code == 0, released.err
    assert released.err == ""

    for name, path in (("hub1", "/hub"), ("hub2", "/")):
        (seen,) = receivers[name].seen
        assert (seen.method, seen.path) == ("POST", path)
        assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert seen.form == {"hub.mode": ["publish"], "hub.url": [FEED]}
    (ping,) = receivers["podping"].seen
    assert ping.method == "GET" and ping.query == {"url": [FEED], "reason": ["update"], "medium": ["podcast"]}
    assert ping.headers["Authorization"] == TOKEN and ping.headers["User-Agent"].startswith("media-pipeline/")

    title = "Jakso e1 äö"
    (slack,) = receivers["slack"].seen
    assert slack.json["text"] == f"Uusi jakso: {title}\nTestiohjelma äö · 3 s\n{LINK}"
    assert f"<{LINK}|{title}>" in slack.json["blocks"][0]["text"]["text"]
    (teams,) = receivers["teams"].seen
    card = teams.json["attachments"][0]["content"]
    assert teams.json["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    runs = [run for block in card["body"] for run in block["inlines"]]
    assert {block["type"] for block in card["body"]} == {"RichTextBlock"}, "no Markdown-parsing TextBlock"
    assert title in [run["text"] for run in runs] and card["actions"][0]["url"] == LINK
    (mattermost,) = receivers["mattermost"].seen
    assert f"[{title}]({LINK})" in mattermost.json["text"]
    (hook,) = receivers["webhook"].seen
    guid = next(iter(manifest_of(workspace.root).episodes))
    assert hook.json["event"] == "episode.published"
    assert hook.json["episode"] | {"published_at": None} == {
        "guid": guid, "slug": "e1", "title": title, "duration_seconds": 3, "url": LINK, "published_at": None}
    assert hook.json["show"]["feed_url"] == FEED
    assert {f"notified {k} ($TEST_{k.upper()}_URL): testi/e1" for k in CHATS} <= set(released.lines)

    # the feed advertises its hubs beside its self link (WebSub 4)
    channel = etree.fromstring(stored_feed(workspace.root))[0]
    links = [(link.get("rel"), link.get("href")) for link in channel.findall("{http://www.w3.org/2005/Atom}link")]
    assert links == [("self", FEED), ("hub", receivers["hub1"].url + "/hub"), ("hub", receivers["hub2"].url + "/")]

    again = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(), env=env)
    assert again.code == 0 and again.err == ""
    assert [len(r.seen) for r in receivers.values()] == [1] * 7, "a run with no change sends nothing"


@pytest.mark.slow  # ten rounds of real processes: the one-round version runs by default
def test_ten_rounds_of_two_release_runs_at_once_notify_each_receiver_exactly_once(workspace, receivers, tmp_path):
    """Two `release-due` runs start together each round; one uses its own lock folder, as a second
    machine would, so only the conditional writes of the notification record keep them apart."""
    rounds = 10
    env = secret_env(chat_receivers(receivers))
    stage(workspace, [f"s{r:02d}" for r in range(1, rounds + 1)], hours=range(1, rounds + 1),
          toml=full_toml(receivers), env={**env, "TEST_PODPING_TOKEN": ""})  # podping: owed until the token is set
    for name in ("hub1", "hub2"):
        receivers[name].seen.clear()
    other_machine = {**env, "MEDIA_PIPELINE_LOCK_DIR": str(tmp_path / "other-machine-locks")}
    conflicts = 0
    for r in range(1, rounds + 1):
        now = (T0 + timedelta(hours=r)).isoformat()
        runs = [start_cli(workspace.root, "-v", "release-due", "--now", now, env=env),
                start_cli(workspace.root, "-v", "release-due", "--now", now, env=other_machine)]
        for p in runs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and "warning" not in err, f"round {r}: {out}\n{err}"
            conflicts += err.count("changed the notification record")
        for kind in CHATS:
            titles = [_title(kind, s) for s in receivers[kind].seen]
            assert titles == [f"Jakso s{i:02d} äö" for i in range(1, r + 1)], f"round {r}: {kind}"
        for name in ("hub1", "hub2", "podping"):
            assert len(receivers[name].seen) == r, f"round {r}: {name} pinged once per feed change"
    for _ in range(2):  # repeats change nothing and send nothing
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(days=1)).isoformat(), env=env).code == 0
    assert Counter(len(r.seen) for r in receivers.values()) == Counter({rounds: 7})
    assert len(feed_guids(workspace.root)) == rounds
    print(f"notification record conflicts retried: {conflicts}")


def test_two_runs_on_two_machines_that_both_find_a_notification_owed_send_it_once(workspace, tmp_path):
    """Each round a release is published with --no-notify, then two runs start together that find
    nothing due and the same notifications owed: the same reads at the same moment, so their claims
    race; one claim lands, the other's conditional write fails and it reads the claim."""
    rounds = 3
    with Receiver() as hub, Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, [f"s{r:02d}" for r in range(1, rounds + 1)], hours=range(1, rounds + 1),
              toml=notify_toml(hubs=[hub.url + "/"], chats=("slack",)), env={**env, "TEST_SLACK_URL": ""})
        hub.seen.clear()
        conflicts = 0
        for r in range(1, rounds + 1):
            now = (T0 + timedelta(hours=r)).isoformat()
            assert run_cli(workspace.root, "release-due", "--no-notify", "--now", now, env=env).code == 0
            runs = [start_cli(workspace.root, "-v", "release-due", "--now", now,
                              env={**env, "MEDIA_PIPELINE_LOCK_DIR": str(tmp_path / f"machine{i}")})
                    for i in range(2)]
            for p in runs:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0 and "warning" not in err, out + err
                conflicts += err.count("changed the notification record")
            assert len(hub.seen) == r and len(slack.seen) == r, f"round {r}"
        assert [s.json["text"].split("\n")[0] for s in slack.seen] == [
            f"Uusi jakso: Jakso s{r:02d} äö" for r in range(1, rounds + 1)]
        print(f"notification record conflicts retried: {conflicts}")


def test_a_run_whose_claim_loses_the_race_reads_the_winners_claim_and_sends_nothing(workspace, tmp_path,
                                                                                      monkeypatch):
    """Deterministic interleaving: just before run A writes its claim, run B (another machine)
    does its whole notification run. A's conditional write then fails, A reads B's record, and
    finds nothing left to send."""
    from media_pipeline.publishing.lock import ENV_LOCK_DIR
    from media_pipeline.storage import open_storage

    with Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        now = T0 + timedelta(hours=1)
        assert run_cli(workspace.root, "release-due", "--no-notify", "--now", now.isoformat(), env=env).code == 0
        ws, catalog = load(workspace.root)
        storage = open_storage(ws.storage_url, ws.root)
        other: list[notify.NotifyReport] = []

        class BeforeFirstClaim:
            """The real storage; run B goes in between A's read of the record and A's write."""

            def __getattr__(self, name):
                return getattr(storage, name)

            def put_bytes(self, key, data, **kw):
                if key == notifications_key("testi") and not other:
                    monkeypatch.setenv(ENV_LOCK_DIR, str(tmp_path / "machine-b"))
                    other.append(notify.after_run(ws, catalog, now=now, storage=storage, environ=env))
                return storage.put_bytes(key, data, **kw)

        first = notify.after_run(ws, catalog, now=now, storage=BeforeFirstClaim(), environ=env)
        assert other[0].sent == ["slack ($TEST_SLACK_URL): testi/e1"]
        assert first.sent == [] and first.warnings == []
        assert len(slack.seen) == 1


def _title(kind: str, seen) -> str:
    data = seen.json
    if kind == "teams":
        return data["attachments"][0]["content"]["body"][1]["inlines"][0]["text"]
    if kind == "webhook":
        return data["episode"]["title"]
    return data["text"].split("\n")[0].split(": ", 1)[1].replace("**", "").split("](")[0].lstrip("[") \
        .replace("\\", "")


def test_a_receiver_that_fails_twice_gets_the_message_once_after_retries(workspace):
    with Receiver(fail_first=2) as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        run = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(), env=env)
        assert run.code == 0 and run.err == ""
        assert [s.accepted for s in slack.seen] == [False, False, True]
        assert len({s.body for s in slack.seen}) == 1
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(),
                       env=env).code == 0
        assert len(slack.accepted) == 1


def test_a_run_killed_between_the_feed_write_and_the_notification_sends_it_on_the_next_run(workspace, receivers):
    """The test holds this machine's notification lock, so the run stops right after its feed write,
    waiting for it; it is killed there (SIGKILL: no clean-up of any kind)."""
    env = secret_env(chat_receivers(receivers))
    stage(workspace, ["e1"], toml=full_toml(receivers), env=env)
    for r in receivers.values():
        r.seen.clear()
    ws, _ = load(workspace.root)
    with locked(lock_path(ws, "testi.notify")):
        run = start_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(), env=env)
        deadline = time.monotonic() + 60
        while not feed_guids(workspace.root) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(feed_guids(workspace.root)) == 1, "the release wrote its feed"
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
    assert all(not r.seen for r in receivers.values()), "killed before any notification"
    following = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1, minutes=5)).isoformat(),
                        env=env)
    assert following.code == 0 and following.err == ""
    assert [len(r.accepted) for r in receivers.values()] == [1] * 7
    assert "Jakso e1 äö" in receivers["slack"].seen[0].json["text"]


def test_a_claim_whose_run_died_on_this_machine_is_taken_over_by_the_next_run(workspace):
    """The one window exactly-once cannot close: a run killed after the receiver accepted and before
    it recorded the send. A run on the same machine sees that process gone and sends it again at
    once, instead of waiting for the claim's lease."""
    with Receiver(hang=30) as slack:
        env = {**secret_env({"slack": slack}), "MEDIA_PIPELINE_NOTIFY_LEASE": "600"}
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        run = start_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(), env=env)
        deadline = time.monotonic() + 60
        while not slack.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        slack.hang = 0
        after = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(), env=env)
        assert after.code == 0 and after.err == "" and len(slack.seen) == 2
        (item,) = next(iter(_record(workspace)["channels"].values()))["items"].values()
        assert (item["state"], item["attempts"]) == ("sent", 2)


def _record(workspace) -> dict:
    return json.loads((workspace.root / "public/_private/testi/notifications.json").read_bytes())


def _claim_elsewhere(workspace, lease_until: float) -> None:
    """Rewrite the record as a run on another machine would have left it, stopped mid-send."""
    path = workspace.root / "public/_private/testi/notifications.json"
    record = _record(workspace)
    (entry,) = record["channels"].values()
    for key in entry["items"]:
        entry["items"][key] = {"state": "claimed", "attempts": 1, "claim": "elsewhere:4242:abcd1234",
                               "boot": "0ther000", "lease_until": lease_until}
    path.write_text(json.dumps(record))


def test_a_claim_of_another_machine_says_until_when_it_holds_then_is_taken_over(workspace):
    with Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(),
                       env=env).code == 0
        assert len(slack.seen) == 1
        until = time.time() + 600
        _claim_elsewhere(workspace, until)
        during = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(), env=env)
        when = datetime.fromtimestamp(round(until, 3), timezone.utc).isoformat(timespec="seconds")
        assert during.code == 0 and during.err.splitlines() == [
            f"warning: testi: slack ($TEST_SLACK_URL): testi/e1 claimed by a run on elsewhere until {when}; "
            "if that run stopped, the first run after then sends it"]
        assert len(slack.seen) == 1, "the claim still holds"
        _claim_elsewhere(workspace, time.time() - 1)
        after = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(), env=env)
        assert after.code == 0 and after.err == "" and len(slack.seen) == 2


def test_a_notification_that_keeps_failing_leaves_the_feed_published_exit_0_a_warning_per_channel_no_secret(workspace):
    with Receiver(status=503) as slack, Receiver(status=500) as podping:
        env = secret_env({"slack": slack})
        toml = notify_toml(podping_url=podping.url, chats=("slack",), attempts=2)
        stage(workspace, ["e1"], toml=toml, env={**env, "TEST_PODPING_TOKEN": ""})
        outputs = []
        for i, hours in enumerate((1, 2, 3), start=1):
            run = run_cli(workspace.root, "-vv", "release-due", "--now", (T0 + timedelta(hours=hours)).isoformat(),
                          env=env)
            outputs.append(run.out + run.err)
            assert run.code == 0, run.err
            warnings = [line for line in run.err.splitlines() if line.startswith("warning")]
            if i == 1:
                assert warnings == [
                    "warning: testi: podping ($TEST_PODPING_TOKEN): the feed change not sent (HTTP 500), attempt 1 "
                    "of 2; the next run tries again",
                    "warning: testi: slack ($TEST_SLACK_URL): testi/e1 not sent (HTTP 503), attempt 1 of 2; the next "
                    "run tries again"], run.err
            elif i == 2:
                assert warnings == [
                    "warning: testi: podping ($TEST_PODPING_TOKEN): gave up on the feed change after 2 attempts "
                    "(HTTP 500); `media-pipeline notify --retry testi` sends it again",
                    "warning: testi: slack ($TEST_SLACK_URL): gave up on testi/e1 after 2 attempts (HTTP 503); "
                    "`media-pipeline notify --retry testi` sends it again"], run.err
            else:
                assert warnings == [], "given up: not tried again"
        assert len(feed_guids(workspace.root)) == 1, "the release stands"
        assert len(slack.seen) == len(podping.seen) == 2 * delivery.TRIES
        for output in outputs:
            for secret in secrets(env):
                assert secret not in output
        assert "services" not in "".join(outputs)


def test_a_channel_configured_for_the_first_time_announces_only_what_went_live_in_the_last_day(workspace):
    workspace.show()
    workspace.episode("old", publish_at=(T0 - timedelta(days=30)).isoformat(), seconds=3)
    workspace.episode("new", publish_at=(T0 + timedelta(hours=1)).isoformat(), seconds=3)
    assert run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat()).code == 0
    with Receiver() as slack:
        env = secret_env({"slack": slack})
        workspace.show(toml=notify_toml(chats=("slack",)))
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(),
                       env=env).code == 0
        assert [s.json["text"].split("\n")[0] for s in slack.seen] == ["Uusi jakso: Jakso new"]


def test_dry_run_says_what_would_be_sent_and_no_notify_sends_nothing_leaving_it_owed(workspace):
    with Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1", "e2"], hours=(1, 2), toml=notify_toml(chats=("slack",)), env=env)
        quiet = run_cli(workspace.root, "release-due", "--no-notify", "--now", (T0 + timedelta(hours=1)).isoformat(),
                        env=env)
        assert quiet.code == 0 and quiet.lines == ["released testi/e1 (due 2026-09-01T07:00:00+00:00)"]
        dry = run_cli(workspace.root, "release-due", "--dry-run", "--now", (T0 + timedelta(hours=2)).isoformat(),
                      env=env)
        assert dry.code == 0
        assert dry.lines[1:] == ["would notify slack ($TEST_SLACK_URL): testi/e1",
                                 "would notify slack ($TEST_SLACK_URL): testi/e2"], "owed, and due"
        assert slack.seen == []
        sent = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(), env=env)
        assert sent.lines[1:] == ["notified slack ($TEST_SLACK_URL): testi/e1",
                                  "notified slack ($TEST_SLACK_URL): testi/e2"]
        assert len(slack.seen) == 2


def test_a_missing_environment_variable_is_one_warning_and_the_message_waits_for_a_run_that_has_it(workspace):
    with Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        without = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(),
                          env={**env, "TEST_SLACK_URL": ""})
        assert without.code == 0
        assert without.err.splitlines() == ["warning: testi: slack ($TEST_SLACK_URL): not sent, $TEST_SLACK_URL is "
                                            "not set; what it is owed waits for a run that has it"]
        assert slack.seen == []
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=2)).isoformat(),
                       env=env).code == 0
        assert len(slack.seen) == 1


def test_a_redirect_is_a_failure_and_is_never_followed(workspace):
    with Receiver() as target, Receiver(redirect="file:///etc/passwd") as hub, \
            Receiver(redirect="") as placeholder:
        placeholder.redirect = f"{target.url}/elsewhere"
        env = {**FAST}
        stage(workspace, ["e1"], toml=notify_toml(hubs=[hub.url + "/", placeholder.url + "/"]), env=env)
        assert len(hub.seen) == len(placeholder.seen) == delivery.TRIES
        assert target.seen == []


def test_unpublish_pings_the_hubs_with_the_feed_that_no_longer_lists_the_episode(workspace):
    with Receiver() as hub, Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(hubs=[hub.url + "/"], chats=("slack",)), env=env)
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(),
                       env=env).code == 0
        assert len(hub.seen) == 2 and len(slack.seen) == 1
        down = run_cli(workspace.root, "unpublish", "testi/e1", "--yes", env=env)
        assert down.code == 0, down.err
        assert len(hub.seen) == 3 and len(slack.seen) == 1, "a removal is pinged, not announced"


def test_the_notification_record_is_private_and_the_manifest_unchanged_by_it(workspace):
    with Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(chats=("slack",)), env=env)
        before = (workspace.root / "public/_private/testi/manifest.json").read_bytes()
        assert run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=1)).isoformat(),
                       env=env).code == 0
        record = json.loads((workspace.root / "public/_private/testi/notifications.json").read_bytes())
        (entry,) = record["channels"].values()
        (item,) = entry["items"].values()
        assert item["state"] == "sent" and item["attempts"] == 1
        after = (workspace.root / "public/_private/testi/manifest.json").read_bytes()
        assert b"notif" not in before + after, "the manifest format knows nothing of notifications"
        for secret in secrets(env):
            assert secret not in json.dumps(record)


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", "Uusi jakso: T\nOhjelma · 1 t 2 min\nhttps://x.fi"),
    ("sv-FI", "Nytt avsnitt: T\nOhjelma · 1 tim 2 min\nhttps://x.fi"),
    ("en", "New episode: T\nOhjelma · 1 h 2 min\nhttps://x.fi"),
])
def test_messages_speak_the_show_language(language, expected):
    from media_pipeline.text.strings import strings

    words = strings(language)
    msg = messages.Message("Ohjelma", "T", messages.duration_text(3725, language), "https://x.fi",
                           words["new_episode"], words["listen"])
    assert msg.text == expected


def test_redact_removes_a_secret_url_and_its_parts():
    from media_pipeline.util.redact import redact

    secret = "https://hooks.slack.com/services/T0/B0/abcd"
    assert redact(f"URLError: cannot reach {secret} (hooks.slack.com) /services/T0/B0/abcd", [secret]) == \
        "URLError: cannot reach … (…) …"


def test_an_unreachable_receiver_fails_without_naming_its_secret_url():
    secret = "http://127.0.0.1:9/services/T0SECRET/B0/k3y"
    request = delivery.Request("POST", secret, b"{}", {}, (secret,))
    error = delivery.send(request, "slack ($X)", tries=1, timeout=2)
    assert error and "T0SECRET" not in error and "127.0.0.1:9" not in error


def test_one_round_of_two_release_runs_at_once_on_s3_notifies_once(workspace, s3, tmp_path):
    use_s3(workspace, s3)
    with Receiver() as hub, Receiver() as slack:
        env = secret_env({"slack": slack})
        stage(workspace, ["e1"], toml=notify_toml(hubs=[hub.url + "/"], chats=("slack",)), env=env)
        hub.seen.clear()
        now = (T0 + timedelta(hours=1)).isoformat()
        runs = [start_cli(workspace.root, "release-due", "--now", now, env=env),
                start_cli(workspace.root, "release-due", "--now", now,
                          env={**env, "MEDIA_PIPELINE_LOCK_DIR": str(tmp_path / "other")})]
        for p in runs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and "warning" not in err, out + err
        assert len(hub.seen) == 1 and len(slack.seen) == 1


def test_a_secret_written_in_the_show_file_is_refused_naming_the_key_and_not_echoing_it(workspace):
    from media_pipeline.config.load import load_catalog, load_workspace

    workspace.show(toml=SHOW_TOML + '\n[notify]\nslack = "https://hooks.slack.com/services/T0/B0/s3cr3t"\n'
                   'hubs = ["not a url"]\nattempts = 0\n')
    _, problems = load_catalog(load_workspace(workspace.root))
    lines = [str(p) for p in problems]
    assert lines == [
        "feeds/testi.toml: notify.hubs: must be http(s) URLs, not 'not a url'",
        'feeds/testi.toml: notify.slack: must name an environment variable, like { env = "MEDIA_PIPELINE_SLACK" }; '
        "the secret itself never goes in the file",
        "feeds/testi.toml: notify.attempts: must be at least 1, not 0",
    ]


def test_a_feed_without_hubs_has_no_hub_link_and_one_with_them_reads_back_in_feedparser(workspace):
    import feedparser

    with Receiver() as hub:
        stage(workspace, ["e1"], toml=notify_toml(hubs=[hub.url + "/"]), env=FAST)
        parsed = feedparser.parse(stored_feed(workspace.root))
        assert not parsed.bozo
        assert [(link.rel, link.href) for link in parsed.feed.links if link.rel == "hub"] == [("hub", hub.url + "/")]
    workspace.show()
    assert run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat()).code == 0
    assert b'rel="hub"' not in stored_feed(workspace.root)
