"""Plugin discovery through the ``idmaj.plugins`` entry points, disabling, start-up failures,
hook tracing, and the example external package of ``docs/plugins.md`` loaded like an installed
distribution.

Throwaway plugins are "installed" by writing a module and a ``<name>-<version>.dist-info``
folder (METADATA, entry_points.txt) into ``tmp_path`` and putting it first on ``sys.path``:
``importlib.metadata`` finds them exactly as it finds a ``pip install``-ed package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core import migrate, testing
from core.app import create_app
from core.cli import cli
from core.config import LANGUAGES, PROJECT_ROOT
from core.plugins import PluginError, build_plugin_manager, get_plugin_manager, hookimpl
from core.testing import TEST_PASSWORD, Factories, build_migrated_app

EXAMPLE = PROJECT_ROOT / "examples" / "idmaj-example"


def install_distribution(
    root: Path,
    distribution: str,
    version: str,
    entry_points: dict[str, str],
    files: dict[str, str] | None = None,
) -> Path:
    """Write ``files`` (path → text) under ``root`` and a dist-info declaring ``entry_points``
    (entry-point name → ``module`` or ``module:object``) in the ``idmaj.plugins`` group."""
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    info = root / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[idmaj.plugins]\n{lines}", encoding="utf-8")
    return info


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def no_env_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDMAJ_DISABLED_PLUGINS", raising=False)
    monkeypatch.delenv("IDMAJ_TRACE_HOOKS", raising=False)


@pytest.fixture
def hello_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway plugin ``tphello`` installed as the distribution ``idmaj-tp-hello`` 0.1."""
    module = _unique("idmaj_tp_hello")
    install_distribution(
        tmp_path / "site",
        "idmaj-tp-hello",
        "0.1",
        {"tphello": module},
        {
            f"{module}.py": """
            from core.contributions import NavItem
            from core.plugins import hookimpl

            @hookimpl
            def portal_nav_items(user):
                return [NavItem("portal.dashboard", "Hello from tphello", order=99)]
            """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield module
    sys.modules.pop(module, None)


def _cli_output(app: Any, *args: str) -> Any:
    result = app.test_cli_runner().invoke(cli, list(args))
    return result


def test_entry_point_plugin_is_loaded_and_listed(
    hello_distribution: str, db_url: str, tmp_path: Path, no_env_disabled: None
) -> None:
    app = create_app(testing.test_config(db_url, tmp_path))
    try:
        pm = get_plugin_manager(app)
        assert pm.get_plugin("tphello").__name__ == hello_distribution
        result = _cli_output(app, "plugins")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert "tphello\t0.1\tidmaj-tp-hello" in lines
        assert "core\t0.1.0\tidmaj" in lines
        # the plugin's hook really runs in this app
        labels = [str(i.label) for i in pm.collect("portal_nav_items", user=None)]
        assert "Hello from tphello" in labels
    finally:
        app.extensions["idmaj.db"].dispose()


def test_environment_variable_disables_a_plugin(
    hello_distribution: str,
    db_url: str,
    tmp_path: Path,
    no_env_disabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDMAJ_DISABLED_PLUGINS", "someother, tphello")
    app = create_app(testing.test_config(db_url, tmp_path))
    try:
        assert get_plugin_manager(app).get_plugin("tphello") is None
        assert hello_distribution not in sys.modules  # not even imported
        output = _cli_output(app, "plugins").output
        assert "tphello" not in output
        assert "core\t" in output
    finally:
        app.extensions["idmaj.db"].dispose()


def test_config_key_disables_a_plugin(
    hello_distribution: str, db_url: str, tmp_path: Path, no_env_disabled: None
) -> None:
    app = create_app(testing.test_config(db_url, tmp_path, DISABLED_PLUGINS="tphello"))
    try:
        assert "tphello" not in {i.name for i in get_plugin_manager(app).plugin_infos()}
    finally:
        app.extensions["idmaj.db"].dispose()


def test_plugin_that_fails_to_import_stops_start_up(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, no_env_disabled: None
) -> None:
    module = _unique("idmaj_tp_broken")
    install_distribution(
        tmp_path / "site",
        "idmaj-tp-broken",
        "0.2",
        {"tpbroken": module},
        {f"{module}.py": "import idmaj_module_that_does_not_exist  # noqa\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(PluginError) as info:
        create_app(testing.test_config(db_url, tmp_path))
    message = str(info.value)
    assert "'tpbroken'" in message
    assert "failed to import" in message
    assert "idmaj_module_that_does_not_exist" in message
    # ...and disabling it lets the application start
    app = create_app(testing.test_config(db_url, tmp_path, DISABLED_PLUGINS="tpbroken"))
    app.extensions["idmaj.db"].dispose()


def test_plugin_implementing_an_unknown_hook_stops_start_up(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, no_env_disabled: None
) -> None:
    module = _unique("idmaj_tp_typo")
    install_distribution(
        tmp_path / "site",
        "idmaj-tp-typo",
        "0.3",
        {"tptypo": module},
        {
            f"{module}.py": """
            from core.plugins import hookimpl

            @hookimpl
            def portal_nav_item(user):  # typo: the hook is portal_nav_items
                return []
            """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    try:
        with pytest.raises(PluginError) as info:
            create_app(testing.test_config(db_url, tmp_path))
        assert "'tptypo'" in str(info.value)
        assert "portal_nav_item" in str(info.value)
    finally:
        sys.modules.pop(module, None)


def test_unknown_hook_in_a_plugin_object_is_named_too() -> None:
    class Typo:
        @hookimpl
        def release_blocker(self, detainee: Any) -> list[str]:
            return []

    with pytest.raises(PluginError, match=r"'typo-object'(.|\n)*release_blocker"):
        build_plugin_manager([("typo-object", Typo())])


def test_wrong_argument_name_stops_start_up() -> None:
    class Wrong:
        @hookimpl
        def portal_dashboard_widgets(self, viewer: Any) -> list[Any]:  # the argument is `user`
            return []

    with pytest.raises(PluginError, match="'wrong-args'"):
        build_plugin_manager([("wrong-args", Wrong())])


def test_first_distribution_on_sys_path_wins(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, no_env_disabled: None
) -> None:
    first, second = _unique("idmaj_tp_first"), _unique("idmaj_tp_second")
    install_distribution(
        tmp_path / "a",
        "idmaj-tp-same",
        "2.0",
        {"tpsame": first},
        {f"{first}.py": "PLUGIN_NAME = 'tpsame'\n"},
    )
    install_distribution(
        tmp_path / "b",
        "idmaj-tp-same",
        "1.0",
        {"tpsame": second},
        {f"{second}.py": "PLUGIN_NAME = 'tpsame'\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    app = create_app(testing.test_config(db_url, tmp_path))
    try:
        pm = get_plugin_manager(app)
        assert pm.get_plugin("tpsame").__name__ == first
        assert pm.infos["tpsame"].version == "2.0"
    finally:
        app.extensions["idmaj.db"].dispose()
        sys.modules.pop(first, None)


def test_trace_hooks_switch_prints_every_hook_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    class Tracer:
        @hookimpl
        def release_blockers(self, detainee: Any) -> list[str]:
            return ["traced reason"]

    monkeypatch.setenv("IDMAJ_TRACE_HOOKS", "1")
    pm = build_plugin_manager([("tracer", Tracer())])
    pm.hook.release_blockers(detainee="D-1", context=None)
    err = capsys.readouterr().err
    assert "[idmaj hook] release_blockers(detainee='D-1', context=None) -> tracer" in err
    assert "[idmaj hook] release_blockers returned [['traced reason']]" in err

    monkeypatch.setenv("IDMAJ_TRACE_HOOKS", "0")
    quiet = build_plugin_manager([("tracer", Tracer())])
    quiet.hook.release_blockers(detainee="D-1", context=None)
    assert "[idmaj hook]" not in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The example external package (examples/idmaj-example), loaded through its entry point
# --------------------------------------------------------------------------------------------


def compile_catalogs(translations: Path) -> int:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` under ``translations`` (what ``pybabel
    compile`` does when the package is built); returns how many were compiled."""
    count = 0
    for po in translations.glob("*/LC_MESSAGES/*.po"):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
        count += 1
    return count


def stage_example(root: Path) -> Path:
    """Copy the example package to ``root/src``, compile its catalogs, and write the
    dist-info its ``pyproject.toml`` describes. Returns the folder to put on ``sys.path``."""
    src = root / "src"
    shutil.copytree(
        EXAMPLE, src, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.egg-info")
    )
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert compile_catalogs(src / "idmaj_example" / "translations") == len(LANGUAGES)
    install_distribution(
        src,
        project["name"],
        project["version"],
        project["entry-points"]["idmaj.plugins"],
    )
    return src


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app on a database of its own, with the example package found through its entry
    point (imported once per process: its models join the shared metadata)."""
    root = tmp_path_factory.mktemp("example")
    src = stage_example(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(src))
        mp.delenv("IDMAJ_DISABLED_PLUGINS", raising=False)
        database = testing.TestDatabase(root)
        built = build_migrated_app(database.url, root)
        try:
            yield built
        finally:
            built.extensions["idmaj.db"].dispose()
            database.drop()


def _sign_in(app: Any, role: str, establishments: tuple[str, ...] = ("EST-A",)) -> Any:
    with app.app_context():
        user = Factories(app).user(role, establishments)
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302
    return client, user


def test_example_package_is_discovered_with_its_distribution(example_app: Any) -> None:
    info = get_plugin_manager(example_app).infos["example"]
    assert info.distribution == "idmaj-example"
    assert info.version == "0.1.0"
    assert migrate.current(example_app)["example"] == migrate.head(
        example_app, next(b for b in migrate.branches(example_app) if b.name == "example")
    )
    assert migrate.check(example_app) == []  # models and migration agree


def test_example_page_api_nav_and_translations(example_app: Any) -> None:
    from core.security import limiter

    limiter.reset()
    manager, _admin = _sign_in(example_app, "central_admin", ())
    page = manager.get("/example/")
    assert page.status_code == 200
    assert 'href="/example/"' in manager.get("/dashboard").get_data(as_text=True)
    created = manager.post(
        "/example/", data={"name": "Savon", "price": "4.50", "category": "hygiene"}
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:1000]
    listing = manager.get("/example/").get_data(as_text=True)
    assert "Savon" in listing and "4.50" in listing
    french = manager.get("/example/?lang=fr").get_data(as_text=True)
    assert "Catalogue de cantine" in french
    arabic = manager.get("/example/?lang=ar").get_data(as_text=True)
    assert "كتالوج المقصف" in arabic


def test_example_api_endpoints(example_app: Any) -> None:
    from core.security import limiter

    limiter.reset()
    client, clerk = _sign_in(example_app, "registry_clerk")
    admin_client, admin = _sign_in(example_app, "central_admin", ())

    def headers(c: Any, user: Any) -> dict[str, str]:
        resp = c.post(
            "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
        )
        assert resp.status_code == 200
        return {"Authorization": f"Bearer {resp.json['token']}"}

    admin_h = headers(admin_client, admin)
    clerk_h = headers(client, clerk)
    made = admin_client.post(
        "/api/v1/example/items",
        json={"name": "Thé vert", "price": "12.00", "category": "food"},
        headers=admin_h,
    )
    assert made.status_code == 201, made.json
    assert made.json["price"] == "12.00"
    listed = client.get("/api/v1/example/items", headers=clerk_h)
    assert listed.status_code == 200
    assert "Thé vert" in [i["name"] for i in listed.json["items"]]
    # the clerk may read the catalogue but not change it
    denied = client.post(
        "/api/v1/example/items",
        json={"name": "Café", "price": "3.00", "category": "food"},
        headers=clerk_h,
    )
    assert denied.status_code == 403
    assert client.get("/api/v1/example/items").status_code == 401
    bad = admin_client.post(
        "/api/v1/example/items",
        json={"name": "", "price": "-1", "category": "weapons"},
        headers=admin_h,
    )
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) >= {"name", "price", "category"}
    spec = admin_client.get("/api/v1/openapi.json").json
    assert "/example/items" in spec["paths"]


def test_example_sells_through_the_funds_port(example_app: Any) -> None:
    """The example debits a detainee's account through ``funds.accounts``, which the funds
    module provides: no import between the two, one transaction."""
    from core.security import limiter

    limiter.reset()
    with example_app.app_context():
        rn = Factories(example_app).detainee("EST-A").registration_number
    client, accountant = _sign_in(example_app, "accountant")
    token = client.post(
        "/api/v1/auth/token", json={"username": accountant.username, "password": TEST_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    deposit = client.post(
        f"/api/v1/funds/accounts/{rn}/deposits",
        json={"amount": "20.00", "source": "cash"},
        headers=headers,
    )
    assert deposit.status_code == 201, deposit.json
    made = client.post(
        "/api/v1/example/items",
        json={"name": "Dattes (port)", "price": "7.25", "category": "food"},
        headers=headers,
    )
    item = made.json["id"]
    page = client.get("/example/?lang=en").get_data(as_text=True)
    assert 'id="sell"' in page  # shown: a module provides funds.accounts
    sale = {"item": str(item), "quantity": "2", "registration_number": rn}
    assert client.post("/example/sell?lang=en", data=sale).status_code == 302
    assert "14.50 MAD debited from" in client.get("/example/?lang=en").get_data(as_text=True)
    account = client.get(f"/api/v1/funds/accounts/{rn}", headers=headers).json
    assert account["available"] == "5.50"
    movements = client.get(f"/api/v1/funds/accounts/{rn}/transactions", headers=headers).json
    assert movements["items"][0]["type"] == "canteen_purchase"
    assert movements["items"][0]["memo"] == f"2 × Dattes (port) (example-item-{item})"
    # the funds rules hold: not enough money, nothing moves
    refused = client.post("/example/sell?lang=en", data=sale)
    assert refused.status_code == 409
    assert client.get(f"/api/v1/funds/accounts/{rn}", headers=headers).json["available"] == "5.50"


def test_example_contract_roles_and_optional_hooks(example_app: Any) -> None:
    pm = get_plugin_manager(example_app)
    # (packages installed beside the core, like remote purchasing, publish their own too)
    assert {k: v for k, v in pm.published.items() if v == "example"} == {
        "example_item_notes": "example"
    }
    assert not pm.hook.complaints_categories.has_spec()  # no complaints module: ignored
    result = _cli_output(example_app, "plugins", "--verbose")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "example\t0.1.0\tidmaj-example\tcontract >=2,<3\thooks example_item_notes"
        "\troles canteen_clerk"
    ) in lines
    assert "funds\t0.1.0\tidmaj\tcontract >=2,<3\tports funds.accounts" in lines
    assert lines[-1] == "(this core offers plugin contract 2.1)"
    plain = _cli_output(example_app, "plugins").output.splitlines()
    assert "example\t0.1.0\tidmaj-example" in plain  # the documented three columns


def test_plugin_of_another_contract_is_refused_naming_it(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, no_env_disabled: None
) -> None:
    module = _unique("idmaj_tp_future")
    install_distribution(
        tmp_path / "site",
        "idmaj-tp-future",
        "3.0",
        {"tpfuture": module},
        {f"{module}.py": 'IDMAJ_CONTRACT = ">=3,<4"\n'},
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    try:
        with pytest.raises(PluginError) as info:
            create_app(testing.test_config(db_url, tmp_path))
        message = str(info.value)
        assert "'tpfuture'" in message and "'>=3,<4'" in message and "2.1" in message
        app = create_app(testing.test_config(db_url, tmp_path, DISABLED_PLUGINS="tpfuture"))
        app.extensions["idmaj.db"].dispose()
    finally:
        sys.modules.pop(module, None)


def test_example_package_own_tests_pass(tmp_path: Path) -> None:
    """The example's tests run with the shared fixtures (the pytest11 plugin of idmaj), as
    they would in the package's own repository after ``pip install idmaj idmaj-example``."""
    src = stage_example(tmp_path)
    env_path = str(src)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=src,
        env={**_clean_env(), "PYTHONPATH": env_path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def _clean_env() -> dict[str, str]:
    import os

    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "IDMAJ_DISABLED", "IDMAJ_TRACE"))
    }
