"""`check` looks at a show's chat channels before a run needs them: an unset variable is a warning,
one that holds no usable URL an error naming the field, and the secret is never printed."""

from __future__ import annotations

from cli_support import invoke
from notify_support import notify_toml


def test_check_names_a_channel_whose_variable_is_unset_or_holds_no_usable_url(workspace):
    workspace.show(toml=notify_toml(chats=("slack", "teams", "mattermost", "webhook")))
    workspace.episode("001")
    secret = "T0KEN-S3CRET"
    result = invoke("--root", str(workspace.root), "check", env={
        "TEST_SLACK_URL": f"https://hooks.example:80a/services/{secret}",  # a typo in the port
        "TEST_TEAMS_URL": f"ftp://example.invalid/{secret}",
        "TEST_MATTERMOST_URL": None,
        "TEST_WEBHOOK_URL": f"http://127.0.0.1:9/{secret}",
    })
    assert result.returncode == 1
    out = result.stdout
    assert "feeds/testi.toml: notify.slack: $TEST_SLACK_URL holds a URL that cannot be used" in out
    assert "feeds/testi.toml: notify.teams: $TEST_TEAMS_URL does not hold an http(s) URL" in out
    assert "warning: feeds/testi.toml: notify.mattermost: $TEST_MATTERMOST_URL is not set here" in out
    assert "notify.webhook" not in out
    assert secret not in result.stdout + result.stderr


def test_check_passes_channels_whose_variables_hold_urls(workspace):
    workspace.show(toml=notify_toml(chats=("slack",)))
    workspace.episode("001")
    result = invoke("--root", str(workspace.root), "check", env={"TEST_SLACK_URL": "https://hooks.example/x"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "notify" not in result.stdout
