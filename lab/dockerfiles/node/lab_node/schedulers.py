"""What schedules jobs inside this process: APScheduler schedulers and the `schedule` library's jobs.

Read from the live objects (gc), so it sees a scheduler however the site started it: in an AppConfig's
ready(), at import, in a management command. A node answers for the worker that served the probe; with
gunicorn's --preload a scheduler started at import runs in the master (its thread does not survive the
fork), which the answer says.
"""

import gc
import sys
import threading


def _apscheduler():
    base = sys.modules.get("apscheduler.schedulers.base")
    if base is None:
        return []
    found = []
    for scheduler in (obj for obj in gc.get_objects() if isinstance(obj, base.BaseScheduler)):
        running = scheduler.state != base.STATE_STOPPED
        thread = getattr(scheduler, "_thread", None)
        jobs = [f"{job.id} ({job.trigger})" for job in scheduler.get_jobs()] if running else []
        found.append({
            "kind": f"APScheduler {type(scheduler).__name__}",
            "running": running,
            "jobs": jobs,
            # Started before gunicorn forked: the thread runs in the master, once per node.
            "thread_here": bool(thread is not None and thread.is_alive()),
        })
    return found


def _schedule_library():
    schedule = sys.modules.get("schedule")
    jobs = list(getattr(getattr(schedule, "default_scheduler", None), "jobs", []) or [])
    return [{"kind": "schedule", "running": True, "jobs": [str(job) for job in jobs], "thread_here": True}] if jobs else []


def running():
    """Every scheduler this process holds, running or not, with its jobs."""
    return {
        "schedulers": _apscheduler() + _schedule_library(),
        "threads": sorted(thread.name for thread in threading.enumerate()),
    }
