"""The dependency-direction check accepts the workspace and rejects a forbidden edge."""
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPCHECK = ROOT / "scripts" / "depcheck.py"


def copy_workspace(dst):
    """Copies the manifests and sources (enough for `cargo metadata`), not build output."""
    shutil.copy(ROOT / "Cargo.toml", dst / "Cargo.toml")
    shutil.copytree(ROOT / "crates", dst / "crates", ignore=shutil.ignore_patterns("target"))


def run(manifest):
    return subprocess.run(
        [sys.executable, str(DEPCHECK), "--manifest-path", str(manifest)],
        capture_output=True,
        text=True,
    )


def test_workspace_passes(tmp_path):
    copy_workspace(tmp_path)
    r = run(tmp_path / "Cargo.toml")
    assert r.returncode == 0, r.stderr
    assert "depcheck: ok" in r.stdout


def add_dependency(manifest, line, section="[dependencies]"):
    text = manifest.read_text()
    assert section in text, f"{manifest} has no {section}"
    manifest.write_text(text.replace(section, f"{section}\n{line}", 1))


def test_forbidden_edge_fails(tmp_path):
    copy_workspace(tmp_path)
    # testkit may depend on nothing in the workspace; give it the CLI as a dependency.
    add_dependency(tmp_path / "crates" / "testkit" / "Cargo.toml", "lookout-cli = { path = \"../cli\" }")
    r = run(tmp_path / "Cargo.toml")
    assert r.returncode == 1
    assert "forbidden edge: testkit -> cli (normal dependency)" in r.stderr


def test_upward_edge_from_a_leaf_fails(tmp_path):
    copy_workspace(tmp_path)
    # filter must stay free of workspace dependencies: make it use the generator.
    add_dependency(tmp_path / "crates" / "filter" / "Cargo.toml", "lookout-testkit = { path = \"../testkit\" }")
    r = run(tmp_path / "Cargo.toml")
    assert r.returncode == 1
    assert "forbidden edge: filter -> testkit" in r.stderr


def test_testkit_is_allowed_as_dev_dependency(tmp_path):
    copy_workspace(tmp_path)
    # sigv4 has no testkit dev-dependency of its own; give it one.
    manifest = tmp_path / "crates" / "sigv4" / "Cargo.toml"
    text = manifest.read_text()
    assert "lookout-testkit" not in text
    if "[dev-dependencies]" not in text:
        manifest.write_text(text + "\n[dev-dependencies]\n")
    add_dependency(manifest, "lookout-testkit = { path = \"../testkit\" }", "[dev-dependencies]")
    r = run(tmp_path / "Cargo.toml")
    assert r.returncode == 0, r.stderr


def test_unknown_crate_fails(tmp_path):
    copy_workspace(tmp_path)
    extra = tmp_path / "crates" / "rogue"
    (extra / "src").mkdir(parents=True)
    (extra / "src" / "lib.rs").write_text("")
    (extra / "Cargo.toml").write_text('[package]\nname = "lookout-rogue"\nversion = "0.1.0"\nedition = "2024"\n')
    r = run(tmp_path / "Cargo.toml")
    assert r.returncode == 1
    assert "lookout-rogue: not in the dependency table" in r.stderr
