"""
An AsyncIOScheduler living in a Starlette application: started and shut down by the
application's lifespan, on the server's event loop, with coroutine jobs that share the
application's state and request handlers that add jobs.

Serve it with any ASGI server, e.g. ``uvicorn examples.asyncio_starlette:app``, or run
this file: it then drives the application for a few seconds with Starlette's test
client (which runs the lifespan and the requests on an event loop of its own) and
prints what it sees.

Endpoints:

- ``GET /status``: the number of ticks so far and the scheduled jobs
- ``POST /reminders`` with ``{"text": ..., "seconds": ...}``: a one-off job that fires
  after that many seconds
- ``GET /reminders``: the reminders that have fired
"""

import contextlib
import time
from datetime import datetime, timedelta, timezone

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from apscheduler.schedulers.asyncio import AsyncIOScheduler


async def tick(state):
    """A coroutine job: runs on the application's event loop."""
    state.ticks += 1


async def remind(state, text):
    state.fired.append({"text": text, "at": datetime.now(timezone.utc).isoformat()})


@contextlib.asynccontextmanager
async def lifespan(app):
    app.state.ticks = 0
    app.state.fired = []
    # Created and started here, inside the running loop: start() takes that loop.
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    scheduler.add_job(tick, "interval", seconds=0.5, args=[app.state], id="tick")
    scheduler.start()
    app.state.scheduler = scheduler
    try:
        yield
    finally:
        scheduler.shutdown()


async def status(request):
    state = request.app.state
    jobs = [
        {"id": job.id, "next_run_time": job.next_run_time.isoformat()}
        for job in state.scheduler.get_jobs()
    ]
    return JSONResponse({"ticks": state.ticks, "jobs": jobs})


async def add_reminder(request):
    body = await request.json()
    state = request.app.state
    run_date = datetime.now(timezone.utc) + timedelta(seconds=float(body["seconds"]))
    job = state.scheduler.add_job(
        remind, "date", run_date=run_date, args=[state, body["text"]]
    )
    return JSONResponse({"id": job.id}, status_code=201)


async def reminders(request):
    return JSONResponse(request.app.state.fired)


app = Starlette(
    routes=[
        Route("/status", status),
        Route("/reminders", add_reminder, methods=["POST"]),
        Route("/reminders", reminders, methods=["GET"]),
    ],
    lifespan=lifespan,
)


def main():
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        added = client.post("/reminders", json={"text": "stretch", "seconds": 1})
        print(f"reminder added: {added.json()['id']}")
        for _ in range(4):
            time.sleep(0.55)
            print(f"status: {client.get('/status').json()['ticks']} ticks")
        print(f"reminders fired: {[r['text'] for r in client.get('/reminders').json()]}")
    # leaving the client ran the lifespan's exit: the scheduler is shut down
    print(f"scheduler running after shutdown: {app.state.scheduler.running}")
    print("Done.")


if __name__ == "__main__":
    main()
