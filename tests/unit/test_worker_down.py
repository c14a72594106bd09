"""worker-down's verdict, per task: none lost, none run twice, and the tasks queued while a worker was
stopped ran on another (or, with one worker, waited and ran once it was back)."""

from lab.studies.experiments.worker_down import celery_app_of, judge_runs

KEYS = ["b-0", "b-1", "d-0", "d-1"]
DURING = ["d-0", "d-1"]


def test_every_task_once_and_the_stopped_workers_ones_elsewhere_passes():
    runs = [["b-0", "worker-1", 1], ["b-1", "worker-2", 1], ["d-0", "worker-2", 2], ["d-1", "worker-2", 2]]
    verdict = judge_runs(KEYS, runs, "worker-1", DURING, others=1)
    assert verdict.passed, verdict.why


def test_a_lost_task_fails_and_is_named():
    runs = [["b-0", "worker-1", 1], ["b-1", "worker-2", 1], ["d-0", "worker-2", 2]]
    verdict = judge_runs(KEYS, runs, "worker-1", DURING, others=1)
    assert not verdict.passed and "1 of 4 tasks never ran: d-1" in verdict.why


def test_a_task_run_twice_fails():
    runs = [["b-0", "worker-1", 1], ["b-0", "worker-2", 1], ["b-1", "worker-2", 1], ["d-0", "worker-2", 2], ["d-1", "worker-2", 2]]
    verdict = judge_runs(KEYS, runs, "worker-1", DURING, others=1)
    assert not verdict.passed and "1 tasks ran twice: b-0" in verdict.why


def test_with_another_worker_a_task_queued_during_the_stop_must_not_wait_for_the_stopped_one():
    runs = [["b-0", "worker-1", 1], ["b-1", "worker-2", 1], ["d-0", "worker-1", 9], ["d-1", "worker-2", 2]]
    assert not judge_runs(KEYS, runs, "worker-1", DURING, others=1).passed


def test_with_one_worker_the_queued_tasks_wait_and_run_once_it_is_back():
    runs = [["b-0", "worker-1", 1], ["b-1", "worker-1", 1], ["d-0", "worker-1", 9], ["d-1", "worker-1", 9]]
    assert judge_runs(KEYS, runs, "worker-1", DURING, others=0).passed
    assert not judge_runs(KEYS, runs[:2], "worker-1", DURING, others=0).passed


def test_the_celery_app_is_read_from_the_workers_command():
    assert celery_app_of("celery -A config.celery_app worker -l INFO") == "config.celery_app"
    assert celery_app_of("celery --app=dojo worker") == "dojo"
    assert celery_app_of("celery --app proj.celery:app worker") == "proj.celery"
    assert celery_app_of("python manage.py rqworker") == ""
