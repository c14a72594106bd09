"""Clear expired sessions every hour, as the APScheduler tutorials do it: started from NotesConfig.ready()."""

from apscheduler.schedulers.background import BackgroundScheduler
from django.core.management import call_command


def clear_expired_sessions():
    call_command("clearsessions")


def start():
    scheduler = BackgroundScheduler()
    scheduler.add_job(clear_expired_sessions, "interval", hours=1, id="clear_expired_sessions", replace_existing=True)
    scheduler.start()
