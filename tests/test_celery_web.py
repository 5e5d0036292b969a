"""The web app with a Redis broker: job URLs shared between apps, pages served while the broker is down.

Real Redis (a private server per test) and, where a render must finish, a real
``opendesign worker`` subprocess; two app instances stand for two web processes
(their state is only what the catalogue database and Redis hold).
"""

from __future__ import annotations

import hashlib

import pytest

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from tests.celery_support import RedisServer, Worker, free_port, wait_for, wait_for_workers
from tests.test_celery_workers import NAPPING_MODEL, PARAMETERS, PARTS
from web import create_app


def _app(db, settings):
    return create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                       "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost"})


@pytest.fixture
def napper(db, make_design):
    make_design("napper", model=NAPPING_MODEL, parameters=PARAMETERS, parts=PARTS)
    assert import_designs(db, [make_design.root]).ok
    return "napper"


@pytest.fixture
def apps(request):
    made = []

    def make(db, settings):
        app = _app(db, settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["opendesign.search"].close()


def test_broker_unreachable_pages_serve_and_renders_answer_503(db, settings, napper, apps):
    dead = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    client = apps(db, dead).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/designs/napper").status_code == 200
    r = client.get("/api/v1/designs/napper/render?format=stl&width=31&wait=0")
    assert r.status_code == 503, r.get_data(as_text=True)
    assert "renders are unavailable" in r.json["error"]["message"]
    health = client.get("/healthz").json
    assert health["render"]["status"] == "broker-unreachable" and health["render"]["jobs"]["reachable"] is False


@pytest.mark.slow
def test_a_job_url_from_one_web_app_is_polled_on_another(db, env, napper, apps, tmp_path, monkeypatch):
    broker = RedisServer(tmp_path).start()
    try:
        values = {**env, "OPENDESIGN_BROKER_URL": broker.url, "OPENDESIGN_RENDER_POOL_SIZE": "1",
                  "OPENDESIGN_RENDER_PRELOAD_BUILD123D": "false"}  # CadQuery designs only: a quicker worker start
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()
        first, second = apps(db, settings).test_client(), apps(db, settings).test_client()
        worker = Worker(values, "web", tmp_path)
        try:
            from renderers.celery_dispatch import CeleryDispatcher

            wait_for_workers(CeleryDispatcher(settings), ["web@test"])
            r = first.get("/api/v1/designs/napper/render?format=stl&width=37&nap=1&wait=0")
            assert r.status_code == 202, r.get_data(as_text=True)
            path = r.json["job"].replace("http://localhost", "")
            done = wait_for(lambda: (j := second.get(path).json)["status"] != "pending" and j, 240,
                            "the job to finish, seen by the other app")
            assert done["status"] == "done", done
            assert second.get("/api/v1/jobs/" + "f" * 32).status_code == 404
            assert second.get("/api/v1/jobs/" + "f" * 32).json["error"]["status"] == 404
            # The file the worker made is served by either app.
            again = first.get("/api/v1/designs/napper/render?format=stl&width=37&nap=1")
            assert again.status_code == 200
            assert hashlib.sha256(again.data).hexdigest() == done["files"][0]["sha256"]
        finally:
            worker.stop()
    finally:
        broker.stop()
