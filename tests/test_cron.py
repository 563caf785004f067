"""The scheduling examples in docs/ are valid: crontab fields, systemd units, the CI workflow."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SERVICE = EXAMPLES / "media-pipeline-release.service"
TIMER = EXAMPLES / "media-pipeline-release.timer"
CLI = Path(sys.executable).parent / "media-pipeline"

_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]  # minute hour day-of-month month day-of-week


def cron_fields_valid(fields: list[str]) -> bool:
    """Each of the five crontab time fields: *, N, N-M, lists of those, each with an optional /STEP."""
    if len(fields) != 5:
        return False
    for field, (low, high) in zip(fields, _RANGES):
        for part in field.split(","):
            match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
            if not match:
                return False
            start, end, step = match.group(2), match.group(3), match.group(4)
            numbers = [int(n) for n in (start, end) if n is not None]
            if any(not low <= n <= high for n in numbers) or (step is not None and int(step) == 0):
                return False
            if end is not None and int(end) < int(start):
                return False
    return True


def test_the_validator_rejects_what_cron_rejects():
    assert cron_fields_valid("*/5 * * * *".split())
    assert cron_fields_valid("0,30 6-22 * 1-12 1-5".split())
    for bad in ("*/5 * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "a * * * *"):
        assert not cron_fields_valid(bad.split()), bad


def _media_pipeline_argv(command: str) -> list[str]:
    """The arguments given to media-pipeline in a shell command line."""
    words = shlex.split(command.split("&&")[-1])
    index = next(i for i, w in enumerate(words) if w.endswith("media-pipeline"))
    return [w for w in words[index + 1:] if not w.startswith((">", "2>"))]


def _options_exist(argv: list[str]) -> None:
    """The example's options are real: `media-pipeline ARGV --help` is accepted (exit 2 otherwise)."""
    run = subprocess.run([str(CLI), *argv, "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "release-due" in argv and "Example:" in run.stdout


def test_crontab_example_is_valid():
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    jobs = [line for line in lines if not re.match(r"^[A-Z_]+=", line)]
    assert len(jobs) == 1
    fields = jobs[0].split(None, 5)
    assert cron_fields_valid(fields[:5])
    command = fields[5]
    assert subprocess.run(["bash", "-n", "-c", command]).returncode == 0  # shell syntax
    _options_exist(_media_pipeline_argv(command))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_systemd_units_have_what_systemd_needs():
    service, timer = _unit(SERVICE), _unit(TIMER)
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith("/")  # systemd wants an absolute path
    _options_exist(_media_pipeline_argv(exec_start))
    assert timer["Timer"]["Unit"] == SERVICE.name
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "OnCalendar" in timer["Timer"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verifies_the_units(tmp_path):
    """systemd's own checker; it insists the ExecStart program exists, so the example's path is
    pointed at the installed command in a copy."""
    exec_start = _unit(SERVICE)["Service"]["ExecStart"].split()[0]
    (tmp_path / SERVICE.name).write_text(SERVICE.read_text().replace(exec_start, str(CLI)))
    shutil.copy(TIMER, tmp_path / TIMER.name)
    run = subprocess.run(["systemd-analyze", "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    calendar = subprocess.run(["systemd-analyze", "calendar", _unit(TIMER)["Timer"]["OnCalendar"]],
                              capture_output=True, text=True, timeout=60)
    assert calendar.returncode == 0, calendar.stderr


def test_scheduled_ci_job_is_valid():
    workflow = yaml.safe_load((EXAMPLES / "release-due.github-workflow.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    (schedule,) = triggers["schedule"]
    assert cron_fields_valid(schedule["cron"].split())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = [step["run"] for step in steps if "run" in step and "release-due" in step["run"]]
    assert len(runs) == 1
    _options_exist(_media_pipeline_argv(runs[0]))
    env = next(step for step in steps if step.get("run") == runs[0])["env"]
    assert "MEDIA_PIPELINE_STORAGE" in env and not any("AKIA" in str(v) for v in env.values())
