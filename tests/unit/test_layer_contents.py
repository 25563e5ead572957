"""The Lambda layer holds only what Lambda runs: no local stack, no CLI, nothing it does not install."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "couponmint"
PACKAGE = LAYER / "couponmint"
# What the layer's requirements.txt installs, plus what the Lambda Python runtime brings (boto3, botocore).
RUNTIME_PACKAGES = {
    "aws_lambda_powertools",
    "aws_croniter",
    "pydantic",
    "pydantic_settings",
    "tzdata",
    "boto3",
    "botocore",
    "couponmint",
}


def layer_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported_top_level_names(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layer_has_no_developer_tools() -> None:
    # Given the layer's package folder
    entries = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*") if "__pycache__" not in path.parts}
    # Then neither the local stack, the CLI nor its HTTP client is in it
    assert not {e for e in entries if e.split("/")[0] in ("local", "cli.py", "client.py")}
    # And the layer folder holds only the package and its requirements (and, on a developer's machine, the
    # metadata `pip install -e .` writes beside the package, which git ignores)
    kept = {p.name for p in LAYER.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info")}
    assert kept == {"couponmint", "requirements.txt"}


def test_layer_imports_only_what_lambda_has() -> None:
    # Given every module of the layer
    modules = layer_modules()
    assert len(modules) > 20
    # When their imports are read
    foreign = {
        f"{module.relative_to(PACKAGE)}: {name}"
        for module in modules
        for name in imported_top_level_names(module)
        if name not in RUNTIME_PACKAGES and name not in sys.stdlib_module_names
    }
    # Then each is the standard library, the layer's requirements, boto3 or the package itself
    assert foreign == set()


def test_layer_requirements_name_every_installed_package() -> None:
    # Given the layer's requirements
    lines = [line.split("==")[0].split("[")[0] for line in (LAYER / "requirements.txt").read_text().splitlines()]
    required = {line.strip().replace("-", "_") for line in lines if line.strip() and not line.startswith("#")}
    # Then the packages the layer imports (beyond the runtime's boto3) are exactly those it installs
    assert required == RUNTIME_PACKAGES - {"boto3", "botocore", "couponmint"}
