"""The package as a separate distribution: installed into a fresh virtualenv beside the core,
upgraded, then removed — and the core (with its own modules) still starts and passes its smoke
tests without it.

The fresh virtualenv gets the locked third-party packages of the running one (linked, so the
test needs no network) and the core exactly as ``make venv`` installs it (its editable
install's files); this package is built from a copy of its folder and installed with pip, as
an operator would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import idmaj_purchasing

from core.config import PROJECT_ROOT

PACKAGE_DIR = Path(idmaj_purchasing.__file__).resolve().parents[1]


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert result.returncode == 0, (cmd, result.stdout[-3000:], result.stderr[-3000:])
    return result


def _fresh_venv(root: Path) -> Path:
    site = Path(sysconfig.get_paths()["purelib"])
    deps = root / "deps"
    deps.mkdir()
    core_files = []
    for entry in site.iterdir():
        name = entry.name
        if "purchasing" in name:
            continue  # this package: to be installed by the test
        if name.startswith(("idmaj-", "__editable__.idmaj-", "__editable___idmaj_0")):
            core_files.append(entry)  # the core, as make venv installed it
        elif not name.endswith(".pth") and name != "__pycache__":
            (deps / name).symlink_to(entry)
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (fresh_site / "_locked_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    for entry in core_files:
        target = fresh_site / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target)
        else:
            shutil.copy2(entry, target)
    return python


def _env(database: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PYTEST_", "IDMAJ_DISABLED", "IDMAJ_TRACE", "VIRTUAL_ENV", "PYTHONPATH")
        )
    }
    env["IDMAJ_DATABASE_URL"] = f"sqlite:///{database}"
    return env


def test_installed_upgraded_and_removed_beside_the_core(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path)
    idmaj = [str(python), "-c", "from core.cli import main; main()"]
    env = _env(tmp_path / "idmaj.db")
    listed = _run([*idmaj, "plugins"], env=env, cwd=tmp_path).stdout
    assert "visits" in listed and "purchasing" not in listed
    # install: built from a copy of the folder, as a wheel, with pip
    source = tmp_path / "src"
    shutil.copytree(
        PACKAGE_DIR,
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "tests"),
    )
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    pip += ["--no-index", "--disable-pip-version-check"]
    _run([*pip, str(source)], env=env, cwd=tmp_path)
    listed = _run([*idmaj, "plugins"], env=env, cwd=tmp_path).stdout
    assert re.search(r"purchasing\s+0\.1\.0\s+idmaj-purchasing", listed), listed
    upgraded = _run([*idmaj, "db", "upgrade"], env=env, cwd=tmp_path).stdout
    assert "purchasing: 0001_purchasing" in upgraded
    # upgrade: a new release of the distribution replaces the old one
    project = source / "pyproject.toml"
    project.write_text(
        project.read_text(encoding="utf-8").replace('version = "0.1.0"', 'version = "0.1.1"'),
        encoding="utf-8",
    )
    init = source / "idmaj_purchasing" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8").replace('__version__ = "0.1.0"', '__version__ = "0.1.1"'),
        encoding="utf-8",
    )
    _run([*pip, "--upgrade", str(source)], env=env, cwd=tmp_path)
    listed = _run([*idmaj, "plugins"], env=env, cwd=tmp_path).stdout
    assert re.search(r"purchasing\s+0\.1\.1\s+idmaj-purchasing", listed), listed
    assert (
        "purchasing: 0001_purchasing"
        in _run([*idmaj, "db", "upgrade"], env=env, cwd=tmp_path).stdout
    )
    # remove it: the core and its modules start without it, its tables stay untouched
    _run(
        [str(python), "-m", "pip", "uninstall", "--yes", "idmaj-purchasing"], env=env, cwd=tmp_path
    )
    listed = _run([*idmaj, "plugins"], env=env, cwd=tmp_path).stdout
    assert "purchasing" not in listed and "funds" in listed
    _run([*idmaj, "db", "upgrade"], env=env, cwd=tmp_path)
    smoke = _run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_smoke.py",
            "tests/test_plugin_matrix.py",
        ],
        env=_env(tmp_path / "unused.db"),
        cwd=PROJECT_ROOT,
    )
    assert " passed" in smoke.stdout and "failed" not in smoke.stdout
    assert sys.executable != str(python)
