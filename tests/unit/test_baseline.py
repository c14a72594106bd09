"""A readiness baseline (`lab readiness --save-baseline`, `--baseline`): CI fails only on a hazard the file does not list."""

import json

import pytest

from lab.verdicts.baseline import FORMAT, BaselineChange, baseline_of, checked, compare
from lab.verdicts.hazards import FOUND, NOTE, OK, Finding

NOT_A_BASELINE = r"^not a readiness baseline \(write one with `lab readiness --save-baseline FILE`\)$"


def hazard(key, level=FOUND, evidence=None):
    return Finding(key, f"title of {key}", level, [f"evidence of {key}"] if evidence is None else evidence, "users", "fix", "docs")


def test_a_baseline_lists_the_hazards_found_by_key_with_their_titles_and_not_notes_or_oks():
    findings = [hazard("debug_on"), hazard("conn_max_age", NOTE), hazard("sqlite_database", OK), hazard("migrate_at_start")]
    saved = baseline_of(findings)
    assert saved == {"format": 1, "found": {"debug_on": "title of debug_on", "migrate_at_start": "title of migrate_at_start"}}
    assert FORMAT == 1
    assert checked(json.loads(json.dumps(saved))) == saved  # as the command writes and reads it


@pytest.mark.parametrize(
    "baseline",
    [
        [],
        None,
        {"found": {}},  # no format
        {"format": 2, "found": {}},
        {"format": 1},
        {"format": 1, "found": ["debug_on"]},
    ],
)
def test_anything_but_a_baseline_is_refused_with_how_to_write_one(baseline):
    with pytest.raises(ValueError, match=NOT_A_BASELINE):
        checked(baseline)
    with pytest.raises(ValueError, match=NOT_A_BASELINE):
        compare(baseline, [hazard("debug_on")])


def test_an_empty_baseline_is_a_baseline():
    assert checked({"format": 1, "found": {}}) == {"format": 1, "found": {}}


def test_a_hazard_found_that_the_baseline_does_not_list_fails_and_one_it_lists_does_not():
    baseline = {"format": 1, "found": {"ssl_redirect_behind_proxy": "SECURE_SSL_REDIRECT without SECURE_PROXY_SSL_HEADER"}}
    same = compare(baseline, [hazard("ssl_redirect_behind_proxy"), hazard("debug_on", OK)])
    assert not same.failed and same.new == [] and same.gone == []
    new = hazard("debug_on")
    worse = compare(baseline, [hazard("ssl_redirect_behind_proxy"), new, hazard("conn_max_age", NOTE)])
    assert worse.failed and worse.new == [new] and worse.gone == []


def test_hazards_the_baseline_lists_that_are_gone_are_reported_sorted_and_do_not_fail():
    baseline = {"format": 1, "found": {"sqlite_database": "", "debug_on": "", "migrate_at_start": ""}}
    change = compare(baseline, [hazard("migrate_at_start"), hazard("debug_on", NOTE)])
    assert not change.failed
    assert change.gone == ["debug_on", "sqlite_database"]


def test_the_lines_name_each_new_hazard_with_its_first_evidence_then_each_fixed_one():
    change = BaselineChange(
        new=[hazard("ssl_redirect_behind_proxy", evidence=["SECURE_SSL_REDIRECT = True", "second"]), hazard("debug_on", evidence=[])],
        gone=["migrate_at_start"],
    )
    assert change.lines() == [
        "new since the baseline: ssl_redirect_behind_proxy: title of ssl_redirect_behind_proxy (SECURE_SSL_REDIRECT = True)",
        "new since the baseline: debug_on: title of debug_on (no evidence)",
        "fixed since the baseline: migrate_at_start",
    ]
    assert BaselineChange(new=[], gone=["debug_on", "sqlite_database"]).lines() == [
        "fixed since the baseline: debug_on",
        "fixed since the baseline: sqlite_database",
    ]


def test_nothing_new_and_nothing_gone_says_so_in_one_line():
    change = BaselineChange(new=[], gone=[])
    assert not change.failed
    assert change.lines() == ["no hazard found that the baseline does not list"]
