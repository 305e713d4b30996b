"""The operator's `alembic` says which database it migrates and never a stray SQLite file."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from db.engine import make_engine
from tests.db.helpers import run_alembic


def test_it_names_the_database_it_migrates_with_the_password_hidden(
    database_url_factory, project_root
):
    url = database_url_factory("postgresql")
    password = make_url(url).password
    assert password

    done = run_alembic(url, project_root, "upgrade", "head")

    assert done.returncode == 0, done.stderr
    hidden = make_url(url).render_as_string(hide_password=True)
    assert f"alembic: database at DATABASE_URL={hidden}\n" in done.stderr
    assert f":{password}@" not in done.stderr + done.stdout


def test_without_database_url_outside_the_project_it_refuses_and_creates_nothing(
    tmp_path, project_root
):
    done = run_alembic(None, tmp_path, "upgrade", "head", config=project_root / "alembic.ini")

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == (
        f"alembic: DATABASE_URL is not set: refusing to migrate the default SQLite file "
        f"{tmp_path.resolve() / 'stockstreamer.db'} outside the project directory "
        f"{project_root.resolve()}; set DATABASE_URL (or run from the project directory "
        "to use its default file)"
    )
    assert list(tmp_path.iterdir()) == []


def test_without_database_url_in_the_project_it_says_it_uses_the_default_file(project_root):
    # --sql (offline, the first revision): the SQL is printed, the project's own file left alone.
    done = run_alembic(None, project_root, "upgrade", "base:0001", "--sql")

    assert done.returncode == 0, done.stderr
    default = project_root.resolve() / "stockstreamer.db"
    message = f"alembic: DATABASE_URL is not set: database at the default SQLite file {default}"
    assert message in done.stderr.splitlines()
    assert "CREATE TABLE stocks" in done.stdout


def test_a_database_error_is_one_line_naming_its_cause(database_url_factory, project_root):
    url = make_url(database_url_factory("postgresql"))
    missing = url.set(database=f"{url.database}_missing").render_as_string(hide_password=False)

    done = run_alembic(missing, project_root, "upgrade", "head")

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f'alembic: stopped: database "{url.database}_missing" does not exist'
    )
    assert "Traceback" not in done.stderr
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
