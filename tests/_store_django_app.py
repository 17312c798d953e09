"""
django-apscheduler's DjangoJobStore (a job store written in Python by a third party)
driven by this package's scheduler, for tests/test_store_django.py. Run as a script,
in its own process because Django can be configured only once per process:

    python _store_django_app.py DB_PATH

Prints a JSON report of what happened; the test checks it.
"""

import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import django
from django.conf import settings

runs = []
ran_three_times = threading.Event()


def tick(label):
    runs.append(label)
    if len(runs) >= 3:
        ran_three_times.set()


def setup_django(db_path):
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": db_path,
                # The scheduler's thread and this one write to the same file: on a
                # loaded machine the default 5 s wait for its lock can run out, and a
                # deferred transaction that must upgrade its lock fails at once.
                "OPTIONS": {"timeout": 60, "transaction_mode": "IMMEDIATE"},
            }
        },
        INSTALLED_APPS=["django_apscheduler"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def new_scheduler():
    from django_apscheduler.jobstores import DjangoJobStore

    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=timezone.utc)
    # The store registers its execution-recording listeners itself in start().
    scheduler.add_jobstore(DjangoJobStore(), "default")
    return scheduler


def main(db_path):
    setup_django(db_path)
    from django_apscheduler.models import DjangoJob, DjangoJobExecution

    report = {}
    scheduler = new_scheduler()
    scheduler.add_job(
        "_store_django_app:tick", "interval", seconds=0.2, args=["interval"], id="ticker"
    )
    later = datetime.now(timezone.utc) + timedelta(days=1)
    scheduler.add_job(tick, "date", run_date=later, args=["date"], id="tomorrow")
    scheduler.add_job(tick, "interval", hours=1, args=["paused"], id="paused")
    scheduler.start()
    scheduler.pause_job("paused")

    report["ran"] = ran_three_times.wait(10)
    scheduler.modify_job("tomorrow", name="renamed")
    report["jobs"] = [
        [job.id, job.name, job.next_run_time is not None, job._jobstore_alias]
        for job in scheduler.get_jobs()
    ]
    report["stored_ids"] = sorted(DjangoJob.objects.values_list("id", flat=True))
    scheduler.shutdown()
    # Executions are recorded by django-apscheduler's own listeners.
    time.sleep(0.1)
    report["executions"] = sorted(
        set(DjangoJobExecution.objects.values_list("job_id", "status"))
    )

    # A new scheduler restores the jobs from the database.
    scheduler = new_scheduler()
    scheduler.start(paused=True)
    restored = scheduler.get_job("tomorrow")
    report["restored"] = [restored.name, restored.args, str(restored.trigger)]
    scheduler.remove_job("ticker")
    report["after_remove"] = sorted(job.id for job in scheduler.get_jobs())
    scheduler.shutdown()
    print(json.dumps(report))


if __name__ == "__main__":
    # Through the module, so that the jobs refer to _store_django_app, not __main__.
    import _store_django_app

    _store_django_app.main(sys.argv[1])
