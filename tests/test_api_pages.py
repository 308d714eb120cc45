"""The pages: every word in both languages, pages render in zh and en, errors are pages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.web_fixtures import login, service

API = Path(__file__).resolve().parents[1] / "api"


def test_every_page_word_exists_in_chinese_and_english() -> None:
    texts = tomllib.loads((API / "texts.toml").read_text(encoding="utf-8"))
    used: set[str] = set()
    for template in (API / "templates").glob("*.html"):
        words = re.findall(r"t\('([a-z0-9_]+)'", template.read_text(encoding="utf-8"))
        used |= {w for w in words if not w.endswith("_")}  # t('state_' + …): listed below
    dynamic = {f"role_{r}" for r in ("inspector", "institution", "admin")}
    dynamic |= {f"state_{s}" for s in ("queued", "running", "done", "failed")}
    dynamic |= {"verdict_pass", "verdict_fail", "severity_error", "severity_warning"}
    dynamic |= {"roll1", "roll2", "lesson", "login_required", "bad_login", "csrf_failed"}
    for lang in ("zh", "en"):
        missing = (used | dynamic) - set(texts[lang])
        assert not missing, f"{lang} lacks {sorted(missing)}"
    assert set(texts["zh"]) == set(texts["en"])


def test_pages_render_in_both_languages(tmp_path: Path) -> None:
    with service(tmp_path / "data") as client:
        login(client, "inspector")
        zh = client.get("/classes")
        assert "上传班级文件夹" in zh.text and 'lang="zh-CN"' in zh.text
        en = client.get("/classes?lang=en")
        assert "Upload a class folder" in en.text and 'lang="en"' in en.text
        # The choice sticks (cookie) for the next page.
        assert "Evidence" in client.get("/evidence").text
        missing = client.get("/classes/999")
        assert missing.status_code == 404 and "<html" in missing.text
        api_missing = client.get("/api/classes/999")
        assert api_missing.status_code == 404 and "detail" in api_missing.json()
        assert client.get("/static/app.js").status_code == 200
        # The API docs work on an intranet with no internet: Swagger UI is served from here.
        docs = client.get("/docs")
        assert docs.status_code == 200 and "cdn" not in docs.text.lower()
        assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
        assert "/api/classes" in client.get("/openapi.json").json()["paths"]
        client.cookies.clear()


def test_users_are_added_from_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from video_audit.cli import main

    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]

    def add(*args: str, password: str = "long enough pw") -> tuple[int, str]:
        res = runner.invoke(
            main, ["users", "add", *args, "--password-stdin", *data], input=password + "\n"
        )
        return res.exit_code, res.output

    assert add("王检查", "--role", "inspector")[0] == 0
    code, out = add("王检查", "--role", "inspector")
    assert code == 2 and "already exists" in out
    code, out = add("机构", "--role", "institution")
    assert code == 2 and "--institution" in out
    code, out = add("短", "--role", "admin", password="short")
    assert code == 2 and "8" in out
    assert add("机构", "--role", "institution", "--institution", "某培训学校")[0] == 0
    listed = runner.invoke(main, ["users", "list", *data]).output
    assert "王检查\tinspector" in listed and "机构\tinstitution\t某培训学校" in listed
    with service(tmp_path / "data") as client:
        # The service logs in with the password the command stored (argon2).
        assert (
            client.post(
                "/api/token", json={"name": "王检查", "password": "long enough pw"}
            ).status_code
            == 200
        )


def test_every_route_is_in_the_docs() -> None:
    from fastapi.routing import APIRoute

    from api.app import create_app

    page = (API.parent / "docs" / "web.md").read_text(encoding="utf-8")

    def routes(items: list) -> list[APIRoute]:
        found = []
        for item in items:
            if isinstance(item, APIRoute):
                found.append(item)
            elif hasattr(item, "original_router"):
                found += routes(item.original_router.routes)
        return found

    for route in routes(create_app().routes):
        for method in (route.methods or set()) - {"HEAD"}:
            assert f"| {method} | `{route.path}` |" in page, f"{method} {route.path} not in web.md"
