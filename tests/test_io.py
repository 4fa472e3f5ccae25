"""Output safety: output paths refused before any work, atomic files that follow the umask and clean
up on every interrupt, a full disk named in one sentence, CSV cells that cannot run as formulas."""

import errno
import os
import stat

import pytest

import govtag.io
from govtag.cli import Terminated
from govtag.errors import GovtagError
from govtag.io import atomic_directory, atomic_write, check_output_dir, check_output_file, csv_safe, os_error_message

HYPERLINK = '=HYPERLINK("http://x","点")'


def hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_check_output_file_accepts_a_new_file_and_creates_nothing(tmp_path):
    target = tmp_path / "new" / "deeper" / "乡村振兴.csv"
    assert check_output_file(target) == target
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d / "folder", "is a folder"),
    (lambda d: d / "plain.txt" / "out.csv", "is a file, not a folder"),
    (lambda d: d / "plain.txt" / "missing" / "out.csv", "is a file, not a folder"),
])
def test_check_output_file_refuses_what_cannot_be_written(tmp_path, make, fragment):
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain.txt").write_text("用户的文件", encoding="utf-8")
    target = make(tmp_path)
    with pytest.raises(GovtagError, match=fragment) as info:
        check_output_file(target)
    assert str(target) in str(info.value)
    assert (tmp_path / "plain.txt").read_text(encoding="utf-8") == "用户的文件"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_check_output_file_refuses_a_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        for target in (locked / "out.csv", locked / "missing" / "out.csv"):
            with pytest.raises(GovtagError, match="permission denied"):
                check_output_file(target)
    finally:
        locked.chmod(0o755)


def test_unwritable_folder_is_named_with_permission_denied(tmp_path, monkeypatch):
    # the same check as above where the tests run as root, who bypasses folder permissions
    monkeypatch.setattr(govtag.io.os, "access", lambda path, mode: False)
    target = tmp_path / "missing" / "out.jsonl"
    with pytest.raises(GovtagError, match=f"{target}: permission denied: cannot write in {tmp_path}"):
        check_output_file(target)
    with pytest.raises(GovtagError, match="permission denied"):
        check_output_dir(tmp_path / "model", lambda p: True)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_follows_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        with atomic_write(tmp_path / "tags.jsonl") as f:
            f.write('{"text": "新增高企35家。"}\n')
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "tags.jsonl").stat().st_mode) == mode


def test_full_disk_names_the_file_and_leaves_nothing(tmp_path, full_disk):
    (tmp_path / "tags.jsonl").write_text("the previous run\n", encoding="utf-8")
    with pytest.raises(GovtagError, match=f"^{tmp_path / 'tags.jsonl'}: no space left on device"):
        with atomic_write(tmp_path / "tags.jsonl") as f:
            f.write("全年新增高企35家。\n")
    assert hidden(tmp_path) == []
    assert (tmp_path / "tags.jsonl").read_text(encoding="utf-8") == "the previous run\n"


def test_sigterm_cleans_up_files_and_folders_like_ctrl_c(tmp_path):
    with pytest.raises(Terminated):
        with atomic_write(tmp_path / "tags.csv") as f:
            f.write("半个文件")
            raise Terminated
    with pytest.raises(Terminated):
        with atomic_directory(tmp_path / "model", lambda p: True) as folder:
            (folder / "config.json").write_text("{}", encoding="utf-8")
            raise Terminated
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc, message", [
    (PermissionError(errno.EACCES, "Permission denied", "out/乡村振兴.csv"), "out/乡村振兴.csv: permission denied"),
    (OSError(errno.ENOSPC, "No space left on device"), "out.csv: no space left on device"),
    (OSError(errno.ENOENT, "No such file or directory", "a.txt"), "a.txt: no such file or directory"),
])
def test_os_error_message(exc, message):
    assert os_error_message(exc, "out.csv") == message


@pytest.mark.parametrize("cell", [HYPERLINK, "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1"])
def test_csv_safe_neutralises_formula_starts(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["全年新增高企35家。", "(一)抓指标。", "", "a=b", 0.5, -0.5, 3, True])
def test_csv_safe_keeps_text_and_numbers(cell):
    assert csv_safe(cell) is cell
