"""
Counts the SQL statements a running scheduler sends to its SQLAlchemyJobStore, for
tests/test_store_sqlalchemy.py. Run as a script under either package:

    python _store_query_count.py DB_PATH

Prints JSON: the statements sent while the scheduler idles with one job a day away
(``idle``), and while three jobs run every 0.25 s (``busy``, with ``runs``).
"""

import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def noop():
    pass


def main(db_path):
    store = SQLAlchemyJobStore(url=f"sqlite:///{db_path}")
    statements = []

    # Traced by SQLite itself: it sees every statement however the store sends it
    # (through SQLAlchemy or straight to the driver).
    def trace(dbapi_connection, connection_record):
        dbapi_connection.set_trace_callback(
            lambda statement: statements.append(statement.split()[0])
        )

    event.listen(store.engine, "connect", trace)
    runs = []
    lock = threading.Lock()

    def listener(event):
        with lock:
            runs.append(event.job_id)

    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    scheduler.add_job(noop, "date", run_date=later, id="tomorrow")
    scheduler.start()

    time.sleep(0.3)
    mark = len(statements)
    time.sleep(1.0)
    idle = len(statements) - mark

    start = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    mark = len(statements)
    for i in range(3):
        scheduler.add_job(noop, "interval", seconds=0.25, start_date=start, id=f"job{i}")
    time.sleep(1.5)
    for i in range(3):
        scheduler.remove_job(f"job{i}")
    busy = len(statements) - mark
    scheduler.shutdown()
    print(json.dumps({"idle": idle, "busy": busy, "runs": len(runs)}))


if __name__ == "__main__":
    import _store_query_count

    _store_query_count.main(sys.argv[1])
