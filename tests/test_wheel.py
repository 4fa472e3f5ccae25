"""The installed wheel works on its own: built from the checkout, installed into a fresh virtual
environment (reusing the dependencies already installed in .venv), and run from another directory."""

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, capture_output=True, text=True)
    (wheel,) = dist.glob("govtag-*.whl")
    env_dir = base / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True, text=True)
    # A plain path line in a .pth adds the dependencies but runs no .pth inside them, so the checkout's
    # editable install (a .pth hook in .venv) cannot leak into this environment.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return env_dir, wheel


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(env_dir / "bin" / "govtag"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_ships_the_schema_and_runs_from_another_directory(wheel_env, tmp_path):
    env_dir, wheel = wheel_env
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "govtag/schema.yaml" in names and "govtag/encoders/pruning_corpus.json" in names
    assert not any(n.startswith("model/") for n in names)
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import govtag; print(govtag.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in where, where  # the wheel's copy, not the checkout's

    assert _run(env_dir, tmp_path, "--help").returncode == 0

    report = tmp_path / "report.txt"
    report.write_text("一、2022年工作总结\n全年新增高新技术企业35家。\n二、2023年工作思路\n加快建设科创平台。\n",
                      encoding="gb18030")
    seg = _run(env_dir, tmp_path, "segment", "report.txt")
    assert seg.returncode == 0, seg.stderr
    rows = [json.loads(line) for line in seg.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["一、2022年工作总结", "全年新增高新技术企业35家。",
                                         "二、2023年工作思路", "加快建设科创平台。"]
    assert rows[3]["section"] == ["二、2023年工作思路"]

    data = tmp_path / "seed.jsonl"
    data.write_text((ROOT / "data" / "seed.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    stats = _run(env_dir, tmp_path, "data", "stats", "seed.jsonl")
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.startswith("87 sentences in 1 reports")
    assert "乡村振兴" in stats.stdout
