"""Each notification channel on its own (issue 22, items 4, 6, 7): a broken URL and a receiver that
speaks no HTTP cost only their own channel, whose attempts stop at the show's limit with a visible
give-up and a command to send again; the healthy channels, real HTTP receivers on 127.0.0.1, get
each message exactly once; credentials in URLs are used, never shown, never published."""

from __future__ import annotations

import base64
import json
import socket
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from media_pipeline.feeds.feed import build_feed
from media_pipeline.notify import delivery

from notify_support import FAST, Receiver, notify_toml
from publish_support import load, run_cli, stored_feed

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=timezone.utc)
PASSWORD = "PASSW0RD"


class NoHttp:
    """A TCP service on 127.0.0.1 that answers every connection with an SSH banner: not HTTP."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
                except OSError:
                    pass

    def __enter__(self) -> "NoHttp":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def _record(workspace) -> dict:
    return json.loads((workspace.root / "public/_private/testi/notifications.json").read_bytes())


def test_a_broken_url_and_a_non_http_receiver_cost_only_their_own_channels(workspace):
    with Receiver() as hub, Receiver() as mattermost, Receiver() as webhook, NoHttp() as teams:
        env = {**FAST,
               # a typo in the port: http.client's InvalidURL
               "TEST_SLACK_URL": "http://127.0.0.1:80x/services/T0SECRETslack/B0SECRET/xoxsK3y",
               "TEST_TEAMS_URL": f"{teams.url}/webhookb2/T0SECRETteams",
               "TEST_MATTERMOST_URL": f"{mattermost.url}/hooks/T0SECRETmm",
               # user:password@ works: sent as HTTP Basic authentication
               "TEST_WEBHOOK_URL": f"http://hookuser:{PASSWORD}@{webhook.url[len('http://'):]}/hook"}
        workspace.show(toml=notify_toml(hubs=[hub.url + "/"], chats=("slack", "teams", "mattermost", "webhook")))
        for slug in ("e1", "e2"):
            workspace.episode(slug, title=f"Jakso {slug}", publish_at=(T0 + timedelta(hours=1)).isoformat(),
                              seconds=3)
        staged = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat(), env=env)
        assert staged.code == 0 and staged.err == "", staged.err
        outputs, warnings = [], []
        for run in range(1, 8):
            done = run_cli(workspace.root, "release-due", "--now", (T0 + timedelta(hours=run)).isoformat(), env=env)
            assert done.code == 0, done.err  # a notification never fails the run that published
            outputs.append(done.out + done.err)
            warnings.append([line for line in done.err.splitlines() if line.startswith("warning")])
            items = [i for c in _record(workspace)["channels"].values() for i in c["items"].values()]
            assert max(i.get("attempts", 0) for i in items) <= 5, f"run {run}: attempts past the limit"

        # the healthy channels: each message exactly once, whatever the broken ones did
        assert sorted(s.json["episode"]["slug"] for s in webhook.seen) == ["e1", "e2"]
        assert sorted(s.json["text"].split("[")[1].split("]")[0] for s in mattermost.seen) == ["Jakso e1", "Jakso e2"]
        assert len(hub.seen) == 2, "the staged feed and the released one"
        for seen in webhook.seen:
            assert seen.headers["Authorization"] == "Basic " + base64.b64encode(
                f"hookuser:{PASSWORD}".encode()).decode()
            assert seen.headers["Webhook-Id"] == seen.json["id"]
        # the receiver that speaks no HTTP: one connection per run until given up, never a retry storm
        assert teams.connections == 5

        for run in range(4):
            assert warnings[run] == [
                f"warning: testi: slack ($TEST_SLACK_URL): 2 messages not sent (InvalidURL: the URL's port is not "
                f"a number from 1 to 65535), attempt {run + 1} of 5; the next run tries again",
                f"warning: testi: teams ($TEST_TEAMS_URL): 2 messages not sent (BadStatusLine: the receiver did "
                f"not answer in HTTP), attempt {run + 1} of 5; the next run tries again"], run
        assert warnings[4] == [
            "warning: testi: slack ($TEST_SLACK_URL): gave up on 2 messages after 5 attempts (InvalidURL: the URL's "
            "port is not a number from 1 to 65535); `media-pipeline notify --retry testi` sends it again",
            "warning: testi: teams ($TEST_TEAMS_URL): gave up on 2 messages after 5 attempts (BadStatusLine: the "
            "receiver did not answer in HTTP); `media-pipeline notify --retry testi` sends it again"]
        assert warnings[5] == warnings[6] == [], "given up: silent until retried"
        record = _record(workspace)["channels"]
        assert {i["state"] for i in record["slack:TEST_SLACK_URL"]["items"].values()} == {"given_up"}
        assert {i["state"] for i in record["teams:TEST_TEAMS_URL"]["items"].values()} == {"given_up"}

        # the documented way to send again
        retried = run_cli(workspace.root, "notify", "--retry", "testi", env=env)
        assert retried.code == 1
        assert retried.lines[0] == "4 given-up notification(s) owed again"
        assert teams.connections == 6
        assert "attempt 1 of 5" in retried.err
        outputs.append(retried.out + retried.err)
        for output in outputs:
            for secret in (PASSWORD, "T0SECRET", "xoxsK3y"):
                assert secret not in output
        assert len(webhook.seen) == len(mattermost.seen) == 2, "nothing sent twice"


def test_a_dry_run_lists_only_what_is_owed(workspace):
    with Receiver() as hub, Receiver() as slack:
        env = {**FAST, "TEST_SLACK_URL": f"{slack.url}/services/T0"}
        workspace.show(toml=notify_toml(hubs=[hub.url + "/"], chats=("slack",)))
        for slug in ("e1", "e2", "e3"):
            workspace.episode(slug, title=f"Jakso {slug}", publish_at=(T0 - timedelta(hours=1)).isoformat(),
                              seconds=3)
        assert run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat(), env=env).code == 0
        assert len(slack.seen) == 3 and len(hub.seen) == 1
        dry = run_cli(workspace.root, "publish", "--all", "--dry-run", "--now", (T0 + timedelta(hours=1)).isoformat(),
                      env=env)
        assert dry.code == 0, dry.err
        assert [line for line in dry.lines if "notify" in line] == [], "all sent: nothing would be sent again"
        workspace.episode("e4", title="Jakso e4", publish_at=(T0 - timedelta(minutes=5)).isoformat(), seconds=3)
        dry = run_cli(workspace.root, "publish", "--all", "--dry-run", "--now", (T0 + timedelta(hours=1)).isoformat(),
                      env=env)
        assert [line for line in dry.lines if "notify" in line] == [
            f"would notify hub {hub.url}/: http://127.0.0.1:8000/testi/feed.xml",
            "would notify slack ($TEST_SLACK_URL): testi/e4"]


def test_a_hub_url_with_credentials_is_advertised_without_them(workspace):
    workspace.show()
    _, catalog = load(workspace.root)
    show = catalog.shows["testi"]
    hubs = (f"http://user:{PASSWORD}@127.0.0.1:28790/hub?token=T&topic=x", "https://pubsubhubbub.appspot.com/")
    show = replace(show, notify=replace(show.notify, hubs=hubs))
    xml = build_feed(show, [], feed_url="http://127.0.0.1:8000/testi/feed.xml", artwork_url="http://a/b.jpg",
                     podcast_guid="917393e3-1b1e-5cef-ace4-edaa54e1f810")
    assert PASSWORD.encode() not in xml and b"token" not in xml and b"user" not in xml
    assert b'<atom:link href="http://127.0.0.1:28790/hub?topic=x" rel="hub"/>' in xml
    assert b'<atom:link href="https://pubsubhubbub.appspot.com/" rel="hub"/>' in xml


def test_a_hub_with_user_and_password_gets_basic_auth_and_no_error_names_them():
    with Receiver() as hub, Receiver(status=401) as refusing:
        url = f"http://user:{PASSWORD}@{hub.url[len('http://'):]}/hub?token=T"
        request = delivery.Request("POST", url, b"hub.mode=publish", {})
        assert delivery.send(request, "hub", tries=1, timeout=5) is None
        (seen,) = hub.seen
        assert seen.headers["Authorization"] == "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
        assert seen.path == "/hub" and seen.query == {"token": ["T"]}
        bad = f"http://user:{PASSWORD}@{refusing.url[len('http://'):]}/hub"
        assert delivery.send(delivery.Request("POST", bad, b"", {}), "hub", tries=1, timeout=5) == "HTTP 401"
        gone = delivery.send(delivery.Request("POST", f"http://user:{PASSWORD}@127.0.0.1:9/hub", b"", {}), "hub",
                             tries=1, timeout=5)
        assert gone.startswith("ConnectionRefusedError") and PASSWORD not in gone
        assert "Name or service not known" not in gone


def test_the_stored_feed_of_a_show_with_a_credentialed_hub_holds_no_credential(workspace):
    """Through publish: whatever the loader accepts, the stored feed never carries a credential."""
    with Receiver() as hub:
        host = hub.url[len("http://"):]
        workspace.show(toml=notify_toml(hubs=[f"http://user:{PASSWORD}@{host}/hub?token=T"]))
        workspace.episode("e1", publish_at=(T0 - timedelta(hours=1)).isoformat(), seconds=3)
        done = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat(), env=FAST)
        feed = stored_feed(workspace.root)
        if done.code != 0:  # refused before any work: nothing published, and the line names the field
            assert feed is None and "hubs" in done.err and PASSWORD not in done.err
            return
        assert PASSWORD.encode() not in feed and b"token=" not in feed
        assert f'href="http://{host}/hub" rel="hub"'.encode() in feed
        assert PASSWORD not in done.out + done.err
        (seen,) = hub.seen
        assert seen.headers["Authorization"].startswith("Basic ")
        for page in (workspace.root / "public").rglob("*.html"):
            assert PASSWORD not in page.read_text()
