"""Resolving a config's encoder value (default, local directory, hub name) and the cache home it lives in."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from govtag.encoders import default_encoder_dir, ensure_base_encoder, resolve_encoder
from govtag.encoders import resolve as resolve_module
from govtag.encoders.build import NEEDED_FILES
from govtag.errors import GovtagError
from govtag.home import govtag_home


def test_tests_never_write_to_the_users_cache(isolated_govtag_home, tmp_path_factory):
    assert govtag_home() == isolated_govtag_home
    assert tmp_path_factory.getbasetemp() in govtag_home().parents
    assert default_encoder_dir().is_relative_to(isolated_govtag_home)


def test_home_defaults_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GOVTAG_HOME")
    assert govtag_home() == tmp_path / ".cache" / "govtag"
    monkeypatch.setenv("GOVTAG_HOME", "")  # set but empty counts as unset
    assert govtag_home() == tmp_path / ".cache" / "govtag"
    monkeypatch.setenv("GOVTAG_HOME", "~/shared-cache")
    assert govtag_home() == tmp_path / "shared-cache"
    assert default_encoder_dir() == tmp_path / "shared-cache" / "base" / "e5-small-zh"


def test_default_encoder_is_built_once_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVTAG_HOME", str(tmp_path))
    calls, messages = [], []

    def fake_build(out, progress):
        calls.append(out)
        out.mkdir(parents=True, exist_ok=True)
        for name in NEEDED_FILES:
            (out / name).write_text("{}")
        return out

    monkeypatch.setattr(resolve_module, "build_base_encoder", fake_build)
    default_encoder_dir().mkdir(parents=True)
    (default_encoder_dir() / "config.json").write_text("{}")  # an interrupted copy is not an encoder
    assert resolve_encoder("default", progress=messages.append) == str(default_encoder_dir())
    assert resolve_encoder("default", progress=messages.append) == str(default_encoder_dir())
    assert len(calls) == 1 and "building" in messages[0] and len(messages) == 1
    assert ensure_base_encoder(progress=messages.append) == default_encoder_dir() and len(calls) == 1


def test_local_directory_and_bad_paths(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_encoder(str(tmp_path)) == str(tmp_path)
    with pytest.raises(GovtagError, match="no config.json"):
        resolve_encoder(str(tmp_path.parent))
    with pytest.raises(GovtagError, match="does not exist"):
        resolve_encoder(str(tmp_path / "missing" / "model"))


def test_unreachable_hub_name_says_to_use_a_local_path(monkeypatch):
    import transformers

    def offline(name, *args, **kwargs):
        raise OSError(f"We couldn't connect to 'https://huggingface.co' to load {name}")

    def no_network(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", offline)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(GovtagError, match="hfl/chinese-roberta-wwm-ext.*local directory path") as err:
        resolve_encoder("hfl/chinese-roberta-wwm-ext")
    assert "\n" not in str(err.value) and str(err.value).endswith(".")


def test_cached_hub_name_is_used_as_is(monkeypatch):
    import transformers

    def cached_only(name, local_files_only=False, **kwargs):
        if not local_files_only:
            raise AssertionError("a cached model must not touch the network")
        return transformers.BertConfig()

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", cached_only)
    assert resolve_encoder("bert-base-chinese") == "bert-base-chinese"


def test_relative_paths_are_not_taken_for_hub_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "zh").mkdir(parents=True)
    (tmp_path / "models" / "zh" / "config.json").write_text("{}")
    assert resolve_encoder("models/zh") == "models/zh"
    with pytest.raises(GovtagError, match="does not exist"):
        resolve_encoder("./models/missing")
    assert Path("models/zh").is_dir()


def test_a_cache_built_from_an_older_vocabulary_list_is_rebuilt(tmp_path):
    import json

    from govtag.encoders.build import CARD_FILE, NEEDED_FILES, is_built, pruning_corpus_version

    for name in NEEDED_FILES:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    card = tmp_path / CARD_FILE
    card.write_text(json.dumps({"pruning": {"corpus_version": pruning_corpus_version()}}), encoding="utf-8")
    assert is_built(tmp_path)
    card.write_text(json.dumps({"pruning": {"corpus_version": "0123456789ab"}}), encoding="utf-8")
    assert not is_built(tmp_path)  # ensure_base_encoder builds it again, replacing the old one
