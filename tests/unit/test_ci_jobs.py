"""The ready-made CI jobs in docs/ci/ cannot drift from the CLI: every `lab` line of their steps parses with the
lab's own parser, the steps are a shell script bash accepts, they run in the order a job needs (up, the checks,
down whatever happened), and the JUnit files they write are the ones the job hands to its test report.
tests/integration/test_ci_steps.py runs the same `lab` lines against a real lab."""

from __future__ import annotations

import fnmatch
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from .test_documented_commands import parse

ROOT = Path(__file__).resolve().parents[2]
GITHUB, GITLAB = ROOT / "docs" / "ci" / "github-actions.yml", ROOT / "docs" / "ci" / "gitlab-ci.yml"
JOBS = [GITHUB, GITLAB]
# GitLab's keywords at the top of a file that are no job.
GITLAB_GLOBAL = {"stages", "variables", "default", "workflow", "include", "image", "services", "cache",
                 "before_script", "after_script"}


def github_steps(job_file: Path) -> list[dict]:
    """Every step of every job, in order."""
    workflow = yaml.safe_load(job_file.read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def gitlab_jobs(job_file: Path) -> list[dict]:
    pipeline = yaml.safe_load(job_file.read_text())
    return [job for name, job in pipeline.items() if name not in GITLAB_GLOBAL and not name.startswith(".")]


def shell_lines(job_file: Path) -> list[str]:
    """The shell the job runs, in the order it runs it: each step's `run` (GitHub), each job's before_script,
    script, then after_script (GitLab)."""
    if job_file == GITHUB:
        texts = [step["run"] for step in github_steps(job_file) if "run" in step]
    else:
        texts = [line for job in gitlab_jobs(job_file)
                 for part in ("before_script", "script", "after_script") for line in job.get(part, [])]
    return [line for text in texts for line in text.splitlines() if line.strip()]


def lab_commands(job_file: Path) -> list[list[str]]:
    """The `lab` invocations among the job's lines (the program `lab` or a path to it), arguments only, in order."""
    found = []
    for line in shell_lines(job_file):
        command: list[str] = []
        for word in [*shlex.split(line, comments=True), ";"]:
            if word in ("&&", ";", "|", "||"):
                if command and Path(command[0]).name == "lab":
                    found.append(command[1:])
                command = []
            else:
                command.append(word)
    return found


def subcommands(job_file: Path) -> list[str]:
    return [argv[0] for argv in lab_commands(job_file)]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize("job_file", JOBS, ids=lambda path: path.name)
def test_every_lab_line_of_the_job_parses_with_the_lab_s_parser(job_file):
    commands = lab_commands(job_file)
    assert len(commands) == 5
    for argv in commands:
        parse(argv)


@pytest.mark.parametrize("job_file", JOBS, ids=lambda path: path.name)
def test_the_job_brings_the_lab_up_checks_it_and_takes_it_down_last(job_file):
    assert subcommands(job_file) == ["setup", "up", "readiness", "matrix", "down"]
    readiness, matrix = lab_commands(job_file)[2:4]
    assert option(readiness, "--baseline") == "readiness-baseline.json"  # where docs/readiness.md commits it
    assert option(readiness, "--junit") == "reports/readiness.xml"
    assert "--quick" in matrix and option(matrix, "--junit") == "reports/matrix.xml"


@pytest.mark.parametrize("job_file", JOBS, ids=lambda path: path.name)
def test_the_job_s_steps_are_a_script_bash_accepts(job_file, tmp_path):
    script = tmp_path / f"{job_file.stem}.sh"
    script.write_text("set -e\n" + "\n".join(shell_lines(job_file)) + "\n")
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_bash_check_can_fail(tmp_path):
    script = tmp_path / "broken.sh"
    script.write_text('lab up && if then "\n')
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode != 0


def junit_files(job_file: Path) -> list[str]:
    return [option(argv, "--junit") for argv in lab_commands(job_file) if "--junit" in argv]


def test_github_reports_the_junit_files_and_takes_the_lab_down_always():
    steps = github_steps(GITHUB)
    report = next(step for step in steps if step.get("uses", "").startswith("mikepenz/action-junit-report"))
    for path in junit_files(GITHUB):
        assert fnmatch.fnmatch(path, report["with"]["report_paths"]), path
    assert steps.index(report) < len(steps) - 1 and report["if"] == "${{ !cancelled() }}"
    down = steps[-1]
    assert down["run"] == "lab down" and down["if"] == "always()"
    up = next(step for step in steps if step.get("run") == "lab up")
    matrix = next(step for step in steps if step.get("run", "").startswith("lab matrix"))
    assert f"steps.{up['id']}.outcome == 'success'" in matrix["if"]  # the matrix runs on a lab that came up


def test_gitlab_reports_the_junit_files_and_takes_the_lab_down_in_after_script():
    job = gitlab_jobs(GITLAB)[0]
    assert job["artifacts"]["when"] == "always"
    for path in junit_files(GITLAB):
        assert fnmatch.fnmatch(path, job["artifacts"]["reports"]["junit"]), path
    assert [Path(shlex.split(line)[0]).name for line in job["after_script"]] == ["lab"]
    assert shlex.split(job["after_script"][0])[1:] == ["down"]
    assert job["variables"]["LAB_NAME"].startswith("ci-")  # a lab per job, which after_script finds too


def test_ci_md_explains_both_jobs():
    page = (ROOT / "docs" / "ci.md").read_text()
    assert "(ci/github-actions.yml)" in page and "(ci/gitlab-ci.yml)" in page
    for argv in lab_commands(GITHUB):
        assert f"lab {shlex.join(argv)}" in page, argv
