"""The real thing: a local Label Studio server takes govtag's tasks and label config, annotations are
posted through its API, its export goes back through `govtag annotate import`.

Runs only where Label Studio is installed: on PATH as ``label-studio`` or named by ``LABEL_STUDIO``
(its own virtual environment is best: ``python -m venv ls && ls/bin/pip install label-studio``). The
server listens on 127.0.0.1 only.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from govtag.annotate import export_tasks, import_annotations
from govtag.data import load_records
from tests.conftest import ROOT

LABEL_STUDIO = os.environ.get("LABEL_STUDIO") or shutil.which("label-studio")
pytestmark = [pytest.mark.labelstudio, pytest.mark.skipif(
    not LABEL_STUDIO, reason="Label Studio is not installed (pip install label-studio, or set LABEL_STUDIO "
                             "to its executable); the round trip against its documented export runs anyway")]
TOKEN = "govtag0test0token0000000000000000000000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("label-studio")
    env = {**os.environ, "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
    proc = subprocess.Popen([LABEL_STUDIO, "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port),
                             "--data-dir", str(data_dir), "--username", "analyst@example.com", "--password",
                             "govtag-test-pw", "--user-token", TOKEN, "--enable-legacy-api-token", "--agree-fix-sqlite"],
                            stdout=open(data_dir / "server.log", "w"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            _api(base, "GET", "/api/projects")
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail("label-studio exited: " + (data_dir / "server.log").read_text()[-2000:])
            time.sleep(2)
    else:
        proc.terminate()
        pytest.fail("label-studio did not answer within 240 s")
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def test_tasks_and_config_round_trip_through_a_real_server(server, tmp_path, tfidf_model, schema):
    started = time.perf_counter()
    tasks_path = tmp_path / "tasks.json"
    export_tasks([str(ROOT / "data" / "reports" / "pingyang-keji-2022.txt")], tfidf_model, tasks_path, top=6)
    config = (tmp_path / "label_config.xml").read_text(encoding="utf-8")
    project = _api(server, "POST", "/api/projects", {"title": "govtag round trip", "label_config": config})
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    _api(server, "POST", f"/api/projects/{project['id']}/import", tasks)
    stored = _api(server, "GET", f"/api/tasks?project={project['id']}&page_size=100")
    stored = stored["tasks"] if isinstance(stored, dict) else stored
    assert len(stored) == 6
    want = {}
    for k, task in enumerate(sorted(stored, key=lambda t: t["id"])[:4]):
        area, types = schema.areas[k], [schema.types[k % 3]] if k else []
        want[task["data"]["text"]] = (area, types)
        result = [{"from_name": "area", "to_name": "text", "type": "choices", "value": {"choices": [area]}}]
        if types:
            result.append({"from_name": "types", "to_name": "text", "type": "choices", "value": {"choices": types}})
        _api(server, "POST", f"/api/tasks/{task['id']}/annotations", {"result": result, "was_cancelled": False})
    skipped = sorted(stored, key=lambda t: t["id"])[4]  # the annotator pressed Skip on the fifth
    _api(server, "POST", f"/api/tasks/{skipped['id']}/annotations", {"result": [], "was_cancelled": True})
    exported = _api(server, "GET", f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true")
    export_path = tmp_path / "export.json"
    export_path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    done = import_annotations(export_path, tmp_path / "mine.jsonl")
    records = load_records(tmp_path / "mine.jsonl", schema)
    assert done["records"] == 4 and done["skipped"] == 2
    assert {r["text"]: (r["area"], r["types"]) for r in records} == want
    print(f"Label Studio round trip: {time.perf_counter() - started:.1f} s after the server was up")
