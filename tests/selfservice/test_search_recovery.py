"""A damaged or missing search index never breaks search: it is noticed, rebuilt in the background, and
searches are answered from the database meanwhile."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import current_app

import app.selfservice.search as search_module
from app.selfservice.search import get_index


@pytest.fixture(autouse=True)
def look_at_the_index_on_every_search(monkeypatch):
    """A process looks at the index files again at most every ``CATCH_UP_SECONDS`` (it keeps them in memory);
    these tests damage the files and search at once, as if that time had passed."""
    monkeypatch.setattr(search_module, "CATCH_UP_SECONDS", 0.0)

REBUILD_TIMEOUT = 20.0

# Searches once (which maps the segment files when Whoosh uses mmap), waits while the test corrupts the
# index in place, searches again and prints the slugs found.
CHILD_SCRIPT = """
import json, sys
from app import create_app
from app.selfservice.search import get_index

app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    index = get_index()
    before = [hit.slug for hit in index.search("passerkort").hits]
    print("ready", flush=True)
    sys.stdin.readline()
    after = [hit.slug for hit in index.search("passerkort").hits]
    index.wait_for_rebuild(20)
    print(json.dumps({"before": before, "after": after}), flush=True)
"""


def _index_path() -> Path:
    return Path(current_app.config["LOTSEN_SEARCH_INDEX_PATH"])


def _env(app) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "LOTSEN_ENV": "testing",
        "LOTSEN_INSTANCE_PATH": app.instance_path,
        "LOTSEN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LOTSEN_SECRET_KEY": "test-secret-key",
        "LOTSEN_EMBEDDING_MODEL": app.config["LOTSEN_EMBEDDING_MODEL"],
    })
    return env


def test_deleted_index_folder_answers_from_the_database_and_is_rebuilt(client, create_user, auth, corpus, caplog):
    create_user("karin")
    auth.login("karin")
    assert "Passerkort" in client.get("/search?q=passerkort").get_data(as_text=True)
    index = get_index()
    shutil.rmtree(_index_path())

    with caplog.at_level(logging.WARNING, logger="app.selfservice.search"):
        first = client.get("/search?q=PASSERKORTET")  # case and inflection as a person types them
        second = client.get("/search/live?q=lösenord")
    assert first.status_code == 200 and "Passerkort" in first.get_data(as_text=True)
    assert second.status_code == 200 and "Glömt lösenordet" in second.get_data(as_text=True)
    assert len([r for r in caplog.records if "answering from the database" in r.getMessage()]) == 1

    assert index.wait_for_rebuild(REBUILD_TIMEOUT)
    assert (_index_path() / "lotsen-meta.json").exists()
    # typo tolerance comes from the index only, so this proves searches use it again
    assert "passerkort" in [hit.slug for hit in index.search("pasrekort").hits]


def test_database_fallback_folds_case_and_ranks_title_hits_first(corpus, create_article):
    create_article("Nycklar till förrådet", "Hämta nyckeln i receptionen. Passerkort behövs inte.", "facilities")
    index = get_index()
    index.catch_up(force=True)
    index.close()
    shutil.rmtree(_index_path())
    result = index.search("PASSERKORT", function="facilities")
    assert [hit.slug for hit in result.hits] == ["passerkort", "nycklar-till-forradet"]
    assert result.total == 2 and result.hits[0].score > result.hits[1].score
    assert "passerkort" in result.stems
    assert [hit.slug for hit in index.search("lönespecifikationen").hits] == ["din-lonespecifikation"]
    assert "utkast-om-skrivare" not in [hit.slug for hit in index.search("skrivare").hits]  # drafts stay out
    assert [hit.slug for hit in index.search("payslip", lang="en").hits] == ["your-payslip"]
    assert index.wait_for_rebuild(REBUILD_TIMEOUT)


def test_corrupt_segment_in_place_does_not_kill_a_searching_process(app, corpus):
    config = {"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": app.instance_path,
              "LOTSEN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "LOTSEN_SECRET_KEY": "test-secret-key"}
    child = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT, json.dumps(config)], cwd=Path(__file__).parents[2],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        segments = list(_index_path().glob("*.seg"))
        assert segments
        for segment in segments:  # in place: same file, so a mapping of it now reaches past its end
            with segment.open("r+b") as fh:
                fh.truncate(16)
        out, err = child.communicate("go\n", timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, f"child ended with {child.returncode}: {err[-2000:]}"
    found = json.loads(out.strip().splitlines()[-1])
    assert "passerkort" in found["before"] and "passerkort" in found["after"]
    # this process notices the damage too (or the child's rebuild), and comes back to a working index
    index = get_index()
    assert "passerkort" in [hit.slug for hit in index.search("passerkort").hits]
    assert index.wait_for_rebuild(REBUILD_TIMEOUT)
    index.catch_up(force=True)
    assert "passerkort" in [hit.slug for hit in index.search("pasrekort").hits]


def test_concurrent_reindex_commands_both_finish(app, corpus):
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "search", "reindex"],
                                  cwd=Path(__file__).parents[2], env=_env(app), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=60) for p in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err[-2000:]
        assert "indexed 9 published articles" in out
    beside = sorted(p.name for p in _index_path().parent.iterdir() if p.name.startswith(_index_path().name))
    assert beside == ["search-index", "search-index.lock"]  # no temporary folders left behind
    index = get_index()
    index.catch_up(force=True)
    assert "passerkort" in [hit.slug for hit in index.search("pasrekort").hits]
