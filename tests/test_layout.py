"""The shape design.md promises: nothing outside emulator/providers/ names a provider (the
registry is the one list), the core imports no web framework and no provider, and the public API is what __all__
says. Modules hold one concept whatever their length (design.md): no line cap."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

import emulator
from emulator.providers import REGISTRY

PACKAGE = Path(emulator.__file__).parent
OUTSIDE = sorted(
    p
    for p in PACKAGE.rglob("*")
    if p.suffix in (".py", ".js", ".html", ".css")
    and "providers" not in p.relative_to(PACKAGE).parts
)


def _names() -> list[str]:
    words = [w for p in REGISTRY for w in (p.name, p.title, *p.hosts)]
    return sorted(set(words), key=len, reverse=True)


def _mentions(
    text: str, flags: re.RegexFlag = re.IGNORECASE, words: list[str] | None = None
) -> list[str]:
    return [
        w
        for w in (words or _names())
        if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", text, flags)
    ]


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_outside_the_providers_names_one(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                inside = node.module.split(".")[1:2] if "providers" in node.module else []
                assert not set(inside) & set(REGISTRY.names()), (
                    f"{path.name} imports a provider package: {node.module}"
                )
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        # Identifiers as spelled (typing's Generic is not the provider); strings and comments
        # in any case: a provider's name, title or host.
        names = " ".join(t.string for t in tokens if t.type == tokenize.NAME)
        found = _mentions(names, re.NOFLAG, list(REGISTRY.names()))
        text = "\n".join(t.string for t in tokens if t.type in (tokenize.STRING, tokenize.COMMENT))
        found += _mentions(text)
        assert not found, f"{path.relative_to(PACKAGE)} names {found}; read it from REGISTRY"
        return
    found = _mentions(text)
    assert not found, f"{path.relative_to(PACKAGE)} names {found}; read it from REGISTRY"


def test_the_core_imports_no_web_framework_and_no_provider() -> None:
    for path in (PACKAGE / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                level = getattr(node, "level", 0)
                for name in names:
                    assert not name.startswith(("starlette", "uvicorn")), (path.name, name)
                    if level >= 2:  # relative, out of core/
                        assert not name.startswith(("providers", "http", "control", "ui")), (
                            path.name,
                            name,
                        )


def test_each_provider_parses_requests_in_one_pure_module() -> None:
    """Request parsing and validation live in the provider's parse.py, which neither awaits nor
    renders; nothing else of the provider builds request models (provider.py's config section
    aside)."""
    for package in sorted(
        p for p in (PACKAGE / "providers").iterdir() if (p / "provider.py").exists()
    ):
        parse = package / "parse.py"
        assert parse.is_file(), f"{package.name} has no parse.py"
        tree = ast.parse(parse.read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef | ast.Await)]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module not in ("payloads", "routes"), (package.name, node.module)
            if isinstance(node, ast.ImportFrom) and node.level == 3:
                assert node.module != "core.emulator", (package.name, "parse needs no emulator")
        for path in package.glob("*.py"):
            if path.name not in ("parse.py", "provider.py"):
                assert "pydantic" not in path.read_text(encoding="utf-8"), (package.name, path.name)


def test_the_public_api_is_what_all_says() -> None:
    assert emulator.__all__ == sorted(emulator.__all__)
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None
    public = {n for n in vars(emulator) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(emulator, n)).__name__ == "module"}
    assert public - modules == set(emulator.__all__)
    version = re.search(
        r'^version = "(.+)"', (PACKAGE.parent / "pyproject.toml").read_text(), re.MULTILINE
    )
    assert version is not None and emulator.__version__ == version.group(1)


def test_the_tests_never_import_the_benchmarks() -> None:
    """bench/ measures; the suite stands on its own (a benchmark's change never breaks a test)."""
    tests = Path(__file__).parent
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] == "bench"], path.relative_to(tests)
